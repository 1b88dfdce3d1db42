package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// The downloads' documents: each result is laid out here once, as tables,
// and download.go renders it as CSV or XLSX.

// label is the text the pages show for a code (type_phuong, vs_above, …),
// from the same dictionaries; the code itself when it has none.
func (s *Server) label(prefix, code string) any {
	if code == "" {
		return nil
	}
	vi, ok := s.pages.dict["vi"][prefix+code]
	if !ok {
		return code
	}
	return survey.Text{Vi: vi, En: s.pages.dict["en"][prefix+code]}
}

// Labels the pages do not have.
var (
	levelLabels = map[string]survey.Text{
		"dimension":    {Vi: "chỉ số nội dung", En: "dimension"},
		"subdimension": {Vi: "chỉ số thành phần", En: "sub-dimension"},
		"indicator":    {Vi: "chỉ tiêu", En: "indicator"},
	}
	estimateLabels = map[string]survey.Text{
		survey.EstimateDirect:   {Vi: "trực tiếp", En: "direct"},
		survey.EstimateBorrowed: {Vi: "vay mượn", En: "borrowed"},
	}
	hidden = survey.Text{Vi: "ẩn", En: "hidden"}
)

func estimateLabel(e string) any {
	if t, ok := estimateLabels[e]; ok {
		return t
	}
	if e == "" {
		return nil
	}
	return e
}

func bandLabel(id string) any {
	for _, b := range survey.Bands {
		if b.ID == id {
			return survey.Text{Vi: b.Name, En: b.NameEn}
		}
	}
	if id == "" {
		return nil
	}
	return id
}

// value is an indicator's value cell: a share for ratios, else a decimal.
func value(k survey.Kind, p *float64) any {
	if k == survey.KindRatio {
		return optShare(p)
	}
	return optNum(p)
}

func policyLine(p survey.Policy) line {
	return line{label: survey.Text{Vi: "Quy tắc ẩn số liệu", En: "Suppression"}, values: []any{survey.Text{
		Vi: fmt.Sprintf("Ẩn giá trị khi số người trả lời dưới %d; dưới %d không hiển thị gì.", p.MinN, p.HideBelow),
		En: fmt.Sprintf("Values hidden below %d respondents; nothing shown below %d.", p.MinN, p.HideBelow)}}}
}

func periodLine(p survey.Period) line {
	return line{label: survey.Text{Vi: "Kỳ", En: "Period"}, values: []any{p.From, p.To}}
}

func noteLine(n survey.Text) line {
	return line{label: survey.Text{Vi: "Lưu ý", En: "Note"}, values: []any{n}}
}

func estimatesLine(estimates string) line {
	t := survey.Text{Vi: "chỉ số liệu của chính đơn vị (trực tiếp)", En: "own answers only (direct)"}
	if estimates == survey.EstimatesSmallArea {
		t = survey.Text{Vi: "ước lượng vùng nhỏ: giá trị “vay mượn” dựa thêm vào tỉnh cũ hoặc thành phố khi dưới ngưỡng", En: "small-area: values marked “borrowed” draw on the former province or the city below the threshold"}
	}
	return line{label: survey.Text{Vi: "Ước lượng", En: "Estimates"}, values: []any{t}}
}

// fileStem names a summary download after its commune, or its level.
func fileStem(sum summaryJSON) string {
	if sum.Level == "commune" || sum.Level == "centre" {
		return "papi-" + sum.Commune.Code
	}
	return "papi-" + sum.Level
}

