package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// simulate runs the end-to-end simulation study of issue 8: communes with
// known true values, answers drawn from them and sent through the real
// validation, storage (a fresh SQLite database per period) and estimation,
// then the estimates held against the truth.
func simulate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	volumes := fs.String("responses", "50,100,150,300", "answers per commune, comma-separated")
	reps := fs.Int("reps", 2, "simulated periods per volume")
	seed := fs.Uint64("seed", 1, "random seed")
	spread := fs.Float64("spread", 1.8, "standard deviation of the communes' true totals (PAPI 2024's provinces: 1.8)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var sizes []int
	for _, v := range strings.Split(*volumes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 5000 {
			return fmt.Errorf("--responses: %q is not a number of answers from 1 to 5000", v)
		}
		sizes = append(sizes, n)
	}
	if *reps < 1 || *spread < 0 {
		return errors.New("--reps must be at least 1 and --spread not negative")
	}
	cats, err := survey.Catalogues()
	if err != nil {
		return err
	}
	communes, err := survey.Communes()
	if err != nil {
		return err
	}
	cat := cats[len(cats)-1]
	dir, err := os.MkdirTemp("", "papi-simulate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	rng := rand.New(rand.NewPCG(*seed, 0x51a))
	grid, err := survey.NewSimGrid(cat, rng)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "catalogue %s, %d communes, true totals spread %.1f, %d periods a volume\n", cat.Version, len(communes), *spread, *reps)
	fmt.Fprintf(stdout, "%9s %7s %8s %8s %7s %7s %7s %7s %8s %7s %9s %8s\n", "responses", "scored", "ind dir", "ind bor", "dim", "total", "rank90", "spear", "rank err", "true sd", "stored/s", "flagged")
	for _, n := range sizes {
		var sum survey.SimResult
		rate, flagged := 0.0, 0
		for rep := range *reps {
			city := grid.City(communes, rng, *spread)
			path := filepath.Join(dir, fmt.Sprintf("sim-%d-%d.db", n, rep))
			r, stored, fl, err := simulatePeriod(ctx, cats, communes, city, rng, n, path)
			if err != nil {
				return err
			}
			sum.Add(r)
			rate += stored / float64(*reps)
			flagged += fl
		}
		rt := sum.Rates()
		fmt.Fprintf(stdout, "%9d %7.3f %8.3f %8.3f %7.3f %7.3f %7.3f %7.3f %8.1f %7.2f %9.0f %8d\n", n,
			rt.Scored, rt.Direct, rt.Borrowed, rt.Dimensions, rt.Totals, rt.Ranks, rt.Spearman, rt.RankError, rt.TrueSD, rate, flagged)
	}
	return nil
}

// simulatePeriod stores n answers a commune from city's truths in a fresh
// database at path (12 a working day, the newest today), reads the
// tallies back and measures the comparison of all communes. It returns the
// result, the answers stored per second, and how many the anomaly checks
// flagged (they are counted all the same: every one is genuine).
func simulatePeriod(ctx context.Context, cats []*survey.Catalogue, communes []survey.Commune, city *survey.SimCity, rng *rand.Rand, n int, path string) (survey.SimResult, float64, int, error) {
	var none survey.SimResult
	st, err := store.Open(ctx, path, store.Options{Catalogues: cats})
	if err != nil {
		return none, 0, 0, err
	}
	defer st.Close()
	if err := st.Seed(ctx, communes); err != nil {
		return none, 0, 0, err
	}
	centres, err := st.AllCentres(ctx)
	if err != nil {
		return none, 0, 0, err
	}
	cat := st.Catalogue()
	// Working days back from today, 12 answers each from 08:00 every 40
	// minutes, as a busy centre sees them.
	now := time.Now().In(survey.Local)
	days := (n + 11) / 12
	var slots []time.Time
	for day := now; len(slots) < days*12; day = day.AddDate(0, 0, -1) {
		if day.Weekday() == time.Sunday {
			continue
		}
		for k := range 12 {
			at := time.Date(day.Year(), day.Month(), day.Day(), 8, 0, 0, 0, survey.Local).Add(time.Duration(k) * 40 * time.Minute)
			if at.Before(now) {
				slots = append(slots, at)
			}
		}
	}
	start := time.Now()
	batch := make([]store.NewResponse, 0, 512)
	flagged := 0
	flush := func() error {
		_, fl, err := storeAll(ctx, st, batch)
		flagged += fl
		batch = batch[:0]
		return err
	}
	stored := 0
	for _, ct := range centres {
		q := city.Quality[ct.CommuneCode]
		for k := range n {
			v, err := cat.ValidateSubmission(survey.SimSubmission(cat, rng, cat.AssignModules(rng.Uint64()), q))
			if err != nil {
				return none, 0, 0, fmt.Errorf("a simulated answer failed validation (a bug): %w", err)
			}
			batch = append(batch, store.NewResponse{SubmissionID: fmt.Sprintf("sim-%s-%d", ct.CommuneCode, k), Centre: ct, Version: cat.Version,
				Visit: v, Lang: "vi", DurationMS: int64(len(v.Answers)) * 6000, At: slots[k]})
			stored++
			if len(batch) == cap(batch) {
				if err := flush(); err != nil {
					return none, 0, 0, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return none, 0, 0, err
	}
	rate := float64(stored) / time.Since(start).Seconds()
	first := slots[len(slots)-1].Format(survey.DateLayout)
	t, err := st.Tallies(ctx, store.Filter{From: first, To: now.Format(survey.DateLayout), IncludeFlagged: true})
	if err != nil {
		return none, 0, 0, err
	}
	cmp, err := survey.Compare(cat, communes, t.CommuneData(), survey.CompareOptions{Estimates: true, Policy: survey.DefaultPolicy})
	if err != nil {
		return none, 0, 0, err
	}
	return city.Measure(cmp), rate, flagged, nil
}
