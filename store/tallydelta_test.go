package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/store/storetest"
	"github.com/papi-hcmc/papi/survey"
)

// TestDeltaRows: the live intake appends delta rows, which reads count
// before any fold; a status move, a recompute and closing the store each
// fold them all, and at every step the tallies equal a recomputation from
// the raw responses.
func TestDeltaRows(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) { testDeltaRows(t, b) })
	}
}

func testDeltaRows(t *testing.T, backend string) {
	ctx := context.Background()
	dsn := storetest.MustDSN(t, backend)
	opt := store.Options{Now: storetest.OpenHours(), FoldEvery: time.Hour} // no fold but the ones under test
	st := storetest.MustOpen(t, dsn, opt)
	storetest.MustSeed(t, st)
	raw := storetest.MustRaw(t, dsn)
	cat := st.Catalogue()
	rng := rand.New(rand.NewPCG(51, 52))
	centres := []store.Centre{firstCentre(t, st, "26740"), firstCentre(t, st, "25747")}
	at := storetest.OpenHours()()
	n := 0
	submit := func(st *store.Store, count int) []uint64 {
		t.Helper()
		ids := make([]uint64, count)
		var wg sync.WaitGroup
		errs := make(chan error, count)
		for i := range count {
			n++
			v := MustVisit(t, cat, rng, cat.AssignModules(uint64(n)))
			if n%2 == 0 {
				v.Residence, v.ResidenceCommune = survey.ResidenceOther, "26506"
			}
			in := store.NewResponse{SubmissionID: fmt.Sprintf("delta-%03d", n), Centre: centres[n%2], Version: cat.Version, Visit: v,
				At: at.Add(-time.Duration(n) * time.Minute), DurationMS: 180000}
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := st.Submit(ctx, in)
				if r.Err != nil || !r.Created {
					errs <- fmt.Errorf("submit %s: %+v", in.SubmissionID, r)
				}
				ids[i] = r.ID
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		return ids
	}
	deltas := func() int64 {
		t.Helper()
		var c int64
		if err := raw.Raw("SELECT COUNT(*) FROM tally_deltas").Scan(&c).Error; err != nil {
			t.Fatal(err)
		}
		return c
	}
	check := func(st *store.Store, step string, wantDeltas bool) {
		t.Helper()
		if got := deltas(); (got > 0) != wantDeltas {
			t.Fatalf("%s: %d delta rows, want some: %v", step, got, wantDeltas)
		}
		for _, f := range []store.Filter{{}, {Communes: []string{"26506"}}, {CentreID: centres[0].ID, Communes: []string{"26740"}}} {
			f.From, f.To = at.AddDate(0, -1, 0).Format(survey.DateLayout), at.Format(survey.DateLayout)
			got, err := st.Tallies(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			compareTallies(t, fmt.Sprintf("%s, filter %+v", step, f), got, rawTalliesFilter(t, st, f))
		}
	}

	ids := submit(st, 30)
	check(st, "after the intake", true)
	if _, err := st.SetStatus(ctx, "test", ids[3], store.StatusQuarantined); err != nil {
		t.Fatalf("quarantine a response whose share is a delta row: %v", err)
	}
	check(st, "after a status move", false)

	submit(st, 20)
	check(st, "after more intake", true)
	rep, err := st.Recompute(ctx)
	if err != nil || rep.Mismatches != 0 {
		t.Fatalf("recompute with delta rows: got %+v, %v; want no mismatch", rep, err)
	}
	check(st, "after recompute", false)

	submit(st, 20)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if got := st.FoldStats(); got.Folds < 1 || got.Failures != 0 {
		t.Errorf("fold stats after closing: got %+v, want the last fold counted and no failure", got)
	}
	again := storetest.MustOpen(t, dsn, opt)
	check(again, "after closing and opening again", false)
}

// TestFoldLeavesRowsFoldedMeanwhile: a SQLite fold reads the delta rows on
// a read connection and deletes them by id in its write transaction. When
// a status move folds them in between, the fold must notice (it deletes
// fewer rows than it read) and write nothing, or the rows would count
// twice; the tallies then still equal a recomputation from the responses.
func TestFoldLeavesRowsFoldedMeanwhile(t *testing.T) {
	ctx := context.Background()
	st, _, answer := heldFolds(t, 53)
	at := storetest.OpenHours()()
	var ids []uint64
	for i := range 12 {
		r := st.Submit(ctx, answer(fmt.Sprintf("fold-%02d", i), at.Add(-time.Duration(i)*time.Minute)))
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		ids = append(ids, r.ID)
	}
	n, err := store.FoldBetween(st, func() {
		if _, err := st.SetStatus(ctx, "test", ids[0], store.StatusQuarantined); err != nil {
			t.Errorf("status move between the fold's read and write: %v", err)
		}
	})
	if err != nil || n != 0 {
		t.Errorf("fold raced by a status move: folded %d, %v; want 0 and no error", n, err)
	}
	rep, err := st.Recompute(ctx)
	if err != nil || rep.Mismatches != 0 {
		t.Errorf("recompute after the raced fold: %+v, %v; want no mismatch", rep, err)
	}
	for i := 1; i < 4; i++ {
		r := st.Submit(ctx, answer(fmt.Sprintf("fold-next-%d", i), at))
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if n, err := store.FoldBetween(st, func() {}); err != nil || n != 3 {
		t.Errorf("fold of three new delta rows: folded %d, %v", n, err)
	}
	if rep, err := st.Recompute(ctx); err != nil || rep.Mismatches != 0 {
		t.Errorf("recompute after a fold: %+v, %v; want no mismatch", rep, err)
	}
}

// TestFoldInParts: a SQLite fold stops reading delta rows once it holds
// foldCells cells and leaves the rest to the next fold; folds of two
// cells each, over answers on twelve days, leave tallies that equal a
// recomputation from the responses.
func TestFoldInParts(t *testing.T) {
	ctx := context.Background()
	st, _, answer := heldFolds(t, 55)
	store.SetFoldCells(st, 2)
	at := storetest.OpenHours()()
	for i := range 12 {
		r := st.Submit(ctx, answer(fmt.Sprintf("part-%02d", i), at.AddDate(0, 0, -2*i)))
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	folds, total := 0, 0
	for {
		n, err := store.FoldBetween(st, func() {})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		folds++
		total += n
	}
	if folds < 6 || total < 12 {
		t.Errorf("%d folds took %d delta rows; want many small folds taking every row", folds, total)
	}
	if rep, err := st.Recompute(ctx); err != nil || rep.Mismatches != 0 {
		t.Errorf("recompute after folds in parts: %+v, %v; want no mismatch", rep, err)
	}
}

// TestCloseFoldsEveryDeltaRow: a fold bounded by its cells says so, and the
// fold loop goes on until none is left: closing the store leaves no delta
// row, however many days a bulk load spread them over (papi demo had left
// a third of a million).
func TestCloseFoldsEveryDeltaRow(t *testing.T) {
	ctx := context.Background()
	st, dsn, answer := heldFolds(t, 57)
	store.SetFoldCells(st, 2)
	at := storetest.OpenHours()()
	var ins []store.NewResponse
	for i := range 40 {
		ins = append(ins, answer(fmt.Sprintf("close-%02d", i), at.AddDate(0, 0, -i)))
	}
	if _, err := st.CreateResponses(ctx, ins); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var left int64
	if err := storetest.MustRaw(t, dsn).Raw("SELECT COUNT(*) FROM tally_deltas").Scan(&left).Error; err != nil {
		t.Fatal(err)
	}
	if got := st.FoldStats(); left != 0 || got.Folds < 10 {
		t.Errorf("after closing: %d delta rows left, %d folds; want none left, folded two cells at a time", left, got.Folds)
	}
}

// heldFolds opens a seeded SQLite store whose folds wait for the test (one
// an hour), with its file, and a maker of answers at the first centre of
// commune 26740, each with its own synthetic visit.
func heldFolds(t *testing.T, seed uint64) (*store.Store, string, func(id string, at time.Time) store.NewResponse) {
	t.Helper()
	return heldFoldsOn(t, storetest.SQLite, seed)
}

// heldFoldsOptions are the options of heldFoldsOn's store, for another
// store on its database.
var heldFoldsOptions = store.Options{Now: storetest.OpenHours(), FoldEvery: time.Hour}

// heldFoldsOn is heldFolds on the given backend.
func heldFoldsOn(t *testing.T, backend string, seed uint64) (*store.Store, string, func(id string, at time.Time) store.NewResponse) {
	t.Helper()
	dsn := storetest.MustDSN(t, backend)
	st := storetest.MustOpen(t, dsn, heldFoldsOptions)
	storetest.MustSeed(t, st)
	cat := st.Catalogue()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	centre := firstCentre(t, st, "26740")
	n := uint64(0)
	return st, dsn, func(id string, at time.Time) store.NewResponse {
		n++
		return store.NewResponse{SubmissionID: id, Centre: centre, Version: cat.Version,
			Visit: MustVisit(t, cat, rng, cat.AssignModules(n)), At: at, DurationMS: 180000}
	}
}

// TestFoldsOfTwoProcessesWait: on PostgreSQL two processes fold at once,
// each its own delta rows (FOR UPDATE SKIP LOCKED), into the same tally
// rows. A fold locks those rows before it reads them, so the other
// process's fold waits for it and adds to what it wrote; without the lock
// the later write would drop the earlier one's responses. Store a holds
// its rows while store b folds; then the tallies must equal a
// recomputation from the responses.
func TestFoldsOfTwoProcessesWait(t *testing.T) {
	if !slices.Contains(backends(t), storetest.Postgres) {
		return // PostgreSQL only: SQLite has one writer (TestFoldLeavesRowsFoldedMeanwhile)
	}
	ctx := context.Background()
	at := storetest.OpenHours()()
	a, dsn, answer := heldFoldsOn(t, storetest.Postgres, 91)
	b := storetest.MustOpen(t, dsn, heldFoldsOptions)
	submit := func(st *store.Store, id string) {
		t.Helper()
		if r := st.Submit(ctx, answer(id, at)); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	// The tally rows exist before the race: a missing row is inserted,
	// and a second insert of it waits on the unique index anyway.
	submit(a, "two-folds-0")
	if n, err := store.FoldBetween(a, func() {}); err != nil || n == 0 {
		t.Fatalf("first fold: %d rows, %v", n, err)
	}
	submit(a, "two-folds-a")
	bDone := make(chan error, 1)
	n, err := store.FoldBetween(a, func() {
		// a has taken every delta row there was; b's comes now, for b's
		// fold alone.
		submit(b, "two-folds-b")
		go func() {
			_, err := store.FoldBetween(b, func() {})
			bDone <- err
		}()
		select {
		case err := <-bDone:
			t.Errorf("b's fold finished while a held the tally rows (%v); it must wait", err)
			bDone <- nil
		case <-time.After(300 * time.Millisecond):
		}
	})
	if err != nil || n == 0 {
		t.Fatalf("a's fold: %d rows, %v", n, err)
	}
	if err := <-bDone; err != nil {
		t.Fatalf("b's fold: %v", err)
	}
	if left, err := store.FoldBetween(a, func() {}); err != nil || left != 0 {
		t.Errorf("a fold after both: %d rows left, %v; want none", left, err)
	}
	rep, err := a.Recompute(ctx)
	if err != nil || rep.Mismatches != 0 {
		t.Errorf("after two folds at once, recompute found %+v, %v; want no mismatch", rep, err)
	}
}
