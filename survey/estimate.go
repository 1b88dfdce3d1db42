package survey

import (
	"maps"
	"math"
	"slices"
)

// How an indicator value was obtained.
const (
	// EstimateDirect is the commune's own answers alone.
	EstimateDirect = "direct"
	// EstimateBorrowed is an empirical-Bayes (small-area) estimate that
	// combines the commune's own answers with its area's distribution.
	EstimateBorrowed = "borrowed"
)

// AreaCity names the whole city as the area a borrowed estimate draws on.
const AreaCity = "city"

// MinAreaCommunes is the fewest communes with answers (N ≥ HideBelow) for an
// indicator that an area needs before its between-commune distribution is
// fitted: below it the spread between communes is not estimable. A former
// province that falls short hands over to the whole city; an indicator that
// falls short city-wide gets no borrowed values.
const MinAreaCommunes = 10

// MinPooled is the fewest answers in the whole city for a pooled model of
// an indicator answered in fewer than MinAreaCommunes communes.
const MinPooled = 30

// SmallArea is one commune's borrowed estimate of one indicator, in the
// indicator's own unit.
type SmallArea struct {
	Value  float64
	CILow  float64
	CIHigh float64
	// SE is the posterior standard deviation (root mean squared error).
	SE float64
	// OwnWeight is the weight of the commune's own answers (0 to 1); the
	// rest comes from the area. It is 0 when the commune has fewer than
	// HideBelow answers, which are then not used at all.
	OwnWeight float64
	// Area is the former province whose communes the estimate borrows
	// from, or AreaCity.
	Area string
	// Spread is (1 − OwnWeight)·τ: the standard deviation of the part of
	// the error that comes from the commune's unknown deviation from its
	// area. Deviations of one commune's indicators are correlated, so
	// composites add covariance terms built from it (see Estimates.Rho…).
	Spread float64
}

// AreaModel is the fitted between-commune distribution of one indicator in
// one area (see README, "Small-area estimates").
type AreaModel struct {
	Indicator string  `json:"indicator"`
	Area      string  `json:"area"`
	Communes  int     `json:"communes"`
	Mean      float64 `json:"mean"`
	MeanVar   float64 `json:"mean_var"`
	Tau2      float64 `json:"tau2"`
	Tau2Var   float64 `json:"tau2_var"`
	// Sigma2 is the pooled within-commune variance: a commune with
	// effective n respondents has sampling variance Sigma2/n.
	Sigma2 float64 `json:"sigma2"`
	// Pooled is set when too few communes answered the indicator to fit
	// its spread: the model is the city's pooled mean with the spread of
	// the indicators that could be fitted (pooledModel).
	Pooled bool `json:"pooled,omitempty"`
}

// Estimates are the small-area estimates of every commune for one period.
type Estimates struct {
	// Borrowed holds, per commune and indicator, the borrowed estimate of
	// every scored indicator whose direct value is not shown.
	Borrowed map[string]map[string]SmallArea
	// Set holds the non-context indicators for which every commune has a
	// value, direct or borrowed: the indicators every commune's composites
	// share (see ScoreEstimated).
	Set map[string]bool
	// Models are the fitted area distributions, by indicator then area.
	Models map[string]map[string]AreaModel
	// RhoWithin and RhoBetween are the correlations between a commune's
	// deviations from its area on two indicators (on the 1-10 scale) of
	// the same dimension and of different dimensions, estimated from the
	// communes' standardised residuals; composites use them for the
	// covariance of borrowed values.
	RhoWithin  float64
	RhoBetween float64
}

// communeObs is what one commune's tally tells the area fit.
type communeObs struct {
	y   float64 // direct value: weighted mean, or median
	n   float64 // effective n
	s2  float64 // within-commune variance of the values
	iqr float64 // for medians: the interquartile range of the values
}

