package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/store/storetest"
	"github.com/papi-hcmc/papi/survey"
)

// MustVisit synthesizes and validates one visit for the given modules.
func MustVisit(t testing.TB, cat *survey.Catalogue, rng *rand.Rand, modules []string) survey.Visit {
	t.Helper()
	v, err := cat.ValidateSubmission(cat.Synthesize(rng, modules, rng.Float64()))
	if err != nil {
		t.Fatalf("synthetic visit invalid: %v", err)
	}
	return v
}

func firstCentre(t testing.TB, st *store.Store, code string) store.Centre {
	t.Helper()
	list, err := st.Centres(context.Background(), code)
	if err != nil || len(list) == 0 {
		t.Fatalf("centres of %s: %v", code, err)
	}
	return list[0]
}

func TestCreateResponseOnce(t *testing.T) {
	eachBackendAt(t, storetest.OpenHours(), func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cat := st.Catalogue()
		rng := rand.New(rand.NewPCG(1, 2))
		centre := firstCentre(t, st, "26740")
		in := store.NewResponse{SubmissionID: "4b6f7a1e-0000-4000-8000-000000000001", Centre: centre, Version: cat.Version, Visit: MustVisit(t, cat, rng, cat.AssignModules(0))}
		id1, created, err := st.CreateResponse(ctx, in)
		if err != nil || !created || id1 == 0 {
			t.Fatalf("first: got id %d created %v err %v", id1, created, err)
		}
		id2, created, err := st.CreateResponse(ctx, in)
		if err != nil || created || id2 != id1 {
			t.Fatalf("retry: got id %d created %v err %v, want id %d not created", id2, created, err, id1)
		}
		if n, _ := st.ResponseCount(ctx, ""); n != 1 {
			t.Errorf("got %d stored responses, want 1", n)
		}
		got, err := st.ResponseBySubmission(ctx, in.SubmissionID)
		if err != nil {
			t.Fatal(err)
		}
		if got.CommuneCode != "26740" || got.Status != store.StatusCounted || got.Verified {
			t.Errorf("stored response: got %+v", got)
		}
		want, _ := json.Marshal(in.Visit.Answers)
		have, _ := json.Marshal(got.Answers)
		if string(want) != string(have) {
			t.Errorf("answers: got %s, want %s", have, want)
		}
		if _, _, err := st.CreateResponse(ctx, store.NewResponse{SubmissionID: "x-unknown-version", Centre: centre, Version: "1999.1", Visit: in.Visit}); survey.ErrorCode(err) != survey.EINVALID {
			t.Errorf("unknown version: got %v, want invalid", err)
		}
	})
}

// TestConcurrentSubmissions hammers the store from many goroutines, with
// every submission sent twice at the same time: each must be stored exactly
// once and none may fail (no "database is locked").
func TestConcurrentSubmissions(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cat := st.Catalogue()
		centres, _ := st.AllCentres(ctx)
		const workers, each = 16, 15
		visits := make([]survey.Visit, workers*each)
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range visits {
			visits[i] = MustVisit(t, cat, rng, cat.AssignModules(uint64(i)))
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2*len(visits))
		ids := make([][2]uint64, len(visits))
		for w := 0; w < 2*workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for k := 0; k < each; k++ {
					i := (w%workers)*each + k
					id, _, err := st.CreateResponse(ctx, store.NewResponse{
						SubmissionID: fmt.Sprintf("concurrent-%04d", i), Centre: centres[i%len(centres)], Version: cat.Version, Visit: visits[i],
					})
					if err != nil {
						errs <- err
						continue
					}
					ids[i][w/workers] = id
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("submission failed: %v", err)
		}
		if n, _ := st.ResponseCount(ctx, ""); n != int64(len(visits)) {
			t.Errorf("got %d stored, want %d (each stored once)", n, len(visits))
		}
		for i, pair := range ids {
			if pair[0] != pair[1] {
				t.Errorf("submission %d: the two concurrent sends got ids %d and %d, want the same", i, pair[0], pair[1])
			}
		}
	})
}

