package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/store/storetest"
	"github.com/papi-hcmc/papi/survey"
)

// emptyDB returns a DSN for an empty database on the backend and a handle
// on it that bypasses the store.
func emptyDB(t *testing.T, backend string) (string, *gorm.DB) {
	t.Helper()
	dsn := storetest.MustDSN(t, backend)
	return dsn, storetest.MustRaw(t, dsn)
}

// schemaOf describes a database's tables, columns (name, type, nullability,
// default) and indexes (name, table, columns, uniqueness), sorted, so that
// two schemas compare as text.
func schemaOf(t *testing.T, backend string, db *gorm.DB) []string {
	t.Helper()
	var out []string
	if backend == "postgres" {
		var schema string
		db.Raw("SELECT current_schema()").Scan(&schema)
		var cols, idx []string
		if err := db.Raw(`SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || '(' || COALESCE(character_maximum_length, 0)::text || ') nullable=' || is_nullable || ' default=' || COALESCE(column_default, '')
			FROM information_schema.columns WHERE table_schema = current_schema()`).Scan(&cols).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Raw(`SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = current_schema()`).Scan(&idx).Error; err != nil {
			t.Fatal(err)
		}
		for _, i := range idx {
			out = append(out, strings.ReplaceAll(i, schema+".", ""))
		}
		out = append(out, cols...)
	} else {
		var tables []string
		db.Raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").Scan(&tables)
		for _, tb := range tables {
			var cols []string
			db.Raw(`SELECT 'column ' || ? || '.' || name || ' ' || type || ' notnull=' || "notnull" || ' default=' || COALESCE(dflt_value, '') || ' pk=' || pk FROM pragma_table_info(?)`, tb, tb).Scan(&cols)
			out = append(out, cols...)
			var idx []struct {
				Name   string
				Unique int
			}
			db.Raw(`SELECT name, "unique" FROM pragma_index_list(?)`, tb).Scan(&idx)
			for _, i := range idx {
				var cols []string
				db.Raw("SELECT name FROM pragma_index_info(?) ORDER BY seqno", i.Name).Scan(&cols)
				out = append(out, fmt.Sprintf("index %s on %s(%s) unique=%d", i.Name, tb, strings.Join(cols, ","), i.Unique))
			}
		}
	}
	slices.Sort(out)
	return out
}

