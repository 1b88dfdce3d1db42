package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
)

// On PostgreSQL most intake batches are stored by one statement: the
// responses insert and the insert of their delta rows are the two
// data-modifying parts of one WITH, which PostgreSQL runs whole or not at
// all, in the statement's own transaction. Screening reads before it, on
// the pool. A batch in a transaction took BEGIN, the screening query, the
// insert, the delta rows and COMMIT: five round trips to the server,
// where this takes two, and the writer waits for each.
//
// A batch goes through insertBatch's transaction instead when it needs
// more than the two inserts: a receipt to use, an assignment to read, or
// the same submission twice. So does a batch that meets a submission id
// already stored (a retry, or the same submission stored meanwhile by
// another writer or process): the statement fails on the unique index and
// stores nothing, and the transaction skips the stored ids.
//
// Screening outside the insert's transaction sees the same as inside:
// what is committed when it runs. On PostgreSQL that was already so for
// the batches of the other writers (README, "Several papi processes").

// intakeStats count how PostgreSQL intake batches were stored.
type intakeStats struct {
	oneStatement atomic.Int64 // by one statement
	retried      atomic.Int64 // by one statement first, which met a stored submission id
}

// storeInOneStatement stores items, a live intake batch on PostgreSQL, by
// one statement and fills their results; it reports false, having stored
// nothing and left the items as they came, when the batch must go
// through a transaction instead.
func (s *Store) storeInOneStatement(ctx context.Context, items []*item, out []Result) (bool, error) {
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		if it.in.Receipt != "" || it.row.AssignmentID != nil || seen[it.row.SubmissionID] {
			return false, nil
		}
		seen[it.row.SubmissionID] = true
	}
	if err := s.screen(ctx, s.stmts.db, items); err != nil {
		return false, err
	}
	// In submission id order, as insertRows: two batches that meet on an
	// id wait for each other in one order, never both ways.
	sorted := bySubmissionID(items)
	batch := s.newDeltaBatch()
	defer batch.release()
	for _, it := range sorted {
		it.settle()
		if err := batch.add(it.tallied(), +1); err != nil {
			return false, err
		}
	}
	deltas, err := batch.deltaRows(batch.keys())
	if err != nil {
		return false, fmt.Errorf("write tally deltas: %w", err)
	}
	q := newQuery(true)
	q.WriteString("WITH r AS (INSERT INTO responses (" + responseCols + ") ")
	q.unnest(responseTypes, responseArrays(sorted)...)
	q.WriteString(" RETURNING id, submission_id)")
	if len(deltas) > 0 {
		q.WriteString(", d AS (INSERT INTO tally_deltas (" + tallyCols + ") ")
		q.rows(deltas)
		q.WriteString(")")
	}
	q.WriteString(" SELECT id, submission_id FROM r")
	ids, err := storedIDs(s.stmts.queryDB(ctx, q))
	if isStoredSubmission(err) {
		for _, it := range items {
			it.unscreen()
		}
		s.intake.retried.Add(1)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("insert responses: %w", err)
	}
	for _, it := range items {
		id, ok := ids[it.row.SubmissionID]
		if !ok {
			return false, fmt.Errorf("insert responses: no id returned for submission %s", it.row.SubmissionID)
		}
		out[it.index] = Result{ID: id, Created: true, Flagged: it.row.Status == StatusFlagged}
	}
	s.intake.oneStatement.Add(1)
	return true, nil
}

// isStoredSubmission reports whether err is PostgreSQL's refusal of a
// submission id already stored.
func isStoredSubmission(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "23505" && pg.ConstraintName == "idx_responses_submission_id"
}
