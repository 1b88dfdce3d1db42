package survey

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ExportFormat names the tool whose CSV export of form submissions a file
// is.
type ExportFormat string

// The exports papi reads: what ODK Central's "Download all records (.csv)"
// and KoboToolbox's CSV export (XML values and headers) give for papi's form.
const (
	// ODKCentral: comma-separated; group paths joined by hyphens
	// ("d1-d1_know_democracy_law", "meta-instanceID") or bare names when
	// group names are left out; SubmissionDate first and KEY, SubmitterID,
	// SubmitterName, AttachmentsPresent, AttachmentsExpected, Status,
	// ReviewState, DeviceID, Edits and FormVersion last; select_multiple
	// answers space-separated, optionally also split into "field/option"
	// columns of 1 and 0.
	ODKCentral ExportFormat = "odk_central"
	// KoboToolbox: semicolon-separated with every value quoted; group paths
	// joined by "/" or bare names; "_id", "_uuid", "_submission_time",
	// "_validation_status", "_notes", "_status", "_submitted_by",
	// "__version__", "_tags" and "_index" last; select_multiple answers in
	// one column, in "field/option" columns of 1 and 0, or both.
	KoboToolbox ExportFormat = "kobotoolbox"
)

// Imported is one row of an export that passed every check of the intake.
type Imported struct {
	// Row is the row's number as a spreadsheet shows the file (the header
	// is row 1).
	Row int
	// SubmissionID is the submission's instanceID ("uuid:…"): the same
	// interview imported again is stored once.
	SubmissionID string
	Version      string
	// Commune is the household's commune (FieldCommune).
	Commune string
	// At is when the interview took place: its interview date (noon, city
	// time), else the time the server received it; zero when the export
	// has neither.
	At time.Time
	// Visit is the validated visit, with Channel set to ChannelHousehold.
	Visit Visit
	// Skipped, when set, says why the row is deliberately not imported
	// (rejected in review, a repeat of an earlier row); Visit is then empty.
	Skipped *Text
}

// RowError lists the problems of one row of an export; the reader goes on
// with the next row.
type RowError struct {
	Row          int
	SubmissionID string
	Errors       []FieldError
}

// Error lists the row's problems in English.
func (e *RowError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		parts[i] = fe.Field + ": " + fe.Message.En
	}
	return fmt.Sprintf("row %d: %s", e.Row, strings.Join(parts, "; "))
}

// Column roles in an export.
type colRole int

const (
	colUnknown       colRole = iota
	colIgnored               // the tool's own metadata papi does not keep (submitter, device, …)
	colField                 // a field of the form
	colOption                // one option of a select_multiple, as 1 or 0
	colKey                   // ODK Central KEY: the submission's instanceID
	colInstanceID            // meta/instanceID of the submission's latest version
	colRootUUID              // KoboToolbox meta/rootUuid: the instanceID before any edit
	colKoboUUID              // KoboToolbox _uuid: the instanceID without "uuid:"
	colSubmitted             // SubmissionDate / _submission_time
	colReview                // ReviewState / _validation_status
	colCentralStatus         // ODK Central Status: set when an encrypted row could not be read
)

type column struct {
	role   colRole
	field  string // field name (colField, colOption)
	option string // option value (colOption)
}

