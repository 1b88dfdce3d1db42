package survey

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// CheckXLSForm checks XLSForm sheets against the XLSForm specification
// (xlsform.org) as far as papi's form uses it: the three sheets and their
// required columns, known question types, choice lists that exist and are
// used, label columns for every language, balanced groups, names that are
// valid XML names unique across the form, ${references} to fields defined
// earlier, and settings naming a default language that has labels. It
// returns every problem found.
func CheckXLSForm(f XLSForm) []string {
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
	langCol := regexp.MustCompile(`^(label|hint|constraint_message|required_message)::(.+ \([a-z]{2,3}\))$`)
	for _, c := range f.Survey.Columns {
		m := langCol.FindStringSubmatch(c)
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
	ref := regexp.MustCompile(`\$\{([^}]*)\}`)
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
			for _, m := range ref.FindAllStringSubmatch(expr, -1) {
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

// checkXPathShape catches the slips a string-built expression can have:
// unbalanced parentheses or quotes, and a comparison with nothing on one
// side. The XForm engine test parses the expressions for real.
func checkXPathShape(expr string) string {
	expr = regexp.MustCompile(`\$\{[^}]*\}`).ReplaceAllString(expr, "x")
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
	case regexp.MustCompile(`(^|[(=<>]|\band|\bor)\s*(=|<|>|and\b|or\b)`).MatchString(strings.TrimSpace(ops)):
		return "an operator without its left side"
	case regexp.MustCompile(`(=|<|>|\band|\bor)\s*($|\))`).MatchString(ops):
		return "an operator without its right side"
	}
	return ""
}

func TestXLSFormFollowsTheSpecification(t *testing.T) {
	cats, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	communes, _ := Communes()
	for _, c := range cats {
		t.Run(c.Version, func(t *testing.T) {
			f, err := c.XLSForm()
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range CheckXLSForm(f) {
				t.Error(e)
			}
			// Every question is a field under its module's group, with its
			// id as the name; the form adds only its own fields.
			fields := map[string]FormField{}
			for _, ff := range f.Fields() {
				fields[ff.Name] = ff
			}
			for _, q := range c.Questions {
				ff, ok := fields[q.ID]
				if !ok {
					t.Errorf("question %s is not in the form", q.ID)
					continue
				}
				if len(ff.Groups) == 0 || ff.Groups[0] != q.Module {
					t.Errorf("question %s: groups %q, want under %q", q.ID, ff.Groups, q.Module)
				}
				delete(fields, q.ID)
			}
			var extra []string
			for name := range fields {
				extra = append(extra, name)
			}
			slices.Sort(extra)
			if want := []string{FieldAgeGroup, FieldCommune, FieldInterviewDate, FieldVersion, FieldSex}; !slices.Equal(extra, want) {
				t.Errorf("fields besides the questions: got %q, want %q", extra, want)
			}
			if got := f.Settings.Rows[0]; got[1] != FormID || got[2] != c.Version || got[3] != LangVi {
				t.Errorf("settings: got %q", got)
			}
			n := 0
			for i := range f.Choices.Rows {
				if f.Choices.Cell(i, "list_name") == listCommunes {
					n++
				}
			}
			if n != len(communes) || n != 168 {
				t.Errorf("communes list: got %d choices, want 168", n)
			}
		})
	}
}

// TestCheckXLSFormCatchesMistakes makes sure the checker is not a test that
// cannot fail: each broken form must be reported.
func TestCheckXLSFormCatchesMistakes(t *testing.T) {
	cats, _ := Catalogues()
	good, err := cats[0].XLSForm()
	if err != nil {
		t.Fatal(err)
	}
	find := func(f XLSForm, name string) int {
		for i := range f.Survey.Rows {
			if f.Survey.Cell(i, "name") == name {
				return i
			}
		}
		t.Fatalf("no row %q", name)
		return -1
	}
	set := func(f XLSForm, row int, col, v string) { f.Survey.Rows[row][f.Survey.Col(col)] = v }
	for _, tc := range []struct {
		name   string
		break_ func(f *XLSForm)
		want   string
	}{
		{"unknown type", func(f *XLSForm) { set(*f, find(*f, "c_result"), "type", "select_won yes_no") }, "unknown type"},
		{"missing list", func(f *XLSForm) { set(*f, find(*f, "c_result"), "type", "select_one nolist") }, "existing choice list"},
		{"duplicate name", func(f *XLSForm) { set(*f, find(*f, "c_result"), "name", "c_procedure") }, "used twice"},
		{"bad XML name", func(f *XLSForm) { set(*f, find(*f, "c_result"), "name", "2bad") }, "not a valid XML name"},
		{"forward reference", func(f *XLSForm) {
			set(*f, find(*f, "c_procedure"), "relevant", "${c_result} = 'received'")
		}, "not defined before it"},
		{"unknown reference", func(f *XLSForm) { set(*f, find(*f, "c_portal_forms"), "relevant", "${nowhere} = 'yes'") }, "not defined before it"},
		{"missing English label", func(f *XLSForm) { set(*f, find(*f, "c_result"), "label::"+LangEn, "") }, "no label in English"},
		{"unbalanced group", func(f *XLSForm) {
			i := find(*f, GroupProfile)
			f.Survey.Rows = append(f.Survey.Rows[:i], f.Survey.Rows[i+1:]...)
		}, "end_group"},
		{"broken expression", func(f *XLSForm) { set(*f, find(*f, "c_portal_forms"), "relevant", "(${c_online_portal} = 'yes'") }, "unbalanced"},
		{"half a comparison", func(f *XLSForm) { set(*f, find(*f, "c_portal_forms"), "relevant", "${c_online_portal} = ") }, "right side"},
		{"bad default language", func(f *XLSForm) { f.Settings.Rows[0][3] = "Vietnamese" }, "default_language"},
		{"unused list", func(f *XLSForm) {
			f.Choices.Rows = append(f.Choices.Rows, []string{"orphan", "x", "x", "x"})
		}, "not used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := cloneForm(good)
			tc.break_(&f)
			errs := CheckXLSForm(f)
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tc.want) }) {
				t.Errorf("got %q, want a problem mentioning %q", errs, tc.want)
			}
		})
	}
	if errs := CheckXLSForm(good); len(errs) > 0 {
		t.Errorf("the unbroken form: %q", errs)
	}
}

