package survey

import (
	"maps"
	"math"
	"slices"
)

// ModuleFloor is the smallest probability a rotating module is given: every
// module keeps being asked, so no indicator goes stale, and no answer's
// design weight (1/probability) exceeds 25.
const ModuleFloor = 0.04

// NeedCap bounds one indicator's need, in module completions: an indicator
// that almost nobody qualifies for would otherwise claim a module forever.
const NeedCap = 1500

// ModuleProbabilities returns the probability of each rotating module being
// asked at a commune's next visit, from the commune's tallies over the last
// 12 months and how many visits completed each module in that time. It
// favours the modules whose indicators are furthest from their precision
// target:
//
//   - an indicator's need is the number of further module completions it
//     takes to reach MinN effective respondents: (MinN − n_eff) / rate,
//     where rate = (N + 1)/(completions + 2) is the share of the module's
//     completions that counted for it (rare conditional indicators need
//     many), capped at NeedCap;
//   - a module's need is the mean need of its scored indicators;
//   - p = ModuleFloor + (1 − k·ModuleFloor)·need/Σneed over the k rotating
//     modules, or 1/k each when nothing is needed.
func (c *Catalogue) ModuleProbabilities(tallies map[string]Tally, completions map[string]int64, p Policy) map[string]float64 {
	p = p.withDefaults()
	rot := c.RotatingModules()
	out := make(map[string]float64, len(rot))
	if len(rot) == 0 {
		return out
	}
	need := map[string]float64{}
	count := map[string]int{}
	for _, ind := range c.Indicators() {
		m := c.questions[ind.Rule.Question].Module
		if ind.Context || !slices.Contains(rot, m) {
			continue
		}
		t := tallies[ind.ID]
		short := math.Max(0, float64(p.MinN)-t.EffectiveN())
		rate := (t.N + 1) / (float64(completions[m]) + 2)
		need[m] += math.Min(NeedCap, short/rate)
		count[m]++
	}
	total := 0.0
	for m, n := range count {
		need[m] /= float64(n)
		total += need[m]
	}
	k := float64(len(rot))
	floor := math.Min(ModuleFloor, 1/k)
	for _, m := range rot {
		if total == 0 {
			out[m] = 1 / k
			continue
		}
		out[m] = floor + (1-k*floor)*need[m]/total
	}
	return out
}

// Draw picks a module with the given probabilities from a uniform number u
// in [0, 1): modules are taken in id order, and the first whose cumulative
// probability exceeds u is drawn. It returns "" when probs is empty.
func Draw(probs map[string]float64, u float64) string {
	ids := slices.Sorted(maps.Keys(probs))
	cum := 0.0
	for _, id := range ids {
		cum += probs[id]
		if u < cum {
			return id
		}
	}
	if len(ids) == 0 {
		return ""
	}
	return ids[len(ids)-1] // rounding left u at or past the last sum
}