// loadFixture runs a schema dump of an earlier papi and records its steps
// as applied, as that papi would have left the database.
func loadFixture(t *testing.T, db *gorm.DB, file string, steps int, strip string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range strings.Split(string(b), ";\n") {
		if strip != "" {
			if strings.Contains(stmt, "INDEX") && strings.Contains(stmt, "fingerprint") {
				continue
			}
			stmt = strings.ReplaceAll(stmt, ","+strip, "")
		}
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			if err := db.Exec(stmt).Error; err != nil {
				t.Fatalf("%s: %v\n%s", file, err, stmt)
			}
		}
	}
	for v := 1; v <= steps; v++ {
		if err := db.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", v, fmt.Sprintf("step %d", v), time.Now().UTC()).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrateFromEarlierSchemas builds the schema of an earlier papi (only
// its first step, and all five steps of the last release with running
// aggregates), fills it with communes, centres, users, receipts, responses
// and stale aggregates as that version wrote them, opens it with this
// build, and checks that the result has exactly the schema of a fresh
// database, that the tallies were rebuilt from the responses, and that the
// old responses' times and durations were coarsened.
func TestMigrateFromEarlierSchemas(t *testing.T) {
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			freshDSN, freshDB := emptyDB(t, backend)
			fresh := MustOpenDSN(t, freshDSN, time.Now)
			want := schemaOf(t, backend, freshDB)
			t.Logf("fresh %s schema: %d columns and indexes, e.g. %q", backend, len(want), want[len(want)/2])
			if !slices.ContainsFunc(want, func(s string) bool { return strings.Contains(s, "tallies") }) {
				t.Fatalf("fresh schema has no tallies table: %v", want)
			}
			cat := fresh.Catalogue()
			// The first schemas had no answer fingerprints (step 3 added
			// them); later ones created them in step 1.
			fingerprint := "`fingerprint` text"
			if backend == "postgres" {
				fingerprint = `"fingerprint" varchar(16)`
			}
			for _, fx := range []struct {
				name, file string
				steps      int
				strip      string
			}{
				{"v1 without fingerprints", "schema-v1." + backend + ".sql", 1, fingerprint},
				{"v1", "schema-v1." + backend + ".sql", 1, ""},
				{"v5", "schema-v5." + backend + ".sql", 5, ""},
			} {
				t.Run(fx.name, func(t *testing.T) {
					dsn, db := emptyDB(t, backend)
					loadFixture(t, db, fx.file, fx.steps, fx.strip)
					rng := rand.New(rand.NewPCG(uint64(fx.steps), 31))
					for i, code := range []string{"26740", "25747"} {
						db.Exec("INSERT INTO communes (code, name, type, former_province) VALUES (?, ?, ?, ?)", code, "Phường "+code, "phuong", "Hồ Chí Minh")
						db.Exec("INSERT INTO centres (commune_code, name, token, open, created_at) VALUES (?, ?, ?, ?, ?)", code, "Trung tâm "+code, fmt.Sprintf("token%027d", i), true, time.Now().UTC())
					}
					db.Exec("INSERT INTO users (email, password_hash, role, commune_code, created_at) VALUES (?, ?, ?, ?, ?)", "a@x.vn", "hash", "admin", "", time.Now().UTC())
					db.Exec("INSERT INTO receipts (code_hash, centre_id, issued_by, created_at) VALUES (?, ?, ?, ?)", "abc", 1, "a@x.vn", time.Now().UTC())
					at := time.Date(2026, 2, 10, 2, 3, 4, 567890000, time.UTC)
					for i := 0; i < 40; i++ {
						v := MustVisit(t, cat, rng, cat.AssignModules(uint64(i)))
						ans, _ := json.Marshal(v.Answers)
						created := at.Add(time.Duration(i) * 13 * time.Hour)
						status := store.StatusCounted
						if i%9 == 0 {
							status = store.StatusFlagged
						}
						cols, vals := "", []any{}
						if fx.strip == "" {
							cols, vals = ", fingerprint", []any{survey.Fingerprint(v.Answers)}
						}
						err := db.Exec(`INSERT INTO responses (submission_id, centre_id, commune_code, day, questionnaire_version, modules, answers, sex, age_group, lang, duration_ms, verified, status, flags, created_at`+cols+`)
							VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?`+strings.Repeat(", ?", len(vals))+`)`,
							append([]any{fmt.Sprintf("old-%d", i), 1 + i%2, []string{"26740", "25747"}[i%2], survey.LocalDay(created), cat.Version, strings.Join(v.Modules, ","), string(ans),
								v.Sex, v.AgeGroup, "vi", 61234 + i, i%5 == 0, status, "", created}, vals...)...).Error
						if err != nil {
							t.Fatal(err)
						}
					}
					if fx.steps >= 2 {
						// A stale aggregate row: the migration drops the table.
						db.Exec("INSERT INTO aggregates (grain, period, centre_id, indicator, verified, flagged, commune_code, n, sum, sum_sq) VALUES ('m', '2026-02', 1, 'D1.1.1', false, false, '26740', 7, 3, 3)")
					}
					st := MustOpenDSN(t, dsn, time.Now)
					if got := schemaOf(t, backend, db); !slices.Equal(got, want) {
						for _, l := range got {
							if !slices.Contains(want, l) {
								t.Errorf("upgraded schema has %s; a fresh one does not", l)
							}
						}
						for _, l := range want {
							if !slices.Contains(got, l) {
								t.Errorf("upgraded schema lacks %s", l)
							}
						}
					}
					ctx := context.Background()
					for _, p := range []survey.Period{{From: "2026-01-01", To: "2026-12-31"}, {From: "2026-02-12", To: "2026-02-20"}} {
						for _, flagged := range []bool{false, true} {
							got, err := st.Tallies(ctx, store.Filter{From: p.From, To: p.To, IncludeFlagged: flagged})
							if err != nil {
								t.Fatal(err)
							}
							compareTallies(t, "upgraded "+p.From+".."+p.To, got, rawTallies(t, st, p, false, flagged))
						}
					}
					if rep, err := st.Recompute(ctx); err != nil || rep.Mismatches != 0 || rep.Responses != 40 {
						t.Errorf("recompute after the upgrade: got %+v, %v; want 40 responses, 0 mismatches", rep, err)
					}
					r, err := st.ResponseBySubmission(ctx, "old-3")
					if err != nil {
						t.Fatal(err)
					}
					if r.CreatedAt.Second() != 0 || r.CreatedAt.Nanosecond() != 0 || r.DurationMS != 61000 || r.Channel != survey.ChannelQR {
						t.Errorf("old response after the upgrade: got time %v, duration %d, channel %q; want whole minutes, 61000 ms, qr", r.CreatedAt, r.DurationMS, r.Channel)
					}
					if u, err := st.Users(ctx); err != nil || len(u) != 1 {
						t.Errorf("users after the upgrade: got %v, %v", u, err)
					}
				})
			}
		})
	}
}

