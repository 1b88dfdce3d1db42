package api_test

import (
	"strings"
	"testing"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/survey"
)

// TestCommunePeriodsWholeMonths closes H2's summary part: a commune account
// gets summaries for whole months only (two overlapping day ranges could be
// differenced down to one day's residents), with a clear 400 otherwise; the
// period it is compared with is whole months too. The department is not
// restricted.
func TestCommunePeriodsWholeMonths(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	type summary struct {
		Period   survey.Period
		Previous struct{ Period survey.Period }
	}
	for _, tc := range []struct {
		who, query string
		want       int
		field      string
		period     survey.Period
		previous   survey.Period
	}{
		{"commune", "from=2026-01-01&to=2026-02-28", 200, "", survey.Period{From: "2026-01-01", To: "2026-02-28"}, survey.Period{From: "2025-11-01", To: "2025-12-31"}},
		{"commune", "from=2026-03-01&to=2026-03-31", 200, "", survey.Period{From: "2026-03-01", To: "2026-03-31"}, survey.Period{From: "2026-02-01", To: "2026-02-28"}},
		{"commune", "from=2026-01-15&to=2026-02-28", 400, "from", survey.Period{}, survey.Period{}},
		{"commune", "from=2026-01-01&to=2026-02-27", 400, "to", survey.Period{}, survey.Period{}},
		{"commune", "from=2026-02-14&to=2026-02-14", 400, "from", survey.Period{}, survey.Period{}},
		{"commune", "from=2026-01-01", 200, "", survey.Period{}, survey.Period{}},
		{"commune", "period=month", 200, "", survey.Period{}, survey.Period{}},
		{"commune", "", 200, "", survey.Period{}, survey.Period{}},
		{"department", "from=2026-01-15&to=2026-02-27", 200, "", survey.Period{From: "2026-01-15", To: "2026-02-27"}, survey.Period{From: "2025-12-02", To: "2026-01-14"}},
	} {
		var got summary
		var out any = &got
		if tc.want != 200 {
			out = nil
		}
		res := ts.do(t, "GET", "/api/v1/communes/26740/summary?"+tc.query, ts.tokens[tc.who], "", out)
		if res.StatusCode != tc.want {
			t.Errorf("%s %q: got %d, want %d", tc.who, tc.query, res.StatusCode, tc.want)
			continue
		}
		if tc.field != "" {
			var body struct {
				Errors []struct {
					Field     string
					MessageVi string `json:"message_vi"`
					MessageEn string `json:"message_en"`
				}
			}
			ts.do(t, "GET", "/api/v1/communes/26740/summary?"+tc.query, ts.tokens[tc.who], "", &body)
			if len(body.Errors) != 1 || body.Errors[0].Field != tc.field || !strings.Contains(body.Errors[0].MessageEn, "month") {
				t.Errorf("%s %q: got %+v, want a bilingual error on %s about months", tc.who, tc.query, body.Errors, tc.field)
			}
			continue
		}
		if tc.period != (survey.Period{}) && (got.Period != tc.period || got.Previous.Period != tc.previous) {
			t.Errorf("%s %q: got %+v against %+v, want %+v against %+v", tc.who, tc.query, got.Period, got.Previous.Period, tc.period, tc.previous)
		}
		if tc.who == "commune" && (!got.Period.WholeMonths() || !got.Previous.Period.WholeMonths()) {
			t.Errorf("commune %q: got %+v against %+v, want whole months", tc.query, got.Period, got.Previous.Period)
		}
	}
	// The raw export, the other place a commune account names a period.
	if res := ts.do(t, "GET", "/api/v1/communes/26740/responses.csv?from=2026-02-14&to=2026-02-14", ts.tokens["commune"], "", nil); res.StatusCode != 400 {
		t.Errorf("commune raw export of one day: got %d, want 400", res.StatusCode)
	}
}
