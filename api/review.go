package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// Page sizes of the flag list: a review page shows flagPageSize responses
// unless limit asks for another size, at most flagPageMax (each response
// carries its answers, so a page stays small).
const (
	flagPageSize = 50
	flagPageMax  = 200
)

// flagPage is one page of the responses held for review.
type flagPage struct {
	Items  []store.Response `json:"items"`
	Total  int64            `json:"total"`
	Limit  int              `json:"limit"`
	Offset int              `json:"offset"`
	// Next is the path of the next page, or null on the last one.
	Next *string `json:"next"`
}

// handleFlagList lists responses held back by the anomaly checks (or
// quarantined ones) for an admin's review, newest first, a page at a time.
func (s *Server) handleFlagList(c echo.Context) error {
	status := c.QueryParam("status")
	if status == "" {
		status = store.StatusFlagged
	}
	if status != store.StatusFlagged && status != store.StatusQuarantined {
		return survey.Invalid("status", "status phải là flagged hoặc quarantined.", "status must be flagged or quarantined.")
	}
	limit, offset := flagPageSize, 0
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > flagPageMax {
			return survey.Invalid("limit", fmt.Sprintf("limit phải là số nguyên từ 1 đến %d.", flagPageMax), fmt.Sprintf("limit must be a whole number from 1 to %d.", flagPageMax))
		}
		limit = n
	}
	if v := c.QueryParam("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return survey.Invalid("offset", "offset phải là số nguyên không âm.", "offset must be a whole number, 0 or more.")
		}
		offset = n
	}
	list, total, err := s.store.Flagged(c.Request().Context(), status, limit, offset)
	if err != nil {
		return err
	}
	page := flagPage{Items: list, Total: total, Limit: limit, Offset: offset}
	if int64(offset+len(list)) < total {
		next := fmt.Sprintf("/api/v1/flags?status=%s&limit=%d&offset=%d", status, limit, offset+limit)
		page.Next = &next
	}
	return c.JSON(http.StatusOK, page)
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
