package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// reference points from the published PAPI 2024 results (see README): they
// come from PAPI's own random household sample, not from this survey.
var papi2024 = map[string]any{
	"source": "PAPI 2024 (UNDP, CECODES, VFF-CRT), bảng chỉ tiêu cấp tỉnh",
	"note": survey.Text{
		Vi: "Điểm PAPI 2024 do khảo sát PAPI thực hiện với mẫu hộ gia đình ngẫu nhiên; thiết kế khảo sát khác, chỉ để tham chiếu.",
		En: "PAPI 2024 scores come from PAPI's random household sample: a different survey design, shown for reference only.",
	},
	"national_median":  43.480,
	"rank_15_score":    44.738,
	"hcmc_former":      42.813,
	"binh_duong":       45.391,
	"ba_ria_vung_tau":  45.532,
	"dimension_median": []float64{4.932, 5.332, 4.307, 7.010, 7.224, 7.513, 3.678, 3.408},
}

type periodQuery struct {
	period         survey.Period
	verifiedOnly   bool
	includeFlagged bool
	weighted       bool
	policy         survey.Policy
}

func (s *Server) readPeriod(c echo.Context) (periodQuery, error) {
	p, err := survey.ResolvePeriod(c.QueryParam("from"), c.QueryParam("to"), c.QueryParam("period"), s.now())
	if err != nil {
		return periodQuery{}, err
	}
	q := periodQuery{period: p, policy: s.cfg.Policy}
	switch c.QueryParam("verified") {
	case "", "0", "false", "all":
	case "1", "true", "only":
		q.verifiedOnly = true
	default:
		return periodQuery{}, survey.Invalid("verified", "verified phải là 1 hoặc 0.", "verified must be 1 or 0.")
	}
	switch c.QueryParam("weighted") {
	case "", "0", "false":
	case "1", "true":
		q.weighted = true
	default:
		return periodQuery{}, survey.Invalid("weighted", "weighted phải là 1 hoặc 0.", "weighted must be 1 or 0.")
	}
	switch c.QueryParam("flagged") {
	case "", "exclude":
	case "include":
		q.includeFlagged = true
	default:
		return periodQuery{}, survey.Invalid("flagged", "flagged phải là include hoặc exclude.", "flagged must be include or exclude.")
	}
	if v := c.QueryParam("min_n"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < q.policy.HideBelow || n > 10000 {
			return periodQuery{}, survey.Invalid("min_n", "min_n phải là số nguyên từ "+strconv.Itoa(q.policy.HideBelow)+" trở lên.", "min_n must be a whole number of at least "+strconv.Itoa(q.policy.HideBelow)+".")
		}
		// Staff may ask for a stricter rule, never a looser one.
		if n > q.policy.MinN {
			q.policy.MinN = n
		}
	}
	return q, nil
}

// communeSummary is the JSON summary of one commune.
type communeSummary struct {
	// Level is commune, centre, former_province or city.
	Level                string         `json:"level"`
	Commune              survey.Commune `json:"commune"`
	CentreID             *uint          `json:"centre_id,omitempty"`
	Period               survey.Period  `json:"period"`
	QuestionnaireVersion string         `json:"questionnaire_version"`
	// Responses counts every answer stored in the period (quarantined
	// ones aside); CountedResponses those the scores are built from, which
	// leaves out FlaggedResponses unless flagged=include.
	Responses         int64          `json:"responses"`
	CountedResponses  int64          `json:"counted_responses"`
	VerifiedResponses int64          `json:"verified_responses"`
	VerifiedShare     *float64       `json:"verified_share"`
	VerifiedOnly      bool           `json:"verified_only"`
	FlaggedResponses  int64          `json:"flagged_responses"`
	IncludeFlagged    bool           `json:"include_flagged"`
	Weighted          bool           `json:"weighted"`
	Policy            survey.Policy  `json:"policy"`
	Note              survey.Text    `json:"note"`
	Reference         map[string]any `json:"reference_papi_2024"`
	survey.Scores
	Previous struct {
		Period    survey.Period   `json:"period"`
		Responses int64           `json:"responses"`
		Changes   []survey.Change `json:"changes"`
	} `json:"previous"`
}

