package store

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/survey"
)

// TestTallyReadsUseKeys: on SQLite's clustered tallies (migration 13) the
// city's reads take a range of the primary key, a commune's read looks
// the commune up in its index, and deleting emptied rows finds them by
// key (in an index that holds it): none of them scans the table, whose
// size grows with the history. (The reads scan the delta rows not yet
// folded, a second's worth at most.)
func TestTallyReadsUseKeys(t *testing.T) {
	st := openPlanStore(t)
	months := periodRange{grainMonth, "2025-01", "2025-11"}
	year := periodRange{grainYear, "2025", "2025"}
	city := Filter{}
	commune := Filter{Communes: []string{"26740", "25747"}}
	key := tallyKey{grain: grainDay, period: "2025-03-04", commune: "26740", centre: 3, channel: survey.ChannelQR, version: "2025.1"}
	del := newQuery(false)
	del.keyCTE([]tallyKey{key, key})
	del.WriteString(deleteByKey)
	for _, c := range []struct {
		name string
		q    *query
		want string
	}{
		{"city counts", st.countsQuery(months, city), "SEARCH tallies USING PRIMARY KEY (grain=? AND period>? AND period<?)"},
		{"city indicators", st.indicatorsQuery(months, city), "SEARCH tallies USING PRIMARY KEY (grain=? AND period>? AND period<?)"},
		{"commune counts", st.countsQuery(months, commune), "SEARCH tallies USING INDEX idx_tallies_commune (commune_code=? AND grain=? AND period>? AND period<?)"},
		{"commune indicators", st.indicatorsQuery(months, commune), "SEARCH tallies USING INDEX idx_tallies_commune (commune_code=? AND grain=? AND period>? AND period<?)"},
		{"city year", st.indicatorsQuery(year, city), "SEARCH tallies USING PRIMARY KEY (grain=? AND period>? AND period<?)"},
		{"commune year", st.indicatorsQuery(year, commune), "SEARCH tallies USING INDEX idx_tallies_commune (commune_code=? AND grain=? AND period>? AND period<?)"},
		{"delete", del, "SEARCH tallies USING"},
	} {
		got := queryPlan(t, st, c.q)
		if !strings.Contains(got, c.want) || strings.Contains(got, "SCAN tallies") {
			t.Errorf("%s: want %q and no scan of the tallies; the plan is:\n%s", c.name, c.want, got)
		}
	}
}

// TestPeriodRanges: a period is read from year rows where it spans whole
// years, month rows for the other whole months and day rows for the rest,
// each day of it exactly once.
func TestPeriodRanges(t *testing.T) {
	for _, c := range []struct {
		from, to string
		want     []periodRange
	}{
		{"2025-01-01", "2025-12-31", []periodRange{{grainYear, "2025", "2025"}}},
		{"2024-01-01", "2026-12-31", []periodRange{{grainYear, "2024", "2026"}}},
		{"2025-03-01", "2025-05-31", []periodRange{{grainMonth, "2025-03", "2025-05"}}},
		{"2025-02-14", "2025-02-14", []periodRange{{grainDay, "2025-02-14", "2025-02-14"}}},
		{"2025-02-14", "2025-03-13", []periodRange{{grainDay, "2025-02-14", "2025-03-13"}}},
		{"2025-02-14", "2025-04-10", []periodRange{{grainMonth, "2025-03", "2025-03"}, {grainDay, "2025-02-14", "2025-02-28"}, {grainDay, "2025-04-01", "2025-04-10"}}},
		{"2024-12-01", "2025-12-31", []periodRange{{grainYear, "2025", "2025"}, {grainMonth, "2024-12", "2024-12"}}},
		{"2025-01-01", "2026-02-28", []periodRange{{grainYear, "2025", "2025"}, {grainMonth, "2026-01", "2026-02"}}},
		{"2024-11-20", "2026-01-05", []periodRange{{grainYear, "2025", "2025"}, {grainMonth, "2024-12", "2024-12"}, {grainDay, "2024-11-20", "2024-11-30"}, {grainDay, "2026-01-01", "2026-01-05"}}},
		{"2025-02-01", "2026-11-30", []periodRange{{grainMonth, "2025-02", "2026-11"}}},
		{"2024-02-29", "2024-12-31", []periodRange{{grainMonth, "2024-03", "2024-12"}, {grainDay, "2024-02-29", "2024-02-29"}}},
	} {
		got, err := periodRanges(c.from, c.to)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s..%s: got %v, want %v", c.from, c.to, got, c.want)
		}
	}
	// Random periods over three years: each day in exactly one range.
	rng := rand.New(rand.NewPCG(3, 4))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 500 {
		f := start.AddDate(0, 0, rng.IntN(3*366))
		to := f.AddDate(0, 0, rng.IntN(800))
		ranges, err := periodRanges(f.Format(survey.DateLayout), to.Format(survey.DateLayout))
		if err != nil {
			t.Fatal(err)
		}
		for d := f.AddDate(-1, 0, 0); d.Before(to.AddDate(1, 0, 0)); d = d.AddDate(0, 0, 1) {
			day := d.Format(survey.DateLayout)
			seen := 0
			for _, pr := range ranges {
				for _, g := range periodsOf(day) {
					if g.grain == pr.grain && g.period >= pr.lo && g.period <= pr.hi {
						seen++
					}
				}
			}
			want := 0
			if !d.Before(f) && !d.After(to) {
				want = 1
			}
			if seen != want {
				t.Fatalf("%s..%s (%v): day %s is read %d times, want %d", f.Format(survey.DateLayout), to.Format(survey.DateLayout), ranges, day, seen, want)
			}
		}
	}
}
