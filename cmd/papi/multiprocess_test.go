package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/papi-hcmc/papi/survey"
)

// testPostgres returns the PostgreSQL server of the tests, or skips (fails
// with PAPI_TEST_POSTGRES_REQUIRED=1) when it does not answer.
func testPostgres(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("PAPI_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err == nil {
		if sqlDB, e := db.DB(); e == nil {
			err = sqlDB.Ping()
			sqlDB.Close()
		}
	}
	if err != nil {
		if os.Getenv("PAPI_TEST_POSTGRES_REQUIRED") == "1" {
			t.Fatalf("PostgreSQL is required but does not answer at %s: %v", dsn, err)
		}
		t.Skipf("PostgreSQL does not answer at %s: %v", dsn, err)
	}
	return dsn
}

// pgSchemaDSN creates a schema dropped after the test and returns a DSN
// whose search_path is that schema, and a handle on it.
func pgSchemaDSN(t *testing.T, base string) (string, *gorm.DB) {
	t.Helper()
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	schema := "papi_multi_" + hex.EncodeToString(b)
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := gorm.Open(postgres.Open(u.String()), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		if sqlDB, err := admin.DB(); err == nil {
			sqlDB.Close()
		}
	})
	return u.String(), db
}

// TestSeveralProcessesOnePostgres starts two `papi serve` processes on one
// PostgreSQL schema at the same moment (both migrate and seed it), sends
// the same stream of submissions split between them, concurrently, and to
// a single process on another schema; a login made on one process works on
// the other and a receipt issued by one is used through the other. The
// summaries, the comparison and `papi recompute` must then be exactly what
// the single process gives: no tally update is lost between processes.
func TestSeveralProcessesOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts three papi processes")
	}
	base := testPostgres(t)
	dir := t.TempDir()
	multiDSN, multiDB := pgSchemaDSN(t, base)
	singleDSN, singleDB := pgSchemaDSN(t, base)

	var a, b *papiProc
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a = startPapi(t, multiDSN, filepath.Join(dir, "a.log")) }()
	go func() { defer wg.Done(); b = startPapi(t, multiDSN, filepath.Join(dir, "b.log")) }()
	wg.Wait()
	if a == nil || b == nil {
		t.Fatal("a papi process did not start")
	}
	c := startPapi(t, singleDSN, filepath.Join(dir, "c.log"))

	// The same commune's centre has a different token (and maybe id) in
	// each schema: centres are matched by commune.
	tokensOf := func(db *gorm.DB) ([]string, []int) {
		var rows []struct {
			ID    int
			Token string
		}
		if err := db.Raw("SELECT id, token FROM centres ORDER BY commune_code, id").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		var tokens []string
		var ids []int
		for _, r := range rows {
			tokens, ids = append(tokens, r.Token), append(ids, r.ID)
		}
		return tokens, ids
	}
	multiTokens, multiIDs := tokensOf(multiDB)
	singleTokens, singleIDs := tokensOf(singleDB)
	if len(multiTokens) != 168 || len(singleTokens) != 168 {
		t.Fatalf("got %d and %d centres, want 168 each (two processes seeding at once must not add twice)", len(multiTokens), len(singleTokens))
	}
	for _, db := range []string{multiDSN, singleDSN} {
		cmd := exec.Command(papiBinary(t), "user", "add", "--email", "admin@sonoivu.gov.vn", "--role", "admin")
		cmd.Env = papiEnv(db, "127.0.0.1:0")
		cmd.Stdin = strings.NewReader("a-long-password\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("papi user add: %v\n%s", err, out)
		}
	}
	hc := &http.Client{Timeout: 20 * time.Second}
	// A session made on one process is honoured by the other.
	multiToken := login(t, hc, a.base)
	singleToken := login(t, hc, c.base)

	cats, err := survey.Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	cat := cats[len(cats)-1]
	rng := mrand.New(mrand.NewPCG(51, 52))
	const n = 504 // three visits per centre: far below the burst limit
	type sub struct {
		centre int
		fields map[string]any
	}
	subs := make([]sub, n)
	for i := range subs {
		s := cat.Synthesize(rng, cat.AssignModules(uint64(i)), 0.2+0.6*rng.Float64())
		subs[i] = sub{centre: i % 168, fields: map[string]any{"submission_id": fmt.Sprintf("multi-%05d", i), "questionnaire_version": cat.Version,
			"modules": s.Modules, "answers": s.Answers, "sex": s.Sex, "age_group": s.AgeGroup, "duration_ms": 300000, "lang": "vi"}}
	}
	// Receipts: issued through one process, used through the other.
	for i := 0; i < 6; i++ {
		subs[i].fields["receipt"] = receipt(t, hc, b.base, multiToken, multiIDs[subs[i].centre])
	}
	body := func(s sub, tokens []string, receiptCode string) []byte {
		f := map[string]any{"token": tokens[s.centre]}
		for k, v := range s.fields {
			f[k] = v
		}
		if receiptCode != "" {
			f["receipt"] = receiptCode
		}
		out, _ := json.Marshal(f)
		return out
	}
	send := func(base string, tokens []string, idx []int, receipts map[int]string) {
		var wg sync.WaitGroup
		jobs := make(chan int)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					rc, _ := subs[i].fields["receipt"].(string)
					if receipts != nil {
						rc = receipts[i]
					}
					res := submit(context.Background(), hc, base, body(subs[i], tokens, rc))
					if res.err != nil || res.status != http.StatusCreated {
						t.Errorf("submission %d to %s: status %d, %v", i, base, res.status, res.err)
					}
				}
			}()
		}
		for _, i := range idx {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
	}
	var toA, toB, all []int
	for i := range subs {
		all = append(all, i)
		if i%2 == 0 {
			toA = append(toA, i)
		} else {
			toB = append(toB, i)
		}
	}
	wg.Add(2)
	go func() { defer wg.Done(); send(a.base, multiTokens, toA, nil) }()
	go func() { defer wg.Done(); send(b.base, multiTokens, toB, nil) }()
	wg.Wait()
	singleReceipts := map[int]string{}
	for i := 0; i < 6; i++ {
		singleReceipts[i] = receipt(t, hc, c.base, singleToken, singleIDs[subs[i].centre])
	}
	send(c.base, singleTokens, all, singleReceipts)

	for _, path := range []string{
		"/api/v1/compare?flagged=include",
		"/api/v1/compare?flagged=include&verified=1",
		"/api/v1/summary?flagged=include",
		"/api/v1/communes/26740/summary?flagged=include",
		"/api/v1/communes/25747/summary?flagged=include",
	} {
		want := get(t, hc, c.base+path, singleToken)
		for _, p := range []*papiProc{a, b} {
			if got := get(t, hc, p.base+path, multiToken); !bytes.Equal(got, want) {
				at := 0
				for at < len(got) && at < len(want) && got[at] == want[at] {
					at++
				}
				from := max(0, at-200)
				t.Errorf("%s from one of two processes differs from a single process at byte %d:\ngot  …%.400s\nwant …%.400s", path, at, got[from:], want[from:])
			}
		}
	}
	var counted map[string]any
	if err := json.Unmarshal(get(t, hc, a.base+"/api/v1/summary?flagged=include", multiToken), &counted); err != nil {
		t.Fatalf("city summary: %v", err)
	}
	if counted["counted_responses"] != float64(n) || counted["verified_responses"] != float64(6) {
		t.Errorf("city summary: got %v counted, %v verified; want %d and 6", counted["counted_responses"], counted["verified_responses"], n)
	}
	for _, db := range []string{multiDSN, singleDSN} {
		if out, err := runRecompute(t, db); err != nil || !strings.Contains(out, "0 tally rows differed") {
			t.Errorf("papi recompute: %v\n%s", err, out)
		}
	}
}

func login(t *testing.T, hc *http.Client, base string) string {
	t.Helper()
	resp, err := hc.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(`{"email":"admin@sonoivu.gov.vn","password":"a-long-password"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		t.Fatalf("login: status %d, %v", resp.StatusCode, err)
	}
	return out.Token
}

func get(t *testing.T, hc *http.Client, u, token string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", u, resp.StatusCode, tail(b, 300))
	}
	return b
}

// receipt issues a receipt code for a centre (by id) through one process.
func receipt(t *testing.T, hc *http.Client, base, token string, centre int) string {
	t.Helper()
	// As the one-stop system does: bound to the procedure's record number.
	record := fmt.Sprintf(`{"record":"HS-%d-%d"}`, centre, time.Now().UnixNano())
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v1/centres/%d/receipts", base, centre), strings.NewReader(record))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Code string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Code == "" {
		t.Fatalf("issue a receipt: status %d, %v", resp.StatusCode, err)
	}
	return out.Code
}
