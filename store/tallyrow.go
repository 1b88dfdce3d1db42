package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/papi-hcmc/papi/survey"
)

// tallyKey names one tally row.
type tallyKey struct {
	grain   string
	period  string
	commune string // the commune credited
	centre  uint   // the centre visited; 0 for a household interview
	channel string
	version string
	verified,
	flagged bool
}

func compareKeys(a, b tallyKey) int {
	return cmp.Or(cmp.Compare(a.grain, b.grain), cmp.Compare(a.period, b.period), cmp.Compare(a.commune, b.commune),
		cmp.Compare(a.centre, b.centre), cmp.Compare(a.channel, b.channel), cmp.Compare(a.version, b.version),
		compareBool(a.verified, b.verified), compareBool(a.flagged, b.flagged))
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// tallied is what a response contributes to the tallies.
type tallied struct {
	version  string
	day      string
	commune  string // of the centre visited (or the household)
	centre   uint
	channel  string
	verified bool
	status   string
	visit    survey.Visit
	// credits are visit's survey.Catalogue.Credits for commune when
	// credited is set (worked out before the writer's turn); add works them
	// out otherwise.
	credits  []survey.Credit
	credited bool
}

// tallyBatch merges the tally changes of a batch in memory, so that each
// row is read and written once per transaction.
type tallyBatch struct {
	s     *Store
	cells map[tallyKey]*cell
	// grains is how many of a response's periodsOf the batch adds it to:
	// all three, or only the day in a deltas batch (whose day rows stand
	// for their month and year, see tallydelta.go), or day and month in
	// recompute (which rolls the years up from the months).
	grains int
	// deltas batches (the live intake's) append their changes as delta
	// rows instead of rewriting tally rows (see tallydelta.go).
	deltas bool
	// fold says that the batch is a fold's: on PostgreSQL it runs
	// Store.afterFoldRead, a test's hook, once it holds its rows.
	fold bool
}

func (s *Store) newTallyBatch() *tallyBatch {
	return &tallyBatch{s: s, cells: map[tallyKey]*cell{}, grains: grains}
}

// newDeltaBatch is the live intake's batch: day rows appended as delta
// rows.
func (s *Store) newDeltaBatch() *tallyBatch {
	b := s.newTallyBatch()
	b.deltas, b.grains = true, 1
	return b
}

func (b *tallyBatch) cell(k tallyKey, l *layout) *cell {
	c := b.cells[k]
	if c == nil {
		c = l.newCell()
		b.cells[k] = c
	}
	return c
}

// add adds (sign +1) or removes (sign −1) one response. Quarantined
// responses are in no tally. Service observations count for the commune
// visited, locality ones for the commune the respondent lives in
// (survey.Catalogue.Credits); the visit itself is counted on the visited
// commune's row, with where the respondent lives.
func (b *tallyBatch) add(t tallied, sign int64) error {
	if t.status == StatusQuarantined {
		return nil
	}
	l := b.s.layouts[t.version]
	if l == nil {
		return fmt.Errorf("questionnaire version %s is not known to this build", t.version)
	}
	credits := t.credits
	if !t.credited {
		credits = l.cat.Credits(t.visit, t.commune)
	}
	var cnt counters
	cnt.Responses = sign
	switch {
	case t.visit.Residence == survey.ResidenceHere,
		t.visit.Residence == survey.ResidenceOther && t.visit.ResidenceCommune == t.commune:
		cnt.Here = sign
	case t.visit.Residence == survey.ResidenceOther:
		cnt.Other = sign
	case t.visit.Residence == survey.ResidenceOutside:
		cnt.Outside = sign
	default:
		cnt.Unknown = sign
	}
	periods := periodsOf(t.day)
	for _, p := range periods[:b.grains] {
		k := tallyKey{grain: p.grain, period: p.period, commune: t.commune, centre: t.centre, channel: t.channel,
			version: t.version, verified: t.verified, flagged: t.status == StatusFlagged}
		c := b.cell(k, l)
		c.counters.add(cnt)
		for _, m := range t.visit.Modules {
			if i, ok := l.module[m]; ok {
				c.modules[i] += sign
			}
		}
		for _, cr := range credits {
			k.commune, k.centre = cr.Commune, t.centre
			if cr.Commune != t.commune {
				// Credits to the commune a visitor lives in are read
				// per commune, never per centre, so one row takes them
				// from every centre: a commune's month then stays a few
				// rows however many neighbours' centres its residents
				// visit (migration 14).
				k.centre = 0
			}
			c := b.cell(k, l)
			for _, o := range cr.Observations {
				c.observe(o, sign)
			}
		}
	}
	return nil
}

// release gives the batch's memory back.
func (b *tallyBatch) release() {
	for _, c := range b.cells {
		c.release()
	}
	clear(b.cells)
}

// tallyCols are the key columns in index order, then the values.
const (
	tallyKeyCols = "grain, period, commune_code, centre_id, channel, questionnaire_version, verified, flagged"
	tallyCols    = tallyKeyCols + ", responses, resident_here, resident_other, resident_outside, resident_unknown, data"
)

// flush applies the batch to the stored rows inside tx (a deltas batch
// appends delta rows instead): it reads every row the batch touches, adds
// the changes and writes the absolute values back with a multi-row upsert,
// each statement in batches (see batches). On SQLite the transaction holds the
// write lock since BEGIN, so nobody writes between the read and the write.
// On PostgreSQL the read also locks the rows (missing ones are inserted
// empty), in key order so that two processes never deadlock, and another
// process's update waits for this transaction.
func (b *tallyBatch) flush(ctx context.Context, tx *gorm.DB) error {
	defer b.release()
	if len(b.cells) == 0 {
		return nil
	}
	keys := b.keys()
	pool := tx.Statement.ConnPool
	if b.deltas {
		return b.writeDeltas(ctx, pool, keys)
	}
	for _, run := range batches(b.s.postgres, keys) {
		if err := b.readRows(ctx, pool, run); err != nil {
			return fmt.Errorf("write tallies: %w", err)
		}
	}
	if hook := b.s.afterFoldRead; b.fold && b.s.postgres && hook != nil {
		b.s.afterFoldRead = nil // once: the hook may fold again
		hook()
	}
	if err := b.s.writeCells(ctx, pool, keys, b.cells); err != nil {
		return fmt.Errorf("write tallies: %w", err)
	}
	return nil
}

// keys are the keys of the batch's cells in key order, the order every
// writer locks and writes rows in.
func (b *tallyBatch) keys() []tallyKey {
	keys := make([]tallyKey, 0, len(b.cells))
	for k := range b.cells {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	return keys
}

// batches splits rows for multi-row statements: on SQLite in runs (see
// runs); on PostgreSQL, whose statements take each column as one array
// (query.unnest), in one.
func batches[T any](pg bool, rows []T) [][]T {
	if pg {
		if len(rows) == 0 {
			return nil
		}
		return [][]T{rows}
	}
	return runs(rows, maxRun)
}

// maxRun bounds the rows of one multi-row statement: SQLite allows 32766
// bound parameters, and the widest row (a response) takes 22.
const maxRun = 1024

// runs splits rows into runs of power-of-two lengths, longest first, none
// longer than max (a power of two). A multi-row statement then takes one
// of a few shapes, each prepared once and kept in the statement cache; a
// shape for every batch size would be prepared again and again (the
// writer spent a quarter of its time in sqlite3_prepare before).
func runs[T any](rows []T, max int) [][]T {
	var out [][]T
	for len(rows) > 0 {
		n := max
		for n > len(rows) {
			n /= 2
		}
		out = append(out, rows[:n])
		rows = rows[n:]
	}
	return out
}

// readRows adds the stored rows of keys (one run) to the batch's cells.
func (b *tallyBatch) readRows(ctx context.Context, pool gorm.ConnPool, keys []tallyKey) error {
	if b.s.postgres {
		// Insert the missing rows empty and lock the others, in key
		// order. An update whose WHERE is false still locks the rows it
		// finds, without writing a new version of each: a no-op update
		// had doubled the row versions a fold writes.
		lock := newQuery(true)
		lock.WriteString("INSERT INTO tallies (" + tallyCols + ") SELECT v.*, 0, 0, 0, 0, 0, ''::bytea FROM (")
		lock.unnest(keyTypes, keyArrays(keys)...)
		lock.WriteString(") v ON CONFLICT (" + tallyKeyCols + ") DO UPDATE SET responses = tallies.responses WHERE false")
		if err := b.s.stmts.exec(ctx, pool, lock); err != nil {
			return fmt.Errorf("lock tally rows: %w", err)
		}
	}
	// Read every row's current values (on PostgreSQL the rows are now
	// this transaction's to change).
	q := newQuery(b.s.postgres)
	q.keyCTE(keys)
	q.WriteString("SELECT " + prefixed("t.", tallyCols) + " FROM " + keyJoin)
	rows, err := b.s.stmts.query(ctx, pool, q)
	if err != nil {
		return fmt.Errorf("read tally rows: %w", err)
	}
	return b.s.scanTallies(rows, func(k tallyKey, cnt counters, data []byte) error {
		c := b.cells[k]
		if c == nil {
			return nil
		}
		c.counters.add(cnt)
		if err := c.decodeInto(data); err != nil {
			return fmt.Errorf("tally %s %s %s: %w", k.grain, k.period, k.commune, err)
		}
		return nil
	})
}

// tallyRow is one row to write: absolute counters and packed value, or a
// deletion.
type tallyRow struct {
	key  tallyKey
	cnt  counters
	data []byte
	del  bool
}

// writeCells writes the absolute values of cells, deleting the rows that
// became empty (every response once in them moved out).
func (s *Store) writeCells(ctx context.Context, pool gorm.ConnPool, keys []tallyKey, cells map[tallyKey]*cell) error {
	rows, err := tallyRows(keys, cells)
	if err != nil {
		return err
	}
	return s.writeRows(ctx, pool, rows)
}

// tallyRows checks and encodes the cells of keys as rows to write; an
// empty cell is a row to delete.
func tallyRows(keys []tallyKey, cells map[tallyKey]*cell) ([]tallyRow, error) {
	rows := make([]tallyRow, 0, len(keys))
	var buf []byte
	for _, k := range keys {
		c := cells[k]
		if err := c.check(); err != nil {
			return nil, fmt.Errorf("tally %s %s %s centre %d: %w", k.grain, k.period, k.commune, k.centre, err)
		}
		if c.empty() {
			rows = append(rows, tallyRow{key: k, del: true})
			continue
		}
		start := len(buf)
		buf = c.encode(buf)
		rows = append(rows, tallyRow{key: k, cnt: c.counters, data: buf[start:len(buf):len(buf)]})
	}
	return rows, nil
}

// deleteByKey deletes the SQLite tally rows of keyCTE's keys, whose key is
// the primary key there (no rowid).
const deleteByKey = "DELETE FROM tallies WHERE (" + tallyKeyCols + ") IN (SELECT g, p, c, ce, ch, ve, vf, fl FROM v)"

// writeRows upserts and deletes tally rows (see batches).
func (s *Store) writeRows(ctx context.Context, pool gorm.ConnPool, rows []tallyRow) error {
	var upserts []tallyRow
	var gone []tallyKey
	for _, r := range rows {
		if r.del {
			gone = append(gone, r.key)
		} else {
			upserts = append(upserts, r)
		}
	}
	for _, run := range batches(s.postgres, upserts) {
		up := newQuery(s.postgres)
		up.WriteString("INSERT INTO tallies (" + tallyCols + ") ")
		up.rows(run)
		up.WriteString(" ON CONFLICT (" + tallyKeyCols + ") DO UPDATE SET responses = excluded.responses, resident_here = excluded.resident_here, " +
			"resident_other = excluded.resident_other, resident_outside = excluded.resident_outside, resident_unknown = excluded.resident_unknown, data = excluded.data")
		if err := s.stmts.exec(ctx, pool, up); err != nil {
			return fmt.Errorf("write tally rows: %w", err)
		}
	}
	for _, run := range batches(s.postgres, gone) {
		del := newQuery(s.postgres)
		if s.postgres {
			del.WriteString("DELETE FROM tallies WHERE id IN (")
			del.keyCTE(run)
			del.WriteString("SELECT t.id FROM " + keyJoin + ")")
		} else {
			del.keyCTE(run)
			del.WriteString(deleteByKey)
		}
		if err := s.stmts.exec(ctx, pool, del); err != nil {
			return fmt.Errorf("delete empty tally rows: %w", err)
		}
	}
	return nil
}

// rows writes rows of tallyCols to insert: a VALUES list, or on
// PostgreSQL a SELECT of arrays.
func (q *query) rows(rows []tallyRow) {
	if q.pg {
		cols := keyArrays(keysOf(rows))
		var cnt [5][]int64
		data := make([][]byte, len(rows))
		for i, r := range rows {
			for j, n := range [5]int64{r.cnt.Responses, r.cnt.Here, r.cnt.Other, r.cnt.Outside, r.cnt.Unknown} {
				cnt[j] = append(cnt[j], n)
			}
			data[i] = r.data
		}
		for _, c := range cnt {
			cols = append(cols, c)
		}
		q.unnest(slices.Concat(keyTypes, []string{"bigint", "bigint", "bigint", "bigint", "bigint", "bytea"}), append(cols, data)...)
		return
	}
	q.WriteString("VALUES ")
	q.values(rows)
}

// keysOf are the keys of rows, in order.
func keysOf(rows []tallyRow) []tallyKey {
	keys := make([]tallyKey, len(rows))
	for i, r := range rows {
		keys[i] = r.key
	}
	return keys
}

// values writes rows as a VALUES list of tallyCols.
func (q *query) values(rows []tallyRow) {
	for i, r := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(")
		q.keyArgs(r.key)
		for _, n := range [5]int64{r.cnt.Responses, r.cnt.Here, r.cnt.Other, r.cnt.Outside, r.cnt.Unknown} {
			q.WriteString(", ")
			q.arg(n)
		}
		q.WriteString(", ")
		q.arg(r.data)
		q.WriteString(")")
	}
}

// scanTallies reads rows of tallyCols.
// Columns after tallyCols are scanned into extra before each call of fn.
func (s *Store) scanTallies(rows *sql.Rows, fn func(k tallyKey, cnt counters, data []byte) error, extra ...any) error {
	defer rows.Close()
	var (
		k      tallyKey
		centre int64
		cnt    counters
		data   []byte
	)
	for rows.Next() {
		dest := append([]any{&k.grain, &k.period, &k.commune, &centre, &k.channel, &k.version, &k.verified, &k.flagged,
			&cnt.Responses, &cnt.Here, &cnt.Other, &cnt.Outside, &cnt.Unknown, &data}, extra...)
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("read tally row: %w", err)
		}
		k.centre = uint(centre)
		if err := fn(k, cnt, data); err != nil {
			return err // rows.Close (deferred) ends a scan stopped early
		}
	}
	return rows.Err()
}

// query builds one SQL statement with its arguments in the engine's
// placeholder style.
type query struct {
	strings.Builder
	pg   bool
	args []any
}

func newQuery(pg bool) *query { return &query{pg: pg} }

func (q *query) arg(v any) {
	q.args = append(q.args, v)
	if q.pg {
		q.WriteString("$")
		q.WriteString(strconv.Itoa(len(q.args)))
		return
	}
	q.WriteString("?")
}

// keyArgs writes the key's columns as arguments, typed for PostgreSQL
// (in a VALUES list it cannot infer them).
func (q *query) keyArgs(k tallyKey) {
	casts := [8]string{"::varchar", "::varchar", "::varchar", "::bigint", "::varchar", "::varchar", "::boolean", "::boolean"}
	vals := [8]any{k.grain, k.period, k.commune, int64(k.centre), k.channel, k.version, k.verified, k.flagged}
	for i, v := range vals {
		if i > 0 {
			q.WriteString(", ")
		}
		q.arg(v)
		if q.pg {
			q.WriteString(casts[i])
		}
	}
}

// keyCTE writes keys as a common table expression v, to be joined with
// the tallies by keyJoin: both engines then look each key up in the index
// (SQLite scans the whole table for a row-value IN list).
func (q *query) keyCTE(keys []tallyKey) {
	if q.pg {
		q.WriteString("WITH v(g, p, c, ce, ch, ve, vf, fl) AS (")
		q.unnest(keyTypes, keyArrays(keys)...)
		q.WriteString(") ")
		return
	}
	q.WriteString("WITH v(g, p, c, ce, ch, ve, vf, fl) AS (VALUES ")
	for i, k := range keys {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(")
		q.keyArgs(k)
		q.WriteString(")")
	}
	q.WriteString(") ")
}

// keyTypes are the PostgreSQL types of the key columns, for keyArrays.
var keyTypes = []string{"varchar", "varchar", "varchar", "bigint", "varchar", "varchar", "boolean", "boolean"}

// keyArrays are the key columns of keys, one array each.
func keyArrays(keys []tallyKey) []any {
	var (
		g, p, c, ch, ve []string
		ce              []int64
		vf, fl          []bool
	)
	for _, k := range keys {
		g, p, c, ce, ch, ve = append(g, k.grain), append(p, k.period), append(c, k.commune), append(ce, int64(k.centre)), append(ch, k.channel), append(ve, k.version)
		vf, fl = append(vf, k.verified), append(fl, k.flagged)
	}
	return []any{g, p, c, ce, ch, ve, vf, fl}
}

// unnest writes, on PostgreSQL, a SELECT of rows whose columns are given
// as one array argument each: a statement then has the same text and
// the same few arguments whatever the number of rows, so it is parsed and
// planned once per connection, and binding it does not cost a parameter
// per value (VALUES lists of 128 rows took 22 parameters a row).
func (q *query) unnest(types []string, cols ...any) {
	q.WriteString("SELECT * FROM unnest(")
	for i, c := range cols {
		if i > 0 {
			q.WriteString(", ")
		}
		q.arg(c)
		q.WriteString("::" + types[i] + "[]")
	}
	q.WriteString(")")
}

// keyJoin joins the keys of keyCTE with their tally rows.
const keyJoin = "v JOIN tallies t ON t.grain = v.g AND t.period = v.p AND t.commune_code = v.c AND t.centre_id = v.ce " +
	"AND t.channel = v.ch AND t.questionnaire_version = v.ve AND t.verified = v.vf AND t.flagged = v.fl"

// prefixed puts a table alias before each of a list of columns.
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, c := range parts {
		parts[i] = alias + c
	}
	return strings.Join(parts, ", ")
}
