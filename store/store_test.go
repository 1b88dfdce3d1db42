package store_test

import (
	"context"
	"path/filepath"
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

// backends lists the databases every store test runs on (storetest.Backends):
// a fresh SQLite file always, and PostgreSQL at PAPI_TEST_POSTGRES (default:
// the local server) outside -short, each test in its own schema.
func backends(t *testing.T) []string { return storetest.Backends(t) }

// eachBackend runs fn once per database as a subtest.
func eachBackend(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	eachBackendAt(t, nil, fn)
}

// eachBackendAt is eachBackend with the stores' clock.
func eachBackendAt(t *testing.T, now func() time.Time, fn func(t *testing.T, st *store.Store)) {
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			fn(t, MustOpen(t, b, now))
		})
	}
}

// MustOpen opens an empty, migrated and seeded store on the given backend;
// now is the clock (time.Now when nil).
func MustOpen(t testing.TB, backend string, now func() time.Time) *store.Store {
	t.Helper()
	return storetest.MustSeeded(t, backend, store.Options{Now: now}).Store
}

// MustSchema creates a throwaway PostgreSQL schema and returns a DSN whose
// search_path points at it.
func MustSchema(t testing.TB) string { return storetest.MustSchema(t) }

func TestSeedIsIdempotent(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		communes, _ := survey.Communes()
		if err := st.Seed(ctx, communes); err != nil {
			t.Fatalf("second seed: %v", err)
		}
		list, err := st.Communes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 168 {
			t.Fatalf("got %d communes, want 168", len(list))
		}
		centres, err := st.AllCentres(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(centres) != 168 {
			t.Fatalf("got %d centres after two seeds, want 168 (one per commune)", len(centres))
		}
		tokens := map[string]bool{}
		for _, c := range centres {
			if len(c.Token) != 32 || strings.ToLower(c.Token) != c.Token {
				t.Errorf("centre %d token %q: want 32 lower-case base32 characters", c.ID, c.Token)
			}
			if tokens[c.Token] {
				t.Errorf("token %q is not unique", c.Token)
			}
			tokens[c.Token] = true
			if !c.Open || !strings.HasPrefix(c.Name, "Trung tâm Phục vụ hành chính công ") {
				t.Errorf("centre %d: got open=%v name %q", c.ID, c.Open, c.Name)
			}
		}
		saigon, err := st.Commune(ctx, "26740")
		if err != nil || saigon.Name != "Phường Sài Gòn" || saigon.FormerProvince != "Hồ Chí Minh" {
			t.Errorf("commune 26740: got %+v, %v; want Phường Sài Gòn in Hồ Chí Minh", saigon, err)
		}
		if _, err := st.Commune(ctx, "99999"); survey.ErrorCode(err) != survey.ENOTFOUND {
			t.Errorf("unknown commune: got %v, want not_found", err)
		}
	})
}

func TestCentres(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c, err := st.CreateCentre(ctx, "test", "26740", "  Điểm tiếp nhận số 2  ", 0)
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "Điểm tiếp nhận số 2" || !c.Open {
			t.Errorf("got %+v, want trimmed name and open", c)
		}
		list, _ := st.Centres(ctx, "26740")
		if len(list) != 2 {
			t.Fatalf("got %d centres in 26740, want 2", len(list))
		}
		byToken, err := st.CentreByToken(ctx, c.Token)
		if err != nil || byToken.ID != c.ID {
			t.Fatalf("CentreByToken: got %+v, %v", byToken, err)
		}
		if _, err := st.SetCentreOpen(ctx, "test", c.ID, false); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.Centre(ctx, c.ID); got.Open {
			t.Error("centre still open after closing")
		}
		for _, tc := range []struct{ code, name, want string }{
			{"26740", "", survey.EINVALID},
			{"99999", "X", survey.ENOTFOUND},
		} {
			if _, err := st.CreateCentre(ctx, "test", tc.code, tc.name, 0); survey.ErrorCode(err) != tc.want {
				t.Errorf("CreateCentre(%q, %q): got %v, want %s", tc.code, tc.name, err, tc.want)
			}
		}
	})
}

func TestMigrationsRunOnce(t *testing.T) {
	dir := t.TempDir()
	cats, _ := survey.Catalogues()
	path := filepath.Join(dir, "papi.db")
	for i := 0; i < 2; i++ {
		st, err := store.Open(context.Background(), path, store.Options{Catalogues: cats})
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		st.Close()
	}
	db, err := gorm.Open(sqlite.Open(path), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	db.Table("schema_migrations").Count(&n)
	if n != int64(store.SchemaVersion) {
		t.Errorf("got %d recorded migrations after two opens, want %d (each step once)", n, store.SchemaVersion)
	}
	var mode string
	db.Raw("PRAGMA journal_mode").Scan(&mode)
	if mode != "wal" {
		t.Errorf("journal_mode: got %q, want wal", mode)
	}
}
