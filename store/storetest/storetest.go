// Package storetest opens real stores for the tests of store, api and cmd:
// a fresh SQLite file, or a throwaway PostgreSQL schema, migrated and seeded
// with the city's communes (and, when asked, staff accounts). Only tests
// import it.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// The database engines a test can run on.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// loadCatalogues parses the embedded catalogues once per test binary; the
// stores only read them.
var loadCatalogues = sync.OnceValues(survey.Catalogues)

// Catalogues returns the published catalogues, parsed once per test binary.
// Tests must not change them.
func Catalogues(tb testing.TB) []*survey.Catalogue {
	tb.Helper()
	cats, err := loadCatalogues()
	if err != nil {
		tb.Fatal(err)
	}
	return cats
}

// PostgresCandidate is the server the PostgreSQL runs use: PAPI_TEST_POSTGRES,
// or the local server.
func PostgresCandidate() string {
	if v := os.Getenv("PAPI_TEST_POSTGRES"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// postgresDSN pings the candidate server once.
var postgresDSN = sync.OnceValue(func() string {
	db, err := gorm.Open(postgres.Open(PostgresCandidate()), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return ""
	}
	sqlDB, err := db.DB()
	if err != nil {
		return ""
	}
	defer sqlDB.Close()
	if sqlDB.Ping() != nil {
		return ""
	}
	return PostgresCandidate()
})

// PostgresDSN returns the test server's DSN if it answers, else "".
func PostgresDSN() string { return postgresDSN() }

// postgresRequired reports whether a missing server fails the test rather
// than skipping the PostgreSQL run (CI sets PAPI_TEST_POSTGRES_REQUIRED=1).
func postgresRequired() bool { return os.Getenv("PAPI_TEST_POSTGRES_REQUIRED") == "1" }

// Backends lists the databases a store test runs on: SQLite always, and
// PostgreSQL when it answers. With -short the PostgreSQL runs are left to
// the full run, which CI does. Without a server they are skipped, unless
// PAPI_TEST_POSTGRES_REQUIRED=1 makes that a failure.
func Backends(tb testing.TB) []string {
	tb.Helper()
	if testing.Short() {
		return []string{SQLite}
	}
	if PostgresDSN() == "" {
		if postgresRequired() {
			tb.Fatal("PostgreSQL is required (PAPI_TEST_POSTGRES_REQUIRED=1) but does not answer at " + PostgresCandidate())
		}
		return []string{SQLite}
	}
	return []string{SQLite, Postgres}
}

// Engine is the database the api tests run on: PAPI_TEST_ENGINE, sqlite by
// default or postgres (at PAPI_TEST_POSTGRES).
func Engine(tb testing.TB) string {
	tb.Helper()
	switch e := os.Getenv("PAPI_TEST_ENGINE"); e {
	case "", SQLite:
		return SQLite
	case Postgres:
		return Postgres
	default:
		tb.Fatalf("PAPI_TEST_ENGINE=%q: want sqlite or postgres", e)
		return ""
	}
}

// RequirePostgres skips the test when no PostgreSQL server answers (or fails
// it when PAPI_TEST_POSTGRES_REQUIRED=1).
func RequirePostgres(tb testing.TB) {
	tb.Helper()
	if PostgresDSN() != "" {
		return
	}
	if postgresRequired() {
		tb.Fatal("PostgreSQL is required (PAPI_TEST_POSTGRES_REQUIRED=1) but does not answer at " + PostgresCandidate())
	}
	tb.Skip("PostgreSQL does not answer at " + PostgresCandidate() + " (set PAPI_TEST_POSTGRES)")
}

// MustSchema creates a throwaway PostgreSQL schema, dropped when the test
// ends, and returns a DSN whose search_path points at it.
func MustSchema(tb testing.TB) string {
	tb.Helper()
	RequirePostgres(tb)
	base := PostgresDSN()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "papi_test_" + hex.EncodeToString(b)
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		tb.Fatalf("connect to PostgreSQL at PAPI_TEST_POSTGRES: %v", err)
	}
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		if db, err := admin.DB(); err == nil {
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// MustDSN returns the DSN of an empty database on backend: a new SQLite file
// in the test's temporary folder, or a new PostgreSQL schema.
func MustDSN(tb testing.TB, backend string) string {
	tb.Helper()
	if backend == Postgres {
		return MustSchema(tb)
	}
	return filepath.Join(tb.TempDir(), "papi.db")
}

// MustOpen opens the store at dsn with opt (the published catalogues when
// opt has none) and closes it when the test ends.
func MustOpen(tb testing.TB, dsn string, opt store.Options) *store.Store {
	tb.Helper()
	if len(opt.Catalogues) == 0 {
		opt.Catalogues = Catalogues(tb)
	}
	st, err := store.Open(context.Background(), dsn, opt)
	if err != nil {
		tb.Fatalf("open %s: %v", dsn, err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// MustSeed adds the city's communes and their service centres.
func MustSeed(tb testing.TB, st *store.Store) {
	tb.Helper()
	communes, err := survey.Communes()
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.Seed(context.Background(), communes); err != nil {
		tb.Fatal(err)
	}
}

// Account is a staff account a seeded store starts with.
type Account struct {
	survey.User
	Password string
}

// Seeded is a store from MustSeeded.
type Seeded struct {
	*store.Store
	// DSN is the database: a SQLite path or a postgres:// URL.
	DSN string
	// Tokens are session tokens of the accounts, by email: each account
	// logged in once (store.Login, which audits it) with the real clock.
	Tokens map[string]string
}

// MustSeeded opens a migrated store on backend, seeded with the communes
// and the given accounts (created by actor "test"), each logged in once.
//
// On SQLite with the published catalogues and the real clock, the database
// is copied from a template built once per test binary for each list of
// accounts: migrating, seeding, hashing and checking passwords (argon2id)
// for every test was most of the api tests' time.
func MustSeeded(tb testing.TB, backend string, opt store.Options, accounts ...Account) Seeded {
	tb.Helper()
	if backend == SQLite && len(opt.Catalogues) == 0 && opt.Now == nil {
		t := template(tb, accounts)
		path := filepath.Join(tb.TempDir(), "papi.db")
		if err := os.WriteFile(path, t.data, 0o600); err != nil {
			tb.Fatal(err)
		}
		return Seeded{Store: MustOpen(tb, path, opt), DSN: path, Tokens: t.tokens}
	}
	dsn := MustDSN(tb, backend)
	st := MustOpen(tb, dsn, opt)
	MustSeed(tb, st)
	return Seeded{Store: st, DSN: dsn, Tokens: mustAccounts(tb, st, accounts)}
}

// mustAccounts creates the accounts and logs each in once.
func mustAccounts(tb testing.TB, st *store.Store, accounts []Account) map[string]string {
	tb.Helper()
	ctx := context.Background()
	tokens := make(map[string]string, len(accounts))
	for _, a := range accounts {
		if _, err := st.CreateUser(ctx, "test", a.User, a.Password); err != nil {
			tb.Fatalf("create %s: %v", a.Email, err)
		}
		token, _, err := st.Login(ctx, a.Email, a.Password)
		if err != nil {
			tb.Fatalf("log in %s: %v", a.Email, err)
		}
		tokens[a.Email] = token
	}
	return tokens
}

// seededTemplate is a seeded SQLite database as bytes, with its accounts'
// session tokens.
type seededTemplate struct {
	data   []byte
	tokens map[string]string
	built  time.Time
}

// templateAge is how long a template is reused: its sessions were last seen
// when it was built and end after store.SessionIdle without use, so a long
// test run (under -race, say) builds a fresh one well before that.
const templateAge = store.SessionIdle / 2

var (
	templatesMu sync.Mutex
	templates   = map[string]seededTemplate{}
)

// template returns a seeded SQLite database holding accounts, building it
// on first use.
func template(tb testing.TB, accounts []Account) seededTemplate {
	tb.Helper()
	var key strings.Builder
	for _, a := range accounts {
		fmt.Fprintf(&key, "%s|%s|%s|%s\n", a.Email, a.Role, a.CommuneCode, a.Password)
	}
	templatesMu.Lock()
	defer templatesMu.Unlock()
	if t, ok := templates[key.String()]; ok && time.Since(t.built) < templateAge {
		return t
	}
	dir, err := os.MkdirTemp("", "papi-template-")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(context.Background(), filepath.Join(dir, "papi.db"), store.Options{Catalogues: Catalogues(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	MustSeed(tb, st)
	tokens := mustAccounts(tb, st, accounts)
	copyPath := filepath.Join(dir, "template.db")
	if err := st.Backup(context.Background(), copyPath); err != nil {
		tb.Fatal(err)
	}
	data, err := os.ReadFile(copyPath)
	if err != nil {
		tb.Fatal(err)
	}
	t := seededTemplate{data: data, tokens: tokens, built: time.Now()}
	templates[key.String()] = t
	return t
}

// MustRaw opens a plain connection to the database at dsn (a SQLite path or
// a postgres:// URL), closed when the test ends, for tests that must reach
// under the store.
func MustRaw(tb testing.TB, dsn string) *gorm.DB {
	tb.Helper()
	var dial gorm.Dialector
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		dial = postgres.Open(dsn)
	} else {
		dial = sqlite.Open("file:" + dsn + "?_busy_timeout=10000")
	}
	raw, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if db, err := raw.DB(); err == nil {
			db.Close()
		}
	})
	return raw
}

// OpenHours returns a clock for tests that store answers "now" and expect
// them counted: answers sent while centres are closed are flagged
// (survey.OpenHours), so outside opening hours the clock runs from 10:00
// city time of today (of Saturday on a Sunday) instead of the real time.
func OpenHours() func() time.Time {
	start := time.Now()
	if survey.OpenHours(start) {
		return time.Now
	}
	day := start.In(survey.Local)
	if day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, -1)
	}
	base := time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, survey.Local)
	return func() time.Time { return base.Add(time.Since(start)) }
}
