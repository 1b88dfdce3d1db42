package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/papi-hcmc/papi/survey"
)

// Filter selects the responses a summary is computed from.
type Filter struct {
	From, To string // inclusive local days, "YYYY-MM-DD"
	// Communes limits to these communes (the communes credited: visited for
	// service indicators, lived in for locality ones); empty means the
	// whole city.
	Communes []string
	// CentreID limits to visits at one centre when non-zero, credited to
	// the centre's own commune: what its visitors said of the communes
	// they live in is kept per commune only (tallyBatch.add).
	CentreID uint
	// Channels limits to these channels (survey.Channels); empty means all.
	Channels []string
	// VerifiedOnly keeps only responses that carried a valid receipt.
	VerifiedOnly bool
	// IncludeFlagged adds the responses the anomaly checks flagged.
	IncludeFlagged bool
}

// Residents splits visits by where the respondent lives: in the commune
// visited, in another commune of the city, outside the city, or not asked
// (catalogue 2025.1).
type Residents struct {
	Here    int64 `json:"here"`
	Other   int64 `json:"other"`
	Outside int64 `json:"outside"`
	Unknown int64 `json:"unknown"`
}

// Counts are a commune's visits over a period: Responses = Counted +
// Flagged.
type Counts struct {
	// Responses are the visits stored at the commune's centres (or in its
	// households) that match the filter, quarantined ones aside.
	Responses int64 `json:"responses"`
	// Counted are the visits the tallies are built from.
	Counted int64 `json:"counted"`
	// Verified are the counted visits that carried a receipt.
	Verified int64 `json:"verified"`
	// Flagged are the flagged visits left out (0 with IncludeFlagged).
	Flagged int64 `json:"flagged"`
	// Channels counts the counted visits per channel.
	Channels map[string]int64 `json:"channels"`
	// Residents splits the counted visits by residence; the share living
	// in the commune is shown beside its results.
	Residents Residents `json:"residents"`
}

// CommuneTallies are one commune's counts and indicator tallies.
type CommuneTallies struct {
	Counts
	// Modules counts the counted visits that answered each module.
	Modules map[string]int64 `json:"modules"`
	// Indicators are the tallies of the current catalogue's indicators,
	// answers to earlier versions included where they carry over.
	Indicators map[string]survey.Tally `json:"-"`
}

// Tallies are the tallies of a period per commune.
type Tallies struct {
	Communes map[string]CommuneTallies
}

// CommuneData gives each commune's counts and tallies as the survey
// package scores them.
func (t Tallies) CommuneData() map[string]survey.CommuneData {
	out := make(map[string]survey.CommuneData, len(t.Communes))
	for code, ct := range t.Communes {
		out[code] = survey.CommuneData{
			Counts: survey.Counts{Responses: ct.Responses, CountedResponses: ct.Counted, VerifiedResponses: ct.Verified,
				FlaggedResponses: ct.Flagged, Channels: ct.Channels,
				Residence: survey.ResidenceCounts{Here: ct.Residents.Here, Other: ct.Residents.Other, Outside: ct.Residents.Outside, Unknown: ct.Residents.Unknown}},
			Tallies: ct.Indicators,
		}
	}
	return out
}

// Combined merges every commune's tallies (a former province or the whole
// city): the counted and verified visits and the merged indicator tallies.
func (t Tallies) Combined() (responses, verified int64, tallies map[string]survey.Tally) {
	tallies = map[string]survey.Tally{}
	for _, ct := range t.Communes {
		responses += ct.Counted
		verified += ct.Verified
		for id, tl := range ct.Indicators {
			x := tallies[id]
			x.Merge(tl)
			tallies[id] = x
		}
	}
	return responses, verified, tallies
}

// FlaggedTotal is the number of flagged visits left out, over all
// communes.
func (t Tallies) FlaggedTotal() int64 {
	n := int64(0)
	for _, ct := range t.Communes {
		n += ct.Flagged
	}
	return n
}

