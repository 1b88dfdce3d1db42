package survey

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// simWorld is a city of communes with known true indicator values. A
// commune's true share (or fraction of an indicator's range) is
// logistic(logit bᵢ + λ·zⱼ + κ·w_{j,d} + ηᵢⱼ) (one minus that where lower
// is better): a city-wide base per indicator, a commune effect common to
// every indicator, one per dimension and one per indicator, scaled so the
// true totals spread like PAPI 2024's provinces (standard deviation 1.8).
type simWorld struct {
	cat      *Catalogue
	communes []Commune
	module   map[string]string  // indicator → module
	apply    map[string]float64 // indicator → share of its module's visits it applies to
	truth    map[string]map[string]float64
}

const (
	simCommon    = 0.088 // λ
	simDimension = 0.19  // κ
	simOwn       = 0.62  // sd of η
)

func newSimWorld(t testing.TB, rng *rand.Rand) *simWorld {
	cats, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	cat := cats[len(cats)-1]
	communes, err := Communes()
	if err != nil {
		t.Fatal(err)
	}
	w := &simWorld{cat: cat, communes: communes, module: map[string]string{}, apply: map[string]float64{}, truth: map[string]map[string]float64{}}
	base := map[string]float64{}
	for _, ind := range cat.Indicators() {
		w.module[ind.ID] = cat.questions[ind.Rule.Questions()[0]].Module
		base[ind.ID] = 0.3 + 0.55*rng.Float64()
		// Most questions apply to everyone asked; conditional ones to a
		// fifth to a half.
		w.apply[ind.ID] = 1
		if ind.Rule.AppliesIf != nil {
			w.apply[ind.ID] = 0.2 + 0.3*rng.Float64()
		}
	}
	for _, cm := range communes {
		z := rng.NormFloat64()
		dim := map[string]float64{}
		for _, d := range cat.Dimensions {
			dim[d.ID] = rng.NormFloat64()
		}
		w.truth[cm.Code] = map[string]float64{}
		for _, d := range cat.Dimensions {
			for _, sd := range d.Subdimensions {
				for _, ind := range sd.Indicators {
					b := base[ind.ID]
					f := 1 / (1 + math.Exp(-(math.Log(b/(1-b)) + simCommon*z + simDimension*dim[d.ID] + simOwn*rng.NormFloat64())))
					if !ind.Rule.Scale.HigherIsBetter {
						f = 1 - f // a better commune is better here too
					}
					w.truth[cm.Code][ind.ID] = ind.Rule.Scale.Min + f*(ind.Rule.Scale.Max-ind.Rule.Scale.Min)
				}
			}
		}
	}
	return w
}

// binomial draws from Binomial(n, p) by counting.
func binomial(rng *rand.Rand, n int, p float64) int {
	k := 0
	for range n {
		if rng.Float64() < p {
			k++
		}
	}
	return k
}

// data draws one period of answers: each commune gets `responses` visits,
// each asking the core module and one rotating module in turn; answers
// follow the true values (ratios: yes with the true share; means: the scale
// minimum plus Binomial(range, fraction); medians: lognormal amounts around
// the true median).
func (w *simWorld) data(rng *rand.Rand, responses int) map[string]CommuneData {
	rot := w.cat.RotatingModules()
	out := map[string]CommuneData{}
	for _, cm := range w.communes {
		visits := map[string]int{CoreModule: responses}
		for _, m := range rot {
			visits[m] = responses / len(rot)
		}
		ts := map[string]Tally{}
		for _, ind := range w.cat.Indicators() {
			n := binomial(rng, visits[w.module[ind.ID]], w.apply[ind.ID])
			truth, s := w.truth[cm.Code][ind.ID], ind.Rule.Scale
			f := (truth - s.Min) / (s.Max - s.Min)
			var t Tally
			for range n {
				switch ind.Kind {
				case KindRatio:
					x := 0.0
					if rng.Float64() < truth {
						x = 1
					}
					t.Add(x, 1, false)
				case KindMean:
					t.Add(s.Min+float64(binomial(rng, int(s.Max-s.Min), f)), 1, false)
				case KindMedian:
					t.Add(math.Round(truth*math.Exp(0.5*rng.NormFloat64())*10)/10, 1, true)
				}
			}
			if n > 0 {
				ts[ind.ID] = t
			}
		}
		out[cm.Code] = CommuneData{Counts: Counts{Responses: int64(responses), CountedResponses: int64(responses)}, Tallies: ts}
	}
	return out
}