// summaryDoc lays out a summary: how it was computed, the dimensions, and
// every dimension, sub-dimension and indicator in one table.
func (s *Server) summaryDoc(sum summaryJSON) document {
	verified := survey.Text{Vi: "tất cả phiếu", En: "all responses"}
	if sum.VerifiedOnly {
		verified = survey.Text{Vi: "chỉ phiếu có biên nhận", En: "verified responses only"}
	}
	weighted := survey.Text{Vi: "không gia quyền", En: "unweighted"}
	if sum.Weighted {
		weighted = survey.Text{Vi: "gia quyền theo giới tính × nhóm tuổi", En: "weighted by sex × age group"}
	}
	unit := line{label: survey.Text{Vi: "Xã/phường", En: "Commune"}, values: []any{sum.Commune.Name, sum.Commune.Code}}
	switch sum.Level {
	case "centre":
		unit.values = append(unit.values, survey.Text{Vi: fmt.Sprintf("điểm tiếp nhận số %d", *sum.CentreID), En: fmt.Sprintf("feedback point %d", *sum.CentreID)})
	case "former_province":
		unit = line{label: survey.Text{Vi: "Tỉnh cũ", En: "Former province"}, values: []any{sum.Commune.Name}}
	case "city":
		unit = line{label: survey.Text{Vi: "Thành phố", En: "City"}, values: []any{sum.Commune.Name}}
	}
	d := document{file: fmt.Sprintf("%s-%s-%s", fileStem(sum), sum.Period.From, sum.Period.To), meta: []line{
		unit,
		periodLine(sum.Period),
		{label: survey.Text{Vi: "Số phiếu", En: "Responses"}, values: []any{sum.Responses, survey.Text{
			Vi: fmt.Sprintf("tính điểm: %d; bị gắn cờ bất thường: %d; có biên nhận: %d", sum.CountedResponses, sum.FlaggedResponses, sum.VerifiedResponses),
			En: fmt.Sprintf("counted: %d; flagged: %d; verified: %d", sum.CountedResponses, sum.FlaggedResponses, sum.VerifiedResponses)}}},
		{label: survey.Text{Vi: "Phạm vi", En: "Scope"}, values: []any{verified, weighted}},
		estimatesLine(sum.Estimates),
		policyLine(sum.Policy),
		{label: survey.Text{Vi: "Bảng hỏi", En: "Questionnaire"}, values: []any{sum.QuestionnaireVersion}},
		noteLine(sum.Note),
		{label: survey.Text{Vi: "Tổng điểm (8–80)", En: "Total score (8–80)"}, values: []any{optNum(sum.Total), optNum(sum.TotalCILow), optNum(sum.TotalCIHigh)}},
	}}
	overview := table{name: survey.Text{Vi: "Tổng quan", En: "Overview"}, cols: []column{
		{vi: "Mã", en: "ID", width: 14},
		{vi: "Chỉ số nội dung", en: "Dimension", width: 44, wrap: true},
		{vi: "Điểm 1–10", en: "Score 1–10", width: 9},
		{vi: "KTC 95% dưới", en: "95% CI low", width: 9},
		{vi: "KTC 95% trên", en: "95% CI high", width: 9},
		{vi: "Số chỉ tiêu có điểm", en: "Indicators scored", width: 10},
	}}
	for _, dm := range sum.Dimensions {
		overview.add(dm.ID, survey.Text{Vi: dm.Name, En: dm.NameEn}, optNum(dm.Score), optNum(dm.CILow), optNum(dm.CIHigh), dm.Scored)
	}
	ind := table{name: survey.Text{Vi: "Chỉ tiêu", En: "Indicators"}, cols: []column{
		{vi: "Cấp", en: "Level", width: 11, wrap: true},
		{vi: "Mã", en: "ID", width: 9},
		{vi: "Tên", en: "Name", width: 62, wrap: true},
		{vi: "Loại", en: "Kind", width: 9},
		{vi: "Giá trị", en: "Value", width: 9},
		{vi: "Tử số", en: "Numerator", width: 9},
		{vi: "Mẫu số", en: "Denominator", width: 9},
		{vi: "n", en: "n", width: 6},
		{vi: "KTC 95% dưới", en: "95% CI low", width: 9},
		{vi: "KTC 95% trên", en: "95% CI high", width: 9},
		{vi: "Điểm 1–10", en: "Score 1–10", width: 8},
		{vi: "Ẩn", en: "Suppressed", width: 6},
		{vi: "Ước lượng", en: "Estimate", width: 9},
		{vi: "Tỷ trọng dữ liệu riêng", en: "Own data weight", width: 9},
	}}
	for _, dm := range sum.Dimensions {
		ind.strong(levelLabels["dimension"], dm.ID, survey.Text{Vi: dm.Name, En: dm.NameEn}, nil, nil, nil, nil, nil, optNum(dm.CILow), optNum(dm.CIHigh), optNum(dm.Score))
		for _, sd := range dm.Subdimensions {
			ind.strong(levelLabels["subdimension"], sd.ID, survey.Text{Vi: sd.Name, En: sd.NameEn}, nil, nil, nil, nil, nil, nil, nil, optNum(sd.Score))
			for _, ir := range sd.Indicators {
				var sup any
				if ir.Suppressed {
					sup = hidden
				}
				ind.add(levelLabels["indicator"], ir.ID, survey.Text{Vi: ir.Name, En: ir.NameEn}, s.label("kind_", string(ir.Kind)),
					value(ir.Kind, ir.Value), optCount(ir.Numerator), optCount(ir.Denominator), optInt(ir.N),
					value(ir.Kind, ir.CILow), value(ir.Kind, ir.CIHigh), optNum(ir.Score), sup, estimateLabel(ir.Estimate), optShare(ir.OwnWeight))
			}
		}
	}
	d.tables = []table{overview, ind}
	return d
}

