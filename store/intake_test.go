package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/store/storetest"
	"github.com/papi-hcmc/papi/survey"
)

// TestCreditingAndResidents stores visits at one commune's centre from
// residents of that commune, of another commune and of outside the city,
// plus kiosk answers and household interviews without a centre, and checks
// every filter of Tallies against a recomputation from the raw responses:
// service answers count for the commune visited, locality answers for the
// commune lived in (nowhere for outsiders), and the visit with its
// residence is counted once, at the commune visited.
func TestCreditingAndResidents(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cat := st.Catalogue()
		rng := rand.New(rand.NewPCG(21, 22))
		const visited, home, household = "26740", "25747", "26506"
		centre := firstCentre(t, st, visited)
		at := time.Date(2026, 3, 3, 9, 0, 0, 0, survey.Local)
		residences := []struct{ res, commune string }{{survey.ResidenceHere, ""}, {survey.ResidenceOther, home}, {survey.ResidenceOutside, ""}, {"", ""}, {survey.ResidenceOther, visited}}
		want := map[string]int64{}
		var ins []store.NewResponse
		for i := 0; i < 60; i++ {
			r := residences[i%len(residences)]
			v := MustVisit(t, cat, rng, cat.AssignModules(uint64(i)))
			v.Residence, v.ResidenceCommune = r.res, r.commune
			channel := survey.ChannelQR
			if i%4 == 0 {
				channel = survey.ChannelKiosk
			}
			ins = append(ins, store.NewResponse{SubmissionID: fmt.Sprintf("credit-%03d", i), Centre: centre, Version: cat.Version, Visit: v,
				Channel: channel, At: at.Add(time.Duration(i) * 7 * time.Minute), DurationMS: 120000})
			want[r.res+"/"+r.commune]++
		}
		for i := 0; i < 12; i++ {
			v := MustVisit(t, cat, rng, cat.AssignModules(uint64(i)))
			v.Residence = survey.ResidenceHere
			ins = append(ins, store.NewResponse{SubmissionID: fmt.Sprintf("household-%03d", i), CommuneCode: household, Version: cat.Version,
				Visit: v, Channel: survey.ChannelHousehold, At: at.Add(time.Duration(i) * time.Hour)})
		}
		results, err := st.CreateResponses(ctx, ins)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range results {
			if r.Err != nil || !r.Created || r.Flagged {
				t.Fatalf("response %d: got %+v, want stored and counted", i, r)
			}
		}
		p := survey.Period{From: "2026-03-01", To: "2026-03-31"}
		for _, f := range []store.Filter{
			{},
			{Communes: []string{visited}},
			{Communes: []string{home}},
			{Communes: []string{household}},
			{Channels: []string{survey.ChannelKiosk}},
			{Channels: []string{survey.ChannelQR, survey.ChannelHousehold}},
			{CentreID: centre.ID},
			{From: "2026-03-02", To: "2026-03-03"},
		} {
			if f.From == "" {
				f.From, f.To = p.From, p.To
			}
			got, err := st.Tallies(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			compareTallies(t, fmt.Sprintf("filter %+v", f), got, rawTalliesFilter(t, st, f))
		}
		got, err := st.Tallies(ctx, store.Filter{From: p.From, To: p.To})
		if err != nil {
			t.Fatal(err)
		}
		v := got.Communes[visited]
		wantRes := store.Residents{Here: want[survey.ResidenceHere+"/"] + want[survey.ResidenceOther+"/"+visited], Other: want[survey.ResidenceOther+"/"+home],
			Outside: want[survey.ResidenceOutside+"/"], Unknown: want["/"]}
		if v.Responses != 60 || v.Residents != wantRes || v.Channels[survey.ChannelKiosk] != 15 || v.Channels[survey.ChannelQR] != 45 {
			t.Errorf("visited commune: got %+v, want 60 visits (45 qr, 15 kiosk), residents %+v", v.Counts, wantRes)
		}
		h := got.Communes[home]
		if h.Responses != 0 || len(h.Indicators) == 0 {
			t.Errorf("home commune: got %d visits and %d indicators, want 0 visits and its residents' locality answers", h.Responses, len(h.Indicators))
		}
		for id := range h.Indicators {
			if ind, _ := cat.Indicator(id); ind.About != survey.AboutLocality {
				t.Errorf("home commune got indicator %s about %s, want locality indicators only", id, ind.About)
			}
		}
		hh := got.Communes[household]
		if hh.Responses != 12 || hh.Channels[survey.ChannelHousehold] != 12 || hh.Residents.Here != 12 {
			t.Errorf("household commune: got %+v, want 12 household visits of residents", hh.Counts)
		}
		rep, err := st.Recompute(ctx)
		if err != nil || rep.Mismatches != 0 || rep.Counted != 72 {
			t.Errorf("recompute: got %+v, %v; want 72 counted, 0 mismatches", rep, err)
		}
	})
}