// Metadata columns of each tool; any other column must be a field of the
// form.
var (
	centralMeta = map[string]colRole{
		"SubmissionDate": colSubmitted, "KEY": colKey, "SubmitterID": colIgnored, "SubmitterName": colIgnored,
		"AttachmentsPresent": colIgnored, "AttachmentsExpected": colIgnored, "Status": colCentralStatus,
		"ReviewState": colReview, "DeviceID": colIgnored, "Edits": colIgnored, "FormVersion": colIgnored,
	}
	koboMeta = map[string]colRole{
		"_id": colIgnored, "_uuid": colKoboUUID, "_submission_time": colSubmitted, "_validation_status": colReview,
		"_notes": colIgnored, "_status": colIgnored, "_submitted_by": colIgnored, "__version__": colIgnored,
		"_tags": colIgnored, "_index": colIgnored, "_attachments": colIgnored, "_geolocation": colIgnored,
		"_xform_id_string": colIgnored, "formhub/uuid": colIgnored,
	}
	// The two fields pyxform adds at the top of a table-list group.
	tableHeaderField = regexp.MustCompile(`^(generated_table_list_label|reserved_name_for_field_list_labels)_[0-9]+$`)
	instanceIDShape  = regexp.MustCompile(`^uuid:[A-Za-z0-9._-]{8,59}$`)
)

// importField is a field of one catalogue version's form.
type importField struct {
	FormField
	q    *Question // nil for the fields the form adds
	main int       // the field's own column in this file; -1 without
}

// importVersion is what the reader knows of one catalogue version.
type importVersion struct {
	cat     *Catalogue
	fields  map[string]*importField
	order   []*importField
	modules []string // every module: the household form asks them all
	// main and options locate each field's columns in this file.
	main    map[string]int
	options map[string]map[string]int
	// foreign are the columns of other versions' fields, which must be
	// empty in this version's rows.
	foreign []int
	checked bool // the header was found to hold every field of this version
}

// ImportReader reads the CSV export of papi's form from ODK Central or
// KoboToolbox row by row, in bounded memory, and validates each row as the
// intake validates a submission.
type ImportReader struct {
	// answers holds maps for Check to reuse: one per row was a large share
	// of an import's allocations.
	answers  sync.Pool
	cr       *csv.Reader
	format   ExportFormat
	header   []string
	cols     []column
	versions map[string]*importVersion
	communes map[string]bool
	seen     map[string]int // submission id → row, to spot repeats in one file
	row      int
}

