package survey

import (
	"encoding/json"
	"math"
	"math/rand/v2"
)

// Synthesize makes a plausible resident submission for the given modules,
// for demos and benchmarks. quality in [0, 1] shifts answers towards the
// better end of every indicator, so communes differ visibly. Only questions
// the form would show are answered; optional ones are sometimes skipped.
func (c *Catalogue) Synthesize(rng *rand.Rand, modules []string, quality float64) Submission {
	set := moduleSet(modules)
	good := c.goodAnswers()
	answers := Answers{}
	raw := map[string]json.RawMessage{}
	for i := range c.Questions {
		q := &c.Questions[i]
		if !c.shown(q, set, answers) {
			continue
		}
		if !q.Required && rng.Float64() < 0.08 {
			continue
		}
		var v any
		switch q.Type {
		case SingleChoice:
			v = pickOption(rng, q, good[q.ID], quality)
		case ScaleQuestion:
			lo, hi := *q.Min, *q.Max
			x := lo + (hi-lo)*clamp01(quality+rng.NormFloat64()*0.25)
			v = math.Round(x)
		case MultipleChoice:
			var list []string
			for _, o := range q.Options {
				if !o.Exclusive && rng.Float64() < 0.25+0.6*quality {
					list = append(list, o.Value)
				}
			}
			if len(list) == 0 {
				for _, o := range q.Options {
					if o.Exclusive {
						list = []string{o.Value}
					}
				}
				if len(list) == 0 {
					list = []string{q.Options[0].Value}
				}
			}
			v = list
		case Number:
			lo := 0.0
			if q.Min != nil {
				lo = *q.Min
			}
			hi := lo + 100
			if q.Max != nil {
				hi = math.Min(*q.Max, hi)
			}
			// Skewed amounts: most answers small, a few large.
			x := lo + (hi-lo)*math.Pow(rng.Float64(), 2.5)*math.Min(1, 1.2-quality)
			v = math.Max(lo, math.Min(hi, math.Floor(x)))
		case ShortText:
			continue
		}
		answers[q.ID] = normalise(v)
		b, _ := json.Marshal(v)
		raw[q.ID] = b
	}
	sub := Submission{Modules: modules, Answers: raw}
	if rng.Float64() < 0.85 {
		sub.Sex = Sexes[rng.IntN(2)].Value
		sub.AgeGroup = AgeGroups[rng.IntN(len(AgeGroups))].Value
	}
	return sub
}

func normalise(v any) any {
	if list, ok := v.([]string); ok {
		return list
	}
	return v
}

// goodAnswers lists, per question, the answers that count in favour of an
// indicator (its numerator when higher is better, the others when lower is).
func (c *Catalogue) goodAnswers() map[string][]string {
	out := map[string][]string{}
	for _, ind := range c.Indicators() {
		r := ind.Rule
		q := c.questions[r.Question]
		if ind.Kind != KindRatio || q.Type != SingleChoice {
			continue
		}
		if r.Scale.HigherIsBetter {
			out[q.ID] = append(out[q.ID], r.Numerator...)
			continue
		}
		for _, o := range q.Options {
			if !contains(r.Numerator, o.Value) && !contains(r.Exclude, o.Value) {
				out[q.ID] = append(out[q.ID], o.Value)
			}
		}
	}
	return out
}

func pickOption(rng *rand.Rand, q *Question, good []string, quality float64) string {
	if len(good) > 0 && rng.Float64() < 0.3+0.6*quality {
		return good[rng.IntN(len(good))]
	}
	// Points-coded ratings: the last options are usually the better ones.
	if rng.Float64() < quality {
		return q.Options[len(q.Options)/2+rng.IntN((len(q.Options)+1)/2)].Value
	}
	return q.Options[rng.IntN(len(q.Options))].Value
}

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }
