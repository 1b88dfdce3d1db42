package survey

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// XLSForm is the questionnaire as the three sheets of an XLSForm workbook
// (survey, choices and settings), the format that ODK Collect, ODK Central
// and KoboToolbox take for a field survey. Cells are plain strings, so any
// spreadsheet writer can render it; XForm turns it into the XML form that
// ODK Central accepts directly.
//
// The form is the household version of the questionnaire: an enumerator
// asks every module face to face (as PAPI does), so no module rotates and
// every answer has design weight 1. Around the catalogue's questions it adds
// the household's commune (FieldCommune), the interview date, the optional
// respondent profile, the catalogue version (FieldVersion, so every exported
// row names its questionnaire) and, as ODK always does, meta/instanceID.
type XLSForm struct {
	Survey   Sheet
	Choices  Sheet
	Settings Sheet
}

// Sheet is one worksheet: a header row of column names and the data rows,
// each as long as Columns.
type Sheet struct {
	Name    string
	Columns []string
	Rows    [][]string
}

// Col returns the index of a column, or -1.
func (s Sheet) Col(name string) int {
	for i, c := range s.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

// Cell returns the value of a column in a row ("" when the sheet has no such
// column).
func (s Sheet) Cell(row int, col string) string {
	i := s.Col(col)
	if i < 0 || i >= len(s.Rows[row]) {
		return ""
	}
	return s.Rows[row][i]
}

// Form languages as XLSForm names them: the label columns are
// "label::Tiếng Việt (vi)" and "label::English (en)".
const (
	LangVi = "Tiếng Việt (vi)"
	LangEn = "English (en)"
)

// Names the form adds around the catalogue's questions. Question ids are
// kept as field names; none of these can clash with them (question ids start
// with their module's prefix, such as "c_" or "d3_").
const (
	// FormID is the form_id setting: one form whose versions are the
	// catalogue versions, so ODK Central keeps them as versions of one form.
	FormID = "papi"
	// FieldCommune is the household's commune, a select_one of the city's
	// 168 communes: the respondent's residence in a household survey.
	FieldCommune = "commune"
	// FieldInterviewDate is the day of the interview, filled in by the
	// device; imports date the response by it.
	FieldInterviewDate = "interview_date"
	// FieldVersion is a calculated field holding the catalogue version, so
	// that every row of an export names the questionnaire it answered, also
	// on KoboToolbox, which replaces the form's own version string.
	FieldVersion = "papi_version"
	// GroupProfile holds the optional respondent profile (sex, age group)
	// used for post-stratification weights.
	GroupProfile = "profile"
	// FieldSex and FieldAgeGroup are the profile questions.
	FieldSex      = "sex"
	FieldAgeGroup = "age_group"
	// listCommunes is the choice list of the 168 communes.
	listCommunes = "communes"
)

// typeCommune is the question type of a commune picker (catalogue 2025.2's
// c_residence_commune): its answer is one of the 168 commune codes.
const typeCommune QuestionType = "commune"

var (
	surveyColumns = []string{
		"type", "name", "label::" + LangVi, "label::" + LangEn, "hint::" + LangVi, "hint::" + LangEn,
		"required", "required_message::" + LangVi, "required_message::" + LangEn, "relevant",
		"constraint", "constraint_message::" + LangVi, "constraint_message::" + LangEn,
		"appearance", "calculation",
	}
	choicesColumns  = []string{"list_name", "name", "label::" + LangVi, "label::" + LangEn}
	settingsColumns = []string{"form_title", "form_id", "version", "default_language"}
)

// surveyRow is one row of the survey sheet.
type surveyRow struct {
	Type, Name                         string
	Label, Hint, RequiredMsg, ConstMsg Text
	Required                           bool
	Relevant, Constraint               string
	Appearance, Calculation            string
}

func (r surveyRow) cells() []string {
	req := ""
	if r.Required {
		req = "yes"
	}
	return []string{
		r.Type, r.Name, r.Label.Vi, r.Label.En, r.Hint.Vi, r.Hint.En,
		req, r.RequiredMsg.Vi, r.RequiredMsg.En, r.Relevant,
		r.Constraint, r.ConstMsg.Vi, r.ConstMsg.En,
		r.Appearance, r.Calculation,
	}
}

var requiredMsg = Text{"Vui lòng trả lời câu hỏi này.", "Please answer this question."}

// XLSForm returns the household questionnaire of this catalogue version as
// XLSForm sheets. It fails on a question type it has no mapping for, so a new
// type in a catalogue cannot silently drop out of the field form.
func (c *Catalogue) XLSForm() (XLSForm, error) {
	return formBuilder{cat: c, grid: noGrid}.build()
}

// noGrid is the grid of every question of a catalogue without grids.
// Catalogue 2025.2 renders some single-choice rows together as a grid
// (a question attribute naming the grid); when that attribute lands in
// Question, this is the one place that reads it.
func noGrid(*Question) (string, Text) { return "", Text{} }

// formBuilder turns a catalogue into XLSForm rows.
type formBuilder struct {
	cat *Catalogue
	// grid names the grid a question is a row of, with the grid's title;
	// consecutive questions of one grid become one table-list group.
	grid func(*Question) (string, Text)

	survey  []surveyRow
	choices [][]string
	lists   map[string]string // option-set key → list name
	used    map[string]bool   // list names taken
	byID    map[string]*Question
}

func (b formBuilder) build() (XLSForm, error) {
	c := b.cat
	if c.Version == "" || strings.ContainsAny(c.Version, "'\" \t\n") {
		return XLSForm{}, fmt.Errorf("catalogue version %q cannot be written into the form", c.Version)
	}
	b.lists, b.used, b.byID = map[string]string{}, map[string]bool{}, map[string]*Question{}
	for i := range c.Questions {
		b.byID[c.Questions[i].ID] = &c.Questions[i]
	}
	communes, err := Communes()
	if err != nil {
		return XLSForm{}, err
	}
	b.used[listCommunes] = true
	for _, cm := range communes {
		b.choices = append(b.choices, []string{listCommunes, cm.Code, cm.Name, cm.Name})
	}

	b.survey = append(b.survey,
		surveyRow{Type: "select_one " + listCommunes, Name: FieldCommune, Required: true, RequiredMsg: requiredMsg, Appearance: "autocomplete",
			Label: Text{"Xã/phường/đặc khu nơi hộ gia đình đang sinh sống", "Commune/ward where the household lives"},
			Hint:  Text{"Gõ vài chữ của tên để tìm.", "Type part of the name to search."}},
		surveyRow{Type: "today", Name: FieldInterviewDate},
	)
	for _, m := range c.Modules {
		// A module asked only on a condition (the locality modules, for
		// residents of the city) is a group relevant on that condition.
		rel, err := b.relevant("module "+m.ID, m.ShowIf)
		if err != nil {
			return XLSForm{}, err
		}
		b.survey = append(b.survey, surveyRow{Type: "begin_group", Name: m.ID, Label: m.Name, Relevant: rel})
		grid := ""
		for i := range c.Questions {
			q := &c.Questions[i]
			if q.Module != m.ID {
				continue
			}
			g, title := b.grid(q)
			if g != grid {
				if grid != "" {
					b.survey = append(b.survey, surveyRow{Type: "end_group", Name: grid})
				}
				if g != "" {
					b.survey = append(b.survey, surveyRow{Type: "begin_group", Name: g, Label: title, Appearance: "table-list"})
				}
				grid = g
			}
			row, err := b.question(q, grid != "")
			if err != nil {
				return XLSForm{}, err
			}
			b.survey = append(b.survey, row)
		}
		if grid != "" {
			b.survey = append(b.survey, surveyRow{Type: "end_group", Name: grid})
		}
		b.survey = append(b.survey, surveyRow{Type: "end_group", Name: m.ID})
	}
	b.survey = append(b.survey,
		surveyRow{Type: "begin_group", Name: GroupProfile, Label: Text{"Thông tin người trả lời (không bắt buộc)", "About the respondent (optional)"}},
		surveyRow{Type: "select_one " + b.list(FieldSex, Sexes), Name: FieldSex, Label: Text{"Giới tính", "Sex"}},
		surveyRow{Type: "select_one " + b.list(FieldAgeGroup, AgeGroups), Name: FieldAgeGroup, Label: Text{"Nhóm tuổi", "Age group"}},
		surveyRow{Type: "end_group", Name: GroupProfile},
		surveyRow{Type: "calculate", Name: FieldVersion, Calculation: xpathString(c.Version)},
	)

	f := XLSForm{
		Survey:   Sheet{Name: "survey", Columns: surveyColumns},
		Choices:  Sheet{Name: "choices", Columns: choicesColumns, Rows: b.choices},
		Settings: Sheet{Name: "settings", Columns: settingsColumns, Rows: [][]string{{c.Title.Vi, FormID, c.Version, LangVi}}},
	}
	for _, r := range b.survey {
		f.Survey.Rows = append(f.Survey.Rows, r.cells())
	}
	if err := f.Validate(); err != nil {
		return XLSForm{}, fmt.Errorf("catalogue %s: %w", c.Version, err)
	}
	return f, nil
}

// question maps one catalogue question onto a survey row.
func (b *formBuilder) question(q *Question, inGrid bool) (surveyRow, error) {
	row := surveyRow{Name: q.ID, Label: q.Text, Required: q.Required}
	if q.Required {
		row.RequiredMsg = requiredMsg
	}
	if q.Help != nil {
		row.Hint = *q.Help
	}
	if q.Unit != nil {
		row.Hint = joinText(row.Hint, Text{"Đơn vị: " + q.Unit.Vi, "Unit: " + q.Unit.En})
	}
	for _, o := range q.Options {
		// A choice name is written into XPath and, for a multiple choice,
		// joined with spaces in ODK's data.
		if o.Value == "" || strings.ContainsAny(o.Value, " \t\n'\"") {
			return surveyRow{}, fmt.Errorf("question %q: option value %q cannot be an XLSForm choice name", q.ID, o.Value)
		}
	}
	switch q.Type {
	case SingleChoice:
		row.Type = "select_one " + b.list(q.ID, q.Options)
	case MultipleChoice:
		row.Type = "select_multiple " + b.list(q.ID, q.Options)
		// The intake refuses an exclusive option ("none of these") chosen
		// together with others; the form says so before it is sent.
		var excl []string
		for _, o := range q.Options {
			if o.Exclusive {
				excl = append(excl, "selected(., "+xpathString(o.Value)+")")
			}
		}
		if len(excl) > 0 {
			chosen := strings.Join(excl, " or ")
			if len(excl) > 1 {
				chosen = "(" + chosen + ")"
			}
			row.Constraint = "not(" + chosen + " and count-selected(.) > 1)"
			row.ConstMsg = Text{"Phương án “không có” không thể chọn cùng các phương án khác.", "A “none” option cannot be chosen together with other options."}
		}
	case ScaleQuestion:
		if len(q.Options) > 0 {
			row.Type = "select_one " + b.list(q.ID, q.Options)
			break
		}
		row.Type = "integer"
		row.Constraint, row.ConstMsg = rangeConstraint(q.Min, q.Max)
	case Number:
		row.Type = "decimal"
		row.Constraint, row.ConstMsg = rangeConstraint(q.Min, q.Max)
	case ShortText:
		row.Type = "text"
		row.Constraint = fmt.Sprintf("string-length(.) <= %d", q.MaxLength)
		row.ConstMsg = Text{fmt.Sprintf("Tối đa %d ký tự.", q.MaxLength), fmt.Sprintf("At most %d characters.", q.MaxLength)}
	case typeCommune:
		row.Type = "select_one " + listCommunes
		row.Appearance = "autocomplete"
	default:
		return surveyRow{}, fmt.Errorf("question %q: type %q has no XLSForm mapping (add one in survey/xlsform.go)", q.ID, q.Type)
	}
	if inGrid && !strings.HasPrefix(row.Type, "select_one ") {
		return surveyRow{}, fmt.Errorf("question %q: a grid row must be a single choice, not %q", q.ID, q.Type)
	}
	rel, err := b.relevant("question "+q.ID, q.ShowIf)
	if err != nil {
		return surveyRow{}, err
	}
	row.Relevant = rel
	return row, nil
}

// relevant writes a show_if chain (of a question or a module) as an
// XLSForm relevant expression. papi shows a question when its condition
// holds and the question the condition looks at was itself shown, so the
// whole chain is written out: a value left behind in a question that skip
// logic later hid then cannot make a question relevant, whatever the engine
// does with it.
func (b *formBuilder) relevant(what string, cond *Condition) (string, error) {
	var terms []string
	for depth := 0; cond != nil; depth++ {
		if depth > len(b.cat.Questions) {
			return "", fmt.Errorf("%s: show_if goes round in a circle", what)
		}
		dep, ok := b.byID[cond.Question]
		if !ok {
			return "", fmt.Errorf("%s: show_if refers to unknown question %q", what, cond.Question)
		}
		var alts []string
		for _, v := range cond.In {
			ref := "${" + dep.ID + "}"
			switch dep.Type {
			case MultipleChoice:
				alts = append(alts, "selected("+ref+", "+xpathString(v)+")")
			case Number, ScaleQuestion:
				// Numbers compare numerically, as papi compares them.
				alts = append(alts, ref+" = "+v)
			default:
				alts = append(alts, ref+" = "+xpathString(v))
			}
		}
		t := strings.Join(alts, " or ")
		if len(alts) > 1 {
			t = "(" + t + ")"
		}
		terms = append([]string{t}, terms...)
		cond = dep.ShowIf
	}
	return strings.Join(terms, " and "), nil
}

// list returns the name of the choice list for these options, adding the
// list the first time an option set (values and labels) is seen. Lists are
// shared between questions with the same options and named after their
// values when that is short ("yes_no_dk"), else after the first question.
func (b *formBuilder) list(question string, opts []Option) string {
	var key strings.Builder
	values := make([]string, len(opts))
	for i, o := range opts {
		values[i] = o.Value
		fmt.Fprintf(&key, "%s\x00%s\x00%s\x01", o.Value, o.Label.Vi, o.Label.En)
	}
	if name, ok := b.lists[key.String()]; ok {
		return name
	}
	name := strings.Join(values, "_")
	if len(name) > 24 || !isXMLName(name) || b.used[name] {
		name = question
	}
	for i := 2; b.used[name]; i++ {
		name = fmt.Sprintf("%s_%d", question, i)
	}
	b.lists[key.String()], b.used[name] = name, true
	for _, o := range opts {
		b.choices = append(b.choices, []string{name, o.Value, o.Label.Vi, o.Label.En})
	}
	return name
}

func rangeConstraint(lo, hi *float64) (string, Text) {
	switch {
	case lo != nil && hi != nil:
		return fmt.Sprintf(". >= %s and . <= %s", FormatNumber(*lo), FormatNumber(*hi)),
			Text{fmt.Sprintf("Giá trị phải từ %s đến %s.", fmtBound(lo), fmtBound(hi)), fmt.Sprintf("The value must be between %s and %s.", fmtBound(lo), fmtBound(hi))}
	case lo != nil:
		return ". >= " + FormatNumber(*lo), Text{"Giá trị phải từ " + fmtBound(lo) + " trở lên.", "The value must be at least " + fmtBound(lo) + "."}
	case hi != nil:
		return ". <= " + FormatNumber(*hi), Text{"Giá trị tối đa là " + fmtBound(hi) + ".", "The value must be at most " + fmtBound(hi) + "."}
	}
	return "", Text{}
}

func joinText(a, b Text) Text {
	if a.Vi == "" {
		return b
	}
	return Text{a.Vi + " " + b.Vi, a.En + " " + b.En}
}

// xpathString quotes s as an XPath string literal. Option values never hold
// quotes (question checks), and the catalogue version is a plain token.
func xpathString(s string) string { return "'" + s + "'" }

// isXMLName reports whether s can be an XML element name without a
// namespace prefix (an NCName, restricted to ASCII as XLSForm names are).
func isXMLName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z':
		case i > 0 && (r == '-' || r == '.' || r >= '0' && r <= '9'):
		default:
			return false
		}
	}
	return !strings.HasPrefix(strings.ToLower(s), "xml")
}