// NewImportReader reads the header of an export and checks that the file is
// an export of papi's form (of one of the given catalogue versions) from ODK
// Central or KoboToolbox. A file that is not is refused with a *Error
// (EINVALID) saying what is wrong, before any row is read.
func NewImportReader(r io.Reader, cats []*Catalogue) (*ImportReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3) // Excel writes a byte-order mark when it saves UTF-8
	}
	first, err := br.Peek(64 << 10)
	if len(first) == 0 {
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("read the file: %w", err)
		}
		return nil, Errorf(EINVALID, "Tệp trống.", "The file is empty.")
	}
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	ir := &ImportReader{cr: csv.NewReader(br), versions: map[string]*importVersion{}, communes: map[string]bool{}, seen: map[string]int{}}
	ir.cr.Comma = delimiter(first)
	ir.cr.ReuseRecord = true
	header, err := ir.cr.Read()
	if err != nil {
		return nil, Errorf(EINVALID, "Không đọc được dòng tiêu đề của tệp CSV: "+err.Error(), "Cannot read the CSV header: "+err.Error())
	}
	ir.header = slices.Clone(header)
	ir.row = 1

	has := func(names ...string) bool {
		for _, n := range names {
			if slices.Contains(ir.header, n) {
				return true
			}
		}
		return false
	}
	switch central, kobo := has("KEY", "SubmissionDate"), has("_uuid", "_submission_time"); {
	case central && !kobo:
		ir.format = ODKCentral
	case kobo && !central:
		ir.format = KoboToolbox
	default:
		return nil, Errorf(EINVALID,
			"Đây không phải tệp CSV xuất từ ODK Central (cần cột KEY, SubmissionDate) hay KoboToolbox (cần cột _uuid, _submission_time). Hãy tải tệp CSV dữ liệu của biểu mẫu papi; với KoboToolbox chọn “XML values and headers”.",
			"This is not a CSV export from ODK Central (KEY and SubmissionDate columns) or KoboToolbox (_uuid and _submission_time columns). Download the data CSV of papi's form; on KoboToolbox choose “XML values and headers”.")
	}

	communes, err := Communes()
	if err != nil {
		return nil, err
	}
	for _, c := range communes {
		ir.communes[c.Code] = true
	}
	// Every column name a field or option can have in this tool's export,
	// with and without its group path.
	sep, meta := "-", centralMeta
	if ir.format == KoboToolbox {
		sep, meta = "/", koboMeta
	}
	names := map[string]column{}
	for _, c := range cats {
		f, err := c.XLSForm()
		if err != nil {
			return nil, err
		}
		v := &importVersion{cat: c, modules: c.AllModules(), fields: map[string]*importField{}, main: map[string]int{}, options: map[string]map[string]int{}}
		for _, ff := range f.Fields() {
			fld := &importField{FormField: ff}
			fld.q, _ = c.Question(ff.Name)
			v.fields[ff.Name] = fld
			v.order = append(v.order, fld)
			for _, col := range []string{strings.Join(append(slices.Clone(ff.Groups), ff.Name), sep), ff.Name} {
				names[col] = column{role: colField, field: ff.Name}
				if ff.Type == "select_multiple" && fld.q != nil {
					for _, o := range fld.q.Options {
						names[col+"/"+o.Value] = column{role: colOption, field: ff.Name, option: o.Value}
					}
				}
			}
		}
		ir.versions[c.Version] = v
	}
	instanceID := map[ExportFormat][]string{ODKCentral: {"meta-instanceID", "instanceID"}, KoboToolbox: {"meta/instanceID", "instanceID"}}[ir.format]
	var unknown []string
	for _, h := range ir.header {
		col, ok := names[h]
		switch {
		case ok:
		case meta[h] != colUnknown:
			col = column{role: meta[h]}
		case slices.Contains(instanceID, h):
			col = column{role: colInstanceID}
		case ir.format == KoboToolbox && (h == "meta/rootUuid" || h == "rootUuid"):
			col = column{role: colRootUUID}
		case ir.format == KoboToolbox && (h == "meta/deprecatedID" || h == "deprecatedID"):
			col = column{role: colIgnored}
		case tableHeaderField.MatchString(lastSegment(h, sep)):
			col = column{role: colIgnored}
		default:
			unknown = append(unknown, h)
		}
		ir.cols = append(ir.cols, col)
	}
	if len(unknown) > 0 {
		list := strings.Join(unknown[:min(len(unknown), 8)], ", ")
		if len(unknown) > 8 {
			list += fmt.Sprintf(" … (%d)", len(unknown))
		}
		return nil, Errorf(EINVALID,
			"Tệp có cột không thuộc biểu mẫu papi: "+list+". Chỉ nhập tệp xuất từ biểu mẫu papi (papi xlsform), với tên cột dạng giá trị XML, không phải nhãn câu hỏi.",
			"The file has columns that are not part of papi's form: "+list+". Import only the export of papi's form (papi xlsform), with XML names as headers, not question labels.")
	}
	for i, col := range ir.cols {
		for _, v := range ir.versions {
			if col.role == colField && v.fields[col.field] != nil {
				v.main[col.field] = i
			}
			if col.role == colOption && v.fields[col.field] != nil {
				if v.options[col.field] == nil {
					v.options[col.field] = map[string]int{}
				}
				v.options[col.field][col.option] = i
			}
			if (col.role == colField || col.role == colOption) && v.fields[col.field] == nil {
				v.foreign = append(v.foreign, i)
			}
		}
	}
	for _, v := range ir.versions {
		for _, f := range v.order {
			f.main = -1
			if i, ok := v.main[f.Name]; ok {
				f.main = i
			}
		}
	}
	if !slices.ContainsFunc(ir.cols, func(c column) bool { return c.role == colField && c.field == FieldVersion }) {
		return nil, Errorf(EINVALID,
			"Tệp không có cột "+FieldVersion+": đây không phải dữ liệu của biểu mẫu papi (papi xlsform).",
			"The file has no "+FieldVersion+" column: it is not data of papi's form (papi xlsform).")
	}
	if !slices.ContainsFunc(ir.cols, func(c column) bool {
		return c.role == colKey || c.role == colInstanceID || c.role == colKoboUUID
	}) {
		return nil, Errorf(EINVALID, "Tệp không có mã lượt phỏng vấn (KEY, meta/instanceID hoặc _uuid).", "The file has no submission id column (KEY, meta/instanceID or _uuid).")
	}
	return ir, nil
}

