package api

import (
	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/survey"
)

// followupJSON is the follow-up as the API serves it.
type followupJSON struct {
	Period survey.Period `json:"period"`
	Note   survey.Text   `json:"note"`
	// Estimates says whether borrowed values were included (and marked).
	Estimates string `json:"estimates"`
	// Province and Type echo the filters, when given.
	Province string `json:"former_province,omitempty"`
	Type     string `json:"type,omitempty"`
	survey.FollowupReport
}

// handleFollowup lists, per agency, the indicators of the communes (of the
// former_province= and type= filters, if any) whose interval lies entirely
// below target.
func (s *Server) handleFollowup(c echo.Context) error {
	q, err := s.readPeriod(c)
	if err != nil {
		return err
	}
	opts := survey.CompareOptions{Province: c.QueryParam("former_province"), Type: c.QueryParam("type"), Policy: q.policy, Estimates: q.estimates}
	cmp, err := s.compare(c.Request().Context(), q, opts)
	if err != nil {
		return err
	}
	out := followupJSON{Period: q.period, Note: survey.Disclaimer, Estimates: cmp.Estimates, Province: opts.Province, Type: opts.Type,
		FollowupReport: survey.Followup(s.store.Catalogue(), cmp.Comparison, s.cfg.Targets)}
	return s.respond(c, output{formats: []string{"csv", "xlsx"}, action: "export_followup", target: q.period.From + ".." + q.period.To,
		json: out, doc: func() document { return s.followupDoc(out) }})
}