// TestIntakeRefusals: each bad response fails alone with a field error and
// stores nothing, while the good ones of the same batch are stored.
func TestIntakeRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cat := st.Catalogue()
		rng := rand.New(rand.NewPCG(23, 24))
		centre := firstCentre(t, st, "26740")
		good := func(sid string) store.NewResponse {
			return store.NewResponse{SubmissionID: sid, Centre: centre, Version: cat.Version, Visit: MustVisit(t, cat, rng, cat.AssignModules(1))}
		}
		bad := func(sid string, change func(*store.NewResponse)) store.NewResponse {
			r := good(sid)
			change(&r)
			return r
		}
		cases := []struct {
			in    store.NewResponse
			field string
		}{
			{good("ok-1"), ""},
			{bad("no-centre", func(r *store.NewResponse) { r.Centre = store.Centre{}; r.CommuneCode = "26740" }), "token"},
			{bad("household-unknown-commune", func(r *store.NewResponse) {
				r.Centre = store.Centre{}
				r.Channel = survey.ChannelHousehold
				r.CommuneCode = "99999"
			}), "commune_code"},
			{bad("bad-channel", func(r *store.NewResponse) { r.Channel = "fax" }), "channel"},
			{bad("bad-residence", func(r *store.NewResponse) { r.Visit.Residence = "moon" }), "answers.c_residence"},
			{bad("bad-residence-commune", func(r *store.NewResponse) {
				r.Visit.Residence, r.Visit.ResidenceCommune = survey.ResidenceOther, "00000"
			}), "answers.c_residence_commune"},
			{bad("bad-probs", func(r *store.NewResponse) { r.Visit.Probs = map[string]float64{"d3": 1.5} }), "probs"},
			{bad("unknown-assignment", func(r *store.NewResponse) { r.AssignmentID = "nosuchassignment" }), "assignment_id"},
			{bad("", func(r *store.NewResponse) {}), "submission_id"},
			{good("ok-2"), ""},
		}
		ins := make([]store.NewResponse, len(cases))
		for i, tc := range cases {
			ins[i] = tc.in
		}
		results, err := st.CreateResponses(ctx, ins)
		if err != nil {
			t.Fatal(err)
		}
		for i, tc := range cases {
			r := results[i]
			if tc.field == "" {
				if r.Err != nil || !r.Created {
					t.Errorf("%s: got %+v, want stored", tc.in.SubmissionID, r)
				}
				continue
			}
			if got := fieldOf(r.Err); got != tc.field || r.Created {
				t.Errorf("%q: got error on %q (%v), want a field error on %q", tc.in.SubmissionID, got, r.Err, tc.field)
			}
		}
		if n, _ := st.ResponseCount(ctx, ""); n != 2 {
			t.Errorf("got %d stored, want 2 (the refused ones store nothing)", n)
		}
	})
}

func fieldOf(err error) string {
	if v, ok := err.(*survey.ValidationError); ok && len(v.Errors) > 0 {
		return v.Errors[0].Field
	}
	return ""
}