// delimiter guesses a CSV line's separator: the one of comma, semicolon
// and tab that occurs most often outside quotes (KoboToolbox uses
// semicolons, ODK Central and spreadsheets commas).
func delimiter(line []byte) rune {
	counts := map[rune]int{}
	quoted := false
	for _, b := range line {
		switch {
		case b == '"':
			quoted = !quoted
		case !quoted && (b == ',' || b == ';' || b == '\t'):
			counts[rune(b)]++
		}
	}
	best := ','
	for _, d := range []rune{';', '\t'} {
		if counts[d] > counts[best] {
			best = d
		}
	}
	return best
}

func lastSegment(h, sep string) string {
	if i := strings.LastIndex(h, sep); i >= 0 {
		return h[i+len(sep):]
	}
	return h
}

// Format says which tool exported the file.
func (ir *ImportReader) Format() ExportFormat { return ir.format }

// Record is one row of an export as read, before its answers are checked.
type Record struct {
	// Row is the row's number as a spreadsheet shows the file (the header
	// is row 1).
	Row          int
	SubmissionID string
	// Skipped, when set, says why the row is deliberately not imported.
	Skipped   *Text
	version   *importVersion
	cells     []string
	submitted string
}

// Next reads and validates the next row: Read, then Check.
func (ir *ImportReader) Next() (Imported, error) {
	rec, err := ir.Read()
	if err != nil {
		if rec != nil {
			return Imported{Row: rec.Row, SubmissionID: rec.SubmissionID}, err
		}
		return Imported{}, err
	}
	return ir.Check(rec)
}

