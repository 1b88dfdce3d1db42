package survey

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// RankBy is what a comparison ranks communes by.
type RankBy string

// What a comparison can rank by.
const (
	RankTotal     RankBy = "total"
	RankDimension RankBy = "dimension"
	RankIndicator RankBy = "indicator"
)

// CompareOptions choose what a comparison covers and ranks by.
type CompareOptions struct {
	// By is what rows are ranked by (RankTotal when empty); ID names the
	// dimension or indicator.
	By RankBy
	ID string
	// Province (a former province) and Type (Phuong, Xa, DacKhu) keep
	// only the communes that match; empty keeps all.
	Province string
	Type     string
	Policy   Policy
	// Estimates turns on small-area estimates (see Estimate). They are
	// always fitted on every commune given, whatever the filters, so a
	// commune's values do not depend on which others are shown.
	Estimates bool
}

// CompareDimension is one dimension of a comparison row, with its own point
// rank and band among the rows (for heat maps).
type CompareDimension struct {
	ID       string   `json:"id"`
	Score    *float64 `json:"score"`
	CILow    *float64 `json:"ci_low"`
	CIHigh   *float64 `json:"ci_high"`
	Borrowed int      `json:"indicators_borrowed"`
	Rank     int      `json:"rank"`
	Band     string   `json:"band"`
}

// CompareRow is one commune in a comparison.
type CompareRow struct {
	Commune Commune `json:"commune"`
	Counts
	ResidentShare *float64           `json:"resident_share"`
	TotalScore    *float64           `json:"total_score"`
	TotalCILow    *float64           `json:"total_ci_low"`
	TotalCIHigh   *float64           `json:"total_ci_high"`
	Borrowed      int                `json:"indicators_borrowed"`
	Dimensions    []CompareDimension `json:"dimensions"`
	// Indicator is the indicator ranked by, when ranking by one.
	Indicator *IndicatorResult `json:"indicator,omitempty"`
	Standing
	// Scores is the commune's full result (for the follow-up).
	Scores Scores `json:"-"`
}

// CityDimension is the average of the scored communes' scores on one
// dimension.
type CityDimension struct {
	ID       string   `json:"id"`
	Score    *float64 `json:"score"`
	Communes int      `json:"communes_scored"`
}

// CityHeadline sums up the communes compared. Its scores are averages of
// the communes' own scores, each commune counting once, not a total pooled
// over responses, in which the busiest communes would weigh most.
type CityHeadline struct {
	Basis     string `json:"basis"`
	Label     Text   `json:"label"`
	Responses int64  `json:"responses"`
	// Communes counts the communes with a total score, the ones averaged.
	Communes    int             `json:"communes_scored"`
	TotalScore  *float64        `json:"total_score"`
	TotalCILow  *float64        `json:"total_ci_low"`
	TotalCIHigh *float64        `json:"total_ci_high"`
	Dimensions  []CityDimension `json:"dimensions"`
}

// CityBasis names how the city headline is computed.
const CityBasis = "average_of_communes"

// CityLabel labels the city headline wherever it is shown.
var CityLabel = Text{
	Vi: "Trung bình điểm của các xã/phường có điểm (mỗi xã/phường tính một lần)",
	En: "Average of the scored communes' scores (each commune counts once)",
}

// Comparison is every commune (of the filters) side by side, ranked.
type Comparison struct {
	By        RankBy    `json:"by"`
	ID        string    `json:"id,omitempty"`
	Province  string    `json:"former_province,omitempty"`
	Type      string    `json:"type,omitempty"`
	Policy    Policy    `json:"policy"`
	Estimates string    `json:"estimates"`
	Note      Text      `json:"note"`
	Bands     []Band    `json:"bands"`
	Reference Reference `json:"reference_papi_2024"`
	// City is the headline over the compared communes; Reference (PAPI's
	// own figures) stays apart from it.
	City CityHeadline `json:"city"`
	// Rankable lists what a comparison can rank by, grouped for a picker.
	Rankable []RankGroup  `json:"rankable"`
	Rows     []CompareRow `json:"rows"`
}

// RankGroup is a dimension with its sub-dimensions and the indicators a
// comparison can rank by (context indicators left out).
type RankGroup struct {
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	NameEn        string         `json:"name_en"`
	Subdimensions []RankSubgroup `json:"subdimensions"`
}

// RankSubgroup is a sub-dimension's rankable indicators.
type RankSubgroup struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	NameEn     string     `json:"name_en"`
	Indicators []RankItem `json:"indicators"`
}

// RankItem is one indicator a comparison can rank by.
type RankItem struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	NameEn string `json:"name_en"`
	Kind   Kind   `json:"kind"`
}

