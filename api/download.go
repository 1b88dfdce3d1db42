package api

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

	"github.com/papi-hcmc/papi/survey"
)

// A download is built once, as a document of tables whose cells keep their
// type (text, label, whole number, decimal, share), and rendered by format:
// CSV with "." decimals and commas, CSV for a Vietnamese locale (locale=vi:
// semicolons and "," decimals, which Excel and LibreOffice set to
// Vietnamese read as numbers), or XLSX laid out for A4. Headers, labels and
// notes carry both languages; lang=en renders the English ones.

// document is one download: lines about the whole (period, rules, notes)
// and its tables.
type document struct {
	// file names the download, without extension.
	file   string
	meta   []line
	tables []table
}

// line is a label and its values, printed above a table.
type line struct {
	label  survey.Text
	values []any
}

// table is one set of columns and rows. Cells are nil (empty), string,
// survey.Text (rendered in the asked language), int, int64, float64 or
// share.
type table struct {
	// name titles the table: its sheet in XLSX, a title line in CSV.
	name  survey.Text
	intro []line
	cols  []column
	rows  []row
	// split, when set, is 1 + the index of a column whose values each get
	// a sheet of their own in XLSX (named after the value, the column
	// left out), as an agency's follow-up does; CSV keeps one table.
	split int
}

// column is a header in both languages; width is in characters for XLSX,
// and wrap folds long text onto several lines so that it prints.
type column struct {
	vi, en string
	width  float64
	wrap   bool
}

// row is a table row; strong rows (a dimension above its indicators) are
// set in bold in XLSX.
type row struct {
	cells  []any
	strong bool
}

// share is a proportion from 0 to 1: a fraction in CSV, a percentage in
// XLSX.
type share float64

func (t *table) add(cells ...any)    { t.rows = append(t.rows, row{cells: cells}) }
func (t *table) strong(cells ...any) { t.rows = append(t.rows, row{cells: cells, strong: true}) }

