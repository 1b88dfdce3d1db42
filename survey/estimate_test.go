package survey

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// binomialUpper is P(Binomial(n, x) ≥ k), which equals I_x(k, n−k+1).
func binomialUpper(k, n int, x float64) float64 {
	p := 0.0
	for j := k; j <= n; j++ {
		lc, _ := math.Lgamma(float64(n + 1))
		l1, _ := math.Lgamma(float64(j + 1))
		l2, _ := math.Lgamma(float64(n - j + 1))
		p += math.Exp(lc - l1 - l2 + float64(j)*math.Log(x) + float64(n-j)*math.Log1p(-x))
	}
	return p
}

func TestBetaInc(t *testing.T) {
	// Integer a, b: I_x(a, b) = P(Binomial(a+b−1, x) ≥ a).
	for _, a := range []int{1, 2, 3, 7, 20} {
		for _, b := range []int{1, 2, 5, 40} {
			for _, x := range []float64{0.01, 0.2, 0.5, 0.83, 0.99} {
				want := binomialUpper(a, a+b-1, x)
				if got := BetaInc(x, float64(a), float64(b)); !near(got, want, 1e-12) {
					t.Errorf("I_%v(%d, %d): got %.15f, want %.15f", x, a, b, got, want)
				}
			}
		}
	}
	// The arcsine distribution: I_x(½, ½) = (2/π)·asin(√x).
	for _, x := range []float64{1e-6, 0.1, 0.5, 0.9, 1 - 1e-6} {
		if got, want := BetaInc(x, 0.5, 0.5), 2/math.Pi*math.Asin(math.Sqrt(x)); !near(got, want, 1e-12) {
			t.Errorf("I_%v(½, ½): got %.15f, want %.15f", x, got, want)
		}
	}
	// Symmetry: I_½(a, a) = ½, however large a is (to 1e-10: the
	// log-gamma terms of a = 5000 carry about 1e-11 of rounding).
	for _, a := range []float64{0.3, 4.5, 5000} {
		if got := BetaInc(0.5, a, a); !near(got, 0.5, 1e-10) {
			t.Errorf("I_½(%v, %v): got %.15f, want 0.5", a, a, got)
		}
	}
	for _, tc := range []struct{ x, want float64 }{{-1, 0}, {0, 0}, {1, 1}, {2, 1}} {
		if got := BetaInc(tc.x, 2, 3); got != tc.want {
			t.Errorf("I_%v(2, 3): got %v, want %v", tc.x, got, tc.want)
		}
	}
}

func TestBetaQuantile(t *testing.T) {
	ps := []float64{0.001, 0.025, 0.3, 0.5, 0.975, 0.999}
	// Closed forms: Beta(1, 1) is uniform; Beta(a, 1) has CDF xᵃ;
	// Beta(1, b) has CDF 1 − (1−x)ᵇ; Beta(½, ½) has quantile sin²(πp/2).
	for _, p := range ps {
		for _, tc := range []struct {
			a, b, want float64
		}{
			{1, 1, p},
			{3.5, 1, math.Pow(p, 1/3.5)},
			{1, 12, 1 - math.Pow(1-p, 1.0/12)},
			{0.5, 0.5, math.Pow(math.Sin(math.Pi*p/2), 2)},
		} {
			if got := BetaQuantile(p, tc.a, tc.b); !near(got, tc.want, 1e-10) {
				t.Errorf("quantile %v of Beta(%v, %v): got %.14f, want %.14f", p, tc.a, tc.b, got, tc.want)
			}
		}
	}
	// Round trip through the CDF, from U-shaped to very concentrated.
	for _, ab := range [][2]float64{{0.2, 0.3}, {2, 5}, {0.5, 50}, {600, 400}, {3.3, 8000}, {40000, 2}} {
		for _, p := range ps {
			x := BetaQuantile(p, ab[0], ab[1])
			if got := BetaInc(x, ab[0], ab[1]); !near(got, p, 1e-9) || x < 0 || x > 1 {
				t.Errorf("Beta(%v, %v): I(quantile(%v)) = I(%v) = %v, want %v", ab[0], ab[1], p, x, got, p)
			}
		}
	}
	if BetaQuantile(0, 2, 3) != 0 || BetaQuantile(1, 2, 3) != 1 {
		t.Errorf("quantiles 0 and 1: got %v and %v, want 0 and 1", BetaQuantile(0, 2, 3), BetaQuantile(1, 2, 3))
	}
}

