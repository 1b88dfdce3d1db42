package store

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/papi-hcmc/papi/survey"
)

// RecomputeReport says what papi recompute found.
type RecomputeReport struct {
	Responses int64 `json:"responses"`
	// Counted are the responses in the tallies (all but quarantined ones).
	Counted int64 `json:"counted"`
	// Mismatches are the tally rows that differed from the rebuilt ones
	// (or had no counterpart) and were replaced.
	Mismatches int `json:"mismatches"`
	Months     int `json:"months"`
	// Years are the years whose rows were rolled up from the months.
	Years int `json:"years"`
}

// Recompute rebuilds the tallies from the raw responses, the source of
// truth, month by month: it streams a month's responses in day order (an
// index on day), builds its day and month rows in memory, compares them
// with the stored rows and replaces only those that differ. Each month is
// one transaction, so memory stays bounded by one month's rows whatever
// the number of responses, and intake waits at most one month's work.
// The year rows are then rolled up from the month rows, a year and a
// commune at a time (rollUpYear). On PostgreSQL each transaction locks
// the tallies and their delta rows against writers, so another papi
// process's submissions land before or after it, never lost.
func (s *Store) Recompute(ctx context.Context) (RecomputeReport, error) {
	var rep RecomputeReport
	months, err := s.tallyMonths(ctx, s.db.WithContext(ctx))
	if err != nil {
		return rep, err
	}
	for _, m := range months {
		err := s.rewriteTallies(ctx, func(tx *gorm.DB) error { return s.recomputeMonth(ctx, tx, m, &rep) })
		if err != nil {
			return rep, fmt.Errorf("recompute %s: %w", m, err)
		}
	}
	years, err := s.tallyYears(ctx, s.db.WithContext(ctx), months)
	if err != nil {
		return rep, err
	}
	for _, y := range years {
		err := s.rewriteTallies(ctx, func(tx *gorm.DB) error { return s.rollUpYear(ctx, tx, y, &rep) })
		if err != nil {
			return rep, fmt.Errorf("recompute %s: %w", y, err)
		}
	}
	return rep, nil
}

// rewriteTallies runs fn in a transaction that has the tallies to itself
// with every delta row folded, for fn to compare rows whole.
func (s *Store) rewriteTallies(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.postgres {
			// The delta rows first, as folds take them, so the two never
			// wait on each other. (SQLite's transaction holds the write
			// lock since BEGIN.)
			if err := tx.Exec("LOCK TABLE tally_deltas IN EXCLUSIVE MODE").Error; err != nil {
				return fmt.Errorf("lock tally deltas: %w", err)
			}
			if err := tx.Exec("LOCK TABLE tallies IN EXCLUSIVE MODE").Error; err != nil {
				return fmt.Errorf("lock tallies: %w", err)
			}
		}
		if err := s.foldAll(ctx, tx); err != nil {
			return err
		}
		return fn(tx)
	})
}

// rebuildAll is Recompute inside one transaction (the migration that
// creates the tallies).
func (s *Store) rebuildAll(ctx context.Context, tx *gorm.DB) (RecomputeReport, error) {
	var rep RecomputeReport
	months, err := s.tallyMonths(ctx, tx)
	if err != nil {
		return rep, err
	}
	for _, m := range months {
		if err := s.recomputeMonth(ctx, tx, m, &rep); err != nil {
			return rep, fmt.Errorf("rebuild tallies of %s: %w", m, err)
		}
	}
	return rep, s.rollUpYears(ctx, tx, months, &rep)
}

// rollUpYears rolls up every year of months, and of the year rows
// stored, inside tx.
func (s *Store) rollUpYears(ctx context.Context, tx *gorm.DB, months []string, rep *RecomputeReport) error {
	years, err := s.tallyYears(ctx, tx, months)
	if err != nil {
		return err
	}
	for _, y := range years {
		if err := s.rollUpYear(ctx, tx, y, rep); err != nil {
			return fmt.Errorf("roll up tallies of %s: %w", y, err)
		}
	}
	return nil
}

// tallyYears lists the years ("YYYY") of months and of the year rows
// stored (a year row left where no month is gets deleted).
func (s *Store) tallyYears(ctx context.Context, db *gorm.DB, months []string) ([]string, error) {
	var years []string
	if err := db.WithContext(ctx).Raw("SELECT DISTINCT period FROM tallies WHERE grain = ?", grainYear).Scan(&years).Error; err != nil {
		return nil, fmt.Errorf("read tally years: %w", err)
	}
	for _, m := range months {
		years = append(years, m[:4])
	}
	slices.Sort(years)
	return slices.Compact(years), nil
}

