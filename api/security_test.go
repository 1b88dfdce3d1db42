package api_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/store/storetest"
	"github.com/papi-hcmc/papi/survey"
)

// submitFrom posts n valid submissions to one centre, each with the
// X-Forwarded-For value xff(i) (none when it returns ""), and counts the
// statuses.
func submitFrom(t *testing.T, ts *testServer, prefix string, n int, xff func(i int) string) map[int]int {
	t.Helper()
	centre := mustCentre(t, ts, "26740")
	var f formJSON
	ts.do(t, "GET", "/api/v1/forms/"+centre.Token, "", "", &f)
	codes := map[int]int{}
	for i := 0; i < n; i++ {
		body := mustJSON(validBody(t, ts, centre.Token, f, fmt.Sprintf("%s-%08d", prefix, i), uint64(i)))
		req, _ := http.NewRequest("POST", ts.URL+"/api/v1/responses", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if v := xff(i); v != "" {
			req.Header.Set("X-Forwarded-For", v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		codes[res.StatusCode]++
	}
	return codes
}

// TestThrottleIgnoresForwardedFor closes M5: by default no proxy is
// trusted, so a client that sends a new X-Forwarded-For with every
// submission is still one client and is throttled.
func TestThrottleIgnoresForwardedFor(t *testing.T) {
	ts := MustServer(t, api.RateLimit{PerClient: 20, Burst: 3, PerCentre: 1000})
	codes := submitFrom(t, ts, "spoof", 8, func(i int) string { return fmt.Sprintf("192.0.2.%d", i+1) })
	if codes[201] != 3 || codes[429] != 5 {
		t.Errorf("8 submissions with rotating X-Forwarded-For: got %v, want 3 stored and 5 refused with 429", codes)
	}
}

// TestThrottleTrustedProxy: behind a configured proxy range the header
// names the client, so residents behind one proxy are told apart, and one
// resident is still throttled.
func TestThrottleTrustedProxy(t *testing.T) {
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	ts := MustServerConfig(t, api.Config{RateLimit: api.RateLimit{PerClient: 20, Burst: 3, PerCentre: 1000}, TrustedProxies: []*net.IPNet{loopback}})
	if codes := submitFrom(t, ts, "proxied", 8, func(i int) string { return fmt.Sprintf("198.51.100.%d", i+1) }); codes[201] != 8 {
		t.Errorf("8 clients behind a trusted proxy: got %v, want all 8 stored", codes)
	}
	if codes := submitFrom(t, ts, "one", 8, func(int) string { return "203.0.113.9" }); codes[201] != 3 || codes[429] != 5 {
		t.Errorf("one client behind a trusted proxy: got %v, want 3 stored and 5 refused", codes)
	}
	// A forged hop in front of the real client address does not help: the
	// proxy appends the address it saw, and that one is not trusted.
	if codes := submitFrom(t, ts, "forged", 8, func(i int) string { return fmt.Sprintf("10.9.9.%d, 203.0.113.10", i) }); codes[201] != 3 || codes[429] != 5 {
		t.Errorf("forged hops before one client: got %v, want 3 stored and 5 refused", codes)
	}
}

// send is ts.do with full control over the headers; a nil header value
// removes it.
func (ts *testServer) send(t testing.TB, method, path, body string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(data)
}

// TestSecurityHeaders closes L1: a content security policy without inline
// script, framing refused, a referrer policy (none at all from the resident
// form), no obsolete X-XSS-Protection, and HSTS once the service is https.
func TestSecurityHeaders(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	centre := mustCentre(t, ts, "26740")
	for _, tc := range []struct{ path, referrer string }{
		{"/", "same-origin"},
		{"/login", "same-origin"},
		{"/staff", "same-origin"},
		{"/s/" + centre.Token, "no-referrer"},
		{"/static/staff.js", "same-origin"},
		{"/api/v1/communes", "same-origin"},
		{"/api/v1/nothing-here", "same-origin"},
	} {
		res, _ := ts.send(t, "GET", tc.path, "", nil)
		h := res.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", tc.path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-eval") || strings.Contains(directive(csp, "script-src"), "unsafe-inline") {
			t.Errorf("%s: CSP %q allows inline or eval'd script", tc.path, csp)
		}
		if got := h.Get("Referrer-Policy"); got != tc.referrer {
			t.Errorf("%s: Referrer-Policy got %q, want %q", tc.path, got, tc.referrer)
		}
		if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options got %q, want nosniff", tc.path, got)
		}
		if got := h.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("%s: X-Frame-Options got %q, want DENY", tc.path, got)
		}
		if _, ok := h["X-Xss-Protection"]; ok {
			t.Errorf("%s: X-XSS-Protection is sent; it is obsolete and can do harm", tc.path)
		}
		if h.Get("Permissions-Policy") == "" {
			t.Errorf("%s: no Permissions-Policy", tc.path)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS sent for an http:// base URL", tc.path)
		}
	}
	tls := MustServerConfig(t, api.Config{RateLimit: api.RateLimit{Off: true}, BaseURL: "https://papi.example.gov.vn"})
	res, _ := tls.send(t, "GET", "/login", "", nil)
	if got := res.Header.Get("Strict-Transport-Security"); !strings.Contains(got, "max-age=31536000") {
		t.Errorf("https base URL: Strict-Transport-Security got %q, want max-age=31536000", got)
	}
}