// unit is what a summary covers: a commune, one centre of it, a former
// province or the whole city.
type unit struct {
	level    string
	commune  survey.Commune // for other levels: its name and type only
	communes []string       // empty: every commune
	centre   uint
}

func (s *Server) summary(c echo.Context, u unit, q periodQuery) (communeSummary, error) {
	cat := s.store.Catalogue()
	out := communeSummary{Level: u.level, Commune: u.commune, Period: q.period, QuestionnaireVersion: cat.Version, VerifiedOnly: q.verifiedOnly,
		IncludeFlagged: q.includeFlagged, Weighted: q.weighted, Policy: q.policy, Note: survey.Disclaimer, Reference: papi2024}
	if u.centre != 0 {
		out.CentreID = &u.centre
	}
	cur, err := s.unitTallies(c, u, q.period, q)
	if err != nil {
		return out, err
	}
	var tallies map[string]survey.Tally
	out.CountedResponses, out.VerifiedResponses, tallies = cur.Combined()
	out.FlaggedResponses = cur.FlaggedTotal()
	out.Responses = out.CountedResponses + out.FlaggedResponses
	if out.CountedResponses > 0 {
		share := float64(out.VerifiedResponses) / float64(out.CountedResponses)
		out.VerifiedShare = &share
	}
	out.Scores = cat.Score(tallies, q.policy)

	prevPeriod := q.period.Previous()
	prev, err := s.unitTallies(c, u, prevPeriod, q)
	if err != nil {
		return out, err
	}
	n, _, prevTallies := prev.Combined()
	out.Previous.Period, out.Previous.Responses = prevPeriod, n
	out.Previous.Changes = survey.Changes(out.Scores, cat.Score(prevTallies, q.policy))
	return out, nil
}

// unitTallies reads a unit's tallies from the running aggregates or, for a
// weighted commune summary, recomputes them from the commune's raw
// responses with post-stratification weights (weights depend on who
// answered in the period, so they cannot be kept running).
func (s *Server) unitTallies(c echo.Context, u unit, p survey.Period, q periodQuery) (store.Tallies, error) {
	ctx := c.Request().Context()
	if !q.weighted {
		return s.store.Tallies(ctx, store.Filter{From: p.From, To: p.To, Communes: u.communes, CentreID: u.centre, VerifiedOnly: q.verifiedOnly, IncludeFlagged: q.includeFlagged})
	}
	if u.level != "commune" {
		return store.Tallies{}, survey.Invalid("weighted", "Trọng số chỉ áp dụng cho tổng hợp của một xã/phường.", "Weights apply to a whole commune's summary only.")
	}
	code := u.commune.Code
	var ct store.CommuneTallies
	var visits []survey.Visit
	err := s.store.EachResponse(ctx, code, p.From, p.To, func(r store.Response) error {
		switch {
		case r.Status == store.StatusQuarantined, q.verifiedOnly && !r.Verified:
			return nil
		case r.Status == store.StatusFlagged && !q.includeFlagged:
			ct.Responses++
			ct.Flagged++
			return nil
		}
		ct.Responses++
		ct.Counted++
		if r.Verified {
			ct.Verified++
		}
		visits = append(visits, r.Visit())
		return nil
	})
	out := store.Tallies{Communes: map[string]store.CommuneTallies{}}
	if err != nil {
		return out, err
	}
	weights, err := survey.PostStratify(visits, s.cfg.Population[code])
	if err != nil {
		return out, err
	}
	ct.Indicators = s.store.Catalogue().WeightedTallies(visits, weights)
	out.Communes[code] = ct
	return out, nil
}

