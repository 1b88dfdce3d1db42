package survey

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// xnode is a parsed XML element, for checking the XForm's structure.
type xnode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []*xnode   `xml:",any"`
}

func (n *xnode) attr(local string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func (n *xnode) child(local string) *xnode {
	for _, c := range n.Children {
		if c.XMLName.Local == local {
			return c
		}
	}
	return nil
}

func (n *xnode) walk(fn func(*xnode)) {
	fn(n)
	for _, c := range n.Children {
		c.walk(fn)
	}
}

// instancePaths lists the paths of an instance's elements.
func instancePaths(n *xnode, prefix string, out map[string]*xnode) {
	p := prefix + "/" + n.XMLName.Local
	out[p] = n
	for _, c := range n.Children {
		instancePaths(c, p, out)
	}
}

// checkXForm checks an XForm's internal references: the instance, binds,
// body controls, itext translations and secondary instances agree.
func checkXForm(t *testing.T, form []byte, version string) {
	t.Helper()
	var html xnode
	if err := xml.Unmarshal(form, &html); err != nil {
		t.Fatalf("the XForm is not well-formed XML: %v", err)
	}
	if html.XMLName.Space != "http://www.w3.org/1999/xhtml" || html.XMLName.Local != "html" {
		t.Fatalf("root element %v, want h:html", html.XMLName)
	}
	model := html.child("head").child("model")
	var primary *xnode
	secondary := map[string]*xnode{}
	var binds []*xnode
	itext := map[string]map[string]string{} // lang → id → value
	var langs []string
	for _, c := range model.Children {
		switch c.XMLName.Local {
		case "instance":
			if id := c.attr("id"); id != "" {
				secondary[id] = c
			} else {
				primary = c
			}
		case "bind":
			binds = append(binds, c)
		case "itext":
			for _, tr := range c.Children {
				lang := tr.attr("lang")
				langs = append(langs, lang)
				itext[lang] = map[string]string{}
				for _, tx := range tr.Children {
					itext[lang][tx.attr("id")] = strings.TrimSpace(tx.child("value").Text)
				}
			}
		}
	}
	if !slices.Equal(langs, []string{LangVi, LangEn}) {
		t.Errorf("translations %q, want %q", langs, []string{LangVi, LangEn})
	}
	data := primary.Children[0]
	if data.XMLName.Local != "data" || data.attr("id") != FormID || data.attr("version") != version {
		t.Errorf("instance root <%s id=%q version=%q>, want <data id=%q version=%q>", data.XMLName.Local, data.attr("id"), data.attr("version"), FormID, version)
	}
	paths := map[string]*xnode{}
	instancePaths(data, "", paths)
	if _, ok := paths["/data/meta/instanceID"]; !ok {
		t.Error("no /data/meta/instanceID")
	}
	leaf := func(p string) bool { n, ok := paths[p]; return ok && len(n.Children) == 0 }

	pathRef := regexp.MustCompile(`/data(/[A-Za-z_][A-Za-z0-9_.-]*)+`)
	itextRef := regexp.MustCompile(`jr:itext\('([^']+)'\)`)
	needText := func(where, ref string) {
		m := itextRef.FindStringSubmatch(ref)
		if m == nil {
			t.Errorf("%s: %q is not an itext reference", where, ref)
			return
		}
		for _, l := range langs {
			if itext[l][m[1]] == "" {
				t.Errorf("%s: itext %q has no %s text", where, m[1], l)
			}
		}
	}
	bound := map[string]*xnode{}
	for _, b := range binds {
		p := b.attr("nodeset")
		if _, ok := paths[p]; !ok {
			t.Errorf("bind %s: no such instance node", p)
		}
		if bound[p] != nil {
			t.Errorf("bind %s: twice", p)
		}
		bound[p] = b
		for _, a := range []string{"relevant", "constraint", "calculate"} {
			for _, ref := range pathRef.FindAllString(b.attr(a), -1) {
				if !leaf(ref) {
					t.Errorf("bind %s %s: %s is not a field", p, a, ref)
				}
			}
		}
		for _, a := range []string{"requiredMsg", "constraintMsg"} {
			if v := b.attr(a); v != "" {
				needText("bind "+p+" "+a, v)
			}
		}
		if (b.attr("constraint") != "") != (b.attr("constraintMsg") != "") {
			t.Errorf("bind %s: a constraint needs its message and the other way round", p)
		}
	}
	for p := range paths {
		if leaf(p) && bound[p] == nil {
			t.Errorf("instance node %s has no bind", p)
		}
	}
	if b := bound["/data/meta/instanceID"]; b == nil || b.attr("preload") != "uid" || b.attr("readonly") != "true()" {
		t.Error("meta/instanceID must be a read-only uid preload")
	}
	if b := bound["/data/"+FieldVersion]; b == nil || b.attr("calculate") != "'"+version+"'" {
		t.Errorf("%s must calculate '%s'", FieldVersion, version)
	}

	controls := 0
	html.child("body").walk(func(n *xnode) {
		ref := n.attr("ref")
		switch n.XMLName.Local {
		case "group":
			if _, ok := paths[ref]; !ok {
				t.Errorf("group %s: no such instance node", ref)
			}
			if l := n.child("label"); l != nil {
				needText("group "+ref, l.attr("ref"))
			}
		case "input", "select1", "select":
			controls++
			if bound[ref] == nil || !leaf(ref) {
				t.Errorf("control %s: no bound field", ref)
			}
			l := n.child("label")
			if l == nil {
				t.Errorf("control %s: no label", ref)
			} else if n.attr("appearance") != "label" {
				needText("control "+ref, l.attr("ref"))
			}
			if h := n.child("hint"); h != nil {
				needText("control "+ref+" hint", h.attr("ref"))
			}
			if n.XMLName.Local != "input" {
				is := n.child("itemset")
				if is == nil {
					t.Errorf("select %s: no itemset", ref)
					return
				}
				m := regexp.MustCompile(`^instance\('([^']+)'\)/root/item$`).FindStringSubmatch(is.attr("nodeset"))
				if m == nil || secondary[m[1]] == nil {
					t.Errorf("select %s: itemset %q names no secondary instance", ref, is.attr("nodeset"))
				}
			}
		}
	})
	for id, inst := range secondary {
		items := inst.child("root").Children
		if len(items) < 2 {
			t.Errorf("choice list %s: %d items", id, len(items))
		}
		for _, it := range items {
			needText("choice list "+id, "jr:itext('"+strings.TrimSpace(it.child("itextId").Text)+"')")
		}
	}
	if controls == 0 {
		t.Error("no controls in the body")
	}
}

func TestXFormIsConsistent(t *testing.T) {
	cats, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cats {
		t.Run(c.Version, func(t *testing.T) {
			form, err := c.XForm()
			if err != nil {
				t.Fatal(err)
			}
			checkXForm(t, form, c.Version)
			f, _ := c.XLSForm()
			for _, ff := range f.Fields() {
				if !bytes.Contains(form, []byte(`<bind nodeset="`+ff.Path()+`"`)) {
					t.Errorf("field %s: no bind for %s", ff.Name, ff.Path())
				}
			}
			wants := []string{
				`<bind nodeset="/data/interview_date" type="date" jr:preload="date" jr:preloadParams="today"/>`,
				`<itemset nodeset="instance('communes')/root/item">`,
				`<translation default="true()" lang="Tiếng Việt (vi)">`,
			}
			switch c.Version {
			case "2025.1":
				wants = append(wants,
					`<bind nodeset="/data/core/c_portal_forms" type="string" relevant="/data/core/c_online_portal = 'yes'"/>`,
					`<bind nodeset="/data/d4/d4_denounce_threshold" type="decimal" constraint=". &gt;= 0 and . &lt;= 1000" jr:constraintMsg="jr:itext('/data/d4/d4_denounce_threshold:jr:constraintMsg')"/>`)
			case "2025.2":
				wants = append(wants,
					// A show_if chain, a conditional number with its range, and a
					// module asked only of the city's residents.
					`<bind nodeset="/data/d4/d4_report_amount" type="decimal" relevant="/data/d4/d4_report_if_asked = 'above_amount'" constraint=". &gt;= 0 and . &lt;= 1000" jr:constraintMsg="jr:itext('/data/d4/d4_report_amount:jr:constraintMsg')"/>`,
					`<bind nodeset="/data/core/c_residence_commune" type="string" relevant="/data/core/c_residence = 'other'" required="true()"`,
					`<bind nodeset="/data/d6a" relevant="(/data/core/c_residence = 'here' or /data/core/c_residence = 'other')"/>`)
			}
			for _, want := range wants {
				if !bytes.Contains(form, []byte(want)) {
					t.Errorf("XForm lacks %s", want)
				}
			}
		})
	}
}

func TestXFormTableList(t *testing.T) {
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
	form, err := f.XForm()
	if err != nil {
		t.Fatal(err)
	}
	checkXForm(t, form, "9.1")
	// pyxform's table-list: a field-list group opened by a note with the
	// group's label and a label-only select showing the options once.
	for _, want := range []string{
		`<group ref="/data/core/c_quality" appearance="field-list">`,
		`<input ref="/data/core/c_quality/generated_table_list_label_7">`,
		`<select1 ref="/data/core/c_quality/reserved_name_for_field_list_labels_8" appearance="label">`,
		`<select1 ref="/data/core/c_quality/c_q_posted" appearance="list-nolabel">`,
		`<bind nodeset="/data/core/c_residence_commune" type="string" relevant="/data/core/c_residence = 'other'" required="true()"`,
	} {
		if !bytes.Contains(form, []byte(want)) {
			t.Errorf("XForm lacks %s", want)
		}
	}
}

func TestXFormRefusesWhatItCannotConvert(t *testing.T) {
	cats, _ := Catalogues()
	good, _ := cats[0].XLSForm()
	for _, tc := range []struct {
		name   string
		break_ func(f *XLSForm)
		want   string
	}{
		{"repeat", func(f *XLSForm) { f.Survey.Rows[2][0] = "begin_repeat" }, `type "begin_repeat" is not supported`},
		{"unknown list", func(f *XLSForm) { f.Survey.Rows[0][0] = "select_one nolist" }, `choice list "nolist" does not exist`},
		{"dangling reference", func(f *XLSForm) { f.Survey.Rows[5][f.Survey.Col("relevant")] = "${nowhere} = 'x'" }, "${nowhere} refers to no field"},
		{"open group", func(f *XLSForm) { f.Survey.Rows = f.Survey.Rows[:len(f.Survey.Rows)-2] }, "not closed"},
		{"no version", func(f *XLSForm) { f.Settings.Rows[0][2] = "" }, "version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := cloneForm(good)
			tc.break_(&f)
			if _, err := f.XForm(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

// engineCase is one way of filling the form, with what papi expects of it.
type engineCase struct {
	Name       string      `json:"name"`
	Set        [][2]string `json:"set"`
	Relevant   []string    `json:"relevant"`
	Violations []string    `json:"violations"`
}

// engineCases fills the form like an enumerator: synthetic households
// answering every module (as validated by the intake), then answers the
// intake refuses, which the form must refuse too.
func engineCases(t *testing.T, c *Catalogue, n int) map[string]any {
	t.Helper()
	f, err := c.XLSForm()
	if err != nil {
		t.Fatal(err)
	}
	path := map[string]string{}
	for _, ff := range f.Fields() {
		path[ff.Name] = ff.Path()
	}
	var questions []string
	for _, q := range c.Questions {
		questions = append(questions, path[q.ID])
	}
	value := func(v any) string {
		switch x := v.(type) {
		case string:
			return x
		case []string:
			return strings.Join(x, " ")
		case float64:
			return FormatNumber(x)
		}
		t.Fatalf("answer %v of type %T", v, v)
		return ""
	}
	rng := rand.New(rand.NewPCG(7, 11))
	communes, _ := Communes()
	visitCase := func(name string, v Visit) engineCase {
		ec := engineCase{Name: name, Set: [][2]string{{path[FieldCommune], communes[rng.IntN(len(communes))].Code}}}
		for _, q := range c.Questions {
			if a, ok := v.Answers[q.ID]; ok {
				ec.Set = append(ec.Set, [2]string{path[q.ID], value(a)})
			}
			if c.Shown(q.ID, v) {
				ec.Relevant = append(ec.Relevant, path[q.ID])
			}
		}
		if v.Sex != "" {
			ec.Set = append(ec.Set, [2]string{path[FieldSex], v.Sex}, [2]string{path[FieldAgeGroup], v.AgeGroup})
		}
		return ec
	}
	var cases []engineCase
	var visits []Visit
	for i := range n {
		sub := c.Synthesize(rng, c.AllModules(), rng.Float64())
		v, err := c.ValidateSubmission(sub)
		if err != nil {
			t.Fatalf("synthetic household %d is invalid: %v", i, err)
		}
		visits = append(visits, v)
		cases = append(cases, visitCase(fmt.Sprintf("household %d", i), v))
	}
	// Every answer the intake refuses for its value, the form refuses too.
	for _, q := range c.Questions {
		var bad []string
		switch q.Type {
		case Number, ScaleQuestion:
			if q.Type == ScaleQuestion && len(q.Options) > 0 {
				break
			}
			if q.Max != nil {
				bad = append(bad, FormatNumber(*q.Max+1))
			}
			if q.Min != nil {
				bad = append(bad, FormatNumber(*q.Min-1))
			}
		case ShortText:
			bad = append(bad, strings.Repeat("ư", q.MaxLength+1))
		case MultipleChoice:
			for _, o := range q.Options {
				if o.Exclusive {
					bad = append(bad, o.Value+" "+q.Options[0].Value)
					if o.Value == q.Options[0].Value {
						bad[len(bad)-1] = o.Value + " " + q.Options[1].Value
					}
				}
			}
		}
		for j, b := range bad {
			i := slices.IndexFunc(visits, func(v Visit) bool { return c.Shown(q.ID, v) })
			if i < 0 {
				t.Fatalf("no synthetic household was shown %s", q.ID)
			}
			ec := visitCase(fmt.Sprintf("%s refused %d", q.ID, j), visits[i])
			ec.Set = slices.DeleteFunc(ec.Set, func(s [2]string) bool { return s[0] == path[q.ID] })
			ec.Set = append(ec.Set, [2]string{path[q.ID], b})
			ec.Violations = []string{path[q.ID]}
			cases = append(cases, ec)
		}
	}
	// A required question left empty (with the answers it let in: the
	// questions it hides are left empty too, as an enumerator's form would).
	for _, q := range c.Questions {
		if q.Required && q.ShowIf == nil {
			v := visits[0]
			v.Answers = maps.Clone(v.Answers)
			delete(v.Answers, q.ID)
			for _, other := range c.Questions {
				if !c.Shown(other.ID, v) {
					delete(v.Answers, other.ID)
				}
			}
			ec := visitCase("missing "+q.ID, v)
			ec.Violations = []string{path[q.ID]}
			cases = append(cases, ec)
			break
		}
	}
	return map[string]any{"languages": []string{LangVi, LangEn}, "version": c.Version, "questions": questions, "cases": cases}
}

// TestXFormInODKEngine loads every version's XForm in ODK's XForms engine
// (@getodk/xforms-engine under Node; .ci/run installs it) and fills it in:
// the engine's relevance must match papi's skip logic question by question,
// and it must refuse exactly the answers the intake refuses. Skipped under
// -short and when the engine is absent, unless PAPI_TEST_XFORM_REQUIRED=1.
func TestXFormInODKEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Node")
	}
	modules := os.Getenv("PAPI_TEST_XFORM_MODULES")
	required := os.Getenv("PAPI_TEST_XFORM_REQUIRED") == "1"
	_, nodeErr := exec.LookPath("node")
	if _, err := os.Stat(filepath.Join(modules, "@getodk", "xforms-engine")); modules == "" || err != nil || nodeErr != nil {
		if required {
			t.Fatalf("PAPI_TEST_XFORM_REQUIRED=1 but node (%v) or @getodk/xforms-engine under PAPI_TEST_XFORM_MODULES=%q is missing", nodeErr, modules)
		}
		t.Skip("set PAPI_TEST_XFORM_MODULES to a node_modules with @getodk/xforms-engine and jsdom (see .ci/run)")
	}
	cats, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	check := func(t *testing.T, name string, form []byte, cases any) {
		formPath := filepath.Join(dir, name+".xml")
		casesPath := filepath.Join(dir, name+".json")
		data, _ := json.Marshal(cases)
		if err := os.WriteFile(formPath, form, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(casesPath, data, 0o600); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		cmd := exec.Command("node", filepath.Join("testdata", "xformcheck", "check.mjs"), formPath, casesPath)
		cmd.Env = append(os.Environ(), "XFORMCHECK_MODULES="+modules)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the ODK XForms engine refused the form: %v\n%s", err, out)
		}
		t.Logf("%s(%s)", out, time.Since(start).Round(time.Millisecond))
	}
	for _, c := range cats {
		t.Run(c.Version, func(t *testing.T) {
			form, err := c.XForm()
			if err != nil {
				t.Fatal(err)
			}
			check(t, c.Version, form, engineCases(t, c, 25))
		})
	}
	// The mappings catalogue 2025.2 needs: a commune picker shown on one
	// answer, and a grid as a table-list group.
	t.Run("commune picker and grid", func(t *testing.T) {
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
		form, err := f.XForm()
		if err != nil {
			t.Fatal(err)
		}
		p := func(name string) string { return "/data/core/" + name }
		questions := []string{p("c_residence"), p("c_residence_commune"), p("c_quality/c_q_posted"), p("c_quality/c_q_polite"), p("c_end")}
		always := []string{p("c_residence"), p("c_quality/c_q_posted"), p("c_quality/c_q_polite"), p("c_end")}
		check(t, "picker", form, map[string]any{"languages": []string{LangVi, LangEn}, "version": "9.1", "questions": questions, "cases": []engineCase{
			{Name: "lives here", Set: [][2]string{{"/data/commune", "25747"}, {p("c_residence"), "here"}, {p("c_quality/c_q_posted"), "yes"}}, Relevant: always},
			{Name: "another commune, not said which", Set: [][2]string{{"/data/commune", "25747"}, {p("c_residence"), "other"}},
				Relevant: append(slices.Clone(always), p("c_residence_commune")), Violations: []string{p("c_residence_commune")}},
			{Name: "another commune", Set: [][2]string{{"/data/commune", "25747"}, {p("c_residence"), "other"}, {p("c_residence_commune"), "26740"}, {p("c_quality/c_q_polite"), "unsure"}},
				Relevant: append(slices.Clone(always), p("c_residence_commune"))},
		}})
	})
}
