package survey

import (
	"fmt"
	"math"
	"reflect"
	"testing"
)

// scores turns numbers into score pointers; NaN stands for nil.
func scores(xs ...float64) []*float64 {
	out := make([]*float64, len(xs))
	for i, x := range xs {
		if !math.IsNaN(x) {
			out[i] = fp(x)
		}
	}
	return out
}

var none = math.NaN()

func TestRankOrder(t *testing.T) {
	for _, tc := range []struct {
		name     string
		scores   []*float64
		wantRank []int
		wantBand []string
	}{
		{
			// Sorted: 7 (i1), 7 (i3), 5 (i0), 3 (i4); the tie shares rank 1
			// and the next rank is 3. Fewer than 8 scored: no bands.
			name:     "ties and nil",
			scores:   scores(5, 7, none, 7, 3),
			wantRank: []int{3, 1, 0, 1, 4},
			wantBand: []string{"", "", "", "", ""},
		},
		{
			name:     "nothing scored",
			scores:   scores(none, none),
			wantRank: []int{0, 0},
			wantBand: []string{"", ""},
		},
		{
			name:     "NaN is not scored",
			scores:   []*float64{fp(math.NaN()), fp(2)},
			wantRank: []int{0, 1},
			wantBand: []string{"", ""},
		},
		{
			// 7 scored and a nil: still too few for bands.
			name:     "seven scored",
			scores:   scores(1, 2, 3, 4, 5, 6, 7, none),
			wantRank: []int{7, 6, 5, 4, 3, 2, 1, 0},
			wantBand: []string{"", "", "", "", "", "", "", ""},
		},
		{
			// band = (rank−1)·4/8: ranks 1-2 → 0, 3-4 → 1, 5-6 → 2, 7-8 → 3.
			name:     "eight scored",
			scores:   scores(1, 8, 2, 7, 3, 6, 4, 5),
			wantRank: []int{8, 1, 7, 2, 6, 3, 5, 4},
			wantBand: []string{"poor", "best", "poor", "best", "low_average", "high_average", "low_average", "high_average"},
		},
		{
			// band = (rank−1)·4/9: 0,4,8 → 0; 12,16 → 1; 20,24 → 2;
			// 28,32 → 3 (integer division by 9): 3 best, then 2, 2, 2.
			name:     "nine scored",
			scores:   scores(9, 8, 7, 6, 5, 4, 3, 2, 1, none),
			wantRank: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 0},
			wantBand: []string{"best", "best", "best", "high_average", "high_average", "low_average", "low_average", "poor", "poor", ""},
		},
		{
			// Ranks 1 2 2 4 5 6 7 8: the tie at ranks 2-3 shares rank 2,
			// so both are best ((2−1)·4/8 = 0).
			name:     "tie across a band boundary",
			scores:   scores(9, 8, 8, 6, 5, 4, 3, 2),
			wantRank: []int{1, 2, 2, 4, 5, 6, 7, 8},
			wantBand: []string{"best", "best", "best", "high_average", "low_average", "low_average", "poor", "poor"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Rank(tc.scores, nil, nil)
			var ranks []int
			var bands []string
			for _, s := range got {
				ranks = append(ranks, s.Rank)
				bands = append(bands, s.Band)
			}
			if !reflect.DeepEqual(ranks, tc.wantRank) {
				t.Errorf("ranks: got %v, want %v", ranks, tc.wantRank)
			}
			if !reflect.DeepEqual(bands, tc.wantBand) {
				t.Errorf("bands: got %q, want %q", bands, tc.wantBand)
			}
			for i, s := range got {
				if tc.scores[i] == nil && s.VersusAverage != "" {
					t.Errorf("unit %d: got versus_average %q, want none for an unscored unit", i, s.VersusAverage)
				}
			}
		})
	}
}

func TestRankVersusAverage(t *testing.T) {
	// Average of the scored units: (8 + 5 + 2 + 5)/4 = 5.
	s := scores(8, 5, 2, 5, none)
	lo := scores(6, 4, 1, none, none)
	hi := scores(10, 6, 4, none, none)
	want := []string{
		"above",         // 6 > 5
		"not_different", // 4 ≤ 5 ≤ 6
		"below",         // 4 < 5
		"not_different", // no interval
		"",              // not scored
	}
	got := Rank(s, lo, hi)
	for i, w := range want {
		if got[i].VersusAverage != w {
			t.Errorf("unit %d: got %q, want %q", i, got[i].VersusAverage, w)
		}
	}
	t.Run("interval touching the average", func(t *testing.T) {
		// Average (6 + 4)/2 = 5; [5, 7] and [3, 5] do not exclude it.
		got := Rank(scores(6, 4), scores(5, 3), scores(7, 5))
		for i, s := range got {
			if s.VersusAverage != "not_different" {
				t.Errorf("unit %d: got %q, want not_different", i, s.VersusAverage)
			}
		}
	})
	t.Run("no intervals", func(t *testing.T) {
		for i, s := range Rank(scores(1, 9), nil, nil) {
			if s.VersusAverage != "not_different" {
				t.Errorf("unit %d: got %q, want not_different", i, s.VersusAverage)
			}
		}
	})
}

