package api_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// MustBrowser starts headless Chromium (Debian's chromium package; the path
// comes from PAPI_TEST_CHROMIUM or PATH). Without Chromium the browser tests
// are skipped, unless PAPI_TEST_CHROMIUM_REQUIRED=1 (as in CI) makes that a
// failure. -short skips them too: they are the slow part of the api tests.
func MustBrowser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	path := os.Getenv("PAPI_TEST_CHROMIUM")
	if path == "" {
		path, _ = exec.LookPath("chromium")
	}
	if path == "" {
		if os.Getenv("PAPI_TEST_CHROMIUM_REQUIRED") == "1" {
			t.Fatal("Chromium is required (PAPI_TEST_CHROMIUM_REQUIRED=1) but was not found; apt-get install chromium")
		}
		t.Skip("Chromium not installed (apt-get install chromium); browser tests need a real browser")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser and must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium at %s: %v", path, err)
	}
	return ctx
}

// do runs browser steps with a time limit.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		screenshot(t, ctx, "failed-"+strings.ReplaceAll(what, " ", "-"))
		t.Fatalf("%s: %v", what, err)
	}
}

// value runs one browser action that returns a value, with a time limit.
func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// screenshot saves a PNG of the page into PAPI_TEST_SCREENSHOTS (when set)
// for a person to look at: layout, diacritics, legibility.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PAPI_TEST_SCREENSHOTS")
	if dir == "" {
		return
	}
	c, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(c, chromedp.FullScreenshot(100)) // quality 100 gives a PNG
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// answerVisibleRequired answers, as a person would by tapping, every
// required question currently shown and not yet answered; it returns how
// many it answered (new questions may appear through skip logic).
const answerVisibleRequired = `(() => {
  let n = 0;
  for (const fs of document.querySelectorAll('#questions fieldset[data-question]')) {
    if (fs.hidden || fs.dataset.required !== 'true') continue;
    const inputs = fs.querySelectorAll('input');
    if ([...inputs].some(i => (i.type === 'radio' || i.type === 'checkbox') ? i.checked : i.value !== '')) continue;
    const last = inputs[inputs.length - 1];
    if (last.type === 'radio' || last.type === 'checkbox') { last.click(); }
    else { last.focus(); last.value = '3'; last.dispatchEvent(new Event('input', {bubbles: true})); last.dispatchEvent(new Event('change', {bubbles: true})); }
    n++;
  }
  return n;
})()`

// TestBrowserResident: a resident opens the centre's QR link on a phone-sized
// screen, switches to English and back, answers the required questions by
// tapping, submits and sees the thank-you screen; the answer is stored once.
func TestBrowserResident(t *testing.T) {
	ctx := MustBrowser(t)
	ts := MustServer(t, api.RateLimit{Off: true})
	centre := mustCentre(t, ts, "26740")
	do(t, ctx, "load form",
		chromedp.EmulateViewport(360, 780, chromedp.EmulateMobile),
		chromedp.Navigate(ts.URL+"/s/"+centre.Token),
		chromedp.WaitVisible(chromedp.CSS(`#form-view`)),
	)
	if commune := value(t, ctx, "header", chromedp.Text(chromedp.CSS(`#commune-name`))); !strings.Contains(commune, "Phường Sài Gòn") {
		t.Errorf("header: got %q, want the commune name with diacritics", commune)
	}
	screenshot(t, ctx, "resident-form-vi")
	do(t, ctx, "switch to English", chromedp.Click(chromedp.CSS(`#lang-toggle`)))
	english := strings.ToLower(value(t, ctx, "submit label", chromedp.Text(chromedp.CSS(`#submit`))))
	if !strings.Contains(english, "send") && !strings.Contains(english, "submit") {
		t.Errorf("English switch: the submit button reads %q", english)
	}
	screenshot(t, ctx, "resident-form-en")
	do(t, ctx, "switch back to Vietnamese", chromedp.Click(chromedp.CSS(`#lang-toggle`)))
	for round := 0; round < 10; round++ {
		if n := value(t, ctx, "answer", chromedp.Evaluate[int](answerVisibleRequired)); n == 0 {
			break
		}
	}
	do(t, ctx, "submit", chromedp.Click(chromedp.CSS(`#submit`)), chromedp.WaitVisible(chromedp.CSS(`#thank-you`)))
	screenshot(t, ctx, "resident-thank-you")
	if thanks := value(t, ctx, "thank-you", chromedp.Text(chromedp.CSS(`#thank-you-title`))); !strings.Contains(thanks, "Cảm ơn") {
		t.Errorf("thank-you screen: got %q", thanks)
	}
	if n := ts.count(t); n != 1 {
		t.Errorf("got %d stored responses, want 1", n)
	}
}