// TestAssignments: an assignment is stored, read back by id (not found is
// ENOTFOUND), its modules and probabilities replace what the client sent,
// its completed count goes up with each stored response in the same
// transaction, and a response naming another centre's assignment or
// answering a module it was not given is refused with nothing stored.
func TestAssignments(t *testing.T) {
	clock := storetest.OpenHours()
	eachBackendAt(t, clock, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cat := st.Catalogue()
		rng := rand.New(rand.NewPCG(25, 26))
		centre := firstCentre(t, st, "26740")
		other := firstCentre(t, st, "25747")
		if _, err := st.CreateAssignment(ctx, store.Assignment{CentreID: centre.ID, Modules: []string{"d3"}}); fieldOf(err) != "modules" {
			t.Errorf("assignment without core: got %v, want a field error on modules", err)
		}
		if _, err := st.CreateAssignment(ctx, store.Assignment{CentreID: centre.ID, Modules: []string{"core", "d3"}, Probs: map[string]float64{"d5": 0.5}}); fieldOf(err) != "probs" {
			t.Errorf("probability of a module not given: got %v, want a field error on probs", err)
		}
		if _, err := st.CreateAssignment(ctx, store.Assignment{CentreID: 99999, Modules: []string{"core"}}); survey.ErrorCode(err) != survey.ENOTFOUND {
			t.Errorf("unknown centre: got %v, want not found", err)
		}
		a, err := st.CreateAssignment(ctx, store.Assignment{CentreID: centre.ID, Modules: []string{"d3", "core"}, Probs: map[string]float64{"d3": 0.25}})
		if err != nil {
			t.Fatal(err)
		}
		if len(a.ID) != 32 || !slices.Equal(a.Modules, []string{"core", "d3"}) || a.CreatedAt.Second() != 0 {
			t.Errorf("created: got %+v, want a 32-character id, sorted modules and a time to the minute", a)
		}
		got, err := st.Assignment(ctx, a.ID)
		if err != nil || got.Probs["d3"] != 0.25 || got.CentreID != centre.ID {
			t.Fatalf("read back: got %+v, %v", got, err)
		}
		if _, err := st.Assignment(ctx, "nosuchassignment"); survey.ErrorCode(err) != survey.ENOTFOUND {
			t.Errorf("unknown assignment: got %v, want not found", err)
		}
		v := MustVisit(t, cat, rng, []string{survey.CoreModule, "d3"})
		v.Modules, v.Probs = []string{survey.CoreModule, "d3", "d5"}, map[string]float64{"d3": 0.9} // the client's claim
		var ins []store.NewResponse
		for i := 0; i < 3; i++ {
			ins = append(ins, store.NewResponse{SubmissionID: fmt.Sprintf("assigned-%d", i), Centre: centre, Version: cat.Version, Visit: v, AssignmentID: a.ID})
		}
		ins = append(ins,
			store.NewResponse{SubmissionID: "assigned-elsewhere", Centre: other, Version: cat.Version, Visit: v, AssignmentID: a.ID},
			store.NewResponse{SubmissionID: "assigned-wrong-module", Centre: centre, Version: cat.Version, AssignmentID: a.ID,
				Visit: MustVisit(t, cat, rng, []string{survey.CoreModule, "d5"})})
		results, err := st.CreateResponses(ctx, ins)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if results[i].Err != nil || !results[i].Created {
				t.Errorf("assigned response %d: got %+v, want stored", i, results[i])
			}
		}
		if fieldOf(results[3].Err) != "assignment_id" {
			t.Errorf("another centre's assignment: got %v, want a field error on assignment_id", results[3].Err)
		}
		if f := fieldOf(results[4].Err); len(f) < 8 || f[:8] != "answers." {
			t.Errorf("answers outside the assigned modules: got %v, want a field error on the answer", results[4].Err)
		}
		if n, _ := st.ResponseCount(ctx, ""); n != 3 {
			t.Errorf("got %d stored, want 3", n)
		}
		r, err := st.ResponseBySubmission(ctx, "assigned-0")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Modules, []string{"core", "d3"}) || r.Probs["d3"] != 0.25 || len(r.Probs) != 1 || r.AssignmentID != a.ID {
			t.Errorf("stored response: got modules %v probs %v assignment %q, want the assignment's core,d3 with d3=0.25", r.Modules, r.Probs, r.AssignmentID)
		}
		if got, _ := st.Assignment(ctx, a.ID); got.Completed != 3 {
			t.Errorf("completed: got %d, want 3", got.Completed)
		}
		// The design weight 1/0.25 reaches the tallies, and completions per
		// module are read back from them.
		day := survey.LocalDay(clock())
		// Every commune: a synthetic respondent may live in another commune,
		// which its d3 (locality) answers are credited to.
		tl, err := st.Tallies(ctx, store.Filter{From: day, To: day})
		if err != nil {
			t.Fatal(err)
		}
		weighted := false
		for _, ct := range tl.Communes {
			for id, x := range ct.Indicators {
				ind, _ := cat.Indicator(id)
				if q, _ := cat.Question(ind.Rule.Questions()[0]); q.Module == "d3" {
					weighted = true
					if x.W != 4*x.N {
						t.Errorf("indicator %s of module d3: got W %v for N %v, want 4 per respondent", id, x.W, x.N)
					}
				}
			}
		}
		if !weighted {
			t.Error("no d3 indicator in the tallies")
		}
		// The third identical answer set is flagged as a duplicate: it
		// counts as a completion only when flagged answers are included.
		for _, tc := range []struct {
			include bool
			want    int64
		}{{false, 2}, {true, 3}} {
			comp, err := st.Completions(ctx, store.Filter{From: day, To: day, IncludeFlagged: tc.include})
			if err != nil || comp["26740"]["d3"] != tc.want || comp["26740"]["core"] != tc.want || comp["26740"]["d5"] != 0 {
				t.Errorf("completions (flagged included: %v): got %v, %v; want core %d, d3 %d at 26740", tc.include, comp, err, tc.want, tc.want)
			}
		}
	})
}

