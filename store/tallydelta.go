package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// The live intake does not read and rewrite tally rows: each batch appends
// what it adds as delta rows (tally_deltas, the tallies' columns without a
// unique key) in the transaction that stores its responses, so a response
// and its share of the tallies still commit together.
//
//   - On PostgreSQL writers then hold no lock on a tally row, and several
//     writers, in one process or many, store batches side by side instead
//     of queueing on the rows of the busiest communes.
//   - On SQLite a batch appends its rows at the end of one table instead of
//     rewriting a day row and a month row of every commune it touches,
//     each on its own page of the tallies: fewer pages to write into the
//     WAL at every commit, and no tally read. A fold rewrites each row
//     once a second, whatever the number of batches meanwhile. The
//     intake rose from 0.41–0.48× the durable floor to 0.50–0.54× in
//     alternating load runs (one run of nine 0.45×, BENCHMARKS.md).
//
// A fold moves delta rows into the tallies, in its own transaction, a
// moment later (foldLoop); reads add the two tables (see query.arms), so
// what they see does not depend on when the fold ran. Delta rows are of
// the day grain only: each stands for its month and its year as well, in
// the folds and in the reads, which divides them by three.
//
// Whatever rewrites tallies by reading them (a status move, recompute)
// first folds every delta row in its own transaction: a move takes a
// response out of tally rows that must already hold it.

// foldCells bounds the tally cells a SQLite fold merges in memory
// (foldRead): a bulk load spread over months makes delta rows of as many
// days, and papi demo's 1,000,000 responses had peaked at 295 MB with
// folds of 20,000 rows. A second of the live intake touches a few hundred.
const foldCells = 4096

// foldEvery is how often each process folds delta rows by default
// (Options.FoldEvery): every 200 ms the folds rewrote about 460 tally rows
// five times a second, and the intake ran at 0.30–0.32× the floor instead
// of 0.34–0.37× (BENCHMARKS.md); reads meanwhile add up to a second of
// delta rows. foldMax bounds one fold's transaction.
const (
	foldEvery = time.Second
	foldMax   = 20000
)

// writeDeltas appends the batch's cells as delta rows (see batches);
// an empty cell adds nothing.
func (b *tallyBatch) writeDeltas(ctx context.Context, pool gorm.ConnPool, keys []tallyKey) error {
	rows, err := b.deltaRows(keys)
	if err != nil {
		return fmt.Errorf("write tally deltas: %w", err)
	}
	for _, run := range batches(b.s.postgres, rows) {
		q := newQuery(b.s.postgres)
		q.WriteString("INSERT INTO tally_deltas (" + tallyCols + ") ")
		q.rows(run)
		if err := b.s.stmts.exec(ctx, pool, q); err != nil {
			return fmt.Errorf("write tally deltas: %w", err)
		}
	}
	return nil
}

// deltaRows are the delta rows of the batch's cells of keys, in that
// order, without the empty ones.
func (b *tallyBatch) deltaRows(keys []tallyKey) ([]tallyRow, error) {
	all, err := tallyRows(keys, b.cells)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(r tallyRow) bool { return r.del }), nil
}

// takeDeltas deletes delta rows and adds them to the batch's cells: at
// most limit of them that no other transaction is taking (a fold on
// PostgreSQL; SQLite folds with foldRead), or, with limit 0, every one,
// waiting for the folds under way (before a read and rewrite of the
// tallies). The caller flushes the batch in the same transaction, so a
// fold that fails leaves the delta rows where they were.
func (b *tallyBatch) takeDeltas(ctx context.Context, pool gorm.ConnPool, limit int) (int, error) {
	q := newQuery(b.s.postgres)
	if limit > 0 {
		q.WriteString("DELETE FROM tally_deltas WHERE id IN (SELECT id FROM tally_deltas ORDER BY id LIMIT ")
		q.arg(limit)
		q.WriteString(" FOR UPDATE SKIP LOCKED) RETURNING " + tallyCols)
	} else {
		q.WriteString("DELETE FROM tally_deltas RETURNING " + tallyCols)
	}
	rows, err := pool.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return 0, fmt.Errorf("take tally deltas: %w", err)
	}
	n, _, err := b.addDeltas(rows, 0)
	if err != nil {
		return 0, fmt.Errorf("take tally deltas: %w", err)
	}
	return n, nil
}

// addDeltas adds delta rows of tallyCols (and extra columns, see
// scanTallies) to the batch's cells, each for its day, month and year,
// and says how many it added. With maxCells > 0 it stops after the row that
// brings the cells to maxCells, and says so. Each row is decoded once, into
// a cell of its day; those are then added to the batch's day, month and
// year cells, one merge each instead of three decodes per row (a second
// of the intake is some 10,000 delta rows over a few hundred day cells).
func (b *tallyBatch) addDeltas(rows *sql.Rows, maxCells int, extra ...any) (n int, stopped bool, err error) {
	days := map[tallyKey]*cell{}
	var order []tallyKey // days' keys as first met, for a stable merge order
	defer func() {
		for _, c := range days {
			c.release()
		}
	}()
	err = b.s.scanTallies(rows, func(k tallyKey, cnt counters, data []byte) error {
		l := b.s.layouts[k.version]
		if l == nil {
			return fmt.Errorf("tally deltas of questionnaire version %s, which this build does not know", k.version)
		}
		if k.grain != grainDay {
			return fmt.Errorf("a tally delta row of grain %q: only day rows are written", k.grain)
		}
		n++
		c := days[k]
		if c == nil {
			c = l.newCell()
			days[k] = c
			order = append(order, k)
		}
		c.counters.add(cnt)
		if err := c.decodeInto(data); err != nil {
			return err
		}
		// Each day brings at most a day, a month and a year cell.
		if maxCells > 0 && len(b.cells)+grains*len(days) >= maxCells {
			return errEnough // this row is in, the rest wait
		}
		return nil
	}, extra...)
	if errors.Is(err, errEnough) {
		stopped, err = true, nil
	}
	if err != nil {
		return 0, false, err
	}
	for _, k := range order {
		l := b.s.layouts[k.version]
		for _, p := range periodsOf(k.period) {
			at := k
			at.grain, at.period = p.grain, p.period
			b.cell(at, l).merge(days[k])
		}
	}
	return n, stopped, nil
}