// Rankable lists the dimensions, and under them the indicators, that a
// comparison can rank by, in catalogue order.
func (c *Catalogue) Rankable() []RankGroup {
	out := make([]RankGroup, 0, len(c.Dimensions))
	for _, d := range c.Dimensions {
		g := RankGroup{ID: d.ID, Name: d.Name.Vi, NameEn: d.Name.En}
		for _, sd := range d.Subdimensions {
			sg := RankSubgroup{ID: sd.ID, Name: sd.Name.Vi, NameEn: sd.Name.En, Indicators: []RankItem{}}
			for _, ind := range sd.Indicators {
				if !ind.Context {
					sg.Indicators = append(sg.Indicators, RankItem{ID: ind.ID, Name: ind.Name.Vi, NameEn: ind.Name.En, Kind: ind.Kind})
				}
			}
			g.Subdimensions = append(g.Subdimensions, sg)
		}
		out = append(out, g)
	}
	return out
}

// Compare scores every commune of communes (those matching the filters),
// ranks them by what opts asks for, with 90% rank intervals, bands and a
// test against the average, and sums them up in a city headline. Rows come
// ranked first, best first, then the unranked by code.
func Compare(cat *Catalogue, communes []Commune, data map[string]CommuneData, opts CompareOptions) (Comparison, error) {
	if err := opts.validate(cat); err != nil {
		return Comparison{}, err
	}
	p := opts.Policy.withDefaults()
	out := Comparison{By: opts.By, ID: opts.ID, Province: opts.Province, Type: opts.Type, Policy: p, Estimates: EstimatesDirect,
		Note: Disclaimer, Bands: Bands, Reference: Reference2024, Rankable: cat.Rankable()}
	var kept []Commune
	only := map[string]bool{}
	for _, cm := range communes {
		if (opts.Province == "" || cm.FormerProvince == opts.Province) && (opts.Type == "" || cm.Type == opts.Type) {
			kept = append(kept, cm)
			only[cm.Code] = true
		}
	}
	var e *Estimates
	if opts.Estimates {
		out.Estimates = EstimatesSmallArea
		e = cat.estimate(communes, tallies(data), p, only)
	}
	var inputs []RankInput
	for _, cm := range kept {
		d := data[cm.Code]
		sc := cat.ScoreEstimated(cm.Code, d.Tallies, p, e)
		row := newRow(cm, d.Counts, sc)
		in := RankInput{Score: sc.Total, SE: sc.totalSE, CILow: sc.TotalCILow, CIHigh: sc.TotalCIHigh}
		switch opts.By {
		case RankDimension:
			dr := sc.dimension(opts.ID)
			in = RankInput{Score: dr.Score, SE: dr.se, CILow: dr.CILow, CIHigh: dr.CIHigh}
		case RankIndicator:
			ir := sc.indicator(opts.ID)
			row.Indicator = &ir
			in = ir.rankInput(cat.indicators[opts.ID].Rule.Scale)
		}
		out.Rows = append(out.Rows, row)
		inputs = append(inputs, in)
	}
	for i, st := range Rank(inputs) {
		out.Rows[i].Standing = st
	}
	rankDimensions(out.Rows)
	out.City = cityHeadline(out.Rows)
	slices.SortStableFunc(out.Rows, func(a, b CompareRow) int {
		if (a.Rank == 0) != (b.Rank == 0) {
			return cmp.Compare(b.Rank, a.Rank) // ranked (non-zero) first
		}
		return cmp.Or(cmp.Compare(a.Rank, b.Rank), strings.Compare(a.Commune.Code, b.Commune.Code))
	})
	return out, nil
}

// validate checks the options against the catalogue and commune list.
func (o *CompareOptions) validate(cat *Catalogue) error {
	switch o.By {
	case "", RankTotal:
		o.By, o.ID = RankTotal, ""
	case RankDimension:
		if !slices.ContainsFunc(cat.Dimensions, func(d Dimension) bool { return d.ID == o.ID }) {
			return Invalid("dimension", "Không có chỉ số nội dung "+o.ID+".", "No dimension "+o.ID+".")
		}
	case RankIndicator:
		ind, ok := cat.indicators[o.ID]
		if !ok {
			return Invalid("indicator", "Không có chỉ tiêu "+o.ID+".", "No indicator "+o.ID+".")
		}
		if ind.Context {
			return Invalid("indicator", "Chỉ tiêu "+o.ID+" chỉ để tham khảo (mô tả người sử dụng dịch vụ), không tính điểm nên không xếp hạng.", "Indicator "+o.ID+" is context (it describes who uses the service): shown, not scored, so not ranked.")
		}
	default:
		return Invalid("by", "Chỉ xếp hạng theo total, dimension hoặc indicator.", "Rank by total, dimension or indicator.")
	}
	if o.Province != "" && !slices.Contains(FormerProvinces, o.Province) {
		return Invalid("former_province", "former_province phải là Hồ Chí Minh, Bình Dương hoặc Bà Rịa - Vũng Tàu.", "former_province must be Hồ Chí Minh, Bình Dương or Bà Rịa - Vũng Tàu.")
	}
	if o.Type != "" && o.Type != Phuong && o.Type != Xa && o.Type != DacKhu {
		return Invalid("type", "type phải là phuong, xa hoặc dac_khu.", "type must be phuong, xa or dac_khu.")
	}
	return nil
}

