package store

import (
	"context"
	"database/sql"
	"sync"

	"gorm.io/gorm"
)

// stmtCache keeps the intake's multi-row statements prepared on the
// database, so that a transaction reuses them. GORM's own cache prepares a
// statement on the transaction it is first used in, and database/sql
// prepares such a statement again in every later transaction: under load
// the writer spent a quarter of its time in sqlite3_prepare. The runs of
// power-of-two lengths (see runs) keep the shapes few on SQLite; on
// PostgreSQL each statement has one shape (see query.unnest).
//
// A statement is prepared after the transaction that first needed it, not
// inside: SQLite's writer pool has one connection, which that transaction
// holds. Until then it runs unprepared.
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	missed map[string]bool
}

// maxCachedStmts bounds the cache: the intake's statements (responses,
// screening, tally reads, upserts and deletions or delta rows) in the
// eight lengths of a batch of at most maxBatch fit, with room for the
// longer runs of folds and status moves.
const maxCachedStmts = 64

func newStmtCache(db *gorm.DB) (*stmtCache, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	return &stmtCache{db: sqlDB, stmts: map[string]*sql.Stmt{}, missed: map[string]bool{}}, nil
}

// stmt returns the transaction of pool and, when query is prepared, the
// statement in that transaction; a query not prepared yet is noted, to be
// prepared after the transaction (see prepareMissed). Both are nil when
// pool is not a database/sql transaction.
func (c *stmtCache) stmt(ctx context.Context, pool gorm.ConnPool, query string) (*sql.Tx, *sql.Stmt) {
	tx := sqlTx(pool)
	if tx == nil {
		return nil, nil
	}
	c.mu.Lock()
	st := c.stmts[query]
	if st == nil && len(c.stmts)+len(c.missed) < maxCachedStmts {
		c.missed[query] = true
	}
	c.mu.Unlock()
	if st == nil {
		return tx, nil
	}
	return tx, tx.StmtContext(ctx, st)
}

// query runs q in the transaction pool, prepared when it can be. An
// unprepared query runs on the transaction itself, prepared once for the
// call (through GORM's cache it would be prepared twice).
func (c *stmtCache) query(ctx context.Context, pool gorm.ConnPool, q *query) (*sql.Rows, error) {
	switch tx, st := c.stmt(ctx, pool, q.String()); {
	case st != nil:
		return st.QueryContext(ctx, q.args...)
	case tx != nil:
		return tx.QueryContext(ctx, q.String(), q.args...)
	}
	return pool.QueryContext(ctx, q.String(), q.args...)
}

// exec is query for a statement that returns no rows.
func (c *stmtCache) exec(ctx context.Context, pool gorm.ConnPool, q *query) error {
	var err error
	switch tx, st := c.stmt(ctx, pool, q.String()); {
	case st != nil:
		_, err = st.ExecContext(ctx, q.args...)
	case tx != nil:
		_, err = tx.ExecContext(ctx, q.String(), q.args...)
	default:
		_, err = pool.ExecContext(ctx, q.String(), q.args...)
	}
	return err
}

// queryDB runs q on the cache's own pool, outside any transaction (the
// tally reads, on the read pool), prepared when first run: a pool of
// readers has a connection to prepare on. Once the cache is full, q runs
// unprepared.
func (c *stmtCache) queryDB(ctx context.Context, q *query) (*sql.Rows, error) {
	key := q.String()
	c.mu.Lock()
	st := c.stmts[key]
	full := len(c.stmts) >= maxCachedStmts
	c.mu.Unlock()
	switch {
	case st != nil:
		return st.QueryContext(ctx, q.args...)
	case full:
		return c.db.QueryContext(ctx, key, q.args...)
	}
	prepared, err := c.db.PrepareContext(ctx, key)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.stmts[key] == nil && len(c.stmts) < maxCachedStmts {
		c.stmts[key], st = prepared, prepared
	}
	c.mu.Unlock()
	if st == nil {
		// Prepared meanwhile by another reader, or the cache filled: this
		// one closes once its rows are read (database/sql waits for them).
		defer func() { _ = prepared.Close() }() // nothing to report: it was only borrowed
		st = prepared
	}
	return st.QueryContext(ctx, q.args...)
}

// prepareMissed prepares the statements transactions ran unprepared; it
// is called outside any transaction. A statement that fails to prepare is
// left unprepared: the transactions report its error themselves.
func (c *stmtCache) prepareMissed(ctx context.Context) {
	c.mu.Lock()
	queries := make([]string, 0, len(c.missed))
	for q := range c.missed {
		queries = append(queries, q)
	}
	clear(c.missed)
	c.mu.Unlock()
	// Not under mu: preparing waits for a connection, which a transaction
	// may hold while it looks a statement up.
	for _, q := range queries {
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if c.stmts[q] == nil {
			c.stmts[q], st = st, nil
		}
		c.mu.Unlock()
		if st != nil {
			_ = st.Close() // prepared meanwhile by another writer
		}
	}
}

// close closes the prepared statements, before the database closes.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		_ = st.Close() // the database closes next; nothing to report
		delete(c.stmts, q)
	}
}

// sqlTx returns the database/sql transaction of a GORM transaction's
// connection pool, or nil.
func sqlTx(pool gorm.ConnPool) *sql.Tx {
	switch p := pool.(type) {
	case *sql.Tx:
		return p
	case *gorm.PreparedStmtTX:
		tx, _ := p.Tx.(*sql.Tx)
		return tx
	}
	return nil
}