// TestScreeningVerifiedAndBatch: receipt-verified answers are screened too
// (flagged for review, not dropped), and answers of the same batch count
// for each other's burst and duplicate checks.
func TestScreeningVerifiedAndBatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cat := st.Catalogue()
		centre := firstCentre(t, st, "26740")
		v := MustVisit(t, cat, rand.New(rand.NewPCG(27, 27)), cat.AssignModules(2))
		at := time.Date(2026, 3, 4, 10, 0, 0, 0, survey.Local)
		var ins []store.NewResponse
		for i := 0; i < 4; i++ {
			rc, err := st.CreateReceipt(ctx, survey.User{ID: 1, Email: "issuer@x.vn", Role: survey.RoleIssuer}, centre.ID, fmt.Sprintf("HS-%04d", i))
			if err != nil {
				t.Fatal(err)
			}
			code := rc.Code
			// Four identical answers sent in 1 ms each, with receipts.
			ins = append(ins, store.NewResponse{SubmissionID: fmt.Sprintf("verified-%d", i), Centre: centre, Version: cat.Version, Visit: v,
				Receipt: code, DurationMS: 1, At: at.Add(time.Duration(i) * time.Second)})
		}
		results, err := st.CreateResponses(ctx, ins)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range results {
			if r.Err != nil || !r.Created || !r.Flagged {
				t.Errorf("verified answer %d: got %+v, want stored and flagged", i, r)
			}
		}
		got, _ := st.ResponseBySubmission(ctx, "verified-3")
		if !got.Verified || !slices.Contains(got.Flags, survey.FlagTooFast) || !slices.Contains(got.Flags, survey.FlagDuplicate) {
			t.Errorf("fourth verified copy: got verified %v flags %v, want verified with too_fast and duplicate", got.Verified, got.Flags)
		}
		if first, _ := st.ResponseBySubmission(ctx, "verified-0"); slices.Contains(first.Flags, survey.FlagDuplicate) {
			t.Errorf("first copy: got flags %v, want no duplicate flag (nothing before it)", first.Flags)
		}
		// Privacy: times to the minute, durations to the second.
		if got.CreatedAt.Second() != 0 || got.CreatedAt.Nanosecond() != 0 || got.DurationMS != 0 {
			t.Errorf("stored time %v and duration %d ms: want whole minutes and whole seconds", got.CreatedAt, got.DurationMS)
		}
		// A burst inside one batch: 35 varied unverified answers within
		// two minutes at one centre; the ones after the 30th are flagged.
		rng := rand.New(rand.NewPCG(28, 28))
		ins = ins[:0]
		for i := 0; i < 35; i++ {
			ins = append(ins, store.NewResponse{SubmissionID: fmt.Sprintf("burst-%02d", i), Centre: centre, Version: cat.Version,
				Visit: MustVisit(t, cat, rng, cat.AssignModules(uint64(i))), DurationMS: 200000, At: at.Add(time.Hour + time.Duration(i)*3*time.Second)})
		}
		results, err = st.CreateResponses(ctx, ins)
		if err != nil {
			t.Fatal(err)
		}
		flagged := 0
		for _, r := range results {
			if r.Flagged {
				flagged++
			}
		}
		if flagged != 5 {
			t.Errorf("burst in one batch: got %d flagged, want 5 (those after the 30th)", flagged)
		}
	})
}