// optNum is a decimal cell, empty when there is no value.
func optNum(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// optCount is a count cell: whole unless weights made it fractional.
func optCount(p *float64) any {
	if p == nil {
		return nil
	}
	if *p == math.Trunc(*p) && math.Abs(*p) < 1<<53 {
		return int64(*p)
	}
	return *p
}

// optShare is a proportion cell, empty when there is no value.
func optShare(p *float64) any {
	if p == nil {
		return nil
	}
	return share(*p)
}

// optInt is a whole-number cell, empty when there is no value.
func optInt(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// render is how a download was asked for.
type render struct {
	format string // csv or xlsx
	en     bool   // English labels (lang=en)
	comma  bool   // locale=vi: "," decimals and ";" between fields
}

func (r render) text(t survey.Text) string {
	if r.en && t.En != "" {
		return t.En
	}
	return t.Vi
}

// output is what a read endpoint answers: JSON as the API serves it, or a
// download built from the same result. Downloads are audited before
// anything is sent, and refused if the audit row cannot be written.
type output struct {
	// formats lists the download formats besides json, in the order the
	// error message names them; "html" needs html.
	formats []string
	// action and target go to the audit log as action_format.
	action, target string
	json           any
	doc            func() document
	html           func() error
}

// respond answers a read in the format the query asks for.
func (s *Server) respond(c echo.Context, o output) error {
	format := c.QueryParam("format")
	if format == "" || format == "json" {
		return c.JSON(http.StatusOK, o.json)
	}
	if !slices.Contains(o.formats, format) {
		all := append([]string{"json"}, o.formats...)
		list := strings.Join(all[:len(all)-1], ", ")
		return survey.Invalid("format", "format phải là "+list+" hoặc "+all[len(all)-1]+".", "format must be "+list+" or "+all[len(all)-1]+".")
	}
	r, err := readRender(c, format)
	if err != nil {
		return err
	}
	if err := s.store.Audit(c.Request().Context(), currentUser(c).Email, o.action+"_"+format, o.target); err != nil {
		return err
	}
	if format == "html" {
		return o.html()
	}
	return writeDocument(c, o.doc(), r)
}

// readRender reads lang= (vi or en; else the language chosen on the pages)
// and locale= (vi for Vietnamese spreadsheet settings).
func readRender(c echo.Context, format string) (render, error) {
	r := render{format: format}
	switch c.QueryParam("lang") {
	case "en":
		r.en = true
	case "vi":
	case "":
		// A download from the pages follows the language chosen there;
		// unlike a page, it does not set the choice.
		if ck, err := c.Cookie(langCookie); err == nil {
			r.en = ck.Value == "en"
		}
	default:
		return r, survey.Invalid("lang", "lang phải là vi hoặc en.", "lang must be vi or en.")
	}
	switch c.QueryParam("locale") {
	case "":
	case "vi":
		r.comma = true
	default:
		return r, survey.Invalid("locale", "locale phải là vi (dấu chấm phẩy ngăn cột, dấu phẩy thập phân) hoặc để trống.", "locale must be vi (semicolon separator, comma decimals) or left out.")
	}
	return r, nil
}

func attachment(c echo.Context, name, mime string) {
	c.Response().Header().Set(echo.HeaderContentType, mime)
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
}

const xlsxMIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// writeDocument sends a document as the file it was asked as. The XLSX is
// built in full before the status goes out, so a failure is still a 500.
func writeDocument(c echo.Context, d document, r render) error {
	if r.format == "csv" {
		attachment(c, d.file+".csv", "text/csv; charset=utf-8")
		c.Response().WriteHeader(http.StatusOK)
		return d.writeCSV(c.Response(), r)
	}
	f, err := d.xlsx(r)
	if err != nil {
		return err
	}
	defer f.Close()
	attachment(c, d.file+".xlsx", xlsxMIME)
	c.Response().WriteHeader(http.StatusOK)
	return f.Write(c.Response())
}

// csvWriter writes CSV for spreadsheets: a UTF-8 byte order mark first, so
// that Excel shows Vietnamese right, and, for a Vietnamese locale,
// semicolons between fields and "," decimals.
type csvWriter struct {
	bw *bufio.Writer
	w  *csv.Writer
}

func newCSVWriter(w io.Writer, comma bool) (*csvWriter, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("\ufeff"); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(bw)
	if comma {
		cw.Comma = ';'
	}
	return &csvWriter{bw: bw, w: cw}, nil
}

// record writes one row of formatted fields.
func (cw *csvWriter) record(fields []string) error { return cw.w.Write(fields) }

// flush writes out what is buffered and reports any write error.
func (cw *csvWriter) flush() error {
	cw.w.Flush()
	if err := cw.w.Error(); err != nil {
		return err
	}
	return cw.bw.Flush()
}

// inertText keeps a text field from being read as a formula when the CSV
// is opened in a spreadsheet (CSV injection, OWASP): a field starting with
// = + - @, a tab or a carriage return gets a leading apostrophe, so the
// spreadsheet shows it as text instead of evaluating it. Numbers never pass
// through here. (XLSX cells are typed: a text cell is never a formula.)
func inertText(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// commaDecimal turns the point of a formatted decimal into a comma.
func commaDecimal(s string) string { return strings.Replace(s, ".", ",", 1) }

// csvCell formats a cell for CSV. Decimals get at most four places with
// trailing zeros dropped, so that a count of 28 reads "28", not "28.0000".
func (r render) csvCell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return inertText(v)
	case survey.Text:
		return inertText(r.text(v))
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return r.decimal(v)
	case share:
		return r.decimal(float64(v))
	}
	panic(fmt.Sprintf("download cell of type %T", v))
}

func (r render) decimal(v float64) string {
	s := strconv.FormatFloat(v, 'f', 4, 64)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		return "0"
	}
	if r.comma {
		return commaDecimal(s)
	}
	return s
}

func (r render) lineFields(l line) []string {
	out := []string{r.text(l.label)}
	for _, v := range l.values {
		out = append(out, r.csvCell(v))
	}
	return out
}

