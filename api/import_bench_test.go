package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// generatedExport streams an ODK Central export of n rows made from a few
// hundred rendered households, each row with its own instanceID, so the
// benchmark never holds the file in memory.
type generatedExport struct {
	head  []byte
	lines [][][]byte // per template row: the text around its instanceID
	n, i  int
	buf   bytes.Buffer
}

const templateID = "00000000-0000-4000-8000-00000000cafe"

func newGeneratedExport(b *testing.B, cat *survey.Catalogue, n int) *generatedExport {
	var rows []survey.ExportRow
	// Interviews spread over 90 weekdays, so no commune sees more than a
	// handful a day (the interim storage screens them like QR answers).
	day := weekday()
	for i := range 90 {
		d := day.AddDate(0, 0, -i)
		if d.Weekday() == time.Sunday {
			continue
		}
		for _, r := range fieldHouseholds(b, cat, 4, d, uint64(i)) {
			r.InstanceID = "uuid:" + templateID
			rows = append(rows, r)
		}
	}
	data := fieldExport(b, cat, survey.ODKCentral, survey.ExportOptions{GroupNames: true}, rows)
	head, body, _ := bytes.Cut(data, []byte("\n"))
	g := &generatedExport{head: append(head, '\n'), n: n}
	for _, line := range bytes.SplitAfter(body, []byte("\n")) {
		if len(line) > 0 {
			g.lines = append(g.lines, bytes.Split(line, []byte(templateID)))
		}
	}
	return g
}

func (g *generatedExport) Read(p []byte) (int, error) {
	for g.buf.Len() < len(p) && g.i <= g.n {
		if g.i == 0 {
			g.buf.Write(g.head)
		} else {
			for j, part := range g.lines[g.i%len(g.lines)] {
				if j > 0 {
					fmt.Fprintf(&g.buf, "%08x-0000-4000-8000-%012x", g.i, g.i)
				}
				g.buf.Write(part)
			}
		}
		g.i++
	}
	if g.buf.Len() == 0 {
		return 0, io.EOF
	}
	return g.buf.Read(p)
}

// BenchmarkImport imports a 100,000-row ODK Central export into a fresh
// SQLite database through Import (validation on every core, spooling,
// batched inserts) and reports rows/s and the peak Go heap; "check" is the
// same with DryRun (reading and validating only), "store" the whole import.
// PAPI_BENCH_IMPORT_ROWS changes the size.
func BenchmarkImport(b *testing.B) {
	b.Run("check", func(b *testing.B) { benchmarkImport(b, true) })
	b.Run("store", func(b *testing.B) { benchmarkImport(b, false) })
}

func benchmarkImport(b *testing.B, dryRun bool) {
	n := 100_000
	if s := os.Getenv("PAPI_BENCH_IMPORT_ROWS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	cats, err := survey.Catalogues()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	communes, _ := survey.Communes()
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()
	defer close(stop)
	var stored int
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		st, err := store.Open(ctx, filepath.Join(b.TempDir(), "papi.db"), store.Options{Catalogues: cats})
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Seed(ctx, communes); err != nil {
			b.Fatal(err)
		}
		src := newGeneratedExport(b, cats[len(cats)-1], n)
		runtime.GC()
		b.StartTimer()
		start := time.Now()
		rep, err := api.Import(ctx, st, src, api.ImportOptions{DryRun: dryRun})
		elapsed += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Valid != n || !dryRun && rep.Stored != n {
			b.Fatalf("%d valid and %d stored of %d rows: %+v", rep.Valid, rep.Stored, n, rep)
		}
		stored += rep.Valid
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(stored)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
}
