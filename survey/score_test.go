package survey

import (
	"math"
	"reflect"
	"testing"
)

// near reports whether got is within tol of want.
func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// MustNear fails when got is nil or not within tol of want.
func MustNear(t *testing.T, what string, got *float64, want, tol float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil, want %.6g", what, want)
		return
	}
	if !near(*got, want, tol) {
		t.Errorf("%s: got %.6g, want %.6g", what, *got, want)
	}
}

// MustNil fails when got is not nil.
func MustNil[T any](t *testing.T, what string, got *T) {
	t.Helper()
	if got != nil {
		t.Errorf("%s: got %v, want nil", what, *got)
	}
}

func TestWilson(t *testing.T) {
	// z = 1.96, z² = 3.8415. centre = (p + z²/2n)/(1 + z²/n),
	// half = z·√(p(1−p)/n + z²/4n²)/(1 + z²/n).
	for _, tc := range []struct {
		name           string
		s, n           float64
		wantLo, wantHi float64
	}{
		// p = .8: centre = (.8 + .19207)/1.38415 = .71674,
		// half = 1.96·√(.016 + .0096037)/1.38415 = .22658.
		{"8 of 10", 8, 10, 0.4902, 0.9433},
		// p = 0: centre = .19207/1.38415 = .13877 = half, so lo = 0.
		{"0 of 10", 0, 10, 0, 0.2775},
		// p = 1: centre = 1.19207/1.38415 = .86123, half = .13877.
		{"10 of 10", 10, 10, 0.7225, 1},
		// p = .5: centre = .5, half = 1.96·√(.0025 + .000096)/1.038415 = .09617.
		{"50 of 100", 50, 100, 0.4038, 0.5962},
		// p = .75: centre = (.75 + .048019)/1.096037 = .72809,
		// half = 1.96·√(.0046875 + .00060024)/1.096037 = .13004.
		{"30 of 40", 30, 40, 0.5981, 0.8581},
		// No data: the whole range.
		{"n = 0", 0, 0, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi := Wilson(tc.s, tc.n)
			if !near(lo, tc.wantLo, 5e-5) || !near(hi, tc.wantHi, 5e-5) {
				t.Errorf("got [%.4f, %.4f], want [%.4f, %.4f]", lo, hi, tc.wantLo, tc.wantHi)
			}
		})
	}
}

func TestTQuantile975(t *testing.T) {
	// Student's t table, two-sided 95%.
	for _, tc := range []struct {
		df, want float64
	}{
		{1, 12.706}, {2, 4.303}, {7, 2.365}, {10, 2.228}, {29, 2.045}, {30, 2.042},
		{31, 2.040}, {40, 2.021}, {60, 2.000}, {120, 1.980}, {1000, 1.962}, {1e6, 1.960},
	} {
		t.Run(FormatNumber(tc.df), func(t *testing.T) {
			if got := TQuantile975(tc.df); !near(got, tc.want, 1e-3) {
				t.Errorf("got %.4f, want %.3f", got, tc.want)
			}
		})
	}
	t.Run("below one degree", func(t *testing.T) {
		for _, df := range []float64{0, 0.5, -3} {
			if got := TQuantile975(df); !math.IsInf(got, 1) {
				t.Errorf("df %v: got %v, want +Inf", df, got)
			}
		}
	})
	t.Run("decreasing", func(t *testing.T) {
		prev := math.Inf(1)
		for df := 1.0; df <= 200; df++ {
			got := TQuantile975(df)
			if got >= prev {
				t.Errorf("df %v: got %.5f, want below %.5f (df %v)", df, got, prev, df-1)
			}
			prev = got
		}
	})
}

