package survey

import (
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

// inputs builds rank inputs without standard errors; nil lo or hi means no
// intervals.
func inputs(s, lo, hi []*float64) []RankInput {
	out := make([]RankInput, len(s))
	for i := range s {
		out[i].Score = s[i]
		if lo != nil {
			out[i].CILow, out[i].CIHigh = lo[i], hi[i]
		}
	}
	return out
}

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
			got := Rank(inputs(tc.scores, nil, nil))
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
	got := Rank(inputs(s, lo, hi))
	for i, w := range want {
		if got[i].VersusAverage != w {
			t.Errorf("unit %d: got %q, want %q", i, got[i].VersusAverage, w)
		}
	}
	t.Run("interval touching the average", func(t *testing.T) {
		// Average (6 + 4)/2 = 5; [5, 7] and [3, 5] do not exclude it.
		got := Rank(inputs(scores(6, 4), scores(5, 3), scores(7, 5)))
		for i, s := range got {
			if s.VersusAverage != "not_different" {
				t.Errorf("unit %d: got %q, want not_different", i, s.VersusAverage)
			}
		}
	})
	t.Run("no intervals", func(t *testing.T) {
		for i, s := range Rank(inputs(scores(1, 9), nil, nil)) {
			if s.VersusAverage != "not_different" {
				t.Errorf("unit %d: got %q, want not_different", i, s.VersusAverage)
			}
		}
	})
}

func TestRankIntervals(t *testing.T) {
	t.Run("no uncertainty", func(t *testing.T) {
		for i, s := range Rank(inputs(scores(3, 9, 5, none), nil, nil)) {
			if s.RankLow != s.Rank || s.RankHigh != s.Rank {
				t.Errorf("unit %d: got rank %d in [%d, %d], want an interval of one rank", i, s.Rank, s.RankLow, s.RankHigh)
			}
		}
	})
	// Two units whose scores differ by d, each with se s: the lower one
	// ranks first in a share Φ(−d/(s√2)) of draws. With d/(s√2) = 1 that
	// is 15.9% (> 5%), so both intervals span [1, 2]; with 2.5 it is 0.6%
	// (< 5%), so each interval is its own rank.
	for _, tc := range []struct {
		name     string
		gap      float64
		wantHigh int // of the better unit
	}{{"overlapping", 1 * math.Sqrt2, 2}, {"apart", 2.5 * math.Sqrt2, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			got := Rank([]RankInput{{Score: fp(5 + tc.gap), SE: 1}, {Score: fp(5), SE: 1}})
			if got[0].Rank != 1 || got[0].RankLow != 1 || got[0].RankHigh != tc.wantHigh {
				t.Errorf("better unit: got rank %d in [%d, %d], want 1 in [1, %d]", got[0].Rank, got[0].RankLow, got[0].RankHigh, tc.wantHigh)
			}
			if got[1].Rank != 2 || got[1].RankLow != 3-tc.wantHigh || got[1].RankHigh != 2 {
				t.Errorf("worse unit: got rank %d in [%d, %d], want 2 in [%d, 2]", got[1].Rank, got[1].RankLow, got[1].RankHigh, 3-tc.wantHigh)
			}
		})
	}
	t.Run("deterministic", func(t *testing.T) {
		in := make([]RankInput, 50)
		for i := range in {
			in[i] = RankInput{Score: fp(float64(i % 17)), SE: 2}
		}
		a, b := Rank(in), Rank(in)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("two runs on the same input differ: %+v vs %+v", a[:3], b[:3])
		}
		for i, s := range a {
			if s.RankLow > s.Rank || s.RankHigh < s.Rank || s.RankLow < 1 || s.RankHigh > 50 {
				t.Errorf("unit %d: got rank %d outside [%d, %d] or the interval outside 1..50", i, s.Rank, s.RankLow, s.RankHigh)
			}
		}
	})
	t.Run("wider with more uncertainty", func(t *testing.T) {
		width := func(se float64) int {
			in := make([]RankInput, 20)
			for i := range in {
				in[i] = RankInput{Score: fp(float64(i)), SE: se}
			}
			s := Rank(in)[10]
			return s.RankHigh - s.RankLow
		}
		if a, b, c := width(0.3), width(1), width(3); !(a < b && b < c) {
			t.Errorf("rank interval widths at se .3, 1, 3: got %d, %d, %d, want increasing", a, b, c)
		}
	})
}

func TestRankBands(t *testing.T) {
	// Eight units 1 apart (9 … 2), se .01 except unit 1 (score 8, rank 2,
	// best) with se 1: it draws above 9 or below 7 in 16% of draws each, so
	// its 90% interval is [1, 3] and reaches high_average (rank 3); it
	// falls below 6 in only 2.3%, so units 3 to 7 keep their bands.
	in := make([]RankInput, 8)
	for i := range in {
		in[i] = RankInput{Score: fp(float64(9 - i)), SE: 0.01}
	}
	in[1].SE = 1
	got := Rank(in)
	if s := got[1]; s.RankLow != 1 || s.RankHigh != 3 || s.Band != "best" || s.BandFrom != "best" || s.BandTo != "high_average" || !s.BandUncertain {
		t.Errorf("uncertain unit: got rank [%d, %d] band %q from %q to %q uncertain %v, want [1, 3] best from best to high_average, uncertain",
			s.RankLow, s.RankHigh, s.Band, s.BandFrom, s.BandTo, s.BandUncertain)
	}
	for _, i := range []int{3, 4, 5, 6, 7} {
		if s := got[i]; s.BandUncertain || s.BandFrom != s.Band || s.BandTo != s.Band {
			t.Errorf("unit %d: got band %q from %q to %q uncertain %v, want a certain band", i, s.Band, s.BandFrom, s.BandTo, s.BandUncertain)
		}
	}
	t.Run("too few for bands", func(t *testing.T) {
		for i, s := range Rank(inputs(scores(1, 2, 3), nil, nil)) {
			if s.Band != "" || s.BandFrom != "" || s.BandTo != "" || s.BandUncertain {
				t.Errorf("unit %d: got bands %+v, want none below %d units", i, s, MinBanded)
			}
		}
	})
}