// handleSummary summarises one commune, or one of its centres (centre=ID).
func (s *Server) handleSummary(c echo.Context) error {
	commune, err := s.store.Commune(c.Request().Context(), c.Param("code"))
	if err != nil {
		return err
	}
	u := unit{level: "commune", commune: commune, communes: []string{commune.Code}}
	if v := c.QueryParam("centre"); v != "" {
		id, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return survey.Invalid("centre", "Mã trung tâm phải là số.", "centre must be a number.")
		}
		centre, err := s.store.Centre(c.Request().Context(), uint(id))
		if err != nil {
			return err
		}
		if centre.CommuneCode != commune.Code {
			return survey.Invalid("centre", "Trung tâm này không thuộc xã/phường đã chọn.", "This centre belongs to another commune.")
		}
		u.level, u.centre = "centre", centre.ID
	}
	return s.respondSummary(c, u, commune.Code)
}

// handleUnitSummary summarises the whole city or one former province
// (former_province=…) for the department.
func (s *Server) handleUnitSummary(c echo.Context) error {
	u := unit{level: "city", commune: survey.Commune{Name: "Thành phố Hồ Chí Minh", Type: "city"}}
	if p := c.QueryParam("former_province"); p != "" {
		communes, err := s.store.Communes(c.Request().Context())
		if err != nil {
			return err
		}
		for _, cm := range communes {
			if cm.FormerProvince == p {
				u.communes = append(u.communes, cm.Code)
			}
		}
		if len(u.communes) == 0 {
			return survey.Invalid("former_province", "former_province phải là Hồ Chí Minh, Bình Dương hoặc Bà Rịa - Vũng Tàu.", "former_province must be Hồ Chí Minh, Bình Dương or Bà Rịa - Vũng Tàu.")
		}
		u.level, u.commune = "former_province", survey.Commune{Name: p, Type: "former_province", FormerProvince: p}
	}
	return s.respondSummary(c, u, u.level)
}

func (s *Server) respondSummary(c echo.Context, u unit, target string) error {
	q, err := s.readPeriod(c)
	if err != nil {
		return err
	}
	sum, err := s.summary(c, u, q)
	if err != nil {
		return err
	}
	format := c.QueryParam("format")
	if format != "" && format != "json" {
		_ = s.store.Audit(c.Request().Context(), currentUser(c).Email, "export_summary_"+format, target+" "+q.period.From+".."+q.period.To)
	}
	switch format {
	case "", "json":
		return c.JSON(http.StatusOK, sum)
	case "csv":
		return s.summaryCSV(c, sum)
	case "xlsx":
		return s.summaryXLSX(c, sum)
	case "html":
		return s.summaryHTML(c, sum)
	}
	return survey.Invalid("format", "format phải là json, csv, xlsx hoặc html.", "format must be json, csv, xlsx or html.")
}

type compareDimension struct {
	ID     string   `json:"id"`
	Score  *float64 `json:"score"`
	CILow  *float64 `json:"ci_low"`
	CIHigh *float64 `json:"ci_high"`
	Rank   int      `json:"rank"`
	Band   string   `json:"band"`
}

type compareRow struct {
	Commune     survey.Commune     `json:"commune"`
	Responses   int64              `json:"responses"`
	Counted     int64              `json:"counted_responses"`
	Verified    int64              `json:"verified_responses"`
	Flagged     int64              `json:"flagged_responses"`
	TotalScore  *float64           `json:"total_score"`
	TotalCILow  *float64           `json:"total_ci_low"`
	TotalCIHigh *float64           `json:"total_ci_high"`
	Dimensions  []compareDimension `json:"dimensions"`
	// Indicator is the drilled-into indicator, when one was asked for.
	Indicator *survey.IndicatorResult `json:"indicator,omitempty"`
	survey.Standing
	scores survey.Scores
}

type comparison struct {
	Period       survey.Period       `json:"period"`
	VerifiedOnly bool                `json:"verified_only"`
	Policy       survey.Policy       `json:"policy"`
	Note         survey.Text         `json:"note"`
	Bands        []map[string]string `json:"bands"`
	Reference    map[string]any      `json:"reference_papi_2024"`
	City         struct {
		Responses  int64                    `json:"responses"`
		TotalScore *float64                 `json:"total_score"`
		Dimensions []survey.DimensionResult `json:"dimensions"`
	} `json:"city"`
	Rows []compareRow `json:"rows"`
}

