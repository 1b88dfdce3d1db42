package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/store/storetest"
	"github.com/papi-hcmc/papi/survey"
)

// TestTwoStoresOneDatabase runs two stores on one database, as two papi
// processes (two `papi serve` on PostgreSQL, or `papi serve` and `papi
// import` on one SQLite file) would: both take submissions at the same few
// centres at once (so their tally rows collide), one moves responses
// between statuses and recomputes meanwhile, and afterwards the tallies
// equal a recomputation from the raw responses: no update was lost.
func TestTwoStoresOneDatabase(t *testing.T) {
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			dsn := storetest.MustDSN(t, backend)
			a := MustOpenDSN(t, dsn, time.Now)
			b := MustOpenDSN(t, dsn, time.Now)
			ctx := context.Background()
			communes, _ := survey.Communes()
			var wgSeed sync.WaitGroup
			seedErrs := make(chan error, 2)
			for _, st := range []*store.Store{a, b} {
				wgSeed.Add(1)
				go func() { defer wgSeed.Done(); seedErrs <- st.Seed(ctx, communes) }()
			}
			wgSeed.Wait()
			close(seedErrs)
			for err := range seedErrs {
				if err != nil {
					t.Fatalf("seeding from two stores at once: %v", err)
				}
			}
			centres, err := a.AllCentres(ctx)
			if err != nil || len(centres) != 168 {
				t.Fatalf("after two seeds at once: got %d centres (%v), want 168", len(centres), err)
			}
			cat := a.Catalogue()
			rng := rand.New(rand.NewPCG(41, 42))
			const workers, each = 6, 25
			visits := make([]survey.Visit, 2*workers*each)
			for i := range visits {
				visits[i] = MustVisit(t, cat, rng, cat.AssignModules(uint64(i)))
				if i%3 == 0 {
					visits[i].Residence, visits[i].ResidenceCommune = survey.ResidenceOther, centres[(i/3)%4].CommuneCode
				}
			}
			day := time.Date(2026, 4, 7, 9, 0, 0, 0, survey.Local)
			var wg sync.WaitGroup
			errs := make(chan error, len(visits)+10)
			for w := 0; w < 2*workers; w++ {
				st := []*store.Store{a, b}[w%2]
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := 0; k < each; k++ {
						i := w*each + k
						_, _, err := st.CreateResponse(ctx, store.NewResponse{SubmissionID: fmt.Sprintf("two-%04d", i), Centre: centres[i%4], Version: cat.Version,
							Visit: visits[i], DurationMS: 120000, At: day.Add(time.Duration(i%7) * 24 * time.Hour)})
						if err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := 0; r < 3; r++ {
					time.Sleep(20 * time.Millisecond)
					if _, err := b.Recompute(ctx); err != nil {
						errs <- fmt.Errorf("recompute while writing: %w", err)
					}
					list, _, _ := a.Flagged(ctx, store.StatusFlagged, 5, 0)
					for _, f := range list {
						if _, err := a.SetStatus(ctx, "test", f.ID, store.StatusQuarantined); err != nil {
							errs <- err
						}
					}
				}
			}()
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if n, _ := a.ResponseCount(ctx, ""); n != int64(len(visits)) {
				t.Errorf("got %d responses, want %d", n, len(visits))
			}
			p := survey.Period{From: "2026-04-01", To: "2026-04-30"}
			for _, st := range []*store.Store{a, b} {
				for _, flagged := range []bool{false, true} {
					got, err := st.Tallies(ctx, store.Filter{From: p.From, To: p.To, IncludeFlagged: flagged})
					if err != nil {
						t.Fatal(err)
					}
					compareTallies(t, fmt.Sprintf("flagged=%v", flagged), got, rawTallies(t, st, p, false, flagged))
				}
			}
			if rep, err := a.Recompute(ctx); err != nil || rep.Mismatches != 0 {
				t.Errorf("final recompute: got %+v, %v; want 0 mismatches", rep, err)
			}
		})
	}
}