// Read reads the next row without checking its answers. It returns io.EOF
// after the last row; a *RowError (with the record) for a row whose
// submission id or version is unusable, after which reading goes on; and any
// other error when the file cannot be read further: a malformed CSV, a row
// of a questionnaire version this server does not have, or an export
// lacking the columns of its version. Rows are read one at a time, in order.
func (ir *ImportReader) Read() (*Record, error) {
	cells, err := ir.cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, Errorf(EINVALID,
				fmt.Sprintf("Tệp CSV bị lỗi ở dòng %d: %v. Hãy tải lại tệp từ ODK Central/KoboToolbox, đừng sửa bằng tay.", pe.Line, pe.Err),
				fmt.Sprintf("The CSV file is malformed at line %d: %v. Download it again from ODK Central/KoboToolbox rather than editing it.", pe.Line, pe.Err))
		}
		return nil, fmt.Errorf("read the file: %w", err)
	}
	ir.row++
	rec := &Record{Row: ir.row}
	rowErr := func(field, vi, en string) error {
		return &RowError{Row: rec.Row, SubmissionID: rec.SubmissionID, Errors: []FieldError{{field, Text{vi, en}}}}
	}

	var key, instanceID, rootUUID, koboUUID, review, status, version string
	for i, col := range ir.cols {
		switch col.role {
		case colKey:
			key = strings.TrimSpace(cells[i])
		case colInstanceID:
			instanceID = strings.TrimSpace(cells[i])
		case colRootUUID:
			rootUUID = strings.TrimSpace(cells[i])
		case colKoboUUID:
			koboUUID = strings.TrimSpace(cells[i])
		case colSubmitted:
			rec.submitted = strings.TrimSpace(cells[i])
		case colReview:
			review = strings.TrimSpace(cells[i])
		case colCentralStatus:
			status = strings.TrimSpace(cells[i])
		case colField:
			if col.field == FieldVersion {
				version = strings.TrimSpace(cells[i])
			}
		}
	}
	switch {
	case key != "":
		rec.SubmissionID = key
	case rootUUID != "":
		rec.SubmissionID = rootUUID
	case instanceID != "":
		rec.SubmissionID = instanceID
	case koboUUID != "":
		rec.SubmissionID = "uuid:" + koboUUID
	}
	if !instanceIDShape.MatchString(rec.SubmissionID) {
		return rec, rowErr("instanceID", fmt.Sprintf("Mã lượt phỏng vấn %q không đúng dạng uuid:… của ODK.", rec.SubmissionID),
			fmt.Sprintf("The submission id %q is not an ODK instanceID (uuid:…).", rec.SubmissionID))
	}
	// KoboToolbox writes the status's id or its label, by export language.
	switch strings.ToLower(review) {
	case "rejected", "validation_status_not_approved", "not approved":
		rec.Skipped = &Text{"Đã bị từ chối khi duyệt trên " + ir.toolName() + ".", "Rejected in review on " + ir.toolName() + "."}
		return rec, nil
	}
	if status != "" {
		return rec, rowErr("Status", "ODK Central không giải mã được lượt này ("+status+"); hãy xuất lại kèm mật khẩu giải mã.",
			"ODK Central could not decrypt this submission ("+status+"); export again with the decryption passphrase.")
	}
	if first, dup := ir.seen[rec.SubmissionID]; dup {
		rec.Skipped = &Text{fmt.Sprintf("Trùng với dòng %d (cùng mã lượt phỏng vấn).", first), fmt.Sprintf("A repeat of row %d (same submission id).", first)}
		return rec, nil
	}
	// Clone: the CSV reader's fields share one string per row, which the
	// map would otherwise keep alive for every row of the file.
	ir.seen[strings.Clone(rec.SubmissionID)] = rec.Row

	if version == "" {
		return rec, rowErr(FieldVersion, "Dòng này không ghi phiên bản bảng hỏi.", "This row does not say which questionnaire version it answered.")
	}
	v, ok := ir.versions[version]
	if !ok {
		return nil, Errorf(EINVALID,
			fmt.Sprintf("Dòng %d trả lời bảng hỏi phiên bản %q, không có trên máy chủ này; không nhập gì từ tệp.", rec.Row, version),
			fmt.Sprintf("Row %d answers questionnaire version %q, which this server does not have; nothing is imported from this file.", rec.Row, version))
	}
	if err := ir.checkColumns(v); err != nil {
		return nil, err
	}
	rec.version = v
	rec.cells = slices.Clone(cells) // the CSV reader reuses its slice
	return rec, nil
}