// compare scores every commune (optionally of one former province or type)
// over a period and ranks them.
func (s *Server) compare(c echo.Context, q periodQuery) (comparison, error) {
	ctx := c.Request().Context()
	cat := s.store.Catalogue()
	communes, err := s.store.Communes(ctx)
	if err != nil {
		return comparison{}, err
	}
	province, kind := c.QueryParam("former_province"), c.QueryParam("type")
	dimension, indicator := c.QueryParam("dimension"), c.QueryParam("indicator")
	if indicator != "" {
		if _, ok := cat.Indicator(indicator); !ok {
			return comparison{}, survey.Invalid("indicator", "Không có chỉ tiêu "+indicator+".", "No indicator "+indicator+".")
		}
	}
	var codes []string
	var kept []survey.Commune
	for _, cm := range communes {
		if (province == "" || cm.FormerProvince == province) && (kind == "" || cm.Type == kind) {
			codes = append(codes, cm.Code)
			kept = append(kept, cm)
		}
	}
	if len(kept) == 0 {
		return comparison{}, survey.Invalid("former_province", "Không có xã/phường nào khớp bộ lọc.", "No commune matches the filters.")
	}
	filter := codes
	if province == "" && kind == "" {
		filter = nil // every commune: a range read instead of 168 look-ups
	}
	t, err := s.store.Tallies(ctx, store.Filter{From: q.period.From, To: q.period.To, Communes: filter, VerifiedOnly: q.verifiedOnly, IncludeFlagged: q.includeFlagged})
	if err != nil {
		return comparison{}, err
	}
	out := comparison{Period: q.period, VerifiedOnly: q.verifiedOnly, Policy: q.policy, Note: survey.Disclaimer, Reference: papi2024}
	for i, id := range survey.BandIDs {
		out.Bands = append(out.Bands, map[string]string{"id": id, "name": survey.Bands[i].Vi, "name_en": survey.Bands[i].En})
	}
	var cityTallies map[string]survey.Tally
	out.City.Responses, _, cityTallies = t.Combined()
	city := cat.Score(cityTallies, q.policy)
	out.City.TotalScore, out.City.Dimensions = city.Total, city.Dimensions

	totals, lows, highs := make([]*float64, len(kept)), make([]*float64, len(kept)), make([]*float64, len(kept))
	for i, cm := range kept {
		ct := t.Communes[cm.Code]
		sc := cat.Score(ct.Indicators, q.policy)
		row := compareRow{Commune: cm, Responses: ct.Responses, Counted: ct.Counted, Verified: ct.Verified, Flagged: ct.Flagged, TotalScore: sc.Total, TotalCILow: sc.TotalCILow, TotalCIHigh: sc.TotalCIHigh, scores: sc}
		for _, d := range sc.Dimensions {
			row.Dimensions = append(row.Dimensions, compareDimension{ID: d.ID, Score: d.Score, CILow: d.CILow, CIHigh: d.CIHigh})
		}
		if indicator != "" {
			for _, d := range sc.Dimensions {
				for _, sd := range d.Subdimensions {
					for _, ir := range sd.Indicators {
						if ir.ID == indicator {
							ir := ir
							row.Indicator = &ir
						}
					}
				}
			}
		}
		totals[i], lows[i], highs[i] = row.TotalScore, row.TotalCILow, row.TotalCIHigh
		out.Rows = append(out.Rows, row)
	}
	// The ranking follows what was asked for: an indicator, a dimension or
	// the total.
	switch {
	case indicator != "":
		for i, r := range out.Rows {
			totals[i], lows[i], highs[i] = nil, nil, nil
			if r.Indicator != nil && r.Indicator.Score != nil {
				totals[i] = r.Indicator.Score
			}
		}
	case dimension != "":
		found := false
		for i, r := range out.Rows {
			totals[i], lows[i], highs[i] = nil, nil, nil
			for _, d := range r.Dimensions {
				if d.ID == dimension {
					totals[i], lows[i], highs[i], found = d.Score, d.CILow, d.CIHigh, true
				}
			}
		}
		if !found {
			return comparison{}, survey.Invalid("dimension", "Không có chỉ số nội dung "+dimension+".", "No dimension "+dimension+".")
		}
	}
	for i, st := range survey.Rank(totals, lows, highs) {
		out.Rows[i].Standing = st
	}
	// Per-dimension ranks and bands, so the heat map can colour each cell.
	for d := range cat.Dimensions {
		scores, lo, hi := make([]*float64, len(out.Rows)), make([]*float64, len(out.Rows)), make([]*float64, len(out.Rows))
		for i, r := range out.Rows {
			scores[i], lo[i], hi[i] = r.Dimensions[d].Score, r.Dimensions[d].CILow, r.Dimensions[d].CIHigh
		}
		for i, st := range survey.Rank(scores, lo, hi) {
			out.Rows[i].Dimensions[d].Rank, out.Rows[i].Dimensions[d].Band = st.Rank, st.Band
		}
	}
	sortRows(out.Rows)
	return out, nil
}