// Estimate fits, for every scored indicator, the between-commune
// distribution of each former province (or of the city when a province has
// too few communes with answers) and gives every commune whose own value is
// not shown (effective n below MinN) a borrowed estimate. Ratios use a
// beta-binomial model, means and medians a normal (Fay–Herriot) model; the
// README names the formulas. data holds each commune's tallies; communes
// missing from it have no answers and get their area's distribution.
func (c *Catalogue) Estimate(communes []Commune, data map[string]map[string]Tally, p Policy) *Estimates {
	return c.estimate(communes, data, p, nil)
}

// estimate is Estimate computing borrowed values only for the communes in
// only (all when nil); the fits and the indicator set still use every
// commune.
func (c *Catalogue) estimate(communes []Commune, data map[string]map[string]Tally, p Policy, only map[string]bool) *Estimates {
	p = p.withDefaults()
	e := &Estimates{Borrowed: map[string]map[string]SmallArea{}, Set: map[string]bool{}, Models: map[string]map[string]AreaModel{}}
	for _, cm := range communes {
		e.Borrowed[cm.Code] = map[string]SmallArea{}
	}
	// obs[id][j] is commune j's observation of indicator id; nil when its
	// answers may not be used.
	obs := map[string][]*communeObs{}
	fitted := map[string]map[string]AreaModel{}
	var scored []*Indicator
	for _, ind := range c.Indicators() {
		if ind.Context {
			continue
		}
		scored = append(scored, ind)
		own := make([]*communeObs, len(communes))
		for j, cm := range communes {
			if t := data[cm.Code][ind.ID]; used(t, p) {
				o := observe(ind, t)
				own[j] = &o
			}
		}
		obs[ind.ID] = own
		fitted[ind.ID] = fitModels(ind, communes, own)
	}
	share := between(fitted)
	for _, ind := range scored {
		own, models := obs[ind.ID], fitted[ind.ID]
		if _, ok := models[AreaCity]; !ok {
			if m, ok := pooledModel(ind, communes, data, share); ok {
				models[AreaCity] = m
			}
		}
		if len(models) > 0 {
			e.Models[ind.ID] = models
		}
		complete := true
		prior := map[string]SmallArea{} // by area: the same for every commune without usable answers
		for j, cm := range communes {
			if directShown(data[cm.Code][ind.ID], p) {
				continue
			}
			m, ok := modelFor(models, cm)
			if !ok {
				complete = false
				continue
			}
			if only != nil && !only[cm.Code] {
				continue
			}
			if own[j] != nil {
				e.Borrowed[cm.Code][ind.ID] = m.posterior(ind, own[j])
				continue
			}
			if _, done := prior[m.Area]; !done {
				prior[m.Area] = m.posterior(ind, nil)
			}
			e.Borrowed[cm.Code][ind.ID] = prior[m.Area]
		}
		if complete {
			e.Set[ind.ID] = true
		}
	}
	e.RhoWithin, e.RhoBetween = c.correlations(communes, obs, e)
	return e
}

// fitModels fits the indicator's distribution in each former province with
// enough communes with answers, and in the city.
func fitModels(ind *Indicator, communes []Commune, own []*communeObs) map[string]AreaModel {
	var all []communeObs
	byArea := map[string][]communeObs{}
	for j, cm := range communes {
		if o := own[j]; o != nil {
			all = append(all, *o)
			byArea[cm.FormerProvince] = append(byArea[cm.FormerProvince], *o)
		}
	}
	models := map[string]AreaModel{}
	if len(all) < MinAreaCommunes {
		return models
	}
	models[AreaCity] = fitArea(ind, AreaCity, all)
	for area, o := range byArea {
		if len(o) >= MinAreaCommunes {
			models[area] = fitArea(ind, area, o)
		}
	}
	return models
}

// between is the median share of an indicator's variance that lies between
// communes, τ²/(τ² + σ²), over the indicators fitted city-wide: what a
// pooled model assumes for an indicator too rare to fit (see pooledModel).
// Zero when none could be fitted.
func between(fitted map[string]map[string]AreaModel) float64 {
	var shares []float64
	for _, models := range fitted {
		if m, ok := models[AreaCity]; ok && m.Tau2+m.Sigma2 > 0 {
			shares = append(shares, m.Tau2/(m.Tau2+m.Sigma2))
		}
	}
	if len(shares) == 0 {
		return 0
	}
	slices.Sort(shares)
	return shares[len(shares)/2]
}