// Check decodes a record's answers and validates them as the intake does.
// It returns the imported row, or a *RowError listing every problem. Check
// may run on several records at once, in any order.
func (ir *ImportReader) Check(rec *Record) (Imported, error) {
	out := Imported{Row: rec.Row, SubmissionID: rec.SubmissionID, Skipped: rec.Skipped}
	if rec.Skipped != nil {
		return out, nil
	}
	var errs []FieldError
	fail := func(field, vi, en string) { errs = append(errs, FieldError{field, Text{vi, en}}) }
	v := rec.version
	out.Version = v.cat.Version
	answers, ok := ir.answers.Get().(map[string]json.RawMessage)
	if !ok {
		answers = make(map[string]json.RawMessage, len(v.order))
	}
	defer func() {
		clear(answers)
		ir.answers.Put(answers)
	}()
	sub := Submission{Modules: v.modules, Answers: answers}
	for _, f := range v.order {
		val, present := ir.value(v, f, rec.cells)
		switch {
		case f.Name == FieldCommune:
			switch {
			case !present:
				fail(FieldCommune, "Thiếu xã/phường của hộ gia đình.", "The household's commune is missing.")
			case !ir.communes[val]:
				fail(FieldCommune, fmt.Sprintf("Mã xã/phường %q không có trong danh sách 168 xã/phường.", val), fmt.Sprintf("Commune code %q is not one of the city's 168 communes.", val))
			}
			out.Commune = val
		case f.Name == FieldInterviewDate:
			if !present {
				break
			}
			d, err := time.ParseInLocation(DateLayout, val, Local)
			if err != nil {
				fail(FieldInterviewDate, fmt.Sprintf("Ngày phỏng vấn %q không đúng dạng YYYY-MM-DD.", val), fmt.Sprintf("Interview date %q is not a YYYY-MM-DD date.", val))
				break
			}
			out.At = d.Add(12 * time.Hour)
		case f.Name == FieldSex:
			sub.Sex = val
		case f.Name == FieldAgeGroup:
			sub.AgeGroup = val
		case f.q != nil && present:
			raw, msg := answerJSON(f.q, val)
			if msg != nil {
				fail("answers."+f.Name, msg.Vi, msg.En)
				continue
			}
			sub.Answers[f.Name] = raw
		}
	}
	if out.At.IsZero() && rec.submitted != "" {
		if t, err := parseSubmitted(rec.submitted); err == nil {
			out.At = t
		}
	}
	// Columns of another version's fields must be empty in this row.
	for _, i := range v.foreign {
		if strings.TrimSpace(rec.cells[i]) != "" {
			fail(ir.header[i], fmt.Sprintf("Cột này không thuộc bảng hỏi phiên bản %s mà dòng này trả lời.", v.cat.Version),
				fmt.Sprintf("This column is not part of questionnaire version %s, which this row answers.", v.cat.Version))
		}
	}
	if len(errs) == 0 {
		visit, err := v.cat.ValidateSubmission(sub)
		var verr *ValidationError
		switch {
		case errors.As(err, &verr):
			errs = append(errs, verr.Errors...)
		case err != nil:
			return out, err
		default:
			visit.Channel = ChannelHousehold
			out.Visit = visit
		}
	}
	if len(errs) > 0 {
		return out, &RowError{Row: out.Row, SubmissionID: out.SubmissionID, Errors: errs}
	}
	return out, nil
}

func (ir *ImportReader) toolName() string {
	if ir.format == KoboToolbox {
		return "KoboToolbox"
	}
	return "ODK Central"
}

// checkColumns makes sure the file has a column for every field of a
// version (for a select_multiple, its own column or one per option) the
// first time a row of that version appears.
func (ir *ImportReader) checkColumns(v *importVersion) error {
	if v.checked {
		return nil
	}
	var missing []string
	for _, f := range v.order {
		if _, ok := v.main[f.Name]; ok {
			continue
		}
		if f.Type == "select_multiple" && f.q != nil && len(v.options[f.Name]) == len(f.q.Options) {
			continue
		}
		missing = append(missing, f.Name)
	}
	if len(missing) > 0 {
		list := strings.Join(missing[:min(len(missing), 8)], ", ")
		if len(missing) > 8 {
			list += fmt.Sprintf(" … (%d)", len(missing))
		}
		return Errorf(EINVALID,
			fmt.Sprintf("Tệp thiếu cột của bảng hỏi phiên bản %s: %s. Hãy xuất lại toàn bộ các cột của biểu mẫu.", v.cat.Version, list),
			fmt.Sprintf("The file lacks columns of questionnaire version %s: %s. Export again with every column of the form.", v.cat.Version, list))
	}
	v.checked = true
	return nil
}

