package store_test

import (
	"context"
	"fmt"
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

// TestScreeningCountsEveryEarlierAnswer: the writer screens each answer
// against everything stored before it, in earlier batches (the phone
// memory on SQLite, the screening query otherwise) and earlier in its own
// batch (counted in memory). For every stored answer the burst and
// duplicate flags are recomputed here from the stored rows with lower
// ids, by the rules of survey.Screen. Submissions come from 16 goroutines
// at once, so batches form as under load: floods at two centres, four
// others a little under the burst limit, an answer set in two from a pool
// of 80 (duplicates), one in seven with a receipt. It runs with the phone
// memory and without it, on SQLite: PostgreSQL has two writers, whose
// batches stored at the same moment do not see each other (README,
// "Several papi processes").
func TestScreeningCountsEveryEarlierAnswer(t *testing.T) {
	t.Run("phone memory", func(t *testing.T) { screenEveryEarlierAnswer(t, true) })
	t.Run("database", func(t *testing.T) { screenEveryEarlierAnswer(t, false) })
}

func screenEveryEarlierAnswer(t *testing.T, phoneMemory bool) {
	ctx := context.Background()
	start := time.Date(2026, 6, 2, 8, 0, 0, 0, survey.Local)
	st := MustOpen(t, storetest.SQLite, func() time.Time { return start })
	if !phoneMemory {
		store.ForgetPhones(st)
	}
	cat := st.Catalogue()
	rng := rand.New(rand.NewPCG(71, 72))
	centres, _ := st.AllCentres(ctx)
	centres = centres[:6]
	pool := make([]survey.Visit, 80)
	for i := range pool {
		pool[i] = MustVisit(t, cat, rng, cat.AssignModules(uint64(i)))
	}
	issuer := survey.User{ID: 1, Email: "issuer@x.vn", Role: survey.RoleIssuer}
	const n = 1800
	ins := make([]store.NewResponse, n)
	answerSet := map[string]int{} // submission id → answer set (pool index, or n+i for a fresh one)
	for i := range ins {
		// 30 answers a minute: 10 at each of two centres, 2.5 at four
		// others, whose burst counts then lie a little under the limit.
		minute := i / 30
		c := centres[rng.IntN(2)]
		if i%3 == 0 {
			c = centres[2+rng.IntN(4)]
		}
		set, v := n+i, MustVisit(t, cat, rng, cat.AssignModules(uint64(100+i)))
		if rng.IntN(2) == 0 {
			set = rng.IntN(len(pool))
			v = pool[set]
		}
		id := fmt.Sprintf("screener-%04d", i)
		answerSet[id] = set
		ins[i] = store.NewResponse{SubmissionID: id, Centre: c, Version: cat.Version, Visit: v,
			At: start.Add(time.Duration(minute)*time.Minute + time.Duration(rng.IntN(60))*time.Second), DurationMS: 200000}
		if i%7 == 0 {
			rc, err := st.CreateReceipt(ctx, issuer, c.ID, fmt.Sprintf("HS-%04d", i))
			if err != nil {
				t.Fatal(err)
			}
			ins[i].Receipt = rc.Code
		}
	}
	next := make(chan store.NewResponse)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for in := range next {
				if r := st.Submit(ctx, in); r.Err != nil {
					t.Errorf("%s: %v", in.SubmissionID, r.Err)
				}
			}
		}()
	}
	for _, in := range ins {
		next <- in
	}
	close(next)
	wg.Wait()

	stored := make([]store.Response, 0, n)
	for _, in := range ins {
		r, err := st.ResponseBySubmission(ctx, in.SubmissionID)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, r)
	}
	slices.SortFunc(stored, func(a, b store.Response) int { return int(a.ID) - int(b.ID) })
	neighbourFlags := func(flags []string) []string {
		return slices.DeleteFunc(slices.Clone(flags), func(f string) bool { return f != survey.FlagBurst && f != survey.FlagDuplicate })
	}
	counts := map[string]int{}
	for i, r := range stored {
		var recent, same int64
		for _, e := range stored[:i] {
			if e.CentreID != r.CentreID || e.CreatedAt.After(r.CreatedAt) {
				continue
			}
			if e.CreatedAt.After(r.CreatedAt.Add(-survey.BurstWindow)) && !e.Verified {
				recent++
			}
			if e.CreatedAt.After(r.CreatedAt.Add(-survey.DuplicateWindow)) && answerSet[e.SubmissionID] == answerSet[r.SubmissionID] {
				same++
			}
		}
		want := neighbourFlags(survey.Screen(survey.ScreenInput{At: r.CreatedAt, DurationMS: r.DurationMS, Answered: len(r.Answers),
			Verified: r.Verified, RecentAtCentre: recent, SameAnswers: same}))
		got := neighbourFlags(r.Flags)
		if !slices.Equal(got, want) {
			t.Errorf("response %d (%s): flagged %v, want %v (%d recent, %d same stored before it)", r.ID, r.SubmissionID, got, want, recent, same)
		}
		for _, f := range got {
			counts[f]++
		}
	}
	if counts[survey.FlagBurst] < 100 || counts[survey.FlagDuplicate] < 100 {
		t.Errorf("%d burst and %d duplicate flags; the traffic should give hundreds of each", counts[survey.FlagBurst], counts[survey.FlagDuplicate])
	}
	// The phone memory counted every answer's stored neighbours, not the
	// database: there are no kiosks here.
	answered, want := store.PhonesAnswered(st), int64(0)
	if phoneMemory {
		want = n
	}
	if answered != want {
		t.Errorf("the phone memory counted for %d of %d answers; want %d", answered, n, want)
	}
	t.Logf("%d answers: %d burst and %d duplicate flags, %d counted by the phone memory", n, counts[survey.FlagBurst], counts[survey.FlagDuplicate], answered)
}

