package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
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
func fill(t testing.TB, ts *testServer, code string, n int, quality float64, offset int) {
	t.Helper()
	// Slots run 24 a day from 40 days ago, so up to 720 answers stay inside
	// the pages' default period (the last 365 days) whatever today is.
	fillFrom(t, ts, code, n, quality, offset, 40)
}

// fillFrom is fill starting daysBack days ago: 300 days hold about 6,000
// answers. Answers are stored by 8 writers at once, as the intake does.
func fillFrom(t testing.TB, ts *testServer, code string, n int, quality float64, offset, daysBack int) {
	t.Helper()
	cat := ts.store.Catalogue()
	centre := mustCentre(t, ts, code)
	rng := rand.New(rand.NewPCG(uint64(offset), 5))
	now := time.Now().In(survey.Local)
	first := time.Date(now.Year(), now.Month(), now.Day(), 8, 0, 0, 0, survey.Local).AddDate(0, 0, -daysBack)
	for first.Weekday() == time.Sunday {
		first = first.AddDate(0, 0, 1)
	}
	visits := make([]survey.Visit, n)
	for k := range visits {
		v, err := cat.ValidateSubmission(cat.Synthesize(rng, cat.AssignModules(uint64(k)), quality))
		if err != nil {
			t.Fatal(err)
		}
		visits[k] = v
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for k := range next {
				at := openSlotFrom(first, k+offset)
				if _, _, err := ts.store.CreateResponse(context.Background(), store.NewResponse{SubmissionID: fmt.Sprintf("fill-%s-%d-%d", code, offset, k), Centre: centre, Version: cat.Version, Visit: visits[k], At: at}); err != nil {
					errs <- err
				}
			}
		})
	}
	for k := range n {
		next <- k
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
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
	// The same summary for a spreadsheet set to Vietnamese: semicolons.
	csvVi := value(t, ctx, "download CSV locale=vi", chromedp.Evaluate[string](`fetch(document.querySelector('#dl-csv-vi').href, {credentials: 'same-origin'})
		.then(r => r.ok ? r.text() : Promise.reject('HTTP ' + r.status))`, chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
	if !strings.Contains(csvVi, "Xã/phường;Phường Sài Gòn;26740") {
		t.Errorf("downloaded CSV for a Vietnamese locale: got %.200q, want fields separated by semicolons", csvVi)
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

// MustAxe returns the source of axe-core (axe.min.js at PAPI_TEST_AXE;
// .ci/run installs it from npm). Without it the accessibility checks are
// skipped, unless PAPI_TEST_AXE_REQUIRED=1 (as in CI) makes that a failure.
func MustAxe(t *testing.T) string {
	t.Helper()
	p := os.Getenv("PAPI_TEST_AXE")
	if p == "" {
		if os.Getenv("PAPI_TEST_AXE_REQUIRED") == "1" {
			t.Fatal("axe-core is required (PAPI_TEST_AXE_REQUIRED=1): set PAPI_TEST_AXE to axe.min.js (npm install axe-core)")
		}
		t.Skip("PAPI_TEST_AXE not set: no axe-core to check accessibility with (npm install axe-core)")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read axe-core: %v", err)
	}
	return string(b)
}

// bypassCSP lets the tests inject axe-core into pages whatever their
// Content-Security-Policy says.
func bypassCSP(t *testing.T, ctx context.Context) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Action[cdp.Empty](func(ctx context.Context, tg *chromedp.Target) (cdp.Empty, error) {
		return cdp.Call(ctx, tg, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true})
	}))
	if err != nil {
		t.Fatal(err)
	}
}

// axeRun runs axe-core with WCAG 2.5.3's label-in-name rule turned on
// (axe keeps it experimental) and lists serious and critical violations.
const axeRun = `(async () => {
  const r = await axe.run(document, { resultTypes: ['violations'], rules: { 'label-content-name-mismatch': { enabled: true } } });
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' — ' + v.nodes.slice(0, 4).map(n => n.target.join(' ') + (n.failureSummary ? ' (' + n.failureSummary.replace(/\s+/g, ' ').slice(0, 160) + ')' : '')).join('; '));
})()`

// axeCheck runs axe-core on the page as it is now and fails the test for
// every serious or critical violation (issue 11's target is none).
func axeCheck(t *testing.T, ctx context.Context, axe, where string) {
	t.Helper()
	if !value(t, ctx, "axe loaded", chromedp.Evaluate[bool](`typeof axe !== 'undefined'`)) {
		do(t, ctx, "inject axe", chromedp.Evaluate[chromedp.Void](axe+";0"))
	}
	// The city page holds 168 rows by 16 columns: on a busy machine axe
	// needs more than the usual 30 seconds there.
	c, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	found, err := chromedp.Run(c, chromedp.Evaluate[[]string](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe on %s: %v", where, err)
	}
	for _, v := range found {
		t.Errorf("%s: %s", where, v)
	}
}

// viewReady is true once a staff view has drawn: its heading is there and
// nothing (the trend included) is loading any more.
const viewReady = `(() => { const m = document.getElementById('main');
  return !!m && !m.hasAttribute('aria-busy') && !!m.querySelector('h1') && !document.querySelector('.loading-line'); })()`

// open navigates to a page of the app and waits until its view has drawn.
func open(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		do(t, ctx, "open "+url, chromedp.Navigate(url))
		err := pollReady(ctx)
		if err == nil {
			return
		}
		// A navigation still under way (a login's redirect) can replace
		// the page while the view is polled: open it again.
		if attempt == 3 || !contextGone(err) {
			t.Fatalf("wait for %s: %v", url, err)
		}
	}
}

func waitReady(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		err := pollReady(ctx)
		if err == nil {
			return
		}
		// The poll ran in a page that a navigation then replaced: poll
		// the new one.
		if attempt == 3 || !contextGone(err) {
			t.Fatalf("wait for %s: %v", what, err)
		}
	}
}