// directive returns one directive of a content security policy.
func directive(csp, name string) string {
	for _, d := range strings.Split(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 && f[0] == name {
			return strings.Join(f[1:], " ")
		}
	}
	return ""
}

// TestNoStore closes L2: the login answer (it carries the bearer token) and
// every staff answer, downloads included, tell caches not to keep them.
func TestNoStore(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	res, _ := ts.send(t, "POST", "/api/v1/auth/login", `{"email":"admin@papi.test","password":"correct horse battery"}`, map[string]string{"Content-Type": "application/json"})
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Pragma") != "no-cache" {
		t.Errorf("login: status %d, Cache-Control %q, Pragma %q; want no-store and no-cache", res.StatusCode, res.Header.Get("Cache-Control"), res.Header.Get("Pragma"))
	}
	for _, path := range []string{"/api/v1/me", "/api/v1/users", "/api/v1/communes/26740/summary?format=csv", "/api/v1/communes/26740/responses.csv", "/api/v1/audit", "/api/v1/compare"} {
		res := ts.do(t, "GET", path, ts.tokens["admin"], "", nil)
		if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: status %d, Cache-Control %q; want 200 and no-store", path, res.StatusCode, res.Header.Get("Cache-Control"))
		}
	}
	// A 401 from the staff API is not cacheable either.
	if res := ts.do(t, "GET", "/api/v1/me", "", "", nil); res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("401 from /me: Cache-Control %q, want no-store", res.Header.Get("Cache-Control"))
	}
}

// TestRequestID closes L4: a client's X-Request-Id is used only when it is
// short and plain; anything else is replaced, never echoed or logged.
func TestRequestID(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	for _, tc := range []struct {
		sent string
		kept bool
	}{
		{"req-42_abc", true},
		{strings.Repeat("Q", 100000), false},
		{strings.Repeat("a", 65), false},
		{"has space", false},
		{"<script>", false},
		{"", false},
	} {
		h := map[string]string{}
		if tc.sent != "" {
			h["X-Request-Id"] = tc.sent
		}
		res, _ := ts.send(t, "GET", "/healthz", "", h)
		got := res.Header.Get("X-Request-Id")
		if tc.kept && got != tc.sent {
			t.Errorf("id %.20q: got %.20q back, want it kept", tc.sent, got)
		}
		if !tc.kept && (got == tc.sent || got == "" || len(got) > 64) {
			t.Errorf("id %.20q: got %.70q back, want a fresh id of at most 64 characters", tc.sent, got)
		}
	}
}

