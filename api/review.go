package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// handleFlagList lists responses held back by the anomaly checks (or
// quarantined ones) for an admin's review.
func (s *Server) handleFlagList(c echo.Context) error {
	status := c.QueryParam("status")
	if status == "" {
		status = store.StatusFlagged
	}
	if status != store.StatusFlagged && status != store.StatusQuarantined {
		return survey.Invalid("status", "status phải là flagged hoặc quarantined.", "status must be flagged or quarantined.")
	}
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	list, err := s.store.Flagged(c.Request().Context(), status, limit)
	if err != nil {
		return err
	}
	if list == nil {
		list = []store.Response{}
	}
	return c.JSON(http.StatusOK, list)
}

// setStatus moves a response to status; the store audits the move in the
// same transaction.
func (s *Server) setStatus(status string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseUint(c.Param("id"), 10, 64)
		if err != nil || id == 0 {
			return survey.Invalid("id", "Mã phiếu phải là số nguyên dương.", "id must be a positive whole number.")
		}
		r, err := s.store.SetStatus(c.Request().Context(), currentUser(c).Email, id, status)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, r)
	}
}