// pooledModel is the city's distribution of an indicator answered in too
// few communes to fit one (fewer than MinAreaCommunes with HideBelow
// answers): its mean is the mean of every answer in the city (at least
// MinPooled of them, from at least two communes), σ² their variance, and τ²
// = σ²·ρ/(1 − ρ) with ρ the between-commune share of the indicators that
// could be fitted (between). Var(μ̂) is τ²/k + σ²/N for N answers from k
// communes, and Var(τ̂²) that of an estimate from k communes, 2τ⁴/(k − 1),
// so thin evidence gives wide intervals. The answers of communes below
// HideBelow enter only this city-wide mean, never a commune's own value.
func pooledModel(ind *Indicator, communes []Commune, data map[string]map[string]Tally, rho float64) (AreaModel, bool) {
	if rho <= 0 || rho >= 1 {
		return AreaModel{}, false
	}
	var all Tally
	k := 0
	for _, cm := range communes {
		t, ok := data[cm.Code][ind.ID]
		if !ok || t.N <= 0 {
			continue
		}
		all.Merge(t)
		k++
	}
	if k < 2 || all.N < MinPooled {
		return AreaModel{}, false
	}
	pooled := observe(ind, all)
	sigma2 := pooledVariance(ind, []communeObs{pooled})
	tau2 := sigma2 * rho / (1 - rho)
	return AreaModel{Indicator: ind.ID, Area: AreaCity, Communes: k, Pooled: true,
		Mean: pooled.y, MeanVar: tau2/float64(k) + sigma2/pooled.n,
		Tau2: tau2, Tau2Var: 2 * tau2 * tau2 / float64(k-1), Sigma2: sigma2}, true
}

// modelFor is the distribution a commune borrows from: its former
// province's, else the city's.
func modelFor(models map[string]AreaModel, cm Commune) (AreaModel, bool) {
	if m, ok := models[cm.FormerProvince]; ok {
		return m, true
	}
	m, ok := models[AreaCity]
	return m, ok
}

// used reports whether a tally's answers may inform estimates: at least
// HideBelow of them (fewer are never used, for privacy).
func used(t Tally, p Policy) bool {
	return int(math.Round(t.N)) >= p.HideBelow && t.EffectiveN() > 0
}

// correlations estimates the correlation of one commune's deviations from
// its area on two indicators, for pairs in the same dimension and in
// different ones. Each commune's answers give standardised residuals
// rᵢ = ±(ȳᵢ − μᵢ)/√(τᵢ² + Dᵢ) (signed so that higher is better), whose
// products have expectation ρ·sᵢ·sₖ with sᵢ = τᵢ/√(τᵢ² + Dᵢ) when sampling
// errors are independent across indicators; ρ̂ = Σ rᵢrₖ / Σ sᵢsₖ over the
// pairs, kept within [0, 0.99] (a negative estimate is taken as none).
func (c *Catalogue) correlations(communes []Commune, obs map[string][]*communeObs, e *Estimates) (within, between float64) {
	var numW, denW, numB, denB float64
	for j, cm := range communes {
		var rAll, sAll, rSq, sSq float64 // over dimensions, of per-dimension sums
		for _, d := range c.Dimensions {
			var r, s, rr, ss float64
			for _, sd := range d.Subdimensions {
				for i := range sd.Indicators {
					ind := &sd.Indicators[i]
					if ind.Context || obs[ind.ID][j] == nil {
						continue
					}
					m, ok := modelFor(e.Models[ind.ID], cm)
					if !ok {
						continue
					}
					o := obs[ind.ID][j]
					v := m.Tau2 + m.Sigma2/o.n
					ri, si := (o.y-m.Mean)/math.Sqrt(v), math.Sqrt(m.Tau2/v)
					if !ind.Rule.Scale.HigherIsBetter {
						ri = -ri
					}
					r, s, rr, ss = r+ri, s+si, rr+ri*ri, ss+si*si
				}
			}
			numW += (r*r - rr) / 2
			denW += (s*s - ss) / 2
			rAll, sAll, rSq, sSq = rAll+r, sAll+s, rSq+r*r, sSq+s*s
		}
		numB += (rAll*rAll - rSq) / 2
		denB += (sAll*sAll - sSq) / 2
	}
	clamp := func(num, den float64) float64 {
		if den <= 0 {
			return 0
		}
		return math.Min(0.99, math.Max(0, num/den))
	}
	return clamp(numW, denW), clamp(numB, denB)
}

