package survey

import (
	"os"
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