func TestFitFayHerriot(t *testing.T) {
	// 4,000 areas with μ = 3, τ² = .25 and sampling variances .05 to 1:
	// the fit finds both within three of its own standard errors.
	rng := rand.New(rand.NewPCG(7, 8))
	const mu, tau2 = 3.0, 0.25
	y, d := make([]float64, 4000), make([]float64, 4000)
	for j := range y {
		d[j] = 0.05 + 0.95*rng.Float64()
		y[j] = mu + math.Sqrt(tau2+d[j])*rng.NormFloat64()
	}
	f := fitFayHerriot(y, d)
	if math.Abs(f.mu-mu) > 3*math.Sqrt(f.muVar) {
		t.Errorf("μ: got %v ± %v, want %v", f.mu, math.Sqrt(f.muVar), mu)
	}
	if math.Abs(f.tau2-tau2) > 3*math.Sqrt(f.tau2Var) {
		t.Errorf("τ²: got %v ± %v, want %v", f.tau2, math.Sqrt(f.tau2Var), tau2)
	}
	t.Run("no spread between areas", func(t *testing.T) {
		// Equal values: plain REML would put τ² at 0; the adjusted
		// likelihood keeps it positive, below the sampling variance.
		f := fitFayHerriot([]float64{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1})
		if f.tau2 <= 0 || f.tau2 >= 1 || f.mu != 2 {
			t.Errorf("got μ %v, τ² %v, want μ 2 and 0 < τ² < 1", f.mu, f.tau2)
		}
	})
}

func TestPosteriors(t *testing.T) {
	t.Run("normal", func(t *testing.T) {
		// τ² = .04, σ²/n = .5/10 = .05: B = .04/.09 = .444444; value =
		// .444444·4 + .555556·3 = 3.444444; g₁ = B·.05 = .022222, g₂ =
		// .555556²·.01 = .003086, g₃ = .05²/.09³·.0002 = .000686; MSE =
		// .022222 + .003086 + 2·.000686 = .026680, SE .163341.
		m := AreaModel{Area: "X", Mean: 3, MeanVar: 0.01, Tau2: 0.04, Tau2Var: 0.0002, Sigma2: 0.5}
		got := m.normalPosterior(&communeObs{y: 4, n: 10})
		if !near(got.OwnWeight, 4.0/9, 1e-12) || !near(got.Value, 3+4.0/9, 1e-12) || !near(got.SE, 0.163341, 1e-6) ||
			!near(got.CILow, got.Value-1.959964*got.SE, 1e-6) || !near(got.CIHigh, got.Value+1.959964*got.SE, 1e-6) || got.Area != "X" {
			t.Errorf("got %+v, want own weight .444444, value 3.444444, se .163341 in area X", got)
		}
		// No own answers: the area's mean, with τ² + Var(μ̂) = .05.
		got = m.normalPosterior(nil)
		if got.OwnWeight != 0 || got.Value != 3 || !near(got.SE, math.Sqrt(0.05), 1e-12) {
			t.Errorf("no own answers: got %+v, want value 3, weight 0, se √.05", got)
		}
	})
	t.Run("beta", func(t *testing.T) {
		// Prior mean .6, variance τ² + Var(μ̂) = .01: α + β = .24/.01 − 1 =
		// 23, α = 13.8, β = 9.2. Own 5 of 10: posterior Beta(18.8, 14.2),
		// mean 18.8/33 = .569697, own weight 10/33 = .303030.
		m := AreaModel{Area: "Y", Mean: 0.6, MeanVar: 0.002, Tau2: 0.008}
		got := m.betaPosterior(&communeObs{y: 0.5, n: 10})
		if !near(got.Value, 18.8/33, 1e-12) || !near(got.OwnWeight, 10.0/33, 1e-12) ||
			!near(BetaInc(got.CILow, 18.8, 14.2), 0.025, 1e-9) || !near(BetaInc(got.CIHigh, 18.8, 14.2), 0.975, 1e-9) ||
			!near(got.SE, math.Sqrt(18.8*14.2/(33*33*34)), 1e-12) {
			t.Errorf("got %+v, want Beta(18.8, 14.2): mean .569697, own weight .303030", got)
		}
		got = m.betaPosterior(nil)
		if !near(got.Value, 0.6, 1e-12) || got.OwnWeight != 0 || !near(got.SE, 0.1, 1e-12) {
			t.Errorf("no own answers: got %+v, want the prior Beta(13.8, 9.2): mean .6, sd .1", got)
		}
	})
}

