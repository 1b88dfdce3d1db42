package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/survey"
)

// TestCheckpointTruncatesLongWAL: once the WAL is longer than
// walRestartFrames, a checkpoint empties it. A PASSIVE checkpoint alone
// leaves the file as long as it grew, and under a writer that never pauses
// it never starts over (a million-answer load grew it past 13 GB).
func TestCheckpointTruncatesLongWAL(t *testing.T) {
	cats, err := survey.Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	communes, err := survey.Communes()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "papi.db")
	st, err := Open(ctx, path, Options{Catalogues: cats})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Seed(ctx, communes); err != nil {
		t.Fatal(err)
	}
	centres, err := st.AllCentres(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cat := st.Catalogue()
	rng := rand.New(rand.NewPCG(5, 5))
	var batch []NewResponse
	for i := range 200 {
		v, err := cat.ValidateSubmission(cat.Synthesize(rng, cat.AssignModules(uint64(i)), 0.5))
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, NewResponse{SubmissionID: fmt.Sprintf("wal-%d", i), Centre: centres[i%len(centres)], Version: cat.Version, Visit: v,
			At: time.Date(2026, 3, 2, 9, 0, 0, 0, survey.Local).Add(time.Duration(i) * time.Minute)})
	}
	if _, err := st.CreateResponses(ctx, batch); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	// Below the limit a checkpoint copies the WAL and leaves the file.
	before := size()
	defer walRestartFrames.Store(walRestartFrames.Load())
	walRestartFrames.Store(1 << 30)
	st.checkpoint()
	if got := size(); got != before || got == 0 {
		t.Fatalf("WAL below the limit: %d bytes before a checkpoint, %d after; want it left as it was", before, got)
	}
	walRestartFrames.Store(10)
	st.checkpoint()
	if got := size(); got != 0 {
		t.Errorf("WAL of %d bytes over the limit: %d bytes after a checkpoint, want 0", before, got)
	}
	if n, err := st.ResponseCount(ctx, ""); err != nil || n != 200 {
		t.Errorf("after the checkpoints: %d responses, %v; want 200", n, err)
	}
}
