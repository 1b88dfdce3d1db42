package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
)

// clock is a settable time for the server under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// login posts credentials and returns the status, Retry-After and body.
func (ts *testServer) login(t testing.TB, email, password string) (int, string, string) {
	t.Helper()
	res, body := ts.send(t, "POST", "/api/v1/auth/login", mustJSON(map[string]string{"email": email, "password": password}), map[string]string{"Content-Type": "application/json"})
	return res.StatusCode, res.Header.Get("Retry-After"), body
}

// TestLoginThrottling closes M3: after 5 failures each try waits twice as
// long as the last, after 10 the account is locked for 15 minutes, and the
// right password does not get through meanwhile (it did after 30 wrong
// ones). A client trying many accounts is held back too.
func TestLoginThrottling(t *testing.T) {
	clk := &clock{t: time.Now()}
	ts := MustServerConfig(t, api.Config{RateLimit: api.RateLimit{Off: true}, Now: clk.now})
	const good = "correct horse battery"
	for i := 1; i <= 5; i++ {
		if st, _, body := ts.login(t, "admin@papi.test", fmt.Sprintf("wrong-%d-password", i)); st != 401 {
			t.Fatalf("failure %d: got %d %s, want 401", i, st, body)
		}
	}
	// From here on: wait, try, wait twice as long.
	for i, wait := range []int{1, 2, 4, 8, 16} {
		st, retry, body := ts.login(t, "admin@papi.test", good)
		if st != 429 || retry != strconv.Itoa(wait) || !strings.Contains(body, "message_vi") {
			t.Fatalf("try %d during the wait: got %d Retry-After %q %s, want 429 after %d s", 6+i, st, retry, body, wait)
		}
		clk.add(time.Duration(wait) * time.Second)
		if st, _, _ := ts.login(t, "admin@papi.test", "still-wrong-password"); st != 401 {
			t.Fatalf("failure %d after waiting: got %d, want 401", 6+i, st)
		}
	}
	// Ten failures: locked for 15 minutes, the right password included.
	st, retry, body := ts.login(t, "admin@papi.test", good)
	if st != 429 || retry != "900" || !strings.Contains(body, "15 phút") || !strings.Contains(body, "15 minutes") {
		t.Fatalf("after 10 failures: got %d Retry-After %q %s, want 429 for 15 minutes", st, retry, body)
	}
	clk.add(14 * time.Minute)
	if st, _, _ := ts.login(t, "admin@papi.test", good); st != 429 {
		t.Fatalf("14 minutes into the lock: got %d, want 429", st)
	}
	clk.add(time.Minute)
	if st, _, body := ts.login(t, "admin@papi.test", good); st != 200 {
		t.Fatalf("after the lock: got %d %s, want 200", st, body)
	}
	// The success cleared the account: had its 10 failures stayed, the
	// next one would lock it again for 15 minutes. (The client keeps its
	// count, now 11 of its 20: a 2 s wait.)
	if st, _, _ := ts.login(t, "admin@papi.test", "wrong-again-password"); st != 401 {
		t.Fatalf("failure after a success: got %d, want 401", st)
	}
	clk.add(2 * time.Second)
	if st, _, body := ts.login(t, "admin@papi.test", good); st != 200 {
		t.Fatalf("right password 2 s after one new failure: got %d %s, want 200", st, body)
	}

	// One client spraying passwords over many accounts: held back after
	// 10 failures in all (the client's allowance is twice an account's),
	// even for an account it has not tried.
	spray := MustServerConfig(t, api.Config{RateLimit: api.RateLimit{Off: true}, Now: clk.now})
	for i := 0; i < 10; i++ {
		if st, _, _ := spray.login(t, fmt.Sprintf("user%d@papi.test", i), "some password"); st != 401 {
			t.Fatalf("spray %d: got %d, want 401", i, st)
		}
	}
	if st, _, _ := spray.login(t, "dept@sonoivu.test", good); st != 429 {
		t.Errorf("after 10 failures over 10 accounts from one client: got %d, want 429", st)
	}

	// L5: what was typed into the email field is recorded only if it is an
	// email address, and repeated failures share one row per minute.
	if st, _, _ := spray.login(t, "MySecretPassw0rd!", "admin@papi.test"); st != 429 && st != 401 {
		t.Fatalf("login with a password typed as email: got %d", st)
	}
	clk.add(time.Hour)
	ts.login(t, "MySecretPassw0rd!", "admin@papi.test")
	var log []store.AuditEntry
	ts.do(t, "GET", "/api/v1/audit?action=login_failed", ts.tokens["admin"], "", &log)
	var admin, invalid int64
	for _, e := range log {
		if strings.Contains(strings.ToLower(e.Actor+e.Target), "mysecret") {
			t.Errorf("audit row holds the typed secret: %+v", e)
		}
		if !strings.HasPrefix(e.Target, "client ") || len(e.Target) != len("client ")+8 {
			t.Errorf("audit target %q: want a client tag, never an address", e.Target)
		}
		switch e.Actor {
		case "admin@papi.test":
			admin += e.Count
		case "<invalid>":
			invalid += e.Count
		}
	}
	if admin != 11 || invalid != 1 || len(log) > 6 {
		t.Errorf("login_failed rows: %d rows counting %d failures for admin and %d <invalid>; want 11 and 1 in a few rows", len(log), admin, invalid)
	}
	ts.do(t, "GET", "/api/v1/audit?action=login_locked", ts.tokens["admin"], "", &log)
	if len(log) != 1 || log[0].Actor != "admin@papi.test" || log[0].Target != "account" {
		t.Errorf("login_locked rows: got %+v, want one for the admin account", log)
	}
}