func TestMeanInterval(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		n, sum, sumSq          float64
		wantLo, wantHi, wantSE float64
	}{
		// {2,4,4,4,5,5,7,9}: mean 40/8 = 5, Σx² = 232,
		// s² = (232 − 8·25)/7 = 4.571429, se = √(4.571429/8) = .755929,
		// t(7) = 2.365, half = 1.787772.
		{"eight values", 8, 40, 232, 3.212228, 6.787772, 0.755929},
		// {1, 3}: mean 2, s² = (10 − 8)/1 = 2, se = √(2/2) = 1, t(1) = 12.706.
		{"two values", 2, 4, 10, 2 - 12.706, 2 + 12.706, 1},
		// Constant data: no spread.
		{"constant", 3, 6, 12, 2, 2, 0},
		// One value: no interval can be estimated; the mean itself.
		{"one value", 1, 7, 49, 7, 7, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi, se := MeanInterval(tc.n, tc.sum, tc.sumSq)
			if !near(lo, tc.wantLo, 1e-6) || !near(hi, tc.wantHi, 1e-6) || !near(se, tc.wantSE, 1e-6) {
				t.Errorf("got [%.6f, %.6f] se %.6f, want [%.6f, %.6f] se %.6f", lo, hi, se, tc.wantLo, tc.wantHi, tc.wantSE)
			}
		})
	}
}

func TestMedianInterval(t *testing.T) {
	// The rule: lo = value at rank ⌊n/2 − 1.96·√n/2⌋, hi = value at rank
	// ⌈n/2 + 1 + 1.96·√n/2⌉, ranks clamped to 1..n.
	hundred := map[float64]float64{}
	for v := 1.0; v <= 100; v++ {
		hundred[v] = 1
	}
	twenty := map[float64]float64{}
	for v := 1.0; v <= 20; v++ {
		twenty[v] = 1
	}
	for _, tc := range []struct {
		name                       string
		hist                       map[float64]float64
		wantMedian, wantLo, wantHi float64
	}{
		// n = 5: median rank 3 → 3. half = 1.96·√5/2 = 2.1913;
		// lo rank ⌊2.5 − 2.19⌋ = 0 → 1, hi rank ⌈3.5 + 2.19⌉ = 6 → 5.
		{"odd", map[float64]float64{5: 1, 1: 1, 4: 1, 2: 1, 3: 1}, 3, 1, 5},
		// n = 10: 10 10 10 20 20 30 40 40 40 40. Median (rank 5 + rank 6)/2 =
		// (20 + 30)/2 = 25. half = 1.96·√10/2 = 3.099; lo rank ⌊5 − 3.099⌋ = 1
		// → 10; hi rank ⌈6 + 3.099⌉ = 10 → 40.
		{"even with ties", map[float64]float64{40: 4, 10: 3, 30: 1, 20: 2}, 25, 10, 40},
		// n = 35: 10×10, 10×20, 10×50, 5×80. Median rank 18 → 20.
		// half = 1.96·√35/2 = 5.798; lo rank ⌊17.5 − 5.798⌋ = 11 → 20,
		// hi rank ⌈18.5 + 5.798⌉ = 25 → 50.
		{"skewed", map[float64]float64{10: 10, 20: 10, 50: 10, 80: 5}, 20, 20, 50},
		// n = 100 of 1..100: median (50 + 51)/2; half = 9.8; ranks
		// ⌊50 − 9.8⌋ = 40 and ⌈51 + 9.8⌉ = 61, the textbook pair for n = 100.
		{"one to a hundred", hundred, 50.5, 40, 61},
		// n = 20 of 1..20: median (10 + 11)/2. half = 1.96·√20/2 = 4.383;
		// lo rank ⌊10 − 4.383⌋ = ⌊5.617⌋ = 5, hi rank ⌈11 + 4.383⌉ = 16.
		{"twenty", twenty, 10.5, 5, 16},
		// n = 2: median (1 + 3)/2; ranks clamp to 1 and 2.
		{"two", map[float64]float64{3: 1, 1: 1}, 2, 1, 3},
		{"all tied", map[float64]float64{7: 12}, 7, 7, 7},
		{"empty", map[float64]float64{}, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, lo, hi := MedianInterval(tc.hist)
			if m != tc.wantMedian || lo != tc.wantLo || hi != tc.wantHi {
				t.Errorf("got %v [%v, %v], want %v [%v, %v]", m, lo, hi, tc.wantMedian, tc.wantLo, tc.wantHi)
			}
		})
	}
}

