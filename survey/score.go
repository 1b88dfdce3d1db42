package survey

import (
	"math"
	"sort"
)

// Tally is the running total of one indicator over a set of responses.
//
// N counts the respondents in its denominator (the number the disclosure
// rules look at). Each respondent carries a design weight w, the inverse of
// the probability that their visit was asked the indicator's module (1 for
// the core module and for full questionnaires); W and W2 are Σw and Σw²,
// Sum and SumSq are Σw·x and Σw·x². Hist holds Σw per value, for medians.
// A tally with W == 0 predates weights: every respondent then weighs 1, so
// W = N and W2 = N.
type Tally struct {
	N     float64
	W     float64
	W2    float64
	Sum   float64
	SumSq float64
	Hist  map[float64]float64
}

// Add puts one observation of weight w into the tally.
func (t *Tally) Add(x, w float64, median bool) {
	t.normalise()
	t.N++
	t.W += w
	t.W2 += w * w
	t.Sum += w * x
	t.SumSq += w * x * x
	if median {
		if t.Hist == nil {
			t.Hist = map[float64]float64{}
		}
		t.Hist[x] += w
	}
}

// Merge adds another tally of the same indicator.
func (t *Tally) Merge(o Tally) {
	t.normalise()
	o.normalise()
	t.N += o.N
	t.W += o.W
	t.W2 += o.W2
	t.Sum += o.Sum
	t.SumSq += o.SumSq
	for v, c := range o.Hist {
		if t.Hist == nil {
			t.Hist = map[float64]float64{}
		}
		t.Hist[v] += c
	}
}

// normalise fills W and W2 of an unweighted tally.
func (t *Tally) normalise() {
	if t.W == 0 && t.N != 0 {
		t.W, t.W2 = t.N, t.N
	}
}

// Mean is the weighted mean Σw·x / Σw.
func (t Tally) Mean() float64 {
	t.normalise()
	if t.W == 0 {
		return 0
	}
	return t.Sum / t.W
}

// EffectiveN is Kish's effective sample size (Σw)²/Σw²: the number of
// equally weighted respondents that would give the same precision. It
// equals N when every weight is the same.
func (t Tally) EffectiveN() float64 {
	t.normalise()
	if t.W2 == 0 {
		return 0
	}
	return t.W * t.W / t.W2
}

// Variance is the weighted variance of the respondents' values,
// Σw·x²/Σw − mean², with the n/(n−1) correction on the effective n.
func (t Tally) Variance() float64 {
	t.normalise()
	if t.W == 0 {
		return 0
	}
	m := t.Sum / t.W
	v := math.Max(0, t.SumSq/t.W-m*m)
	if n := t.EffectiveN(); n > 1 {
		v *= n / (n - 1)
	}
	return v
}

// Policy holds the disclosure rules applied to every output.
type Policy struct {
	// MinN is the smallest effective denominator whose own (direct) value
	// is shown (default 30).
	MinN int `json:"min_n"`
	// HideBelow is the denominator under which nothing about the cell is
	// shown, not even its count, and the cell's answers are not used for
	// borrowed estimates (default 5).
	HideBelow int `json:"hide_below"`
}

// DefaultPolicy is papi's default disclosure rule.
var DefaultPolicy = Policy{MinN: 30, HideBelow: 5}

// withDefaults fills unset fields from DefaultPolicy.
func (p Policy) withDefaults() Policy {
	if p.MinN <= 0 {
		p.MinN = DefaultPolicy.MinN
	}
	if p.HideBelow <= 0 {
		p.HideBelow = DefaultPolicy.HideBelow
	}
	return p
}

