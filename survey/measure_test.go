package survey

import (
	"math"
	"reflect"
	"slices"
	"testing"
)

// observed turns observations into a map, failing on a repeated indicator.
func observed(t *testing.T, obs []Observation) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, o := range obs {
		if _, dup := out[o.Indicator]; dup {
			t.Errorf("indicator %s observed twice", o.Indicator)
		}
		out[o.Indicator] = o.X
	}
	return out
}

func TestObserve(t *testing.T) {
	c := MustMini(t)
	for _, tc := range []struct {
		name string
		v    Visit
		want map[string]float64
	}{
		{
			// D1.1.1 contact yes → 1; D1.1.2 good yes → 1; D1.2.1 paid
			// no → 1; D1.2.2 counts a and c → 2 (c_proc cert applies);
			// D1.2.3 the scale answer 4. Nothing of d2 (not asked).
			name: "core and d1, everything counts",
			v: Visit{Modules: []string{"core", "d1"}, Answers: Answers{
				"c_proc": "cert", "c_paid": "no", "c_quality": []string{"a", "c"}, "c_sat": 4.0,
				"d1_contact": "yes", "d1_good": "yes", "d2_amount": 10.0}},
			want: map[string]float64{"D1.1.1": 1, "D1.1.2": 1, "D1.2.1": 1, "D1.2.2": 2, "D1.2.3": 4},
		},
		{
			// Reverse-worded: paying extra is not in the numerator "no".
			name: "ratio outside the numerator",
			v:    Visit{Modules: []string{"core"}, Answers: Answers{"c_proc": "other", "c_paid": "yes", "c_sat": 1.0}},
			want: map[string]float64{"D1.2.1": 0, "D1.2.3": 1},
		},
		{
			// c_quality is shown for land, but D1.2.2 applies only to cert.
			name: "applies_if excludes",
			v:    Visit{Modules: []string{"core"}, Answers: Answers{"c_proc": "land", "c_quality": []string{"a", "b", "c"}, "c_sat": 2.0}},
			want: map[string]float64{"D1.2.3": 2},
		},
		{
			name: "dk excluded",
			v: Visit{Modules: []string{"core", "d1"}, Answers: Answers{
				"c_proc": "other", "c_paid": "dk", "c_sat": 3.0, "d1_contact": "yes", "d1_good": "dk"}},
			want: map[string]float64{"D1.1.1": 1, "D1.2.3": 3},
		},
		{
			// d1_good is hidden by d1_contact = no; its stray answer is not
			// measured (and D1.1.2 would not apply anyway).
			name: "hidden question not measured",
			v: Visit{Modules: []string{"core", "d1"}, Answers: Answers{
				"c_proc": "other", "c_sat": 3.0, "d1_contact": "no", "d1_good": "yes"}},
			want: map[string]float64{"D1.1.1": 0, "D1.2.3": 3},
		},
		{
			name: "count checklist, all items",
			v:    Visit{Modules: []string{"core"}, Answers: Answers{"c_proc": "cert", "c_quality": []string{"a", "b", "c"}, "c_sat": 5.0}},
			want: map[string]float64{"D1.2.2": 3, "D1.2.3": 5},
		},
		{
			// The exclusive "none" is not a counted item: 0 of 3.
			name: "count checklist, none",
			v:    Visit{Modules: []string{"core"}, Answers: Answers{"c_proc": "cert", "c_quality": []string{"none"}, "c_sat": 5.0}},
			want: map[string]float64{"D1.2.2": 0, "D1.2.3": 5},
		},
		{
			// Unanswered optional checklist: no observation, not a zero.
			name: "count checklist unanswered",
			v:    Visit{Modules: []string{"core"}, Answers: Answers{"c_proc": "cert", "c_sat": 5.0}},
			want: map[string]float64{"D1.2.3": 5},
		},
		{
			// asphalt has 3 points; d2_amount 250 is the median's value.
			name: "points and number",
			v:    Visit{Modules: []string{"d2"}, Answers: Answers{"c_proc": "other", "c_sat": 3.0, "d2_amount": 250.0, "d2_road": "asphalt"}},
			want: map[string]float64{"D1.2.3": 3, "D2.1.1": 250, "D2.1.2": 3},
		},
		{
			name: "points lowest, number zero",
			v:    Visit{Modules: []string{"d2"}, Answers: Answers{"c_proc": "other", "c_sat": 3.0, "d2_amount": 0.0, "d2_road": "dirt"}},
			want: map[string]float64{"D1.2.3": 3, "D2.1.1": 0, "D2.1.2": 1},
		},
		{
			name: "points dk excluded",
			v:    Visit{Modules: []string{"d2"}, Answers: Answers{"c_proc": "other", "c_sat": 3.0, "d2_road": "dk"}},
			want: map[string]float64{"D1.2.3": 3},
		},
		{
			// Stored answers of d2 on a visit that only asked core.
			name: "module not shown",
			v:    Visit{Modules: []string{"core"}, Answers: Answers{"c_proc": "other", "c_sat": 3.0, "d2_amount": 5.0, "d2_road": "dirt", "d1_contact": "yes"}},
			want: map[string]float64{"D1.2.3": 3},
		},
		{
			name: "no answers",
			v:    Visit{Modules: []string{"core", "d1", "d2"}},
			want: map[string]float64{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := c.Observe(tc.v)
			got := observed(t, obs)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			// Observations come in catalogue order.
			order := map[string]int{}
			for i, ind := range c.Indicators() {
				order[ind.ID] = i
			}
			for i := 1; i < len(obs); i++ {
				if order[obs[i-1].Indicator] >= order[obs[i].Indicator] {
					t.Errorf("order: got %s before %s, want catalogue order", obs[i-1].Indicator, obs[i].Indicator)
				}
			}
		})
	}
}