// TestDurationRounding: durations are stored to the nearest second.
func TestDurationRounding(t *testing.T) {
	st := MustOpen(t, "sqlite", time.Now)
	ctx := context.Background()
	cat := st.Catalogue()
	centre := firstCentre(t, st, "26740")
	v := MustVisit(t, cat, rand.New(rand.NewPCG(29, 29)), cat.AssignModules(0))
	for _, tc := range []struct{ in, want int64 }{{1499, 1000}, {1500, 2000}, {61234, 61000}, {0, 0}} {
		sid := fmt.Sprintf("duration-%d", tc.in)
		if _, _, err := st.CreateResponse(ctx, store.NewResponse{SubmissionID: sid, Centre: centre, Version: cat.Version, Visit: v, DurationMS: tc.in}); err != nil {
			t.Fatal(err)
		}
		if r, _ := st.ResponseBySubmission(ctx, sid); r.DurationMS != tc.want {
			t.Errorf("duration %d ms: got %d stored, want %d", tc.in, r.DurationMS, tc.want)
		}
	}
}

// TestIntakeInOneStatement: on PostgreSQL a plain intake batch is stored by
// one statement, and a batch that meets a stored submission id (a retry)
// is stored by the transaction instead: the retry gets its stored id, the
// others are stored once, screened once (no flag twice), and their tally
// delta rows are written once.
func TestIntakeInOneStatement(t *testing.T) {
	if !slices.Contains(backends(t), storetest.Postgres) {
		return // PostgreSQL only: SQLite stores every batch in a transaction
	}
	ctx := context.Background()
	st := MustOpen(t, storetest.Postgres, storetest.OpenHours())
	cat := st.Catalogue()
	centre := firstCentre(t, st, "26740")
	rng := rand.New(rand.NewPCG(31, 31))
	same := MustVisit(t, cat, rng, cat.AssignModules(1))
	answer := func(id string, v survey.Visit) store.NewResponse {
		// 1 ms to answer: every one is too fast.
		return store.NewResponse{SubmissionID: id, Centre: centre, Version: cat.Version, Visit: v, DurationMS: 1}
	}
	first, err := st.CreateResponses(ctx, []store.NewResponse{
		answer("one-statement-a", same), answer("one-statement-b", same), answer("one-statement-c", MustVisit(t, cat, rng, cat.AssignModules(2))),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range first {
		if r.Err != nil || !r.Created || !r.Flagged {
			t.Errorf("first batch, answer %d: got %+v, want stored and flagged (too fast)", i, r)
		}
	}
	if one, retried := store.IntakeStats(st); one != 1 || retried != 0 {
		t.Fatalf("after the first batch: %d batches by one statement, %d retried; want 1 and 0", one, retried)
	}
	second, err := st.CreateResponses(ctx, []store.NewResponse{
		answer("one-statement-d", same), answer("one-statement-a", same), answer("one-statement-e", MustVisit(t, cat, rng, cat.AssignModules(3))),
	})
	if err != nil {
		t.Fatal(err)
	}
	if one, retried := store.IntakeStats(st); one != 1 || retried != 1 {
		t.Errorf("after the retry: %d batches by one statement, %d retried; want 1 and 1", one, retried)
	}
	if r := second[1]; r.Err != nil || r.Created || r.ID != first[0].ID {
		t.Errorf("retry: got %+v, want id %d, not created", r, first[0].ID)
	}
	for _, i := range []int{0, 2} {
		if r := second[i]; r.Err != nil || !r.Created || r.ID == 0 {
			t.Errorf("second batch, answer %d: got %+v, want stored", i, r)
		}
	}
	// The third identical answer is a duplicate; screened in the failed
	// statement and again in the transaction, it has each flag once.
	got, err := st.ResponseBySubmission(ctx, "one-statement-d")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{survey.FlagDuplicate, survey.FlagTooFast}; !slices.Equal(slices.Sorted(slices.Values(got.Flags)), want) {
		t.Errorf("third identical answer: flags %v, want %v", got.Flags, want)
	}
	if n, _ := st.ResponseCount(ctx, ""); n != 5 {
		t.Errorf("got %d stored responses, want 5", n)
	}
	rep, err := st.Recompute(ctx)
	if err != nil || rep.Responses != 5 || rep.Mismatches != 0 {
		t.Errorf("recompute: %+v, %v; want 5 responses and no tally row to fix", rep, err)
	}
}