// IndicatorResult is one indicator's value over a period. Pointers are nil
// when nothing is shown.
type IndicatorResult struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	NameEn      string   `json:"name_en"`
	Kind        Kind     `json:"kind"`
	Value       *float64 `json:"value"`
	Numerator   *float64 `json:"numerator"`
	Denominator *float64 `json:"denominator"`
	N           *int     `json:"n"`
	CILow       *float64 `json:"ci_low"`
	CIHigh      *float64 `json:"ci_high"`
	// Score is the value on PAPI's 1-10 scale.
	Score *float64 `json:"score"`
	// Suppressed is set when the commune's own value is withheld (fewer
	// than MinN respondents); a borrowed value may still be shown.
	Suppressed bool `json:"suppressed"`
	// Estimate is EstimateDirect or EstimateBorrowed when a value is
	// shown, empty otherwise.
	Estimate string `json:"estimate"`
	// OwnWeight (borrowed values only) is the weight of the commune's own
	// answers, 0 to 1; Area is where the rest is borrowed from.
	OwnWeight *float64 `json:"own_weight,omitempty"`
	Area      string   `json:"area,omitempty"`
	// InScore says whether the indicator counts in the composites.
	InScore bool `json:"in_score"`
	// Context is set on indicators that are shown but not scored.
	Context bool `json:"context,omitempty"`
	// se is the standard error of Score, for composite intervals.
	se float64
}

// SubdimensionResult is a sub-dimension's score, on 1/k to 10/k where k is
// the number of sub-dimensions in its dimension.
type SubdimensionResult struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	NameEn     string            `json:"name_en"`
	Score      *float64          `json:"score"`
	Borrowed   int               `json:"indicators_borrowed"`
	Indicators []IndicatorResult `json:"indicators"`
	mean, se   float64
}

// DimensionResult is a dimension's score, 1 to 10, with an approximate 95%
// interval; nil when most of its indicators have no value.
type DimensionResult struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	NameEn string   `json:"name_en"`
	Score  *float64 `json:"score"`
	CILow  *float64 `json:"ci_low"`
	CIHigh *float64 `json:"ci_high"`
	// Scored counts the indicators in the score, Borrowed those of them
	// that are borrowed estimates.
	Scored        int                  `json:"indicators_scored"`
	Borrowed      int                  `json:"indicators_borrowed"`
	Subdimensions []SubdimensionResult `json:"subdimensions"`
	se            float64
}

// Scores is the whole PAPI-style result for one set of responses.
type Scores struct {
	// Total is the sum of the eight dimensions (8 to 80), nil unless every
	// dimension is scored: partial dimensions are never summed.
	Total       *float64 `json:"total_score"`
	TotalCILow  *float64 `json:"total_ci_low"`
	TotalCIHigh *float64 `json:"total_ci_high"`
	// Scored and Borrowed count the indicators in the total and those of
	// them that are borrowed estimates.
	Scored     int               `json:"indicators_scored"`
	Borrowed   int               `json:"indicators_borrowed"`
	Dimensions []DimensionResult `json:"dimensions"`
	totalSE    float64
}

// Score computes every indicator value, interval and PAPI-scale score from
// tallies keyed by indicator id, from the respondents' own answers only
// (direct estimates), applying the disclosure policy.
//
// Indicator scores put the value on 1-10 with the indicator's theoretical
// scale: 1 + 9·(x−min)/(max−min), reversed when lower is better. A
// sub-dimension is the mean of its shown indicators' scores divided by k; a
// dimension is scored when at least half of its indicators are shown and is
// then k times the mean of its scored sub-dimensions (their sum when all are
// scored), so it spans 1 to 10.
func (c *Catalogue) Score(tallies map[string]Tally, p Policy) Scores {
	return c.score(tallies, p, nil)
}

// ScoreEstimated scores one commune with small-area estimates: indicators
// whose own value is not shown take the commune's borrowed estimate. Every
// indicator of e.Set then has a value in every commune, so composites are
// built from the same indicators everywhere; an indicator outside the set
// (answered in too few communes to estimate) counts only where its own
// value is shown, as in Score. Composites are then scored as in Score, with
// the correlation of borrowed values in their intervals. A nil e gives
// Score.
func (c *Catalogue) ScoreEstimated(code string, tallies map[string]Tally, p Policy, e *Estimates) Scores {
	if e == nil {
		return c.Score(tallies, p)
	}
	return c.score(tallies, p, &borrowing{values: e.Borrowed[code], rhoWithin: e.RhoWithin, rhoBetween: e.RhoBetween})
}

