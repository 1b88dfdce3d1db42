package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// TestStuffingSimulation mixes organic traffic (residents arriving through
// the opening hours of 20 centres over a week, each taking a plausible
// time to answer) with three ballot-stuffing campaigns, and measures the
// share of each campaign the anomaly checks catch and the share of organic
// answers they wrongly flag.
func TestStuffingSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("a week of traffic at 20 centres, one submission at a time")
	}
	st := MustOpen(t, "sqlite", time.Now)
	ctx := context.Background()
	cat := st.Catalogue()
	rng := rand.New(rand.NewPCG(2026, 11))
	centres, _ := st.AllCentres(ctx)
	centres = centres[:20]

	type sub struct {
		kind     string
		centre   store.Centre
		at       time.Time
		duration int64
		visit    survey.Visit
	}
	var subs []sub
	start := time.Date(2026, 5, 4, 0, 0, 0, 0, survey.Local) // a Monday
	// Organic: 10 to 60 visitors a day per centre between 07:30 and 17:00,
	// about 4 to 10 seconds per answer.
	for d := 0; d < 7; d++ {
		day := start.AddDate(0, 0, d)
		if day.Weekday() == time.Sunday {
			continue
		}
		for _, c := range centres {
			visitors := 10 + rng.IntN(51)
			for v := 0; v < visitors; v++ {
				at := day.Add(7*time.Hour + 30*time.Minute + time.Duration(rng.IntN(int(9.5*3600)))*time.Second)
				visit := MustVisit(t, cat, rng, cat.AssignModules(rng.Uint64()))
				perAnswer := 4 + rng.Float64()*6
				subs = append(subs, sub{"organic", c, at, int64(perAnswer * 1000 * float64(len(visit.Answers))), visit})
			}
		}
	}
	perfect := func(seed uint64) survey.Visit {
		return MustVisit(t, cat, rand.New(rand.NewPCG(seed, seed)), []string{survey.CoreModule, "d5"})
	}
	// Campaign A: a script posts the same "very satisfied" answers 80 times
	// in 20 minutes at one centre during opening hours.
	a := perfect(1)
	for i := 0; i < 80; i++ {
		subs = append(subs, sub{"script", centres[3], start.AddDate(0, 0, 2).Add(10*time.Hour + time.Duration(i*15)*time.Second), 4000, a})
	}
	// Campaign B: the same at night, with varied answers and believable
	// durations.
	for i := 0; i < 60; i++ {
		subs = append(subs, sub{"night", centres[7], start.AddDate(0, 0, 3).Add(22*time.Hour + time.Duration(i*40)*time.Second), 120000, MustVisit(t, cat, rng, cat.AssignModules(uint64(i)))})
	}
	// Campaign C: an insider at the counter submits 40 varied answers over
	// a working day, each taking a believable time: the hardest case.
	for i := 0; i < 40; i++ {
		subs = append(subs, sub{"insider", centres[11], start.AddDate(0, 0, 4).Add(8*time.Hour + time.Duration(i*12)*time.Minute), 90000 + int64(rng.IntN(60000)), MustVisit(t, cat, rng, cat.AssignModules(uint64(i)))})
	}
	sort.SliceStable(subs, func(i, j int) bool { return subs[i].at.Before(subs[j].at) })

	total, caught := map[string]int{}, map[string]int{}
	for i, s := range subs {
		if _, _, err := st.CreateResponse(ctx, store.NewResponse{SubmissionID: fmt.Sprintf("sim-%06d", i), Centre: s.centre, Version: cat.Version, Visit: s.visit, DurationMS: s.duration, At: s.at}); err != nil {
			t.Fatal(err)
		}
		r, err := st.ResponseBySubmission(ctx, fmt.Sprintf("sim-%06d", i))
		if err != nil {
			t.Fatal(err)
		}
		total[s.kind]++
		if r.Status == store.StatusFlagged {
			caught[s.kind]++
		}
	}
	share := func(kind string) float64 { return float64(caught[kind]) / float64(total[kind]) }
	for _, k := range []string{"organic", "script", "night", "insider"} {
		t.Logf("%-8s %5d responses, %4d flagged (%.1f%%)", k, total[k], caught[k], 100*share(k))
	}
	if share("organic") > 0.02 {
		t.Errorf("organic answers wrongly flagged: got %.1f%%, want at most 2%%", 100*share("organic"))
	}
	if share("script") < 0.9 {
		t.Errorf("script campaign caught: got %.1f%%, want at least 90%%", 100*share("script"))
	}
	if share("night") != 1 {
		t.Errorf("night campaign caught: got %.1f%%, want 100%%", 100*share("night"))
	}
	// Flagged answers are kept but left out of the scores by default.
	tallies, err := st.Tallies(ctx, store.Filter{From: "2026-05-01", To: "2026-05-31"})
	if err != nil {
		t.Fatal(err)
	}
	responses, _, _ := tallies.Combined()
	all := 0
	for _, n := range total {
		all += n
	}
	flagged := 0
	for _, n := range caught {
		flagged += n
	}
	if responses != int64(all-flagged) || tallies.FlaggedTotal() != int64(flagged) {
		t.Errorf("tallies: got %d counted and %d flagged, want %d and %d", responses, tallies.FlaggedTotal(), all-flagged, flagged)
	}
}
