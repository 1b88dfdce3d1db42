package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/papi-hcmc/papi/survey"
)

// BenchmarkStorageFloor measures the least that storing imported rows
// costs: household interviews of the whole questionnaire inserted into a
// fresh SQLite file with the intake's own multi-row INSERT (same columns,
// indexes and pragmas), in transactions of 500, without screening or
// tallies. No import can store faster on the machine; BenchmarkImport in
// api is the whole import beside it. "unique-only" drops every index of
// responses but the unique submission id (which a re-import needs), to show
// what the indexes cost.
func BenchmarkStorageFloor(b *testing.B) {
	b.Run("indexes=all", func(b *testing.B) { benchmarkStorageFloor(b, false) })
	b.Run("indexes=unique-only", func(b *testing.B) { benchmarkStorageFloor(b, true) })
}

func benchmarkStorageFloor(b *testing.B, dropIndexes bool) {
	ctx := context.Background()
	cats, err := survey.Catalogues()
	if err != nil {
		b.Fatal(err)
	}
	communes, err := survey.Communes()
	if err != nil {
		b.Fatal(err)
	}
	st, err := Open(ctx, filepath.Join(b.TempDir(), "floor.db"), Options{Catalogues: cats})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Seed(ctx, communes); err != nil {
		b.Fatal(err)
	}
	if dropIndexes {
		for _, ix := range []string{"idx_responses_centre_created", "idx_responses_kiosk", "idx_responses_commune_day", "idx_responses_review", "idx_responses_day"} {
			if err := st.db.Exec("DROP INDEX " + ix).Error; err != nil {
				b.Fatal(err)
			}
		}
	}
	cat := st.current
	rng := rand.New(rand.NewPCG(3, 4))
	day := time.Date(2025, 6, 2, 10, 0, 0, 0, survey.Local)
	items := make([]*item, 500)
	for i := range items {
		code := communes[i%len(communes)].Code
		v, err := cat.ValidateSubmission(cat.SynthesizeAt(rng, cat.AllModules(), rng.Float64(), code))
		if err != nil {
			b.Fatal(err)
		}
		v.Channel = survey.ChannelHousehold
		it, err := st.prepare(ctx, &NewResponse{SubmissionID: "x", CommuneCode: code, Channel: survey.ChannelHousehold,
			Version: cat.Version, Visit: v, At: day.AddDate(0, 0, i%90)})
		if err != nil {
			b.Fatal(err)
		}
		items[i] = it
	}
	n := 0
	b.ResetTimer()
	for b.Loop() {
		for _, it := range items {
			n++
			it.row.SubmissionID = fmt.Sprintf("uuid:%08x-0000-4000-8000-%012x", n, n)
		}
		err := st.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			ids, err := st.insertRows(ctx, tx.Statement.ConnPool, items)
			if err == nil && len(ids) != len(items) {
				err = fmt.Errorf("%d of %d rows inserted", len(ids), len(items))
			}
			return err
		})
		st.stmts.prepareMissed(ctx)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}