// directShown reports whether a tally's own value is shown: at least MinN
// respondents, counted and effective.
func directShown(t Tally, p Policy) bool {
	n := int(math.Round(t.N))
	return n >= p.HideBelow && n >= p.MinN && t.EffectiveN() >= float64(p.MinN)-1e-9
}

// observe is what a commune's tally of an indicator tells the fit.
func observe(ind *Indicator, t Tally) communeObs {
	o := communeObs{y: t.Mean(), n: t.EffectiveN(), s2: t.Variance()}
	if ind.Kind == KindMedian {
		h := scaledHist(t)
		o.y, _, _ = MedianInterval(h)
		o.iqr = quantileOf(h, 0.75) - quantileOf(h, 0.25)
	}
	return o
}

// fitArea fits the area's distribution of an indicator's true commune
// values: mean μ and between-commune variance τ², from the communes' direct
// values ȳⱼ with sampling variances Dⱼ = σ²/nⱼ.
func fitArea(ind *Indicator, area string, obs []communeObs) AreaModel {
	sigma2 := pooledVariance(ind, obs)
	y := make([]float64, len(obs))
	d := make([]float64, len(obs))
	for j, o := range obs {
		y[j], d[j] = o.y, sigma2/o.n
	}
	f := fitFayHerriot(y, d)
	return AreaModel{Indicator: ind.ID, Area: area, Communes: len(obs), Mean: f.mu, MeanVar: f.muVar, Tau2: f.tau2, Tau2Var: f.tau2Var, Sigma2: sigma2}
}

// pooledVariance is σ², the within-commune variance pooled over the area:
// Σ(nⱼ−1)sⱼ²/Σ(nⱼ−1) for ratios and means. For medians it is the
// asymptotic variance of a median times n, 1/(4f²), with the density f at
// the median taken as normal with the pooled interquartile range:
// σ² = (π/2)·(IQR/1.349)². (The order-statistic interval of each commune
// is too coarse below 30 answers: at n ≈ 8 it spans the whole sample and
// overstated σ² fourfold in the simulation, so that nothing was borrowed.)
func pooledVariance(ind *Indicator, obs []communeObs) float64 {
	num, den := 0.0, 0.0
	for _, o := range obs {
		if o.n > 1 {
			num += (o.n - 1) * o.s2
			den += o.n - 1
		}
	}
	within := 0.0
	if den > 0 {
		within = num / den
	}
	span := ind.Rule.Scale.Max - ind.Rule.Scale.Min
	if ind.Kind == KindMedian {
		// Amounts with heavy ties can have no spread between quartiles:
		// the values' own variance then stands in.
		if iqr2 := pooledIQR2(obs); iqr2 > 0 {
			within = iqr2 / (1.349 * 1.349)
		}
		within *= math.Pi / 2
	}
	// Every answer the same everywhere: keep a sliver of variance so the
	// model stays defined (it then shrinks hard, as it should).
	return math.Max(within, 1e-6*span*span)
}

// pooledIQR2 is the n-weighted mean squared interquartile range, from the
// communes with at least 10 answers when there are any (smaller samples
// understate it).
func pooledIQR2(obs []communeObs) float64 {
	for _, minN := range []float64{10, 0} {
		num, den := 0.0, 0.0
		for _, o := range obs {
			if o.n >= minN {
				num += o.n * o.iqr * o.iqr
				den += o.n
			}
		}
		if den > 0 {
			return num / den
		}
	}
	return 0
}

