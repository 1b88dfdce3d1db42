package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/papi-hcmc/papi/survey"
)

// Screening counts, for each answer from a phone, the centre's unverified
// phone answers in the burst window before it (survey.BurstLimit) and the
// identical answer sets in the hour before it (survey.DuplicateLimit). The
// database counts them from the (centre, time, …) index, the identical
// ones by reading every row of the centre's hour: under load the query
// took a sixth of the SQLite writer's time. On SQLite, where one writer
// connection does all of this process's writing, phoneMemory keeps the
// last hour's phone answers in memory, and a phone answer it can count
// for is not sent to the database at all.
//
// Unlike burstMemory it is exact, not a lower bound, so it must hold every
// such row of the hour it answers for:
//   - It is filled from the database when first needed.
//   - It takes a batch's rows once the batch has committed, before any
//     other batch screens (Store.intakeMu), and notes the highest id
//     stored.
//   - Rows are only ever added, with ids that only grow (AUTOINCREMENT),
//     and a write transaction has the database to itself. So when a batch
//     finds rows above the highest id it knows, another connection (papi
//     import, another process) stored them, and it reads just those.
//     (SQLite's data_version had told of other connections too, but also
//     changed at every WAL checkpoint, and refilling then cost more than
//     the memory saved.)
//   - It answers only for windows after the time it is complete from.
//   - It holds at most phoneCap rows. A flood past that makes it
//     stand aside for an hour, and the database counts.
type phoneMemory struct {
	mu       sync.Mutex
	valid    bool
	lastID   int64               // the highest response id the memory has seen
	from     time.Time           // complete for answers created after from
	centres  map[uint][]phoneRow // per centre, in the order stored
	rows     int
	offUntil time.Time
	// off makes the database count every time, for the tests that compare.
	off bool
	// answered counts the counts the memory gave (a test checks that it
	// is used).
	answered atomic.Int64
}

// phoneRow is what screening needs of a stored phone answer.
type phoneRow struct {
	fingerprint string
	at          int64 // created_at in Unix nanoseconds, cheaper to compare
	verified    bool
}

// phoneCap bounds the memory: 200,000 rows of about 60 bytes, an hour of
// a city ten times busier than Ho Chi Minh City's centres.
const phoneCap = 200_000

// phoneSlack widens the hour the memory holds: an answer's time is
// kept to the minute and its window starts an hour before that, a little
// earlier than an hour before now.
const phoneSlack = 5 * time.Minute

// sync makes the memory current for a batch inside its transaction on the
// writer connection (pool) and says whether it can answer.
func (m *phoneMemory) sync(ctx context.Context, stmts *stmtCache, pool gorm.ConnPool, now time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.off || now.Before(m.offUntil) {
		return false, nil
	}
	// Prepared once (stmtCache): through GORM it was prepared again in
	// every transaction, at 90 µs a batch.
	q := newQuery(false)
	q.WriteString("SELECT COALESCE(MAX(id), 0) FROM responses")
	rows, err := stmts.query(ctx, pool, q)
	if err != nil {
		return false, fmt.Errorf("read the last response id: %w", err)
	}
	var maxID int64
	if rows.Next() {
		err = rows.Scan(&maxID)
	}
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return false, fmt.Errorf("read the last response id: %w", err)
	}
	switch {
	case m.valid && maxID == m.lastID:
	case m.valid && maxID > m.lastID:
		if err := m.catchUp(ctx, pool, now); err != nil {
			return false, err
		}
	default:
		if err := m.fill(ctx, pool, now); err != nil {
			return false, err
		}
	}
	m.lastID = maxID
	return m.valid, nil
}

// windowStart is where the memory's hour starts before now, in UTC, as
// stored: SQLite compares the times as text.
func windowStart(now time.Time) time.Time {
	return now.Add(-survey.DuplicateWindow - phoneSlack).UTC()
}

// fill reads the phone answers of the last hour, centre by centre on the
// (centre, time, …) index.
func (m *phoneMemory) fill(ctx context.Context, pool gorm.ConnPool, now time.Time) error {
	m.valid, m.centres, m.rows = false, map[uint][]phoneRow{}, 0
	from := windowStart(now)
	ids, err := pool.QueryContext(ctx, "SELECT id FROM centres ORDER BY id")
	if err != nil {
		return fmt.Errorf("list centres: %w", err)
	}
	var centres []uint
	for ids.Next() {
		var id int64
		if err := ids.Scan(&id); err != nil {
			ids.Close()
			return fmt.Errorf("list centres: %w", err)
		}
		centres = append(centres, uint(id))
	}
	ids.Close()
	if err := ids.Err(); err != nil {
		return fmt.Errorf("list centres: %w", err)
	}
	for _, c := range centres {
		full, err := m.read(ctx, pool, now, "centre_id = ? AND created_at > ?", int64(c), from)
		if err != nil || full {
			return err
		}
	}
	m.valid, m.from = true, from
	return nil
}

