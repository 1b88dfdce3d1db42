package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/papi-hcmc/papi/api"
)

// TestLoginNextChecked: the server answers /login with an unsafe next= by
// sending the browser to /login without it (M1's server side).
func TestLoginNextChecked(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		next string
		safe bool
	}{
		{"/staff", true},
		{"/staff#/centres/26740", true},
		{"/staff?x=1", true},
		{"/\t/evil.example/x", false},
		{"/\n/evil.example/x", false},
		{"/\r/evil.example/x", false},
		{"// evil.example", false},
		{"//evil.example", false},
		{"/\\evil.example", false},
		{"https://evil.example", false},
		{"javascript:alert(1)", false},
		{"staff", false},
	} {
		res, err := noFollow.Get(ts.URL + "/login?next=" + url.QueryEscape(tc.next))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if tc.safe && res.StatusCode != 200 {
			t.Errorf("next=%q: got %d, want the login page", tc.next, res.StatusCode)
		}
		if !tc.safe && (res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login") {
			t.Errorf("next=%q: got %d to %q, want 303 to /login", tc.next, res.StatusCode, res.Header.Get("Location"))
		}
	}
}

// TestBrowserLoginRedirect closes M1: after logging in, a next= with a tab
// or newline (which browsers strip, turning "/\t/host" into "//host") never
// takes the officer to another origin, whether the server sees it (the
// link) or only the page does (changed in the address bar); a safe next is
// followed.
func TestBrowserLoginRedirect(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test; runs without -short")
	}
	ctx := MustBrowser(t)
	ts := MustServer(t, api.RateLimit{Off: true})
	var hits atomic.Int64
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("<h1>Sai mật khẩu</h1>"))
	}))
	defer evil.Close()
	evilHost := strings.TrimPrefix(evil.URL, "http://")
	landing := func(what, next string, clientSide bool) string {
		t.Helper()
		steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(ts.URL + "/login?next=" + url.QueryEscape("/staff"))}
		target := ts.URL + "/login?next=" + url.QueryEscape(next)
		if clientSide {
			// The page reads next from its own address: change it without
			// asking the server, as a user editing the address would.
			steps = append(steps, chromedp.Evaluate[chromedp.Void](`history.replaceState(null, '', '/login?next=' + encodeURIComponent(`+jsString(next)+`))`))
		} else {
			steps[0] = chromedp.Navigate(target)
		}
		steps = append(steps,
			chromedp.WaitVisible(chromedp.CSS(`#login-email`)),
			chromedp.SendKeys(chromedp.CSS(`#login-email`), "admin@papi.test"),
			chromedp.SendKeys(chromedp.CSS(`#login-password`), "correct horse battery"),
			chromedp.Click(chromedp.CSS(`#login-submit`)),
		)
		do(t, ctx, what, steps...)
		var href string
		for i := 0; i < 50; i++ {
			time.Sleep(100 * time.Millisecond)
			href = value(t, ctx, what+" location", chromedp.Evaluate[string](`location.href`))
			if !strings.Contains(href, "/login") {
				break
			}
		}
		// Start the next case logged out, on a blank page: nothing left
		// running that could navigate on its own.
		do(t, ctx, "blank page", chromedp.Navigate("about:blank"))
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if _, err := chromedp.Call(c, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
			t.Fatalf("clear cookies: %v", err)
		}
		return href
	}
	for _, tc := range []struct {
		name, next string
		clientSide bool
	}{
		{"tab via the server", "/\t/" + evilHost + "/stolen-tab", false},
		{"newline via the server", "/\n/" + evilHost + "/stolen-newline", false},
		{"tab in the page", "/\t/" + evilHost + "/stolen-tab", true},
		{"newline in the page", "/\n/" + evilHost + "/stolen-newline", true},
		{"carriage return in the page", "/\r/" + evilHost + "/stolen-cr", true},
		{"backslash in the page", "/\\" + evilHost + "/stolen-backslash", true},
		{"two slashes in the page", "//" + evilHost + "/stolen-slashes", true},
		{"absolute URL in the page", evil.URL + "/stolen-absolute", true},
	} {
		href := landing(tc.name, tc.next, tc.clientSide)
		if !strings.HasPrefix(href, ts.URL+"/staff") {
			t.Errorf("%s: landed on %q, want papi's own /staff", tc.name, href)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the other origin was visited %d times", n)
	}
	// The staff page moves an old hash link to its path once its script
	// runs (legacyHash in main.js), so either form, read before or after
	// that, is the staff page on that centre.
	switch href := landing("safe next", "/staff#/centres/26740", false); href {
	case ts.URL + "/staff#/centres/26740", ts.URL + "/staff/centres/26740":
	default:
		t.Errorf("safe next: landed on %q, want /staff#/centres/26740 or /staff/centres/26740", href)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\t", `\t`, "\n", `\n`, "\r", `\r`)
	return "'" + r.Replace(s) + "'"
}