// run draws one period's tallies and measures the comparison built from
// them against the truth.
func (w *simWorld) run(t testing.TB, rng *rand.Rand, responses int) SimResult {
	data := w.data(rng, responses)
	cmp, err := Compare(w.cat, w.communes, data, CompareOptions{Estimates: true, Policy: DefaultPolicy})
	if err != nil {
		t.Fatal(err)
	}
	return (&SimCity{cat: w.cat, truth: w.truth}).Measure(cmp)
}

// TestSimulation draws answers from known truths for the city's 168
// communes at 50, 100, 150 and 300 responses per commune and measures the
// estimates: share of communes scored, coverage of the 95% intervals
// (indicators direct and borrowed, dimensions, totals), coverage of the
// true rank by the 90% rank interval, Spearman correlation of estimated
// and true totals and mean absolute rank error.
func TestSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation: a few seconds of repeated estimation")
	}
	reps := 4
	if v, err := strconv.Atoi(os.Getenv("PAPI_SIM_REPS")); err == nil && v > 0 {
		reps = v
	}
	rng := rand.New(rand.NewPCG(2025, 2))
	t.Logf("%9s %7s %8s %8s %7s %7s %7s %7s %8s %7s %6s", "responses", "scored", "ind dir", "ind bor", "dim", "total", "rank90", "spear", "rank err", "true sd", "reps")
	for _, responses := range []int{50, 100, 150, 300} {
		var sum SimResult
		for range reps {
			w := newSimWorld(t, rng)
			sum.Add(w.run(t, rng, responses))
		}
		rt := sum.Rates()
		t.Logf("%9d %7.3f %8.3f %8.3f %7.3f %7.3f %7.3f %7.3f %8.1f %7.2f %6d", responses, rt.Scored,
			rt.Direct, rt.Borrowed, rt.Dimensions, rt.Totals, rt.Ranks, rt.Spearman, rt.RankError, rt.TrueSD, reps)
		// The targets of issue 8, with room for the noise of a few hundred
		// communes whose errors share one period: every commune scored, 95%
		// intervals covering 92–98%, 90% rank intervals about 90% (they are
		// calibrated: 0.908 over 12 periods at 300), Spearman ≥ 0.9 at 300.
		for _, c := range []struct {
			what   string
			got    float64
			lo, hi float64
		}{
			{"communes scored", rt.Scored, 1, 1},
			{"direct indicator coverage", rt.Direct, 0.92, 0.98},
			{"borrowed indicator coverage", rt.Borrowed, 0.92, 0.98},
			{"dimension coverage", rt.Dimensions, 0.92, 0.98},
			{"total coverage", rt.Totals, 0.92, 0.98},
			{"rank interval coverage", rt.Ranks, 0.87, 1},
		} {
			if math.IsNaN(c.got) || c.got < c.lo || c.got > c.hi {
				t.Errorf("%d responses, %s: got %.3f, want %.2f to %.2f", responses, c.what, c.got, c.lo, c.hi)
			}
		}
		if responses == 300 && rt.Spearman < 0.9 {
			t.Errorf("300 responses, Spearman: got %.3f, want at least 0.9", rt.Spearman)
		}
	}
}

// BenchmarkCompare times a 168-commune comparison of simulated data, with
// small-area estimates (fits, posteriors, rank draws) and without.
func BenchmarkCompare(b *testing.B) {
	for _, responses := range []int{50, 300} {
		rng := rand.New(rand.NewPCG(1, 1))
		w := newSimWorld(b, rng)
		data := w.data(rng, responses)
		for _, estimates := range []bool{false, true} {
			b.Run(fmt.Sprintf("responses=%d/estimates=%v", responses, estimates), func(b *testing.B) {
				defer reportCPU(b)()
				for b.Loop() {
					if _, err := Compare(w.cat, w.communes, data, CompareOptions{Estimates: estimates}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSummarize times one commune's summary with small-area estimates
// (every commune's data fitted, one commune's posteriors).
func BenchmarkSummarize(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	w := newSimWorld(b, rng)
	data := w.data(rng, 50)
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := Summarize(w.cat, w.communes, data, "26740", SummaryOptions{Estimates: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// reportCPU reports the process's CPU time (user and system, all threads)
// per operation from its call to the call of the function it returns: on a
// shared machine wall time per operation grows with the other load, CPU
// time much less.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
