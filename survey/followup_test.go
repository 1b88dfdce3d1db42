package survey

import (
	"fmt"
	"math"
	"reflect"
	"testing"
)

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
// (5.5 + 10)/2 = 7.75. Below target: B D1.1.1, C D1.1.2, A D1.2.1 and
// A D2.1.2; the upper ends of their 95% intervals (Wilson; Student t for
// D2.1.2 with t₂₉ = 2.045 and s² = 10/29) and the distances to target:
//
//	B D1.1.1  Wilson(20, 40) high .648005 → 6.832043, distance .467957
//	C D1.1.2  Wilson(8, 40) high .347573 → 4.128158, distance .021842
//	A D1.2.1  Wilson(12, 40) high .454300 → 5.088702, distance .636298
//	A D2.1.2  2 + 2.045·√(10/29/30) = 2.219247 → 6.486612, distance 1.263388
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

var abc = []Commune{
	{Code: "A", Name: "Phường An", Type: Phuong, FormerProvince: "Hồ Chí Minh"},
	{Code: "B", Name: "Xã Bình", Type: Xa, FormerProvince: "Bình Dương"},
	{Code: "C", Name: "Đặc khu Côn", Type: DacKhu, FormerProvince: "Bà Rịa - Vũng Tàu"},
}

// abcData is communeTallies as comparison input.
func abcData() map[string]CommuneData {
	out := map[string]CommuneData{}
	for code, t := range communeTallies() {
		out[code] = CommuneData{Tallies: t}
	}
	return out
}

// MustCompare compares A, B and C directly (no borrowing).
func MustCompare(t *testing.T, c *Catalogue) Comparison {
	t.Helper()
	cmp, err := Compare(c, abc, abcData(), CompareOptions{Policy: DefaultPolicy})
	if err != nil {
		t.Fatal(err)
	}
	return cmp
}

func TestTargets(t *testing.T) {
	cmp := MustCompare(t, MustMini(t))
	var scores []Scores
	for _, r := range cmp.Rows {
		scores = append(scores, r.Scores)
	}
	got := Targets(scores)
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
	distance                 float64
}

func items(l AgencyList) []item {
	var out []item
	for _, it := range l.Items {
		out = append(out, item{it.Commune, it.Indicator, it.Role, math.Round(it.Distance*1e6) / 1e6})
	}
	return out
}