// value returns a field's value in a row: its own column, or for a
// select_multiple exported only as one column per option, the options
// marked 1 (or True), in the form's order.
func (ir *ImportReader) value(v *importVersion, f *importField, rec []string) (string, bool) {
	if f.main >= 0 {
		s := strings.TrimSpace(rec[f.main])
		return s, s != ""
	}
	var chosen []string
	answered := false
	for _, o := range f.q.Options {
		switch strings.ToLower(strings.TrimSpace(rec[v.options[f.Name][o.Value]])) {
		case "1", "true":
			chosen = append(chosen, o.Value)
			answered = true
		case "0", "false":
			answered = true
		}
	}
	return strings.Join(chosen, " "), answered && len(chosen) > 0
}

// answerJSON turns an exported value into the JSON answer the intake
// validates: numbers for number and scale questions, a list for a multiple
// choice, a string otherwise.
func answerJSON(q *Question, s string) (json.RawMessage, *Text) {
	switch q.Type {
	case Number, ScaleQuestion:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, &Text{fmt.Sprintf("Cần nhập một con số, không phải %q.", s), fmt.Sprintf("Enter a number, not %q.", s)}
		}
		if isJSONNumber([]byte(s)) {
			return json.RawMessage(s), nil // decode reads the same number from it
		}
		return json.RawMessage(strconv.FormatFloat(x, 'g', -1, 64)), nil
	case MultipleChoice:
		return listJSON(strings.Fields(s)), nil
	}
	if plainJSON(s) {
		// An option value: quoting it is all JSON needs.
		return json.RawMessage(`"` + s + `"`), nil
	}
	b, _ := json.Marshal(s)
	return b, nil
}

// listJSON writes a list of strings as json.Marshal does, by hand when
// every value is plain.
func listJSON(list []string) json.RawMessage {
	n := 2
	for _, s := range list {
		if !plainJSON(s) {
			b, _ := json.Marshal(list)
			return b
		}
		n += len(s) + 3
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, s...)
		b = append(b, '"')
	}
	return append(b, ']')
}

// plainJSON reports whether s can go between JSON quotes unescaped (and
// unchanged by encoding/json, which escapes <, > and &).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// parseSubmitted reads ODK Central's SubmissionDate (RFC 3339, UTC) or
// KoboToolbox's _submission_time (UTC without a zone).
func parseSubmitted(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05", s)
}

// ExportRow is one interview to write as an export row (WriteExport).
type ExportRow struct {
	InstanceID string // "uuid:…"
	Submitted  time.Time
	Commune    string
	// InterviewDate is "YYYY-MM-DD"; empty leaves the column blank.
	InterviewDate string
	// Visit holds the answers (Answers, Sex, AgeGroup).
	Visit Visit
	// Review is the row's ReviewState / _validation_status ("" for none).
	Review string
}

// ExportOptions are the export settings people choose in each tool.
type ExportOptions struct {
	// GroupNames puts group paths in the headers (ODK Central's default;
	// KoboToolbox's "include groups in headers").
	GroupNames bool
	// SplitMultiple adds a column of 1 and 0 per option of every
	// select_multiple; OnlySplit (KoboToolbox) leaves out the question's
	// own column.
	SplitMultiple, OnlySplit bool
}