// TestChunkedBodyTooLarge closes L9: a body over the limit sent without a
// Content-Length gets 413, like one with a length, and no internal text.
func TestChunkedBodyTooLarge(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	big := `{"token":"` + strings.Repeat("x", 10<<20) + `"}`
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/responses", io.MultiReader(strings.NewReader(big)))
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = -1 // chunked
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Errorf("chunked 10 MB body: got %d, want 413: %s", res.StatusCode, data)
	}
	if strings.Contains(string(data), "code=") || !strings.Contains(string(data), "message_vi") {
		t.Errorf("chunked 10 MB body: want a bilingual message without internal text, got %s", data)
	}
	if n := ts.count(t); n != 0 {
		t.Errorf("got %d stored responses, want 0", n)
	}
}

// TestJSONContentType closes M2's second half: every JSON endpoint refuses
// a body that does not say it is JSON, with 415 and a bilingual message,
// before anything changes.
func TestJSONContentType(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	for _, tc := range []struct{ path, token, body string }{
		{"/api/v1/users", ts.tokens["admin"], `{"email":"new@papi.test","password":"long enough pw","role":"admin"}`},
		{"/api/v1/auth/login", "", `{"email":"admin@papi.test","password":"correct horse battery"}`},
		{"/api/v1/responses", "", `{}`},
		{"/api/v1/communes/26740/centres", ts.tokens["admin"], `{"name":"Điểm mới"}`},
	} {
		for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded"} {
			h := map[string]string{}
			if ct != "" {
				h["Content-Type"] = ct
			}
			if tc.token != "" {
				h["Authorization"] = "Bearer " + tc.token
			}
			res, body := ts.send(t, "POST", tc.path, tc.body, h)
			if res.StatusCode != 415 || !strings.Contains(body, "JSON") || !strings.Contains(body, "message_vi") {
				t.Errorf("POST %s with Content-Type %q: got %d %s, want 415 with a bilingual message", tc.path, ct, res.StatusCode, body)
			}
		}
	}
	var users []struct{ Email string }
	ts.do(t, "GET", "/api/v1/users", ts.tokens["admin"], "", &users)
	if len(users) != 3 {
		t.Errorf("got %d accounts, want the 3 of the fixture: a refused request created one", len(users))
	}
	if centres, _ := ts.store.Centres(context.Background(), "26740"); len(centres) != 1 {
		t.Errorf("got %d centres, want 1: a refused request created one", len(centres))
	}
}

// TestCrossSiteRequests closes M2: a state change authenticated by the
// session cookie must come from a page of this origin (Origin, or
// Sec-Fetch-Site: same-origin); bearer-token requests carry no ambient
// credential and are exempt.
func TestCrossSiteRequests(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	cookie := "papi_session=" + ts.tokens["admin"]
	create := func(n int) string {
		return fmt.Sprintf(`{"email":"csrf%d@papi.test","password":"long enough pw","role":"admin"}`, n)
	}
	for i, tc := range []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"cookie, other origin", map[string]string{"Cookie": cookie, "Origin": "http://evil.example"}, 403},
		{"cookie, sibling port", map[string]string{"Cookie": cookie, "Origin": strings.Replace(ts.URL, "127.0.0.1", "localhost", 1)}, 403},
		{"cookie, null origin", map[string]string{"Cookie": cookie, "Origin": "null"}, 403},
		{"cookie, same-site fetch", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "same-site"}, 403},
		{"cookie, no origin at all", map[string]string{"Cookie": cookie}, 403},
		{"cookie, this origin", map[string]string{"Cookie": cookie, "Origin": ts.URL}, 201},
		{"cookie, same-origin fetch without Origin", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "same-origin"}, 201},
		{"bearer, other origin", map[string]string{"Authorization": "Bearer " + ts.tokens["admin"], "Origin": "http://evil.example"}, 201},
	} {
		tc.headers["Content-Type"] = "application/json"
		res, body := ts.send(t, "POST", "/api/v1/users", create(i), tc.headers)
		if res.StatusCode != tc.want {
			t.Errorf("%s: got %d %s, want %d", tc.name, res.StatusCode, body, tc.want)
		}
		if tc.want == 403 && !strings.Contains(body, "message_vi") {
			t.Errorf("%s: want a bilingual message, got %s", tc.name, body)
		}
	}
	var users []struct{ Email string }
	ts.do(t, "GET", "/api/v1/users", ts.tokens["admin"], "", &users)
	if len(users) != 6 {
		t.Errorf("got %d accounts, want 3 + the 3 allowed creations", len(users))
	}
	// Logging in from another site's page (login CSRF) and logging someone
	// out from it are refused too; the session survives.
	if res, _ := ts.send(t, "POST", "/api/v1/auth/login", `{"email":"admin@papi.test","password":"correct horse battery"}`,
		map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}); res.StatusCode != 403 {
		t.Errorf("login from another origin: got %d, want 403", res.StatusCode)
	}
	if res, _ := ts.send(t, "POST", "/api/v1/auth/logout", "", map[string]string{"Cookie": cookie, "Origin": "http://evil.example"}); res.StatusCode != 403 {
		t.Errorf("logout from another origin: got %d, want 403", res.StatusCode)
	}
	if res := ts.do(t, "GET", "/api/v1/me", ts.tokens["admin"], "", nil); res.StatusCode != 200 {
		t.Errorf("after a cross-site logout: /me got %d, want 200 (session kept)", res.StatusCode)
	}
}

