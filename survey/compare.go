package survey

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Bands are PAPI's four performance groups, by quartile of the communes with
// enough data, best first.
var Bands = []Text{
	{Vi: "Nhóm đạt điểm cao nhất", En: "Best performers"},
	{Vi: "Nhóm trung bình cao", En: "High average"},
	{Vi: "Nhóm trung bình thấp", En: "Low average"},
	{Vi: "Nhóm đạt điểm thấp nhất", En: "Poor performers"},
}

// BandIDs name the bands in machine-readable form, best first.
var BandIDs = []string{"best", "high_average", "low_average", "poor"}

// MinBanded is the fewest scored communes for which bands mean anything.
const MinBanded = 8

// Standing is one unit's place among others. Rank 0 and an empty band
// mean not ranked: not scored, or too few scored units for bands.
type Standing struct {
	Rank int    `json:"rank"`
	Band string `json:"band"`
	// VersusAverage is "above" or "below" when the unit's 95% interval
	// excludes the average of all scored units, "not_different" otherwise,
	// and empty when the unit is not scored.
	VersusAverage string `json:"versus_average"`
}

// Rank orders scores (nil = not scored) from best to worst: ranks follow
// scores (ties share a rank), bands are quartiles of the scored units, and
// each scored unit is tested against the average of all scored units.
func Rank(scores []*float64, ciLow, ciHigh []*float64) []Standing {
	out := make([]Standing, len(scores))
	var idx []int
	sum := 0.0
	for i, s := range scores {
		if s != nil && !math.IsNaN(*s) {
			idx = append(idx, i)
			sum += *s
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return *scores[idx[a]] > *scores[idx[b]] })
	n := len(idx)
	if n == 0 {
		return out
	}
	avg := sum / float64(n)
	for pos, i := range idx {
		rank := pos + 1
		if pos > 0 && *scores[idx[pos-1]] == *scores[i] {
			rank = out[idx[pos-1]].Rank
		}
		out[i].Rank = rank
		if n >= MinBanded {
			out[i].Band = BandIDs[(rank-1)*4/n]
		}
		out[i].VersusAverage = "not_different"
		if ciLow != nil && ciLow[i] != nil && *ciLow[i] > avg {
			out[i].VersusAverage = "above"
		}
		if ciHigh != nil && ciHigh[i] != nil && *ciHigh[i] < avg {
			out[i].VersusAverage = "below"
		}
	}
	return out
}

// Role is the part an agency plays for an indicator in the plan.
const (
	RoleImplementing = "implementing"
	RoleLead         = "lead"
	RoleCoordinating = "coordinating"
)

// Weakness is an indicator below target in one commune.
type Weakness struct {
	Commune   string
	Indicator *Indicator
	Value     float64
	Score     float64
	Target    float64
}

// FollowupItem is one weak indicator on one agency's list.
type FollowupItem struct {
	Commune       string  `json:"commune"`
	CommuneName   string  `json:"commune_name"`
	Indicator     string  `json:"indicator"`
	IndicatorName string  `json:"indicator_name"`
	Kind          Kind    `json:"kind"`
	Value         float64 `json:"value"`
	Score         float64 `json:"score"`
	// Target is in the indicator's own unit, like Value; TargetScore and
	// Score are both on the 1-10 scale and Gap is their difference.
	Target      float64 `json:"target"`
	TargetScore float64 `json:"target_score"`
	Gap         float64 `json:"gap"`
	Role        string  `json:"role"`
	Tasks       string  `json:"tasks"`
}

// AgencyList is everything one agency is asked to follow up.
type AgencyList struct {
	Agency string         `json:"agency"`
	Items  []FollowupItem `json:"items"`
}

// Targets returns, per indicator, the average PAPI-scale score over the
// communes where it is shown: the default target of the follow-up.
func Targets(perCommune map[string]Scores) map[string]float64 {
	sum, n := map[string]float64{}, map[string]float64{}
	for _, sc := range perCommune {
		for _, d := range sc.Dimensions {
			for _, sd := range d.Subdimensions {
				for _, ir := range sd.Indicators {
					if ir.Score != nil {
						sum[ir.ID] += *ir.Score
						n[ir.ID]++
					}
				}
			}
		}
	}
	out := map[string]float64{}
	for id, s := range sum {
		out[id] = s / n[id]
	}
	return out
}

// Followup lists, per agency the plan makes responsible, the indicators
// whose shown score is below target in each commune; agencies sorted by
// name, items by largest gap first. overrides replace the default target of
// an indicator (on the 1-10 scale).
func (c *Catalogue) Followup(perCommune map[string]Scores, names map[string]string, overrides map[string]float64) []AgencyList {
	targets := Targets(perCommune)
	for id, t := range overrides {
		targets[id] = t
	}
	lists := map[string][]FollowupItem{}
	for code, sc := range perCommune {
		for _, d := range sc.Dimensions {
			for _, sd := range d.Subdimensions {
				for _, ir := range sd.Indicators {
					target, ok := targets[ir.ID]
					if ir.Score == nil || !ok || *ir.Score >= target {
						continue
					}
					ind := c.indicators[ir.ID]
					item := FollowupItem{Commune: code, CommuneName: names[code], Indicator: ir.ID, IndicatorName: ind.Name.Vi, Kind: ind.Kind,
						Value: *ir.Value, Score: *ir.Score, Target: ind.Rule.Scale.Denormalise(target), TargetScore: target,
						Gap: target - *ir.Score, Tasks: ind.Tasks}
					for _, r := range []struct {
						role string
						list []string
					}{{RoleImplementing, ind.Agencies.Implementing}, {RoleLead, ind.Agencies.Lead}, {RoleCoordinating, ind.Agencies.Coordinating}} {
						for _, a := range r.list {
							it := item
							it.Role = r.role
							lists[a] = append(lists[a], it)
						}
					}
				}
			}
		}
	}
	out := make([]AgencyList, 0, len(lists))
	for a, items := range lists {
		sort.Slice(items, func(i, j int) bool {
			if items[i].Gap != items[j].Gap {
				return items[i].Gap > items[j].Gap
			}
			if items[i].Commune != items[j].Commune {
				return items[i].Commune < items[j].Commune
			}
			return items[i].Indicator < items[j].Indicator
		})
		out = append(out, AgencyList{Agency: a, Items: items})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Agency < out[j].Agency })
	return out
}

// ReadTargets reads per-indicator targets from a CSV with the header
// indicator,target, each target in the indicator's own unit (a share 0–1
// for a ratio, points for a mean, the amount for a median), and returns
// them on the 1-10 scale the follow-up compares.
func (c *Catalogue) ReadTargets(r io.Reader) (map[string]float64, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read targets CSV: %w", err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "indicator,target" {
		return nil, fmt.Errorf("targets CSV: the header must be indicator,target")
	}
	out := map[string]float64{}
	for i, row := range rows[1:] {
		ind, ok := c.indicators[strings.TrimSpace(row[0])]
		if !ok {
			return nil, fmt.Errorf("targets CSV line %d: no indicator %q", i+2, row[0])
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(row[1]), 64)
		if err != nil || v < ind.Rule.Scale.Min || v > ind.Rule.Scale.Max {
			return nil, fmt.Errorf("targets CSV line %d: target %q for %s must be a number from %g to %g", i+2, row[1], ind.ID, ind.Rule.Scale.Min, ind.Rule.Scale.Max)
		}
		out[ind.ID] = ind.Rule.Scale.Normalise(v)
	}
	return out, nil
}