// estimateFixture has 16 communes in Hồ Chí Minh and 5 in Bình Dương for
// mini.json's D1.1.1 (a ratio) and D1.2.3 (a mean of 1–5):
//
//	H00        N = 40: direct
//	H01–H14    N = 20, shares 0.3 … 0.82 (step .04): borrowed from the province
//	H15        N = 3: too few to use, gets the province's distribution
//	B00–B03    N = 20: their province has too few communes: the city's
//	B04        no answers at all
//
// D1.1.2 has answers in 9 communes only: no area distribution.
func estimateFixture() ([]Commune, map[string]map[string]Tally) {
	var communes []Commune
	data := map[string]map[string]Tally{}
	add := func(code, province string, tallies map[string]Tally) {
		communes = append(communes, Commune{Code: code, Name: code, Type: Phuong, FormerProvince: province})
		if tallies != nil {
			data[code] = tallies
		}
	}
	ratio := func(n, y float64) Tally { return Tally{N: n, Sum: y, SumSq: y} }
	add("H00", "Hồ Chí Minh", map[string]Tally{"D1.1.1": ratio(40, 30), "D1.2.3": {N: 40, Sum: 160, SumSq: 680}})
	for i := 1; i <= 14; i++ {
		share := 0.3 + 0.04*float64(i-1)
		ts := map[string]Tally{"D1.1.1": ratio(20, math.Round(20*share)), "D1.2.3": {N: 20, Sum: 20 * (2 + share*2), SumSq: 20*(2+share*2)*(2+share*2) + 20}}
		if i <= 9 {
			ts["D1.1.2"] = ratio(20, 10)
		}
		add(fmt.Sprintf("H%02d", i), "Hồ Chí Minh", ts)
	}
	add("H15", "Hồ Chí Minh", map[string]Tally{"D1.1.1": ratio(3, 3), "D1.2.3": {N: 3, Sum: 15, SumSq: 75}})
	for i := 0; i < 4; i++ {
		add(fmt.Sprintf("B%02d", i), "Bình Dương", map[string]Tally{"D1.1.1": ratio(20, 8), "D1.2.3": {N: 20, Sum: 60, SumSq: 200}})
	}
	add("B04", "Bình Dương", nil)
	return communes, data
}