// TestEarlierVersionsMapOntoCurrent stores answers to two questionnaire
// versions, the newer of which carries over only some indicators: the
// tallies count an older answer for an indicator only when the current
// catalogue says it measures it the same way (Carries).
func TestEarlierVersionsMapOntoCurrent(t *testing.T) {
	cats, err := survey.Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	old := cats[len(cats)-1]
	raw, err := os.ReadFile(filepath.Join("..", "survey", "catalogue", old.Version+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	doc["version"] = "2099.1"
	carried := 0
	for _, d := range doc["dimensions"].([]any) {
		for _, sd := range d.(map[string]any)["subdimensions"].([]any) {
			for i, ind := range sd.(map[string]any)["indicators"].([]any) {
				if i%2 == 0 {
					ind.(map[string]any)["comparable"] = []string{old.Version}
					carried++
				}
			}
		}
	}
	b, _ := json.Marshal(doc)
	next, err := survey.ParseCatalogue(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			st := storetest.MustSeeded(t, backend, store.Options{Catalogues: []*survey.Catalogue{old, next}}).Store
			ctx := context.Background()
			centre := firstCentre(t, st, "26740")
			rng := rand.New(rand.NewPCG(43, 44))
			at := time.Date(2026, 5, 5, 9, 0, 0, 0, survey.Local)
			var ins []store.NewResponse
			for i := 0; i < 80; i++ {
				c := []*survey.Catalogue{old, next}[i%2]
				ins = append(ins, store.NewResponse{SubmissionID: fmt.Sprintf("ver-%03d", i), Centre: centre, Version: c.Version,
					Visit: MustVisit(t, c, rng, c.AssignModules(uint64(i/2))), DurationMS: 120000, At: at.Add(time.Duration(i) * 5 * time.Minute)})
			}
			if _, err := st.CreateResponses(ctx, ins); err != nil {
				t.Fatal(err)
			}
			p := survey.Period{From: "2026-05-01", To: "2026-05-31"}
			got, err := st.Tallies(ctx, store.Filter{From: p.From, To: p.To})
			if err != nil {
				t.Fatal(err)
			}
			compareTallies(t, "two versions", got, rawTallies(t, st, p, false, false))
			if got.Communes["26740"].Counted != 80 {
				t.Errorf("got %d visits counted, want 80 of both versions", got.Communes["26740"].Counted)
			}
			// An indicator that does not carry over has only the 40 newer
			// answers; some that do carry over (core questions) have more.
			over40 := false
			for id, tl := range got.Communes["26740"].Indicators {
				if !next.Carries(old.Version, id) && tl.N > 40 {
					t.Errorf("indicator %s does not carry over from %s but has %v respondents, more than the 40 newer answers", id, old.Version, tl.N)
				}
				over40 = over40 || tl.N > 40
			}
			if !over40 {
				t.Error("no indicator counts answers of both versions")
			}
			t.Logf("%d of %d indicators carried over from %s", carried, len(next.Indicators()), old.Version)
		})
	}
}

// TestTallyWritesSeeOtherWriters alternates two stores (two processes) on
// one database, and status moves on one of them, over the same tally rows:
// each store's writer keeps the rows it wrote last in memory (on SQLite),
// and must notice when another writer changed them since.
func TestTallyWritesSeeOtherWriters(t *testing.T) {
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			dsn := storetest.MustDSN(t, backend)
			a := MustOpenDSN(t, dsn, time.Now)
			ctx := context.Background()
			communes, _ := survey.Communes()
			if err := a.Seed(ctx, communes); err != nil {
				t.Fatal(err)
			}
			b := MustOpenDSN(t, dsn, time.Now)
			centre := firstCentre(t, a, "26740")
			cat := a.Catalogue()
			rng := rand.New(rand.NewPCG(43, 44))
			at := time.Date(2026, 4, 7, 9, 0, 0, 0, survey.Local)
			submit := func(st *store.Store, i int) uint64 {
				t.Helper()
				id, _, err := st.CreateResponse(ctx, store.NewResponse{SubmissionID: fmt.Sprintf("alt-%02d", i), Centre: centre, Version: cat.Version,
					Visit: MustVisit(t, cat, rng, cat.AssignModules(uint64(i))), DurationMS: 120000, At: at.Add(time.Duration(i) * time.Minute)})
				if err != nil {
					t.Fatal(err)
				}
				return id
			}
			p := survey.Period{From: "2026-04-01", To: "2026-04-30"}
			check := func(what string, want int64) {
				t.Helper()
				for _, st := range []*store.Store{a, b} {
					got, err := st.Tallies(ctx, store.Filter{From: p.From, To: p.To, IncludeFlagged: true})
					if err != nil {
						t.Fatal(err)
					}
					if n := got.Communes["26740"].Responses; n != want {
						t.Errorf("%s: %d responses in the tallies, want %d", what, n, want)
					}
					compareTallies(t, what, got, rawTallies(t, st, p, false, true))
				}
			}
			submit(a, 0)
			submit(b, 1)
			submit(a, 2) // a's last rows are stale: b wrote since
			check("a, b, a", 3)
			first := submit(b, 3)
			if _, err := b.SetStatus(ctx, "test", first, store.StatusQuarantined); err != nil {
				t.Fatal(err)
			}
			submit(b, 4) // b moved a row out on its own connection
			submit(a, 5)
			check("b, quarantine on b, b, a", 5)
			if rep, err := a.Recompute(ctx); err != nil || rep.Mismatches != 0 {
				t.Errorf("recompute: got %+v, %v; want 0 mismatches", rep, err)
			}
		})
	}
}