// fhFit is a fitted Fay–Herriot model: yⱼ ~ N(μ, τ² + Dⱼ).
type fhFit struct {
	mu, muVar, tau2, tau2Var float64
}

// fhGroup holds the sufficient statistics of the areas sharing one
// sampling variance d: their number, Σy and Σy². Many communes share an
// effective n, so the likelihood runs over the groups, not the communes.
type fhGroup struct {
	d, n, sy, syy float64
}

// fitFayHerriot estimates τ² by adjusted residual maximum likelihood (Li and
// Lahiri 2010: REML times τ², which keeps τ² strictly positive, so no
// commune is shrunk all the way to the mean by a chance estimate of zero),
// then μ by weighted least squares with weights 1/(τ² + Dⱼ).
func fitFayHerriot(y, d []float64) fhFit {
	byD := map[float64]*fhGroup{}
	var groups []*fhGroup
	mean, maxD, minD := 0.0, 0.0, math.Inf(1)
	for j := range y {
		g := byD[d[j]]
		if g == nil {
			g = &fhGroup{d: d[j]}
			byD[d[j]] = g
			groups = append(groups, g)
		}
		g.n++
		g.sy += y[j]
		g.syy += y[j] * y[j]
		mean += y[j] / float64(len(y))
		maxD = math.Max(maxD, d[j])
		minD = math.Min(minD, d[j])
	}
	raw := 0.0
	for _, v := range y {
		raw += (v - mean) * (v - mean) / float64(len(y))
	}
	// Search log τ² over a range wide enough for any indicator: from a
	// millionth of the smallest sampling variance to a hundred times the
	// raw variance of the values plus the largest sampling variance.
	logTau2 := argmax(func(x float64) float64 { return adjustedREML(groups, math.Exp(x)) }, math.Log(minD*1e-6), math.Log(100*(raw+maxD)))
	tau2 := math.Exp(logTau2)
	sw, swy, sw2 := 0.0, 0.0, 0.0
	for _, g := range groups {
		w := 1 / (tau2 + g.d)
		sw += g.n * w
		swy += w * g.sy
		sw2 += g.n * w * w
	}
	// The asymptotic variance of the REML estimate of τ² is 2/Σwⱼ².
	return fhFit{mu: swy / sw, muVar: 1 / sw, tau2: tau2, tau2Var: 2 / sw2}
}

// argmax finds the maximum of f on [lo, hi]: a grid of 24 steps finds the
// peak's neighbourhood, golden-section search refines it to about 1e-5 of
// the range, far finer than the data can tell.
func argmax(f func(float64) float64, lo, hi float64) float64 {
	const grid = 24
	best, bestF := lo, math.Inf(-1)
	for i := 0; i <= grid; i++ {
		x := lo + (hi-lo)*float64(i)/grid
		if v := f(x); v > bestF {
			best, bestF = x, v
		}
	}
	step := (hi - lo) / grid
	a, b := best-step, best+step
	const phi = 0.6180339887498949
	x1, x2 := b-phi*(b-a), a+phi*(b-a)
	f1, f2 := f(x1), f(x2)
	for i := 0; i < 28; i++ {
		if f1 < f2 {
			a, x1, f1 = x1, x2, f2
			x2 = a + phi*(b-a)
			f2 = f(x2)
		} else {
			b, x2, f2 = x2, x1, f1
			x1 = b - phi*(b-a)
			f1 = f(x1)
		}
	}
	return (a + b) / 2
}

// adjustedREML is log τ² plus the residual log-likelihood of the
// Fay–Herriot model at τ²: −½(Σ log vⱼ + log Σwⱼ + Σwⱼ(yⱼ − μ̂)²), with
// vⱼ = τ² + Dⱼ and wⱼ = 1/vⱼ.
func adjustedREML(groups []*fhGroup, tau2 float64) float64 {
	sw, swy, swyy, logDet := 0.0, 0.0, 0.0, 0.0
	for _, g := range groups {
		v := tau2 + g.d
		sw += g.n / v
		swy += g.sy / v
		swyy += g.syy / v
		logDet += g.n * math.Log(v)
	}
	mu := swy / sw
	// Σwⱼ(yⱼ − μ)² = Σwⱼyⱼ² − 2μΣwⱼyⱼ + μ²Σwⱼ = Σwⱼyⱼ² − μ·Σwⱼyⱼ.
	q := math.Max(0, swyy-mu*swy)
	return math.Log(tau2) - 0.5*(logDet+math.Log(sw)+q)
}

