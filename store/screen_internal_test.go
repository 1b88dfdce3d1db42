package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/survey"
)

// TestScreenQueryReadsIndex checks on SQLite that screening counts a
// centre's recent answers from the partial screening index alone: were it
// to scan responses instead, every submission would read the whole table.
func TestScreenQueryReadsIndex(t *testing.T) {
	st := openPlanStore(t)
	at := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	items := []*item{{row: responseRow{CentreID: 7, CreatedAt: at, Fingerprint: "f"}, at: at}}
	text := queryPlan(t, st, st.screenQuery(items))
	if strings.Count(text, "USING COVERING INDEX idx_responses_centre_created") < 2 || strings.Contains(text, "SCAN r") {
		t.Errorf("screening's centre counts must read idx_responses_centre_created alone; the plan is:\n%s", text)
	}
}

// openPlanStore opens an empty SQLite store in the test's folder, whose
// query plans the plan tests read.
func openPlanStore(t *testing.T) *Store {
	t.Helper()
	cats, err := survey.Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(context.Background(), t.TempDir()+"/plan.db", Options{Catalogues: cats})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// queryPlan is SQLite's EXPLAIN QUERY PLAN of q, a line a step.
func queryPlan(t *testing.T, st *Store, q *query) string {
	t.Helper()
	rows, err := st.read.Raw("EXPLAIN QUERY PLAN "+q.String(), q.args...).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "\n")
}