func TestFollowup(t *testing.T) {
	c := MustMini(t)
	got := Followup(c, MustCompare(t, c), nil)
	if got.Rule != FollowupRule || got.Target != TargetAverage || got.Configured != 0 {
		t.Errorf("header: got rule %q, target %q, configured %d, want the rule, %q and 0", got.Rule.En, got.Target, got.Configured, TargetAverage)
	}

	// Agencies of the four weak cells (see communeTallies):
	//   D1.1.1: UBND cấp xã (implementing), Sở Nội vụ (lead)
	//   D1.1.2: UBND cấp xã, Sở Nội vụ, UBMTTQVN (coordinating)
	//   D1.2.1: UBND cấp xã, Thanh tra Thành phố
	//   D2.1.2: UBND cấp xã, Sở Xây dựng
	// Agencies sort by name (byte order: "UBM" < "UBN"); items by distance.
	want := map[string][]item{
		"Sở Nội vụ":           {{"B", "D1.1.1", RoleLead, 0.467957}, {"C", "D1.1.2", RoleLead, 0.021842}},
		"Sở Xây dựng":         {{"A", "D2.1.2", RoleLead, 1.263388}},
		"Thanh tra Thành phố": {{"A", "D1.2.1", RoleLead, 0.636298}},
		"UBMTTQVN":            {{"C", "D1.1.2", RoleCoordinating, 0.021842}},
		"UBND cấp xã": {
			{"A", "D2.1.2", RoleImplementing, 1.263388}, {"A", "D1.2.1", RoleImplementing, 0.636298},
			{"B", "D1.1.1", RoleImplementing, 0.467957}, {"C", "D1.1.2", RoleImplementing, 0.021842},
		},
	}
	order := []string{"Sở Nội vụ", "Sở Xây dựng", "Thanh tra Thành phố", "UBMTTQVN", "UBND cấp xã"}
	var agencies []string
	for _, l := range got.Agencies {
		agencies = append(agencies, l.Agency)
		if g, w := items(l), want[l.Agency]; !reflect.DeepEqual(g, w) {
			t.Errorf("%s: got %v, want %v", l.Agency, g, w)
		}
	}
	if !reflect.DeepEqual(agencies, order) {
		t.Errorf("agencies: got %q, want %q", agencies, order)
	}

	t.Run("item fields", func(t *testing.T) {
		it := got.Agencies[0].Items[0] // Sở Nội vụ, B D1.1.1
		// The target score 7.3 is, back on D1.1.1's 0–1 scale, a share of
		// (7.3 − 1) / 9 = 0.7, in the same unit as the value 0.5.
		want := FollowupItem{Commune: "B", CommuneName: "Xã Bình", Indicator: "D1.1.1", IndicatorName: "Tỷ lệ đã liên hệ", Kind: KindRatio,
			Value: 0.5, CILow: 0.351995, CIHigh: 0.648005, Score: 5.5, Target: 0.7, TargetScore: 7.3, Gap: 1.8, Distance: 0.467957,
			Estimate: EstimateDirect, Role: RoleLead, Tasks: "Nhiệm vụ 1"}
		if it.Commune != want.Commune || it.CommuneName != want.CommuneName || it.Indicator != want.Indicator || it.Estimate != want.Estimate ||
			it.IndicatorName != want.IndicatorName || it.Role != want.Role || it.Tasks != want.Tasks || it.Kind != want.Kind ||
			!near(it.Value, want.Value, 1e-12) || !near(it.Score, want.Score, 1e-12) || !near(it.CILow, want.CILow, 1e-6) || !near(it.CIHigh, want.CIHigh, 1e-6) ||
			!near(it.Target, want.Target, 1e-12) || !near(it.TargetScore, want.TargetScore, 1e-12) || !near(it.Gap, want.Gap, 1e-12) || !near(it.Distance, want.Distance, 1e-6) {
			t.Errorf("got %+v, want %+v", it, want)
		}
	})

	t.Run("overrides", func(t *testing.T) {
		// D1.1.1 target 9.5: A's point score 9.1 is below it, but its
		// interval reaches Wilson(36, 40) high .960420 → 9.643784, so A is
		// not listed; B (high 6.832043) is, at distance 2.667957. D1.1.2
		// target 1: nobody is below. D1.2.3 is shown nowhere: its target has
		// nothing to compare with.
		got := Followup(c, MustCompare(t, c), map[string]float64{"D1.1.1": 9.5, "D1.1.2": 1, "D1.2.3": 10})
		want := map[string][]item{
			"Sở Nội vụ":           {{"B", "D1.1.1", RoleLead, 2.667957}},
			"Sở Xây dựng":         {{"A", "D2.1.2", RoleLead, 1.263388}},
			"Thanh tra Thành phố": {{"A", "D1.2.1", RoleLead, 0.636298}},
			"UBND cấp xã": {
				{"B", "D1.1.1", RoleImplementing, 2.667957}, {"A", "D2.1.2", RoleImplementing, 1.263388},
				{"A", "D1.2.1", RoleImplementing, 0.636298},
			},
		}
		if len(got.Agencies) != len(want) || got.Configured != 3 {
			t.Errorf("agencies: got %d (configured %d), want %d (configured 3)", len(got.Agencies), got.Configured, len(want))
		}
		for _, l := range got.Agencies {
			if g, w := items(l), want[l.Agency]; !reflect.DeepEqual(g, w) {
				t.Errorf("%s: got %v, want %v", l.Agency, g, w)
			}
		}
	})

	t.Run("interval touching the target", func(t *testing.T) {
		// B's interval high for D1.1.1 as the target: its interval does not
		// lie entirely below, so B is not listed for D1.1.1.
		target := 1 + 9*0.6480047306653461
		for _, l := range Followup(c, MustCompare(t, c), map[string]float64{"D1.1.1": target}).Agencies {
			for _, it := range l.Items {
				if it.Indicator == "D1.1.1" {
					t.Errorf("%s: got %+v, want no D1.1.1 item", l.Agency, it)
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
		got := Followup(c2, MustCompare(t, c2), nil)
		for _, l := range got.Agencies {
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
		cmp, err := Compare(c, abc, nil, CompareOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := Followup(c, cmp, map[string]float64{"D1.1.1": 10}); len(got.Agencies) != 0 {
			t.Errorf("got %+v, want no lists", got)
		}
	})
}