// MustOpenDSN opens a store on an existing DSN.
func MustOpenDSN(t testing.TB, dsn string, now func() time.Time) *store.Store {
	t.Helper()
	return storetest.MustOpen(t, dsn, store.Options{Now: now})
}

// TestRefuseNewerSchema: a database migrated by a newer papi is refused
// with both versions named, and nothing is changed.
func TestRefuseNewerSchema(t *testing.T) {
	eachBackendDSN(t, func(t *testing.T, dsn string, db *gorm.DB) {
		st := MustOpenDSN(t, dsn, time.Now)
		st.Close()
		newer := store.SchemaVersion + 1
		if err := db.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', ?)", newer, time.Now().UTC()).Error; err != nil {
			t.Fatal(err)
		}
		cats, _ := survey.Catalogues()
		_, err := store.Open(context.Background(), dsn, store.Options{Catalogues: cats})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprint(newer)) || !strings.Contains(err.Error(), fmt.Sprint(store.SchemaVersion)) {
			t.Errorf("open a newer schema: got %v, want a refusal naming versions %d and %d", err, newer, store.SchemaVersion)
		}
	})
}

func eachBackendDSN(t *testing.T, fn func(t *testing.T, dsn string, db *gorm.DB)) {
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			dsn, db := emptyDB(t, b)
			fn(t, dsn, db)
		})
	}
}

// TestFailedOpenLeavesNoGoroutine opens databases that fail at each stage
// (no server, not a database, a newer schema) and counts goroutines: a
// failed Open must not leave its writer (or anything else) running.
func TestFailedOpenLeavesNoGoroutine(t *testing.T) {
	dir := t.TempDir()
	cats, _ := survey.Catalogues()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 400)), 0o600); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "newer.db")
	st, err := store.Open(context.Background(), newer, store.Options{Catalogues: cats})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, _ := gorm.Open(sqlite.Open(newer), &gorm.Config{Logger: logger.Discard})
	db.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'x', ?)", store.SchemaVersion+1, time.Now().UTC())
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
	dsns := []string{garbage, newer, filepath.Join(dir, "no", "such", "dir.db"), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1"}
	settle := func() int {
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
		return runtime.NumGoroutine()
	}
	before := settle()
	for i := 0; i < 5; i++ {
		for _, dsn := range dsns {
			if st, err := store.Open(context.Background(), dsn, store.Options{Catalogues: cats}); err == nil {
				st.Close()
				t.Fatalf("open %s: got no error, want one", dsn)
			}
		}
	}
	after := settle()
	for i := 0; i < 20 && after > before; i++ {
		after = settle()
	}
	if after > before {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: got %d after %d failed opens, want %d as before\n%s", after, 5*len(dsns), before, buf[:runtime.Stack(buf, true)])
	}
}

// TestFileModes: the SQLite database, its WAL and a backup are readable by
// their owner only.
func TestFileModes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "papi.db")
	st := MustOpenDSN(t, path, time.Now)
	ctx := context.Background()
	communes, _ := survey.Communes()
	if err := st.Seed(ctx, communes); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	if err := st.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", backup} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: got mode %v, want -rw-------", filepath.Base(p), fi.Mode().Perm())
		}
	}
	if err := st.Backup(ctx, backup); err == nil {
		t.Error("backup over an existing file: got no error, want a refusal")
	}
}