// periodRange is a span of tally rows of one grain, inclusive.
type periodRange struct{ grain, lo, hi string }

// periodRanges covers [from, to] with whole years, whole months at
// their edges and days at the edges of those: the fewest rows to read.
func periodRanges(from, to string) ([]periodRange, error) {
	f, err := time.Parse(survey.DateLayout, from)
	if err != nil {
		return nil, survey.Invalid("from", "Ngày bắt đầu phải có dạng YYYY-MM-DD.", "from must be a date YYYY-MM-DD.")
	}
	t, err := time.Parse(survey.DateLayout, to)
	if err != nil {
		return nil, survey.Invalid("to", "Ngày kết thúc phải có dạng YYYY-MM-DD.", "to must be a date YYYY-MM-DD.")
	}
	if t.Before(f) {
		return nil, survey.Invalid("to", "Ngày kết thúc phải sau ngày bắt đầu.", "to must not be before from.")
	}
	// First whole month: the month of from if from is its first day, else
	// the next one. Last whole month: the month of to if to is its last day.
	firstMonth := time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, time.UTC)
	if f.Day() != 1 {
		firstMonth = firstMonth.AddDate(0, 1, 0)
	}
	lastMonth := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	if t.AddDate(0, 0, 1).Month() == t.Month() {
		lastMonth = lastMonth.AddDate(0, -1, 0)
	}
	if lastMonth.Before(firstMonth) {
		return []periodRange{{grainDay, from, to}}, nil
	}
	var out []periodRange
	months := func(lo, hi time.Time) {
		if !hi.Before(lo) {
			out = append(out, periodRange{grainMonth, lo.Format("2006-01"), hi.Format("2006-01")})
		}
	}
	// Whole years likewise, within the whole months.
	firstYear, lastYear := firstMonth.Year(), lastMonth.Year()
	if firstMonth.Month() != time.January {
		firstYear++
	}
	if lastMonth.Month() != time.December {
		lastYear--
	}
	if firstYear <= lastYear {
		out = append(out, periodRange{grainYear, fmt.Sprintf("%04d", firstYear), fmt.Sprintf("%04d", lastYear)})
		months(firstMonth, time.Date(firstYear-1, time.December, 1, 0, 0, 0, 0, time.UTC))
		months(time.Date(lastYear+1, time.January, 1, 0, 0, 0, 0, time.UTC), lastMonth)
	} else {
		months(firstMonth, lastMonth)
	}
	if headEnd := firstMonth.AddDate(0, 0, -1); !headEnd.Before(f) {
		out = append(out, periodRange{grainDay, from, headEnd.Format(survey.DateLayout)})
	}
	if tailStart := lastMonth.AddDate(0, 1, 0); !t.Before(tailStart) {
		out = append(out, periodRange{grainDay, tailStart.Format(survey.DateLayout), to})
	}
	return out, nil
}

// communeAcc sums one commune's rows; indicators are addressed by their
// index in the current catalogue, not by a map, on this hot path.
type communeAcc struct {
	counts  Counts
	modules map[string]int64
	ind     []survey.Tally
}

