package survey

// Observation is one respondent's contribution to one indicator: they are in
// its denominator, with value X (1 or 0 for a ratio, the coded value for a
// mean or median).
type Observation struct {
	Indicator string
	X         float64
}

// Observe applies every indicator's rule to one visit and returns the
// observations of the indicators this respondent counts for. An indicator is
// left out when its question was not shown (another rotating module, or
// hidden by skip logic), when it does not apply to the respondent (applies_if)
// or when the answer is missing or excluded (e.g. "don't know").
func (c *Catalogue) Observe(v Visit) []Observation {
	modules := moduleSet(v.Modules)
	var out []Observation
	for _, ind := range c.Indicators() {
		if x, ok := c.measure(ind, modules, v.Answers); ok {
			out = append(out, Observation{Indicator: ind.ID, X: x})
		}
	}
	return out
}

func (c *Catalogue) measure(ind *Indicator, modules map[string]bool, answers Answers) (float64, bool) {
	r := &ind.Rule
	q := c.questions[r.Question]
	if !c.shown(q, modules, answers) {
		return 0, false
	}
	if r.AppliesIf != nil && !r.AppliesIf.holds(answers) {
		return 0, false
	}
	a, ok := answers[r.Question]
	if !ok {
		return 0, false
	}
	values := answerStrings(a)
	for _, v := range values {
		if contains(r.Exclude, v) {
			return 0, false
		}
	}
	switch ind.Kind {
	case KindRatio:
		for _, v := range values {
			if contains(r.Numerator, v) {
				return 1, true
			}
		}
		return 0, true
	case KindMean, KindMedian:
		switch {
		case len(r.Points) > 0:
			p, ok := r.Points[values[0]]
			return p, ok
		case len(r.Count) > 0:
			n := 0
			for _, v := range values {
				if contains(r.Count, v) {
					n++
				}
			}
			return float64(n), true
		default:
			x, ok := a.(float64)
			return x, ok
		}
	}
	return 0, false
}

// AssignModules returns the modules of the visit with sequence number seq at
// a centre: core plus one rotating module, taken in turn so that over any run
// of consecutive visits the modules are asked equally often.
func (c *Catalogue) AssignModules(seq uint64) []string {
	rot := c.RotatingModules()
	if len(rot) == 0 {
		return []string{CoreModule}
	}
	return []string{CoreModule, rot[seq%uint64(len(rot))]}
}

// AllModules returns every module id, for the full questionnaire.
func (c *Catalogue) AllModules() []string {
	out := make([]string, len(c.Modules))
	for i, m := range c.Modules {
		out[i] = m.ID
	}
	return out
}