// posterior is the borrowed estimate of a commune with own observation own
// (nil when it has fewer than HideBelow answers: the area's distribution
// alone).
func (m AreaModel) posterior(ind *Indicator, own *communeObs) SmallArea {
	if ind.Kind == KindRatio {
		return m.betaPosterior(own)
	}
	return m.normalPosterior(own)
}

// betaPosterior: the prior Beta(α, β) has the area's mean μ and variance
// τ² + Var(μ̂) (so the uncertainty of μ̂ widens it); with y "successes" out
// of an effective n the posterior is Beta(α + y, β + n − y), and the
// interval its 2.5 and 97.5 % quantiles.
func (m AreaModel) betaPosterior(own *communeObs) SmallArea {
	mu := math.Min(math.Max(m.Mean, 1e-6), 1-1e-6)
	v := math.Min(m.Tau2+m.MeanVar, 0.999*mu*(1-mu))
	strength := mu*(1-mu)/v - 1 // α + β
	a, b := mu*strength, (1-mu)*strength
	out := SmallArea{Area: m.Area}
	if own != nil {
		y := own.y * own.n
		a, b = a+y, b+own.n-y
		out.OwnWeight = own.n / (strength + own.n)
	}
	out.Value = a / (a + b)
	out.Spread = (1 - out.OwnWeight) * math.Sqrt(m.Tau2)
	out.SE = math.Sqrt(a * b / ((a + b) * (a + b) * (a + b + 1)))
	out.CILow, out.CIHigh = BetaQuantile(0.025, a, b), BetaQuantile(0.975, a, b)
	return out
}

// normalPosterior: shrinkage B = τ²/(τ² + σ²/n), estimate B·ȳ + (1−B)·μ̂,
// and mean squared error g₁ + g₂ + 2g₃ (Prasad and Rao; Datta and Lahiri for
// REML): g₁ = B·σ²/n, g₂ = (1−B)²·Var(μ̂) for the uncertainty of μ̂, g₃ =
// (σ²/n)²/(τ² + σ²/n)³·Var(τ̂²) for that of τ̂². The interval is ±1.96 root
// MSE.
func (m AreaModel) normalPosterior(own *communeObs) SmallArea {
	out := SmallArea{Area: m.Area, Value: m.Mean}
	mse := m.Tau2 + m.MeanVar
	if own != nil {
		d := m.Sigma2 / own.n
		b := m.Tau2 / (m.Tau2 + d)
		out.OwnWeight = b
		out.Value = b*own.y + (1-b)*m.Mean
		g3 := d * d / math.Pow(m.Tau2+d, 3) * m.Tau2Var
		mse = b*d + (1-b)*(1-b)*m.MeanVar + 2*g3
	}
	out.Spread = (1 - out.OwnWeight) * math.Sqrt(m.Tau2)
	out.SE = math.Sqrt(mse)
	out.CILow, out.CIHigh = out.Value-1.959963984540054*out.SE, out.Value+1.959963984540054*out.SE
	return out
}

// scaledHist is a tally's histogram with weights rescaled to sum to the
// effective n, so order-statistic intervals reflect the weighted precision.
func scaledHist(t Tally) map[float64]float64 {
	t.normalise()
	neff := t.EffectiveN()
	if t.W == 0 || t.W == neff {
		return t.Hist
	}
	hist := make(map[float64]float64, len(t.Hist))
	for v, w := range t.Hist {
		hist[v] = w * neff / t.W
	}
	return hist
}