// TestLoginPasswordBound closes M4's length bound: an over-long password is
// refused before any hashing.
func TestLoginPasswordBound(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	if st, _, body := ts.login(t, "admin@papi.test", strings.Repeat("p", 257)); st != 400 || !strings.Contains(body, `"field":"password"`) {
		t.Errorf("257-byte password: got %d %s, want 400 on password", st, body)
	}
	res := ts.do(t, "POST", "/api/v1/users", ts.tokens["admin"], mustJSON(map[string]string{"email": "long@papi.test", "password": strings.Repeat("ư", 130), "role": "admin"}), nil)
	if res.StatusCode != 400 {
		t.Errorf("account with a 260-byte password: got %d, want 400", res.StatusCode)
	}
}

// TestAccountAPI closes M8 in the admin API: PATCH /users/{id} disables
// (sessions end at once), enables and sets passwords (other sessions end);
// DELETE /users/{id}/sessions revokes; everything is audited.
func TestAccountAPI(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	var users []struct {
		ID       uint
		Email    string
		Disabled bool
	}
	ts.do(t, "GET", "/api/v1/users", ts.tokens["admin"], "", &users)
	ids := map[string]uint{}
	for _, u := range users {
		ids[u.Email] = u.ID
	}
	officer, admin := ids["xa@saigon.test"], ids["admin@papi.test"]
	path := fmt.Sprintf("/api/v1/users/%d", officer)
	me := func(token string) int { return ts.do(t, "GET", "/api/v1/me", token, "", nil).StatusCode }

	var got struct{ Disabled bool }
	if res := ts.do(t, "PATCH", path, ts.tokens["admin"], `{"disabled":true}`, &got); res.StatusCode != 200 || !got.Disabled {
		t.Fatalf("disable: got %d %+v", res.StatusCode, got)
	}
	if st := me(ts.tokens["commune"]); st != 401 {
		t.Errorf("disabled account's session: /me got %d, want 401 at once", st)
	}
	if st, _, body := ts.login(t, "xa@saigon.test", "correct horse battery"); st != 403 || !strings.Contains(body, "message_vi") {
		t.Errorf("login to a disabled account: got %d %s, want 403", st, body)
	}
	if res := ts.do(t, "PATCH", path, ts.tokens["admin"], `{"disabled":false}`, nil); res.StatusCode != 200 {
		t.Fatalf("enable: got %d", res.StatusCode)
	}
	var a, b struct{ Token string }
	for _, dst := range []*struct{ Token string }{&a, &b} {
		_, _, body := ts.login(t, "xa@saigon.test", "correct horse battery")
		_ = json.Unmarshal([]byte(body), dst)
	}
	if me(a.Token) != 200 || me(b.Token) != 200 {
		t.Fatal("logins after enabling failed")
	}
	if res := ts.do(t, "PATCH", path, ts.tokens["admin"], `{"password":"a brand new password"}`, nil); res.StatusCode != 200 {
		t.Fatalf("set password: got %d", res.StatusCode)
	}
	if me(a.Token) != 401 || me(b.Token) != 401 {
		t.Error("sessions survived a password set by an admin")
	}
	if st, _, _ := ts.login(t, "xa@saigon.test", "a brand new password"); st != 200 {
		t.Errorf("new password: got %d, want 200", st)
	}
	// The admin changes their own password: this session stays, others end.
	_, _, body := ts.login(t, "admin@papi.test", "correct horse battery")
	var other struct{ Token string }
	_ = json.Unmarshal([]byte(body), &other)
	if res := ts.do(t, "PATCH", fmt.Sprintf("/api/v1/users/%d", admin), ts.tokens["admin"], `{"password":"admin's new password"}`, nil); res.StatusCode != 200 {
		t.Fatalf("own password: got %d", res.StatusCode)
	}
	if me(ts.tokens["admin"]) != 200 || me(other.Token) != 401 {
		t.Errorf("own password change: this session %d, the other %d; want 200 and 401", me(ts.tokens["admin"]), me(other.Token))
	}
	var revoked struct{ Revoked int64 }
	if res := ts.do(t, "DELETE", fmt.Sprintf("/api/v1/users/%d/sessions", ids["dept@sonoivu.test"]), ts.tokens["admin"], "", &revoked); res.StatusCode != 200 || revoked.Revoked != 1 {
		t.Errorf("revoke: got %d %+v, want 200 and 1 session", res.StatusCode, revoked)
	}
	if me(ts.tokens["department"]) != 401 {
		t.Error("revoked session still works")
	}

	for _, tc := range []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"disable oneself", "PATCH", fmt.Sprintf("/api/v1/users/%d", admin), ts.tokens["admin"], `{"disabled":true}`, 400},
		{"nothing to change", "PATCH", path, ts.tokens["admin"], `{}`, 400},
		{"short password", "PATCH", path, ts.tokens["admin"], `{"password":"short"}`, 400},
		{"unknown field", "PATCH", path, ts.tokens["admin"], `{"role":"admin"}`, 400},
		{"unknown account", "PATCH", "/api/v1/users/99999", ts.tokens["admin"], `{"disabled":true}`, 404},
		{"bad id", "PATCH", "/api/v1/users/x", ts.tokens["admin"], `{"disabled":true}`, 400},
		{"revoke unknown", "DELETE", "/api/v1/users/99999/sessions", ts.tokens["admin"], "", 404},
	} {
		if res := ts.do(t, tc.method, tc.path, tc.token, tc.body, nil); res.StatusCode != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, res.StatusCode, tc.want)
		}
	}
	var log []store.AuditEntry
	ts.do(t, "GET", "/api/v1/audit?actor=admin@papi.test", ts.tokens["admin"], "", &log)
	var actions []string
	for _, e := range log {
		if e.Action != "login" {
			actions = append(actions, e.Action)
		}
	}
	if want := "sessions_revoke user_password user_password user_enable user_disable"; strings.Join(actions, " ") != want {
		t.Errorf("admin's audit rows: got %q, want %q", strings.Join(actions, " "), want)
	}
}

// TestCreateIssuerAccount: the admin API creates issuer service accounts,
// city-wide or for one commune.
func TestCreateIssuerAccount(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{"email":"onestop@hcmc.test","password":"long enough pw","role":"issuer"}`, http.StatusCreated},
		{`{"email":"onestop26740@hcmc.test","password":"long enough pw","role":"issuer","commune_code":"26740"}`, http.StatusCreated},
		{`{"email":"dept2@hcmc.test","password":"long enough pw","role":"department","commune_code":"26740"}`, http.StatusBadRequest},
		{`{"email":"x@hcmc.test","password":"long enough pw","role":"issuer","commune_code":"99999"}`, http.StatusNotFound},
	} {
		if res := ts.do(t, "POST", "/api/v1/users", ts.tokens["admin"], tc.body, nil); res.StatusCode != tc.want {
			t.Errorf("%s: got %d, want %d", tc.body, res.StatusCode, tc.want)
		}
	}
}