func TestEstimate(t *testing.T) {
	c := MustMini(t)
	communes, data := estimateFixture()
	e := c.Estimate(communes, data, DefaultPolicy)

	for _, id := range []string{"D1.1.1", "D1.2.3"} {
		t.Run(id, func(t *testing.T) {
			if _, ok := e.Borrowed["H00"][id]; ok {
				t.Errorf("H00 (N = 40): got a borrowed estimate, want its direct value alone")
			}
			if !e.Set[id] {
				t.Errorf("set: got %s out, want it in (every commune has a value)", id)
			}
			if got := len(e.Models[id]); got != 2 {
				t.Errorf("models: got %d areas, want Hồ Chí Minh and the city", got)
			}
			// Fewer than HideBelow answers are not used: H15 gets exactly
			// what a commune without answers in its province would.
			h15, ok := e.Borrowed["H15"][id]
			prior := e.Models[id]["Hồ Chí Minh"].posterior(indicator(c, id), nil)
			if !ok || h15 != prior || h15.OwnWeight != 0 || h15.Area != "Hồ Chí Minh" {
				t.Errorf("H15: got %+v, want the province's distribution %+v with own weight 0", h15, prior)
			}
			for _, code := range []string{"B00", "B04"} {
				if b := e.Borrowed[code][id]; b.Area != AreaCity {
					t.Errorf("%s: got area %q, want the city (its province has 4 communes with answers)", code, b.Area)
				}
			}
			if b, want := e.Borrowed["B04"][id], e.Models[id][AreaCity].posterior(indicator(c, id), nil); b != want {
				t.Errorf("B04 (no answers): got %+v, want the city's distribution %+v", b, want)
			}
			// H14 (share .82, the highest) lies between its own value and
			// the province's mean, with a weight strictly between 0 and 1.
			own := data["H14"][id].Mean()
			mean := e.Models[id]["Hồ Chí Minh"].Mean
			b := e.Borrowed["H14"][id]
			if b.OwnWeight <= 0 || b.OwnWeight >= 1 || b.Value <= mean || b.Value >= own || b.CILow >= b.Value || b.CIHigh <= b.Value {
				t.Errorf("H14: got %+v, want a value between the mean %v and its own %v, weight in (0, 1), inside its interval", b, mean, own)
			}
		})
	}
	t.Run("too few communes: the city's pooled model", func(t *testing.T) {
		// D1.1.2 has answers in 9 communes, too few to fit its spread: the
		// city's pooled mean with the between-commune share of the fitted
		// indicators stands in, and every commune borrows from it.
		m, ok := e.Models["D1.1.2"][AreaCity]
		if !ok || !m.Pooled || m.Communes != 9 || !e.Set["D1.1.2"] || len(e.Models["D1.1.2"]) != 1 {
			t.Fatalf("D1.1.2: got models %+v, in set %v; want the city's pooled model from 9 communes, alone", e.Models["D1.1.2"], e.Set["D1.1.2"])
		}
		var all Tally
		for _, d := range data {
			if tl, ok := d["D1.1.2"]; ok {
				all.Merge(tl)
			}
		}
		if math.Abs(m.Mean-all.Mean()) > 1e-12 || m.Tau2 <= 0 || m.MeanVar <= m.Tau2/9 {
			t.Errorf("D1.1.2 pooled model: mean %v (want %v, the mean of every answer), τ² %v, Var(μ̂) %v (want above τ²/9)", m.Mean, all.Mean(), m.Tau2, m.MeanVar)
		}
		fitted := e.Models["D1.1.1"][AreaCity]
		for code, b := range e.Borrowed {
			got, ok := b["D1.1.2"]
			if !ok || got.Area != AreaCity {
				t.Errorf("%s: D1.1.2 got %+v, want a value borrowed from the city", code, got)
			}
			// With no answers of its own a commune gets the whole prior,
			// wider than a fitted indicator's at the same mean would be.
			if _, own := data[code]["D1.1.2"]; !own && got.SE <= math.Sqrt(fitted.Tau2) {
				t.Errorf("%s: D1.1.2 SE %v, want above the fitted D1.1.1's τ %v", code, got.SE, math.Sqrt(fitted.Tau2))
			}
		}
	})
	t.Run("too few answers in the city: no model", func(t *testing.T) {
		_, thin := estimateFixture()
		for _, d := range thin {
			if _, ok := d["D1.1.2"]; ok {
				d["D1.1.2"] = Tally{N: 3, Sum: 1, SumSq: 1} // 9 × 3 = 27 answers
			}
		}
		e3 := c.Estimate(communes, thin, DefaultPolicy)
		if e3.Set["D1.1.2"] || e3.Models["D1.1.2"] != nil {
			t.Errorf("D1.1.2 with 27 answers in the city: got in set %v, models %v; want neither (fewer than %d)", e3.Set["D1.1.2"], e3.Models["D1.1.2"], MinPooled)
		}
		for code, b := range e3.Borrowed {
			if _, ok := b["D1.1.2"]; ok {
				t.Errorf("%s: got a borrowed D1.1.2, want none", code)
			}
		}
	})
	t.Run("a handful of answers changes nothing", func(t *testing.T) {
		_, data2 := estimateFixture()
		data2["H15"]["D1.1.1"] = Tally{N: 4, Sum: 0, SumSq: 0}
		e2 := c.Estimate(communes, data2, DefaultPolicy)
		for _, code := range []string{"H15", "H03", "B00"} {
			if a, b := e.Borrowed[code]["D1.1.1"], e2.Borrowed[code]["D1.1.1"]; a != b {
				t.Errorf("%s: got %+v after H15's 3 answers became 4 others, want %+v unchanged", code, b, a)
			}
		}
	})
	t.Run("weights count through the effective n", func(t *testing.T) {
		// H03's 20 answers with Σw = 20 and Σw² = 40 weigh as 10.
		_, weighted := estimateFixture()
		_, plain := estimateFixture()
		y := plain["H03"]["D1.1.1"].Mean()
		weighted["H03"]["D1.1.1"] = Tally{N: 20, W: 20, W2: 40, Sum: 20 * y, SumSq: 20 * y}
		plain["H03"]["D1.1.1"] = Tally{N: 10, Sum: 10 * y, SumSq: 10 * y}
		a := c.Estimate(communes, weighted, DefaultPolicy).Borrowed["H03"]["D1.1.1"]
		b := c.Estimate(communes, plain, DefaultPolicy).Borrowed["H03"]["D1.1.1"]
		if !near(a.Value, b.Value, 1e-12) || !near(a.OwnWeight, b.OwnWeight, 1e-12) || !near(a.CIHigh, b.CIHigh, 1e-9) {
			t.Errorf("weighted: got %+v, want %+v (effective n 10)", a, b)
		}
	})
}

