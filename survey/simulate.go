package survey

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// SimCity is a city whose communes' true indicator values are known, for
// the end-to-end simulation (papi simulate): every commune's residents
// answer like Synthesize at the commune's own quality, so its true values
// are what an unlimited number of such answers would give. The answers go
// through the real validation, storage and estimation; Measure then holds
// the estimates against the truth.
type SimCity struct {
	cat *Catalogue
	// Quality is each commune's quality (Synthesize's 0-1 parameter).
	Quality map[string]float64
	truth   map[string]map[string]float64 // commune → indicator → true value
}

// SimGrid holds true values on a grid of qualities, from which a SimCity's
// communes are drawn.
type SimGrid struct {
	cat    *Catalogue
	values []map[string]float64 // at each grid quality: indicator → true value
	totals []float64            // the true total at each grid quality, rising
}

// The grid runs over the qualities where every dimension still has most of
// its indicators (at the extremes some conditional items have nobody to
// ask: at quality 1 nobody is asked for a bribe), simGridStep apart, with
// simPerPoint full-form answers at each point: the truth's own sampling
// error is about 0.01 on a share.
const (
	simGridLow, simGridHigh = 0.1, 0.9
	simGridStep             = 0.05
	simPerPoint             = 2000
)

// NewSimGrid computes the true values: at each grid quality, the values of
// simPerPoint full-form answers (all modules, living in the commune
// visited).
func NewSimGrid(cat *Catalogue, rng *rand.Rand) (*SimGrid, error) {
	g := &SimGrid{cat: cat}
	for i := 0; simGridLow+float64(i)*simGridStep <= simGridHigh+1e-9; i++ {
		q := simGridLow + float64(i)*simGridStep
		visits := make([]Visit, simPerPoint)
		weights := make([]float64, simPerPoint)
		for k := range visits {
			v, err := cat.ValidateSubmission(SimSubmission(cat, rng, cat.AllModules(), q))
			if err != nil {
				return nil, fmt.Errorf("simulated answer at quality %.2f: %w", q, err)
			}
			visits[k], weights[k] = v, 1
		}
		values := map[string]float64{}
		for id, t := range cat.WeightedTallies(visits, weights) {
			if cat.indicators[id].Kind == KindMedian {
				values[id], _, _ = MedianInterval(scaledHist(t))
			} else {
				values[id] = t.Mean()
			}
		}
		total, _, ok := trueScores(cat, values, nil)
		if !ok {
			return nil, fmt.Errorf("quality %.2f: %d answers give no total", q, simPerPoint)
		}
		g.values = append(g.values, values)
		// The total rises with quality; a running maximum irons out the
		// grid's sampling noise so that it can be inverted.
		if n := len(g.totals); n > 0 {
			total = math.Max(total, g.totals[n-1]+1e-9)
		}
		g.totals = append(g.totals, total)
	}
	return g, nil
}

// City draws each commune's quality so that the true totals spread with
// standard deviation spread around the grid's middle total (PAPI 2024's
// provinces: 1.8 points); its true values are the grid's, interpolated
// linearly.
func (g *SimGrid) City(communes []Commune, rng *rand.Rand, spread float64) *SimCity {
	s := &SimCity{cat: g.cat, Quality: map[string]float64{}, truth: map[string]map[string]float64{}}
	mid := g.totals[len(g.totals)/2]
	for _, cm := range communes {
		x := g.position(mid + spread*rng.NormFloat64())
		i := min(int(x), len(g.values)-2)
		f := x - float64(i)
		s.Quality[cm.Code] = simGridLow + x*simGridStep
		values := map[string]float64{}
		for id, lo := range g.values[i] {
			if hi, ok := g.values[i+1][id]; ok {
				values[id] = lo + f*(hi-lo)
			}
		}
		s.truth[cm.Code] = values
	}
	return s
}

