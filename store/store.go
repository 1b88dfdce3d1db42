// Package store persists papi's data with GORM: communes, service centres,
// responses and their packed running tallies, module assignments, staff
// accounts, sessions, receipts and the audit log. SQLite (one file, the
// default) and PostgreSQL behave the same behind it.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/papi-hcmc/papi/survey"
)

// Store is papi's database.
type Store struct {
	// db takes writes. On SQLite it has a single connection: SQLite allows
	// one writer at a time, and queueing writers in Go instead of in SQLite's
	// busy handler is what keeps concurrent submissions from ever seeing
	// "database is locked".
	db *gorm.DB
	// read serves queries; on SQLite in WAL mode readers never block the
	// writer, so it has its own pool. On PostgreSQL it is the same as db.
	read *gorm.DB

	catalogues map[string]*survey.Catalogue
	current    *survey.Catalogue
	// layouts describe each catalogue version's packed tallies.
	layouts  map[string]*layout
	now      func() time.Time
	postgres bool
	receipts receipts

	// communes caches the set of commune codes (seeded once, never
	// changed), to check residence and household communes without a query.
	communeMu sync.Mutex
	communes  map[string]bool
	// centreCache remembers CentreByToken's answers briefly.
	centreMu    sync.Mutex
	centreCache map[string]cachedCentre

	// queue feeds the writer goroutines (see Submit).
	queue   chan *pending
	closing chan struct{}
	stopped chan struct{}
	once    sync.Once
	closeMu sync.RWMutex
	closed  bool
	writing bool // the writer goroutine was started
	// stmts keeps the intake's statements prepared (see stmtCache),
	// readStmts the tally reads', on the read pool.
	stmts, readStmts *stmtCache
	// bursts remembers centres over the burst limit (see burstMemory).
	bursts burstMemory
	// phones holds the last hour's phone answers on SQLite (see
	// phoneMemory), kept in step with the batches under intakeMu.
	phones   phoneMemory
	intakeMu sync.Mutex
	// foldCounts count the folds of delta rows (FoldStats); intake how
	// PostgreSQL's intake batches were stored (see storeInOneStatement).
	foldCounts foldCounts
	intake     intakeStats
	// afterFoldRead, when set (by a test), runs between a fold's read and
	// its write (foldRead on SQLite; on PostgreSQL once the fold holds its
	// tally rows, tallyBatch.flush); foldCells bounds a fold's cells
	// (the constant foldCells; smaller in a test).
	afterFoldRead func()
	foldCells     int
}

// Options configure Open.
type Options struct {
	// Catalogues are the published questionnaire versions; the last one is
	// the version residents are asked.
	Catalogues []*survey.Catalogue
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// MaxReaders bounds the read pool (default 8).
	MaxReaders int
	// Receipts sets the receipt rules (DefaultReceiptPolicy for zero fields).
	Receipts ReceiptPolicy
	// FoldEvery is how often the intake's delta rows are folded into the
	// tallies (default 1 s; see tallydelta.go).
	FoldEvery time.Duration
}