// borrowing is what small-area estimates add to scoring: the borrowed
// values and the correlations of deviations.
type borrowing struct {
	values                map[string]SmallArea
	rhoWithin, rhoBetween float64
}

// composite accumulates the variance of a mean of scores. Direct values'
// errors are independent (different respondents, or the same ones answering
// different questions: an approximation); a borrowed value's error has a
// part gᵢ from the commune's own unknown deviation, correlated across its
// indicators with ρ, so Var(Σxᵢ) = Σseᵢ² + ρ·((Σgᵢ)² − Σgᵢ²).
type composite struct {
	n, sum, v, g, gg float64
}

func (a *composite) add(score, se, g float64) {
	a.n++
	a.sum += score
	a.v += se * se
	a.g += g
	a.gg += g * g
}

// variance of the mean of what was added, and its g (the mean gᵢ).
func (a *composite) variance(rho float64) (v, g float64) {
	return (a.v + rho*(a.g*a.g-a.gg)) / (a.n * a.n), a.g / a.n
}

// score is Score when b is nil; otherwise it adds borrowed values.
func (c *Catalogue) score(tallies map[string]Tally, p Policy, b *borrowing) Scores {
	p = p.withDefaults()
	if b == nil {
		b = &borrowing{}
	}
	// Every result slice is allocated at its final length: growing them
	// was a third of scoring the city's 168 communes.
	out := Scores{Dimensions: make([]DimensionResult, 0, len(c.Dimensions))}
	var total composite
	allScored := true
	for _, d := range c.Dimensions {
		dr := DimensionResult{ID: d.ID, Name: d.Name.Vi, NameEn: d.Name.En, Subdimensions: make([]SubdimensionResult, 0, len(d.Subdimensions))}
		k := float64(len(d.Subdimensions))
		var dim composite
		indicators := 0
		for _, sd := range d.Subdimensions {
			sr := SubdimensionResult{ID: sd.ID, Name: sd.Name.Vi, NameEn: sd.Name.En, Indicators: make([]IndicatorResult, 0, len(sd.Indicators))}
			var sub composite
			for i := range sd.Indicators {
				ind := &sd.Indicators[i]
				ir := ind.result(tallies[ind.ID], p)
				g := 0.0
				if bv, ok := b.values[ind.ID]; ok && ir.Value == nil {
					ind.borrow(&ir, bv)
					g = bv.Spread * 9 / (ind.Rule.Scale.Max - ind.Rule.Scale.Min)
				}
				if !ind.Context {
					indicators++
					ir.InScore = ir.Score != nil
				}
				if ir.InScore {
					sub.add(*ir.Score, ir.se, g)
					dr.Scored++
					if ir.Estimate == EstimateBorrowed {
						sr.Borrowed++
					}
				}
				sr.Indicators = append(sr.Indicators, ir)
			}
			if sub.n > 0 {
				v, g := sub.variance(b.rhoWithin)
				sr.mean = sub.sum / sub.n
				sr.se = math.Sqrt(v)
				sr.Score = ptr(sr.mean / k)
				dim.add(sr.mean, sr.se, g)
				dr.Borrowed += sr.Borrowed
			}
			dr.Subdimensions = append(dr.Subdimensions, sr)
		}
		if dim.n > 0 && 2*dr.Scored >= indicators {
			v, g := dim.variance(b.rhoWithin)
			score := dim.sum / dim.n
			dr.se = math.Sqrt(v)
			dr.Score = ptr(score)
			dr.CILow = ptr(math.Max(1, score-1.96*dr.se))
			dr.CIHigh = ptr(math.Min(10, score+1.96*dr.se))
			total.add(score, dr.se, g)
			out.Scored += dr.Scored
			out.Borrowed += dr.Borrowed
		} else {
			allScored = false
		}
		out.Dimensions = append(out.Dimensions, dr)
	}
	if allScored && len(out.Dimensions) > 0 {
		// The total is the dimensions' sum: n times their mean.
		v, _ := total.variance(b.rhoBetween)
		out.totalSE = math.Sqrt(v) * total.n
		out.Total = ptr(total.sum)
		out.TotalCILow = ptr(total.sum - 1.96*out.totalSE)
		out.TotalCIHigh = ptr(total.sum + 1.96*out.totalSE)
	} else {
		out.Scored, out.Borrowed = 0, 0
	}
	return out
}