// position inverts the grid's rising total by linear interpolation: the
// grid index (fractional) whose total is target, clamped to the grid.
func (g *SimGrid) position(target float64) float64 {
	i := sort.SearchFloat64s(g.totals, target)
	switch {
	case i == 0:
		return 0
	case i == len(g.totals):
		return float64(len(g.totals) - 1)
	}
	return float64(i-1) + (target-g.totals[i-1])/(g.totals[i]-g.totals[i-1])
}

// SimSubmission is a synthetic answer at this quality from a respondent
// who lives in the commune visited (redrawn until Synthesize says so), so
// that service and locality indicators share the commune's truth.
func SimSubmission(cat *Catalogue, rng *rand.Rand, modules []string, quality float64) Submission {
	here, _ := json.Marshal(ResidenceHere)
	for {
		sub := cat.Synthesize(rng, modules, quality)
		r, asked := sub.Answers[ResidenceQuestion]
		if !asked || string(r) == string(here) {
			return sub
		}
	}
}

// trueScores scores true values (as a tally of a million identical answers
// each), counting only the indicators in set (all when nil), and gives the
// total and dimension scores.
func trueScores(cat *Catalogue, values map[string]float64, set map[string]bool) (total float64, dims map[string]float64, ok bool) {
	tallies := map[string]Tally{}
	for id, v := range values {
		if set == nil || set[id] {
			tallies[id] = Tally{N: 1e6, Sum: 1e6 * v, SumSq: 1e6 * v * v, Hist: map[float64]float64{v: 1e6}}
		}
	}
	sc := cat.Score(tallies, Policy{MinN: 1, HideBelow: 1})
	dims = map[string]float64{}
	for _, d := range sc.Dimensions {
		if d.Score != nil {
			dims[d.ID] = *d.Score
		}
	}
	if sc.Total == nil {
		return 0, dims, false
	}
	return *sc.Total, dims, true
}

// SimResult is how one comparison's estimates held up against the truth,
// or, summed with Add, several periods' comparisons.
type SimResult struct {
	// Periods counts the comparisons summed.
	Periods          int
	Communes, Scored int
	// Covered and Intervals count the 95% intervals that contain the true
	// value: indicators (direct, borrowed), dimensions, totals, and the
	// 90% rank intervals that contain the true rank.
	IndicatorCovered, IndicatorIntervals [2]int
	DimensionCovered, DimensionIntervals int
	TotalCovered, TotalIntervals         int
	RankCovered, RankIntervals           int
	// Spearman is the rank correlation of estimated and true totals,
	// RankError the mean absolute difference of estimated and true rank,
	// TrueSD the standard deviation of the true totals (summed over the
	// periods; Rates gives their means).
	Spearman, RankError, TrueSD float64
}

// Add sums o into r.
func (r *SimResult) Add(o SimResult) {
	r.Periods += o.Periods
	r.Spearman += o.Spearman
	r.RankError += o.RankError
	r.TrueSD += o.TrueSD
	r.Communes += o.Communes
	r.Scored += o.Scored
	for k := range 2 {
		r.IndicatorCovered[k] += o.IndicatorCovered[k]
		r.IndicatorIntervals[k] += o.IndicatorIntervals[k]
	}
	r.DimensionCovered += o.DimensionCovered
	r.DimensionIntervals += o.DimensionIntervals
	r.TotalCovered += o.TotalCovered
	r.TotalIntervals += o.TotalIntervals
	r.RankCovered += o.RankCovered
	r.RankIntervals += o.RankIntervals
}

// SimRates are a result as rates: the share of communes scored, the
// coverage of each kind of interval (NaN where there was none), and the
// means over the periods of Spearman, rank error and the true totals' sd.
type SimRates struct {
	Scored, Direct, Borrowed, Dimensions, Totals, Ranks float64
	Spearman, RankError, TrueSD                         float64
}