// tallyMonths lists the months ("YYYY-MM") that have responses or tally
// rows.
func (s *Store) tallyMonths(ctx context.Context, db *gorm.DB) ([]string, error) {
	var span struct{ Lo, Hi *string }
	if err := db.Raw("SELECT MIN(day) AS lo, MAX(day) AS hi FROM responses").Scan(&span).Error; err != nil {
		return nil, fmt.Errorf("read response days: %w", err)
	}
	var months []string
	if err := db.Raw("SELECT DISTINCT period FROM tallies WHERE grain = ?", grainMonth).Scan(&months).Error; err != nil {
		return nil, fmt.Errorf("read tally months: %w", err)
	}
	if span.Lo != nil && span.Hi != nil && len(*span.Lo) >= 7 && len(*span.Hi) >= 7 {
		m, err := time.Parse("2006-01", (*span.Lo)[:7])
		if err != nil {
			return nil, fmt.Errorf("read response days: %q is not a day", *span.Lo)
		}
		for ; m.Format("2006-01") <= (*span.Hi)[:7]; m = m.AddDate(0, 1, 0) {
			months = append(months, m.Format("2006-01"))
		}
	}
	slices.Sort(months)
	return slices.Compact(months), nil
}

// recomputeMonth rebuilds one month's rows inside tx (see Recompute).
func (s *Store) recomputeMonth(ctx context.Context, tx *gorm.DB, month string, rep *RecomputeReport) error {
	pool := tx.Statement.ConnPool
	rebuilt := map[tallyKey]tallyRow{}
	batch := s.newMonthBatch()
	defer batch.release()
	// settle packs the cells of one grain and frees them (at the end of
	// the month).
	settle := func(grain string) {
		for k, c := range batch.cells {
			if k.grain != grain {
				continue
			}
			if !c.empty() {
				rebuilt[k] = tallyRow{key: k, cnt: c.counters, data: c.encode(nil)}
			}
			c.release()
			delete(batch.cells, k)
		}
	}
	q := newQuery(s.postgres)
	q.WriteString("SELECT centre_id, commune_code, day, questionnaire_version, modules, answers, verified, status, channel, residence, residence_commune, probs FROM responses WHERE day >= ")
	q.arg(month + "-01")
	q.WriteString(" AND day <= ")
	q.arg(month + "-31")
	q.WriteString(" ORDER BY day")
	rows, err := pool.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return fmt.Errorf("read responses: %w", err)
	}
	// Parsing answers and crediting them costs more than reading them, so
	// workers do it on chunks of rows while this goroutine reads; their
	// results are merged in reading order, so that when a chunk is merged
	// every day before its last one is complete and can be packed.
	work := make(chan *recomputeChunk, recomputeWorkers)
	var wg sync.WaitGroup
	for range recomputeWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				c.run(s)
			}
		}()
	}
	var pending []*recomputeChunk
	var mergeErr error
	merge := func(c *recomputeChunk) {
		<-c.done
		if c.err != nil && mergeErr == nil {
			mergeErr = c.err
		}
		rep.Responses += int64(len(c.rows))
		rep.Counted += c.counted
		for k, cl := range c.batch.cells {
			if have := batch.cells[k]; have != nil {
				have.merge(cl)
				cl.release()
			} else {
				batch.cells[k] = cl
			}
		}
		clear(c.batch.cells)
		if n := len(c.rows); n > 0 {
			lastDay := c.rows[n-1].Day
			for k, cl := range batch.cells {
				if k.grain == grainDay && k.period < lastDay {
					if !cl.empty() {
						rebuilt[k] = tallyRow{key: k, cnt: cl.counters, data: cl.encode(nil)}
					}
					cl.release()
					delete(batch.cells, k)
				}
			}
		}
	}
	var readErr error
	cur := &recomputeChunk{done: make(chan struct{})}
	for rows.Next() {
		var r responseRow
		var centre int64
		var answers []byte
		if readErr = rows.Scan(&centre, &r.CommuneCode, &r.Day, &r.QuestionnaireVersion, &r.Modules, &answers, &r.Verified, &r.Status,
			&r.Channel, &r.Residence, &r.ResidenceCommune, &r.Probs); readErr != nil {
			break
		}
		r.CentreID = uint(centre)
		r.Answers = string(answers)
		cur.rows = append(cur.rows, r)
		if len(cur.rows) == recomputeChunkSize {
			work <- cur
			pending = append(pending, cur)
			cur = &recomputeChunk{done: make(chan struct{})}
			if len(pending) > 2*recomputeWorkers {
				merge(pending[0])
				pending = pending[1:]
			}
		}
	}
	if readErr == nil {
		readErr = rows.Err()
	}
	rows.Close()
	work <- cur
	pending = append(pending, cur)
	close(work)
	for _, c := range pending {
		merge(c)
	}
	wg.Wait()
	if readErr != nil {
		return fmt.Errorf("read responses: %w", readErr)
	}
	if mergeErr != nil {
		return mergeErr
	}
	settle(grainDay)
	settle(grainMonth)
	rep.Months++

	// Compare with the stored rows of the month.
	q = newQuery(s.postgres)
	q.WriteString("SELECT " + tallyCols + " FROM tallies WHERE (grain = ")
	q.arg(grainMonth)
	q.WriteString(" AND period = ")
	q.arg(month)
	q.WriteString(") OR (grain = ")
	q.arg(grainDay)
	q.WriteString(" AND period >= ")
	q.arg(month + "-01")
	q.WriteString(" AND period <= ")
	q.arg(month + "-31")
	q.WriteString(")")
	return s.replaceRows(ctx, pool, q, rebuilt, rep)
}

