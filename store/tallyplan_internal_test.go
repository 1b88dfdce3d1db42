package store

import (
	"strings"
	"testing"

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
	year := periodRange{grainMonth, "2025-01", "2025-12"}
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
		{"city counts", st.countsQuery(year, city), "SEARCH tallies USING PRIMARY KEY (grain=? AND period>? AND period<?)"},
		{"city indicators", st.indicatorsQuery(year, city), "SEARCH tallies USING PRIMARY KEY (grain=? AND period>? AND period<?)"},
		{"commune counts", st.countsQuery(year, commune), "SEARCH tallies USING INDEX idx_tallies_commune (commune_code=? AND grain=? AND period>? AND period<?)"},
		{"commune indicators", st.indicatorsQuery(year, commune), "SEARCH tallies USING INDEX idx_tallies_commune (commune_code=? AND grain=? AND period>? AND period<?)"},
		{"delete", del, "SEARCH tallies USING"},
	} {
		got := queryPlan(t, st, c.q)
		if !strings.Contains(got, c.want) || strings.Contains(got, "SCAN tallies") {
			t.Errorf("%s: want %q and no scan of the tallies; the plan is:\n%s", c.name, c.want, got)
		}
	}
}