// communeTallies are hand tallies of mini.json for three communes. Only
// D1.1.1, D1.1.2, D1.2.1 and D2.1.2 are shown anywhere (N ≥ 30).
//
//	          A                 B                 C
//	D1.1.1    36/40 = .9 → 9.1  20/40 = .5 → 5.5  -
//	D1.1.2    16/32 = .5 → 5.5  (n 10)            8/40 = .2 → 2.8
//	D1.2.1    12/40 = .3 → 3.7  30/40 = .75 → 7.75 -
//	D2.1.2    60/30 = 2 → 5.5   90/30 = 3 → 10    -
//
// Targets (means over the communes where shown): D1.1.1 (9.1 + 5.5)/2 =
// 7.3, D1.1.2 (5.5 + 2.8)/2 = 4.15, D1.2.1 (3.7 + 7.75)/2 = 5.725, D2.1.2
// (5.5 + 10)/2 = 7.75. Below target: B D1.1.1 (gap 1.8), C D1.1.2 (1.35),
// A D1.2.1 (2.025), A D2.1.2 (2.25).
func communeTallies() map[string]map[string]Tally {
	return map[string]map[string]Tally{
		"A": {
			"D1.1.1": {N: 40, Sum: 36, SumSq: 36}, "D1.1.2": {N: 32, Sum: 16, SumSq: 16},
			"D1.2.1": {N: 40, Sum: 12, SumSq: 12}, "D2.1.2": {N: 30, Sum: 60, SumSq: 130},
		},
		"B": {
			"D1.1.1": {N: 40, Sum: 20, SumSq: 20}, "D1.1.2": {N: 10, Sum: 1, SumSq: 1},
			"D1.2.1": {N: 40, Sum: 30, SumSq: 30}, "D2.1.2": {N: 30, Sum: 90, SumSq: 270},
		},
		"C": {"D1.1.2": {N: 40, Sum: 8, SumSq: 8}},
	}
}

func perCommune(c *Catalogue) map[string]Scores {
	out := map[string]Scores{}
	for code, tallies := range communeTallies() {
		out[code] = c.Score(tallies, DefaultPolicy)
	}
	return out
}

func TestTargets(t *testing.T) {
	got := Targets(perCommune(MustMini(t)))
	want := map[string]float64{"D1.1.1": 7.3, "D1.1.2": 4.15, "D1.2.1": 5.725, "D2.1.2": 7.75}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for id, w := range want {
		if g, ok := got[id]; !ok || !near(g, w, 1e-12) {
			t.Errorf("%s: got %v, want %v", id, g, w)
		}
	}
}

// item is the part of a follow-up item a test checks.
type item struct {
	commune, indicator, role string
	gap                      float64
}

func items(l AgencyList) []item {
	var out []item
	for _, it := range l.Items {
		out = append(out, item{it.Commune, it.Indicator, it.Role, math.Round(it.Gap*1e9) / 1e9})
	}
	return out
}