// Tallies reads the tallies of a period per commune: whole years from the
// year rows, whole months from the month rows, ragged edges from the day
// rows, each span with two indexed queries (readCounts, readIndicators).
// Rows of every questionnaire version are mapped onto the current
// catalogue (survey.Catalogue.Carries) and merged.
func (s *Store) Tallies(ctx context.Context, f Filter) (Tallies, error) {
	for _, ch := range f.Channels {
		if !slices.Contains(survey.Channels, ch) {
			return Tallies{}, survey.Invalid("channel", "Kênh trả lời phải là qr, kiosk hoặc household.", "channel must be qr, kiosk or household.")
		}
	}
	ranges, err := periodRanges(f.From, f.To)
	if err != nil {
		return Tallies{}, err
	}
	cur := s.layouts[s.current.Version]
	accs := map[string]*communeAcc{}
	get := func(code string) *communeAcc {
		a := accs[code]
		if a == nil {
			a = &communeAcc{counts: Counts{Channels: map[string]int64{}}, modules: map[string]int64{}, ind: make([]survey.Tally, len(cur.ids))}
			accs[code] = a
		}
		return a
	}
	for _, pr := range ranges {
		if err := s.readCounts(ctx, pr, f, get); err != nil {
			return Tallies{}, fmt.Errorf("read tallies: %w", err)
		}
		if err := s.readIndicators(ctx, pr, f, get); err != nil {
			return Tallies{}, fmt.Errorf("read tallies: %w", err)
		}
	}
	out := Tallies{Communes: make(map[string]CommuneTallies, len(accs))}
	for code, a := range accs {
		ct := CommuneTallies{Counts: a.counts, Modules: a.modules, Indicators: make(map[string]survey.Tally, len(a.ind))}
		for j := range a.ind {
			if a.ind[j].N > 0 {
				ct.Indicators[cur.ids[j]] = a.ind[j]
			}
		}
		out.Communes[code] = ct
	}
	return out, nil
}

// Reading a row costs two or three cgo calls a column (go-sqlite3), which
// at 1,000,000 responses was most of a city year's read. So the counts are
// summed by the database, a few rows per commune, and the rows whose
// packed indicators are decoded here bring three columns, flagged rows
// left out unless asked for (their visits are only counted).

// readCounts adds the visits of one period span to each commune's counts.
func (s *Store) readCounts(ctx context.Context, pr periodRange, f Filter, get func(string) *communeAcc) error {
	rows, err := s.readStmts.queryDB(ctx, s.countsQuery(pr, f))
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		commune, channel  string
		verified, flagged bool
		cnt               counters
	)
	for rows.Next() {
		if err := rows.Scan(&commune, &channel, &verified, &flagged, &cnt.Responses, &cnt.Here, &cnt.Other, &cnt.Outside, &cnt.Unknown); err != nil {
			return err
		}
		a := get(commune)
		a.counts.Responses += cnt.Responses
		if flagged && !f.IncludeFlagged {
			a.counts.Flagged += cnt.Responses
			continue
		}
		a.counts.Counted += cnt.Responses
		if verified {
			a.counts.Verified += cnt.Responses
		}
		if cnt.Responses != 0 {
			a.counts.Channels[channel] += cnt.Responses
		}
		a.counts.Residents.Here += cnt.Here
		a.counts.Residents.Other += cnt.Other
		a.counts.Residents.Outside += cnt.Outside
		a.counts.Residents.Unknown += cnt.Unknown
	}
	return rows.Err()
}

// readIndicators adds the module counts and indicator tallies of one
// period span to each commune's.
func (s *Store) readIndicators(ctx context.Context, pr periodRange, f Filter, get func(string) *communeAcc) error {
	rows, err := s.readStmts.queryDB(ctx, s.indicatorsQuery(pr, f))
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		commune, version string
		data             []byte
	)
	for rows.Next() {
		if err := rows.Scan(&commune, &version, &data); err != nil {
			return err
		}
		l := s.layouts[version]
		if l == nil {
			return fmt.Errorf("tallies of questionnaire version %s, which this build does not know", version)
		}
		a := get(commune)
		err := readPacked(data, len(l.ids), len(l.modules),
			func(i int, n int64) { a.modules[l.modules[i]] += n },
			func(e *packedEntry) {
				j := l.current[e.index]
				if j < 0 {
					return
				}
				t := &a.ind[j]
				t.N += float64(e.n)
				t.W += e.w
				t.W2 += e.w2
				t.Sum += e.sum
				t.SumSq += e.sumSq
				if len(e.hist) > 0 && t.Hist == nil {
					// Sized for a year of months with some values in
					// common, to spare the map's growth steps.
					t.Hist = make(map[float64]float64, 4*len(e.hist))
				}
				for _, h := range e.hist {
					t.Hist[h.value] += h.weight
				}
			})
		if err != nil {
			return fmt.Errorf("tally of %s: %w", commune, err)
		}
	}
	return rows.Err()
}

