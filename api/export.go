package api

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

	"github.com/papi-hcmc/papi/survey"
)

// utf8BOM makes Excel read a CSV file as UTF-8, so Vietnamese shows right.
const utf8BOM = "\ufeff"

func attachment(c echo.Context, name, mime string) {
	c.Response().Header().Set(echo.HeaderContentType, mime)
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
}

func num(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', 4, 64)
}

func intStr(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

func kindLabel(k survey.Kind) string {
	switch k {
	case survey.KindRatio:
		return "tỷ lệ"
	case survey.KindMean:
		return "trung bình"
	case survey.KindMedian:
		return "trung vị"
	}
	return string(k)
}

func policyLine(p survey.Policy) string {
	return fmt.Sprintf("Ẩn giá trị khi số người trả lời dưới %d; dưới %d không hiển thị gì. / Values hidden below %d respondents; nothing shown below %d.", p.MinN, p.HideBelow, p.MinN, p.HideBelow)
}

// summaryHeader is the block of lines that opens every summary download.
func summaryHeader(sum summaryJSON) [][]string {
	verified := "tất cả phiếu / all responses"
	if sum.VerifiedOnly {
		verified = "chỉ phiếu có biên nhận / verified responses only"
	}
	weighted := "không gia quyền / unweighted"
	if sum.Weighted {
		weighted = "gia quyền theo giới tính × nhóm tuổi / weighted by sex × age group"
	}
	estimates := "chỉ số liệu của chính đơn vị (direct) / own answers only (direct)"
	if sum.Estimates == survey.EstimatesSmallArea {
		estimates = "ước lượng vùng nhỏ: giá trị “borrowed” vay mượn từ tỉnh cũ hoặc thành phố khi dưới ngưỡng / small-area: values marked “borrowed” draw on the former province or the city below the threshold"
	}
	return [][]string{
		{"Xã/phường / Commune", sum.Commune.Name, sum.Commune.Code},
		{"Kỳ / Period", sum.Period.From, sum.Period.To},
		{"Số phiếu / Responses", strconv.FormatInt(sum.Responses, 10), fmt.Sprintf("tính điểm / counted: %d; bị gắn cờ bất thường / flagged: %d; có biên nhận / verified: %d", sum.CountedResponses, sum.FlaggedResponses, sum.VerifiedResponses)},
		{"Phạm vi / Scope", verified, weighted},
		{"Ước lượng / Estimates", estimates},
		{"Quy tắc ẩn số liệu / Suppression", policyLine(sum.Policy)},
		{"Bảng hỏi / Questionnaire", sum.QuestionnaireVersion},
		{"Lưu ý / Note", sum.Note.Vi, sum.Note.En},
		{"Tổng điểm (8–80) / Total score", num(sum.Total)},
	}
}

var summaryColumns = []string{"cấp / level", "mã / id", "tên / name", "loại / kind", "giá trị / value", "tử số / numerator", "mẫu số / denominator", "n", "KTC 95% dưới / ci_low", "KTC 95% trên / ci_high", "điểm 1–10 / score", "ẩn / suppressed", "ước lượng / estimate", "trọng số dữ liệu riêng / own_weight"}

func summaryRows(sum summaryJSON) [][]string {
	var rows [][]string
	for _, d := range sum.Dimensions {
		rows = append(rows, []string{"dimension", d.ID, d.Name, "", "", "", "", "", num(d.CILow), num(d.CIHigh), num(d.Score), "", "", ""})
		for _, sd := range d.Subdimensions {
			rows = append(rows, []string{"subdimension", sd.ID, sd.Name, "", "", "", "", "", "", "", num(sd.Score), "", "", ""})
			for _, ir := range sd.Indicators {
				rows = append(rows, []string{"indicator", ir.ID, ir.Name, kindLabel(ir.Kind), num(ir.Value), num(ir.Numerator), num(ir.Denominator), intStr(ir.N), num(ir.CILow), num(ir.CIHigh), num(ir.Score), strconv.FormatBool(ir.Suppressed), ir.Estimate, num(ir.OwnWeight)})
			}
		}
	}
	return rows
}

// fileStem names a summary download after its commune, or its level.
func fileStem(sum summaryJSON) string {
	if sum.Level == "commune" || sum.Level == "centre" {
		return "papi-" + sum.Commune.Code
	}
	return "papi-" + sum.Level
}

func (s *Server) summaryCSV(c echo.Context, sum summaryJSON) error {
	attachment(c, fmt.Sprintf("%s-%s-%s.csv", fileStem(sum), sum.Period.From, sum.Period.To), "text/csv; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_, _ = c.Response().Write([]byte(utf8BOM))
	_ = w.WriteAll(summaryHeader(sum))
	_ = w.Write(nil)
	_ = w.Write(summaryColumns)
	_ = w.WriteAll(summaryRows(sum))
	w.Flush()
	return w.Error()
}

// xlsx helpers: numbers go in as numbers so Excel can compute with them.
type sheet struct {
	f    *excelize.File
	name string
	row  int
	bold int
}

func (sh *sheet) write(values ...any) {
	sh.row++
	cell, _ := excelize.CoordinatesToCellName(1, sh.row)
	_ = sh.f.SetSheetRow(sh.name, cell, &values)
}

func (sh *sheet) header(values ...any) {
	sh.write(values...)
	first, _ := excelize.CoordinatesToCellName(1, sh.row)
	last, _ := excelize.CoordinatesToCellName(len(values), sh.row)
	_ = sh.f.SetCellStyle(sh.name, first, last, sh.bold)
}

func cellNum(p *float64) any {
	if p == nil {
		return ""
	}
	return *p
}

func cellInt(p *int) any {
	if p == nil {
		return ""
	}
	return *p
}

func newWorkbook() (*excelize.File, int) {
	f := excelize.NewFile()
	bold, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Color: []string{"DDE7F0"}, Pattern: 1}})
	return f, bold
}

