package main

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/store/storetest"
	"github.com/papi-hcmc/papi/survey"
)

// TestDemoIsReproducibleAndAdditive runs papi demo through run(): the same
// seed gives the same answers in the same places on two databases, a second
// run adds its responses again, and every response passed the intake's
// validation and is counted.
func TestDemoIsReproducibleAndAdditive(t *testing.T) {
	dir := t.TempDir()
	tallies := func(db string, runs int) (int64, map[string]survey.Tally) {
		env := func(k string) string {
			if k == "PAPI_DB" {
				return db
			}
			return ""
		}
		for i := 0; i < runs; i++ {
			var out bytes.Buffer
			if err := run(context.Background(), []string{"demo", "--responses", "300", "--seed", "5"}, env, strings.NewReader(""), &out, &out); err != nil {
				t.Fatalf("papi demo: %v (%s)", err, out.String())
			}
			if !strings.Contains(out.String(), "stored 300 synthetic responses") {
				t.Fatalf("papi demo said %q", out.String())
			}
		}
		st := storetest.MustOpen(t, db, store.Options{})
		n, _ := st.ResponseCount(context.Background(), "")
		tl, err := st.Tallies(context.Background(), store.Filter{From: "2000-01-01", To: "2100-12-31"})
		if err != nil {
			t.Fatal(err)
		}
		counted, _, combined := tl.Combined()
		if counted != n || tl.FlaggedTotal() != 0 {
			t.Errorf("%s: %d stored, %d counted, %d flagged; want every synthetic response counted", db, n, counted, tl.FlaggedTotal())
		}
		return n, combined
	}
	n1, a := tallies(filepath.Join(dir, "a.db"), 1)
	_, b := tallies(filepath.Join(dir, "b.db"), 1)
	if n1 != 300 {
		t.Errorf("got %d responses, want 300", n1)
	}
	for id, ta := range a {
		// Grid indicators sum fractions (the share of items met), whose
		// floating-point total depends on the order the rows are added in.
		if tb := b[id]; ta.N != tb.N || math.Abs(ta.Sum-tb.Sum) > 1e-9*math.Max(1, math.Abs(ta.Sum)) {
			t.Errorf("%s differs between two runs with seed 5: %+v vs %+v", id, ta, tb)
		}
	}
	if n2, _ := tallies(filepath.Join(dir, "a.db"), 1); n2 != 600 {
		t.Errorf("after a second run: got %d responses, want 600", n2)
	}
}
