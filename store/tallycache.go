package store

import (
	"context"
	"fmt"
	"sync"

	"gorm.io/gorm"
)

// tallyCache keeps, on SQLite, the tally rows the intake wrote last as
// decoded cells, so the next batch adds its changes to them instead of
// reading and decoding the rows again (a third of the writer's tally
// work). The cells are exactly the stored rows as long as nobody else
// wrote:
//
//   - another connection (papi import or recompute in another process):
//     SQLite's data_version, read inside the write transaction, changes
//     when another connection commits, and the cache is emptied then;
//   - the writer's own connection, outside the live intake: a status move
//     or a bulk load drops the rows it writes, recompute empties the
//     cache, in their transactions;
//   - a transaction that fails after its batch was cached: the caller
//     empties the cache (CreatePrepared).
//
// The batch caches its cells inside its own transaction, before the
// commit, so no other transaction on the one writer connection can come
// in between. PostgreSQL, where several processes write, has no cache.
type tallyCache struct {
	mu      sync.Mutex
	version int64 // data_version the cells are valid for
	cells   map[tallyKey]*cell
}

// maxCachedCells bounds the cache (a cell of catalogue 2025.2 is about
// 6 KB): a day's rows of a city-wide load fit.
const maxCachedCells = 2048

func newTallyCache() *tallyCache { return &tallyCache{cells: map[tallyKey]*cell{}} }

// reset empties the cache. It is safe on a nil cache (PostgreSQL).
func (tc *tallyCache) reset() {
	if tc == nil {
		return
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	tc.clearLocked()
}

func (tc *tallyCache) clearLocked() {
	for _, c := range tc.cells {
		c.release()
	}
	clear(tc.cells)
}

// drop forgets the cells of keys, which a batch outside the cache is
// writing on the writer's own connection. It is safe on a nil cache.
func (tc *tallyCache) drop(keys []tallyKey) {
	if tc == nil {
		return
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	for _, k := range keys {
		if c, ok := tc.cells[k]; ok {
			c.release()
			delete(tc.cells, k)
		}
	}
}

// take removes and returns the cached cells of keys, for a transaction
// that read data_version as version; a different version empties the
// cache first.
func (tc *tallyCache) take(version int64, keys []tallyKey) map[tallyKey]*cell {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if version != tc.version {
		tc.clearLocked()
		tc.version = version
	}
	out := map[tallyKey]*cell{}
	for _, k := range keys {
		if c, ok := tc.cells[k]; ok {
			out[k] = c
			delete(tc.cells, k)
		}
	}
	return out
}

// put caches absolute cells just written for version; the cache owns them
// from now on.
func (tc *tallyCache) put(version int64, cells map[tallyKey]*cell) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if version != tc.version || len(tc.cells)+len(cells) > maxCachedCells {
		tc.clearLocked()
		tc.version = version
	}
	for k, c := range cells {
		tc.cells[k] = c
	}
}

// dataVersion reads SQLite's data_version on the transaction's connection.
func (s *Store) dataVersion(ctx context.Context, pool gorm.ConnPool) (int64, error) {
	q := newQuery(false)
	q.WriteString("PRAGMA data_version")
	rows, err := s.stmts.query(ctx, pool, q)
	if err != nil {
		return 0, fmt.Errorf("read data_version: %w", err)
	}
	defer rows.Close()
	var v int64
	if !rows.Next() {
		return 0, fmt.Errorf("read data_version: no row (%v)", rows.Err())
	}
	if err := rows.Scan(&v); err != nil {
		return 0, fmt.Errorf("read data_version: %w", err)
	}
	return v, rows.Err()
}