// Open connects to dsn, a SQLite file path or a postgres:// URL, and brings
// the schema up to date. It refuses a database whose schema is newer than
// this build.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	if len(opt.Catalogues) == 0 {
		return nil, errors.New("store.Open: no questionnaire catalogue given")
	}
	s := &Store{catalogues: map[string]*survey.Catalogue{}, layouts: map[string]*layout{}, now: opt.Now,
		queue: make(chan *pending, 4*maxBatch), closing: make(chan struct{}), stopped: make(chan struct{})}
	if s.now == nil {
		s.now = time.Now
	}
	s.foldCells = foldCells
	s.receipts.policy = opt.Receipts.withDefaults()
	s.current = opt.Catalogues[len(opt.Catalogues)-1]
	for _, c := range opt.Catalogues {
		s.catalogues[c.Version] = c
		s.layouts[c.Version] = newLayout(c, s.current)
	}
	if opt.MaxReaders <= 0 {
		opt.MaxReaders = 8
	}
	cfg := &gorm.Config{Logger: logger.Discard, TranslateError: true, NowFunc: func() time.Time { return s.now().UTC() }}

	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		s.postgres = true
		if s.db, err = gorm.Open(postgres.Open(dsn), cfg); err != nil {
			return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
		}
		sqlDB, _ := s.db.DB()
		sqlDB.SetMaxOpenConns(16)
		sqlDB.SetMaxIdleConns(16)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		s.read = s.db
	} else {
		if err := createPrivate(dsn); err != nil {
			return nil, err
		}
		// The writer runs the same few statements for every batch:
		// keeping them prepared saves their parsing each time.
		wcfg := *cfg
		wcfg.PrepareStmt, wcfg.PrepareStmtMaxSize = true, 256
		// GORM's statement cache starts a goroutine that never ends (not
		// even on Close) unless entries never expire, which its 10-year TTL
		// means; the size bound still evicts.
		wcfg.PrepareStmtTTL = 10 * 365 * 24 * time.Hour
		if s.db, err = openSQLite(dsn, &wcfg, 1, writerCacheKiB); err != nil {
			return nil, err
		}
		if s.read, err = openSQLite(dsn, cfg, opt.MaxReaders, readerCacheKiB); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.stmts, err = newStmtCache(s.db); err != nil {
		s.Close()
		return nil, err
	}
	if s.readStmts, err = newStmtCache(s.read); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.read != s.db {
		// A reader connection opened before the migrations can name a
		// changed table's old columns beside its new values (SQLite reads
		// column names before it notices the schema changed): start the
		// read pool afresh.
		if sqlDB, err := s.read.DB(); err == nil {
			sqlDB.SetMaxIdleConns(0)
			sqlDB.SetMaxIdleConns(opt.MaxReaders)
		}
	}
	// The writers start last: an Open that fails leaves no goroutine
	// behind. SQLite has one writer connection, so one writer. Writers
	// read and rewrite no tally row (they append delta rows, see
	// tallydelta.go), so on PostgreSQL pgWriters of them store batches
	// side by side. A fold loop moves the delta rows into the tallies.
	s.writing = true
	var wg, writers sync.WaitGroup
	n := 1
	if s.postgres {
		n = pgWriters
	}
	for range n {
		writers.Add(1)
		go func() { defer writers.Done(); s.writeLoop() }()
	}
	every := opt.FoldEvery
	if every <= 0 {
		every = foldEvery
	}
	wg.Add(1)
	go func() { defer wg.Done(); s.foldLoop(every, writers.Wait) }()
	if !s.postgres {
		// Checkpoints copy the WAL into the database file. Left to SQLite,
		// the writer does it when it commits, and on a big file that means
		// scattered writes while submissions wait; a checkpoint of its own
		// every second runs beside the writer instead.
		if err := s.db.WithContext(ctx).Exec("PRAGMA wal_autocheckpoint = 0").Error; err != nil {
			s.Close()
			return nil, fmt.Errorf("set up checkpoints: %w", err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); s.checkpointLoop() }()
	}
	go func() { writers.Wait(); wg.Wait(); close(s.stopped) }()
	return s, nil
}

// createPrivate creates a new SQLite file readable by its owner only: it
// holds password and session hashes, raw answers and the audit log. SQLite
// gives the -wal and -shm files the same mode as the database file.
func createPrivate(path string) error {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, os.ErrExist):
		return nil
	case err != nil:
		return fmt.Errorf("create SQLite database %s: %w", path, err)
	}
	return f.Close()
}

// pgWriters is the number of writer goroutines on PostgreSQL: two stored
// 4,325–4,450 submissions/s, one 3,855–4,040 and three 4,083–4,371 in
// alternating load runs (BENCHMARKS.md); more writers make smaller
// batches, so more delta rows a submission.
const pgWriters = 2

// Page caches per connection. Every insert updates a few indexes at
// scattered places (submission id, commune and day, centre and time), so
// the writer keeps more of them in memory than SQLite's default 2 MiB;
// readers mostly scan tallies, which the operating system caches as well.
const (
	writerCacheKiB = 32 << 10
	readerCacheKiB = 8 << 10
)

// openSQLite opens one pool on the file. WAL lets readers work while one
// writer commits; synchronous=NORMAL in WAL mode keeps every committed
// transaction across a crash of the process (only a power cut can lose the
// last ones); _txlock=immediate takes the write lock at BEGIN, so a
// transaction's reads and writes see no other writer in between (the
// tallies' read-modify-write relies on it, also against papi import in
// another process) and two transactions never deadlock upgrading a read
// lock; busy_timeout covers other processes (papi backup, import,
// recompute) holding the lock briefly.
func openSQLite(path string, cfg *gorm.Config, conns, cacheKiB int) (*gorm.DB, error) {
	q := url.Values{}
	q.Set("_cache_size", strconv.Itoa(-cacheKiB))
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "on")
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	db, err := gorm.Open(sqlite.Open(dsn), cfg)
	if err != nil {
		return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	sqlDB, _ := db.DB()
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	sqlDB.SetConnMaxLifetime(0)
	return db, nil
}

