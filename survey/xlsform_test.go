package survey

import (
	"slices"
	"strings"
	"testing"
)

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
			for _, e := range f.problems() {
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
			errs := f.problems()
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tc.want) }) {
				t.Errorf("got %q, want a problem mentioning %q", errs, tc.want)
			}
		})
	}
	if errs := good.problems(); len(errs) > 0 {
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
	for _, e := range f.problems() {
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
