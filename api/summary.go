package api

import (
	"context"
	"maps"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// periodQuery is what every summary, comparison and follow-up reads from
// the query string.
type periodQuery struct {
	period         survey.Period
	previous       survey.Period
	verifiedOnly   bool
	includeFlagged bool
	weighted       bool
	// estimates turns on small-area estimates (estimate=direct turns them
	// off).
	estimates bool
	policy    survey.Policy
	// channels limits to these channels (channel=qr,household); empty
	// means every channel.
	channels []string
}

func (s *Server) readPeriod(c echo.Context) (periodQuery, error) {
	p, err := survey.ResolvePeriod(c.QueryParam("from"), c.QueryParam("to"), c.QueryParam("period"), s.now())
	if err != nil {
		return periodQuery{}, err
	}
	p, prev, err := disclosedPeriod(c, p)
	if err != nil {
		return periodQuery{}, err
	}
	q := periodQuery{period: p, previous: prev, policy: s.cfg.Policy, estimates: true}
	flags := []struct {
		name, vi, en string
		set          *bool
		on, off      []string
	}{
		{"verified", "verified phải là 1 hoặc 0.", "verified must be 1 or 0.", &q.verifiedOnly, []string{"1", "true", "only"}, []string{"", "0", "false", "all"}},
		{"weighted", "weighted phải là 1 hoặc 0.", "weighted must be 1 or 0.", &q.weighted, []string{"1", "true"}, []string{"", "0", "false"}},
		{"flagged", "flagged phải là include hoặc exclude.", "flagged must be include or exclude.", &q.includeFlagged, []string{"include"}, []string{"", "exclude"}},
		{"estimate", "estimate phải là direct (chỉ số liệu của chính xã/phường) hoặc small_area.", "estimate must be direct (the commune's own answers only) or small_area.", &q.estimates, []string{"", survey.EstimatesSmallArea}, []string{survey.EstimatesDirect}},
	}
	for _, f := range flags {
		switch v := c.QueryParam(f.name); {
		case slices.Contains(f.on, v):
			*f.set = true
		case slices.Contains(f.off, v):
			*f.set = false
		default:
			return periodQuery{}, survey.Invalid(f.name, f.vi, f.en)
		}
	}
	if q.channels, err = survey.ParseChannels(c.QueryParam("channel")); err != nil {
		return periodQuery{}, err
	}
	if v := c.QueryParam("min_n"); v != "" {
		// Staff may ask for a stricter rule, never a looser one.
		least := strconv.Itoa(q.policy.MinN)
		n, err := strconv.Atoi(v)
		if err != nil || n < q.policy.MinN || n > 10000 {
			return periodQuery{}, survey.Invalid("min_n", "min_n phải là số nguyên từ "+least+" (mức tối thiểu của hệ thống, PAPI_MIN_N) đến 10000.",
				"min_n must be a whole number from "+least+" (the service's minimum, PAPI_MIN_N) to 10000.")
		}
		q.policy.MinN = n
	}
	return q, nil
}

// summaryJSON is a summary as the API serves it: the survey summary and
// how it was asked for, with the change against the previous period.
type summaryJSON struct {
	// Level is commune, centre, former_province or city.
	Level                string        `json:"level"`
	CentreID             *uint         `json:"centre_id,omitempty"`
	Period               survey.Period `json:"period"`
	QuestionnaireVersion string        `json:"questionnaire_version"`
	VerifiedOnly         bool          `json:"verified_only"`
	IncludeFlagged       bool          `json:"include_flagged"`
	Weighted             bool          `json:"weighted"`
	// ChannelFilter lists the channels asked for (channel=); empty means
	// every channel.
	ChannelFilter []string `json:"channel_filter"`
	survey.Summary
	// ByChannel sets a commune's (or centre's) channels side by side when
	// two or more of them have answers in the period.
	ByChannel *survey.ChannelComparison `json:"by_channel,omitempty"`
	Previous  struct {
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

// summary scores a unit over the period and the previous one.
func (s *Server) summary(ctx context.Context, u unit, q periodQuery) (summaryJSON, error) {
	out := summaryJSON{Level: u.level, Period: q.period, QuestionnaireVersion: s.store.Catalogue().Version,
		VerifiedOnly: q.verifiedOnly, IncludeFlagged: q.includeFlagged, Weighted: q.weighted, ChannelFilter: q.channels}
	if out.ChannelFilter == nil {
		out.ChannelFilter = []string{}
	}
	if u.centre != 0 {
		out.CentreID = &u.centre
	}
	var err error
	if out.Summary, err = s.unitSummary(ctx, u, q, q.period); err != nil {
		return out, err
	}
	prevPeriod := q.previous
	prev, err := s.unitSummary(ctx, u, q, prevPeriod)
	if err != nil {
		return out, err
	}
	out.Previous.Period, out.Previous.Responses = prevPeriod, prev.CountedResponses
	out.Previous.Changes = survey.Changes(out.Scores, prev.Scores)
	if u.level == "commune" || u.level == "centre" {
		if out.ByChannel, err = s.channelComparison(ctx, u, q, out.Channels); err != nil {
			return out, err
		}
	}
	return out, nil
}

// channelComparison reads each channel's own tallies of a commune (or
// centre) and sets them side by side; nil when fewer than two channels
// have answers.
func (s *Server) channelComparison(ctx context.Context, u unit, q periodQuery, counts map[string]int64) (*survey.ChannelComparison, error) {
	var present []string
	for _, ch := range survey.Channels {
		if counts[ch] > 0 {
			present = append(present, ch)
		}
	}
	if len(present) < 2 {
		return nil, nil
	}
	tallies := map[string]map[string]survey.Tally{}
	for _, ch := range present {
		one := q
		one.channels = []string{ch}
		data, err := s.communeData(ctx, q.period, one, []string{u.commune.Code}, u.centre)
		if err != nil {
			return nil, err
		}
		tallies[ch] = data[u.commune.Code].Tallies
	}
	cmp := s.store.Catalogue().CompareChannels(tallies, counts, q.policy)
	return &cmp, nil
}

// unitSummary scores a unit over one period. A commune's small-area
// estimates draw on every commune's answers; centres, former provinces and
// the city are scored from their pooled answers.
func (s *Server) unitSummary(ctx context.Context, u unit, q periodQuery, p survey.Period) (survey.Summary, error) {
	cat := s.store.Catalogue()
	if u.level != "commune" {
		if q.weighted {
			return survey.Summary{}, survey.Invalid("weighted", "Trọng số chỉ áp dụng cho tổng hợp của một xã/phường.", "Weights apply to a whole commune's summary only.")
		}
		data, err := s.communeData(ctx, p, q, u.communes, u.centre)
		if err != nil {
			return survey.Summary{}, err
		}
		// Merged in commune order: sums in another order differ in their
		// last bits, and two processes must give the same bytes.
		all := make([]survey.CommuneData, 0, len(data))
		for _, code := range slices.Sorted(maps.Keys(data)) {
			all = append(all, data[code])
		}
		return survey.SummarizePooled(cat, u.commune, survey.Merge(all...), q.policy), nil
	}
	code, communes := u.commune.Code, []survey.Commune{u.commune}
	var read []string // every commune for estimates, else this one
	if !q.estimates {
		read = []string{code}
	}
	data, err := s.communeData(ctx, p, q, read, 0)
	if err != nil {
		return survey.Summary{}, err
	}
	if q.estimates {
		if communes, err = s.store.Communes(ctx); err != nil {
			return survey.Summary{}, err
		}
	}
	if q.weighted {
		if data[code], err = s.weightedData(ctx, code, p, q); err != nil {
			return survey.Summary{}, err
		}
	}
	return survey.Summarize(cat, communes, data, code, survey.SummaryOptions{Policy: q.policy, Estimates: q.estimates})
}

// communeData reads the tallies of the period per commune (every commune
// when communes is empty; one centre's when centre is set).
func (s *Server) communeData(ctx context.Context, p survey.Period, q periodQuery, communes []string, centre uint) (map[string]survey.CommuneData, error) {
	t, err := s.store.Tallies(ctx, store.Filter{From: p.From, To: p.To, Communes: communes, CentreID: centre, Channels: q.channels, VerifiedOnly: q.verifiedOnly, IncludeFlagged: q.includeFlagged})
	if err != nil {
		return nil, err
	}
	return t.CommuneData(), nil
}

// weightedData recomputes a commune's tallies from its raw responses with
// post-stratification weights (weights depend on who answered in the
// period, so they cannot be kept running).
func (s *Server) weightedData(ctx context.Context, code string, p survey.Period, q periodQuery) (survey.CommuneData, error) {
	var out survey.CommuneData
	var visits []survey.Visit
	err := s.store.EachResponse(ctx, code, p.From, p.To, func(r store.Response) error {
		switch {
		case r.Status == store.StatusQuarantined, q.verifiedOnly && !r.Verified,
			len(q.channels) > 0 && !slices.Contains(q.channels, r.Channel):
			return nil
		case r.Status == store.StatusFlagged && !q.includeFlagged:
			out.FlaggedResponses++
			out.Responses++
			return nil
		}
		out.Responses++
		out.CountedResponses++
		if r.Verified {
			out.VerifiedResponses++
		}
		visits = append(visits, survey.Visit{Modules: r.Modules, Answers: r.Answers, Sex: r.Sex, AgeGroup: r.AgeGroup})
		return nil
	})
	if err != nil {
		return out, err
	}
	weights, err := survey.PostStratify(visits, s.cfg.Population[code])
	if err != nil {
		return out, err
	}
	out.Tallies = s.store.Catalogue().WeightedTallies(visits, weights)
	return out, nil
}

// handleSummary summarises one commune, or one of its centres (centre=ID).
func (s *Server) handleSummary(c echo.Context) error {
	ctx := c.Request().Context()
	commune, err := s.store.Commune(ctx, c.Param("code"))
	if err != nil {
		return err
	}
	u := unit{level: "commune", commune: commune, communes: []string{commune.Code}}
	if v := c.QueryParam("centre"); v != "" {
		id, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return survey.Invalid("centre", "Mã trung tâm phải là số.", "centre must be a number.")
		}
		centre, err := s.store.Centre(ctx, uint(id))
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
	sum, err := s.summary(c.Request().Context(), u, q)
	if err != nil {
		return err
	}
	return s.respond(c, output{formats: []string{"csv", "xlsx", "html"}, action: "export_summary", target: target + " " + q.period.From + ".." + q.period.To,
		json: sum, doc: func() document { return s.summaryDoc(sum) }, html: func() error { return s.summaryHTML(c, sum) }})
}