// TestMetricsSeparate closes L3: with a metrics address configured, the
// public router has no /metrics; the metrics handler serves it instead.
func TestMetricsSeparate(t *testing.T) {
	ts := MustServerConfig(t, api.Config{RateLimit: api.RateLimit{Off: true}, SeparateMetrics: true})
	if res, _ := ts.send(t, "GET", "/metrics", "", nil); res.StatusCode != 404 {
		t.Errorf("/metrics on the public address: got %d, want 404", res.StatusCode)
	}
	ts.send(t, "GET", "/healthz", "", nil)
	rec := httptest.NewRecorder()
	ts.api.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `papi_http_requests_total{method="GET",route="/healthz",status="200"} 1`) {
		t.Errorf("metrics handler: got %d, want the request counts", rec.Code)
	}
}

// TestUntimedSubmissionsFlagged closes L6's timing part: a web-form
// submission without duration_ms (or with 0) is stored but flagged for
// review instead of skipping the speed check; a timed one is counted.
func TestUntimedSubmissionsFlagged(t *testing.T) {
	clock := storetest.OpenHours() // "counted" needs a centre open
	ts := MustServerWith(t, api.Config{RateLimit: api.RateLimit{Off: true}, Now: clock}, store.Options{Now: clock})
	centre := mustCentre(t, ts, "26740")
	var f formJSON
	ts.do(t, "GET", "/api/v1/forms/"+centre.Token, "", "", &f)
	for i, tc := range []struct {
		id       string
		duration any // nil: left out
		status   string
	}{
		{"untimed-missing-1", nil, "flagged"},
		{"untimed-zero-0001", 0, "flagged"},
		{"timed-submission1", 150000, "counted"},
	} {
		b := validBody(t, ts, centre.Token, f, tc.id, uint64(100+i))
		if tc.duration == nil {
			delete(b, "duration_ms")
		} else {
			b["duration_ms"] = tc.duration
		}
		if res := ts.do(t, "POST", "/api/v1/responses", "", mustJSON(b), nil); res.StatusCode != 201 {
			t.Fatalf("%s: got %d, want 201 (stored, the resident sees thanks)", tc.id, res.StatusCode)
		}
		got, err := ts.store.ResponseBySubmission(context.Background(), tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != tc.status || tc.status == "flagged" && !slices.Contains(got.Flags, survey.FlagUntimed) {
			t.Errorf("%s: got status %s flags %v, want %s (untimed when flagged)", tc.id, got.Status, got.Flags, tc.status)
		}
	}
}