// TestObserveRatioOfMultipleChoice uses mini.json with D1.2.2 turned into a
// ratio: the share of cert users who chose b among the quality items.
func TestObserveRatioOfMultipleChoice(t *testing.T) {
	c := MustMiniWith(t, func(c *Catalogue) {
		r := &indicator(c, "D1.2.2").Rule
		r.Count = nil
		r.Numerator = []string{"b", "c"}
		r.Scale = Scale{Min: 0, Max: 1, HigherIsBetter: true}
		indicator(c, "D1.2.2").Kind = KindRatio
	})
	for _, tc := range []struct {
		name    string
		quality []string
		want    float64
	}{
		{"one of the numerator", []string{"a", "b"}, 1},
		{"both of the numerator", []string{"b", "c"}, 1}, // still 1, not 2
		{"other item only", []string{"a"}, 0},
		{"exclusive none", []string{"none"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := observed(t, c.Observe(Visit{Modules: []string{"core"}, Answers: Answers{"c_proc": "cert", "c_sat": 3.0, "c_quality": tc.quality}}))
			x, ok := got["D1.2.2"]
			if !ok || x != tc.want {
				t.Errorf("D1.2.2: got %v (observed %v), want %v", x, ok, tc.want)
			}
		})
	}
}

func TestObserveValidatedSubmission(t *testing.T) {
	// End to end: raw JSON → ValidateSubmission → Observe. A scale answer
	// sent as 4.0 is the number 4.
	c := MustMini(t)
	v, err := c.ValidateSubmission(Submission{Modules: []string{"core", "d2"}, Answers: raw(
		"c_proc", `"cert"`, "c_paid", `"no"`, "c_quality", `["b"]`, "c_sat", `4.0`, "d2_amount", `35`, "d2_road", `"gravel"`)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"D1.2.1": 1, "D1.2.2": 1, "D1.2.3": 4, "D2.1.1": 35, "D2.1.2": 2}
	if got := observed(t, c.Observe(v)); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestAssignModules(t *testing.T) {
	real := loadPlanCatalogue(t)
	mini := MustMini(t)
	for _, tc := range []struct {
		name  string
		c     *Catalogue
		start uint64
		runs  uint64 // the window is runs × the number of rotating modules
	}{
		{"real from 0", real, 0, 1},
		{"real from 5, 3 rounds", real, 5, 3},
		{"real from 1001, 10 rounds", real, 1001, 10},
		{"real across the uint64 wrap", real, math.MaxUint64 - 10, 4},
		{"mini from 0", mini, 0, 1},
		{"mini from 7, 5 rounds", mini, 7, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rot := tc.c.RotatingModules()
			if len(rot) == 0 {
				t.Fatal("no rotating modules")
			}
			count := map[string]uint64{}
			n := tc.runs * uint64(len(rot))
			for i := uint64(0); i < n; i++ {
				got := tc.c.AssignModules(tc.start + i) // wraps past MaxUint64
				if len(got) != 2 || got[0] != CoreModule {
					t.Fatalf("seq %d: got %q, want core and one rotating module", tc.start+i, got)
				}
				count[got[1]]++
			}
			if len(count) != len(rot) {
				t.Errorf("modules used: got %v, want all of %q", count, rot)
			}
			for _, m := range rot {
				if count[m] != tc.runs {
					t.Errorf("module %s: got %d visits, want %d", m, count[m], tc.runs)
				}
			}
		})
	}
	t.Run("consecutive visits differ", func(t *testing.T) {
		for seq := uint64(0); seq < 20; seq++ {
			a, b := real.AssignModules(seq), real.AssignModules(seq+1)
			if a[1] == b[1] {
				t.Errorf("seq %d and %d: both got %s, want different modules", seq, seq+1, a[1])
			}
		}
	})
	t.Run("no rotating modules", func(t *testing.T) {
		// Modules that do not rotate are asked at every visit.
		c := MustMiniWith(t, func(c *Catalogue) {
			for i := range c.Modules {
				c.Modules[i].Rotating = false
			}
		})
		if got, want := c.AssignModules(3), []string{CoreModule, "d1", "d2"}; !reflect.DeepEqual(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

// mustVisit25 validates a 2025.2 submission built from core25.
func mustVisit25(t *testing.T, c *Catalogue, modules []string, pairs ...string) Visit {
	t.Helper()
	v, err := c.ValidateSubmission(Submission{Modules: modules, Answers: core25(pairs...)})
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return v
}

// TestObserveGrid checks the items rule of the quality grid: the share of
// rated rows met, "Không rõ" and unanswered rows left out, the facilities
// row never counted, and no observation when nothing was rated.
func TestObserveGrid(t *testing.T) {
	c := MustCatalogue(t, "2025.2")
	d5 := []string{"core", "d5"}
	for _, tc := range []struct {
		name  string
		pairs []string
		want  map[string]float64 // grid indicators only
	}{
		{
			// Rated: posted, fees, polite, competent, forms, on time (6);
			// met: all but fees (5). no_harass is "not sure", guidance
			// unanswered, facilities not a PAPI criterion.
			name: "certification result collected",
			pairs: []string{"c_procedure", `"chung_thuc"`, "c_visit_purpose", `"collect"`, "c_result", `"received"`,
				"d5_q_posted", `"yes"`, "d5_q_fees", `"no"`, "d5_q_polite", `"yes"`, "d5_q_no_harass", `"unsure"`,
				"d5_q_competent", `"yes"`, "d5_q_forms", `"yes"`, "d5_q_on_time", `"yes"`, "d5_q_facilities", `"no"`},
			want: map[string]float64{"D5.1.2": 5.0 / 6, "D5.3.3": 5.0 / 6},
		},
		{
			name:  "land, one of two met",
			pairs: []string{"c_procedure", `"dat_dai"`, "d5_q_posted", `"yes"`, "d5_q_fees", `"no"`, "d5_q_facilities", `"yes"`},
			want:  map[string]float64{"D5.2.4": 0.5, "D5.3.3": 0.5},
		},
		{
			name:  "nothing rated",
			pairs: []string{"d5_q_posted", `"unsure"`, "d5_q_fees", `"unsure"`, "d5_q_facilities", `"yes"`},
			want:  map[string]float64{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]float64{}
			for id, x := range observed(t, c.Observe(mustVisit25(t, c, d5, tc.pairs...))) {
				if slices.Contains([]string{"D5.1.2", "D5.2.4", "D5.3.3"}, id) {
					got[id] = x
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	// A stray on-time answer on a visit that did not collect a result (a
	// stored answer, not a validated one) is not rated.
	v := Visit{Modules: d5, Answers: Answers{"c_residence": "here", "c_procedure": "ho_tich", "c_visit_purpose": "submit",
		"c_many_doors": "no", "c_satisfaction": 4.0, "d5_q_posted": "yes", "d5_q_on_time": "no"}}
	if got := observed(t, c.Observe(v))["D5.3.3"]; got != 1 {
		t.Errorf("hidden on-time row: got D5.3.3 = %v, want 1 (only the posted row rated)", got)
	}
}

// TestObserveFromNumber checks D4.4.3: would report whatever the amount is
// 0, never 100 (the top of the scale), an amount is itself, capped at 100.
func TestObserveFromNumber(t *testing.T) {
	c := MustCatalogue(t, "2025.2")
	d4 := []string{"core", "d4"}
	for _, tc := range []struct {
		name   string
		pairs  []string
		want   float64
		counts bool
	}{
		{"whatever the amount", []string{"d4_report_if_asked", `"any_amount"`}, 0, true},
		{"never", []string{"d4_report_if_asked", `"never"`}, 100, true},
		{"from 20 million", []string{"d4_report_if_asked", `"above_amount"`, "d4_report_amount", `20`}, 20, true},
		{"from 500 million, capped", []string{"d4_report_if_asked", `"above_amount"`, "d4_report_amount", `500`}, 100, true},
		{"amount not given", []string{"d4_report_if_asked", `"above_amount"`}, 0, false},
		{"refused", []string{"d4_report_if_asked", `"refuse"`}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, ok := observed(t, c.Observe(mustVisit25(t, c, d4, tc.pairs...)))["D4.4.3"]
			if ok != tc.counts || x != tc.want {
				t.Errorf("D4.4.3: got %v (counted %v), want %v (counted %v)", x, ok, tc.want, tc.counts)
			}
		})
	}
}

// TestCredits checks where a visit's observations count: service
// indicators for the commune visited, locality indicators for the commune
// the respondent lives in, and not at all for residents of other provinces;
// a 2025.1 visit, which did not ask, counts wholly for the commune visited.
func TestCredits(t *testing.T) {
	c := MustCatalogue(t, "2025.2")
	const visited, home = "26740", "26743"
	d1 := []string{"core", "d1"}
	// D1.1.1 (locality, d1) and D5.3.2, D5.3.4 (service, core).
	pairs := []string{"d1_know_democracy_law", `"yes"`}
	service := []string{"D5.3.2", "D5.3.4"}
	locality := []string{"D1.1.1"}
	old := MustCatalogue(t, "2025.1")
	oldVisit, err := old.ValidateSubmission(Submission{Modules: []string{"core", "d1"}, Answers: raw(
		"c_procedure", `"ho_tich"`, "c_lives_here", `"no"`, "c_many_doors", `"no"`, "c_satisfaction", `4`, "d1_know_democracy_law", `"yes"`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cat  *Catalogue
		v    Visit
		want map[string][]string // commune → indicators credited
	}{
		{"lives here", c, mustVisit25(t, c, d1, pairs...),
			map[string][]string{visited: append(slices.Clone(locality), service...)}},
		{"lives in another commune", c, mustVisit25(t, c, d1, append(pairs, "c_residence", `"other"`, "c_residence_commune", `"`+home+`"`)...),
			map[string][]string{visited: service, home: locality}},
		{"names the commune visited as another", c, mustVisit25(t, c, d1, append(pairs, "c_residence", `"other"`, "c_residence_commune", `"`+visited+`"`)...),
			map[string][]string{visited: append(slices.Clone(locality), service...)}},
		{"lives outside the city", c, mustVisit25(t, c, d1, "c_residence", `"outside"`),
			map[string][]string{visited: service}},
		{"2025.1 visit, residence not asked", old, oldVisit,
			map[string][]string{visited: append(slices.Clone(locality), service...)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string][]string{}
			for _, cr := range tc.cat.Credits(tc.v, visited) {
				if _, dup := got[cr.Commune]; dup {
					t.Errorf("commune %s credited twice", cr.Commune)
				}
				got[cr.Commune] = []string{}
				for _, o := range cr.Observations {
					got[cr.Commune] = append(got[cr.Commune], o.Indicator)
				}
				slices.Sort(got[cr.Commune])
			}
			for k := range tc.want {
				slices.Sort(tc.want[k])
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