func TestFollowup(t *testing.T) {
	c := MustMini(t)
	names := map[string]string{"A": "Phường An", "B": "Xã Bình", "C": "Đặc khu Côn"}
	got := c.Followup(perCommune(c), names, nil)

	// Agencies of the four weak cells (see communeTallies):
	//   D1.1.1: UBND cấp xã (implementing), Sở Nội vụ (lead)
	//   D1.1.2: UBND cấp xã, Sở Nội vụ, UBMTTQVN (coordinating)
	//   D1.2.1: UBND cấp xã, Thanh tra Thành phố
	//   D2.1.2: UBND cấp xã, Sở Xây dựng
	// Agencies sort by name (byte order: "UBM" < "UBN"); items by gap.
	want := map[string][]item{
		"Sở Nội vụ":           {{"B", "D1.1.1", RoleLead, 1.8}, {"C", "D1.1.2", RoleLead, 1.35}},
		"Sở Xây dựng":         {{"A", "D2.1.2", RoleLead, 2.25}},
		"Thanh tra Thành phố": {{"A", "D1.2.1", RoleLead, 2.025}},
		"UBMTTQVN":            {{"C", "D1.1.2", RoleCoordinating, 1.35}},
		"UBND cấp xã": {
			{"A", "D2.1.2", RoleImplementing, 2.25}, {"A", "D1.2.1", RoleImplementing, 2.025},
			{"B", "D1.1.1", RoleImplementing, 1.8}, {"C", "D1.1.2", RoleImplementing, 1.35},
		},
	}
	order := []string{"Sở Nội vụ", "Sở Xây dựng", "Thanh tra Thành phố", "UBMTTQVN", "UBND cấp xã"}
	var agencies []string
	for _, l := range got {
		agencies = append(agencies, l.Agency)
		if g, w := items(l), want[l.Agency]; !reflect.DeepEqual(g, w) {
			t.Errorf("%s: got %v, want %v", l.Agency, g, w)
		}
	}
	if !reflect.DeepEqual(agencies, order) {
		t.Errorf("agencies: got %q, want %q", agencies, order)
	}

	t.Run("item fields", func(t *testing.T) {
		var it FollowupItem
		for _, l := range got {
			if l.Agency == "Sở Nội vụ" {
				it = l.Items[0]
			}
		}
		// The target score 7.3 is, back on D1.1.1's 0–1 scale, a share of
		// (7.3 − 1) / 9 = 0.7, in the same unit as the value 0.5.
		want := FollowupItem{Commune: "B", CommuneName: "Xã Bình", Indicator: "D1.1.1", IndicatorName: "Tỷ lệ đã liên hệ", Kind: KindRatio,
			Value: 0.5, Score: 5.5, Target: 0.7, TargetScore: 7.3, Gap: 1.8, Role: RoleLead, Tasks: "Nhiệm vụ 1"}
		if it.Commune != want.Commune || it.CommuneName != want.CommuneName || it.Indicator != want.Indicator ||
			it.IndicatorName != want.IndicatorName || it.Role != want.Role || it.Tasks != want.Tasks || it.Kind != want.Kind ||
			!near(it.Value, want.Value, 1e-12) || !near(it.Score, want.Score, 1e-12) ||
			!near(it.Target, want.Target, 1e-12) || !near(it.TargetScore, want.TargetScore, 1e-12) || !near(it.Gap, want.Gap, 1e-12) {
			t.Errorf("got %+v, want %+v", it, want)
		}
	})

	t.Run("overrides", func(t *testing.T) {
		// D1.1.1 target 9.5: A (9.1, gap .4) and B (5.5, gap 4) are below.
		// D1.1.2 target 1: nobody is below. D1.2.3 is shown nowhere: its
		// target has nothing to compare with.
		got := c.Followup(perCommune(c), names, map[string]float64{"D1.1.1": 9.5, "D1.1.2": 1, "D1.2.3": 10})
		want := map[string][]item{
			"Sở Nội vụ":           {{"B", "D1.1.1", RoleLead, 4}, {"A", "D1.1.1", RoleLead, 0.4}},
			"Sở Xây dựng":         {{"A", "D2.1.2", RoleLead, 2.25}},
			"Thanh tra Thành phố": {{"A", "D1.2.1", RoleLead, 2.025}},
			"UBND cấp xã": {
				{"B", "D1.1.1", RoleImplementing, 4}, {"A", "D2.1.2", RoleImplementing, 2.25},
				{"A", "D1.2.1", RoleImplementing, 2.025}, {"A", "D1.1.1", RoleImplementing, 0.4},
			},
		}
		if len(got) != len(want) {
			t.Errorf("agencies: got %d, want %d", len(got), len(want))
		}
		for _, l := range got {
			if g, w := items(l), want[l.Agency]; !reflect.DeepEqual(g, w) {
				t.Errorf("%s: got %v, want %v", l.Agency, g, w)
			}
		}
	})

	t.Run("score equal to target", func(t *testing.T) {
		// A's own D1.2.1 score as the target: A is not below it, and B
		// (7.75) is above, so nobody follows D1.2.1 up.
		pc := perCommune(c)
		target := *find(t, pc["A"], "D1.2.1").Score
		for _, l := range c.Followup(pc, names, map[string]float64{"D1.2.1": target}) {
			for _, it := range l.Items {
				if it.Indicator == "D1.2.1" {
					t.Errorf("%s: got %+v, want no D1.2.1 item", l.Agency, it)
				}
			}
		}
	})

	t.Run("one item per agency per role", func(t *testing.T) {
		// UBND cấp xã also leads D1.1.1: B's weak D1.1.1 is on its list
		// twice, once per role, and on no list more than once per role.
		c2 := MustMiniWith(t, func(c *Catalogue) {
			ind := indicator(c, "D1.1.1")
			ind.Agencies.Lead = append(ind.Agencies.Lead, "UBND cấp xã")
		})
		got := c2.Followup(perCommune(c2), names, nil)
		for _, l := range got {
			seen := map[string]int{}
			for _, it := range l.Items {
				seen[fmt.Sprint(it.Commune, it.Indicator, it.Role)]++
			}
			for k, n := range seen {
				if n != 1 {
					t.Errorf("%s: got %s %d times, want once", l.Agency, k, n)
				}
			}
			if l.Agency == "UBND cấp xã" {
				if seen["BD1.1.1"+RoleImplementing] != 1 || seen["BD1.1.1"+RoleLead] != 1 {
					t.Errorf("UBND cấp xã: got %v, want B D1.1.1 as implementing and as lead", seen)
				}
			}
		}
	})

	t.Run("nothing shown", func(t *testing.T) {
		if got := c.Followup(map[string]Scores{"A": c.Score(nil, DefaultPolicy)}, names, map[string]float64{"D1.1.1": 10}); len(got) != 0 {
			t.Errorf("got %+v, want no lists", got)
		}
	})
}
