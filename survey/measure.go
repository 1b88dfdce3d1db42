package survey

import (
	"math"
	"slices"
)

// Observation is one respondent's contribution to one indicator: they are in
// its denominator, with value X (1 or 0 for a ratio, the coded value for a
// mean or median) and design weight W, the inverse of the probability that
// the visit was asked the indicator's module.
type Observation struct {
	Indicator string
	X         float64
	W         float64
}

// Observe applies every indicator's rule to one visit and returns the
// observations of the indicators this respondent counts for. An indicator is
// left out when its question was not shown (another rotating module, or
// hidden by skip logic), when it does not apply to the respondent (applies_if)
// or when the answer is missing or excluded (e.g. "don't know").
func (c *Catalogue) Observe(v Visit) []Observation {
	var out []Observation
	c.observe(v, func(_ *Indicator, o Observation) { out = append(out, o) })
	return out
}

// observe passes each observation of a visit, in catalogue order, to keep
// with its indicator.
func (c *Catalogue) observe(v Visit, keep func(*Indicator, Observation)) {
	r := c.responseTo(v)
	defer r.release()
	weights := make([]float64, len(c.Modules))
	for m := range c.Modules {
		weights[m] = v.weight(c.Modules[m].ID)
	}
	for k := range c.ix.rules {
		rule := &c.ix.rules[k]
		if x, ok := r.measure(rule); ok {
			keep(rule.ind, Observation{Indicator: rule.ind.ID, X: x, W: weights[rule.module]})
		}
	}
}

// weight is the design weight of the visit's answers in a module: the
// inverse of the probability the module was assigned (1 when unrecorded).
func (v Visit) weight(module string) float64 {
	if p, ok := v.Probs[module]; ok && p > 0 && p <= 1 {
		return 1 / p
	}
	return 1
}

// Credit is the part of one visit's observations that counts for one
// commune.
type Credit struct {
	Commune      string
	Observations []Observation
}

// Credits splits a visit's observations between the communes they describe.
// Indicators about the service (About == AboutService) count for the commune
// of the centre visited; indicators about the respondent's locality count
// for the commune where the respondent lives, and not at all when they live
// outside the city. A visit without a stated residence (catalogue 2025.1)
// credits everything to the commune visited.
func (c *Catalogue) Credits(v Visit, visited string) []Credit {
	home := visited
	switch v.Residence {
	case ResidenceOther:
		home = v.ResidenceCommune
	case ResidenceOutside:
		home = ""
	}
	if home == visited {
		return []Credit{{Commune: visited, Observations: c.Observe(v)}}
	}
	service := Credit{Commune: visited}
	locality := Credit{Commune: home}
	c.observe(v, func(ind *Indicator, o Observation) {
		if ind.About == AboutService {
			service.Observations = append(service.Observations, o)
		} else if home != "" {
			locality.Observations = append(locality.Observations, o)
		}
	})
	out := []Credit{service}
	if home != "" {
		out = append(out, locality)
	}
	return out
}

// measure returns the respondent's value for an indicator, and whether they
// count for it at all.
func (r *response) measure(rule *compiledRule) (float64, bool) {
	ind := rule.ind
	rl := &ind.Rule
	if rule.appliesIf != nil && !r.holds(rule.appliesIf) {
		return 0, false
	}
	if len(rule.items) > 0 {
		return r.measureItems(rule)
	}
	if !r.shown[rule.question] {
		return 0, false
	}
	ans := &r.vals[rule.question]
	if !ans.present {
		return 0, false
	}
	values := ans.strs
	if slices.ContainsFunc(values, func(v string) bool { return slices.Contains(rl.Exclude, v) }) {
		return 0, false
	}
	switch {
	case ind.Kind == KindRatio:
		if slices.ContainsFunc(values, func(v string) bool { return slices.Contains(rl.Numerator, v) }) {
			return 1, true
		}
		return 0, true
	case rl.FromNumber != nil && values[0] == rl.FromNumber.When:
		n, ok := r.vals[rule.fromNumber].v.(float64)
		if !ok || !r.shown[rule.fromNumber] {
			return 0, false
		}
		// Capped at the scale, so that "from a very large amount" and
		// "never" both sit at the top.
		return math.Max(rl.Scale.Min, math.Min(rl.Scale.Max, n)), true
	case len(rl.Points) > 0:
		p, ok := rl.Points[values[0]]
		return p, ok
	case len(rl.Count) > 0:
		n := 0
		for _, v := range values {
			if slices.Contains(rl.Count, v) {
				n++
			}
		}
		return float64(n), true
	}
	x, ok := ans.v.(float64)
	return x, ok
}

// measureItems returns the share of a grid's items that the respondent
// rated (shown, answered and not excluded) and found met; a respondent who
// rated none does not count.
func (r *response) measureItems(rule *compiledRule) (float64, bool) {
	rl := &rule.ind.Rule
	met, rated := 0, 0
	for _, i := range rule.items {
		s, ok := r.vals[i].v.(string)
		if !ok || slices.Contains(rl.Exclude, s) || !r.shown[i] {
			continue
		}
		rated++
		if slices.Contains(rl.Numerator, s) {
			met++
		}
	}
	if rated == 0 {
		return 0, false
	}
	return float64(met) / float64(rated), true
}

// AssignModules returns the modules of the visit with sequence number seq at
// a centre, in catalogue order: the modules that do not rotate (core first)
// plus one rotating module, taken in turn so that over any run of
// consecutive visits the rotating modules are asked equally often.
func (c *Catalogue) AssignModules(seq uint64) []string {
	rot := c.RotatingModules()
	if len(rot) == 0 {
		return c.FixedModules()
	}
	pick := rot[seq%uint64(len(rot))]
	var out []string
	for _, m := range c.Modules {
		if !m.Rotating || m.ID == pick {
			out = append(out, m.ID)
		}
	}
	return out
}

// AllModules returns every module id, for the full questionnaire.
func (c *Catalogue) AllModules() []string {
	out := make([]string, len(c.Modules))
	for i, m := range c.Modules {
		out[i] = m.ID
	}
	return out
}
