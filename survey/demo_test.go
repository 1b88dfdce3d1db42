package survey

import (
	"math"
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
	for _, v := range planVersions {
		t.Run(v, func(t *testing.T) { checkSynthesizeQuality(t, MustCatalogue(t, v)) })
	}
}

// checkSynthesizeQuality: better quality must give better scores on
// average; with 2000 visits per side the difference is far beyond noise.
func checkSynthesizeQuality(t *testing.T, c *Catalogue) {
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

// TestSynthesizeAt checks the synthetic mix of 2025.2 answers: most
// respondents live in the commune visited, some in a neighbouring one (next
// to it in the official list, same former province), a few outside; every
// visit purpose occurs, and grids get some "Không rõ".
func TestSynthesizeAt(t *testing.T) {
	c := MustCatalogue(t, "2025.2")
	communes, err := Communes()
	if err != nil {
		t.Fatal(err)
	}
	idx := map[string]int{}
	for i, cm := range communes {
		idx[cm.Code] = i
	}
	const visited = "26740"
	rng := rand.New(rand.NewPCG(3, 4))
	residence, purposes := map[string]int{}, map[string]int{}
	unsure := 0
	const n = 2000
	for i := 0; i < n; i++ {
		v, err := c.ValidateSubmission(c.SynthesizeAt(rng, []string{"core", "d5"}, rng.Float64(), visited))
		if err != nil {
			t.Fatalf("visit %d: %v", i, err)
		}
		residence[v.Residence]++
		purposes[v.Answers["c_visit_purpose"].(string)]++
		if v.Answers["d5_q_polite"] == "unsure" {
			unsure++
		}
		if v.Residence == ResidenceOther {
			home, ok := idx[v.ResidenceCommune]
			if !ok || v.ResidenceCommune == visited {
				t.Fatalf("visit %d: lives in %q, want another commune of the city", i, v.ResidenceCommune)
			}
			if d := home - idx[visited]; (d != 1 && d != -1) || communes[home].FormerProvince != communes[idx[visited]].FormerProvince {
				t.Errorf("visit %d: lives in %s, want a neighbour of %s", i, v.ResidenceCommune, visited)
			}
		}
	}
	// Binomial standard errors at n = 2000 are about 1 point; allow 4.
	for _, tc := range []struct {
		residence string
		want      float64
	}{{ResidenceHere, 0.80}, {ResidenceOther, 0.15}, {ResidenceOutside, 0.05}} {
		if got := float64(residence[tc.residence]) / n; math.Abs(got-tc.want) > 0.04 {
			t.Errorf("residence %s: got share %.3f, want about %.2f", tc.residence, got, tc.want)
		}
	}
	q, _ := c.Question("c_visit_purpose")
	for _, o := range q.Options {
		if purposes[o.Value] == 0 {
			t.Errorf("visit purpose %s: never chosen in %d visits", o.Value, n)
		}
	}
	if unsure == 0 {
		t.Errorf("grid row d5_q_polite: never 'unsure' in %d visits", n)
	}
}