// TestTalliesMatchRawResponses is a property test: after random
// submissions on random days, the running tallies over random periods
// equal a recomputation from the raw responses, and Recompute finds nothing
// to fix.
func TestTalliesMatchRawResponses(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cat := st.Catalogue()
		rng := rand.New(rand.NewPCG(7, 8))
		communes := []string{"26740", "25747", "26506"}
		// A hundred days over the turn of a year: the reads add year, month
		// and day rows.
		base := time.Date(2025, 11, 20, 3, 0, 0, 0, time.UTC)
		total, extra := 400, 6
		if testing.Short() {
			total, extra = 120, 2
		}
		for i := 0; i < total; i++ {
			centre := firstCentre(t, st, communes[rng.IntN(len(communes))])
			at := base.Add(time.Duration(rng.IntN(100*24)) * time.Hour)
			var receipt string
			if rng.IntN(5) == 0 {
				r, err := st.CreateReceipt(ctx, survey.User{ID: 1, Email: "t"}, centre.ID, fmt.Sprintf("prop-%d", i))
				if err != nil {
					t.Fatal(err)
				}
				receipt = r.Code
			}
			if _, _, err := st.CreateResponse(ctx, store.NewResponse{SubmissionID: fmt.Sprintf("prop-%d", i), Centre: centre, Version: cat.Version,
				Visit: MustVisit(t, cat, rng, cat.AssignModules(rng.Uint64())), At: at, Receipt: receipt}); err != nil {
				t.Fatal(err)
			}
		}
		periods := []survey.Period{{From: "2026-01-01", To: "2026-12-31"}, {From: "2025-12-01", To: "2026-02-28"}, {From: "2025-11-25", To: "2026-01-10"},
			{From: "2025-01-01", To: "2026-12-31"}, {From: "2025-12-01", To: "2026-12-31"}, {From: "2025-01-01", To: "2026-01-31"}, {From: "2025-11-30", To: "2026-01-01"},
			{From: "2026-01-14", To: "2026-01-14"}}
		for i := 0; i < extra; i++ {
			f := base.AddDate(0, 0, rng.IntN(90))
			periods = append(periods, survey.Period{From: survey.LocalDay(f), To: survey.LocalDay(f.AddDate(0, 0, rng.IntN(60)))})
		}
		for _, p := range periods {
			for _, verified := range []bool{false, true} {
				for _, flagged := range []bool{false, true} {
					got, err := st.Tallies(ctx, store.Filter{From: p.From, To: p.To, VerifiedOnly: verified, IncludeFlagged: flagged})
					if err != nil {
						t.Fatal(err)
					}
					want := rawTallies(t, st, p, verified, flagged)
					compareTallies(t, fmt.Sprintf("%s..%s verified=%v flagged=%v", p.From, p.To, verified, flagged), got, want)
				}
			}
		}
		// Moving responses between statuses keeps the tallies in step.
		flagged, _, err := st.Flagged(ctx, store.StatusFlagged, 1000, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(flagged) == 0 {
			t.Fatal("no response was flagged: the random times should include some outside opening hours")
		}
		for i, r := range flagged {
			status := store.StatusQuarantined
			if i%2 == 1 {
				status = store.StatusCounted
			}
			if _, err := st.SetStatus(ctx, "admin@x.vn", r.ID, status); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range periods[:4] {
			got, _ := st.Tallies(ctx, store.Filter{From: p.From, To: p.To, IncludeFlagged: true})
			compareTallies(t, "after review "+p.From, got, rawTallies(t, st, p, false, true))
		}
		quarantined := int64((len(flagged) + 1) / 2)
		rep, err := st.Recompute(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Responses != int64(total) || rep.Counted != int64(total)-quarantined || rep.Mismatches != 0 {
			t.Errorf("recompute: got %+v, want %d responses, %d in tallies, 0 mismatches", rep, total, int64(total)-quarantined)
		}
	})
}

// rawTallies recomputes tallies straight from the stored responses with
// the domain's own crediting (service answers to the commune visited,
// locality answers to the commune lived in), independently of the store's
// packed rows.
func rawTallies(t *testing.T, st *store.Store, p survey.Period, verifiedOnly, includeFlagged bool) store.Tallies {
	t.Helper()
	return rawTalliesFilter(t, st, store.Filter{From: p.From, To: p.To, VerifiedOnly: verifiedOnly, IncludeFlagged: includeFlagged})
}

func rawTalliesFilter(t *testing.T, st *store.Store, f store.Filter) store.Tallies {
	t.Helper()
	cat := st.Catalogue()
	out := store.Tallies{Communes: map[string]store.CommuneTallies{}}
	get := func(c string) store.CommuneTallies {
		ct, ok := out.Communes[c]
		if !ok {
			ct = store.CommuneTallies{Counts: store.Counts{Channels: map[string]int64{}}, Modules: map[string]int64{}, Indicators: map[string]survey.Tally{}}
		}
		return ct
	}
	err := st.EachResponse(context.Background(), "", f.From, f.To, func(r store.Response) error {
		switch {
		case f.VerifiedOnly && !r.Verified, r.Status == store.StatusQuarantined,
			f.CentreID != 0 && r.CentreID != f.CentreID,
			len(f.Channels) > 0 && !slices.Contains(f.Channels, r.Channel):
			return nil
		}
		v := r.Visit()
		if len(f.Communes) == 0 || slices.Contains(f.Communes, r.CommuneCode) {
			ct := get(r.CommuneCode)
			ct.Responses++
			if r.Status == store.StatusFlagged && !f.IncludeFlagged {
				ct.Flagged++
				out.Communes[r.CommuneCode] = ct
				return nil
			}
			ct.Counted++
			if r.Verified {
				ct.Verified++
			}
			ct.Channels[r.Channel]++
			for _, m := range r.Modules {
				ct.Modules[m]++
			}
			switch {
			case v.Residence == survey.ResidenceHere, v.Residence == survey.ResidenceOther && v.ResidenceCommune == r.CommuneCode:
				ct.Residents.Here++
			case v.Residence == survey.ResidenceOther:
				ct.Residents.Other++
			case v.Residence == survey.ResidenceOutside:
				ct.Residents.Outside++
			default:
				ct.Residents.Unknown++
			}
			out.Communes[r.CommuneCode] = ct
		}
		if r.Status == store.StatusFlagged && !f.IncludeFlagged {
			return nil
		}
		rcat, ok := st.CatalogueVersion(r.QuestionnaireVersion)
		if !ok {
			t.Fatalf("response %d: unknown version %s", r.ID, r.QuestionnaireVersion)
		}
		for _, cr := range rcat.Credits(v, r.CommuneCode) {
			if len(f.Communes) > 0 && !slices.Contains(f.Communes, cr.Commune) ||
				f.CentreID != 0 && cr.Commune != r.CommuneCode { // a centre's own commune only
				continue
			}
			ct := get(cr.Commune)
			for _, o := range cr.Observations {
				if !cat.Carries(r.QuestionnaireVersion, o.Indicator) {
					continue
				}
				ind, _ := cat.Indicator(o.Indicator)
				tl := ct.Indicators[o.Indicator]
				tl.Add(o.X, o.W, ind.Kind == survey.KindMedian)
				ct.Indicators[o.Indicator] = tl
			}
			out.Communes[cr.Commune] = ct
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compareTallies(t *testing.T, what string, got, want store.Tallies) {
	t.Helper()
	for c, w := range want.Communes {
		g := got.Communes[c]
		if g.Responses != w.Responses || g.Counted != w.Counted || g.Verified != w.Verified || g.Flagged != w.Flagged || g.Residents != w.Residents {
			t.Errorf("%s commune %s: got %+v, want %+v", what, c, g.Counts, w.Counts)
		}
		for ch, n := range w.Channels {
			if g.Channels[ch] != n {
				t.Errorf("%s commune %s channel %s: got %d visits, want %d", what, c, ch, g.Channels[ch], n)
			}
		}
		for m, n := range w.Modules {
			if g.Modules[m] != n {
				t.Errorf("%s commune %s module %s: got %d completions, want %d", what, c, m, g.Modules[m], n)
			}
		}
		for id, wt := range w.Indicators {
			gt := g.Indicators[id]
			if gt.N != wt.N || math.Abs(gt.W-wt.W) > 1e-9 || math.Abs(gt.W2-wt.W2) > 1e-9 || math.Abs(gt.Sum-wt.Sum) > 1e-9 || math.Abs(gt.SumSq-wt.SumSq) > 1e-6 {
				t.Errorf("%s commune %s indicator %s: got %+v, want %+v", what, c, id, gt, wt)
			}
			for v, cnt := range wt.Hist {
				if math.Abs(gt.Hist[v]-cnt) > 1e-9 {
					t.Errorf("%s commune %s indicator %s value %v: got Σw %v, want %v", what, c, id, v, gt.Hist[v], cnt)
				}
			}
		}
		if len(g.Indicators) != len(w.Indicators) {
			t.Errorf("%s commune %s: got %d indicators, want %d", what, c, len(g.Indicators), len(w.Indicators))
		}
	}
	for c, g := range got.Communes {
		if _, ok := want.Communes[c]; !ok && (g.Responses != 0 || len(g.Indicators) != 0) {
			t.Errorf("%s: got commune %s (%+v), want nothing there", what, c, g.Counts)
		}
	}
}

func TestTalliesRejectBadPeriods(t *testing.T) {
	st := MustOpen(t, "sqlite", time.Now)
	for _, p := range []survey.Period{{From: "2026-13-01", To: "2026-12-31"}, {From: "2026-01-01", To: "yesterday"}, {From: "2026-05-01", To: "2026-04-30"}} {
		if _, err := st.Tallies(context.Background(), store.Filter{From: p.From, To: p.To}); survey.ErrorCode(err) != survey.EINVALID {
			t.Errorf("period %+v: got %v, want invalid", p, err)
		}
	}
}

func TestBackupWhileWriting(t *testing.T) {
	st := MustOpen(t, "sqlite", time.Now)
	ctx := context.Background()
	cat := st.Catalogue()
	rng := rand.New(rand.NewPCG(9, 9))
	centre := firstCentre(t, st, "26740")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			if _, _, err := st.CreateResponse(ctx, store.NewResponse{SubmissionID: fmt.Sprintf("bk-%d", i), Centre: centre, Version: cat.Version, Visit: MustVisit(t, cat, rng, cat.AssignModules(uint64(i)))}); err != nil {
				t.Errorf("write %d while backing up: %v", i, err)
				return
			}
		}
	}()
	out := t.TempDir() + "/copy.db"
	if err := st.Backup(ctx, out); err != nil {
		t.Fatal(err)
	}
	<-done
	cp := storetest.MustOpen(t, out, store.Options{})
	n, err := cp.ResponseCount(ctx, "")
	if err != nil || n > 200 {
		t.Fatalf("backup holds %d responses (%v), want a consistent 0..200", n, err)
	}
	rep, err := cp.Recompute(ctx)
	if err != nil || rep.Mismatches != 0 {
		t.Errorf("backup tallies: got %+v %v, want consistent with its responses", rep, err)
	}
}

func TestEachResponseRow(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cat := st.Catalogue()
		rng := rand.New(rand.NewPCG(13, 13))
		centre := firstCentre(t, st, "26740")
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, survey.Local)
		for i := 0; i < 25; i++ {
			v := MustVisit(t, cat, rng, cat.AssignModules(uint64(i)))
			if i == 0 {
				v.Answers["c_comment"] = "rất tốt, \"nhanh\""
			}
			if _, _, err := st.CreateResponse(ctx, store.NewResponse{SubmissionID: fmt.Sprintf("csv-%d", i), Centre: centre, Version: cat.Version, Visit: v, At: at.Add(time.Duration(i) * time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		var records [][]string
		// Hourly from 09:00: the evening ones are flagged off-hours, and
		// counted only with IncludeFlagged.
		march := store.ResponseRows{Commune: "26740", From: "2026-03-01", To: "2026-03-31", IncludeFlagged: true}
		n, err := st.EachResponseRow(ctx, march, func(row []string) error {
			records = append(records, slices.Clone(row))
			return nil
		})
		if err != nil || n != 25 {
			t.Fatalf("got %d rows, %v; want 25", n, err)
		}
		records = append([][]string{st.ResponseColumns(false)}, records...)
		if len(records) != 26 || records[0][0] != "id" || len(records[1]) != len(records[0]) {
			t.Fatalf("got %d records starting %v, want a header and 25 rows as wide", len(records), records[0])
		}
		col := -1
		for i, h := range records[0] {
			if h == "c_comment" {
				col = i
			}
		}
		if col < 0 || records[1][col] != "rất tốt, \"nhanh\"" || records[1][1] != "2026-03-02" {
			t.Errorf("first row: got %v", records[1])
		}
		other := march
		other.Commune = "25747"
		if n, _ := st.EachResponseRow(ctx, other, func([]string) error { return nil }); n != 0 {
			t.Errorf("another commune: got %d rows, want 0", n)
		}
		statusAt := slices.Index(records[0], "status")
		counted := 0
		for _, r := range records[1:] {
			if r[statusAt] == store.StatusCounted {
				counted++
			}
		}
		only := march
		only.IncludeFlagged = false
		if n, _ := st.EachResponseRow(ctx, only, func([]string) error { return nil }); n != counted || counted == 25 {
			t.Errorf("counted only: got %d rows, want the %d counted of 25", n, counted)
		}
		verified := march
		verified.VerifiedOnly = true
		if n, _ := st.EachResponseRow(ctx, verified, func([]string) error { return nil }); n != 0 {
			t.Errorf("verified only: got %d rows, want 0 (no receipts)", n)
		}
	})
}

// TestCoarseResponseRows: the export for accounts other than admin has no
// id and no day, no free text, sex and age group only in groups of at
// least five of the month and centre, the commune of residence likewise,
// and rows in an order unrelated to time.
func TestCoarseResponseRows(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cat := st.Catalogue()
		rng := rand.New(rand.NewPCG(14, 14))
		centre := firstCentre(t, st, "26740")
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, survey.Local)
		for i := 0; i < 20; i++ {
			// Three live in 26743 (too few to show), the rest here.
			want := `"` + survey.ResidenceHere + `"`
			if i < 3 {
				want = `"` + survey.ResidenceOther + `"`
			}
			sub := cat.Synthesize(rng, cat.AssignModules(uint64(i)), rng.Float64())
			for string(sub.Answers[survey.ResidenceQuestion]) != want {
				sub = cat.Synthesize(rng, cat.AssignModules(uint64(i)), rng.Float64())
			}
			if i < 3 {
				sub.Answers[survey.ResidenceCommuneQuestion] = json.RawMessage(`"26743"`)
			}
			sub.Answers["c_comment"] = json.RawMessage(fmt.Sprintf(`"ông Nguyễn Văn %d"`, i))
			sub.Sex, sub.AgeGroup = "female", "30_39" // 12 of them
			if i >= 12 {
				sub.Sex, sub.AgeGroup = "male", "60_plus" // 7 of them
			}
			if i == 19 {
				sub.Sex, sub.AgeGroup = "other", "18_29" // alone
			}
			v, err := cat.ValidateSubmission(sub)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := st.CreateResponse(ctx, store.NewResponse{SubmissionID: fmt.Sprintf("coarse-%d", i), Centre: centre, Version: cat.Version, Visit: v, At: at.Add(time.Duration(i) * 20 * time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
		cols := st.ResponseColumns(true)
		if cols[0] != "month" || slices.Contains(cols, "id") || slices.Contains(cols, "day") || slices.Contains(cols, "c_comment") {
			t.Fatalf("coarse columns %v: want month first, no id, day or free text", cols)
		}
		sexAt, residenceAt := slices.Index(cols, "sex"), slices.Index(cols, survey.ResidenceCommuneQuestion)
		profiles := map[string]int{}
		var residences []string
		n, err := st.EachResponseRow(ctx, store.ResponseRows{Commune: "26740", From: "2026-03-01", To: "2026-03-31", Coarse: true}, func(row []string) error {
			if len(row) != len(cols) || row[0] != "2026-03" {
				t.Errorf("row %v: want %d fields, month 2026-03", row, len(cols))
			}
			for _, v := range row {
				if strings.Contains(v, "Nguyễn") || strings.Contains(v, "2026-03-02") {
					t.Errorf("row %v: a name or a day leaked", row)
				}
			}
			profiles[row[sexAt]+"/"+row[sexAt+1]]++
			residences = append(residences, row[residenceAt])
			return nil
		})
		if err != nil || n != 20 {
			t.Fatalf("got %d rows, %v; want 20", n, err)
		}
		if profiles["female/30_39"] != 12 || profiles["male/60_plus"] != 7 || profiles["/"] != 1 {
			t.Errorf("profiles: got %v; want 12 female 30-39, 7 male 60+ and the one alone blanked", profiles)
		}
		if slices.Contains(residences, "26743") {
			t.Errorf("residences %v: three residents of 26743 are too few to show", residences)
		}
	})
}

// TestStatusMovesStored: an admin quarantines and releases answers, but
// cannot flag one by hand (that is the anomaly checks' alone); a refused
// move changes nothing.
func TestStatusMovesStored(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cat := st.Catalogue()
		rng := rand.New(rand.NewPCG(15, 15))
		centre := firstCentre(t, st, "26740")
		id, _, err := st.CreateResponse(ctx, store.NewResponse{SubmissionID: "moves-1", Centre: centre, Version: cat.Version,
			Visit: MustVisit(t, cat, rng, cat.AssignModules(1)), At: time.Date(2026, 3, 2, 9, 0, 0, 0, survey.Local), DurationMS: 240000})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.SetStatus(ctx, "admin@x.vn", id, store.StatusFlagged); survey.ErrorCode(err) != survey.ECONFLICT {
			t.Errorf("counted → flagged by hand: got %v, want a conflict", err)
		}
		for _, to := range []string{store.StatusQuarantined, store.StatusQuarantined, store.StatusCounted} {
			r, err := st.SetStatus(ctx, "admin@x.vn", id, to)
			if err != nil || r.Status != to {
				t.Errorf("move to %s: got %q, %v", to, r.Status, err)
			}
		}
	})
}