// compareDoc lays out a comparison: one row per commune.
func (s *Server) compareDoc(cmp comparisonJSON) document {
	by := survey.Text{Vi: "tổng điểm", En: "total score"}
	switch cmp.By {
	case survey.RankDimension:
		by = survey.Text{Vi: "chỉ số nội dung " + cmp.ID, En: "dimension " + cmp.ID}
	case survey.RankIndicator:
		by = survey.Text{Vi: "chỉ tiêu " + cmp.ID, En: "indicator " + cmp.ID}
	}
	d := document{file: fmt.Sprintf("papi-so-sanh-%s-%s", cmp.Period.From, cmp.Period.To), meta: []line{
		periodLine(cmp.Period),
		{label: survey.Text{Vi: "Xếp hạng theo", En: "Ranked by"}, values: []any{by}},
		{label: survey.Text{Vi: "Tổng điểm trung bình", En: "Average total score"}, values: []any{optNum(cmp.City.TotalScore), cmp.City.Label}},
		noteLine(cmp.Note),
		policyLine(cmp.Policy),
		estimatesLine(cmp.Estimates),
	}}
	t := table{name: survey.Text{Vi: "So sánh", En: "Comparison"}, cols: []column{
		{vi: "Mã", en: "Code", width: 7},
		{vi: "Xã/phường", en: "Commune", width: 22, wrap: true},
		{vi: "Loại", en: "Type", width: 8},
		{vi: "Tỉnh cũ", en: "Former province", width: 13, wrap: true},
		{vi: "Số phiếu", en: "Responses", width: 8},
		{vi: "Tổng điểm", en: "Total score", width: 8},
		{vi: "Hạng", en: "Rank", width: 6},
		{vi: "Hạng cao nhất (KTC 90%)", en: "Best rank (90% CI)", width: 8},
		{vi: "Hạng thấp nhất (KTC 90%)", en: "Worst rank (90% CI)", width: 8},
		{vi: "Nhóm", en: "Band", width: 16, wrap: true},
		{vi: "So với trung bình", en: "Versus average", width: 12, wrap: true},
		{vi: "Chỉ tiêu vay mượn", en: "Indicators borrowed", width: 8},
	}}
	for i := 1; i <= 8; i++ {
		t.cols = append(t.cols, column{vi: fmt.Sprintf("D%d", i), en: fmt.Sprintf("D%d", i), width: 6})
	}
	for _, r := range cmp.Rows {
		var rank, low, high any
		if r.Rank > 0 {
			rank, low, high = r.Rank, r.RankLow, r.RankHigh
		}
		cells := []any{r.Commune.Code, r.Commune.Name, s.label("type_", r.Commune.Type), r.Commune.FormerProvince, r.Responses, optNum(r.TotalScore),
			rank, low, high, bandLabel(r.Band), s.label("vs_", r.VersusAverage), r.Borrowed}
		for _, dm := range r.Dimensions {
			cells = append(cells, optNum(dm.Score))
		}
		t.add(cells...)
	}
	d.tables = []table{t}
	return d
}

// followupDoc lays out the follow-up: the agencies, their items (a sheet
// each in XLSX) and the plan's tasks, listed once per agency and indicator
// rather than repeated on every commune's item.
func (s *Server) followupDoc(fu followupJSON) document {
	d := document{file: fmt.Sprintf("papi-theo-doi-%s-%s", fu.Period.From, fu.Period.To), meta: []line{
		periodLine(fu.Period),
		{label: survey.Text{Vi: "Mục tiêu", En: "Target"}, values: []any{survey.Text{Vi: "điểm trung bình của các xã/phường cho từng chỉ tiêu", En: "average of the communes per indicator"}}},
		{label: survey.Text{Vi: "Quy tắc", En: "Rule"}, values: []any{fu.Rule}},
		estimatesLine(fu.Estimates),
		noteLine(fu.Note),
	}}
	overview := table{name: survey.Text{Vi: "Tổng hợp", En: "Overview"}, cols: []column{
		{vi: "Cơ quan", en: "Agency", width: 60, wrap: true},
		{vi: "Số mục", en: "Items", width: 10},
	}}
	items := table{name: survey.Text{Vi: "Danh sách", En: "Items"}, split: 1, cols: []column{
		{vi: "Cơ quan", en: "Agency", width: 30, wrap: true},
		{vi: "Xã/phường", en: "Commune", width: 20, wrap: true},
		{vi: "Mã", en: "Code", width: 7},
		{vi: "Chỉ tiêu", en: "Indicator", width: 9},
		{vi: "Tên chỉ tiêu", en: "Indicator name", width: 50, wrap: true},
		{vi: "Vai trò", en: "Role", width: 10},
		{vi: "Giá trị", en: "Value", width: 9},
		{vi: "KTC 95% dưới", en: "95% CI low", width: 9},
		{vi: "KTC 95% trên", en: "95% CI high", width: 9},
		{vi: "Mục tiêu", en: "Target", width: 9},
		{vi: "Điểm 1–10", en: "Score 1–10", width: 8},
		{vi: "Điểm mục tiêu", en: "Target score", width: 8},
		{vi: "Chênh lệch điểm", en: "Gap", width: 8},
		{vi: "Khoảng cách từ KTC", en: "Distance from CI", width: 9},
		{vi: "Ước lượng", en: "Estimate", width: 9},
	}}
	tasks := table{name: survey.Text{Vi: "Nhiệm vụ và giải pháp", En: "Tasks"}, cols: []column{
		{vi: "Cơ quan", en: "Agency", width: 24, wrap: true},
		{vi: "Chỉ tiêu", en: "Indicator", width: 9},
		{vi: "Tên chỉ tiêu", en: "Indicator name", width: 36, wrap: true},
		{vi: "Vai trò", en: "Role", width: 10},
		{vi: "Số xã/phường", en: "Communes", width: 8},
		{vi: "Nhiệm vụ và giải pháp", en: "Tasks", width: 70, wrap: true},
	}}
	for _, a := range fu.Agencies {
		overview.add(a.Agency, len(a.Items))
		type key struct{ indicator, role string }
		seen := map[key]int{}
		for _, it := range a.Items {
			items.add(a.Agency, it.CommuneName, it.Commune, it.Indicator, it.IndicatorName, s.label("role_", it.Role),
				value(it.Kind, &it.Value), value(it.Kind, &it.CILow), value(it.Kind, &it.CIHigh), value(it.Kind, &it.Target),
				it.Score, it.TargetScore, it.Gap, it.Distance, estimateLabel(it.Estimate))
			k := key{it.Indicator, it.Role}
			if i, ok := seen[k]; ok {
				tasks.rows[i].cells[4] = tasks.rows[i].cells[4].(int) + 1
				continue
			}
			seen[k] = len(tasks.rows)
			tasks.add(a.Agency, it.Indicator, it.IndicatorName, s.label("role_", it.Role), 1, bullets(it.Tasks))
		}
	}
	d.tables = []table{overview, items, tasks}
	return d
}

