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
	modules := c.moduleSet(v.Modules)
	var out []Observation
	for _, ind := range c.Indicators() {
		if x, ok := c.measure(ind, modules, v.Answers); ok {
			out = append(out, Observation{Indicator: ind.ID, X: x, W: v.weight(c.questions[ind.Rule.Questions()[0]].Module)})
		}
	}
	return out
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
	obs := c.Observe(v)
	home := visited
	switch v.Residence {
	case ResidenceOther:
		home = v.ResidenceCommune
	case ResidenceOutside:
		home = ""
	}
	if home == visited {
		return []Credit{{Commune: visited, Observations: obs}}
	}
	service := Credit{Commune: visited}
	locality := Credit{Commune: home}
	for _, o := range obs {
		if c.indicators[o.Indicator].About == AboutService {
			service.Observations = append(service.Observations, o)
		} else if home != "" {
			locality.Observations = append(locality.Observations, o)
		}
	}
	out := []Credit{service}
	if home != "" {
		out = append(out, locality)
	}
	return out
}

// measure returns the respondent's value for an indicator, and whether they
// count for it at all.
func (c *Catalogue) measure(ind *Indicator, modules map[string]bool, answers Answers) (float64, bool) {
	r := &ind.Rule
	if r.AppliesIf != nil && !r.AppliesIf.holds(answers) {
		return 0, false
	}
	if len(r.Items) > 0 {
		return c.measureItems(r, modules, answers)
	}
	q := c.questions[r.Question]
	if !c.shown(q, modules, answers) {
		return 0, false
	}
	a, ok := answers[r.Question]
	if !ok {
		return 0, false
	}
	values := answerStrings(a)
	if slices.ContainsFunc(values, func(v string) bool { return slices.Contains(r.Exclude, v) }) {
		return 0, false
	}
	switch {
	case ind.Kind == KindRatio:
		if slices.ContainsFunc(values, func(v string) bool { return slices.Contains(r.Numerator, v) }) {
			return 1, true
		}
		return 0, true
	case r.FromNumber != nil && values[0] == r.FromNumber.When:
		n, ok := answers[r.FromNumber.Question].(float64)
		if !ok || !c.shown(c.questions[r.FromNumber.Question], modules, answers) {
			return 0, false
		}
		// Capped at the scale, so that "from a very large amount" and
		// "never" both sit at the top.
		return math.Max(r.Scale.Min, math.Min(r.Scale.Max, n)), true
	case len(r.Points) > 0:
		p, ok := r.Points[values[0]]
		return p, ok
	case len(r.Count) > 0:
		n := 0
		for _, v := range values {
			if slices.Contains(r.Count, v) {
				n++
			}
		}
		return float64(n), true
	}
	x, ok := a.(float64)
	return x, ok
}

// measureItems returns the share of a grid's items that the respondent
// rated (shown, answered and not excluded) and found met; a respondent who
// rated none does not count.
func (c *Catalogue) measureItems(r *Rule, modules map[string]bool, answers Answers) (float64, bool) {
	met, rated := 0, 0
	for _, id := range r.Items {
		s, ok := answers[id].(string)
		if !ok || slices.Contains(r.Exclude, s) || !c.shown(c.questions[id], modules, answers) {
			continue
		}
		rated++
		if slices.Contains(r.Numerator, s) {
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
