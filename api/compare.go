package api

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/survey"
)

// comparisonJSON is a comparison as the API serves it.
type comparisonJSON struct {
	Period         survey.Period `json:"period"`
	VerifiedOnly   bool          `json:"verified_only"`
	IncludeFlagged bool          `json:"include_flagged"`
	survey.Comparison
}

// readCompare reads what to compare and rank by: dimension= or
// indicator=, and the former_province= and type= filters.
func readCompare(c echo.Context, q periodQuery) (survey.CompareOptions, error) {
	opts := survey.CompareOptions{Province: c.QueryParam("former_province"), Type: c.QueryParam("type"), Policy: q.policy, Estimates: q.estimates}
	dimension, indicator := c.QueryParam("dimension"), c.QueryParam("indicator")
	switch {
	case dimension != "" && indicator != "":
		return opts, survey.Invalid("indicator", "Chỉ chọn một trong dimension hoặc indicator để xếp hạng.", "Rank by dimension or by indicator, not both.")
	case dimension != "":
		opts.By, opts.ID = survey.RankDimension, dimension
	case indicator != "":
		opts.By, opts.ID = survey.RankIndicator, indicator
	}
	return opts, nil
}

// compare scores and ranks the communes. Every commune's answers are read,
// whatever the filters: small-area estimates draw on all of them.
func (s *Server) compare(ctx context.Context, q periodQuery, opts survey.CompareOptions) (comparisonJSON, error) {
	out := comparisonJSON{Period: q.period, VerifiedOnly: q.verifiedOnly, IncludeFlagged: q.includeFlagged}
	communes, err := s.store.Communes(ctx)
	if err != nil {
		return out, err
	}
	data, err := s.communeData(ctx, q.period, q, nil, 0)
	if err != nil {
		return out, err
	}
	out.Comparison, err = survey.Compare(s.store.Catalogue(), communes, data, opts)
	return out, err
}

func (s *Server) handleCompare(c echo.Context) error {
	q, err := s.readPeriod(c)
	if err != nil {
		return err
	}
	opts, err := readCompare(c, q)
	if err != nil {
		return err
	}
	cmp, err := s.compare(c.Request().Context(), q, opts)
	if err != nil {
		return err
	}
	return s.respond(c, output{formats: []string{"csv", "xlsx"}, action: "export_compare", target: q.period.From + ".." + q.period.To,
		json: cmp, doc: func() document { return s.compareDoc(cmp) }})
}