func (r render) header(cols []column) []string {
	out := make([]string, len(cols))
	for i, col := range cols {
		out[i] = r.text(survey.Text{Vi: col.vi, En: col.en})
	}
	return out
}

// writeCSV writes the document as one CSV file: its lines, then each table
// after an empty line, titled when there are several.
func (d document) writeCSV(w io.Writer, r render) error {
	cw, err := newCSVWriter(w, r.comma)
	if err != nil {
		return err
	}
	for _, l := range d.meta {
		if err := cw.record(r.lineFields(l)); err != nil {
			return err
		}
	}
	for _, t := range d.tables {
		lines := [][]string{nil}
		if len(d.tables) > 1 {
			lines = append(lines, []string{r.text(t.name)})
		}
		for _, l := range t.intro {
			lines = append(lines, r.lineFields(l))
		}
		lines = append(lines, r.header(t.cols))
		for _, l := range lines {
			if err := cw.record(l); err != nil {
				return err
			}
		}
		fields := make([]string, len(t.cols))
		for _, row := range t.rows {
			for i := range fields {
				fields[i] = ""
				if i < len(row.cells) {
					fields[i] = r.csvCell(row.cells[i])
				}
			}
			if err := cw.record(fields); err != nil {
				return err
			}
		}
	}
	return cw.flush()
}

// Page setup for print: A4, fitted to the page width, landscape when the
// columns are wider than a portrait page holds.
const (
	a4            = 9   // the paper size code of A4 in OOXML
	portraitWidth = 100 // characters of column width a portrait A4 page holds
)

// book renders a document into an XLSX workbook.
type book struct {
	f      *excelize.File
	r      render
	styles map[styleKey]int
}

type styleKey struct {
	num            string // number format, "" for text
	strong, header bool
	wrap           bool
}

func (b *book) style(k styleKey) (int, error) {
	if id, ok := b.styles[k]; ok {
		return id, nil
	}
	st := &excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: k.wrap || k.header}}
	if k.num != "" {
		st.CustomNumFmt = &k.num
	}
	if k.strong || k.header {
		st.Font = &excelize.Font{Bold: true}
	}
	if k.header {
		st.Fill = excelize.Fill{Type: "pattern", Color: []string{"DDE7F0"}, Pattern: 1}
		st.Border = []excelize.Border{{Type: "bottom", Color: "7F8C99", Style: 1}}
	} else if k.strong {
		st.Fill = excelize.Fill{Type: "pattern", Color: []string{"F2F5F8"}, Pattern: 1}
	}
	id, err := b.f.NewStyle(st)
	if err != nil {
		return 0, fmt.Errorf("xlsx style: %w", err)
	}
	b.styles[k] = id
	return id, nil
}

// numFormat is the number format of a cell value, "" for text.
func numFormat(v any) string {
	switch v.(type) {
	case int, int64:
		return "#,##0"
	case float64:
		return "#,##0.00"
	case share:
		return "0.0%"
	}
	return ""
}

// xlsx builds the workbook: the document's lines atop the first sheet, one
// sheet per table (or per value of its split column).
func (d document) xlsx(r render) (*excelize.File, error) {
	b := &book{f: excelize.NewFile(), r: r, styles: map[styleKey]int{}}
	first := true
	for i, t := range d.tables {
		var meta []line
		if i == 0 {
			meta = d.meta
		}
		for _, part := range t.parts() {
			name := b.sheetName(r.text(part.name))
			if first {
				if err := b.f.SetSheetName("Sheet1", name); err != nil {
					b.f.Close()
					return nil, err
				}
				first = false
			} else if _, err := b.f.NewSheet(name); err != nil {
				b.f.Close()
				return nil, err
			}
			if err := b.sheet(name, meta, part); err != nil {
				b.f.Close()
				return nil, fmt.Errorf("xlsx sheet %s: %w", name, err)
			}
		}
	}
	return b.f, nil
}

