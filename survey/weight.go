package survey

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Population holds, per commune, the number of adults in each sex × age
// group cell (e.g. from census tables): the margins that post-stratification
// weights respondents to.
type Population map[string]map[string]float64

// Cell names a sex × age group cell.
func Cell(sex, age string) string { return sex + "|" + age }

// ReadPopulation reads a CSV with the header
// commune_code,sex,age_group,population.
func ReadPopulation(r io.Reader) (Population, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read population CSV: %w", err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "commune_code,sex,age_group,population" {
		return nil, fmt.Errorf("population CSV: the header must be commune_code,sex,age_group,population")
	}
	out := Population{}
	for i, r := range rows[1:] {
		n, err := strconv.ParseFloat(strings.TrimSpace(r[3]), 64)
		if err != nil || n < 0 || math.IsInf(n, 0) {
			return nil, fmt.Errorf("population CSV line %d: population %q is not a number ≥ 0", i+2, r[3])
		}
		if !hasOption(Sexes, r[1]) || r[1] == "other" || !hasOption(AgeGroups, r[2]) {
			return nil, fmt.Errorf("population CSV line %d: sex must be female or male and age_group one of 18_29 … 60_plus", i+2)
		}
		if out[r[0]] == nil {
			out[r[0]] = map[string]float64{}
		}
		out[r[0]][Cell(r[1], r[2])] += n
	}
	return out, nil
}

// PostStratify returns one weight per visit so that, among respondents who
// gave their sex and age group, each cell weighs as much as its share of
// the population. Cells without respondents are dropped and the population
// shares renormalised over the cells present (no cell is imputed);
// respondents without a profile keep weight 1. The weights of respondents
// with a profile add up to their number, so the sample size is unchanged.
func PostStratify(visits []Visit, margins map[string]float64) ([]float64, error) {
	if len(margins) == 0 {
		return nil, Errorf(EINVALID, "Chưa có số liệu dân số theo giới tính và nhóm tuổi cho xã/phường này.", "No population margins (sex × age group) are configured for this commune.")
	}
	n := map[string]float64{}
	known := 0.0
	for _, v := range visits {
		if c := Cell(v.Sex, v.AgeGroup); margins[c] > 0 {
			n[c]++
			known++
		}
	}
	popPresent := 0.0
	for c := range n {
		popPresent += margins[c]
	}
	w := make([]float64, len(visits))
	for i, v := range visits {
		c := Cell(v.Sex, v.AgeGroup)
		if n[c] == 0 {
			w[i] = 1
			continue
		}
		w[i] = margins[c] / popPresent * known / n[c]
	}
	return w, nil
}

// WeightedTallies computes indicator tallies from visits and their
// post-stratification weights, each multiplied by the observation's own
// design weight; Score then uses the weighted mean and Kish's effective
// sample size (Σw)²/Σw².
func (c *Catalogue) WeightedTallies(visits []Visit, weights []float64) map[string]Tally {
	out := map[string]Tally{}
	for i, v := range visits {
		for _, o := range c.Observe(v) {
			t := out[o.Indicator]
			ind := c.indicators[o.Indicator]
			t.Add(o.X, weights[i]*o.W, ind != nil && ind.Kind == KindMedian)
			out[o.Indicator] = t
		}
	}
	return out
}
