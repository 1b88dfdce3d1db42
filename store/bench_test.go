package store_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/store/storetest"
	"github.com/papi-hcmc/papi/survey"
)

// BenchmarkCreateResponses measures bulk loading (papi demo's path): one
// transaction per 500 responses.
func BenchmarkCreateResponses(b *testing.B) {
	st := MustOpen(b, "sqlite", time.Now)
	ctx := context.Background()
	cat := st.Catalogue()
	centres, visits := benchVisits(b, st, 1)
	base := time.Date(2026, 6, 1, 9, 0, 0, 0, survey.Local)
	b.ResetTimer()
	batch := make([]store.NewResponse, 0, 500)
	for i := 0; i < b.N; i++ {
		batch = append(batch, store.NewResponse{SubmissionID: fmt.Sprintf("bench-%d", i), Centre: centres[i%len(centres)], Version: cat.Version,
			Visit: visits[i%len(visits)], At: base.Add(time.Duration(i%300) * 24 * time.Hour / 300 * 3)})
		if len(batch) == cap(batch) || i == b.N-1 {
			if _, err := st.CreateResponses(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// benchVisits is every centre of st and 1,000 synthetic visits drawn with
// seed, for the intake benchmarks to cycle through.
func benchVisits(b *testing.B, st *store.Store, seed uint64) ([]store.Centre, []survey.Visit) {
	b.Helper()
	cat := st.Catalogue()
	centres, err := st.AllCentres(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	visits := make([]survey.Visit, 1000)
	for i := range visits {
		visits[i] = MustVisit(b, cat, rng, cat.AssignModules(uint64(i)))
	}
	return centres, visits
}

// benchStore opens (building on first use) a database of n synthetic
// responses spread over 2025 and all 168 communes, kept in PAPI_BENCH_DIR
// (default: the system temp dir) so that later runs reuse it.
func benchStore(b *testing.B, n int) *store.Store {
	b.Helper()
	path := filepath.Join(benchDir(b), fmt.Sprintf("papi-bench-v2-%d.db", n))
	_, statErr := os.Stat(path)
	st := storetest.MustOpen(b, path, store.Options{})
	if statErr == nil {
		return st
	}
	b.Logf("building %s with %d responses (once)", path, n)
	ctx := context.Background()
	storetest.MustSeed(b, st)
	cat := st.Catalogue()
	centres, _ := st.AllCentres(ctx)
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	// Twelve synthetic visits per centre, from residents of its commune,
	// of a neighbouring one and of outside the city in the proportions of
	// papi demo: a visit drawn for one centre with a random commune of
	// residence would credit every commune from every centre, which no
	// city sees.
	const perCentre = 12
	pool := make([]survey.Visit, len(centres)*perCentre)
	for i := range pool {
		sub := cat.SynthesizeAt(rng, cat.AssignModules(uint64(i)), rng.Float64(), centres[i/perCentre].CommuneCode)
		v, err := cat.ValidateSubmission(sub)
		if err != nil {
			b.Fatal(err)
		}
		pool[i] = v
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, survey.Local)
	batch := make([]store.NewResponse, 0, 1000)
	for i := 0; i < n; i++ {
		day := start.AddDate(0, 0, rng.IntN(365))
		if day.Weekday() == time.Sunday {
			day = day.AddDate(0, 0, 1)
		}
		at := day.Add(7*time.Hour + 30*time.Minute + time.Duration(rng.IntN(9*3600))*time.Second)
		c := rng.IntN(len(centres))
		v := pool[c*perCentre+rng.IntN(perCentre)]
		batch = append(batch, store.NewResponse{SubmissionID: fmt.Sprintf("b%d-%d", n, i), Centre: centres[c],
			Version: cat.Version, Visit: v, At: at, DurationMS: int64(len(v.Answers)) * 6000})
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := st.CreateResponses(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return st
}

// benchDir is where the benchmark databases are kept: PAPI_BENCH_DIR, or
// the system temp dir.
func benchDir(b *testing.B) string {
	dir := os.Getenv("PAPI_BENCH_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkTallies is the store's read alone: one commune's year and the
// whole city's year (what a summary and the comparison fetch), without
// scoring.
func BenchmarkTallies(b *testing.B) {
	for _, n := range benchSizes() {
		for _, scope := range []struct {
			name     string
			communes []string
		}{{"commune", []string{"26740"}}, {"city", nil}} {
			b.Run(fmt.Sprintf("%s/responses=%d", scope.name, n), func(b *testing.B) {
				st := benchStore(b, n)
				ctx := context.Background()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := st.Tallies(ctx, store.Filter{From: "2025-01-01", To: "2025-12-31", Communes: scope.communes}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSummary reads one commune's summary for a year from the
// tallies: its cost should not grow with the number of stored responses.
func BenchmarkSummary(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("responses=%d", n), func(b *testing.B) {
			st := benchStore(b, n)
			cat := st.Catalogue()
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t, err := st.Tallies(ctx, store.Filter{From: "2025-01-01", To: "2025-12-31", Communes: []string{"26740"}})
				if err != nil {
					b.Fatal(err)
				}
				_, _, tallies := t.Combined()
				_ = cat.Score(tallies, survey.DefaultPolicy)
			}
		})
	}
}

// BenchmarkCompare scores all 168 communes for a year, as /compare does.
func BenchmarkCompare(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("responses=%d", n), func(b *testing.B) {
			compareYear(b, benchStore(b, n))
		})
	}
}

// BenchmarkCompareUnfolded is BenchmarkCompare while the intake runs: on a
// copy of the benchmark database, 6,000 more responses stored in batches
// of 8 whose shares are still delta rows (about a second of the load
// run's intake, see tallydelta.go), which every read adds to the tallies
// until a fold moves them.
func BenchmarkCompareUnfolded(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("responses=%d", n), func(b *testing.B) {
			built := benchStore(b, n)
			if err := built.Close(); err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(b.TempDir(), "unfolded.db")
			copyFile(b, filepath.Join(benchDir(b), fmt.Sprintf("papi-bench-v2-%d.db", n)), path)
			st := storetest.MustOpen(b, path, store.Options{FoldEvery: time.Hour})
			ctx := context.Background()
			cat := st.Catalogue()
			centres, _ := st.AllCentres(ctx)
			rng := rand.New(rand.NewPCG(8, 9))
			at := time.Date(2025, 12, 15, 9, 0, 0, 0, survey.Local)
			batch := make([]store.NewResponse, 0, 8)
			for i := range 6000 {
				c := centres[rng.IntN(len(centres))]
				v := MustVisit(b, cat, rng, cat.AssignModules(uint64(i)))
				batch = append(batch, store.NewResponse{SubmissionID: fmt.Sprintf("unfolded-%d", i), Centre: c, Version: cat.Version,
					Visit: v, At: at.Add(time.Duration(i) * time.Second), DurationMS: 180000})
				if len(batch) == cap(batch) {
					if _, err := st.CreateResponses(ctx, batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			compareYear(b, st)
		})
	}
}

// compareYear is BenchmarkCompare's loop.
func compareYear(b *testing.B, st *store.Store) {
	cat := st.Catalogue()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, err := st.Tallies(ctx, store.Filter{From: "2025-01-01", To: "2025-12-31"})
		if err != nil {
			b.Fatal(err)
		}
		for _, ct := range t.Communes {
			_ = cat.Score(ct.Indicators, survey.DefaultPolicy)
		}
	}
}

// copyFile copies a closed SQLite database file.
func copyFile(b *testing.B, from, to string) {
	b.Helper()
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkExportCSV streams every response of a year as CSV to a
// discarding writer, as /responses.csv does (the store's rows through
// encoding/csv behind a buffer), and reports rows per second.
func BenchmarkExportCSV(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("responses=%d", n), func(b *testing.B) {
			st := benchStore(b, n)
			ctx := context.Background()
			b.ResetTimer()
			rows := 0
			for i := 0; i < b.N; i++ {
				bw := bufio.NewWriterSize(io.Discard, 64<<10)
				w := csv.NewWriter(bw)
				if err := w.Write(st.ResponseColumns(false)); err != nil {
					b.Fatal(err)
				}
				k, err := st.EachResponseRow(ctx, store.ResponseRows{From: "2025-01-01", To: "2025-12-31", IncludeFlagged: true}, w.Write)
				if err != nil {
					b.Fatal(err)
				}
				w.Flush()
				rows += k
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// benchSizes are the database sizes compared: 10,000 and, unless
// PAPI_BENCH_SIZES says otherwise, 1,000,000 responses.
func benchSizes() []int {
	if v := os.Getenv("PAPI_BENCH_SIZES"); v != "" {
		var out []int
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err == nil && n > 0 {
				out = append(out, n)
			}
		}
		return out
	}
	return []int{10000, 1000000}
}

// BenchmarkIntakeBatch measures the writer's cost per response as the
// group commit sees it under load: batches of 32 submissions arriving now,
// spread over all 168 centres, on each engine.
func BenchmarkIntakeBatch(b *testing.B) {
	for _, backend := range storetest.Backends(b) {
		b.Run(backend, func(b *testing.B) {
			st := MustOpen(b, backend, time.Now)
			ctx := context.Background()
			cat := st.Catalogue()
			centres, visits := benchVisits(b, st, 2)
			b.ResetTimer()
			batch := make([]store.NewResponse, 0, 32)
			for i := 0; i < b.N; i++ {
				v := visits[i%len(visits)]
				batch = append(batch, store.NewResponse{SubmissionID: fmt.Sprintf("intake-%d", i), Centre: centres[i%len(centres)], Version: cat.Version,
					Visit: v, DurationMS: int64(len(v.Answers)) * 6000})
				if len(batch) == cap(batch) || i == b.N-1 {
					if _, err := st.CreateResponses(ctx, batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
		})
	}
}

// BenchmarkRecompute checks every tally row of the benchmark database
// against its raw responses (papi recompute) and reports responses per
// second.
func BenchmarkRecompute(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("responses=%d", n), func(b *testing.B) {
			st := benchStore(b, n)
			ctx := context.Background()
			b.ResetTimer()
			var done int64
			for i := 0; i < b.N; i++ {
				rep, err := st.Recompute(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Mismatches != 0 {
					b.Fatalf("recompute found %d mismatches in the benchmark database", rep.Mismatches)
				}
				done += rep.Responses
			}
			b.ReportMetric(float64(done)/b.Elapsed().Seconds(), "responses/s")
		})
	}
}