// FormField is one field of the form's data, with the groups that hold it:
// where ODK Central and KoboToolbox put its value in their exports.
type FormField struct {
	Name string
	// Groups are the names of the enclosing groups, outermost first.
	Groups []string
	// Type is the XLSForm type without its choice list: select_one,
	// select_multiple, integer, decimal, text, calculate or today.
	Type string
	List string
}

// Fields lists the form's data fields (not its groups) in form order.
func (f XLSForm) Fields() []FormField {
	var out []FormField
	var groups []string
	for i := range f.Survey.Rows {
		typ := strings.Fields(f.Survey.Cell(i, "type"))
		if len(typ) == 0 {
			continue
		}
		name := f.Survey.Cell(i, "name")
		switch typ[0] {
		case "begin_group":
			groups = append(groups, name)
		case "end_group":
			if len(groups) > 0 {
				groups = groups[:len(groups)-1]
			}
		default:
			ff := FormField{Name: name, Groups: append([]string(nil), groups...), Type: typ[0]}
			if len(typ) > 1 {
				ff.List = typ[1]
			}
			out = append(out, ff)
		}
	}
	return out
}

// Path is the field's XForm path, such as /data/core/c_procedure.
func (ff FormField) Path() string {
	return "/data/" + strings.Join(append(append([]string(nil), ff.Groups...), ff.Name), "/")
}

