package api

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/survey"
)

// report is the printable commune summary (format=html) as its template
// reads it: indicators with a value in tables, the others listed apart per
// dimension so that thin data does not print as pages of dashes.
type report struct {
	Commune                                survey.Commune
	Period                                 survey.Period
	PrevFrom, PrevTo                       string
	PrevResponses                          int64
	Version                                string
	Responses, Counted, Flagged, Verified  int64
	IncludeFlagged, VerifiedOnly, Weighted bool
	Total, TotalLow, TotalHigh             *float64
	TotalChange                            *survey.Change
	MinN, HideBelow                        int
	Note, RefNote                          survey.Text
	Shown, Count                           int
	Missing                                bool
	Dimensions                             []reportDimension
}

type reportDimension struct {
	survey.DimensionResult
	Change    *survey.Change
	Reference *float64 // PAPI 2024 national median
	Count     int      // scored (non-context) indicators
	Shown     int
	Subs      []reportSub
	Missing   []survey.IndicatorResult
}

type reportSub struct {
	survey.SubdimensionResult
	Shown []survey.IndicatorResult
}

// reference2024 is the part of the PAPI 2024 reference figures the report
// prints, read through their JSON form so the report follows the API's
// field names whatever Go type carries them.
type reference2024 struct {
	Note            survey.Text `json:"note"`
	DimensionMedian []float64   `json:"dimension_median"`
}

func newReport(sum summaryJSON) report {
	r := report{
		Commune: sum.Commune, Period: sum.Period, Version: sum.QuestionnaireVersion,
		PrevFrom: sum.Previous.Period.From, PrevTo: sum.Previous.Period.To, PrevResponses: sum.Previous.Responses,
		Responses: sum.Responses, Counted: sum.CountedResponses, Flagged: sum.FlaggedResponses, Verified: sum.VerifiedResponses,
		IncludeFlagged: sum.IncludeFlagged, VerifiedOnly: sum.VerifiedOnly, Weighted: sum.Weighted,
		Total: sum.Total, TotalLow: sum.TotalCILow, TotalHigh: sum.TotalCIHigh,
		MinN: sum.Policy.MinN, HideBelow: sum.Policy.HideBelow, Note: sum.Note,
	}
	var ref reference2024
	if b, err := json.Marshal(sum.Reference); err == nil {
		_ = json.Unmarshal(b, &ref)
	}
	r.RefNote = ref.Note
	changes := map[string]*survey.Change{}
	for i := range sum.Previous.Changes {
		ch := &sum.Previous.Changes[i]
		if ch.Change != nil {
			changes[ch.ID] = ch
		}
	}
	r.TotalChange = changes["total"]
	for i, d := range sum.Dimensions {
		rd := reportDimension{DimensionResult: d, Change: changes[d.ID]}
		if i < len(ref.DimensionMedian) {
			rd.Reference = &ref.DimensionMedian[i]
		}
		for _, sd := range d.Subdimensions {
			rs := reportSub{SubdimensionResult: sd}
			for _, ir := range sd.Indicators {
				if !ir.Context {
					rd.Count++
				}
				if ir.Value != nil {
					rs.Shown = append(rs.Shown, ir)
					rd.Shown++
				} else {
					rd.Missing = append(rd.Missing, ir)
				}
			}
			rd.Subs = append(rd.Subs, rs)
		}
		r.Shown += rd.Shown
		r.Count += rd.Shown + len(rd.Missing)
		r.Missing = r.Missing || len(rd.Missing) > 0
		r.Dimensions = append(r.Dimensions, rd)
	}
	return r
}

// summaryHTML renders the printable report of a commune summary.
func (s *Server) summaryHTML(c echo.Context, sum summaryJSON) error {
	d := s.newPage(c, "report")
	d.Lang = "vi" // the report is bilingual, Vietnamese first
	d.Title = "Báo cáo " + sum.Commune.Name + " · " + viDate(sum.Period.From) + " – " + viDate(sum.Period.To) + " · papi"
	d.Data = newReport(sum)
	return s.render(c, http.StatusOK, "report", d)
}