// parts splits a table by its split column, values in order of first
// appearance; a table without one is its own single part.
func (t table) parts() []table {
	if t.split == 0 {
		return []table{t}
	}
	k := t.split - 1
	var out []table
	index := map[string]int{}
	for _, rw := range t.rows {
		key := fmt.Sprint(rw.cells[k])
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			name := survey.Text{Vi: key}
			if tx, ok := rw.cells[k].(survey.Text); ok {
				name = tx
			}
			cols := slices.Delete(slices.Clone(t.cols), k, k+1)
			intro := append([]line{{label: survey.Text{Vi: t.cols[k].vi, En: t.cols[k].en}, values: []any{rw.cells[k]}}}, t.intro...)
			out = append(out, table{name: name, intro: intro, cols: cols})
		}
		out[i].rows = append(out[i].rows, row{cells: slices.Delete(slices.Clone(rw.cells), k, k+1), strong: rw.strong})
	}
	return out
}

// sheet writes lines, a header and rows, then sets the sheet up to be
// read (frozen header, filters, dimension) and printed (A4, fitted to the
// width, header repeated on every page, page numbers).
func (b *book) sheet(name string, meta []line, t table) error {
	f, r := b.f, b.r
	n := 0
	var inTable bool
	put := func(cells []any, key func(i int, v any) styleKey) error {
		n++
		vals := make([]any, len(cells))
		for i, v := range cells {
			switch v := v.(type) {
			case nil:
				vals[i] = nil
			case survey.Text:
				vals[i] = r.text(v)
			case share:
				vals[i] = float64(v)
			default:
				vals[i] = v
			}
		}
		first, _ := excelize.CoordinatesToCellName(1, n)
		if err := f.SetSheetRow(name, first, &vals); err != nil {
			return err
		}
		for i, v := range cells {
			k := key(i, v)
			if inTable && i < len(t.cols) {
				k.wrap = k.wrap || t.cols[i].wrap
			}
			if k == (styleKey{}) {
				continue
			}
			id, err := b.style(k)
			if err != nil {
				return err
			}
			cell, _ := excelize.CoordinatesToCellName(i+1, n)
			if err := f.SetCellStyle(name, cell, cell, id); err != nil {
				return err
			}
		}
		return nil
	}
	plain := func(_ int, v any) styleKey { return styleKey{num: numFormat(v)} }
	lines := append(slices.Clone(meta), t.intro...)
	for _, l := range lines {
		cells := append([]any{l.label}, l.values...)
		if err := put(cells, func(i int, v any) styleKey { return styleKey{num: numFormat(v), strong: i == 0} }); err != nil {
			return err
		}
		if err := b.foldLine(name, n, l, t.cols); err != nil {
			return err
		}
	}
	inTable = true
	if len(lines) > 0 {
		n++ // an empty line before the header
	}
	head := make([]any, len(t.cols))
	for i, col := range t.cols {
		head[i] = survey.Text{Vi: col.vi, En: col.en}
	}
	if err := put(head, func(int, any) styleKey { return styleKey{header: true} }); err != nil {
		return err
	}
	headRow := n
	for _, rw := range t.rows {
		key, cells := plain, rw.cells
		if rw.strong {
			key = func(_ int, v any) styleKey { return styleKey{num: numFormat(v), strong: true} }
			// The band runs across the whole table.
			cells = append(slices.Clone(cells), make([]any, max(0, len(t.cols)-len(cells)))...)
		}
		if err := put(cells, key); err != nil {
			return err
		}
	}
	return b.setup(name, t, lines, headRow, n)
}

// foldLine spreads a line's single long value over the table's width and
// wraps it there, so that a note prints whole rather than running off the
// page. Spreadsheets do not size merged rows, so the height is set from the
// length of the text.
func (b *book) foldLine(name string, n int, l line, cols []column) error {
	if len(l.values) != 1 || len(cols) < 3 {
		return nil
	}
	text := b.f.GetCellValue
	v, err := text(name, fmt.Sprintf("B%d", n))
	if err != nil {
		return err
	}
	width := 0.0
	for _, col := range cols[1:] {
		width += col.width
	}
	chars := float64(utf8.RuneCountInString(v))
	if chars <= cols[1].width {
		return nil
	}
	last, _ := excelize.ColumnNumberToName(len(cols))
	from, to := fmt.Sprintf("B%d", n), fmt.Sprintf("%s%d", last, n)
	if err := b.f.MergeCell(name, from, to); err != nil {
		return err
	}
	id, err := b.style(styleKey{wrap: true})
	if err != nil {
		return err
	}
	if err := b.f.SetCellStyle(name, from, to, id); err != nil {
		return err
	}
	// About one character per unit of column width; 15 points a line.
	lines := math.Ceil(chars / (width * 0.95))
	return b.f.SetRowHeight(name, n, 15*lines)
}

