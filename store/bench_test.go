package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// BenchmarkCreateResponses measures bulk loading (papi demo's path): one
// transaction per 500 responses.
func BenchmarkCreateResponses(b *testing.B) {
	st := MustOpen(b, "sqlite", time.Now)
	ctx := context.Background()
	cat := st.Catalogue()
	centres, _ := st.AllCentres(ctx)
	rng := rand.New(rand.NewPCG(1, 1))
	visits := make([]survey.Visit, 1000)
	for i := range visits {
		visits[i] = MustVisit(b, cat, rng, cat.AssignModules(uint64(i)))
	}
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