// The delta rows not yet folded (see tallydelta.go) count as well: each
// query reads the tallies and the delta rows in one statement, arm after
// arm (UNION ALL), so both are seen in one snapshot and no fold in
// between loses or doubles a row; the callers add the arms' rows up. The
// arms stay at the top level: under a union in a subquery, SQLite passed
// every tally row through a co-routine, and the city's year at 1,000,000
// responses took 28.1–28.7 ms instead of 22.8–25.3 (BenchmarkCompare).

// countsQuery sums the visits of one period span per commune, channel,
// verified and flagged.
func (s *Store) countsQuery(pr periodRange, f Filter) *query {
	sum := "SUM(%s)"
	if s.postgres {
		sum = "SUM(%s)::bigint" // numeric otherwise
	}
	sel := "SELECT commune_code, channel, verified, flagged"
	for _, col := range [5]string{"responses", "resident_here", "resident_other", "resident_outside", "resident_unknown"} {
		sel += ", " + fmt.Sprintf(sum, col)
	}
	q := newQuery(s.postgres)
	q.arms(pr, f, sel, func() { q.WriteString(" GROUP BY commune_code, channel, verified, flagged") })
	return q
}

// indicatorsQuery reads the packed indicators of one period span.
func (s *Store) indicatorsQuery(pr periodRange, f Filter) *query {
	q := newQuery(s.postgres)
	q.arms(pr, f, "SELECT commune_code, questionnaire_version, data", func() {
		if !f.IncludeFlagged {
			q.WriteString(" AND flagged = ")
			q.arg(false)
		}
	})
	return q
}

// arms writes sel from the tallies, then UNION ALL sel from the delta
// rows, each arm with the rows of one period span the filter keeps and
// then what tail writes.
func (q *query) arms(pr periodRange, f Filter, sel string, tail func()) {
	for _, deltas := range []bool{false, true} {
		if deltas {
			q.WriteString(" UNION ALL ")
		}
		q.WriteString(sel)
		q.from(f, deltas)
		q.where(pr, f, deltas)
		tail()
	}
}

// from names the tallies or the delta rows. SQLite's tallies are
// clustered by grain and period (migration 13); for some communes its
// planner would rather scan the period there than look the communes up in
// their index, which is many times slower, so it is told which index to
// use.
func (q *query) from(f Filter, deltas bool) {
	switch {
	case deltas:
		q.WriteString(" FROM tally_deltas")
	case !q.pg && len(f.Communes) > 0:
		q.WriteString(" FROM tallies INDEXED BY idx_tallies_commune")
	default:
		q.WriteString(" FROM tallies")
	}
}

// where selects the rows of one period span that the filter keeps. Delta
// rows are of the day grain, each standing for its month and year as
// well.
func (q *query) where(pr periodRange, f Filter, deltas bool) {
	period, grain := "period", pr.grain
	if deltas {
		grain = grainDay
		switch pr.grain {
		case grainMonth:
			period = "substr(period, 1, 7)"
		case grainYear:
			period = "substr(period, 1, 4)"
		}
	}
	q.WriteString(" WHERE grain = ")
	q.arg(grain)
	q.WriteString(" AND " + period + " >= ")
	q.arg(pr.lo)
	q.WriteString(" AND " + period + " <= ")
	q.arg(pr.hi)
	q.in("commune_code", f.Communes)
	if f.CentreID != 0 {
		q.WriteString(" AND centre_id = ")
		q.arg(int64(f.CentreID))
	}
	q.in("channel", f.Channels)
	if f.VerifiedOnly {
		q.WriteString(" AND verified = ")
		q.arg(true)
	}
}

// in adds "AND col IN (…)" for a non-empty list.
func (q *query) in(col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	q.WriteString(" AND " + col + " IN (")
	for i, v := range vals {
		if i > 0 {
			q.WriteString(", ")
		}
		q.arg(v)
	}
	q.WriteString(")")
}
