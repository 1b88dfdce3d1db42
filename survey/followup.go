package survey

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Role is the part an agency plays for an indicator in the plan.
const (
	RoleImplementing = "implementing"
	RoleLead         = "lead"
	RoleCoordinating = "coordinating"
)

// FollowupRule says when an item is listed; every follow-up carries it.
var FollowupRule = Text{
	Vi: "Chỉ liệt kê một chỉ tiêu của một xã/phường khi toàn bộ khoảng tin cậy 95% nằm về phía kém hơn mục tiêu; sắp xếp theo khoảng cách từ đầu gần mục tiêu nhất của khoảng tin cậy đến mục tiêu (thang điểm 1–10). Giá trị ước lượng vay mượn (borrowed) cũng theo quy tắc này và được đánh dấu.",
	En: "An indicator of a commune is listed only when its whole 95% interval lies on the worse side of the target; items are sorted by the distance from the interval's end nearest the target to the target (1–10 scale). Borrowed estimates follow the same rule and are marked.",
}

// Where follow-up targets come from.
const (
	// TargetAverage: each indicator's target is the average score of the
	// communes compared (direct or borrowed values alike).
	TargetAverage = "average_of_communes"
)

// FollowupItem is one weak indicator of one commune on one agency's list.
type FollowupItem struct {
	Commune       string `json:"commune"`
	CommuneName   string `json:"commune_name"`
	Indicator     string `json:"indicator"`
	IndicatorName string `json:"indicator_name"`
	Kind          Kind   `json:"kind"`
	// Value, its 95% interval and Target are in the indicator's own unit;
	// Score and TargetScore on the 1-10 scale.
	Value       float64 `json:"value"`
	CILow       float64 `json:"ci_low"`
	CIHigh      float64 `json:"ci_high"`
	Score       float64 `json:"score"`
	Target      float64 `json:"target"`
	TargetScore float64 `json:"target_score"`
	// Gap is TargetScore − Score; Distance is TargetScore minus the score
	// of the interval's end nearest the target (> 0 for every item), the
	// sort key.
	Gap      float64 `json:"gap"`
	Distance float64 `json:"distance"`
	// Estimate is EstimateDirect or EstimateBorrowed.
	Estimate string `json:"estimate"`
	Role     string `json:"role"`
	Tasks    string `json:"tasks"`
}

// AgencyList is everything one agency is asked to follow up.
type AgencyList struct {
	Agency string         `json:"agency"`
	Items  []FollowupItem `json:"items"`
}

// FollowupReport lists weak indicators per responsible agency.
type FollowupReport struct {
	Rule Text `json:"rule"`
	// Target is TargetAverage; Configured counts the indicators whose
	// target was configured instead (PAPI_TARGETS).
	Target     string       `json:"target"`
	Configured int          `json:"configured_targets"`
	Agencies   []AgencyList `json:"agencies"`
}

// Targets returns, per indicator, the average PAPI-scale score over the
// communes where it has a value: the default target of the follow-up.
func Targets(perCommune []Scores) map[string]float64 {
	sum, n := map[string]float64{}, map[string]float64{}
	for _, sc := range perCommune {
		eachIndicator(sc, func(ir IndicatorResult) {
			if ir.Score != nil && !ir.Context {
				sum[ir.ID] += *ir.Score
				n[ir.ID]++
			}
		})
	}
	out := map[string]float64{}
	for id, s := range sum {
		out[id] = s / n[id]
	}
	return out
}

// Followup lists, per agency the plan makes responsible, the indicators of
// the compared communes whose 95% interval lies entirely below target (see
// FollowupRule); agencies sorted by name, items by distance, largest first.
// overrides replace the default target of some indicators (1-10 scale).
func Followup(cat *Catalogue, comparison Comparison, overrides map[string]float64) FollowupReport {
	perCommune := make([]Scores, len(comparison.Rows))
	for i, r := range comparison.Rows {
		perCommune[i] = r.Scores
	}
	targets := Targets(perCommune)
	for id, t := range overrides {
		targets[id] = t
	}
	lists := map[string][]FollowupItem{}
	seen := map[string]bool{}
	for _, row := range comparison.Rows {
		eachIndicator(row.Scores, func(ir IndicatorResult) {
			target, ok := targets[ir.ID]
			ind, known := cat.indicators[ir.ID]
			if !ok || !known || ir.Context || ir.Score == nil || ir.CILow == nil || ir.CIHigh == nil {
				return
			}
			s := ind.Rule.Scale
			near := math.Max(s.Normalise(*ir.CILow), s.Normalise(*ir.CIHigh))
			if near >= target {
				return
			}
			item := FollowupItem{Commune: row.Commune.Code, CommuneName: row.Commune.Name, Indicator: ir.ID, IndicatorName: ind.Name.Vi, Kind: ind.Kind,
				Value: *ir.Value, CILow: *ir.CILow, CIHigh: *ir.CIHigh, Score: *ir.Score, Target: s.Denormalise(target), TargetScore: target,
				Gap: target - *ir.Score, Distance: target - near, Estimate: ir.Estimate, Tasks: ind.Tasks}
			for _, r := range []struct {
				role string
				list []string
			}{{RoleImplementing, ind.Agencies.Implementing}, {RoleLead, ind.Agencies.Lead}, {RoleCoordinating, ind.Agencies.Coordinating}} {
				for _, raw := range r.list {
					a := agencyName(raw)
					// Two spellings of one agency in the same role give
					// one item, not two.
					if key := a + "\x00" + row.Commune.Code + "\x00" + ir.ID + "\x00" + r.role; !seen[key] {
						seen[key] = true
						it := item
						it.Role = r.role
						lists[a] = append(lists[a], it)
					}
				}
			}
		})
	}
	out := FollowupReport{Rule: FollowupRule, Target: TargetAverage, Configured: len(overrides), Agencies: make([]AgencyList, 0, len(lists))}
	for a, items := range lists {
		slices.SortFunc(items, func(x, y FollowupItem) int {
			return cmp.Or(cmp.Compare(y.Distance, x.Distance), strings.Compare(x.Commune, y.Commune),
				strings.Compare(x.Indicator, y.Indicator), strings.Compare(x.Role, y.Role))
		})
		out.Agencies = append(out.Agencies, AgencyList{Agency: a, Items: items})
	}
	slices.SortFunc(out.Agencies, func(x, y AgencyList) int { return strings.Compare(x.Agency, y.Agency) })
	return out
}

// agencyName is the name an agency's list goes under: the canonical name
// from AgencyOf, so every spelling of one agency in the plan shares one list.
func agencyName(raw string) string {
	if a, ok := AgencyOf(raw); ok {
		return a.Name.Vi
	}
	return raw
}

// eachIndicator calls fn for every indicator result of a set of scores.
func eachIndicator(sc Scores, fn func(IndicatorResult)) {
	for _, d := range sc.Dimensions {
		for _, sd := range d.Subdimensions {
			for _, ir := range sd.Indicators {
				fn(ir)
			}
		}
	}
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
