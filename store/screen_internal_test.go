package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/survey"
)

// TestScreenQueryReadsIndex checks on SQLite that screening counts a
// centre's (or a kiosk's) recent answers from its partial index: were it
// to scan responses instead, every submission would read the whole table.
// Each kind of query has as many counts as it asks for, and no more.
func TestScreenQueryReadsIndex(t *testing.T) {
	st := openPlanStore(t)
	at := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	kiosk := uint(3)
	for _, c := range []struct {
		name  string
		kind  screenKind
		item  item
		index string
		reads int
	}{
		{"a phone's burst and identical answers", phoneCounts, item{row: responseRow{CentreID: 7, CreatedAt: at, Fingerprint: "f"}, at: at},
			"USING COVERING INDEX idx_responses_centre_created", 2},
		{"a phone's identical answers only", phoneSameCounts, item{row: responseRow{CentreID: 7, CreatedAt: at, Fingerprint: "f"}, at: at, skipBurst: true},
			"USING COVERING INDEX idx_responses_centre_created", 1},
		{"a kiosk's three counts", kioskCounts, item{row: responseRow{CentreID: 7, KioskID: &kiosk, CreatedAt: at, Fingerprint: "f"}, at: at},
			"USING COVERING INDEX idx_responses_kiosk", 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := kindOf(&c.item); got != c.kind {
				t.Errorf("kindOf = %d, want %d", got, c.kind)
			}
			text := queryPlan(t, st, st.screenQuery(c.kind, []*item{&c.item}))
			if strings.Count(text, c.index) != c.reads || strings.Contains(text, "SCAN r") {
				t.Errorf("want %d counts, each reading %q; the plan is:\n%s", c.reads, c.index, text)
			}
		})
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

// queryPlan is the database's plan of q, a line a step: SQLite's EXPLAIN
// QUERY PLAN or PostgreSQL's EXPLAIN, whose text is each row's last column.
func queryPlan(t testing.TB, st *Store, q *query) string {
	t.Helper()
	explain := "EXPLAIN QUERY PLAN "
	if st.postgres {
		explain = "EXPLAIN "
	}
	rows, err := st.read.Raw(explain+q.String(), q.args...).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(any)
		}
		if err := rows.Scan(vals...); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, fmt.Sprint(*vals[len(vals)-1].(*any)))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}