// sheetName makes a valid, unique Excel sheet name (≤ 31 characters, none
// of []:*?/\).
func sheetName(f *excelize.File, name string) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '-'
		}
		return r
	}, name)
	if r := []rune(name); len(r) > 28 {
		name = string(r[:28])
	}
	base, n := name, 2
	for {
		if idx, _ := f.GetSheetIndex(name); idx < 0 {
			return name
		}
		name = fmt.Sprintf("%s %d", base, n)
		n++
	}
}

func writeXLSX(c echo.Context, f *excelize.File, name string) error {
	attachment(c, name, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Response().WriteHeader(http.StatusOK)
	return f.Write(c.Response())
}

func (s *Server) summaryXLSX(c echo.Context, sum summaryJSON) error {
	f, bold := newWorkbook()
	defer f.Close()
	ov := &sheet{f: f, name: "Tổng quan", bold: bold}
	_ = f.SetSheetName("Sheet1", ov.name)
	for _, line := range summaryHeader(sum) {
		vals := make([]any, len(line))
		for i, v := range line {
			vals[i] = v
		}
		ov.write(vals...)
	}
	ov.write()
	ov.header("Mã / id", "Chỉ số nội dung / dimension", "Điểm 1–10 / score", "KTC dưới / ci_low", "KTC trên / ci_high", "Số chỉ tiêu có điểm / indicators scored")
	for _, d := range sum.Dimensions {
		ov.write(d.ID, d.Name, cellNum(d.Score), cellNum(d.CILow), cellNum(d.CIHigh), d.Scored)
	}
	_ = f.SetColWidth(ov.name, "A", "A", 28)
	_ = f.SetColWidth(ov.name, "B", "B", 60)
	for _, d := range sum.Dimensions {
		sh := &sheet{f: f, name: sheetName(f, d.ID+" "+d.Name), bold: bold}
		_, _ = f.NewSheet(sh.name)
		sh.write(d.Name)
		sh.write("Kỳ / Period", sum.Period.From, sum.Period.To)
		sh.write("Quy tắc ẩn số liệu / Suppression", policyLine(sum.Policy))
		sh.write()
		sh.header("Mã / id", "Tên / name", "Loại / kind", "Giá trị / value", "Tử số / numerator", "Mẫu số / denominator", "n", "KTC dưới / ci_low", "KTC trên / ci_high", "Điểm 1–10 / score", "Ẩn / suppressed", "Ước lượng / estimate", "Trọng số dữ liệu riêng / own_weight")
		for _, sd := range d.Subdimensions {
			sh.write(sd.ID, sd.Name, "", "", "", "", "", "", "", cellNum(sd.Score), "", "", "")
			for _, ir := range sd.Indicators {
				sh.write(ir.ID, ir.Name, kindLabel(ir.Kind), cellNum(ir.Value), cellNum(ir.Numerator), cellNum(ir.Denominator), cellInt(ir.N), cellNum(ir.CILow), cellNum(ir.CIHigh), cellNum(ir.Score), ir.Suppressed, ir.Estimate, cellNum(ir.OwnWeight))
			}
		}
		_ = f.SetColWidth(sh.name, "B", "B", 70)
	}
	return writeXLSX(c, f, fmt.Sprintf("%s-%s-%s.xlsx", fileStem(sum), sum.Period.From, sum.Period.To))
}

// rankInt writes a rank, empty when not ranked (0).
func rankInt(r int) string {
	if r == 0 {
		return ""
	}
	return strconv.Itoa(r)
}

func (s *Server) compareCSV(c echo.Context, cmp comparisonJSON) error {
	attachment(c, fmt.Sprintf("papi-so-sanh-%s-%s.csv", cmp.Period.From, cmp.Period.To), "text/csv; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	_, _ = c.Response().Write([]byte(utf8BOM))
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"Kỳ / Period", cmp.Period.From, cmp.Period.To})
	_ = w.Write([]string{"Lưu ý / Note", cmp.Note.Vi, cmp.Note.En})
	_ = w.Write([]string{"Quy tắc ẩn số liệu / Suppression", policyLine(cmp.Policy)})
	_ = w.Write(nil)
	head := []string{"mã / code", "xã/phường / commune", "loại / type", "tỉnh cũ / former province", "số phiếu / responses", "tổng điểm / total_score", "hạng / rank", "hạng cao nhất (KTC 90%) / rank_low", "hạng thấp nhất (KTC 90%) / rank_high", "nhóm / band", "so với trung bình / vs average", "chỉ tiêu vay mượn / indicators_borrowed"}
	for i := 1; i <= 8; i++ {
		head = append(head, fmt.Sprintf("D%d", i))
	}
	_ = w.Write(head)
	for _, r := range cmp.Rows {
		rank := ""
		if r.Rank > 0 {
			rank = strconv.Itoa(r.Rank)
		}
		line := []string{r.Commune.Code, r.Commune.Name, r.Commune.Type, r.Commune.FormerProvince, strconv.FormatInt(r.Responses, 10), num(r.TotalScore), rank, rankInt(r.RankLow), rankInt(r.RankHigh), r.Band, r.VersusAverage, strconv.Itoa(r.Borrowed)}
		for _, d := range r.Dimensions {
			line = append(line, num(d.Score))
		}
		_ = w.Write(line)
	}
	w.Flush()
	return w.Error()
}