// login signs in through the login page like a person.
func login(t *testing.T, ctx context.Context, ts *testServer, email string) {
	t.Helper()
	do(t, ctx, "log in as "+email,
		chromedp.Navigate(ts.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`#login-email`)),
		chromedp.SendKeys(chromedp.CSS(`#login-email`), email),
		chromedp.SendKeys(chromedp.CSS(`#login-password`), "correct horse battery"),
		chromedp.Click(chromedp.CSS(`#login-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#logout-btn`)),
	)
}

// fill stores n synthetic answers for a commune at opening-hour slots in
// the last weeks, so the staff pages have data.
func fill(t *testing.T, ts *testServer, code string, n int, quality float64, offset int) {
	t.Helper()
	cat := ts.store.Catalogue()
	centre := mustCentre(t, ts, code)
	rng := rand.New(rand.NewPCG(uint64(offset), 5))
	// Slots run 24 a day from 40 days ago, so up to 720 answers stay inside
	// the pages' default period (the last 365 days) whatever today is.
	now := time.Now().In(survey.Local)
	first := time.Date(now.Year(), now.Month(), now.Day(), 8, 0, 0, 0, survey.Local).AddDate(0, 0, -40)
	for first.Weekday() == time.Sunday {
		first = first.AddDate(0, 0, 1)
	}
	for k := 0; k < n; k++ {
		v, err := cat.ValidateSubmission(cat.Synthesize(rng, cat.AssignModules(uint64(k)), quality))
		if err != nil {
			t.Fatal(err)
		}
		at := openSlotFrom(first, k+offset)
		if _, _, err := ts.store.CreateResponse(context.Background(), store.NewResponse{SubmissionID: fmt.Sprintf("fill-%s-%d-%d", code, offset, k), Centre: centre, Version: cat.Version, Visit: v, At: at}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBrowserCommuneOfficer: a commune officer logs in, lands on the
// commune page with its score, and downloads the summary through the page's
// CSV link with the page's own session.
func TestBrowserCommuneOfficer(t *testing.T) {
	ctx := MustBrowser(t)
	ts := MustServer(t, api.RateLimit{Off: true})
	fill(t, ts, "26740", 400, 0.6, 0)
	login(t, ctx, ts, "xa@saigon.test")
	do(t, ctx, "commune page", chromedp.WaitVisible(chromedp.CSS(`#total-score`)), chromedp.Sleep(500*time.Millisecond))
	if heading := value(t, ctx, "heading", chromedp.Text(chromedp.CSS(`#commune-title`))); !strings.Contains(heading, "Sài Gòn") {
		t.Errorf("commune page heading: got %q", heading)
	}
	screenshot(t, ctx, "officer-commune")
	// The bytes as downloaded: the first three are the UTF-8 BOM that makes
	// Excel read Vietnamese correctly.
	csv := value(t, ctx, "download CSV", chromedp.Evaluate[string](`fetch(document.querySelector('#dl-csv').href, {credentials: 'same-origin'})
		.then(r => r.ok ? r.arrayBuffer() : Promise.reject('HTTP ' + r.status))
		.then(b => Array.from(new Uint8Array(b).slice(0, 3)).join(',') + '|' + new TextDecoder('utf-8', {ignoreBOM: true}).decode(b))`,
		chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
	if !strings.HasPrefix(csv, "239,187,191|") || !strings.Contains(csv, "Phường Sài Gòn") || !strings.Contains(csv, "D5.3.4") {
		t.Errorf("downloaded CSV lacks the BOM, the commune name or the indicators: %.200q", csv)
	}
}

// TestBrowserDepartment: the department sees the city comparison, and after
// new answers arrive for a commune, a reload shows its row change.
func TestBrowserDepartment(t *testing.T) {
	ctx := MustBrowser(t)
	ts := MustServer(t, api.RateLimit{Off: true})
	fill(t, ts, "26740", 300, 0.2, 0)
	login(t, ctx, ts, "dept@sonoivu.test")
	row := chromedp.CSS(`tr[data-commune="26740"]`)
	do(t, ctx, "city page", chromedp.Navigate(ts.URL+"/staff#/city"), chromedp.WaitVisible(row))
	before := value(t, ctx, "row before", chromedp.Text(row))
	screenshot(t, ctx, "department-city")
	fill(t, ts, "26740", 300, 0.95, 300)
	do(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(row))
	after := value(t, ctx, "row after", chromedp.Text(row))
	if before == after {
		t.Errorf("the comparison did not change after 300 new answers: %q", after)
	}
	if !strings.Contains(after, "600") {
		t.Errorf("row for 26740 should show 600 responses, got %q", after)
	}
}
