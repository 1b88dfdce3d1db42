package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/papi-hcmc/papi/api"
)

// recordViolations makes every page of the browser collect the content
// security policy's refusals in window.__csp; the recorder is injected by
// the browser itself, so the policy does not stop it.
const recordViolations = `window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.effectiveDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile + ':' + e.lineNumber));`

// TestBrowserPagesUnderCSP loads every page, as the resident and as each
// kind of staff, under the real security headers (L1), and fails on any
// script, style, image or connection the policy refuses: the policy must
// not break the pages.
func TestBrowserPagesUnderCSP(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test; runs without -short")
	}
	ctx := MustBrowser(t)
	ts := MustServer(t, api.RateLimit{Off: true})
	fill(t, ts, "26740", 200, 0.6, 0)
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err := chromedp.Call(c, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: recordViolations})
	cancel()
	if err != nil {
		t.Fatalf("install the recorder: %v", err)
	}
	centre := mustCentre(t, ts, "26740")
	check := func(name, url string, ready chromedp.Action[chromedp.Void]) {
		t.Helper()
		do(t, ctx, name, chromedp.Navigate(url), ready, chromedp.Sleep(700*time.Millisecond))
		got := value(t, ctx, name+" violations", chromedp.Evaluate[[]string](`window.__csp || ['recorder missing']`))
		if len(got) > 0 {
			t.Errorf("%s: the content security policy refused %d things: %s", name, len(got), strings.Join(got, "; "))
		}
	}
	body := chromedp.WaitReady(chromedp.CSS(`body`))
	check("home", ts.URL+"/", body)
	check("login", ts.URL+"/login", chromedp.WaitVisible(chromedp.CSS(`#login-email`)))
	check("resident form", ts.URL+"/s/"+centre.Token, chromedp.WaitVisible(chromedp.CSS(`#form-view`)))
	check("closed form", ts.URL+"/s/no-such-token", body)

	login(t, ctx, ts, "admin@papi.test")
	for _, v := range []struct{ hash, ready string }{
		{"#/city", `tr[data-commune="26740"]`},
		{"#/followup", `#period-line`},
		{"#/commune/26740", `#total-score`},
		{"#/centres/26740", `.receipt-btn`},
	} {
		check("staff "+v.hash, ts.URL+"/staff"+v.hash, chromedp.WaitVisible(chromedp.CSS(v.ready)))
	}
	check("poster", fmt.Sprintf("%s/api/v1/centres/%d/poster", ts.URL, centre.ID), body)
	check("printable report", ts.URL+"/api/v1/communes/26740/summary?format=html", body)

	login(t, ctx, ts, "xa@saigon.test")
	check("commune page", ts.URL+"/staff#/commune/26740", chromedp.WaitVisible(chromedp.CSS(`#total-score`)))
}
