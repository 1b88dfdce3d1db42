package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/store/storetest"
	"github.com/papi-hcmc/papi/survey"
)

// TestYearRows: years are read from year rows, which the folds keep, and
// which papi recompute repairs (after the months they are rolled up from)
// and migration 17 builds. At every step the tallies of periods made of
// years, months and days equal a recomputation from the raw responses.
func TestYearRows(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) { testYearRows(t, b) })
	}
}

func testYearRows(t *testing.T, backend string) {
	ctx := context.Background()
	dsn := storetest.MustDSN(t, backend)
	opt := store.Options{FoldEvery: time.Hour} // no fold but the ones under test
	st := storetest.MustOpen(t, dsn, opt)
	storetest.MustSeed(t, st)
	raw := storetest.MustRaw(t, dsn)
	cat := st.Catalogue()
	rng := rand.New(rand.NewPCG(61, 62))
	communes := []string{"26740", "25747", "26506"}
	start := time.Date(2025, 12, 10, 3, 0, 0, 0, time.UTC) // forty days over the turn of the year
	submit := func(prefix string, n int) {
		t.Helper()
		batch := make([]store.NewResponse, 0, 10)
		for i := range n {
			batch = append(batch, store.NewResponse{SubmissionID: fmt.Sprintf("%s-%d", prefix, i), Centre: firstCentre(t, st, communes[rng.IntN(len(communes))]),
				Version: cat.Version, Visit: MustVisit(t, cat, rng, cat.AssignModules(rng.Uint64())),
				At: start.Add(time.Duration(rng.IntN(40*24)) * time.Hour)})
			if len(batch) == cap(batch) || i == n-1 {
				if _, err := st.CreateResponses(ctx, batch); err != nil {
					t.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	check := func(st *store.Store, what string) {
		t.Helper()
		for _, p := range []survey.Period{{From: "2025-01-01", To: "2025-12-31"}, {From: "2026-01-01", To: "2026-12-31"}, {From: "2025-01-01", To: "2026-12-31"},
			{From: "2025-12-01", To: "2026-01-31"}, {From: "2025-12-15", To: "2026-12-31"}, {From: "2024-12-01", To: "2025-12-20"}} {
			for _, flagged := range []bool{false, true} {
				got, err := st.Tallies(ctx, store.Filter{From: p.From, To: p.To, IncludeFlagged: flagged})
				if err != nil {
					t.Fatal(err)
				}
				compareTallies(t, fmt.Sprintf("%s: %s..%s flagged=%v", what, p.From, p.To, flagged), got, rawTallies(t, st, p, false, flagged))
			}
		}
	}
	count := func(where string) int64 {
		t.Helper()
		var n int64
		if err := raw.Raw("SELECT COUNT(*) FROM " + where).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}

	submit("a", 150)
	check(st, "delta rows, none folded")
	if n, err := store.FoldBetween(st, func() {}); err != nil || n == 0 {
		t.Fatalf("fold: folded %d delta rows, %v", n, err)
	}
	if count("tally_deltas") != 0 || count("tallies WHERE grain = 'y'") == 0 {
		t.Fatalf("after a fold: %d delta rows left, %d year rows", count("tally_deltas"), count("tallies WHERE grain = 'y'"))
	}
	check(st, "folded")
	if rep, err := st.Recompute(ctx); err != nil || rep.Mismatches != 0 || rep.Years != 2 {
		t.Fatalf("recompute after a fold: %+v, %v; want 2 years rolled up, no mismatch", rep, err)
	}

	// Damage: a commune's year rows gone, a month row wrong (the year rows
	// must be rolled up from it once repaired), year rows where no response
	// is; and more delta rows not yet folded.
	damage := func(q string) int64 {
		t.Helper()
		res := raw.Exec(q)
		if res.Error != nil || res.RowsAffected == 0 {
			t.Fatalf("%s: %d rows, %v", q, res.RowsAffected, res.Error)
		}
		return res.RowsAffected
	}
	want := damage("DELETE FROM tallies WHERE grain = 'y' AND period = '2025' AND commune_code = '26740'") +
		damage("UPDATE tallies SET responses = responses + 5 WHERE grain = 'm' AND period = '2026-01' AND commune_code = '25747'") +
		damage("INSERT INTO tallies (grain, period, commune_code, centre_id, channel, questionnaire_version, verified, flagged, responses, resident_here, resident_other, resident_outside, resident_unknown, data) "+
			"SELECT grain, '2019', commune_code, centre_id, channel, questionnaire_version, verified, flagged, responses, resident_here, resident_other, resident_outside, resident_unknown, data FROM tallies WHERE grain = 'y' AND period = '2026' AND commune_code = '26506'")
	submit("b", 30)
	rep, err := st.Recompute(ctx)
	if err != nil || rep.Mismatches != int(want) || rep.Responses != 180 {
		t.Fatalf("recompute of damaged tallies: %+v, %v; want 180 responses and %d rows replaced", rep, err, want)
	}
	if n := count("tallies WHERE period = '2019'"); n != 0 {
		t.Errorf("recompute left %d year rows of 2019, where no response is", n)
	}
	check(st, "repaired")
	if rep, err := st.Recompute(ctx); err != nil || rep.Mismatches != 0 {
		t.Errorf("second recompute: %+v, %v; want no mismatch", rep, err)
	}

	// A database as schema 16 left it: no year rows, delta rows not yet
	// folded. Migration 17 folds them and rolls the years up.
	submit("c", 30)
	damage("DELETE FROM tallies WHERE grain = 'y'")
	damage("DELETE FROM schema_migrations WHERE version = 17")
	upgraded := storetest.MustOpen(t, dsn, opt)
	if count("tally_deltas") != 0 || count("tallies WHERE grain = 'y'") == 0 {
		t.Errorf("after migration 17: %d delta rows left, %d year rows", count("tally_deltas"), count("tallies WHERE grain = 'y'"))
	}
	check(upgraded, "migrated")
	if rep, err := upgraded.Recompute(ctx); err != nil || rep.Mismatches != 0 || rep.Responses != 210 {
		t.Errorf("recompute after migration 17: %+v, %v; want 210 responses, no mismatch", rep, err)
	}
}