func cloneForm(f XLSForm) XLSForm {
	cp := func(s Sheet) Sheet {
		out := Sheet{Name: s.Name, Columns: slices.Clone(s.Columns)}
		for _, r := range s.Rows {
			out.Rows = append(out.Rows, slices.Clone(r))
		}
		return out
	}
	return XLSForm{Survey: cp(f.Survey), Choices: cp(f.Choices), Settings: cp(f.Settings)}
}

func TestXLSFormMapsQuestions(t *testing.T) {
	cats, _ := Catalogues()
	c := cats[0]
	f, err := c.XLSForm()
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int{}
	for i := range f.Survey.Rows {
		if _, seen := rows[f.Survey.Cell(i, "name")]; !seen { // a group's begin row, not its end
			rows[f.Survey.Cell(i, "name")] = i
		}
	}
	cell := func(name, col string) string { return f.Survey.Cell(rows[name], col) }
	for _, tc := range []struct{ name, col, want string }{
		{"c_procedure", "required", "yes"},
		{"c_procedure", "required_message::" + LangVi, "Vui lòng trả lời câu hỏi này."},
		{"c_procedure", "hint::" + LangEn, "If you did several, choose the main one."},
		{"c_portal_forms", "relevant", "${c_online_portal} = 'yes'"},
		{"c_portal_forms", "required", ""},
		// A chain: shown when d2_received_info is yes, itself shown when
		// d2_sought_info is yes.
		{"d2_info_useful", "relevant", "${d2_sought_info} = 'yes' and ${d2_received_info} = 'yes'"},
		{"c_quality", "type", "select_multiple c_quality"},
		{"c_quality", "constraint", "not(selected(., 'none') and count-selected(.) > 1)"},
		{"d1_membership", "constraint", "not((selected(., 'none') or selected(., 'dk')) and count-selected(.) > 1)"},
		{"c_satisfaction", "type", "select_one c_satisfaction"}, // "1_2_3_4_5" is not an XML name
		{"d4_denounce_threshold", "type", "decimal"},
		{"d4_denounce_threshold", "constraint", ". >= 0 and . <= 1000"},
		{"c_comment", "type", "text"},
		{"c_comment", "constraint", "string-length(.) <= 500"},
		{FieldCommune, "type", "select_one communes"},
		{FieldCommune, "required", "yes"},
		{FieldVersion, "calculation", "'" + c.Version + "'"},
		{"d1", "type", "begin_group"},
		{"d1", "label::" + LangEn, "Participation at local levels"},
	} {
		if got := cell(tc.name, tc.col); got != tc.want {
			t.Errorf("%s %s: got %q, want %q", tc.name, tc.col, got, tc.want)
		}
	}
	if h := cell("d4_denounce_threshold", "hint::"+LangVi); !strings.HasSuffix(h, ". Đơn vị: triệu đồng") {
		t.Errorf("d4_denounce_threshold hint: got %q, want the help text then the unit", h)
	}
	// Questions with the same options share one list.
	if a, b := cell("d1_know_democracy_law", "type"), cell("d3_contacted_head", "type"); a != b || a != "select_one yes_no_dk" {
		t.Errorf("yes/no/don't know questions: got lists %q and %q, want one shared yes_no_dk", a, b)
	}
}