func (b *book) setup(name string, t table, lines []line, headRow, lastRow int) error {
	f := b.f
	width := 0.0
	for i, col := range t.cols {
		c, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(name, c, c, col.width); err != nil {
			return err
		}
		width += col.width
	}
	cols := len(t.cols)
	for _, l := range lines {
		cols = max(cols, 1+len(l.values))
	}
	lastCol, _ := excelize.ColumnNumberToName(max(cols, 1))
	// excelize leaves <dimension ref="A1"/>, and readers that trust it
	// (openpyxl in read-only mode) then see a single cell.
	if err := f.SetSheetDimension(name, fmt.Sprintf("A1:%s%d", lastCol, max(lastRow, 1))); err != nil {
		return err
	}
	if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: headRow, TopLeftCell: fmt.Sprintf("A%d", headRow+1), ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	tableLast, _ := excelize.ColumnNumberToName(len(t.cols))
	if len(t.rows) > 0 {
		if err := f.AutoFilter(name, fmt.Sprintf("A%d:%s%d", headRow, tableLast, lastRow), nil); err != nil {
			return err
		}
	}
	orientation, size, fitW, fitH := "portrait", a4, 1, 0
	if width > portraitWidth {
		orientation = "landscape"
	}
	if err := f.SetPageLayout(name, &excelize.PageLayoutOptions{Size: &size, Orientation: &orientation, FitToWidth: &fitW, FitToHeight: &fitH}); err != nil {
		return err
	}
	fit := true
	if err := f.SetSheetProps(name, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	narrow, edge := 0.4, 0.25
	if err := f.SetPageMargins(name, &excelize.PageLayoutMarginsOptions{Left: &narrow, Right: &narrow, Top: &narrow, Bottom: &narrow, Header: &edge, Footer: &edge}); err != nil {
		return err
	}
	if err := f.SetHeaderFooter(name, &excelize.HeaderFooterOptions{OddFooter: "&L&A&R&P / &N"}); err != nil {
		return err
	}
	return f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: fmt.Sprintf("'%s'!$%d:$%d", strings.ReplaceAll(name, "'", "''"), headRow, headRow), Scope: name})
}

// maxSheetName is Excel's limit on a sheet name, in characters.
const maxSheetName = 31

// sheetName makes a valid, unique sheet name: none of []:*?/\, at most 31
// characters, cut between words rather than inside one.
func (b *book) sheetName(name string) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '-'
		}
		return r
	}, name)
	name = strings.Trim(name, "' ")
	if name == "" {
		name = "-"
	}
	base := fitWords(name, maxSheetName)
	for n := 2; ; n++ {
		if idx, _ := b.f.GetSheetIndex(base); idx < 0 {
			return base
		}
		suffix := " " + strconv.Itoa(n)
		base = fitWords(name, maxSheetName-len(suffix)) + suffix
	}
}

// fitWords shortens s to at most limit characters, cutting at the last
// word boundary that fits and dropping trailing punctuation; a single word
// longer than the limit is cut inside.
func fitWords(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	r := []rune(s)
	cut := limit
	if !unicode.IsSpace(r[limit]) {
		for cut > 0 && !unicode.IsSpace(r[cut-1]) {
			cut--
		}
		if cut == 0 {
			cut = limit
		}
	}
	return strings.TrimRightFunc(string(r[:cut]), func(c rune) bool {
		return unicode.IsSpace(c) || unicode.IsPunct(c) && c != ')'
	})
}