// rawRowWriter writes raw export rows: only the answers to number
// questions are numbers (a questionnaire version such as 2025.2 is not), and
// they get "," decimals for a Vietnamese locale; every other field is text,
// kept inert.
func (s *Server) rawRowWriter(cw *csvWriter, cols []string, comma bool) func(row []string) error {
	numeric := map[string]bool{}
	for _, qn := range s.store.Catalogue().Questions {
		numeric[qn.ID] = qn.Type == survey.Number
	}
	isNumber := make([]bool, len(cols))
	for i, col := range cols {
		isNumber[i] = numeric[col]
	}
	return func(row []string) error {
		for i, v := range row {
			switch {
			case !isNumber[i]:
				row[i] = inertText(v)
			case comma:
				row[i] = commaDecimal(v)
			}
		}
		return cw.record(row)
	}
}

// handleResponsesExport streams a commune's raw responses as CSV, one row
// per response and one column per question, as the store reads them,
// without holding them in memory.
func (s *Server) handleResponsesExport(c echo.Context) error {
	ctx := c.Request().Context()
	code := c.Param("code")
	if _, err := s.store.Commune(ctx, code); err != nil {
		return err
	}
	q, err := s.readPeriod(c)
	if err != nil {
		return err
	}
	r, err := readRender(c, "csv")
	if err != nil {
		return err
	}
	// Record-level rows are for admins; every other account gets the
	// disclosure-controlled export (store.ResponseRows.Coarse).
	sel := store.ResponseRows{Commune: code, From: q.period.From, To: q.period.To, VerifiedOnly: q.verifiedOnly, IncludeFlagged: q.includeFlagged,
		Coarse: currentUser(c).Role != survey.RoleAdmin}
	action := "export_responses_csv"
	if sel.Coarse {
		action = "export_responses_coarse_csv"
	}
	if err := s.store.Audit(ctx, currentUser(c).Email, action, code+" "+q.period.From+".."+q.period.To); err != nil {
		return err
	}
	attachment(c, fmt.Sprintf("papi-phieu-%s-%s-%s.csv", code, q.period.From, q.period.To), "text/csv; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	cw, err := newCSVWriter(c.Response(), r.comma)
	if err != nil {
		return err
	}
	cols := s.store.ResponseColumns(sel.Coarse)
	if err := cw.record(cols); err != nil {
		return err
	}
	write := s.rawRowWriter(cw, cols, r.comma)
	if _, err := s.store.EachResponseRow(ctx, sel, write); err != nil {
		return err
	}
	return cw.flush()
}

// bullets sets the plan's "- " list marks as "• ": a cell starting with
// "-" reads as a formula in a spreadsheet (Excel shows #NAME?).
func bullets(tasks string) string {
	if rest, ok := strings.CutPrefix(tasks, "- "); ok {
		return "• " + strings.ReplaceAll(rest, " - ", " • ")
	}
	return tasks
}