// TestPhoneMemorySeesOtherWriters: on SQLite a phone answer's stored
// neighbours are counted in memory (phoneMemory), which must also hold
// what other connections stored (another store on the file, as papi
// import or another process would be) and what was stored before the
// store opened.
func TestPhoneMemorySeesOtherWriters(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 6, 2, 9, 0, 0, 0, survey.Local)
	opt := store.Options{Now: func() time.Time { return at }}
	dsn := storetest.MustDSN(t, storetest.SQLite)
	a := storetest.MustOpen(t, dsn, opt)
	storetest.MustSeed(t, a)
	cat := a.Catalogue()
	v := MustVisit(t, cat, rand.New(rand.NewPCG(81, 82)), cat.AssignModules(1))
	centre := firstCentre(t, a, "26740")
	submit := func(st *store.Store, id string, minute int) []string {
		t.Helper()
		r := st.Submit(ctx, store.NewResponse{SubmissionID: id, Centre: centre, Version: cat.Version, Visit: v,
			At: at.Add(time.Duration(minute) * time.Minute), DurationMS: 200000})
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		stored, err := st.ResponseBySubmission(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return stored.Flags
	}
	if flags := submit(a, "same-answers-1", 0); len(flags) > 0 {
		t.Fatalf("a first answer flagged %v", flags)
	}
	b := storetest.MustOpen(t, dsn, opt)
	if flags := submit(b, "same-answers-2", 1); len(flags) > 0 {
		t.Fatalf("a second identical answer flagged %v; the limit is %d before it", flags, survey.DuplicateLimit)
	}
	if flags := submit(a, "same-answers-3", 2); !slices.Contains(flags, survey.FlagDuplicate) {
		t.Errorf("a third identical answer, the second stored through another store, flagged %v; want %s", flags, survey.FlagDuplicate)
	}
	reopened := storetest.MustOpen(t, dsn, opt)
	if flags := submit(reopened, "same-answers-4", 3); !slices.Contains(flags, survey.FlagDuplicate) {
		t.Errorf("an identical answer to three stored before the store opened flagged %v; want %s", flags, survey.FlagDuplicate)
	}
	for name, st := range map[string]*store.Store{"a": a, "b": b, "reopened": reopened} {
		if store.PhonesAnswered(st) == 0 {
			t.Errorf("store %s: the phone memory counted nothing; the database did", name)
		}
	}
}

// TestPhoneFingerprintIndex: when the database counts a phone answer's
// identical answers, PostgreSQL looks them up in
// idx_responses_phone_fingerprint (migration 18), not in every answer of
// the centre's hour; SQLite, which counts them in phoneMemory but for a
// flood past its cap, reads the screening index.
func TestPhoneFingerprintIndex(t *testing.T) {
	want := map[string]string{storetest.SQLite: "idx_responses_centre_created", storetest.Postgres: "idx_responses_phone_fingerprint"}
	eachBackend(t, func(t *testing.T, st *store.Store) {
		plan := store.ScreenPlan(t, st, 7, time.Date(2026, 6, 2, 9, 0, 0, 0, survey.Local))
		index := want[storetest.SQLite]
		if st.Postgres() {
			index = want[storetest.Postgres]
		}
		if !strings.Contains(plan, index) {
			t.Errorf("the count of identical phone answers does not use %s; the plan is:\n%s", index, plan)
		}
	})
}
