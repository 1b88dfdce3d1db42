package survey

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// randomModules picks a module list: the rotation's, a random subset of
// all modules (core may be missing: it is always added), or none (inferred).
func randomModules(rng *rand.Rand, c *Catalogue) []string {
	switch rng.IntN(4) {
	case 0:
		return c.AssignModules(rng.Uint64())
	case 1:
		var out []string
		for _, m := range c.AllModules() {
			if rng.IntN(2) == 0 {
				out = append(out, m)
			}
		}
		return out
	case 2:
		return c.AllModules()
	}
	return nil
}

func TestSynthesizeValid(t *testing.T) {
	cs, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	cs = append(cs, MustMini(t))
	for _, c := range cs {
		t.Run(c.Version, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(2025, 105))
			observed := map[string]bool{}
			for i := 0; i < 500; i++ {
				modules := randomModules(rng, c)
				quality := []float64{0, 1, rng.Float64()}[i%3]
				sub := c.Synthesize(rng, modules, quality)
				v, err := c.ValidateSubmission(sub)
				if err != nil {
					t.Fatalf("submission %d (modules %q, quality %.2f): got %v, want it valid", i, modules, quality, err)
				}
				for _, o := range c.Observe(v) {
					observed[o.Indicator] = true
				}
			}
			// 500 visits reach every indicator at least once.
			for _, ind := range c.Indicators() {
				if !observed[ind.ID] {
					t.Errorf("indicator %s: never observed in 500 synthetic visits", ind.ID)
				}
			}
		})
	}
}

func TestSynthesizeReproducible(t *testing.T) {
	c := loadPlanCatalogue(t)
	run := func(seed uint64) []Submission {
		rng := rand.New(rand.NewPCG(seed, 1))
		var out []Submission
		for i := 0; i < 30; i++ {
			out = append(out, c.Synthesize(rng, c.AssignModules(uint64(i)), 0.6))
		}
		return out
	}
	a, b := run(7), run(7)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("same seed: got different submissions")
	}
	if reflect.DeepEqual(a, run(8)) {
		t.Errorf("other seed: got the same submissions, want different ones")
	}
}

func TestSynthesizeQuality(t *testing.T) {
	// Better quality must give better scores on average: with 2000 visits
	// per side the difference is far beyond noise.
	c := loadPlanCatalogue(t)
	score := func(quality float64) float64 {
		rng := rand.New(rand.NewPCG(11, 12))
		tallies := map[string]Tally{}
		for i := 0; i < 2000; i++ {
			v, err := c.ValidateSubmission(c.Synthesize(rng, c.AssignModules(uint64(i)), quality))
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range c.Observe(v) {
				ind, _ := c.Indicator(o.Indicator)
				tl := tallies[o.Indicator]
				tl.Add(o.X, o.W, ind.Kind == KindMedian)
				tallies[o.Indicator] = tl
			}
		}
		s := c.Score(tallies, Policy{MinN: 10, HideBelow: 5})
		sum, n := 0.0, 0
		for _, d := range s.Dimensions {
			if d.Score != nil {
				sum += *d.Score
				n++
			}
		}
		if n == 0 {
			t.Fatalf("quality %v: no dimension scored", quality)
		}
		return sum / float64(n)
	}
	if lo, hi := score(0.1), score(0.9); lo >= hi {
		t.Errorf("mean dimension score: got %.2f at quality .1 and %.2f at .9, want the second higher", lo, hi)
	}
}