// newMonthBatch is recompute's batch: day and month rows, the years
// rolled up from the months afterwards.
func (s *Store) newMonthBatch() *tallyBatch {
	b := s.newTallyBatch()
	b.grains = 2
	return b
}

// replaceRows compares the stored rows that stored reads with the
// rebuilt ones and writes those that differ: the rebuilt values, or a
// deletion where nothing was rebuilt.
func (s *Store) replaceRows(ctx context.Context, pool gorm.ConnPool, stored *query, rebuilt map[tallyKey]tallyRow, rep *RecomputeReport) error {
	old, err := pool.QueryContext(ctx, stored.String(), stored.args...)
	if err != nil {
		return fmt.Errorf("read tallies: %w", err)
	}
	var writes []tallyRow
	seen := map[tallyKey]bool{}
	err = s.scanTallies(old, func(k tallyKey, cnt counters, data []byte) error {
		seen[k] = true
		want, ok := rebuilt[k]
		if !ok {
			writes = append(writes, tallyRow{key: k, del: true})
			return nil
		}
		same, err := s.sameTally(k.version, cnt, data, want)
		if err != nil {
			return err
		}
		if !same {
			writes = append(writes, want)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read tallies: %w", err)
	}
	for k, row := range rebuilt {
		if !seen[k] {
			writes = append(writes, row)
		}
	}
	rep.Mismatches += len(writes)
	slices.SortFunc(writes, func(a, b tallyRow) int { return compareKeys(a.key, b.key) })
	if err := s.writeRows(ctx, pool, writes); err != nil {
		return fmt.Errorf("write tallies: %w", err)
	}
	return nil
}

// rollUpYear rebuilds the year rows of year ("YYYY") from its month rows
// inside tx, commune by commune (the commune credited), so that memory
// holds one commune's cells at a time.
func (s *Store) rollUpYear(ctx context.Context, tx *gorm.DB, year string, rep *RecomputeReport) error {
	rep.Years++
	pool := tx.Statement.ConnPool
	var communes []string
	q := newQuery(s.postgres)
	q.WriteString("SELECT DISTINCT commune_code FROM tallies WHERE (grain = ")
	q.arg(grainMonth)
	q.WriteString(" AND period >= ")
	q.arg(year + "-01")
	q.WriteString(" AND period <= ")
	q.arg(year + "-12")
	q.WriteString(") OR (grain = ")
	q.arg(grainYear)
	q.WriteString(" AND period = ")
	q.arg(year)
	q.WriteString(")")
	if err := tx.Raw(q.String(), q.args...).Scan(&communes).Error; err != nil {
		return fmt.Errorf("read tally communes: %w", err)
	}
	slices.Sort(communes)
	for _, code := range communes {
		if err := s.rollUpCommuneYear(ctx, pool, year, code, rep); err != nil {
			return fmt.Errorf("commune %s: %w", code, err)
		}
	}
	return nil
}

// rollUpCommuneYear is rollUpYear for one commune.
func (s *Store) rollUpCommuneYear(ctx context.Context, pool gorm.ConnPool, year, commune string, rep *RecomputeReport) error {
	b := s.newTallyBatch()
	defer b.release()
	q := newQuery(s.postgres)
	q.WriteString("SELECT " + tallyCols + " FROM tallies WHERE commune_code = ")
	q.arg(commune)
	q.WriteString(" AND grain = ")
	q.arg(grainMonth)
	q.WriteString(" AND period >= ")
	q.arg(year + "-01")
	q.WriteString(" AND period <= ")
	q.arg(year + "-12")
	rows, err := pool.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return fmt.Errorf("read month tallies: %w", err)
	}
	err = s.scanTallies(rows, func(k tallyKey, cnt counters, data []byte) error {
		l := s.layouts[k.version]
		if l == nil {
			return fmt.Errorf("tallies of questionnaire version %s, which this build does not know", k.version)
		}
		k.grain, k.period = grainYear, year
		c := b.cell(k, l)
		c.counters.add(cnt)
		return c.decodeInto(data)
	})
	if err != nil {
		return fmt.Errorf("read month tallies: %w", err)
	}
	rebuilt := make(map[tallyKey]tallyRow, len(b.cells))
	for k, c := range b.cells {
		if !c.empty() {
			rebuilt[k] = tallyRow{key: k, cnt: c.counters, data: c.encode(nil)}
		}
	}
	q = newQuery(s.postgres)
	q.WriteString("SELECT " + tallyCols + " FROM tallies WHERE commune_code = ")
	q.arg(commune)
	q.WriteString(" AND grain = ")
	q.arg(grainYear)
	q.WriteString(" AND period = ")
	q.arg(year)
	return s.replaceRows(ctx, pool, q, rebuilt, rep)
}

// sameTally compares a stored row with a rebuilt one: counters exactly,
// sums up to rounding (intake and recompute add in different orders).
func (s *Store) sameTally(version string, cnt counters, data []byte, want tallyRow) (bool, error) {
	if cnt != want.cnt {
		return false, nil
	}
	if bytes.Equal(data, want.data) {
		return true, nil
	}
	l := s.layouts[version]
	if l == nil {
		return false, fmt.Errorf("tallies of questionnaire version %s, which this build does not know", version)
	}
	a, b := l.newCell(), l.newCell()
	defer a.release()
	defer b.release()
	if err := a.decodeInto(data); err != nil {
		return false, nil // a corrupt row is a mismatch to replace
	}
	if err := b.decodeInto(want.data); err != nil {
		return false, err
	}
	return a.equal(b), nil
}

// equal compares two cells' values up to floating-point rounding.
func (c *cell) equal(o *cell) bool {
	if !slices.Equal(c.modules, o.modules) {
		return false
	}
	for i := range c.ind {
		x, y := &c.ind[i], &o.ind[i]
		if x.n != y.n || !near(x.w, y.w) || !near(x.w2, y.w2) || !near(x.sum, y.sum) || !near(x.sumSq, y.sumSq) {
			return false
		}
		for v, w := range x.hist {
			if !near(w, y.hist[v]) {
				return false
			}
		}
		for v, w := range y.hist {
			if !near(w, x.hist[v]) {
				return false
			}
		}
	}
	return true
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*(1+math.Abs(a)+math.Abs(b)) }

// recomputeWorkers parse and credit responses in parallel.
var recomputeWorkers = max(1, runtime.GOMAXPROCS(0))

const recomputeChunkSize = 512

// recomputeChunk is a run of responses, in day order, tallied by a worker.
type recomputeChunk struct {
	rows    []responseRow
	batch   *tallyBatch
	counted int64
	err     error
	done    chan struct{}
}

func (c *recomputeChunk) run(s *Store) {
	defer close(c.done)
	c.batch = s.newMonthBatch()
	for i := range c.rows {
		r := &c.rows[i]
		if r.Status == StatusQuarantined {
			continue
		}
		ans, err := survey.ParseAnswers([]byte(r.Answers))
		if err == nil {
			var probs map[string]float64
			if probs, err = parseProbs(r.Probs); err == nil {
				err = c.batch.add(r.tallied(survey.Visit{Modules: splitList(r.Modules), Answers: ans, Channel: r.Channel,
					Residence: r.Residence, ResidenceCommune: r.ResidenceCommune, Probs: probs}), +1)
			}
		}
		if err != nil {
			c.err = fmt.Errorf("response of %s at centre %d: %w", r.Day, r.CentreID, err)
			return
		}
		c.counted++
	}
}