func TestCorrelations(t *testing.T) {
	// 40 communes of 200 answers each (sampling noise small beside the
	// spread): D1.1.1 and D1.2.1 (same dimension) move together, D2.1.2
	// (another dimension) the other way.
	c := MustMini(t)
	var communes []Commune
	data := map[string]map[string]Tally{}
	for i := range 40 {
		code := fmt.Sprintf("K%02d", i)
		communes = append(communes, Commune{Code: code, FormerProvince: "Hồ Chí Minh"})
		share := 0.2 + 0.015*float64(i)
		y := math.Round(200 * share)
		m := 3 - 2*share // D2.1.2 on 1–3, falling as the shares rise
		data[code] = map[string]Tally{
			"D1.1.1": {N: 200, Sum: y, SumSq: y}, "D1.2.1": {N: 200, Sum: y, SumSq: y},
			"D2.1.2": {N: 200, Sum: 200 * m, SumSq: 200*m*m + 199*0.01},
		}
	}
	e := c.Estimate(communes, data, DefaultPolicy)
	if e.RhoWithin < 0.9 || e.RhoBetween != 0 {
		t.Errorf("got ρ within %v, between %v, want within near 1 and between 0 (negative estimates are taken as none)", e.RhoWithin, e.RhoBetween)
	}
}

func TestScoreEstimatedCovariance(t *testing.T) {
	// D2 (k = 1) from two borrowed values: D2.1.1 median 20 of 0–100,
	// lower better, se 10, spread 8 → score 8.2, se .9, g .72; D2.1.2 mean
	// 2.5 of 1–3, se .2, spread .1 → score 7.75, se .9, g .45. With ρ = .5
	// Var(D2) = (.81 + .81 + .5·((.72 + .45)² − .72² − .45²))/4 =
	// (1.62 + .324)/4 = .486, se .697137; without correlation .405, se
	// .636396.
	c := MustMini(t)
	e := &Estimates{
		Borrowed: map[string]map[string]SmallArea{"X": {
			"D2.1.1": {Value: 20, CILow: 5, CIHigh: 40, SE: 10, Spread: 8, OwnWeight: 0.3, Area: AreaCity},
			"D2.1.2": {Value: 2.5, CILow: 2.1, CIHigh: 2.9, SE: 0.2, Spread: 0.1, OwnWeight: 0.5, Area: AreaCity},
		}},
		Set: map[string]bool{"D2.1.1": true, "D2.1.2": true},
	}
	for _, tc := range []struct {
		rho, se float64
	}{{0.5, 0.697137}, {0, 0.636396}} {
		e.RhoWithin = tc.rho
		d2 := c.ScoreEstimated("X", nil, DefaultPolicy, e).Dimensions[1]
		MustNear(t, fmt.Sprintf("D2 at ρ %v", tc.rho), d2.Score, 7.975, 1e-12)
		MustNear(t, fmt.Sprintf("D2 ci_low at ρ %v", tc.rho), d2.CILow, 7.975-1.96*tc.se, 1e-6)
		if d2.Borrowed != 2 || d2.Scored != 2 {
			t.Errorf("D2: got %d of %d borrowed, want 2 of 2", d2.Borrowed, d2.Scored)
		}
	}
}