func (s *Server) compareXLSX(c echo.Context, cmp comparisonJSON) error {
	f, bold := newWorkbook()
	defer f.Close()
	sh := &sheet{f: f, name: "So sánh", bold: bold}
	_ = f.SetSheetName("Sheet1", sh.name)
	sh.write("Kỳ / Period", cmp.Period.From, cmp.Period.To)
	sh.write("Lưu ý / Note", cmp.Note.Vi)
	sh.write("Quy tắc ẩn số liệu / Suppression", policyLine(cmp.Policy))
	sh.write()
	head := []any{"Mã / code", "Xã/phường / commune", "Loại / type", "Tỉnh cũ / former province", "Số phiếu / responses", "Tổng điểm / total", "Hạng / rank", "Hạng cao nhất (KTC 90%) / rank_low", "Hạng thấp nhất (KTC 90%) / rank_high", "Nhóm / band", "So với TB / vs average", "Chỉ tiêu vay mượn / indicators borrowed"}
	for i := 1; i <= 8; i++ {
		head = append(head, fmt.Sprintf("D%d", i))
	}
	sh.header(head...)
	for _, r := range cmp.Rows {
		var rank any = ""
		if r.Rank > 0 {
			rank = r.Rank
		}
		var low, high any = "", ""
		if r.Rank > 0 {
			low, high = r.RankLow, r.RankHigh
		}
		line := []any{r.Commune.Code, r.Commune.Name, r.Commune.Type, r.Commune.FormerProvince, r.Responses, cellNum(r.TotalScore), rank, low, high, r.Band, r.VersusAverage, r.Borrowed}
		for _, d := range r.Dimensions {
			line = append(line, cellNum(d.Score))
		}
		sh.write(line...)
	}
	_ = f.SetColWidth(sh.name, "B", "B", 30)
	return writeXLSX(c, f, fmt.Sprintf("papi-so-sanh-%s-%s.xlsx", cmp.Period.From, cmp.Period.To))
}

