package survey

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// question returns a pointer to the question with this id in c.Questions,
// for edits before validation (the index is not built yet).
func question(c *Catalogue, id string) *Question {
	for i := range c.Questions {
		if c.Questions[i].ID == id {
			return &c.Questions[i]
		}
	}
	panic("no question " + id)
}

// indicator returns a pointer to the indicator with this id, for edits.
func indicator(c *Catalogue, id string) *Indicator {
	for di := range c.Dimensions {
		for si := range c.Dimensions[di].Subdimensions {
			sd := &c.Dimensions[di].Subdimensions[si]
			for ii := range sd.Indicators {
				if sd.Indicators[ii].ID == id {
					return &sd.Indicators[ii]
				}
			}
		}
	}
	panic("no indicator " + id)
}

func fp(x float64) *float64 { return &x }

// addGrid puts c_paid and a copy of it, id second, into a grid "g".
func addGrid(c *Catalogue, first, second string) {
	c.Grids = append(c.Grids, Grid{ID: "g", Text: Text{"Bảng", "Table"}})
	q := question(c, first)
	q.Grid = "g"
	row := *q
	row.ID = second
	row.Options = slices.Clone(q.Options)
	i := slices.IndexFunc(c.Questions, func(x Question) bool { return x.ID == first })
	c.Questions = slices.Insert(c.Questions, i+1, row)
}

// itemsRule turns indicator id into the share of items answered "no".
func itemsRule(c *Catalogue, id string, items ...string) {
	ind := indicator(c, id)
	ind.Kind = KindMean
	ind.Rule = Rule{Items: items, Numerator: []string{"no"}, Exclude: []string{"dk"}, Scale: Scale{Min: 0, Max: 1, HigherIsBetter: true}}
}

// fromNumber adds d2_report ("would you report": always / from some amount
// / never) before d2_amount, which is then asked only for "some", and makes
// D2.1.1 the median of the amounts with "always" coded 0 and "never" 100.
func fromNumber(c *Catalogue) {
	i := slices.IndexFunc(c.Questions, func(x Question) bool { return x.ID == "d2_amount" })
	c.Questions = slices.Insert(c.Questions, i, Question{ID: "d2_report", Module: "d2", Type: SingleChoice, Text: Text{"Tố cáo?", "Report?"},
		Options: []Option{{Value: "always", Label: Text{"Luôn", "Always"}}, {Value: "some", Label: Text{"Từ một mức", "From some amount"}},
			{Value: "never", Label: Text{"Không", "Never"}}, {Value: "refuse", Label: Text{"Không muốn trả lời", "Prefer not to say"}}}})
	question(c, "d2_amount").ShowIf = &Condition{Question: "d2_report", In: []string{"some"}}
	r := &indicator(c, "D2.1.1").Rule
	r.Question = "d2_report"
	r.Points = map[string]float64{"always": 0, "never": 100}
	r.Exclude = []string{"refuse"}
	r.FromNumber = &FromNumber{When: "some", Question: "d2_amount"}
}

