package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

type trendPoint struct {
	Period     survey.Period            `json:"period"`
	Responses  int64                    `json:"responses"`
	TotalScore *float64                 `json:"total_score"`
	Dimensions []survey.DimensionResult `json:"dimensions"`
}

// handleTrend scores the last N calendar months (ending with the month of
// `to`, default this month) for the city, or for one commune when commune=
// is given (commune accounts may ask only for their own).
func (s *Server) handleTrend(c echo.Context) error {
	months := 6
	if v := c.QueryParam("months"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 36 {
			return survey.Invalid("months", "months phải từ 1 đến 36.", "months must be between 1 and 36.")
		}
		months = n
	}
	code := c.QueryParam("commune")
	u := currentUser(c)
	if code == "" && !u.CanSeeCity() || code != "" && !u.CanSeeCommune(code) {
		return errScope
	}
	end := s.now().In(survey.Local)
	if v := c.QueryParam("to"); v != "" {
		t, err := time.ParseInLocation(survey.DateLayout, v, survey.Local)
		if err != nil {
			return survey.Invalid("to", "Ngày kết thúc phải có dạng YYYY-MM-DD.", "to must be a date YYYY-MM-DD.")
		}
		end = t
	}
	var communes []string
	if code != "" {
		if _, err := s.store.Commune(c.Request().Context(), code); err != nil {
			return err
		}
		communes = []string{code}
	}
	cat := s.store.Catalogue()
	first := time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, survey.Local).AddDate(0, -(months - 1), 0)
	out := make([]trendPoint, 0, months)
	for m := 0; m < months; m++ {
		start := first.AddDate(0, m, 0)
		p := survey.Period{From: start.Format(survey.DateLayout), To: start.AddDate(0, 1, -1).Format(survey.DateLayout)}
		t, err := s.store.Tallies(c.Request().Context(), store.Filter{From: p.From, To: p.To, Communes: communes})
		if err != nil {
			return err
		}
		n, _, tallies := t.Combined()
		sc := cat.Score(tallies, s.cfg.Policy)
		out = append(out, trendPoint{Period: p, Responses: n, TotalScore: sc.Total, Dimensions: sc.Dimensions})
	}
	return c.JSON(http.StatusOK, map[string]any{"commune": code, "note": survey.Disclaimer, "points": out})
}