var roleLabels = map[string]string{
	survey.RoleImplementing: "thực hiện / implementing",
	survey.RoleLead:         "chủ trì, kiểm tra / lead",
	survey.RoleCoordinating: "phối hợp / coordinating",
}

func (s *Server) followupXLSX(c echo.Context, fu followupJSON) error {
	f, bold := newWorkbook()
	defer f.Close()
	ov := &sheet{f: f, name: "Tổng hợp", bold: bold}
	_ = f.SetSheetName("Sheet1", ov.name)
	ov.write("Kỳ / Period", fu.Period.From, fu.Period.To)
	ov.write("Mục tiêu / Target", "điểm trung bình của các xã/phường cho từng chỉ tiêu / average of the communes per indicator")
	ov.write("Quy tắc / Rule", fu.Rule.Vi, fu.Rule.En)
	ov.write("Lưu ý / Note", fu.Note.Vi)
	ov.write()
	ov.header("Cơ quan / agency", "Số mục / items", "Trang tính / sheet")
	for _, a := range fu.Agencies {
		name := sheetName(f, a.Agency)
		ov.write(a.Agency, len(a.Items), name)
		sh := &sheet{f: f, name: name, bold: bold}
		_, _ = f.NewSheet(name)
		sh.write(a.Agency)
		sh.write("Kỳ / Period", fu.Period.From, fu.Period.To)
		sh.write()
		sh.header("Xã/phường / commune", "Mã / code", "Chỉ tiêu / indicator", "Tên chỉ tiêu / name", "Vai trò / role", "Giá trị / value", "KTC dưới / ci_low", "KTC trên / ci_high", "Mục tiêu / target", "Điểm 1–10 / score", "Điểm mục tiêu / target score", "Chênh lệch điểm / gap", "Khoảng cách từ KTC / distance", "Ước lượng / estimate", "Nhiệm vụ và giải pháp / tasks")
		for _, it := range a.Items {
			sh.write(it.CommuneName, it.Commune, it.Indicator, it.IndicatorName, roleLabels[it.Role], it.Value, it.CILow, it.CIHigh, it.Target, it.Score, it.TargetScore, it.Gap, it.Distance, it.Estimate, it.Tasks)
		}
		_ = f.SetColWidth(name, "D", "D", 60)
		_ = f.SetColWidth(name, "O", "O", 80)
	}
	_ = f.SetColWidth(ov.name, "A", "A", 60)
	return writeXLSX(c, f, fmt.Sprintf("papi-theo-doi-%s-%s.xlsx", fu.Period.From, fu.Period.To))
}

// handleResponsesExport streams a commune's raw responses as CSV, one row
// per response and one column per question, without holding them in memory.
func (s *Server) handleResponsesExport(c echo.Context) error {
	code := c.Param("code")
	if _, err := s.store.Commune(c.Request().Context(), code); err != nil {
		return err
	}
	q, err := s.readPeriod(c)
	if err != nil {
		return err
	}
	if err := s.store.Audit(c.Request().Context(), currentUser(c).Email, "export_responses_csv", code+" "+q.period.From+".."+q.period.To); err != nil {
		return err
	}
	attachment(c, fmt.Sprintf("papi-phieu-%s-%s-%s.csv", code, q.period.From, q.period.To), "text/csv; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	_, err = s.store.WriteResponsesCSV(c.Request().Context(), c.Response(), code, q.period.From, q.period.To)
	return err
}