func newRow(cm Commune, c Counts, sc Scores) CompareRow {
	if c.Channels == nil {
		c.Channels = map[string]int64{}
	}
	row := CompareRow{Commune: cm, Counts: c, ResidentShare: c.Residence.ResidentShare(), TotalScore: sc.Total,
		TotalCILow: sc.TotalCILow, TotalCIHigh: sc.TotalCIHigh, Borrowed: sc.Borrowed, Scores: sc}
	for _, d := range sc.Dimensions {
		row.Dimensions = append(row.Dimensions, CompareDimension{ID: d.ID, Score: d.Score, CILow: d.CILow, CIHigh: d.CIHigh, Borrowed: d.Borrowed})
	}
	return row
}

// rankDimensions gives each row's dimensions their point rank and band
// among the rows, so a heat map can colour each cell.
func rankDimensions(rows []CompareRow) {
	if len(rows) == 0 {
		return
	}
	for d := range rows[0].Dimensions {
		scores := make([]*float64, len(rows))
		for i, r := range rows {
			scores[i] = r.Dimensions[d].Score
		}
		for i, st := range pointRanks(scores) {
			rows[i].Dimensions[d].Rank, rows[i].Dimensions[d].Band = st.Rank, st.Band
		}
	}
}

// pointRanks ranks scores without intervals or the average test.
func pointRanks(scores []*float64) []Standing {
	var idx []int
	for i, s := range scores {
		if s != nil && !math.IsNaN(*s) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(*scores[b], *scores[a]) })
	out := make([]Standing, len(scores))
	for pos, i := range idx {
		out[i].Rank = pos + 1
		if pos > 0 && *scores[idx[pos-1]] == *scores[i] {
			out[i].Rank = out[idx[pos-1]].Rank
		}
		if len(idx) >= MinBanded {
			out[i].Band = bandOf(out[i].Rank, len(idx))
		}
	}
	return out
}

// cityHeadline averages the rows' totals and dimension scores over the
// communes that have them; the total's interval assumes the communes'
// errors independent: se = √Σseⱼ² / m.
func cityHeadline(rows []CompareRow) CityHeadline {
	out := CityHeadline{Basis: CityBasis, Label: CityLabel}
	sum, v := 0.0, 0.0
	dims := map[string]*CityDimension{}
	dimSum := map[string]float64{}
	for _, r := range rows {
		out.Responses += r.Responses
		if r.TotalScore != nil {
			out.Communes++
			sum += *r.TotalScore
			v += r.Scores.totalSE * r.Scores.totalSE
		}
		for _, d := range r.Dimensions {
			cd := dims[d.ID]
			if cd == nil {
				cd = &CityDimension{ID: d.ID}
				dims[d.ID] = cd
				out.Dimensions = append(out.Dimensions, CityDimension{ID: d.ID})
			}
			if d.Score != nil {
				cd.Communes++
				dimSum[d.ID] += *d.Score
			}
		}
	}
	for i, d := range out.Dimensions {
		if cd := dims[d.ID]; cd.Communes > 0 {
			out.Dimensions[i] = CityDimension{ID: d.ID, Score: ptr(dimSum[d.ID] / float64(cd.Communes)), Communes: cd.Communes}
		}
	}
	if m := float64(out.Communes); m > 0 {
		se := math.Sqrt(v) / m
		out.TotalScore, out.TotalCILow, out.TotalCIHigh = ptr(sum/m), ptr(sum/m-1.96*se), ptr(sum/m+1.96*se)
	}
	return out
}

// dimension returns the result of dimension id (zero when absent).
func (s Scores) dimension(id string) DimensionResult {
	for _, d := range s.Dimensions {
		if d.ID == id {
			return d
		}
	}
	return DimensionResult{ID: id}
}

// indicator returns the result of indicator id (zero when absent).
func (s Scores) indicator(id string) IndicatorResult {
	var out IndicatorResult
	eachIndicator(s, func(ir IndicatorResult) {
		if ir.ID == id {
			out = ir
		}
	})
	return out
}

// rankInput puts an indicator's score and interval on the 1-10 scale,
// where higher is better, for ranking: the interval's ends swap when lower
// values are better.
func (r IndicatorResult) rankInput(s Scale) RankInput {
	in := RankInput{Score: r.Score, SE: r.se}
	if r.Score != nil && r.CILow != nil && r.CIHigh != nil {
		a, b := s.Normalise(*r.CILow), s.Normalise(*r.CIHigh)
		in.CILow, in.CIHigh = ptr(math.Min(a, b)), ptr(math.Max(a, b))
	}
	return in
}
