package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// TestBurstMemoryFlagsAsTheDatabase: screening that skips the burst count
// of a centre known to be over the limit flags exactly what screening that
// asks the database every time flags. The traffic mixes floods at some
// centres (dozens a minute, in batches), quiet centres, pauses longer than
// the burst window and receipt-verified answers.
func TestBurstMemoryFlagsAsTheDatabase(t *testing.T) {
	ctx := context.Background()
	run := func(remember bool) (flags []string, skipped int64) {
		start := time.Date(2026, 6, 2, 8, 0, 0, 0, survey.Local)
		st := MustOpen(t, "sqlite", func() time.Time { return start })
		// The phone memory would count every answer here, exactly; the
		// burst memory spares the database's count, so the database counts.
		store.ForgetPhones(st)
		if !remember {
			store.ForgetBursts(st)
		}
		cat := st.Catalogue()
		rng := rand.New(rand.NewPCG(61, 62))
		centres, _ := st.AllCentres(ctx)
		centres = centres[:6]
		// A morning: minutes 0–40 a flood at centres 0 and 1, quiet
		// traffic elsewhere, a 12-minute pause, then a second flood. One
		// answer in seven brings a receipt.
		issuer := survey.User{ID: 1, Email: "issuer@x.vn", Role: survey.RoleIssuer}
		var ins []store.NewResponse
		for i := 0; i < 900; i++ {
			minute := i / 15
			if minute >= 40 {
				minute += 12
			}
			c := centres[rng.IntN(2)]
			if i%5 == 0 {
				c = centres[2+rng.IntN(4)]
			}
			v := MustVisit(t, cat, rng, cat.AssignModules(uint64(i)))
			in := store.NewResponse{SubmissionID: fmt.Sprintf("burst-%04d", i), Centre: c, Version: cat.Version, Visit: v,
				At: start.Add(time.Duration(minute)*time.Minute + time.Duration(rng.IntN(60))*time.Second), DurationMS: 200000}
			if i%7 == 0 {
				rc, err := st.CreateReceipt(ctx, issuer, c.ID, fmt.Sprintf("HS-%04d", i))
				if err != nil {
					t.Fatal(err)
				}
				in.Receipt = rc.Code
			}
			ins = append(ins, in)
		}
		slices.SortStableFunc(ins, func(a, b store.NewResponse) int { return a.At.Compare(b.At) })
		for len(ins) > 0 {
			n := min(len(ins), 1+rng.IntN(12))
			results, err := st.CreateResponses(ctx, ins[:n])
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range results {
				if r.Err != nil {
					t.Fatalf("%s: %v", ins[i].SubmissionID, r.Err)
				}
				got, err := st.ResponseBySubmission(ctx, ins[i].SubmissionID)
				if err != nil {
					t.Fatal(err)
				}
				flags = append(flags, got.Status+" "+strings.Join(got.Flags, ","))
			}
			ins = ins[n:]
		}
		return flags, store.BurstCountsSkipped(st)
	}
	withMemory, skipped := run(true)
	without, _ := run(false)
	bursts := 0
	for i := range withMemory {
		if withMemory[i] != without[i] {
			t.Errorf("submission %d: flagged %q with the memory, %q without", i, withMemory[i], without[i])
		}
		if withMemory[i] == store.StatusFlagged+" "+survey.FlagBurst {
			bursts++
		}
	}
	if bursts < 100 || skipped < 100 {
		t.Errorf("got %d burst flags and %d burst counts skipped; the floods should give hundreds of each", bursts, skipped)
	}
	t.Logf("%d submissions, %d flagged as bursts, %d burst counts skipped", len(withMemory), bursts, skipped)
}