// sortRows puts ranked communes first, best first, then the unscored by code.
func sortRows(rows []compareRow) {
	less := func(a, b compareRow) bool {
		switch {
		case a.Rank != 0 && b.Rank != 0:
			if a.Rank != b.Rank {
				return a.Rank < b.Rank
			}
		case a.Rank != 0:
			return true
		case b.Rank != 0:
			return false
		}
		return a.Commune.Code < b.Commune.Code
	}
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && less(rows[j], rows[j-1]); j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

func (s *Server) handleCompare(c echo.Context) error {
	q, err := s.readPeriod(c)
	if err != nil {
		return err
	}
	cmp, err := s.compare(c, q)
	if err != nil {
		return err
	}
	format := c.QueryParam("format")
	if format != "" && format != "json" {
		_ = s.store.Audit(c.Request().Context(), currentUser(c).Email, "export_compare_"+format, q.period.From+".."+q.period.To)
	}
	switch format {
	case "", "json":
		return c.JSON(http.StatusOK, cmp)
	case "csv":
		return s.compareCSV(c, cmp)
	case "xlsx":
		return s.compareXLSX(c, cmp)
	}
	return survey.Invalid("format", "format phải là json, csv hoặc xlsx.", "format must be json, csv or xlsx.")
}

type followup struct {
	Period survey.Period `json:"period"`
	Note   survey.Text   `json:"note"`
	// Target says where targets come from: the city average of each
	// indicator, except Configured indicators set in PAPI_TARGETS.
	Target     string              `json:"target"`
	Configured int                 `json:"configured_targets"`
	Agencies   []survey.AgencyList `json:"agencies"`
}

func (s *Server) handleFollowup(c echo.Context) error {
	q, err := s.readPeriod(c)
	if err != nil {
		return err
	}
	cmp, err := s.compare(c, q)
	if err != nil {
		return err
	}
	per := map[string]survey.Scores{}
	names := map[string]string{}
	for _, r := range cmp.Rows {
		per[r.Commune.Code] = r.scores
		names[r.Commune.Code] = r.Commune.Name
	}
	out := followup{Period: q.period, Note: survey.Disclaimer, Target: "city_average", Configured: len(s.cfg.Targets),
		Agencies: s.store.Catalogue().Followup(per, names, s.cfg.Targets)}
	if out.Agencies == nil {
		out.Agencies = []survey.AgencyList{}
	}
	switch c.QueryParam("format") {
	case "", "json":
		return c.JSON(http.StatusOK, out)
	case "xlsx":
		_ = s.store.Audit(c.Request().Context(), currentUser(c).Email, "export_followup_xlsx", q.period.From+".."+q.period.To)
		return s.followupXLSX(c, out)
	}
	return survey.Invalid("format", "format phải là json hoặc xlsx.", "format must be json or xlsx.")
}