// pollReady waits until the app's view has drawn.
func pollReady(ctx context.Context) error {
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := chromedp.Run(c, chromedp.Poll[bool](viewReady, chromedp.WithPollingTimeout(25*time.Second)))
	return err
}

// contextGone says whether err is Chromium's answer to an evaluation in a
// page that a navigation has replaced.
func contextGone(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Cannot find context with specified id") || strings.Contains(msg, "Execution context was destroyed")
}

// TestBrowserAccessibility runs axe-core against Debian's Chromium on the
// home, login and not-found pages and on every staff page, including its
// open states (receipt slip, heat map, indicator picker, an agency's list,
// an empty period, English): no serious or critical violation.
func TestBrowserAccessibility(t *testing.T) {
	ctx := MustBrowser(t)
	axe := MustAxe(t)
	bypassCSP(t, ctx)
	ts := MustServer(t, api.RateLimit{Off: true})
	fill(t, ts, "26740", 400, 0.6, 0)
	fill(t, ts, "26743", 300, 0.3, 0)
	for _, p := range []string{"/", "/login", "/staff/nope"} {
		do(t, ctx, "open "+p, chromedp.Navigate(ts.URL+p), chromedp.WaitVisible(chromedp.CSS(`h1`)))
		axeCheck(t, ctx, axe, p)
	}
	login(t, ctx, ts, "xa@saigon.test")
	waitReady(t, ctx, "commune page")
	axeCheck(t, ctx, axe, "commune page (officer)")
	do(t, ctx, "unfold missing indicators", chromedp.Click(chromedp.CSS(`#missing details summary`)))
	axeCheck(t, ctx, axe, "commune page, missing indicators unfolded")
	open(t, ctx, ts.URL+"/staff/centres/26740")
	axeCheck(t, ctx, axe, "centres page (officer, no receipts)")
	// Receipts come from an account outside the commune.
	login(t, ctx, ts, "admin@papi.test")
	open(t, ctx, ts.URL+"/staff/centres/26740")
	centre := mustCentre(t, ts, "26740")
	do(t, ctx, "issue a receipt", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#receipt-btn-%d`, centre.ID))), chromedp.WaitVisible(chromedp.CSS(`.slip`)))
	axeCheck(t, ctx, axe, "centres page with a receipt slip")
	do(t, ctx, "switch to English", chromedp.Click(chromedp.CSS(`#lang-toggle`)))
	value(t, ctx, "English", chromedp.Poll[bool](`document.documentElement.lang === 'en'`, chromedp.WithPollingTimeout(10*time.Second)))
	axeCheck(t, ctx, axe, "centres page in English")
	do(t, ctx, "switch back", chromedp.Click(chromedp.CSS(`#lang-toggle`)))
	value(t, ctx, "Vietnamese", chromedp.Poll[bool](`document.documentElement.lang === 'vi'`, chromedp.WithPollingTimeout(10*time.Second)))
	do(t, ctx, "report", chromedp.Navigate(ts.URL+"/api/v1/communes/26740/summary?format=html"), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	axeCheck(t, ctx, axe, "printable report")
	do(t, ctx, "poster", chromedp.Navigate(fmt.Sprintf("%s/api/v1/centres/%d/poster", ts.URL, centre.ID)), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	axeCheck(t, ctx, axe, "poster")

	login(t, ctx, ts, "dept@sonoivu.test")
	open(t, ctx, ts.URL+"/staff/city")
	axeCheck(t, ctx, axe, "city page")
	do(t, ctx, "heat map", chromedp.Click(chromedp.CSS(`#view-heat`)), chromedp.WaitVisible(chromedp.CSS(`#heatmap`)))
	axeCheck(t, ctx, axe, "city heat map")
	do(t, ctx, "indicator picker", chromedp.Click(chromedp.CSS(`#ind-picker-btn`)), chromedp.WaitVisible(chromedp.CSS(`#ind-search`)),
		chromedp.SendKeys(chromedp.CSS(`#ind-search`), "hai long"))
	axeCheck(t, ctx, axe, "city page, indicator picker searched")
	open(t, ctx, ts.URL+"/staff/city?indicator=D5.3.4")
	axeCheck(t, ctx, axe, "city page ranked by an indicator")
	open(t, ctx, ts.URL+"/staff/followup")
	do(t, ctx, "open an agency", chromedp.Click(chromedp.CSS(`.agency-toggle`)), chromedp.WaitVisible(chromedp.CSS(`.agency-body table`)))
	axeCheck(t, ctx, axe, "follow-up with an agency open")
	open(t, ctx, ts.URL+"/staff/commune/26740")
	axeCheck(t, ctx, axe, "commune page (department)")
	open(t, ctx, ts.URL+"/staff/commune/25747")
	do(t, ctx, "empty state", chromedp.WaitVisible(chromedp.CSS(`#empty-state .empty-steps`)))
	axeCheck(t, ctx, axe, "commune page, period without answers")
}

// phoneMetrics measures a page as a phone shows it: how wide it is, chart
// text smaller than 12 px, wide tables whose hidden columns have no cue,
// and where the commune page's score column ends. It waits two frames
// first: a table's cue is set by a ResizeObserver or the frame after the
// table appears (scrollBox), and an agency table opened just before had
// been measured without it now and then.
const phoneMetrics = `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))).then(() => {
  const small = [];
  for (const el of document.querySelectorAll('.chart *')) {
    if (el.closest('.visually-hidden') || !el.getClientRects().length) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    let px = parseFloat(getComputedStyle(el).fontSize);
    const svg = el.closest('svg');
    if (svg && svg.viewBox.baseVal && svg.viewBox.baseVal.width) px *= svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    if (px < 11.95) small.push(el.textContent.trim().slice(0, 20) + ' ' + px.toFixed(1) + 'px');
  }
  const nocue = [...document.querySelectorAll('.table-wrap')].filter(b => b.getClientRects().length && b.scrollWidth > b.clientWidth + 2)
    .filter(b => { const h = b.previousElementSibling; return !(h && h.classList.contains('scroll-hint') && !h.hidden); }).map(b => b.id);
  const score = document.querySelector('#indicator-table th.score');
  const overlap = [];
  const rows = {};
  for (const el of document.querySelectorAll('svg text')) (rows[el.getAttribute('y')] = rows[el.getAttribute('y')] || []).push(el.getBoundingClientRect());
  for (const list of Object.values(rows)) {
    list.sort((a, b) => a.left - b.left);
    for (let i = 1; i < list.length; i++) if (list[i].left < list[i - 1].right - 0.5) overlap.push(Math.round(list[i].left) + '<' + Math.round(list[i - 1].right));
  }
  return { width: document.documentElement.scrollWidth, small, nocue, overlap, score: score ? Math.ceil(score.getBoundingClientRect().right) : 0 };
})`

type phoneMeasure struct {
	Width   int      `json:"width"`
	Small   []string `json:"small"`
	Nocue   []string `json:"nocue"`
	Overlap []string `json:"overlap"`
	Score   int      `json:"score"`
}

// TestBrowserPhones opens every staff page at 360 and 390 px: no page is
// wider than the screen (the trend selector included), chart text is at
// least 12 px and its labels do not overlap, a table with columns out of
// sight says so, and the commune page's score column is on screen without
// scrolling.
func TestBrowserPhones(t *testing.T) {
	ctx := MustBrowser(t)
	ts := MustServer(t, api.RateLimit{Off: true})
	fill(t, ts, "26740", 400, 0.6, 0)
	fill(t, ts, "26743", 300, 0.3, 0)
	login(t, ctx, ts, "dept@sonoivu.test")
	centre := mustCentre(t, ts, "26740")
	for _, w := range []int64{360, 390} {
		do(t, ctx, "phone size", chromedp.EmulateViewport(w, 780, chromedp.EmulateMobile))
		for _, p := range []string{"/staff/commune/26740", "/staff/commune/25747", "/staff/centres/26740", "/staff/city", "/staff/city?view=heat", "/staff/city?indicator=D5.3.4", "/staff/followup", "/staff/commune/26740?lang=en"} {
			open(t, ctx, ts.URL+p)
			switch {
			case strings.HasPrefix(p, "/staff/followup"):
				do(t, ctx, "open an agency", chromedp.Click(chromedp.CSS(`.agency-toggle`)), chromedp.WaitVisible(chromedp.CSS(`.agency-body table`)))
			case strings.HasPrefix(p, "/staff/centres"):
				do(t, ctx, "issue a receipt", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#receipt-btn-%d`, centre.ID))), chromedp.WaitVisible(chromedp.CSS(`.slip`)))
			}
			m := value(t, ctx, "measure "+p, chromedp.Evaluate[phoneMeasure](phoneMetrics, chromedp.EvalAwaitPromise))
			where := fmt.Sprintf("%s at %d px", p, w)
			if m.Width > int(w) {
				t.Errorf("%s: page is %d px wide, want at most %d", where, m.Width, w)
				screenshot(t, ctx, fmt.Sprintf("too-wide-%d%s", w, strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(p)))
			}
			if len(m.Small) > 0 {
				t.Errorf("%s: chart text under 12 px: %v", where, m.Small)
			}
			if len(m.Nocue) > 0 {
				t.Errorf("%s: tables wider than the screen without a cue: %v", where, m.Nocue)
			}
			if len(m.Overlap) > 0 {
				t.Errorf("%s: chart labels overlap: %v", where, m.Overlap)
			}
			if m.Score > int(w) {
				t.Errorf("%s: the score column ends at %d px, off a %d px screen", where, m.Score, w)
			}
		}
	}
	do(t, ctx, "phone size", chromedp.EmulateViewport(360, 780, chromedp.EmulateMobile))
	open(t, ctx, ts.URL+"/staff/commune/26740")
	screenshot(t, ctx, "commune-phone")
}

// printPDF prints the current page as Chromium does on A4 (the page's own
// @page size wins) and returns the PDF.
func printPDF(t *testing.T, ctx context.Context, what string) []byte {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	yes := true
	pdf, err := chromedp.Run(c, chromedp.Action[[]byte](func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		r, err := cdp.Call(ctx, tg, page.PrintToPDF, page.PrintToPDFParams{PaperWidth: 8.27, PaperHeight: 11.69, PreferCSSPageSize: &yes, PrintBackground: &yes})
		return r.Data, err
	}))
	if err != nil {
		t.Fatalf("print %s: %v", what, err)
	}
	if dir := os.Getenv("PAPI_TEST_SCREENSHOTS"); dir != "" {
		_ = os.MkdirAll(dir, 0o755)
		_ = os.WriteFile(filepath.Join(dir, strings.ReplaceAll(what, " ", "-")+".pdf"), pdf, 0o644)
	}
	return pdf
}

// pdfPageRE matches a page object of a PDF (not the /Pages tree).
var pdfPageRE = regexp.MustCompile(`/Type\s*/Page\b`)

// TestBrowserPrint prints a commune's summary, both the printable report
// and the results page itself, with few answers (most indicators without a
// value) and with a year of answers (nearly all 118 with one): at most 6 A4
// pages each (issue 11; 11 pages before).
func TestBrowserPrint(t *testing.T) {
	ctx := MustBrowser(t)
	ts := MustServer(t, api.RateLimit{Off: true})
	fill(t, ts, "26740", 400, 0.6, 0)
	fillFrom(t, ts, "26743", 3200, 0.5, 0, 300)
	login(t, ctx, ts, "dept@sonoivu.test")
	for _, code := range []string{"26740", "26743", "25747"} {
		do(t, ctx, "report "+code, chromedp.Navigate(ts.URL+"/api/v1/communes/"+code+"/summary?format=html"), chromedp.WaitVisible(chromedp.CSS(`h1`)))
		shown := value(t, ctx, "indicators shown", chromedp.Text(chromedp.CSS(`#report-shown`)))
		n := len(pdfPageRE.FindAll(printPDF(t, ctx, "report "+code), -1))
		t.Logf("report of %s (%s indicators with a value): %d A4 pages", code, shown, n)
		if n < 1 || n > 6 {
			t.Errorf("report of %s (%s indicators with a value): %d A4 pages, want 1 to 6", code, shown, n)
		}
		open(t, ctx, ts.URL+"/staff/commune/"+code)
		n = len(pdfPageRE.FindAll(printPDF(t, ctx, "commune page "+code), -1))
		t.Logf("commune page of %s: %d A4 pages", code, n)
		if n < 1 || n > 6 {
			t.Errorf("printed commune page of %s: %d A4 pages, want 1 to 6", code, n)
		}
	}
}

// TestBrowserReceiptSlip: a receipt code is shown as a slip with its QR
// code and printed alone on one A6 page; the QR code leads to the form with
// the code, as the receipt API's {code, form_url} says.
func TestBrowserReceiptSlip(t *testing.T) {
	ctx := MustBrowser(t)
	ts := MustServer(t, api.RateLimit{Off: true})
	centre := mustCentre(t, ts, "26740")
	// The commune's own staff see the centre but cannot issue receipts:
	// they are the ones a receipt vouches for.
	login(t, ctx, ts, "xa@saigon.test")
	open(t, ctx, ts.URL+"/staff/centres/26740")
	if n := value(t, ctx, "receipt buttons", chromedp.Evaluate[int](`document.querySelectorAll('.receipt-btn').length`)); n != 0 {
		t.Errorf("commune officer: %d receipt buttons, want none", n)
	}
	login(t, ctx, ts, "admin@papi.test")
	open(t, ctx, ts.URL+"/staff/centres/26740")
	if short := value(t, ctx, "short address", chromedp.Text(chromedp.CSS(`.short-url`))); short != strings.TrimPrefix(ts.URL, "http://")+"/c/26740" {
		t.Errorf("short address: got %q, want the poster's /c/26740", short)
	}
	do(t, ctx, "issue a receipt", chromedp.SendKeys(chromedp.CSS(fmt.Sprintf(`#record-%d`, centre.ID)), "HS-2026-000123"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#receipt-btn-%d`, centre.ID))), chromedp.WaitVisible(chromedp.CSS(`.slip img.slip-qr`)))
	value(t, ctx, "QR drawn", chromedp.Poll[bool](`document.querySelector('.slip img.slip-qr').naturalWidth > 0`, chromedp.WithPollingTimeout(10*time.Second)))
	code := value(t, ctx, "code", chromedp.Text(chromedp.CSS(`.slip .receipt-code`)))
	link := value(t, ctx, "link", chromedp.Evaluate[string](`document.querySelector('.receipt-url').href`))
	if code == "" || !strings.HasSuffix(link, "?r="+code) {
		t.Fatalf("slip: code %q, link %q; want the link to carry the code", code, link)
	}
	qr := value(t, ctx, "QR bytes", chromedp.Evaluate[string](`fetch(document.querySelector('.slip img.slip-qr').src).then(r => r.arrayBuffer()).then(b => btoa(String.fromCharCode(...new Uint8Array(b))))`, chromedp.EvalAwaitPromise))
	raw, _ := base64.StdEncoding.DecodeString(qr)
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("slip QR: %v", err)
	}
	if got, err := decodeQR(img); err != nil || got != link {
		t.Errorf("slip QR decodes to %v (%v), want %q", got, err, link)
	}
	screenshot(t, ctx, "receipt-slip")
	// The button prints through window.print, which a headless browser
	// cannot show: keep the page as the button leaves it and print that.
	do(t, ctx, "print the slip", chromedp.Evaluate[chromedp.Void](`window.print = () => {}; 0`), chromedp.Click(chromedp.CSS(fmt.Sprintf(`#print-slip-%d`, centre.ID))))
	pdf := printPDF(t, ctx, "receipt slip")
	if n := len(pdfPageRE.FindAll(pdf, -1)); n != 1 {
		t.Errorf("printed slip: %d pages, want 1", n)
	}
	// A6 is 105 × 148 mm: 297.6 × 419.5 points (Chromium rounds to pixels).
	box := regexp.MustCompile(`/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]`).FindSubmatch(pdf)
	if box == nil {
		t.Fatal("printed slip: no page size in the PDF")
	}
	w, _ := strconv.ParseFloat(string(box[1]), 64)
	h, _ := strconv.ParseFloat(string(box[2]), 64)
	if math.Abs(w-297.6) > 1 || math.Abs(h-419.5) > 1 {
		t.Errorf("printed slip: page of %.1f × %.1f pt, want A6 (297.6 × 419.5)", w, h)
	}
}

// TestBrowserStaffViews walks what the department and a commune officer
// do: switch language (and find it remembered after a reload), see an
// empty period explained, rank communes by an indicator found by search,
// and read the city headline as an average of communes apart from PAPI's
// own figures; a login's next= never leads off the site.
func TestBrowserStaffViews(t *testing.T) {
	ctx := MustBrowser(t)
	ts := MustServer(t, api.RateLimit{Off: true})
	fill(t, ts, "26740", 400, 0.6, 0)
	login(t, ctx, ts, "xa@saigon.test")
	waitReady(t, ctx, "commune page")
	if n := value(t, ctx, "indicator rows", chromedp.Evaluate[int](`document.querySelectorAll('#indicator-table tbody tr').length`)); n == 0 {
		t.Error("the commune page shows no indicator with a value")
	}
	if dashes := value(t, ctx, "dashes", chromedp.Evaluate[int](`[...document.querySelectorAll('#indicator-table tbody tr')].filter(r => r.children[3].textContent.trim() === '—').length`)); dashes != 0 {
		t.Errorf("%d rows of the indicator table have no value; they belong in the missing list", dashes)
	}
	if need := value(t, ctx, "missing", chromedp.Text(chromedp.CSS(`#missing`))); !strings.Contains(need, "cần thêm") {
		t.Errorf("missing indicators do not say how many more answers they need: %.200q", need)
	}
	do(t, ctx, "switch to English", chromedp.Click(chromedp.CSS(`#lang-toggle`)))
	value(t, ctx, "English", chromedp.Poll[bool](`document.documentElement.lang === 'en' && document.querySelector('#nav-commune').textContent === 'Commune results'`, chromedp.WithPollingTimeout(10*time.Second)))
	if h := value(t, ctx, "heading", chromedp.Text(chromedp.CSS(`#ind-title`))); h != "Indicators — lowest score first" {
		t.Errorf("after the switch the indicator heading reads %q", h)
	}
	do(t, ctx, "reload", chromedp.Reload())
	// The server renders the remembered language before any script runs.
	if l := value(t, ctx, "lang", chromedp.Evaluate[string](`document.documentElement.lang`)); l != "en" {
		t.Errorf("after a reload the page is in %q, want en", l)
	}
	waitReady(t, ctx, "commune page in English")
	do(t, ctx, "switch back", chromedp.Click(chromedp.CSS(`#lang-toggle`)))
	value(t, ctx, "Vietnamese", chromedp.Poll[bool](`document.documentElement.lang === 'vi'`, chromedp.WithPollingTimeout(10*time.Second)))

	login(t, ctx, ts, "dept@sonoivu.test")
	open(t, ctx, ts.URL+"/staff/commune/25747")
	do(t, ctx, "empty state", chromedp.WaitVisible(chromedp.CSS(`#empty-state .empty-steps`)))
	empty := value(t, ctx, "empty state", chromedp.Text(chromedp.CSS(`#empty-state`)))
	for _, want := range []string{"Chưa có phiếu nào trong kỳ này", "/c/25747", "In áp phích"} {
		if !strings.Contains(empty, want) {
			t.Errorf("empty state lacks %q: %.300q", want, empty)
		}
	}
	if n := value(t, ctx, "charts", chromedp.Evaluate[int](`document.querySelectorAll('#dimension-chart, #indicator-table, #trend').length`)); n != 0 {
		t.Errorf("an empty period still draws %d charts or tables", n)
	}

	open(t, ctx, ts.URL+"/staff/city")
	kpi := value(t, ctx, "headline", chromedp.Evaluate[string](`document.querySelector('#city-total').closest('.kpi').textContent`))
	if !strings.Contains(kpi, "Trung bình các xã, phường") {
		t.Errorf("city headline is not labelled as the average of communes: %q", kpi)
	}
	if inside := value(t, ctx, "reference apart", chromedp.Evaluate[bool](`!!document.querySelector('#reference-box') && !document.querySelector('.kpis #reference-box') && document.querySelector('#reference-box').textContent.includes('43,48')`)); !inside {
		t.Error("PAPI 2024's figures are not in their own box")
	}
	do(t, ctx, "search an indicator", chromedp.Click(chromedp.CSS(`#ind-picker-btn`)), chromedp.SendKeys(chromedp.CSS(`#ind-search`), "hai long dich vu"))
	found := value(t, ctx, "matches", chromedp.Evaluate[[]string](`[...document.querySelectorAll('.ind-choice')].filter(b => b.offsetParent).map(b => b.dataset.indicator)`))
	if len(found) == 0 || len(found) > 20 || !slices.Contains(found, "D5.3.4") {
		t.Fatalf("searching 'hai long dich vu' found %v, want a few indicators including D5.3.4", found)
	}
	do(t, ctx, "choose D5.3.4", chromedp.Click(chromedp.CSS(`.ind-choice[data-indicator="D5.3.4"]`)))
	waitReady(t, ctx, "ranking by D5.3.4")
	if u := value(t, ctx, "url", chromedp.Evaluate[string](`location.pathname + location.search`)); u != "/staff/city?indicator=D5.3.4" {
		t.Errorf("address after choosing: got %q", u)
	}
	if h := value(t, ctx, "ranking title", chromedp.Text(chromedp.CSS(`#rank-title`))); !strings.Contains(h, "D5.3.4") {
		t.Errorf("ranking title: got %q, want D5.3.4", h)
	}
	screenshot(t, ctx, "city")

	// A next= that a browser would turn into another host (a tab between
	// the slashes) is dropped: the login lands on the staff pages.
	for _, next := range []string{"%2F%09%2Fevil.example", "%2F%0A%2Fevil.example", "%2F%5Cevil.example", "https%3A%2F%2Fevil.example"} {
		do(t, ctx, "log in with next="+next,
			chromedp.Navigate(ts.URL+"/login?next="+next),
			chromedp.WaitVisible(chromedp.CSS(`#login-email`)),
			chromedp.SendKeys(chromedp.CSS(`#login-email`), "dept@sonoivu.test"),
			chromedp.SendKeys(chromedp.CSS(`#login-password`), "correct horse battery"),
			chromedp.Click(chromedp.CSS(`#login-submit`)),
			chromedp.WaitVisible(chromedp.CSS(`#logout-btn`)))
		if u := value(t, ctx, "landed", chromedp.Evaluate[string](`location.origin + location.pathname`)); u != ts.URL+"/staff/city" {
			t.Errorf("login with next=%s landed on %q, want %s/staff/city", next, u, ts.URL)
		}
	}
}

// strictCSP is a Content-Security-Policy without 'unsafe-inline': no inline
// script, no style attribute, no <style> element.
const strictCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// strictCSPWriter replaces the server's own Content-Security-Policy with
// strictCSP as the answer's header is written.
type strictCSPWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *strictCSPWriter) WriteHeader(code int) {
	w.Header().Set("Content-Security-Policy", strictCSP)
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *strictCSPWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *strictCSPWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// cspWatch records every CSP violation of the pages a tab opens.
const cspWatch = `window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber + ' ' + (e.sample || '')));`

// TestBrowserCSP serves the pages under a strict Content-Security-Policy
// and uses them: not one violation on the home, login, staff, report and
// poster pages (the resident form moves over in a later round), and the
// charts still draw (their sizes are set through the style object).
func TestBrowserCSP(t *testing.T) {
	ctx := MustBrowser(t)
	// The pages are served from the proxy's address, which is papi's public
	// address here: logins and posts must come from it (fromThisOrigin).
	var ts *testServer
	csp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.api.ServeHTTP(&strictCSPWriter{ResponseWriter: w}, r)
	}))
	defer csp.Close()
	ts = MustServerConfig(t, api.Config{RateLimit: api.RateLimit{Off: true}, BaseURL: csp.URL})
	fill(t, ts, "26740", 400, 0.6, 0)
	_, err := chromedp.Run(ctx, chromedp.Action[page.AddScriptToEvaluateOnNewDocumentResult](func(ctx context.Context, tg *chromedp.Target) (page.AddScriptToEvaluateOnNewDocumentResult, error) {
		return cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatch})
	}))
	if err != nil {
		t.Fatal(err)
	}
	check := func(where string) {
		t.Helper()
		for _, v := range value(t, ctx, "violations on "+where, chromedp.Evaluate[[]string](`window.__csp || []`)) {
			t.Errorf("%s: CSP violation: %s", where, v)
		}
	}
	centre := mustCentre(t, ts, "26740")
	for _, p := range []string{"/", "/login"} {
		do(t, ctx, "open "+p, chromedp.Navigate(csp.URL+p), chromedp.WaitVisible(chromedp.CSS(`h1`)), chromedp.Sleep(300*time.Millisecond))
		check(p)
	}
	do(t, ctx, "log in", chromedp.SendKeys(chromedp.CSS(`#login-email`), "dept@sonoivu.test"), chromedp.SendKeys(chromedp.CSS(`#login-password`), "correct horse battery"),
		chromedp.Click(chromedp.CSS(`#login-submit`)), chromedp.WaitVisible(chromedp.CSS(`#logout-btn`)))
	for _, p := range []string{"/staff/commune/26740", "/staff/commune/25747", "/staff/city", "/staff/followup", "/staff/centres/26740"} {
		open(t, ctx, csp.URL+p)
		check(p)
	}
	do(t, ctx, "issue a receipt", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#receipt-btn-%d`, centre.ID))), chromedp.WaitVisible(chromedp.CSS(`.slip`)))
	check("receipt slip")
	open(t, ctx, csp.URL+"/staff/commune/26740")
	if w := value(t, ctx, "bar width", chromedp.Evaluate[float64](`Math.max(0, ...[...document.querySelectorAll('.dc-bar, .mini-bar > span')].map(e => e.getBoundingClientRect().width))`)); w < 5 {
		t.Errorf("under the CSP the score bars are %.0f px wide: their sizes were not applied", w)
	}
	do(t, ctx, "switch language", chromedp.Click(chromedp.CSS(`#lang-toggle`)))
	value(t, ctx, "English", chromedp.Poll[bool](`document.documentElement.lang === 'en'`, chromedp.WithPollingTimeout(10*time.Second)))
	check("language switch")
	for _, p := range []string{"/api/v1/communes/26740/summary?format=html", fmt.Sprintf("/api/v1/centres/%d/poster", centre.ID)} {
		do(t, ctx, "open "+p, chromedp.Navigate(csp.URL+p), chromedp.WaitVisible(chromedp.CSS(`h1`)), chromedp.Sleep(300*time.Millisecond))
		check(p)
	}
	_, code, err := ts.store.CreateKiosk(context.Background(), "test", centre.ID, "Quầy 1")
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "kiosk", chromedp.Navigate(csp.URL+"/k/"+centre.Token+"?enrol="+code), chromedp.WaitVisible(`#kiosk-start`),
		chromedp.Click(`#kiosk-begin`), chromedp.WaitVisible(`#form-view`), chromedp.Sleep(300*time.Millisecond))
	check("kiosk page")
}
