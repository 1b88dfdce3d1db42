package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/papi-hcmc/papi/survey"
)

// screen runs the anomaly checks (survey.Screen) on every item of a batch
// that has a centre, receipt-verified ones included: a verified answer that
// trips a check is flagged for review, not dropped. Recent traffic is
// counted over the responses at the batch's centres in the hour before
// each item (the stored ones: from phoneMemory on SQLite, else with a
// query per kind of count and run of items, see screenKind and batches),
// plus the items before it in the batch, which are not stored yet.
func (s *Store) screen(ctx context.Context, pool gorm.ConnPool, items []*item) error {
	window := max(survey.DuplicateWindow, survey.BurstWindow)
	var todo []*item
	for _, it := range items {
		// A household interview has no centre and no queue: an enumerator
		// visits homes at any hour. Nothing to screen.
		if !it.done && it.row.CentreID != 0 {
			todo = append(todo, it)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	// On SQLite the memory counts a phone answer's stored neighbours,
	// when it can; the database counts the rest, with a query per kind of
	// count (screenKind), so that each asks only what can count: on
	// PostgreSQL a query with every count for every item had taken as
	// long as the responses insert.
	var memory bool
	if !s.postgres {
		var err error
		if memory, err = s.phones.sync(ctx, s.stmts, pool, s.now()); err != nil {
			return err
		}
	}
	counts := make([]screenCounts, len(todo))
	known := make([]int64, len(todo))
	var byKind [screenKinds][]int // indexes into todo
	for j, it := range todo {
		if it.row.KioskID == nil {
			if memory {
				var ok bool
				if counts[j], ok = s.phones.count(it.row.CentreID, it.row.Fingerprint, it.row.CreatedAt); ok {
					continue
				}
			}
			// What the database would count of a phone answer's burst is
			// skipped when it cannot matter: a verified answer is never a
			// burst, and a centre already known to be over the limit
			// (burstMemory) stays so.
			at := it.row.CreatedAt
			known[j] = s.bursts.count(it.row.CentreID, at.Add(-survey.BurstWindow), at)
			it.skipBurst = it.row.Verified || known[j] >= survey.BurstLimit
			if it.skipBurst {
				s.bursts.skips.Add(1)
			}
		}
		k := kindOf(it)
		byKind[k] = append(byKind[k], j)
	}
	for kind, group := range byKind {
		for _, run := range batches(s.postgres, group) {
			asked := make([]*item, len(run))
			for k, j := range run {
				asked[k] = todo[j]
			}
			found, err := s.countRecent(ctx, pool, screenKind(kind), asked)
			if err != nil {
				return err
			}
			for k, j := range run {
				counts[j] = found[k]
			}
		}
	}
	for j, it := range todo {
		c := counts[j]
		c.recent = max(c.recent, known[j])
		at := it.row.CreatedAt
		kiosk := it.row.KioskID
		busy := survey.KioskBusySince(it.at, it.duration)
		for _, e := range todo[:j] {
			if e.row.CentreID != it.row.CentreID || e.row.CreatedAt.After(at) || !e.row.CreatedAt.After(at.Add(-window)) {
				continue
			}
			// A kiosk's answers count against its own device only, a
			// phone's against the centre's phones only.
			if (kiosk == nil) != (e.row.KioskID == nil) || kiosk != nil && *kiosk != *e.row.KioskID {
				continue
			}
			inBurst := e.row.CreatedAt.After(at.Add(-survey.BurstWindow))
			if inBurst && (kiosk != nil || !e.row.Verified) {
				c.recent++
			}
			if e.row.Fingerprint == it.row.Fingerprint {
				c.same++
			}
			if kiosk != nil && e.at.After(busy) {
				c.overlapping++
			}
		}
		in := survey.ScreenInput{At: at, DurationMS: it.duration, Answered: len(it.visit.Answers), Verified: it.row.Verified, SameAnswers: c.same}
		if kiosk != nil {
			in.Kiosk, in.DeviceRecent, in.DeviceOverlapping = true, c.recent, c.overlapping
		} else {
			in.RecentAtCentre = c.recent
		}
		it.flags = append(it.flags, survey.Screen(in)...)
	}
	return nil
}

// screenCounts are an item's stored neighbours: answers at its centre (or
// device) in the burst window, the same answers in the duplicate window,
// and a kiosk's answers overlapping the time its respondent was busy.
type screenCounts struct{ recent, same, overlapping int64 }

// screenKind is what the database counts of an item's stored neighbours.
type screenKind int

const (
	// phoneCounts: the unverified phone answers at the centre in the
	// burst window, and the identical ones in the duplicate window.
	phoneCounts screenKind = iota
	// phoneSameCounts: the identical ones only; the burst cannot change
	// the outcome (item.skipBurst).
	phoneSameCounts
	// kioskCounts: the device's answers in the burst window, its
	// identical ones, and one overlapping the respondent's time.
	kioskCounts
	screenKinds = iota
)

func kindOf(it *item) screenKind {
	switch {
	case it.row.KioskID != nil:
		return kioskCounts
	case it.skipBurst:
		return phoneSameCounts
	}
	return phoneCounts
}

// countRecent counts the stored neighbours of items, all of one kind (one
// run, see batches), with one query, in the items' order.
func (s *Store) countRecent(ctx context.Context, pool gorm.ConnPool, kind screenKind, items []*item) ([]screenCounts, error) {
	rows, err := s.stmts.query(ctx, pool, s.screenQuery(kind, items))
	if err != nil {
		return nil, fmt.Errorf("screen responses: %w", err)
	}
	defer rows.Close()
	out := make([]screenCounts, len(items))
	for rows.Next() {
		var i int64
		var c screenCounts
		if err := rows.Scan(&i, &c.recent, &c.same, &c.overlapping); err != nil {
			return nil, fmt.Errorf("screen responses: %w", err)
		}
		if i >= 0 && int(i) < len(out) {
			out[i] = c
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("screen responses: %w", err)
	}
	return out, nil
}

// screenQuery builds countRecent's query: one row of counts per item, (i,
// recent, same, overlapping).
func (s *Store) screenQuery(kind screenKind, items []*item) *query {
	window := max(survey.DuplicateWindow, survey.BurstWindow)
	n := len(items)
	var (
		idx, who            = make([]int64, n), make([]int64, n) // who: the centre, or the kiosk
		lo, burst, hi, busy = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		fingerprints        = make([]string, n)
	)
	for i, it := range items {
		at := it.row.CreatedAt
		idx[i], who[i], fingerprints[i] = int64(i), int64(it.row.CentreID), it.row.Fingerprint
		if kind == kioskCounts {
			who[i] = int64(*it.row.KioskID)
		}
		lo[i], burst[i], hi[i], busy[i] = at.Add(-window), at.Add(-survey.BurstWindow), at, survey.KioskBusySince(it.at, it.duration)
	}
	q := newQuery(s.postgres)
	q.WriteString("WITH w(i, who, lo, burst, hi, fp, busy) AS (")
	if s.postgres {
		q.unnest([]string{"bigint", "bigint", "timestamptz", "timestamptz", "timestamptz", "varchar", "timestamptz"},
			idx, who, lo, burst, hi, fingerprints, busy)
	} else {
		q.WriteString("VALUES ")
		for i := range items {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(")
			for j, v := range [7]any{idx[i], who[i], lo[i], burst[i], hi[i], fingerprints[i], busy[i]} {
				if j > 0 {
					q.WriteString(", ")
				}
				q.arg(v)
			}
			q.WriteString(")")
		}
	}
	// Each count stops at its rule's limit: Screen only asks whether it is
	// reached, and a centre under a flood (or a load test) would otherwise
	// make every submission count thousands of rows. A phone's answers are
	// counted among the centre's other phones (kiosk_id IS NULL), reading
	// the index (centre, created_at, verified, fingerprint, kiosk_id)
	// alone; it holds answers at a centre only, and the query says
	// centre_id > 0 for the planner to use it. On PostgreSQL the identical
	// ones are looked up in (centre, fingerprint, created_at) (migration
	// 18). A kiosk's answers are counted among its own device's, on the
	// partial kiosk index.
	count := func(where string, limit int) string {
		return "(SELECT COUNT(*) FROM (SELECT 1 FROM responses r WHERE " + where + " LIMIT " + strconv.Itoa(limit) + ") x)"
	}
	const (
		phone     = "r.centre_id = w.who AND r.centre_id > 0 AND r.kiosk_id IS NULL"
		kiosk     = "r.kiosk_id = w.who"
		identical = " AND r.fingerprint = w.fp AND r.created_at > w.lo AND r.created_at <= w.hi"
	)
	recent, overlapping := "0", "0"
	switch kind {
	case phoneCounts:
		recent = count(phone+" AND r.created_at > w.burst AND r.created_at <= w.hi AND NOT r.verified", survey.BurstLimit)
	case kioskCounts:
		recent = count(kiosk+" AND r.created_at > w.burst AND r.created_at <= w.hi", survey.KioskBurstLimit)
		overlapping = count(kiosk+" AND r.created_at > w.busy AND r.created_at <= w.hi", 1)
	}
	same := count(phone+identical, survey.DuplicateLimit)
	if kind == kioskCounts {
		same = count(kiosk+identical, survey.DuplicateLimit)
	}
	q.WriteString(") SELECT w.i, " + recent + ", " + same + ", " + overlapping + " FROM w")
	return q
}

// burstMemory keeps, per centre, the stored times of the last BurstLimit
// unverified phone answers this process committed. At least those are in
// the database, so once BurstLimit of them fall in an answer's burst
// window the centre is over the limit, and screening does not count the
// centre's rows again: under a flood every answer had counted 30 of them
// (on PostgreSQL each a fresh row checked against the table, about half
// of the screening query's time). Answers committed by another process or
// writer are missing here, which keeps it a lower bound: below the limit
// the database counts as before.
type burstMemory struct {
	mu    sync.Mutex
	times map[uint][]time.Time // per centre, oldest first, at most survey.BurstLimit
	// off makes count return 0 and skips count the counts left out, for
	// the test that compares screening with and without the memory.
	off   bool
	skips atomic.Int64
}

// count is how many remembered answers at centre fall in (lo, hi].
func (m *burstMemory) count(centre uint, lo, hi time.Time) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.off {
		return 0
	}
	n := int64(0)
	for _, t := range m.times[centre] {
		if t.After(lo) && !t.After(hi) {
			n++
		}
	}
	return n
}

// remember adds the unverified phone answers of a committed batch.
func (m *burstMemory) remember(items []*item, out []Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, it := range items {
		r := &it.row
		if r.CentreID == 0 || r.KioskID != nil || r.Verified || !out[it.index].Created || out[it.index].Err != nil {
			continue
		}
		if m.times == nil {
			m.times = map[uint][]time.Time{}
		}
		ts := m.times[r.CentreID]
		i, _ := slices.BinarySearchFunc(ts, r.CreatedAt, func(a, b time.Time) int { return a.Compare(b) })
		ts = slices.Insert(ts, i, r.CreatedAt)
		if len(ts) > survey.BurstLimit {
			ts = ts[len(ts)-survey.BurstLimit:]
		}
		m.times[r.CentreID] = ts
	}
}