// testCatalogue is a small catalogue with the question types catalogue
// 2025.2 adds: a commune picker and grid rows.
func testCatalogue(t *testing.T, extra ...Question) *Catalogue {
	t.Helper()
	yn := []Option{{Value: "yes", Label: Text{"Có", "Yes"}}, {Value: "no", Label: Text{"Không", "No"}}, {Value: "unsure", Label: Text{"Không rõ", "Not sure"}}}
	c := &Catalogue{Version: "9.1", Title: Text{"Thử", "Test"}, Modules: []Module{{ID: "core", Name: Text{"Chung", "Core"}}},
		Questions: append([]Question{
			{ID: "c_residence", Module: "core", Type: SingleChoice, Required: true, Text: Text{"Nơi ở", "Residence"},
				Options: []Option{{Value: "here", Label: Text{"Ở đây", "Here"}}, {Value: "other", Label: Text{"Xã khác", "Other"}}, {Value: "outside", Label: Text{"Ngoài TP", "Outside"}}}},
			{ID: "c_residence_commune", Module: "core", Type: typeCommune, Required: true, Text: Text{"Xã nào", "Which commune"},
				ShowIf: &Condition{Question: "c_residence", In: []string{"other"}}},
			{ID: "c_q_posted", Module: "core", Type: SingleChoice, Text: Text{"Niêm yết", "Posted"}, Options: yn},
			{ID: "c_q_polite", Module: "core", Type: SingleChoice, Text: Text{"Lịch sự", "Polite"}, Options: yn},
			{ID: "c_end", Module: "core", Type: SingleChoice, Text: Text{"Hết", "End"}, Options: yn},
		}, extra...)}
	return c
}

func TestXLSFormMapsNewTypes(t *testing.T) {
	grid := func(q *Question) (string, Text) {
		if strings.HasPrefix(q.ID, "c_q_") {
			return "c_quality", Text{"Chất lượng", "Quality"}
		}
		return "", Text{}
	}
	f, err := formBuilder{cat: testCatalogue(t), grid: grid}.build()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range CheckXLSForm(f) {
		t.Error(e)
	}
	var got []string
	for i := range f.Survey.Rows {
		got = append(got, strings.TrimSpace(f.Survey.Cell(i, "type")+" "+f.Survey.Cell(i, "name")+" "+f.Survey.Cell(i, "appearance")+" "+f.Survey.Cell(i, "relevant")))
	}
	want := []string{
		"select_one communes commune autocomplete",
		"today interview_date",
		"begin_group core",
		"select_one here_other_outside c_residence",
		"select_one communes c_residence_commune autocomplete ${c_residence} = 'other'",
		"begin_group c_quality table-list",
		"select_one yes_no_unsure c_q_posted",
		"select_one yes_no_unsure c_q_polite",
		"end_group c_quality",
		"select_one yes_no_unsure c_end",
		"end_group core",
		"begin_group profile",
		"select_one female_male_other sex",
		"select_one age_group age_group",
		"end_group profile",
		"calculate papi_version",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows:\n got %q\nwant %q", got, want)
	}
	if _, err := f.XForm(); err != nil {
		t.Errorf("XForm: %v", err)
	}

	// A question type without a mapping fails loudly.
	odd := testCatalogue(t, Question{ID: "c_when", Module: "core", Type: "date", Text: Text{"Ngày", "Date"}})
	if _, err := (formBuilder{cat: odd, grid: noGrid}).build(); err == nil || !strings.Contains(err.Error(), `type "date" has no XLSForm mapping`) {
		t.Errorf("unknown type: got %v, want a mapping error", err)
	}
	// A grid row that is not a single choice fails too.
	bad := testCatalogue(t, Question{ID: "c_q_count", Module: "core", Type: Number, Text: Text{"Số", "Count"}})
	if _, err := (formBuilder{cat: bad, grid: grid}).build(); err == nil || !strings.Contains(err.Error(), "grid row") {
		t.Errorf("number in a grid: got %v, want a grid error", err)
	}
}