// quantileOf is the value of rank q·n in a histogram of total weight n (the
// smallest value whose cumulative weight reaches it).
func quantileOf(hist map[float64]float64, q float64) float64 {
	values := slices.Sorted(maps.Keys(hist))
	n := 0.0
	for _, c := range hist {
		n += c
	}
	cum := 0.0
	for _, v := range values {
		cum += hist[v]
		if cum >= q*n {
			return v
		}
	}
	if len(values) == 0 {
		return 0
	}
	return values[len(values)-1]
}

// BetaInc is the regularised incomplete beta function Iₓ(a, b), the
// cumulative distribution of Beta(a, b) at x, by the continued fraction of
// Numerical Recipes §6.4 (evaluated with the modified Lentz method).
func BetaInc(x, a, b float64) float64 { return betaInc(x, a, b, logBeta(a, b)) }

// logBeta is log B(a, b).
func logBeta(a, b float64) float64 {
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	return la + lb - lab
}

func betaInc(x, a, b, logB float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	front := math.Exp(a*math.Log(x) + b*math.Log1p(-x) - logB)
	// The fraction converges fast only left of the mean; use the symmetry
	// Iₓ(a, b) = 1 − I₁₋ₓ(b, a) on the right.
	if x < (a+1)/(a+b+2) {
		return front * betaFraction(x, a, b) / a
	}
	return 1 - front*betaFraction(1-x, b, a)/b
}

func betaFraction(x, a, b float64) float64 {
	const tiny = 1e-300
	const eps = 1e-15
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1-qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 10000; m++ {
		fm := float64(m)
		m2 := 2 * fm
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return h
}

// BetaQuantile returns the x with Iₓ(a, b) = p: Halley steps on the
// distribution function from the initial guess of Numerical Recipes §6.14,
// kept inside a shrinking bracket by bisection so it converges for every
// a, b > 0.
func BetaQuantile(p, a, b float64) float64 {
	switch {
	case p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	logB := logBeta(a, b)
	lo, hi := 0.0, 1.0
	x := betaGuess(p, a, b)
	for i := 0; i < 200; i++ {
		f := betaInc(x, a, b, logB) - p
		if f == 0 {
			return x
		}
		if f < 0 {
			lo = x
		} else {
			hi = x
		}
		pdf := math.Exp((a-1)*math.Log(x) + (b-1)*math.Log1p(-x) - logB)
		// Newton's step u, with Halley's curvature correction kept
		// within a factor of two of it.
		u := f / pdf
		step := u / (1 - 0.5*math.Max(-1, math.Min(1, u*((a-1)/x-(b-1)/(1-x)))))
		next := x - step
		switch {
		case pdf == 0 || math.IsNaN(next) || next <= lo || next >= hi:
			next = (lo + hi) / 2
		case math.Abs(u) <= 1e-9*math.Min(x, 1-x):
			// Converged: the error left is of the order of the square of
			// a Newton step this small.
			return next
		}
		x = next
	}
	return x
}

// betaGuess is a first approximation of the p quantile of Beta(a, b):
// Abramowitz and Stegun 26.5.22 when a, b ≥ 1, otherwise from the
// distribution's behaviour near 0 and 1 (Numerical Recipes §6.14).
func betaGuess(p, a, b float64) float64 {
	if a >= 1 && b >= 1 {
		pp := p
		if p >= 0.5 {
			pp = 1 - p
		}
		t := math.Sqrt(-2 * math.Log(pp))
		x := (2.30753+t*0.27061)/(1+t*(0.99229+t*0.04481)) - t
		if p < 0.5 {
			x = -x
		}
		al := (x*x - 3) / 6
		h := 2 / (1/(2*a-1) + 1/(2*b-1))
		w := x*math.Sqrt(al+h)/h - (1/(2*b-1)-1/(2*a-1))*(al+5.0/6-2/(3*h))
		return a / (a + b*math.Exp(2*w))
	}
	lna, lnb := math.Log(a/(a+b)), math.Log(b/(a+b))
	t := math.Exp(a*lna) / a
	u := math.Exp(b*lnb) / b
	w := t + u
	if p < t/w {
		return math.Pow(a*w*p, 1/a)
	}
	return 1 - math.Pow(b*w*(1-p), 1/b)
}