// Validate checks the sheets against the XLSForm specification
// (xlsform.org) as far as papi's form uses it: the three sheets and their
// required columns, known question types, choice lists that exist and are
// used, label columns for every language, balanced groups, names that are
// valid XML names unique across the form, ${references} to fields defined
// earlier, and settings naming a default language that has labels. The
// error lists every problem found.
func (f XLSForm) Validate() error {
	if errs := f.problems(); len(errs) > 0 {
		if len(errs) > 20 {
			errs = append(errs[:20], fmt.Sprintf("… and %d more", len(errs)-20))
		}
		return fmt.Errorf("the XLSForm is invalid:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

func (f XLSForm) problems() []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	for _, s := range []struct {
		sheet Sheet
		name  string
		cols  []string
	}{
		{f.Survey, "survey", []string{"type", "name"}},
		{f.Choices, "choices", []string{"list_name", "name"}},
		{f.Settings, "settings", []string{"form_title", "form_id", "version", "default_language"}},
	} {
		if s.sheet.Name != s.name {
			bad("sheet %q, want %q", s.sheet.Name, s.name)
		}
		for _, c := range s.cols {
			if s.sheet.Col(c) < 0 {
				bad("sheet %s: no %q column", s.name, c)
			}
		}
		seen := map[string]bool{}
		for _, c := range s.sheet.Columns {
			if seen[c] {
				bad("sheet %s: column %q twice", s.name, c)
			}
			seen[c] = true
		}
		for i, r := range s.sheet.Rows {
			if len(r) != len(s.sheet.Columns) {
				bad("sheet %s row %d: %d cells for %d columns", s.name, i+2, len(r), len(s.sheet.Columns))
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}

	// Languages: every label column is "label::Name (code)".
	var langs []string
	for _, c := range f.Survey.Columns {
		m := xlsLangColumn.FindStringSubmatch(c)
		if m == nil && strings.Contains(c, "::") {
			bad("survey: column %q is not name::Language (code)", c)
		}
		if m != nil && m[1] == "label" {
			langs = append(langs, m[2])
		}
	}
	if len(langs) < 2 {
		bad("survey: want label columns for Vietnamese and English, got %q", langs)
	}
	for _, l := range langs {
		if f.Choices.Col("label::"+l) < 0 {
			bad("choices: no label::%s column", l)
		}
	}
	if len(f.Settings.Rows) != 1 {
		bad("settings: want one row, got %d", len(f.Settings.Rows))
		return errs
	}
	if def := f.Settings.Cell(0, "default_language"); !slices.Contains(langs, def) {
		bad("settings: default_language %q has no label column", def)
	}
	for _, c := range []string{"form_title", "form_id", "version"} {
		if f.Settings.Cell(0, c) == "" {
			bad("settings: %s is empty", c)
		}
	}

	// Choices: lists of unique, labelled names.
	lists := map[string]map[string]bool{}
	for i := range f.Choices.Rows {
		list, name := f.Choices.Cell(i, "list_name"), f.Choices.Cell(i, "name")
		if !isXMLName(list) {
			bad("choices row %d: list_name %q is not a valid name", i+2, list)
		}
		if name == "" || strings.ContainsAny(name, " \t\n'\"") {
			bad("choices row %d: name %q cannot be a choice name", i+2, name)
		}
		if lists[list] == nil {
			lists[list] = map[string]bool{}
		}
		if lists[list][name] {
			bad("choices row %d: %q twice in list %q", i+2, name, list)
		}
		lists[list][name] = true
		for _, l := range langs {
			if strings.TrimSpace(f.Choices.Cell(i, "label::"+l)) == "" {
				bad("choices row %d (%s/%s): no label in %s", i+2, list, name, l)
			}
		}
	}

	// Survey rows.
	types := map[string]bool{"integer": true, "decimal": true, "text": true, "calculate": true, "today": true, "note": true}
	labelled := map[string]bool{"select_one": true, "select_multiple": true, "integer": true, "decimal": true, "text": true, "note": true, "begin_group": true}
	defined := map[string]string{} // name → type, of the rows so far
	usedLists := map[string]bool{}
	var stack []string
	for i := range f.Survey.Rows {
		row := i + 2
		typ := strings.Fields(f.Survey.Cell(i, "type"))
		name := f.Survey.Cell(i, "name")
		if len(typ) == 0 {
			bad("survey row %d: no type", row)
			continue
		}
		switch t := typ[0]; {
		case t == "end_group":
			if len(stack) == 0 {
				bad("survey row %d: end_group without begin_group", row)
			} else if name != "" && name != stack[len(stack)-1] {
				bad("survey row %d: end_group %q closes %q", row, name, stack[len(stack)-1])
			}
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			continue
		case t == "begin_group":
			stack = append(stack, name)
		case t == "select_one" || t == "select_multiple":
			if len(typ) != 2 || lists[typ[1]] == nil {
				bad("survey row %d: %q needs an existing choice list", row, f.Survey.Cell(i, "type"))
			} else {
				usedLists[typ[1]] = true
			}
		case types[t]:
			if len(typ) != 1 {
				bad("survey row %d: type %q takes no list", row, f.Survey.Cell(i, "type"))
			}
		default:
			bad("survey row %d: unknown type %q", row, t)
		}
		if !isXMLName(name) {
			bad("survey row %d: name %q is not a valid XML name", row, name)
		}
		if _, dup := defined[name]; dup {
			bad("survey row %d: name %q is used twice", row, name)
		}
		if labelled[typ[0]] {
			for _, l := range langs {
				if strings.TrimSpace(f.Survey.Cell(i, "label::"+l)) == "" {
					bad("survey row %d (%s): no label in %s", row, name, l)
				}
			}
		}
		if r := f.Survey.Cell(i, "required"); r != "" && r != "yes" {
			bad("survey row %d: required is %q, want yes or empty", row, r)
		}
		for _, col := range []string{"constraint_message", "required_message", "hint"} {
			var set []string
			for _, l := range langs {
				if f.Survey.Cell(i, col+"::"+l) != "" {
					set = append(set, l)
				}
			}
			if len(set) != 0 && len(set) != len(langs) {
				bad("survey row %d (%s): %s only in %q", row, name, col, set)
			}
		}
		if f.Survey.Cell(i, "constraint_message::"+langs[0]) != "" && f.Survey.Cell(i, "constraint") == "" {
			bad("survey row %d (%s): constraint_message without constraint", row, name)
		}
		if f.Survey.Cell(i, "required_message::"+langs[0]) != "" && f.Survey.Cell(i, "required") != "yes" {
			bad("survey row %d (%s): required_message on an optional question", row, name)
		}
		if (typ[0] == "calculate") != (f.Survey.Cell(i, "calculation") != "") {
			bad("survey row %d (%s): a calculation belongs to a calculate row and every calculate has one", row, name)
		}
		for _, col := range []string{"relevant", "constraint", "calculation"} {
			expr := f.Survey.Cell(i, col)
			if msg := checkXPathShape(expr); msg != "" {
				bad("survey row %d (%s): %s %q: %s", row, name, col, expr, msg)
			}
			for _, m := range refPattern.FindAllStringSubmatch(expr, -1) {
				t, ok := defined[m[1]]
				switch {
				case !ok:
					bad("survey row %d (%s): %s refers to ${%s}, which is not defined before it", row, name, col, m[1])
				case t == "begin_group":
					bad("survey row %d (%s): %s refers to the group ${%s}", row, name, col, m[1])
				}
			}
		}
		defined[name] = typ[0]
	}
	if len(stack) > 0 {
		bad("survey: groups %q are not closed", stack)
	}
	for l := range lists {
		if !usedLists[l] {
			bad("choices: list %q is not used", l)
		}
	}
	return errs
}

var (
	xlsLangColumn = regexp.MustCompile(`^(label|hint|constraint_message|required_message)::(.+ \([a-z]{2,3}\))$`)
	xpathNoLeft   = regexp.MustCompile(`(^|[(=<>]|\band|\bor)\s*(=|<|>|and\b|or\b)`)
	xpathNoRight  = regexp.MustCompile(`(=|<|>|\band|\bor)\s*($|\))`)
)

// checkXPathShape catches the slips a string-built expression can have:
// unbalanced parentheses or quotes, and a comparison with nothing on one
// side. (The XForm engine test in CI parses the expressions for real.)
func checkXPathShape(expr string) string {
	expr = refPattern.ReplaceAllString(expr, "x")
	depth, quote := 0, rune(0)
	for _, r := range expr {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '(':
			depth++
		case r == ')':
			depth--
			if depth < 0 {
				return "a ) without its ("
			}
		}
	}
	ops := strings.NewReplacer(">=", "=", "<=", "=", "!=", "=").Replace(expr)
	switch {
	case quote != 0:
		return "an unclosed string"
	case depth != 0:
		return "unbalanced parentheses"
	case xpathNoLeft.MatchString(strings.TrimSpace(ops)):
		return "an operator without its left side"
	case xpathNoRight.MatchString(ops):
		return "an operator without its right side"
	}
	return ""
}
