package api_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/papi-hcmc/papi/api"
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
