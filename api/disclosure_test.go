package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// TestResponsesExportDisclosure (security review H2 and M6): the admin's
// responses.csv has every record with its day; a commune or department
// account gets the disclosure-controlled export (month, no id, no free
// text, small profile cells blanked); a comment written as a spreadsheet
// formula comes out inert.
func TestResponsesExportDisclosure(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	ctx := context.Background()
	cat := ts.store.Catalogue()
	centre := mustCentre(t, ts, "26740")
	rng := rand.New(rand.NewPCG(21, 1))
	at := time.Date(2026, 6, 2, 8, 0, 0, 0, survey.Local)
	formulas := []string{`=HYPERLINK("http://evil.example","bấm")`, "+1+1", "@SUM(A1)", "-2+3"}
	for i := range 12 {
		sub := cat.Synthesize(rng, cat.AssignModules(uint64(i)), 0.7)
		sub.Sex, sub.AgeGroup = "female", "40_49"
		if i == 11 {
			sub.Sex, sub.AgeGroup = "male", "18_29" // alone in its cell
		}
		if i < len(formulas) {
			b, _ := json.Marshal(formulas[i])
			sub.Answers["c_comment"] = b
		}
		v, err := cat.ValidateSubmission(sub)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := ts.store.CreateResponse(ctx, store.NewResponse{SubmissionID: fmt.Sprintf("disc-%d", i), Centre: centre, Version: cat.Version, Visit: v, At: at.Add(time.Duration(i) * 30 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(role string) [][]string {
		t.Helper()
		res := ts.do(t, "GET", "/api/v1/communes/26740/responses.csv?from=2026-06-01&to=2026-06-30", ts.tokens[role], "", nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("%s: status %d %s", role, res.StatusCode, body)
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(body), "\ufeff"))).ReadAll()
		if err != nil || len(recs) != 13 {
			t.Fatalf("%s: %d records, %v; want a header and 12 rows", role, len(recs), err)
		}
		return recs
	}

	full := read("admin")
	if full[0][0] != "id" || full[0][1] != "day" || full[1][1] != "2026-06-02" {
		t.Errorf("admin export: header %v, first row %v; want id and day", full[0][:3], full[1][:3])
	}
	comment := slices.Index(full[0], "c_comment")
	var inert []string
	for _, r := range full[1:] {
		if r[comment] != "" {
			inert = append(inert, r[comment])
		}
	}
	slices.Sort(inert)
	want := []string{`'+1+1`, `'-2+3`, `'=HYPERLINK("http://evil.example","bấm")`, `'@SUM(A1)`}
	if !slices.Equal(inert, want) {
		t.Errorf("comments in the admin export: got %q, want each formula behind an apostrophe %q", inert, want)
	}

	for _, role := range []string{"commune", "department"} {
		coarse := read(role)
		head := coarse[0]
		if head[0] != "month" || slices.Contains(head, "id") || slices.Contains(head, "day") || slices.Contains(head, "c_comment") {
			t.Errorf("%s export: header %v; want month first, no id, day or free text", role, head)
		}
		sex := slices.Index(head, "sex")
		cells := map[string]int{}
		for _, r := range coarse[1:] {
			if r[0] != "2026-06" {
				t.Errorf("%s export: month %q, want 2026-06", role, r[0])
			}
			cells[r[sex]+"/"+r[sex+1]]++
		}
		if cells["female/40_49"] != 11 || cells["/"] != 1 {
			t.Errorf("%s export: profiles %v; want 11 female 40-49 and the man alone in his cell blanked", role, cells)
		}
	}

	var audit []struct{ Action, Target string }
	ts.do(t, "GET", "/api/v1/audit", ts.tokens["admin"], "", &audit)
	actions := map[string]int{}
	for _, a := range audit {
		actions[a.Action]++
	}
	if actions["export_responses_csv"] != 1 || actions["export_responses_coarse_csv"] != 2 {
		t.Errorf("audit: %v; want one record-level and two coarse exports", actions)
	}
}