// errEnough ends addDeltas' scan early.
var errEnough = errors.New("enough delta rows")

// foldAll folds every delta row inside tx, before tx reads and rewrites
// tally rows itself.
func (s *Store) foldAll(ctx context.Context, tx *gorm.DB) error {
	_, err := s.foldDeltas(ctx, tx, 0)
	return err
}

// foldDeltas moves delta rows into the tallies inside tx (which of them:
// see takeDeltas) and says how many it moved.
func (s *Store) foldDeltas(ctx context.Context, tx *gorm.DB, limit int) (int, error) {
	b := s.newTallyBatch()
	b.fold = true
	n, err := b.takeDeltas(ctx, tx.Statement.ConnPool, limit)
	if err != nil {
		b.release()
		return 0, err
	}
	return n, b.flush(ctx, tx)
}

// FoldStats counts this process's folds of delta rows: a fold that fails
// leaves its rows for the next one, and the reads count them meanwhile, so
// failures only show here and in the size of tally_deltas.
type FoldStats struct{ Folds, Failures int64 }

// foldCounts are FoldStats' counters.
type foldCounts struct{ folds, failures atomic.Int64 }

// FoldStats returns the folds run and failed since the store opened.
func (s *Store) FoldStats() FoldStats {
	return FoldStats{Folds: s.foldCounts.folds.Load(), Failures: s.foldCounts.failures.Load()}
}

// fold folds up to foldMax delta rows in one transaction, says how many,
// and whether it stopped at a bound (foldMax, or on SQLite foldCells) and
// left rows that were there.
func (s *Store) fold(ctx context.Context) (n int, full bool, err error) {
	if s.postgres {
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var err error
			n, err = s.foldDeltas(ctx, tx, foldMax)
			return err
		})
		full = n == foldMax
	} else {
		n, full, err = s.foldRead(ctx)
	}
	s.stmts.prepareMissed(ctx)
	s.foldCounts.folds.Add(1)
	if err != nil {
		s.foldCounts.failures.Add(1)
		return 0, false, fmt.Errorf("fold tally deltas: %w", err)
	}
	return n, full, nil
}

// foldRead is fold on SQLite, where the intake and the folds share one
// writer connection: the delta rows are read and merged on a read
// connection first, so the write transaction only deletes them by id and
// rewrites the tally rows. Taking and merging a second's delta rows inside
// the transaction had held the writer 45–90 ms at 1,000,000 responses.
// The delete must take exactly the rows read: ids are never reused
// (AUTOINCREMENT) and the intake only adds higher ones, so fewer rows
// means that another transaction (a status move, papi recompute) folded
// some meanwhile, and this fold leaves the rest to its next turn.
func (s *Store) foldRead(ctx context.Context) (n int, full bool, err error) {
	b := s.newTallyBatch()
	defer b.release()
	sqlDB, err := s.read.DB()
	if err != nil {
		return 0, false, err
	}
	rows, err := sqlDB.QueryContext(ctx, "SELECT "+tallyCols+", id FROM tally_deltas ORDER BY id LIMIT ?", foldMax)
	if err != nil {
		return 0, false, fmt.Errorf("read tally deltas: %w", err)
	}
	var last int64 // rows come in id order: the last one read
	n, stopped, err := b.addDeltas(rows, s.foldCells, &last)
	if err != nil || n == 0 {
		return 0, false, err
	}
	if s.afterFoldRead != nil {
		s.afterFoldRead()
	}
	raced := false
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec("DELETE FROM tally_deltas WHERE id <= ?", last)
		if res.Error != nil {
			return fmt.Errorf("take tally deltas: %w", res.Error)
		}
		if res.RowsAffected != int64(n) {
			raced = true
			return errFoldRaced
		}
		return b.flush(ctx, tx)
	})
	if raced {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return n, stopped || n == foldMax, nil
}

// errFoldRaced rolls back a fold whose delta rows another transaction
// folded first.
var errFoldRaced = errors.New("delta rows folded meanwhile")

// foldLoop folds delta rows every period until the store closes, and
// once more after the writers have stored the last batches (writersDone
// waits for them). A fold that fails is tried again at the next tick; the
// reads count delta rows meanwhile.
func (s *Store) foldLoop(every time.Duration, writersDone func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	ctx := context.Background()
	foldSome := func() {
		for {
			_, full, err := s.fold(ctx)
			if err != nil || !full {
				return
			}
		}
	}
	for {
		select {
		case <-s.closing:
			writersDone()
			foldSome()
			return
		case <-t.C:
			foldSome()
		}
	}
}