// borrow puts a borrowed estimate beside a withheld direct value (which
// stays Suppressed). The count stays as the disclosure rule allows; there is
// no numerator, which with the count would give away the withheld value.
func (ind *Indicator) borrow(r *IndicatorResult, b SmallArea) {
	r.Estimate = EstimateBorrowed
	r.Value, r.CILow, r.CIHigh = ptr(b.Value), ptr(b.CILow), ptr(b.CIHigh)
	r.OwnWeight, r.Area = ptr(b.OwnWeight), b.Area
	r.Score = ptr(ind.Rule.Scale.Normalise(b.Value))
	r.se = b.SE * 9 / (ind.Rule.Scale.Max - ind.Rule.Scale.Min)
}

// result computes one indicator from its tally.
func (ind *Indicator) result(t Tally, p Policy) IndicatorResult {
	r := IndicatorResult{ID: ind.ID, Name: ind.Name.Vi, NameEn: ind.Name.En, Kind: ind.Kind, Context: ind.Context}
	n := int(math.Round(t.N))
	if n < p.HideBelow {
		r.Suppressed = true
		return r
	}
	r.N = &n
	r.Denominator = ptr(t.N)
	// Weights lower the precision of a cell: the threshold applies to the
	// effective n, so a weighted value is never shown on fewer equivalent
	// respondents than an unweighted one.
	if !directShown(t, p) {
		r.Suppressed = true
		return r
	}
	r.Estimate = EstimateDirect
	// Weighted tallies use the weighted mean and Kish's effective n in the
	// interval formulas; with equal weights these are the plain ones.
	neff := t.EffectiveN()
	value := t.Mean()
	var lo, hi, se float64
	switch ind.Kind {
	case KindRatio:
		lo, hi = Wilson(value*neff, neff)
		se = math.Sqrt(value * (1 - value) / neff)
		r.Numerator = ptr(value * t.N)
	case KindMean:
		se = math.Sqrt(t.Variance() / neff)
		q := TQuantile975(neff - 1)
		if neff < 2 {
			se, q = 0, 0
		}
		lo, hi = value-q*se, value+q*se
		r.Numerator = ptr(value * t.N)
	case KindMedian:
		value, lo, hi = MedianInterval(scaledHist(t))
		// The median's standard error from its interval, for composites.
		se = (hi - lo) / (2 * 1.96)
	}
	r.Value, r.CILow, r.CIHigh = ptr(value), ptr(lo), ptr(hi)
	score := ind.Rule.Scale.Normalise(value)
	r.Score = ptr(score)
	r.se = se * 9 / (ind.Rule.Scale.Max - ind.Rule.Scale.Min)
	return r
}

// Normalise puts a value on PAPI's 1-10 scale.
func (s Scale) Normalise(x float64) float64 {
	f := (x - s.Min) / (s.Max - s.Min)
	f = math.Max(0, math.Min(1, f))
	if !s.HigherIsBetter {
		f = 1 - f
	}
	return 1 + 9*f
}

// Denormalise turns a 1-10 score back into the indicator's own unit.
func (s Scale) Denormalise(score float64) float64 {
	f := math.Max(0, math.Min(1, (score-1)/9))
	if !s.HigherIsBetter {
		f = 1 - f
	}
	return s.Min + f*(s.Max-s.Min)
}