// Rates gives the result's rates.
func (r SimResult) Rates() SimRates {
	share := func(k, n int) float64 {
		if n == 0 {
			return math.NaN()
		}
		return float64(k) / float64(n)
	}
	periods := float64(max(r.Periods, 1))
	return SimRates{
		Scored: share(r.Scored, r.Communes), Direct: share(r.IndicatorCovered[0], r.IndicatorIntervals[0]),
		Borrowed: share(r.IndicatorCovered[1], r.IndicatorIntervals[1]), Dimensions: share(r.DimensionCovered, r.DimensionIntervals),
		Totals: share(r.TotalCovered, r.TotalIntervals), Ranks: share(r.RankCovered, r.RankIntervals),
		Spearman: r.Spearman / periods, RankError: r.RankError / periods, TrueSD: r.TrueSD / periods,
	}
}

// Measure holds a comparison of the city's communes against the truth. A
// commune's true total counts the indicators its own estimate counts, so
// that both rest on the same set.
func (s *SimCity) Measure(c Comparison) SimResult {
	r := SimResult{Periods: 1, Communes: len(c.Rows)}
	var est, truth []float64
	var ranked []CompareRow
	for _, row := range c.Rows {
		inScore := map[string]bool{}
		for _, d := range row.Scores.Dimensions {
			for _, sd := range d.Subdimensions {
				for _, ir := range sd.Indicators {
					inScore[ir.ID] = ir.InScore
					if ir.Value == nil || ir.Context {
						continue
					}
					k := 0
					if ir.Estimate == EstimateBorrowed {
						k = 1
					}
					v, known := s.truth[row.Commune.Code][ir.ID]
					if !known {
						continue // nobody at the grid's qualities is asked it
					}
					r.IndicatorIntervals[k]++
					if v >= *ir.CILow && v <= *ir.CIHigh {
						r.IndicatorCovered[k]++
					}
				}
			}
		}
		tt, dims, ok := trueScores(s.cat, s.truth[row.Commune.Code], inScore)
		for _, d := range row.Dimensions {
			if d.Score != nil {
				r.DimensionIntervals++
				if v := dims[d.ID]; v >= *d.CILow && v <= *d.CIHigh {
					r.DimensionCovered++
				}
			}
		}
		if row.TotalScore == nil || !ok {
			continue
		}
		r.Scored++
		r.TotalIntervals++
		if tt >= *row.TotalCILow && tt <= *row.TotalCIHigh {
			r.TotalCovered++
		}
		est, truth = append(est, *row.TotalScore), append(truth, tt)
		ranked = append(ranked, row)
	}
	if len(ranked) < 2 {
		return r
	}
	trueRank := ranks(truth)
	for i, row := range ranked {
		r.RankIntervals++
		if trueRank[i] >= float64(row.RankLow) && trueRank[i] <= float64(row.RankHigh) {
			r.RankCovered++
		}
		r.RankError += math.Abs(trueRank[i]-float64(row.Rank)) / float64(len(ranked))
	}
	r.Spearman = pearson(ranks(est), trueRank)
	m := 0.0
	for _, v := range truth {
		m += v / float64(len(truth))
	}
	for _, v := range truth {
		r.TrueSD += (v - m) * (v - m) / float64(len(truth)-1)
	}
	r.TrueSD = math.Sqrt(r.TrueSD)
	return r
}

// ranks gives 1 to the largest value (ties share their mean rank).
func ranks(xs []float64) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(xs[b], xs[a]) })
	out := make([]float64, len(xs))
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && xs[idx[j]] == xs[idx[i]] {
			j++
		}
		for k := i; k < j; k++ {
			out[idx[k]] = float64(i+j+1) / 2
		}
		i = j
	}
	return out
}

// pearson is the correlation of a and b.
func pearson(a, b []float64) float64 {
	n := float64(len(a))
	ma, mb := 0.0, 0.0
	for i := range a {
		ma += a[i] / n
		mb += b[i] / n
	}
	sab, saa, sbb := 0.0, 0.0, 0.0
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}
