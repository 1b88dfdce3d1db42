package main

import (
	"strconv"
	"strings"
	"testing"
)

// TestSimulateCommand runs the end-to-end simulation at 40 answers a
// commune: every answer goes through validation and a real SQLite store,
// every commune is scored, and the 95% intervals of the totals cover the
// truth for most communes. Bad flags are refused.
func TestSimulateCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("draws 34,000 answers for the truth and stores 6,720")
	}
	out, err := runPapi(t, "", "simulate", "--responses", "40", "--reps", "1", "--seed", "3")
	if err != nil {
		t.Fatalf("papi simulate: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	fields := strings.Fields(lines[len(lines)-1])
	if len(lines) != 3 || len(fields) != 12 || fields[0] != "40" {
		t.Fatalf("papi simulate: want a header and one row for 40 answers, got\n%s", out)
	}
	num := func(i int) float64 {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			t.Fatalf("column %d: %q is not a number\n%s", i, fields[i], out)
		}
		return v
	}
	if scored, total, spearman := num(1), num(5), num(7); scored != 1 || total < 0.85 || spearman < 0.3 {
		t.Errorf("papi simulate at 40 answers a commune: scored %v, total coverage %v, Spearman %v; want every commune scored, coverage ≥ 0.85, Spearman ≥ 0.3\n%s", scored, total, spearman, out)
	}
	for _, args := range [][]string{{"simulate", "--responses", "0"}, {"simulate", "--responses", "50,x"}, {"simulate", "--reps", "0"}} {
		if _, err := runPapi(t, "", args...); err == nil {
			t.Errorf("papi %q: no error", args)
		}
	}
}