func TestValidateCatalogue(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(c *Catalogue)
		wantErr string // "" for a valid catalogue
	}{
		{name: "mini as is", edit: func(c *Catalogue) {}},
		{
			name:    "empty version",
			edit:    func(c *Catalogue) { c.Version = "" },
			wantErr: "version is empty",
		},
		{
			name:    "published not a date",
			edit:    func(c *Catalogue) { c.Published = "1/1/2025" },
			wantErr: `published "1/1/2025" is not a date`,
		},
		{
			name: "applies_if on another rotating module",
			edit: func(c *Catalogue) {
				// D2.1.2 is measured on d2; d1_contact is only asked in d1.
				indicator(c, "D2.1.2").Rule.AppliesIf = &Condition{Question: "d1_contact", In: []string{"yes"}}
			},
			wantErr: `indicator "D2.1.2": applies_if refers to "d1_contact" in another rotating module`,
		},
		{
			name: "applies_if on core from a rotating module",
			edit: func(c *Catalogue) {
				indicator(c, "D2.1.2").Rule.AppliesIf = &Condition{Question: "c_proc", In: []string{"land"}}
			},
		},
		{
			name: "applies_if on a rotating module from core",
			edit: func(c *Catalogue) {
				indicator(c, "D1.2.1").Rule.AppliesIf = &Condition{Question: "d2_road", In: []string{"dirt"}}
			},
			wantErr: `indicator "D1.2.1": applies_if refers to "d2_road" in another rotating module`,
		},
		{
			name: "show_if on another rotating module",
			edit: func(c *Catalogue) {
				question(c, "d2_road").ShowIf = &Condition{Question: "d1_contact", In: []string{"yes"}}
			},
			wantErr: `question "d2_road": show_if refers to "d1_contact" in another rotating module`,
		},
		{
			name:    "points scale narrower than the points",
			edit:    func(c *Catalogue) { indicator(c, "D2.1.2").Rule.Scale.Max = 2 },
			wantErr: `indicator "D2.1.2": scale 1 to 2, want the range of the points, 1 to 3`,
		},
		{
			name:    "points scale wider than the points",
			edit:    func(c *Catalogue) { indicator(c, "D2.1.2").Rule.Scale.Min = 0 },
			wantErr: `indicator "D2.1.2": scale 0 to 3, want the range of the points, 1 to 3`,
		},
		{
			name: "points and scale rescaled together",
			edit: func(c *Catalogue) {
				r := &indicator(c, "D2.1.2").Rule
				r.Points = map[string]float64{"dirt": 0, "gravel": 50, "asphalt": 100}
				r.Scale.Min, r.Scale.Max = 0, 100
			},
		},
		{
			name:    "count scale not the number counted",
			edit:    func(c *Catalogue) { indicator(c, "D1.2.2").Rule.Scale.Max = 4 },
			wantErr: `indicator "D1.2.2": a count's scale is 0 to 3`,
		},
		{
			name:    "count scale not from zero",
			edit:    func(c *Catalogue) { indicator(c, "D1.2.2").Rule.Scale.Min = 1 },
			wantErr: `indicator "D1.2.2": a count's scale is 0 to 3`,
		},
		{
			name: "count of an exclusive option",
			edit: func(c *Catalogue) {
				r := &indicator(c, "D1.2.2").Rule
				r.Count = []string{"a", "b", "c", "none"}
				r.Scale.Max = 4
			},
			wantErr: `indicator "D1.2.2": counted value "none" is an exclusive option`,
		},
		{
			name: "count lists a value twice",
			edit: func(c *Catalogue) {
				r := &indicator(c, "D1.2.2").Rule
				r.Count = []string{"a", "b", "a"}
			},
			wantErr: `indicator "D1.2.2": counted value "a" is listed twice`,
		},
		{
			name: "scale options whole and in range",
			edit: func(c *Catalogue) {
				q := question(c, "c_sat")
				for _, v := range []string{"1", "2", "3", "4", "5"} {
					q.Options = append(q.Options, Option{Value: v, Label: Text{v, v}})
				}
			},
		},
		{
			name: "scale option out of range",
			edit: func(c *Catalogue) {
				question(c, "c_sat").Options = []Option{{Value: "1", Label: Text{"1", "1"}}, {Value: "6", Label: Text{"6", "6"}}}
			},
			wantErr: `question "c_sat": scale option "6" is not a whole number from 1 to 5`,
		},
		{
			name: "scale option not whole",
			edit: func(c *Catalogue) {
				question(c, "c_sat").Options = []Option{{Value: "1", Label: Text{"1", "1"}}, {Value: "2.5", Label: Text{"2.5", "2.5"}}}
			},
			wantErr: `question "c_sat": scale option "2.5" is not a whole number`,
		},
		{
			// Answers compare by FormatNumber, which writes 2 as "2".
			name: "scale option not in canonical form",
			edit: func(c *Catalogue) {
				question(c, "c_sat").Options = []Option{{Value: "1", Label: Text{"1", "1"}}, {Value: "02", Label: Text{"2", "2"}}}
			},
			wantErr: `question "c_sat": scale option "02" is not a whole number`,
		},
		{
			name:    "scale bounds not whole",
			edit:    func(c *Catalogue) { question(c, "c_sat").Max = fp(5.5) },
			wantErr: `question "c_sat": a scale needs whole-number min < max`,
		},
		{
			name:    "scale bounds too large to be exact",
			edit:    func(c *Catalogue) { question(c, "c_sat").Max = fp(1e300) },
			wantErr: `question "c_sat": a scale needs whole-number min < max`,
		},
		{
			name:    "blank agency name",
			edit:    func(c *Catalogue) { indicator(c, "D1.1.2").Agencies.Coordinating = []string{" "} },
			wantErr: `indicator "D1.1.2": an agency name is blank`,
		},
		{
			name:    "empty lead agency name",
			edit:    func(c *Catalogue) { indicator(c, "D1.1.1").Agencies.Lead = []string{""} },
			wantErr: `indicator "D1.1.1": an agency name is blank`,
		},
		{
			name: "agency twice in one role",
			edit: func(c *Catalogue) {
				indicator(c, "D1.1.1").Agencies.Lead = []string{"Sở Nội vụ", "Sở Nội vụ"}
			},
			wantErr: `indicator "D1.1.1": agency "Sở Nội vụ" is listed twice in one role`,
		},
		{
			name: "text question with options",
			edit: func(c *Catalogue) {
				question(c, "c_note").Options = []Option{{Value: "a", Label: Text{"A", "A"}}, {Value: "b", Label: Text{"B", "B"}}}
			},
			wantErr: `question "c_note": a text question has no options`,
		},
		{
			name:    "ratio with points",
			edit:    func(c *Catalogue) { indicator(c, "D1.2.1").Rule.Points = map[string]float64{"yes": 0, "no": 1} },
			wantErr: `indicator "D1.2.1": a ratio rule takes no points`,
		},
		{
			name:    "mean with a numerator",
			edit:    func(c *Catalogue) { indicator(c, "D1.2.3").Rule.Numerator = []string{"5"} },
			wantErr: `indicator "D1.2.3": a mean rule takes no numerator`,
		},
		{
			name:    "median with points",
			edit:    func(c *Catalogue) { indicator(c, "D2.1.1").Rule.Points = map[string]float64{"1": 1} },
			wantErr: `indicator "D2.1.1": a median rule takes no points`,
		},
		{
			name:    "show_if on a later question",
			edit:    func(c *Catalogue) { question(c, "c_proc").ShowIf = &Condition{Question: "c_paid", In: []string{"yes"}} },
			wantErr: `question c_proc show_if: question "c_paid" is unknown or comes later`,
		},
		{
			name:    "numerator not an answer",
			edit:    func(c *Catalogue) { indicator(c, "D1.1.1").Rule.Numerator = []string{"maybe"} },
			wantErr: `indicator "D1.1.1": numerator value "maybe" is not an answer of "d1_contact"`,
		},
		{
			name: "points on every point of a bare scale",
			edit: func(c *Catalogue) {
				r := &indicator(c, "D1.2.3").Rule
				r.Points = map[string]float64{"1": 0, "2": 0, "3": 1, "4": 2, "5": 2}
				r.Exclude = []string{}
				r.Scale = Scale{Min: 0, Max: 2, HigherIsBetter: true}
			},
		},
		{
			name: "bare scale point without points",
			edit: func(c *Catalogue) {
				r := &indicator(c, "D1.2.3").Rule
				r.Points = map[string]float64{"1": 0, "5": 4}
				r.Scale = Scale{Min: 0, Max: 4, HigherIsBetter: true}
			},
			wantErr: `indicator "D1.2.3": scale point 2 of "c_sat" has no points and is not excluded`,
		},
		{
			name: "bare scale point excluded",
			edit: func(c *Catalogue) {
				r := &indicator(c, "D1.2.3").Rule
				r.Points = map[string]float64{"1": 0, "5": 4}
				r.Exclude = []string{"2", "3", "4"}
				r.Scale = Scale{Min: 0, Max: 4, HigherIsBetter: true}
			},
		},
		{
			name:    "option without points",
			edit:    func(c *Catalogue) { indicator(c, "D2.1.2").Rule.Exclude = nil },
			wantErr: `indicator "D2.1.2": option "dk" of "d2_road" has no points and is not excluded`,
		},
		{
			name: "grid of two alike rows",
			edit: func(c *Catalogue) { addGrid(c, "c_paid", "c_paid2") },
		},
		{
			name: "grid rows apart",
			edit: func(c *Catalogue) {
				addGrid(c, "c_paid", "c_paid2")
				c.Questions = slices.Insert(c.Questions, 2, Question{ID: "c_x", Module: "core", Type: ShortText, MaxLength: 5, Text: Text{"x", "x"}})
			},
			wantErr: `grid "g": question "c_paid2" is not next to the grid's other questions`,
		},
		{
			name: "grid rows with other options",
			edit: func(c *Catalogue) {
				addGrid(c, "c_paid", "c_paid2")
				question(c, "c_paid2").Options[0].Label.Vi = "Có chứ"
			},
			wantErr: `grid "g": question "c_paid2" has other options than "c_paid"`,
		},
		{
			name:    "unknown grid",
			edit:    func(c *Catalogue) { question(c, "c_paid").Grid = "nope" },
			wantErr: `question "c_paid": unknown grid "nope"`,
		},
		{
			name:    "grid row not a single choice",
			edit:    func(c *Catalogue) { addGrid(c, "c_paid", "c_paid2"); question(c, "c_paid2").Type = MultipleChoice },
			wantErr: `question "c_paid2": a grid row must be a single choice`,
		},
		{
			name: "items rule",
			edit: func(c *Catalogue) {
				addGrid(c, "c_paid", "c_paid2")
				itemsRule(c, "D1.2.2", "c_paid", "c_paid2")
			},
		},
		{
			name: "items rule and a question",
			edit: func(c *Catalogue) {
				addGrid(c, "c_paid", "c_paid2")
				itemsRule(c, "D1.2.2", "c_paid", "c_paid2")
				indicator(c, "D1.2.2").Rule.Question = "c_paid"
			},
			wantErr: `indicator "D1.2.2": a rule has either a question or items, not both`,
		},
		{
			name: "items in two modules",
			edit: func(c *Catalogue) {
				addGrid(c, "c_paid", "c_paid2")
				itemsRule(c, "D1.2.2", "c_paid", "c_paid2")
				question(c, "c_paid2").Module = "d2"
			},
			wantErr: `indicator "D1.2.2": item "c_paid2" is in module "d2", not "core"`,
		},
		{
			name:    "item not a single choice",
			edit:    func(c *Catalogue) { itemsRule(c, "D1.2.2", "c_paid", "c_sat") },
			wantErr: `indicator "D1.2.2": item "c_sat" must be a single choice`,
		},
		{
			name: "items scale not 0 to 1",
			edit: func(c *Catalogue) {
				addGrid(c, "c_paid", "c_paid2")
				itemsRule(c, "D1.2.2", "c_paid", "c_paid2")
				indicator(c, "D1.2.2").Rule.Scale.Max = 2
			},
			wantErr: `indicator "D1.2.2": an items rule's scale is 0 to 1`,
		},
		{
			name: "items on a ratio",
			edit: func(c *Catalogue) {
				addGrid(c, "c_paid", "c_paid2")
				itemsRule(c, "D1.2.2", "c_paid", "c_paid2")
				indicator(c, "D1.2.2").Kind = KindRatio
			},
			wantErr: `indicator "D1.2.2": a ratio rule takes no items`,
		},
		{
			name: "from_number median",
			edit: func(c *Catalogue) { fromNumber(c) },
		},
		{
			name: "from_number question shown for other answers too",
			edit: func(c *Catalogue) {
				fromNumber(c)
				question(c, "d2_amount").ShowIf.In = []string{"some", "never"}
			},
			wantErr: `indicator "D2.1.1": from_number question "d2_amount" must be shown only when "d2_report" is "some"`,
		},
		{
			name: "from_number answer with points",
			edit: func(c *Catalogue) {
				fromNumber(c)
				indicator(c, "D2.1.1").Rule.Points["some"] = 5
			},
			wantErr: `indicator "D2.1.1": from_number.when "some" also has points or is excluded`,
		},
		{
			name: "from_number points outside the scale",
			edit: func(c *Catalogue) {
				fromNumber(c)
				indicator(c, "D2.1.1").Rule.Points["never"] = 500
			},
			wantErr: `indicator "D2.1.1": points 500 for "never" lie outside the scale`,
		},
		{
			name:    "median with points but no from_number",
			edit:    func(c *Catalogue) { fromNumber(c); indicator(c, "D2.1.1").Rule.FromNumber = nil },
			wantErr: `indicator "D2.1.1": a median rule takes no points`,
		},
		{
			name: "module condition",
			edit: func(c *Catalogue) {
				c.Modules[1].ShowIf = &Condition{Question: "c_proc", In: []string{"cert", "land"}}
			},
		},
		{
			name:    "module condition on a rotating module's question",
			edit:    func(c *Catalogue) { c.Modules[2].ShowIf = &Condition{Question: "d1_contact", In: []string{"yes"}} },
			wantErr: `module d2 show_if: "d1_contact" must belong to another always-asked module without a condition`,
		},
		{
			name:    "module condition on core",
			edit:    func(c *Catalogue) { c.Modules[0].ShowIf = &Condition{Question: "c_proc", In: []string{"cert"}} },
			wantErr: `module core show_if: the core module is always asked`,
		},
		{
			name:    "module condition on an answer that does not exist",
			edit:    func(c *Catalogue) { c.Modules[1].ShowIf = &Condition{Question: "c_proc", In: []string{"moon"}} },
			wantErr: `module d1 show_if: "moon" is not an answer of "c_proc"`,
		},
		{
			name:    "module heading without English",
			edit:    func(c *Catalogue) { c.Modules[1].Heading = &Text{Vi: "Phần tiếp theo"} },
			wantErr: `module "d1": heading needs Vietnamese and English`,
		},
		{
			name: "commune question",
			edit: func(c *Catalogue) {
				c.Questions = append(c.Questions, Question{ID: "c_home", Module: "core", Type: CommuneChoice, Text: Text{"Ở đâu?", "Where?"}})
			},
		},
		{
			name: "commune question with options",
			edit: func(c *Catalogue) {
				c.Questions = append(c.Questions, Question{ID: "c_home", Module: "core", Type: CommuneChoice, Text: Text{"Ở đâu?", "Where?"},
					Options: []Option{{Value: "26740", Label: Text{"Sài Gòn", "Sài Gòn"}}, {Value: "x", Label: Text{"x", "x"}}}})
			},
			wantErr: `question "c_home": a commune question takes no options or bounds`,
		},
		{
			name: "condition on a commune question",
			edit: func(c *Catalogue) {
				c.Questions = append(c.Questions,
					Question{ID: "c_home", Module: "core", Type: CommuneChoice, Text: Text{"Ở đâu?", "Where?"}},
					Question{ID: "c_more", Module: "core", Type: ShortText, MaxLength: 9, Text: Text{"?", "?"}, ShowIf: &Condition{Question: "c_home", In: []string{"26740"}}})
			},
			wantErr: `question c_more show_if: "26740" is not an answer of "c_home"`,
		},
		{
			name:    "comparable with itself",
			edit:    func(c *Catalogue) { indicator(c, "D1.1.1").Comparable = []string{"test.1"} },
			wantErr: `indicator "D1.1.1": comparable needs earlier versions, not "test.1"`,
		},
		{
			name:    "comparable twice",
			edit:    func(c *Catalogue) { indicator(c, "D1.1.1").Comparable = []string{"a", "a"} },
			wantErr: `indicator "D1.1.1": comparable lists "a" twice`,
		},
		{
			name:    "about neither",
			edit:    func(c *Catalogue) { indicator(c, "D1.1.1").About = "centre" },
			wantErr: `indicator "D1.1.1": about must be "service" or "locality"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := miniWith(t, tc.edit)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tc.wantErr == "":
				if c == nil {
					t.Fatal("got a nil catalogue, want one")
				}
			case err == nil:
				t.Fatalf("got no error, want one containing %q", tc.wantErr)
			case !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseCatalogueRejects(t *testing.T) {
	mini, err := os.ReadFile(miniFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		data    string
		wantErr bool
	}{
		{name: "mini", data: string(mini)},
		{name: "tiny", data: tinyCatalogue},
		{name: "tiny with 2025.2's forms", data: tinyCatalogue2},
		{name: "trailing whitespace", data: string(mini) + " \n\t\n"},
		{name: "trailing garbage", data: string(mini) + "x", wantErr: true},
		{name: "second object", data: string(mini) + string(mini), wantErr: true},
		{name: "trailing brace", data: string(mini) + "}", wantErr: true},
		{name: "trailing null", data: string(mini) + "\nnull", wantErr: true},
		{name: "unknown field", data: strings.Replace(string(mini), `"source":`, `"sauce": 1, "source":`, 1), wantErr: true},
		{name: "empty", data: "", wantErr: true},
		{name: "null", data: "null", wantErr: true},
		{name: "array", data: "[]", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCatalogue([]byte(tc.data))
			if tc.wantErr {
				if err == nil {
					t.Errorf("got catalogue %q, want an error", c.Version)
				}
				return
			}
			if err != nil {
				t.Errorf("got %v, want no error", err)
			}
		})
	}
}

// version returns mini.json as another version published on a given day.
func version(t *testing.T, v, published string) []byte {
	t.Helper()
	mini, err := os.ReadFile(miniFile)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(mini), `"version": "test.1"`, `"version": "`+v+`"`, 1)
	s = strings.Replace(s, `"published": "2025-01-01"`, `"published": "`+published+`"`, 1)
	if s == string(mini) {
		t.Fatal("version: mini.json no longer has the expected version and date")
	}
	return []byte(s)
}

func TestLoadCataloguesOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   map[string][]byte
		want    []string
		wantErr string
	}{
		{
			// The file names sort the other way round.
			name: "by published date, not file name",
			files: map[string][]byte{
				"cat/a.json": version(t, "2026.1", "2026-03-01"),
				"cat/b.json": version(t, "2025.1", "2025-10-01"),
				"cat/c.json": version(t, "2025.2", "2025-12-15"),
			},
			want: []string{"2025.1", "2025.2", "2026.1"},
		},
		{
			// Same day: version parts compare as numbers, 2 < 10.
			name: "same day by version",
			files: map[string][]byte{
				"cat/x.json": version(t, "2025.10", "2025-10-01"),
				"cat/y.json": version(t, "2025.2", "2025-10-01"),
				"cat/z.json": version(t, "2025.2.1", "2025-10-01"),
			},
			want: []string{"2025.2", "2025.2.1", "2025.10"},
		},
		{
			name: "duplicate version",
			files: map[string][]byte{
				"cat/a.json": version(t, "2025.1", "2025-10-01"),
				"cat/b.json": version(t, "2025.1", "2025-11-01"),
			},
			wantErr: `version "2025.1" is already published in cat/a.json`,
		},
		{
			name:    "no catalogue",
			files:   map[string][]byte{"cat/readme.txt": []byte("x")},
			wantErr: "no catalogue found",
		},
		{
			name:    "invalid file",
			files:   map[string][]byte{"cat/a.json": version(t, "2025.1", "2025-13-01")},
			wantErr: "cat/a.json: catalogue 2025.1 is invalid",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, data := range tc.files {
				fsys[name] = &fstest.MapFile{Data: data}
			}
			cs, err := loadCatalogues(fsys, "cat")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cs {
				got = append(got, c.Version)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"2025.1", "2025.1", 0},
		{"2025.1", "2025.2", -1},
		{"2025.10", "2025.9", 1},
		{"2025.1", "2025.1.1", -1},
		{"2026.1", "2025.12", 1},
		{"2025.1a", "2025.1b", -1},
		{"2025.01", "2025.1", -1}, // equal numbers, then the text decides
	} {
		t.Run(tc.a+"_"+tc.b, func(t *testing.T) {
			if got := compareVersions(tc.a, tc.b); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
			if got := compareVersions(tc.b, tc.a); got != -tc.want {
				t.Errorf("reversed: got %d, want %d", got, -tc.want)
			}
		})
	}
}

// TestRealCatalogue checks the embedded catalogues load and keep their
// look-up indexes consistent with their lists.
func TestRealCatalogue(t *testing.T) {
	cs, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		t.Run(c.Version, func(t *testing.T) {
			for _, ind := range c.Indicators() {
				got, ok := c.Indicator(ind.ID)
				if !ok || got != ind {
					t.Errorf("Indicator(%q): got %p, want %p", ind.ID, got, ind)
				}
			}
			for i := range c.Questions {
				q := &c.Questions[i]
				if got, ok := c.Question(q.ID); !ok || got != q {
					t.Errorf("Question(%q): got %p, want %p", q.ID, got, q)
				}
			}
			for i := range c.Modules {
				if got, ok := c.Module(c.Modules[i].ID); !ok || got != &c.Modules[i] {
					t.Errorf("Module(%q): got %p, want %p", c.Modules[i].ID, got, &c.Modules[i])
				}
			}
		})
	}
}

// changedBeyondRules lists the 2025.2 indicators whose rule and answer
// options still match 2025.1 but which are not comparable for a reason the
// mechanical check cannot see, with that reason.
var changedBeyondRules = map[string]string{
	"D4.1.3": "c_extra_payment now also names intermediaries (người làm dịch vụ trung gian)",
	"D4.1.4": "c_extra_payment now also names intermediaries",
	"D4.1.5": "c_extra_payment now also names intermediaries",
	"D4.4.5": "c_extra_payment now also names intermediaries",
	"D5.1.1": "the household question no longer counts today's visit",
	"D5.2.1": "the household question no longer counts today's visit",
	"D5.3.1": "the household question no longer counts today's visit",
	"D6.3.5": "households that cook with tap water are told to answer tap water",
	"D6.3.6": "households that cook with tap water are told to answer tap water",
	"D8.3.2": "asks about the city portal only, no longer the city's and the commune's",
}

// TestComparable checks every "comparable" claim of the catalogues
// mechanically against the earlier version: same kind, scale, question,
// skip logic and applies_if, and every earlier answer value playing the same
// part (numerator, denominator, excluded, points) under the same value
// (2025.1's merged "dk" under both "dk" and "refuse"). A new answer value
// must be excluded, from a question that was optional before (so that it
// takes the place of a skipped answer). Conversely an indicator that passes
// the check but is not comparable must say why in changedBeyondRules.
func TestComparable(t *testing.T) {
	cs, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	byVersion := map[string]*Catalogue{}
	for _, c := range cs {
		byVersion[c.Version] = c
	}
	for _, c := range cs {
		for _, ind := range c.Indicators() {
			for _, v := range ind.Comparable {
				t.Run(c.Version+"/"+ind.ID+"/"+v, func(t *testing.T) {
					if why := sameMeasure(byVersion[v], c, ind.ID); why != "" {
						t.Errorf("comparable with %s: got a different measure: %s", v, why)
					}
				})
			}
		}
	}
	c, prev := MustCatalogue(t, "2025.2"), MustCatalogue(t, "2025.1")
	for _, ind := range c.Indicators() {
		claimed := slices.Contains(ind.Comparable, prev.Version)
		same := sameMeasure(prev, c, ind.ID) == ""
		reason, listed := changedBeyondRules[ind.ID]
		switch {
		case !claimed && same && !listed:
			t.Errorf("%s: measured as in %s but not comparable; list it in changedBeyondRules with the reason", ind.ID, prev.Version)
		case listed && (claimed || !same):
			t.Errorf("%s: listed in changedBeyondRules (%s) but claimed comparable %v, mechanically the same %v", ind.ID, reason, claimed, same)
		}
	}
}

// sameMeasure returns "" when indicator id is measured the same way in old
// and cur, or what differs.
func sameMeasure(old, cur *Catalogue, id string) string {
	a, ok := old.Indicator(id)
	if !ok {
		return "no such indicator in " + old.Version
	}
	b, _ := cur.Indicator(id)
	ra, rb := &a.Rule, &b.Rule
	switch {
	case a.Kind != b.Kind:
		return fmt.Sprintf("kind %s, was %s", b.Kind, a.Kind)
	case ra.Scale != rb.Scale:
		return fmt.Sprintf("scale %+v, was %+v", rb.Scale, ra.Scale)
	case !slices.Equal(ra.Questions(), rb.Questions()):
		return fmt.Sprintf("questions %q, were %q", rb.Questions(), ra.Questions())
	case !sameCondition(ra.AppliesIf, rb.AppliesIf):
		return "applies_if differs"
	case (ra.FromNumber == nil) != (rb.FromNumber == nil) || ra.FromNumber != nil && *ra.FromNumber != *rb.FromNumber:
		return "from_number differs"
	}
	for _, qid := range ra.Questions() {
		qa, ok := old.Question(qid)
		qb, _ := cur.Question(qid)
		if !ok {
			return "question " + qid + " missing"
		}
		if why := sameQuestion(old, cur, qa, qb); why != "" {
			return why
		}
		if why := sameRoles(qa, qb, ra, rb); why != "" {
			return why
		}
	}
	return ""
}

func sameCondition(a, b *Condition) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Question == b.Question && slices.Equal(slices.Sorted(slices.Values(a.In)), slices.Sorted(slices.Values(b.In)))
}

// sameQuestion compares the type, bounds and skip logic (up the show_if
// chain) of a question in two versions.
func sameQuestion(old, cur *Catalogue, qa, qb *Question) string {
	switch {
	case qa.Type != qb.Type:
		return fmt.Sprintf("%s is %s, was %s", qb.ID, qb.Type, qa.Type)
	case (qa.Min == nil) != (qb.Min == nil) || qa.Min != nil && *qa.Min != *qb.Min,
		(qa.Max == nil) != (qb.Max == nil) || qa.Max != nil && *qa.Max != *qb.Max:
		return qb.ID + ": bounds differ"
	case !sameCondition(qa.ShowIf, qb.ShowIf):
		return qb.ID + ": show_if differs"
	case qa.ShowIf != nil:
		pa, _ := old.Question(qa.ShowIf.Question)
		pb, _ := cur.Question(qb.ShowIf.Question)
		return sameQuestion(old, cur, pa, pb)
	}
	return ""
}

// sameRoles checks that every answer of the old question plays the same part
// in the new rule.
func sameRoles(qa, qb *Question, ra, rb *Rule) string {
	role := func(r *Rule, v string) string {
		switch {
		case slices.Contains(r.Exclude, v):
			return "excluded"
		case len(r.Points) > 0:
			if p, ok := r.Points[v]; ok {
				return "points " + FormatNumber(p)
			}
			return "unscored"
		case len(r.Count) > 0:
			return fmt.Sprint("counted ", slices.Contains(r.Count, v))
		}
		return fmt.Sprint("numerator ", slices.Contains(r.Numerator, v))
	}
	matched := map[string]bool{}
	for _, o := range qa.Options {
		counterparts := []string{o.Value}
		if !qb.accepts(o.Value) {
			counterparts = nil
		}
		if o.Value == "dk" {
			counterparts = slices.DeleteFunc([]string{"dk", "refuse"}, func(v string) bool { return !qb.accepts(v) })
		}
		if len(counterparts) == 0 {
			return fmt.Sprintf("%s: answer %q has no counterpart", qb.ID, o.Value)
		}
		for _, v := range counterparts {
			matched[v] = true
			if ga, gb := role(ra, o.Value), role(rb, v); ga != gb {
				return fmt.Sprintf("%s: answer %q is %s, was %s as %q", qb.ID, v, gb, ga, o.Value)
			}
		}
	}
	for _, o := range qb.Options {
		if matched[o.Value] {
			continue
		}
		if role(rb, o.Value) != "excluded" || qa.Required {
			return fmt.Sprintf("%s: new answer %q is counted (%s)", qb.ID, o.Value, role(rb, o.Value))
		}
	}
	return ""
}

// TestCatalogueIndicatorFields checks what 2025.2 states per indicator in
// the file itself (not the defaults Validate fills in): about, a PAPI
// reference or "ours", and the context flag on exactly the three usage
// rates the review says are not performance.
func TestCatalogueIndicatorFields(t *testing.T) {
	data, err := catalogueFiles.ReadFile("catalogue/2025.2.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Dimensions []struct {
			Subdimensions []struct {
				Indicators []map[string]json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range raw.Dimensions {
		for _, sd := range d.Subdimensions {
			for _, ind := range sd.Indicators {
				n++
				var id, about, papi string
				_ = json.Unmarshal(ind["id"], &id)
				if err := json.Unmarshal(ind["about"], &about); err != nil || (about != "service" && about != "locality") {
					t.Errorf("%s: about: got %s, want \"service\" or \"locality\" written out", id, ind["about"])
				}
				_ = json.Unmarshal(ind["papi_item"], &papi)
				ours := strings.HasPrefix(papi, "ours")
				sourced := strings.HasPrefix(papi, "PAPI ") && (strings.Contains(papi, "[recalled") || strings.Contains(papi, "[verified: "))
				if !ours && !sourced {
					t.Errorf("%s: papi_item %q: want \"ours…\" or \"PAPI …\" with [recalled] or [verified: source]", id, papi)
				}
				_, context := ind["context"]
				if want := slices.Contains([]string{"D5.1.1", "D5.2.1", "D5.3.1"}, id); context != want {
					t.Errorf("%s: context: got %v, want %v", id, context, want)
				}
			}
		}
	}
	if n != 118 {
		t.Errorf("got %d indicators, want 118", n)
	}
	c := MustCatalogue(t, "2025.2")
	// Indicators about today's service read questions about it: core or the
	// d5 module; the others read the locality modules.
	for _, ind := range c.Indicators() {
		q, _ := c.Question(ind.Rule.Questions()[0])
		service := q.Module == CoreModule || q.Module == "d5"
		if got := ind.About == AboutService; got != service {
			t.Errorf("%s: about %s, but its question %s is in module %s", ind.ID, ind.About, q.ID, q.Module)
		}
	}
}

// TestVisitLength checks the visit lengths the form promises: with the
// rotating modules asked equally often, the median visit is at most 20
// questions and none is over 28 (core, one rotating module and the closing
// question; a grid row counts as a question).
func TestVisitLength(t *testing.T) {
	c := MustCatalogue(t, "2025.2")
	var typical []float64
	for _, m := range c.RotatingModules() {
		l := c.VisitLength([]string{m})
		lo, hi := l.Minutes()
		t.Logf("%-4s typical %4.1f  longest %2d  (%d–%d min)", m, l.Typical, l.Max, lo, hi)
		typical = append(typical, l.Typical)
		if l.Max > 28 {
			t.Errorf("module %s: longest visit %d questions, want at most 28", m, l.Max)
		}
		if l.Typical > float64(l.Max) || l.Typical < 1 {
			t.Errorf("module %s: typical %.1f, longest %d: want 1 ≤ typical ≤ longest", m, l.Typical, l.Max)
		}
	}
	slices.Sort(typical)
	median := typical[len(typical)/2]
	if len(typical)%2 == 0 {
		median = (typical[len(typical)/2-1] + typical[len(typical)/2]) / 2
	}
	if median > 20 {
		t.Errorf("median visit: got %.1f questions, want at most 20", median)
	}
}

// TestVisitLengthMini checks the arithmetic on mini.json: core asks c_proc,
// c_paid, c_sat and c_note, plus c_quality for two of c_proc's three
// answers; d1 adds d1_contact and, for one of its two answers, d1_good.
func TestVisitLengthMini(t *testing.T) {
	c := MustMini(t)
	for _, tc := range []struct {
		modules []string
		want    Length
	}{
		{[]string{CoreModule}, Length{Typical: 4 + 2.0/3, Max: 5}},
		{[]string{"d1"}, Length{Typical: 4 + 2.0/3 + 1.5, Max: 7}},
		{[]string{"d1", "d2"}, Length{Typical: 4 + 2.0/3 + 1.5 + 2, Max: 9}},
	} {
		got := c.VisitLength(tc.modules)
		if math.Abs(got.Typical-tc.want.Typical) > 1e-9 || got.Max != tc.want.Max {
			t.Errorf("%v: got %+v, want %+v", tc.modules, got, tc.want)
		}
	}
	// A multiple choice opens every question whose values it can hold.
	c = MustMiniWith(t, func(c *Catalogue) {
		c.Questions = append(c.Questions,
			Question{ID: "c_why_a", Module: "core", Type: ShortText, MaxLength: 9, Text: Text{"a", "a"}, ShowIf: &Condition{Question: "c_quality", In: []string{"a"}}},
			Question{ID: "c_why_b", Module: "core", Type: ShortText, MaxLength: 9, Text: Text{"b", "b"}, ShowIf: &Condition{Question: "c_quality", In: []string{"b"}}})
	})
	if got := c.VisitLength(nil); got.Max != 7 {
		t.Errorf("checklist opening two questions: got longest %d, want 7", got.Max)
	}
	if lo, hi := (Length{Typical: 19.4, Max: 28}).Minutes(); lo != 4 || hi != 6 {
		t.Errorf("Minutes: got %d–%d, want 4–6 (19.4 and 28 questions at %d s)", lo, hi, SecondsPerQuestion)
	}
}