// WriteExport writes interviews as ODK Central or KoboToolbox export them
// for this form, column for column: for tests, demonstrations and
// benchmarks of the import, and to check that the import reads the real
// naming of both tools.
func (f XLSForm) WriteExport(w io.Writer, format ExportFormat, opt ExportOptions, rows []ExportRow) error {
	cats, err := Catalogues()
	if err != nil {
		return err
	}
	version := f.Settings.Cell(0, "version")
	var cat *Catalogue
	for _, c := range cats {
		if c.Version == version {
			cat = c
		}
	}
	if cat == nil {
		return fmt.Errorf("no catalogue version %q", version)
	}
	sep := "-"
	if format == KoboToolbox {
		sep = "/"
	}
	type col struct {
		head          string
		field, option string
	}
	var cols []col
	if format == ODKCentral {
		cols = append(cols, col{head: "SubmissionDate"})
	}
	for _, ff := range f.Fields() {
		name := ff.Name
		if opt.GroupNames {
			name = strings.Join(append(slices.Clone(ff.Groups), ff.Name), sep)
		}
		q, ok := cat.Question(ff.Name)
		split := ok && ff.Type == "select_multiple" && (opt.SplitMultiple || opt.OnlySplit)
		if !split || !opt.OnlySplit {
			cols = append(cols, col{head: name, field: ff.Name})
		}
		if split {
			for _, o := range q.Options {
				cols = append(cols, col{head: name + "/" + o.Value, field: ff.Name, option: o.Value})
			}
		}
	}
	if format == ODKCentral {
		iid := "instanceID"
		if opt.GroupNames {
			iid = "meta-instanceID"
		}
		cols = append(cols, col{head: iid, field: "meta/instanceID"})
		for _, h := range []string{"KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"} {
			cols = append(cols, col{head: h})
		}
	} else {
		for _, h := range []string{"_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by", "__version__", "_tags", "_index"} {
			cols = append(cols, col{head: h})
		}
	}

	cw := csv.NewWriter(w)
	write := func(rec []string) error {
		if format == ODKCentral {
			return cw.Write(rec)
		}
		// KoboToolbox quotes every value and separates with semicolons.
		var b strings.Builder
		for i, v := range rec {
			if i > 0 {
				b.WriteByte(';')
			}
			b.WriteString(`"` + strings.ReplaceAll(v, `"`, `""`) + `"`)
		}
		b.WriteByte('\n')
		_, err := io.WriteString(w, b.String())
		return err
	}
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = c.head
	}
	if err := write(head); err != nil {
		return err
	}
	rec := make([]string, len(cols))
	for n, r := range rows {
		for i, c := range cols {
			rec[i] = ""
			switch {
			case c.option != "":
				if a, ok := r.Visit.Answers[c.field].([]string); ok {
					rec[i] = "0"
					if slices.Contains(a, c.option) {
						rec[i] = "1"
					}
				}
			case c.field == FieldCommune:
				rec[i] = r.Commune
			case c.field == FieldInterviewDate:
				rec[i] = r.InterviewDate
			case c.field == FieldSex:
				rec[i] = r.Visit.Sex
			case c.field == FieldAgeGroup:
				rec[i] = r.Visit.AgeGroup
			case c.field == FieldVersion:
				rec[i] = version
			case c.field == "meta/instanceID":
				rec[i] = r.InstanceID
			case c.field != "":
				if a, ok := r.Visit.Answers[c.field]; ok {
					rec[i] = strings.Join(answerStrings(a), " ")
				}
			case c.head == "SubmissionDate":
				rec[i] = r.Submitted.UTC().Format("2006-01-02T15:04:05.000Z")
			case c.head == "KEY":
				rec[i] = r.InstanceID
			case c.head == "SubmitterID":
				rec[i] = "5"
			case c.head == "SubmitterName":
				rec[i] = "enumerator-01"
			case c.head == "AttachmentsPresent", c.head == "AttachmentsExpected", c.head == "Edits":
				rec[i] = "0"
			case c.head == "ReviewState", c.head == "_validation_status":
				rec[i] = r.Review
			case c.head == "DeviceID":
				rec[i] = "collect:" + strconv.Itoa(1000+n%7)
			case c.head == "FormVersion":
				rec[i] = version
			case c.head == "_id":
				rec[i] = strconv.Itoa(100000 + n)
			case c.head == "_uuid":
				rec[i] = strings.TrimPrefix(r.InstanceID, "uuid:")
			case c.head == "_submission_time":
				rec[i] = r.Submitted.UTC().Format("2006-01-02T15:04:05")
			case c.head == "_status":
				rec[i] = "submitted_via_web"
			case c.head == "__version__":
				rec[i] = "vGqJZsb9nX2mrCMWMwLhXH"
			case c.head == "_index":
				rec[i] = strconv.Itoa(n + 1)
			}
		}
		if err := write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