// catchUp reads the phone answers another connection stored since the
// memory last looked, by id.
func (m *phoneMemory) catchUp(ctx context.Context, pool gorm.ConnPool, now time.Time) error {
	// ORDER BY id has SQLite take the rowid range; without it, it scanned
	// the (centre, time, …) index whole.
	_, err := m.read(ctx, pool, now, "id > ? AND created_at > ? ORDER BY id", m.lastID, m.from)
	return err
}

// read adds the phone answers at centres that the rest of the WHERE
// clause, where (on args), keeps, and stands aside, saying so, when that
// makes the memory full. Times in args are in UTC, as stored: SQLite
// compares them as text.
func (m *phoneMemory) read(ctx context.Context, pool gorm.ConnPool, now time.Time, where string, args ...any) (full bool, err error) {
	rows, err := pool.QueryContext(ctx, "SELECT centre_id, fingerprint, created_at, verified FROM responses WHERE centre_id > 0 AND kiosk_id IS NULL AND "+where, args...)
	if err != nil {
		return false, fmt.Errorf("read recent phone answers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var centre int64
		var fp *string
		var at time.Time
		var r phoneRow
		if err := rows.Scan(&centre, &fp, &at, &r.verified); err != nil {
			return false, fmt.Errorf("read recent phone answers: %w", err)
		}
		if fp != nil {
			r.fingerprint = *fp
		}
		r.at = at.UnixNano()
		m.centres[uint(centre)] = append(m.centres[uint(centre)], r)
		m.rows++
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("read recent phone answers: %w", err)
	}
	if m.rows > phoneCap {
		m.standAside(now)
		return true, nil
	}
	return false, nil
}

// standAside drops the memory for an hour.
func (m *phoneMemory) standAside(now time.Time) {
	m.valid, m.centres, m.rows = false, nil, 0
	m.offUntil = now.Add(survey.DuplicateWindow)
}

// count is what the database would count of a phone answer at centre,
// with fingerprint fp, created at: the unverified phone answers stored in
// the burst window before it, up to survey.BurstLimit, and the identical
// ones in the duplicate window, up to survey.DuplicateLimit. It says
// whether the memory knows (it must have been synced for this batch).
func (m *phoneMemory) count(centre uint, fp string, at time.Time) (screenCounts, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	window := max(survey.DuplicateWindow, survey.BurstWindow)
	if !m.valid || at.Add(-window).Before(m.from) {
		return screenCounts{}, false
	}
	hi := at.UnixNano()
	burst, same := at.Add(-survey.BurstWindow).UnixNano(), at.Add(-survey.DuplicateWindow).UnixNano()
	var c screenCounts
	for _, r := range m.centres[centre] {
		if r.at > hi {
			continue
		}
		if r.at > burst && !r.verified {
			c.recent++
		}
		if r.at > same && r.fingerprint == fp {
			c.same++
		}
	}
	c.recent, c.same = min(c.recent, survey.BurstLimit), min(c.same, survey.DuplicateLimit)
	m.answered.Add(1)
	return c, true
}

// remember adds a committed batch's phone answers at centres, and forgets
// the ones older than the window before now.
func (m *phoneMemory) remember(items []*item, out []Result, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.valid {
		return
	}
	if cutoff := windowStart(now); cutoff.After(m.from) {
		m.from = cutoff
	}
	for _, it := range items {
		r, res := &it.row, out[it.index]
		if !res.Created || res.Err != nil {
			continue
		}
		m.lastID = max(m.lastID, int64(res.ID))
		if r.CentreID == 0 || r.KioskID != nil || !r.CreatedAt.After(m.from) {
			continue
		}
		rows := m.centres[r.CentreID]
		// Rows come in about the order of their times: the old ones are
		// at the front.
		from, drop := m.from.UnixNano(), 0
		for drop < len(rows) && rows[drop].at <= from {
			drop++
		}
		m.rows -= drop
		m.centres[r.CentreID] = append(rows[drop:], phoneRow{fingerprint: r.Fingerprint, at: r.CreatedAt.UnixNano(), verified: r.Verified})
		m.rows++
	}
	if m.rows > phoneCap {
		m.standAside(now)
	}
}