func TestNormalise(t *testing.T) {
	up := Scale{Min: 0, Max: 1, HigherIsBetter: true}
	down := Scale{Min: 0, Max: 100}
	five := Scale{Min: 1, Max: 5, HigherIsBetter: true}
	for _, tc := range []struct {
		name string
		s    Scale
		x    float64
		want float64
	}{
		{"up min", up, 0, 1},
		{"up max", up, 1, 10},
		{"up middle", up, 0.5, 5.5},   // 1 + 9·.5
		{"up .8", up, 0.8, 8.2},       // 1 + 9·.8
		{"up below min", up, -0.2, 1}, // clamped
		{"up above max", up, 1.3, 10}, // clamped
		{"down min", down, 0, 10},
		{"down max", down, 100, 1},
		{"down 25", down, 25, 7.75},      // 1 + 9·(1 − .25)
		{"down above max", down, 150, 1}, // clamped
		{"down below min", down, -5, 10}, // clamped
		{"five-point 4", five, 4, 7.75},  // 1 + 9·3/4
		{"five-point 1", five, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Normalise(tc.x); !near(got, tc.want, 1e-12) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTally(t *testing.T) {
	var a Tally
	for _, x := range []float64{2, 4, 4} {
		a.Add(x, 1, true)
	}
	var b Tally
	b.Add(5, 1, true)
	b.Add(4, 1, false) // not in the histogram
	a.Merge(b)
	a.Merge(Tally{})
	// N = 5, Σ = 2+4+4+5+4 = 19, Σx² = 4+16+16+25+16 = 77.
	want := Tally{N: 5, W: 5, W2: 5, Sum: 19, SumSq: 77, Hist: map[float64]float64{2: 1, 4: 2, 5: 1}}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("got %+v, want %+v", a, want)
	}
	var c Tally
	c.Merge(Tally{N: 1, Sum: 3, SumSq: 9, Hist: map[float64]float64{3: 1}})
	if c.Hist[3] != 1 {
		t.Errorf("merge into empty: got hist %v, want {3: 1}", c.Hist)
	}
}

// miniTallies are hand-made tallies for every indicator of mini.json, all
// above the default MinN of 30.
func miniTallies() map[string]Tally {
	return map[string]Tally{
		"D1.1.1": {N: 40, Sum: 30, SumSq: 30},    // 30/40 = .75 → 1 + 9·.75 = 7.75
		"D1.1.2": {N: 32, Sum: 16, SumSq: 16},    // 16/32 = .5 → 5.5
		"D1.2.1": {N: 50, Sum: 40, SumSq: 40},    // 40/50 = .8 → 8.2
		"D1.2.2": {N: 30, Sum: 45, SumSq: 90},    // 45/30 = 1.5 of 0..3 → 1 + 9·.5 = 5.5
		"D1.2.3": {N: 60, Sum: 240, SumSq: 1000}, // 240/60 = 4 of 1..5 → 7.75
		"D1.2.9": {N: 99, Sum: 99, SumSq: 99},    // not an indicator: ignored
		"D2.1.1": {N: 35, Sum: 900, SumSq: 40000, // median 20 of 0..100, lower better → 1 + 9·.8 = 8.2
			Hist: map[float64]float64{10: 10, 20: 10, 50: 10, 80: 5}},
		"D2.1.2": {N: 40, Sum: 100, SumSq: 270}, // 100/40 = 2.5 of 1..3 → 1 + 9·.75 = 7.75
	}
}

// find returns the result of one indicator.
func find(t *testing.T, s Scores, id string) IndicatorResult {
	t.Helper()
	for _, d := range s.Dimensions {
		for _, sd := range d.Subdimensions {
			for _, ir := range sd.Indicators {
				if ir.ID == id {
					return ir
				}
			}
		}
	}
	t.Fatalf("indicator %s not in the scores", id)
	return IndicatorResult{}
}

func TestScoreAllShown(t *testing.T) {
	c := MustMini(t)
	s := c.Score(miniTallies(), DefaultPolicy)

	for _, tc := range []struct {
		id        string
		value     float64
		score     float64
		n         int
		numerator *float64
	}{
		{"D1.1.1", 0.75, 7.75, 40, fp(30)},
		{"D1.1.2", 0.5, 5.5, 32, fp(16)},
		{"D1.2.1", 0.8, 8.2, 50, fp(40)},
		{"D1.2.2", 1.5, 5.5, 30, fp(45)},
		{"D1.2.3", 4, 7.75, 60, fp(240)},
		{"D2.1.1", 20, 8.2, 35, nil}, // a median has no numerator
		{"D2.1.2", 2.5, 7.75, 40, fp(100)},
	} {
		t.Run(tc.id, func(t *testing.T) {
			ir := find(t, s, tc.id)
			if ir.Suppressed {
				t.Errorf("suppressed: got true, want false")
			}
			MustNear(t, "value", ir.Value, tc.value, 1e-12)
			MustNear(t, "score", ir.Score, tc.score, 1e-12)
			if ir.N == nil || *ir.N != tc.n {
				t.Errorf("n: got %v, want %d", ir.N, tc.n)
			}
			MustNear(t, "denominator", ir.Denominator, float64(tc.n), 0)
			if tc.numerator == nil {
				MustNil(t, "numerator", ir.Numerator)
			} else {
				MustNear(t, "numerator", ir.Numerator, *tc.numerator, 0)
			}
			if ir.CILow == nil || ir.CIHigh == nil || *ir.CILow > *ir.Value || *ir.CIHigh < *ir.Value {
				t.Errorf("interval: got [%v, %v], want it around %v", ir.CILow, ir.CIHigh, tc.value)
			}
		})
	}
	t.Run("intervals", func(t *testing.T) {
		// Wilson(30, 40), see TestWilson.
		ir := find(t, s, "D1.1.1")
		MustNear(t, "D1.1.1 ci_low", ir.CILow, 0.5981, 5e-5)
		MustNear(t, "D1.1.1 ci_high", ir.CIHigh, 0.8581, 5e-5)
		// s² = (1000 − 60·16)/59 = .677966, se = √(.677966/60) = .106299,
		// t(59) = 2.001, half = .212703.
		ir = find(t, s, "D1.2.3")
		MustNear(t, "D1.2.3 ci_low", ir.CILow, 3.787297, 1e-4)
		MustNear(t, "D1.2.3 ci_high", ir.CIHigh, 4.212703, 1e-4)
		// See TestMedianInterval "skewed".
		ir = find(t, s, "D2.1.1")
		MustNear(t, "D2.1.1 ci_low", ir.CILow, 20, 0)
		MustNear(t, "D2.1.1 ci_high", ir.CIHigh, 50, 0)
	})

	// D1 has k = 2 sub-dimensions.
	// D1.1: mean (7.75 + 5.5)/2 = 6.625, score 6.625/2 = 3.3125.
	// D1.2: mean (8.2 + 5.5 + 7.75)/3 = 7.15, score 7.15/2 = 3.575.
	// D1 = 3.3125 + 3.575 = 6.8875.
	// D2 has k = 1: D2.1 mean (8.2 + 7.75)/2 = 7.975 = D2.
	// Total = 6.8875 + 7.975 = 14.8625.
	if len(s.Dimensions) != 2 {
		t.Fatalf("dimensions: got %d, want 2", len(s.Dimensions))
	}
	d1, d2 := s.Dimensions[0], s.Dimensions[1]
	MustNear(t, "D1.1", d1.Subdimensions[0].Score, 3.3125, 1e-12)
	MustNear(t, "D1.2", d1.Subdimensions[1].Score, 3.575, 1e-12)
	MustNear(t, "D1", d1.Score, 6.8875, 1e-12)
	MustNear(t, "D2.1", d2.Subdimensions[0].Score, 7.975, 1e-12)
	MustNear(t, "D2", d2.Score, 7.975, 1e-12)
	MustNear(t, "total", s.Total, 14.8625, 1e-12)
	if d1.Scored != 5 || d2.Scored != 2 {
		t.Errorf("indicators scored: got %d and %d, want 5 and 2", d1.Scored, d2.Scored)
	}
	// D2's interval. Median se = (50 − 20)/(2·1.96) = 7.653061, on the 1-10
	// scale ·9/100 = .688776. D2.1.2: s² = (270 − 40·6.25)/39 = .512821,
	// se = √(.512821/40) = .113228, ·9/2 = .509525. D2.1 se =
	// √(.688776² + .509525²)/2 = .428377; D2 = 7.975 ± 1.96·.428377.
	MustNear(t, "D2 ci_low", d2.CILow, 7.135381, 1e-6)
	MustNear(t, "D2 ci_high", d2.CIHigh, 8.814619, 1e-6)
	for _, d := range s.Dimensions {
		if d.CILow == nil || d.CIHigh == nil || *d.CILow > *d.Score || *d.CIHigh < *d.Score || *d.CILow < 1 || *d.CIHigh > 10 {
			t.Errorf("%s interval: got [%v, %v], want it around %v within 1..10", d.ID, d.CILow, d.CIHigh, *d.Score)
		}
	}
	if s.TotalCILow == nil || s.TotalCIHigh == nil || *s.TotalCILow >= *s.Total || *s.TotalCIHigh <= *s.Total {
		t.Errorf("total interval: got [%v, %v], want it around %v", s.TotalCILow, s.TotalCIHigh, *s.Total)
	}
}

func TestScoreSuppression(t *testing.T) {
	c := MustMini(t)
	tallies := miniTallies()
	tallies["D1.1.1"] = Tally{N: 29, Sum: 20, SumSq: 20} // under MinN: count only
	tallies["D1.1.2"] = Tally{N: 4, Sum: 4, SumSq: 4}    // under HideBelow: nothing
	for _, p := range []struct {
		name string
		p    Policy
	}{{"default", DefaultPolicy}, {"zero value", Policy{}}, {"negative", Policy{MinN: -1, HideBelow: -1}}} {
		t.Run(p.name, func(t *testing.T) {
			s := c.Score(tallies, p.p)

			ir := find(t, s, "D1.1.1")
			if !ir.Suppressed {
				t.Errorf("D1.1.1 suppressed: got false, want true")
			}
			if ir.N == nil || *ir.N != 29 {
				t.Errorf("D1.1.1 n: got %v, want 29", ir.N)
			}
			MustNear(t, "D1.1.1 denominator", ir.Denominator, 29, 0)
			MustNil(t, "D1.1.1 value", ir.Value)
			MustNil(t, "D1.1.1 numerator", ir.Numerator)
			MustNil(t, "D1.1.1 score", ir.Score)
			MustNil(t, "D1.1.1 ci_low", ir.CILow)
			MustNil(t, "D1.1.1 ci_high", ir.CIHigh)

			ir = find(t, s, "D1.1.2")
			if !ir.Suppressed {
				t.Errorf("D1.1.2 suppressed: got false, want true")
			}
			MustNil(t, "D1.1.2 n", ir.N)
			MustNil(t, "D1.1.2 denominator", ir.Denominator)
			MustNil(t, "D1.1.2 value", ir.Value)

			// D1.1 has nothing shown; D1 has 3 of 5 shown (2·3 ≥ 5), so it is
			// scored as k · mean of its scored sub-dimension scores =
			// D1.2's mean 7.15. Total = 7.15 + 7.975 = 15.125.
			d1 := s.Dimensions[0]
			MustNil(t, "D1.1", d1.Subdimensions[0].Score)
			MustNear(t, "D1.2", d1.Subdimensions[1].Score, 3.575, 1e-12)
			MustNear(t, "D1", d1.Score, 7.15, 1e-12)
			if d1.Scored != 3 {
				t.Errorf("D1 scored: got %d, want 3", d1.Scored)
			}
			MustNear(t, "total", s.Total, 15.125, 1e-12)
		})
	}
	t.Run("boundaries", func(t *testing.T) {
		tallies := miniTallies()
		tallies["D1.1.1"] = Tally{N: 30, Sum: 15, SumSq: 15} // exactly MinN: shown
		tallies["D1.1.2"] = Tally{N: 5, Sum: 5, SumSq: 5}    // exactly HideBelow: count shown
		s := c.Score(tallies, Policy{})
		ir := find(t, s, "D1.1.1")
		MustNear(t, "D1.1.1 value", ir.Value, 0.5, 0)
		ir = find(t, s, "D1.1.2")
		if !ir.Suppressed || ir.N == nil || *ir.N != 5 {
			t.Errorf("D1.1.2: got suppressed %v n %v, want suppressed with n 5", ir.Suppressed, ir.N)
		}
	})
	t.Run("custom policy", func(t *testing.T) {
		s := c.Score(tallies, Policy{MinN: 10, HideBelow: 2})
		// 20/29 is shown under MinN 10; 4 is still under MinN.
		MustNear(t, "D1.1.1 value", find(t, s, "D1.1.1").Value, 20.0/29, 1e-12)
		ir := find(t, s, "D1.1.2")
		if !ir.Suppressed || ir.N == nil || *ir.N != 4 {
			t.Errorf("D1.1.2: got suppressed %v n %v, want suppressed with n 4", ir.Suppressed, ir.N)
		}
	})
}

func TestScoreDimensionNotScored(t *testing.T) {
	c := MustMini(t)
	tallies := miniTallies()
	// D1: only D1.2.2 and D1.2.3 are shown, 2 of 5 (2·2 < 5).
	delete(tallies, "D1.1.1")
	delete(tallies, "D1.1.2")
	tallies["D1.2.1"] = Tally{N: 12, Sum: 6, SumSq: 6}
	// D2: D2.1.2 alone is exactly half (2·1 ≥ 2), so D2 is scored.
	delete(tallies, "D2.1.1")
	s := c.Score(tallies, DefaultPolicy)

	d1, d2 := s.Dimensions[0], s.Dimensions[1]
	MustNil(t, "D1", d1.Score)
	MustNil(t, "D1 ci_low", d1.CILow)
	MustNil(t, "D1 ci_high", d1.CIHigh)
	if d1.Scored != 2 {
		t.Errorf("D1 scored: got %d, want 2", d1.Scored)
	}
	// The sub-dimension itself is still shown: (5.5 + 7.75)/2/2 = 3.3125.
	MustNear(t, "D1.2", d1.Subdimensions[1].Score, 3.3125, 1e-12)
	MustNear(t, "D2", d2.Score, 7.75, 1e-12)
	// Partial dimensions are never summed.
	MustNil(t, "total", s.Total)
	MustNil(t, "total ci_low", s.TotalCILow)
	MustNil(t, "total ci_high", s.TotalCIHigh)

	t.Run("no data", func(t *testing.T) {
		s := c.Score(nil, DefaultPolicy)
		for _, d := range s.Dimensions {
			MustNil(t, d.ID, d.Score)
		}
		MustNil(t, "total", s.Total)
		if len(s.Dimensions) != 2 || len(s.Dimensions[0].Subdimensions) != 2 || len(s.Dimensions[0].Subdimensions[1].Indicators) != 3 {
			t.Errorf("shape: got %+v, want every dimension, sub-dimension and indicator listed", s.Dimensions)
		}
	})
}

func TestChanges(t *testing.T) {
	t.Run("constructed", func(t *testing.T) {
		// Total: 50 vs 47, se 1 and 1: 1.96·√2 = 2.772 < 3, significant.
		// D1: 5 vs 4.5, se .2 and .2: 1.96·√.08 = .554 > .5, not.
		// D2: 6 vs 4, se .5 and 0: .98 < 2, significant.
		// D3: not scored now.
		cur := Scores{Total: fp(50), totalSE: 1, Dimensions: []DimensionResult{
			{ID: "D1", Score: fp(5), se: 0.2}, {ID: "D2", Score: fp(6), se: 0.5}, {ID: "D3"}}}
		prev := Scores{Total: fp(47), totalSE: 1, Dimensions: []DimensionResult{
			{ID: "D1", Score: fp(4.5), se: 0.2}, {ID: "D2", Score: fp(4)}, {ID: "D3", Score: fp(7)}}}
		got := Changes(cur, prev)
		want := []struct {
			id          string
			prev, ch    *float64
			significant bool
		}{
			{"total", fp(47), fp(3), true},
			{"D1", fp(4.5), fp(0.5), false},
			{"D2", fp(4), fp(2), true},
			{"D3", fp(7), nil, false},
		}
		if len(got) != len(want) {
			t.Fatalf("got %d changes, want %d", len(got), len(want))
		}
		for i, w := range want {
			g := got[i]
			if g.ID != w.id || g.Significant != w.significant {
				t.Errorf("change %d: got %s significant %v, want %s significant %v", i, g.ID, g.Significant, w.id, w.significant)
			}
			MustNear(t, w.id+" previous", g.Previous, *w.prev, 1e-12)
			if w.ch == nil {
				MustNil(t, w.id+" change", g.Change)
			} else {
				MustNear(t, w.id+" change", g.Change, *w.ch, 1e-12)
			}
		}
	})
	t.Run("from scores", func(t *testing.T) {
		c := MustMini(t)
		same := c.Score(miniTallies(), DefaultPolicy)
		for _, ch := range Changes(same, same) {
			if ch.Change == nil || *ch.Change != 0 || ch.Significant {
				t.Errorf("%s against itself: got change %v significant %v, want 0, false", ch.ID, ch.Change, ch.Significant)
			}
		}
		// The spread of every tally is unchanged below, so D1's se is the
		// same in both periods. Indicator se on the 1-10 scale: D1.1.1
		// √(.75·.25/40)·9 = .616188, D1.1.2 √(.25/32)·9 = .795495, D1.2.1
		// √(.16/50)·9 = .509117, D1.2.2 √((90 − 67.5)/29/30)·9/3 = .482451,
		// D1.2.3 √(40/59/60)·9/4 = .239172. D1.1 se = √(.616² + .795²)/2 =
		// .503115, D1.2 se = √(.509² + .482² + .239²)/3 = .247018, D1 se =
		// √(.503² + .247²)/2 = .280242. A change is significant beyond
		// 1.96·√2·.280242 = .776792.
		for _, tc := range []struct {
			name        string
			d123        Tally
			wantChange  float64
			significant bool
		}{
			// D1.2.3 mean 4 → 2 (Σx² = 40 + 60·4): score 7.75 → 3.25, D1.2
			// falls by 4.5/3 = 1.5 and D1 (= D1.1 + D1.2) by 1.5/2 = .75.
			{"fall of .75", Tally{N: 60, Sum: 120, SumSq: 280}, -0.75, false},
			// Mean 4 → 1.5 (Σx² = 40 + 60·2.25): 7.75 → 2.125, D1 falls by
			// 5.625/3/2 = .9375.
			{"fall of .9375", Tally{N: 60, Sum: 90, SumSq: 175}, -0.9375, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := miniTallies()
				b["D1.2.3"] = tc.d123
				chs := Changes(c.Score(b, DefaultPolicy), same)
				if chs[1].ID != "D1" || chs[1].Change == nil || !near(*chs[1].Change, tc.wantChange, 1e-12) {
					t.Fatalf("D1: got %+v, want a change of %v", chs[1], tc.wantChange)
				}
				if chs[1].Significant != tc.significant {
					t.Errorf("D1 significant: got %v, want %v", chs[1].Significant, tc.significant)
				}
				if chs[2].ID != "D2" || chs[2].Significant || *chs[2].Change != 0 {
					t.Errorf("D2: got %+v, want no change", chs[2])
				}
				// The total moves with D1 but its se also has D2's part.
				if chs[0].ID != "total" || !near(*chs[0].Change, tc.wantChange, 1e-12) {
					t.Errorf("total: got %+v, want a change of %v", chs[0], tc.wantChange)
				}
			})
		}
	})
	t.Run("previous has fewer dimensions", func(t *testing.T) {
		got := Changes(Scores{Dimensions: []DimensionResult{{ID: "D1"}, {ID: "D2"}}}, Scores{Dimensions: []DimensionResult{{ID: "D1"}}})
		if len(got) != 2 || got[0].ID != "total" || got[1].ID != "D1" {
			t.Errorf("got %+v, want total and D1", got)
		}
	})
}

func TestWeightedTally(t *testing.T) {
	// Two respondents: x=1 with weight 3, x=0 with weight 1.
	var a Tally
	a.Add(1, 3, false)
	a.Add(0, 1, false)
	if got := a.Mean(); !near(got, 0.75, 1e-12) {
		t.Errorf("mean: got %v, want 0.75", got)
	}
	// (Σw)²/Σw² = 16/10.
	if got := a.EffectiveN(); !near(got, 1.6, 1e-12) {
		t.Errorf("effective n: got %v, want 1.6", got)
	}
	// Σw·x²/Σw − m² = 0.75 − 0.5625 = 0.1875, times n/(n−1) = 1.6/0.6.
	if got := a.Variance(); !near(got, 0.1875*1.6/0.6, 1e-12) {
		t.Errorf("variance: got %v, want %v", got, 0.1875*1.6/0.6)
	}
	// An unweighted tally reads as weights of 1.
	old := Tally{N: 4, Sum: 3, SumSq: 3}
	if got := old.EffectiveN(); got != 4 {
		t.Errorf("unweighted effective n: got %v, want 4", got)
	}
}
