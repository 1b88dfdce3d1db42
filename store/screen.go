package store

import (
	"context"
	"fmt"
	"strconv"

	"gorm.io/gorm"

	"github.com/papi-hcmc/papi/survey"
)

// screen runs the anomaly checks (survey.Screen) on every item of a batch
// that has a centre, receipt-verified ones included: a verified answer that
// trips a check is flagged for review, not dropped. Recent traffic is
// counted for the whole batch with one query over the responses at the
// batch's centres in the hour before each item (the stored ones), plus the
// items before it in the batch, which are not stored yet.
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
	type counts struct{ recent, same int64 }
	found := make([]counts, len(todo))
	q := newQuery(s.postgres)
	q.WriteString("WITH w(i, c, lo, burst, hi, fp) AS (VALUES ")
	for i, it := range todo {
		if i > 0 {
			q.WriteString(", ")
		}
		at := it.row.CreatedAt
		q.WriteString("(")
		for j, v := range []any{int64(i), int64(it.row.CentreID), at.Add(-window), at.Add(-survey.BurstWindow), at, it.row.Fingerprint} {
			if j > 0 {
				q.WriteString(", ")
			}
			q.arg(v)
			if s.postgres {
				q.WriteString([]string{"::bigint", "::bigint", "::timestamptz", "::timestamptz", "::timestamptz", "::varchar"}[j])
			}
		}
		q.WriteString(")")
	}
	// Each count stops at its rule's limit: Screen only asks whether it is
	// reached, and a centre under a flood (or a load test) would otherwise
	// make every submission count thousands of rows. Both counts read the
	// index (centre, created_at, verified, fingerprint) alone.
	q.WriteString(") SELECT w.i, (SELECT COUNT(*) FROM (SELECT 1 FROM responses r WHERE r.centre_id = w.c AND r.created_at > w.burst AND r.created_at <= w.hi AND NOT r.verified LIMIT ")
	q.WriteString(strconv.Itoa(survey.BurstLimit))
	q.WriteString(") b), (SELECT COUNT(*) FROM (SELECT 1 FROM responses r WHERE r.centre_id = w.c AND r.fingerprint = w.fp AND r.created_at > w.lo AND r.created_at <= w.hi LIMIT ")
	q.WriteString(strconv.Itoa(survey.DuplicateLimit))
	q.WriteString(") d) FROM w")
	rows, err := pool.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return fmt.Errorf("screen responses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int64
		var c counts
		if err := rows.Scan(&i, &c.recent, &c.same); err != nil {
			return fmt.Errorf("screen responses: %w", err)
		}
		if i >= 0 && int(i) < len(found) {
			found[i] = c
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("screen responses: %w", err)
	}
	for j, it := range todo {
		c := found[j]
		at := it.row.CreatedAt
		for _, e := range todo[:j] {
			if e.row.CentreID != it.row.CentreID || e.row.CreatedAt.After(at) || !e.row.CreatedAt.After(at.Add(-window)) {
				continue
			}
			if !e.row.Verified && e.row.CreatedAt.After(at.Add(-survey.BurstWindow)) {
				c.recent++
			}
			if e.row.Fingerprint == it.row.Fingerprint {
				c.same++
			}
		}
		it.flags = append(it.flags, survey.Screen(survey.ScreenInput{
			At: at, DurationMS: it.duration, Answered: len(it.visit.Answers), Verified: it.row.Verified,
			RecentAtCentre: c.recent, SameAnswers: c.same,
		})...)
	}
	return nil
}