// Wilson returns the 95% Wilson score interval of a proportion of successes
// out of n; it stays inside [0, 1] and behaves well near 0 and 1.
func Wilson(successes, n float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	const z = 1.959963984540054
	p := successes / n
	z2 := z * z
	centre := (p + z2/(2*n)) / (1 + z2/n)
	half := z * math.Sqrt(p*(1-p)/n+z2/(4*n*n)) / (1 + z2/n)
	return math.Max(0, centre-half), math.Min(1, centre+half)
}

// MeanInterval returns the 95% Student-t interval of a mean from its count,
// sum and sum of squares, and the standard error.
func MeanInterval(n, sum, sumSq float64) (lo, hi, se float64) {
	mean := sum / n
	if n < 2 {
		return mean, mean, 0
	}
	variance := (sumSq - n*mean*mean) / (n - 1)
	if variance < 0 { // rounding on constant data
		variance = 0
	}
	se = math.Sqrt(variance / n)
	t := TQuantile975(n - 1)
	return mean - t*se, mean + t*se, se
}

// TQuantile975 returns the 97.5th percentile of Student's t with df degrees
// of freedom (exact table to 30, then the Cornish-Fisher expansion, accurate
// to 1e-4).
func TQuantile975(df float64) float64 {
	table := []float64{0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
		2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
		2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042}
	if df < 1 {
		return math.Inf(1)
	}
	if df <= 30 && df == math.Trunc(df) {
		return table[int(df)]
	}
	const z = 1.959963984540054
	z3, z5, z7 := z*z*z, math.Pow(z, 5), math.Pow(z, 7)
	return z + (z3+z)/(4*df) + (5*z5+16*z3+3*z)/(96*df*df) + (3*z7+19*z5+17*z3-15*z)/(384*df*df*df)
}

// MedianInterval returns the median of a histogram of values and its
// distribution-free 95% interval: the order statistics at ranks
// n/2 ∓ 1.96·√n/2 (the binomial interval for the median), which needs no
// assumption about the shape of skewed amounts.
func MedianInterval(hist map[float64]float64) (median, lo, hi float64) {
	values := make([]float64, 0, len(hist))
	n := 0.0
	for v, c := range hist {
		values = append(values, v)
		n += c
	}
	if n == 0 {
		return 0, 0, 0
	}
	sort.Float64s(values)
	// at returns the value of rank r (1-based) in sorted order.
	at := func(r float64) float64 {
		r = math.Max(1, math.Min(n, r))
		cum := 0.0
		for _, v := range values {
			cum += hist[v]
			if cum >= r {
				return v
			}
		}
		return values[len(values)-1]
	}
	if int(n)%2 == 1 {
		median = at((n + 1) / 2)
	} else {
		median = (at(n/2) + at(n/2+1)) / 2
	}
	half := 1.959963984540054 * math.Sqrt(n) / 2
	return median, at(math.Floor(n/2 - half)), at(math.Ceil(n/2 + 1 + half))
}

func ptr[T any](v T) *T { return &v }

// Change is how a score moved against the previous period of the same
// length, and whether the move is larger than its uncertainty (the 95%
// interval of the difference excludes zero).
type Change struct {
	ID          string   `json:"id"`
	Previous    *float64 `json:"previous"`
	Change      *float64 `json:"change"`
	Significant bool     `json:"significant"`
}

// Changes compares each dimension and the total with a previous period.
func Changes(cur, prev Scores) []Change {
	diff := func(id string, a, b *float64, seA, seB float64) Change {
		ch := Change{ID: id, Previous: b}
		if a != nil && b != nil {
			d := *a - *b
			ch.Change = &d
			ch.Significant = math.Abs(d) > 1.96*math.Sqrt(seA*seA+seB*seB)
		}
		return ch
	}
	out := []Change{diff("total", cur.Total, prev.Total, cur.totalSE, prev.totalSE)}
	for i, d := range cur.Dimensions {
		if i < len(prev.Dimensions) {
			p := prev.Dimensions[i]
			out = append(out, diff(d.ID, d.Score, p.Score, d.se, p.se))
		}
	}
	return out
}
