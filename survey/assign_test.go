package survey

import (
	"math"
	"testing"
)

func TestModuleProbabilities(t *testing.T) {
	c := MustMini(t) // rotating d1 (D1.1.1, D1.1.2) and d2 (D2.1.1, D2.1.2)
	ratio := func(n float64) Tally { return Tally{N: n, Sum: n / 2, SumSq: n / 2} }
	for _, tc := range []struct {
		name        string
		tallies     map[string]Tally
		completions map[string]int64
		want        map[string]float64
	}{
		{"nothing yet: every module alike", nil, nil, map[string]float64{"d1": 0.5, "d2": 0.5}},
		{
			// d1's indicators reached 30: it keeps only the floor.
			"one module done",
			map[string]Tally{"D1.1.1": ratio(40), "D1.1.2": ratio(30), "D2.1.1": ratio(10), "D2.1.2": ratio(10)},
			map[string]int64{"d1": 60, "d2": 20},
			map[string]float64{"d1": 0.04, "d2": 0.96},
		},
		{
			// 100 completions each. d1: both at 25, need 5/(26/102) =
			// 19.615 each, mean 19.615. d2: D2.1.1 at 10 of a rare
			// condition, 20/(11/102) = 185.455, D2.1.2 19.615, mean
			// 102.535. p(d1) = .04 + .92·19.615/122.150 = .187737.
			"rare indicator",
			map[string]Tally{"D1.1.1": ratio(25), "D1.1.2": ratio(25), "D2.1.1": ratio(10), "D2.1.2": ratio(25)},
			map[string]int64{"d1": 100, "d2": 100},
			map[string]float64{"d1": 0.187737, "d2": 0.812263},
		},
		{
			// D2.1.1 has nobody after 10,000 completions: its need,
			// 30·10,002, is capped at 1,500, so d2's mean need is
			// (1500 + 0)/2 = 750 against d1's (0 + 5/(26/102))/2 = 9.808:
			// p(d1) = .04 + .92·9.808/759.808 = .051876.
			"need capped",
			map[string]Tally{"D1.1.1": ratio(30), "D1.1.2": ratio(25), "D2.1.2": ratio(9000)},
			map[string]int64{"d1": 100, "d2": 10000},
			map[string]float64{"d1": 0.051876, "d2": 0.948124},
		},
		{
			// 40 answers with Σw = 40, Σw² = 80 weigh as 20: still short.
			"effective n",
			map[string]Tally{"D1.1.1": {N: 40, W: 40, W2: 80, Sum: 20, SumSq: 20}, "D1.1.2": ratio(40), "D2.1.1": ratio(40), "D2.1.2": ratio(40)},
			map[string]int64{"d1": 40, "d2": 40},
			map[string]float64{"d1": 0.96, "d2": 0.04},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.ModuleProbabilities(tc.tallies, tc.completions, DefaultPolicy)
			sum := 0.0
			for m, p := range got {
				sum += p
				if p < ModuleFloor-1e-12 {
					t.Errorf("%s: got %v, want at least the floor %v", m, p, ModuleFloor)
				}
			}
			if len(got) != len(tc.want) || !near(sum, 1, 1e-12) {
				t.Errorf("got %v (sum %v), want %v summing to 1", got, sum, tc.want)
			}
			for m, w := range tc.want {
				if !near(got[m], w, 1e-6) {
					t.Errorf("%s: got %.6f, want %.6f", m, got[m], w)
				}
			}
		})
	}
	t.Run("context indicators need nothing", func(t *testing.T) {
		c := MustMiniWith(t, func(c *Catalogue) {
			indicator(c, "D2.1.1").Context = true
			indicator(c, "D2.1.2").Context = true
		})
		got := c.ModuleProbabilities(nil, nil, DefaultPolicy)
		if !near(got["d2"], ModuleFloor, 1e-12) {
			t.Errorf("d2 with only context indicators: got %v, want the floor", got["d2"])
		}
	})
}

func TestDraw(t *testing.T) {
	probs := map[string]float64{"d3": 0.3, "d1": 0.2, "d2": 0.5}
	for _, tc := range []struct {
		u    float64
		want string
	}{{0, "d1"}, {0.19999, "d1"}, {0.2, "d2"}, {0.69999, "d2"}, {0.7, "d3"}, {0.99999, "d3"}, {1, "d3"}} {
		if got := Draw(probs, tc.u); got != tc.want {
			t.Errorf("u = %v: got %q, want %q", tc.u, got, tc.want)
		}
	}
	if got := Draw(nil, 0.5); got != "" {
		t.Errorf("no modules: got %q, want none", got)
	}
	// Over a fine grid of u the shares match the probabilities.
	count := map[string]float64{}
	for i := range 100000 {
		count[Draw(probs, (float64(i)+0.5)/100000)]++
	}
	for m, p := range probs {
		if math.Abs(count[m]/100000-p) > 1e-4 {
			t.Errorf("%s: drawn %v of the time, want %v", m, count[m]/100000, p)
		}
	}
}