// Close finishes the submissions already queued, then releases the
// database connections.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.closeMu.Lock()
		s.closed = true
		s.closeMu.Unlock()
		close(s.closing)
		if !s.writing {
			return
		}
		select {
		case <-s.stopped:
		case <-time.After(30 * time.Second):
		}
	})
	for _, c := range []*stmtCache{s.stmts, s.readStmts} {
		if c != nil {
			c.close()
		}
	}
	var errs []error
	for _, db := range []*gorm.DB{s.db, s.read} {
		if db == nil {
			continue
		}
		if sqlDB, err := db.DB(); err == nil {
			errs = append(errs, sqlDB.Close())
		}
		if s.read == s.db {
			break
		}
	}
	return errors.Join(errs...)
}

func (s *Store) ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("database does not answer: %w", err)
	}
	return nil
}

// Ping reports whether the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.read.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error; err != nil {
		return fmt.Errorf("database does not answer: %w", err)
	}
	return nil
}

// Postgres reports whether the store runs on PostgreSQL.
func (s *Store) Postgres() bool { return s.postgres }

// Catalogue returns the questionnaire version residents are asked now.
func (s *Store) Catalogue() *survey.Catalogue { return s.current }

// CatalogueVersion returns a published questionnaire version.
func (s *Store) CatalogueVersion(v string) (*survey.Catalogue, bool) {
	c, ok := s.catalogues[v]
	return c, ok
}

// translate turns driver errors into domain errors.
func translate(err error, what survey.Text) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return &survey.Error{Code: survey.ENOTFOUND, Message: survey.Text{Vi: "Không tìm thấy " + what.Vi + ".", En: what.En + " not found."}}
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return &survey.Error{Code: survey.ECONFLICT, Message: survey.Text{Vi: what.Vi + " đã tồn tại.", En: what.En + " already exists."}}
	}
	return err
}

// Backup writes a consistent copy of the SQLite database to path with
// VACUUM INTO, which reads one snapshot while the server keeps writing. The
// copy is readable by its owner only, like the database.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.postgres {
		return errors.New("papi backup copies SQLite files; for PostgreSQL use pg_dump")
	}
	// VACUUM INTO accepts an empty file: creating it first with mode 0600
	// means the copy is never readable by others, not even while written.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("back up to %s: %w (choose a file that does not exist)", path, err)
	}
	f.Close()
	if err := s.read.WithContext(ctx).Exec("VACUUM INTO ?", path).Error; err != nil {
		os.Remove(path)
		return fmt.Errorf("back up to %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("back up to %s: %w", path, err)
	}
	return nil
}

// knownCommune reports whether code is a commune, from the codes read once from the
// database (Seed fills it; the city's communes do not change while papi
// runs) and again when a code is missing, in case Seed ran since.
func (s *Store) knownCommune(ctx context.Context, db *gorm.DB, code string) (bool, error) {
	s.communeMu.Lock()
	defer s.communeMu.Unlock()
	if s.communes[code] {
		return true, nil
	}
	var codes []string
	if err := db.WithContext(ctx).Model(&communeRow{}).Pluck("code", &codes).Error; err != nil {
		return false, fmt.Errorf("read communes: %w", err)
	}
	s.communes = make(map[string]bool, len(codes))
	for _, c := range codes {
		s.communes[c] = true
	}
	return s.communes[code], nil
}

// checkpointLoop checkpoints the SQLite WAL every second until the store
// closes, and once more at the end.
func (s *Store) checkpointLoop() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			s.checkpoint()
			return
		case <-t.C:
			s.checkpoint()
		}
	}
}

// walRestartFrames is the WAL length (in pages, 4 KiB each) beyond which a
// checkpoint waits for the writer and truncates the WAL: 64 MiB (atomic so
// that a test may lower it).
var walRestartFrames = func() *atomic.Int64 { var n atomic.Int64; n.Store(16384); return &n }()

// checkpoint copies the WAL into the database without waiting for the
// writer or readers (PASSIVE). The WAL only starts over once a checkpoint
// has caught up while nothing writes, which a writer that never pauses (a
// bulk load, an import, a sustained burst) does not allow: a million-answer
// load grew it past 13 GB. So once it is longer than walRestartFrames, a
// TRUNCATE checkpoint waits for the writer's current batch, copies the rest
// and empties the file.
func (s *Store) checkpoint() {
	var busy, frames, copied int
	if err := s.read.Raw("PRAGMA wal_checkpoint(PASSIVE)").Row().Scan(&busy, &frames, &copied); err != nil {
		return
	}
	if int64(frames) > walRestartFrames.Load() {
		s.read.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	}
}
