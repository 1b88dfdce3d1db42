package survey

import (
	"encoding/json"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
)

// Synthesize makes a plausible resident submission for the given modules,
// for demos and benchmarks. quality in [0, 1] shifts answers towards the
// better end of every indicator, so communes differ visibly. Only questions
// the form would show are answered; optional ones are sometimes skipped.
// A respondent who lives in another commune names a random one; use
// SynthesizeAt to place them next to the centre's commune.
func (c *Catalogue) Synthesize(rng *rand.Rand, modules []string, quality float64) Submission {
	return c.SynthesizeAt(rng, modules, quality, "")
}

// SynthesizeAt is Synthesize for a visit to a centre of the commune with
// code visited: most respondents live there, some in a neighbouring commune
// (the next one in the official list within the same former province, which
// numbers communes by former district) and a few outside the city.
func (c *Catalogue) SynthesizeAt(rng *rand.Rand, modules []string, quality float64, visited string) Submission {
	r := c.newResponse()
	defer r.release()
	for _, m := range modules {
		r.ask(m)
	}
	good := c.goodAnswers()
	raw := map[string]json.RawMessage{}
	for i := range c.Questions {
		q := &c.Questions[i]
		if r.decide(i); !r.shown[i] {
			continue
		}
		if !q.Required && rng.Float64() < 0.08 {
			continue
		}
		var v any
		switch {
		case q.ID == ResidenceQuestion && hasOption(q.Options, ResidenceHere):
			v = pickResidence(rng)
		case q.Type == CommuneChoice:
			v = c.neighbour(rng, visited)
		case q.Type == SingleChoice:
			v = pickOption(rng, q, good[q.ID], quality)
		case q.Type == ScaleQuestion:
			lo, hi := *q.Min, *q.Max
			x := lo + (hi-lo)*clamp01(quality+rng.NormFloat64()*0.25)
			v = math.Round(x)
		case q.Type == MultipleChoice:
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
		case q.Type == Number:
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
		case q.Type == ShortText:
			continue
		}
		r.set(i, v)
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

// pickResidence draws where a synthetic respondent lives: 80 % in the
// commune visited, 15 % in another commune of the city, 5 % outside.
func pickResidence(rng *rand.Rand) string {
	switch x := rng.Float64(); {
	case x < 0.80:
		return ResidenceHere
	case x < 0.95:
		return ResidenceOther
	}
	return ResidenceOutside
}

// neighbour returns the code of a commune next to visited in the official
// list and of the same former province, or a random commune when visited is
// not known.
func (c *Catalogue) neighbour(rng *rand.Rand, visited string) string {
	list := c.communeList
	i := slices.IndexFunc(list, func(cm Commune) bool { return cm.Code == visited })
	if i < 0 {
		return list[rng.IntN(len(list))].Code
	}
	var near []string
	for _, j := range []int{i - 1, i + 1} {
		if j >= 0 && j < len(list) && list[j].FormerProvince == list[i].FormerProvince {
			near = append(near, list[j].Code)
		}
	}
	if len(near) == 0 {
		return list[(i+1)%len(list)].Code
	}
	return near[rng.IntN(len(near))]
}

// goodAnswers lists, per question, the answers that count in favour of an
// indicator (its numerator when higher is better, the others when lower is).
func (c *Catalogue) goodAnswers() map[string][]string {
	out := map[string][]string{}
	for _, ind := range c.Indicators() {
		r := ind.Rule
		if len(r.Points) > 0 {
			// The better half of a rating, in a stable order so that a seed
			// gives the same answers.
			lo, hi := pointsRange(r.Points)
			for _, v := range slices.Sorted(maps.Keys(r.Points)) {
				if p := r.Points[v]; p != (lo+hi)/2 && (p > (lo+hi)/2) == r.Scale.HigherIsBetter && !slices.Contains(out[r.Question], v) {
					out[r.Question] = append(out[r.Question], v)
				}
			}
			continue
		}
		if ind.Kind != KindRatio && len(r.Items) == 0 {
			continue
		}
		for _, id := range r.Questions() {
			q := c.questions[id]
			if q.Type != SingleChoice {
				continue
			}
			if r.Scale.HigherIsBetter {
				out[q.ID] = append(out[q.ID], r.Numerator...)
				continue
			}
			for _, o := range q.Options {
				if !slices.Contains(r.Numerator, o.Value) && !slices.Contains(r.Exclude, o.Value) {
					out[q.ID] = append(out[q.ID], o.Value)
				}
			}
		}
	}
	return out
}

// nonSubstantive are the answers that say nothing about the question: don't
// know, prefer not to say, not sure. Synthetic residents give them now and
// then, not as often as any other option.
var nonSubstantive = []string{"dk", "refuse", "unsure"}

func pickOption(rng *rand.Rand, q *Question, good []string, quality float64) string {
	var substantive, other []string
	for _, o := range q.Options {
		if slices.Contains(nonSubstantive, o.Value) {
			other = append(other, o.Value)
		} else {
			substantive = append(substantive, o.Value)
		}
	}
	if len(other) > 0 && (len(substantive) == 0 || rng.Float64() < 0.06) {
		return other[rng.IntN(len(other))]
	}
	if len(good) > 0 && rng.Float64() < 0.3+0.6*quality {
		return good[rng.IntN(len(good))]
	}
	// Points-coded ratings: the last options are usually the better ones.
	if rng.Float64() < quality {
		return substantive[len(substantive)/2+rng.IntN((len(substantive)+1)/2)]
	}
	return substantive[rng.IntN(len(substantive))]
}

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }
