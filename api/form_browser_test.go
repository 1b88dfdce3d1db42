package api_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
)

// elementShot saves a PNG of one element into PAPI_TEST_SCREENSHOTS (when
// set), for a person to check the layout at phone width.
func elementShot(t *testing.T, ctx context.Context, sel, name string) {
	t.Helper()
	dir := os.Getenv("PAPI_TEST_SCREENSHOTS")
	if dir == "" {
		return
	}
	c, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(c, chromedp.Screenshot(sel, chromedp.NodeVisible))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// clearCommune empties the commune search box as a person deleting the
// text would: the page hears an input event and forgets the choice.
var clearCommune = chromedp.Evaluate[chromedp.Void](`(() => {
  const i = document.querySelector('#q-c_residence_commune-input');
  i.focus(); i.value = ''; i.dispatchEvent(new Event('input', {bubbles: true}));
})()`)

// TestBrowserResidentNewQuestions: on a 360 px phone a resident sees the
// honest duration, module headings and the comment last; says they live in
// another commune and finds it by typing its name without diacritics,
// choosing it with the keyboard; rates the quality grid row by row (Có /
// Không / Không rõ side by side, nothing wider than the screen); and the
// stored answer holds the commune code and the grid answers.
func TestBrowserResidentNewQuestions(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx := MustBrowser(t)
	ts := MustServer(t, api.RateLimit{Off: true})
	centre := mustCentre(t, ts, "26740")
	do(t, ctx, "phone", chromedp.EmulateViewport(360, 780, chromedp.EmulateMobile))
	// Each load takes the next rotating module; load until the visit asks
	// d5, the module with the quality grid (at most one round).
	found := false
	for i := 0; i < 12 && !found; i++ {
		do(t, ctx, "load form", chromedp.Navigate(ts.URL+"/s/"+centre.Token), chromedp.WaitVisible(`#form-view`))
		found = value(t, ctx, "module", chromedp.Evaluate[bool](`!!document.querySelector('.q-section[data-module="d5"]')`))
	}
	if !found {
		t.Fatal("twelve loads of the form never asked module d5")
	}
	intro := value(t, ctx, "intro", chromedp.Text(`#intro-text`))
	if !regexp.MustCompile(`khoảng \d+(–\d+)? phút \(\d+ câu trở xuống\)`).MatchString(intro) {
		t.Errorf("intro: got %q, want the visit's duration in minutes and its number of questions", intro)
	}
	headings := value(t, ctx, "headings", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('.q-section')].filter(s => !s.hidden).map(s => s.dataset.module)`))
	if strings.Join(headings, ",") != "core,d5,end" {
		t.Errorf("module headings shown: got %v, want core, d5, end", headings)
	}
	last := value(t, ctx, "last question", chromedp.Evaluate[string](
		`[...document.querySelectorAll('#questions fieldset[data-question]')].pop().dataset.question`))
	if last != "c_comment" {
		t.Errorf("last question: got %s, want c_comment", last)
	}

	// Residence: another commune, found without diacritics, chosen by keyboard.
	do(t, ctx, "lives elsewhere",
		chromedp.Click(`#q-c_residence input[value="other"]`),
		chromedp.WaitVisible(`#q-c_residence_commune-input`),
		chromedp.SendKeys(`#q-c_residence_commune-input`, "phuong ben thanh"),
		chromedp.WaitVisible(`#q-c_residence_commune-list li`),
	)
	options := value(t, ctx, "matches", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('#q-c_residence_commune-list li')].map(li => li.textContent)`))
	if len(options) == 0 || options[0] != "Phường Bến Thành" {
		t.Fatalf("search 'phuong ben thanh': got %q, want Phường Bến Thành first", options)
	}
	elementShot(t, ctx, `#q-c_residence_commune`, "resident-commune-search")
	do(t, ctx, "choose by keyboard",
		chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitNotVisible(`#q-c_residence_commune-list`))
	if got := value(t, ctx, "chosen", chromedp.Text(`#q-c_residence_commune-status`)); got != "Đã chọn: Phường Bến Thành" {
		t.Errorf("after Enter: status %q, want the chosen commune", got)
	}
	// The commune visited is not offered as "another commune".
	do(t, ctx, "search the commune visited", clearCommune, chromedp.SendKeys(`#q-c_residence_commune-input`, "sai gon"))
	if offered := value(t, ctx, "sai gon", chromedp.Evaluate[string](`document.querySelector('#q-c_residence_commune-list').textContent`)); strings.Contains(offered, "Phường Sài Gòn") {
		t.Errorf("search 'sai gon': got %q, want the commune visited left out", offered)
	}
	do(t, ctx, "choose Bến Thành again", clearCommune,
		chromedp.SendKeys(`#q-c_residence_commune-input`, "ben thanh"),
		chromedp.WaitVisible(`#q-c_residence_commune-list li`),
		chromedp.KeyEvent(kb.Enter))

	// The grid: rows side by side on a phone, none wider than the screen.
	layout := value(t, ctx, "grid layout", chromedp.Evaluate[map[string]any](`(() => {
		const rows = [...document.querySelectorAll('.q-grid[data-grid="d5_quality"] fieldset.q-grid-row')].filter(r => !r.hidden);
		const oneLine = rows.every(r => { const o = [...r.querySelectorAll('.opt')]; return o.length === 3 && o.every(x => x.offsetTop === o[0].offsetTop); });
		return {rows: rows.length, oneLine, title: document.querySelector('.q-grid-title').textContent,
		        overflow: document.documentElement.scrollWidth > window.innerWidth,
		        onTime: !document.querySelector('#q-d5_q_on_time').hidden};
	})()`))
	if layout["rows"] != float64(8) || layout["oneLine"] != true || layout["overflow"] != false || layout["onTime"] != false {
		t.Errorf("grid: got %v, want 8 rows (no on-time row for a submission), Có/Không/Không rõ on one line, no overflow", layout)
	}
	do(t, ctx, "rate two rows",
		chromedp.Click(`#q-d5_q_posted input[value="yes"]`),
		chromedp.Click(`#q-d5_q_fees input[value="unsure"]`))
	elementShot(t, ctx, `.q-grid[data-grid="d5_quality"]`, "resident-grid")

	for round := 0; round < 10; round++ {
		if n := value(t, ctx, "answer", chromedp.Evaluate[int](answerVisibleRequired)); n == 0 {
			break
		}
	}
	do(t, ctx, "submit", chromedp.Click(`#submit`), chromedp.WaitVisible(`#thank-you`))
	var got []store.Response
	if err := ts.store.EachResponse(context.Background(), "26740", "2000-01-01", "2100-12-31", func(r store.Response) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d stored responses, want 1", len(got))
	}
	a := got[0].Answers
	if a["c_residence"] != "other" || a["c_residence_commune"] != "26743" || a["d5_q_posted"] != "yes" || a["d5_q_fees"] != "unsure" {
		t.Errorf("stored answers: got %v, want residence other in 26743 and the two grid answers", a)
	}
}

// TestBrowserDraftExpires (security review L12): a resident's unsent
// answers come back after a reload, but not once they are 30 minutes old,
// so the next person at a shared device starts from an empty form.
func TestBrowserDraftExpires(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx := MustBrowser(t)
	ts := MustServer(t, api.RateLimit{Off: true})
	centre := mustCentre(t, ts, "26740")
	form := ts.URL + "/s/" + centre.Token
	here := `#q-c_residence input[value="here"]`
	do(t, ctx, "answer one question", chromedp.Navigate(form), chromedp.WaitVisible(`#form-view`), chromedp.Click(here))
	checked := func(what string) bool {
		do(t, ctx, "reload "+what, chromedp.Navigate(form), chromedp.WaitVisible(`#form-view`))
		return value(t, ctx, "answer "+what, chromedp.Evaluate[bool](`document.querySelector('`+here+`').checked`))
	}
	if !checked("at once") {
		t.Fatal("a reload lost the answer just given")
	}
	age := func(minutes int) {
		js := fmt.Sprintf(`(() => { const k = 'papi.draft.%s'; const d = JSON.parse(localStorage.getItem(k)); d.saved = Date.now() - %d * 60000; localStorage.setItem(k, JSON.stringify(d)); return true; })()`, centre.Token, minutes)
		value(t, ctx, "age the draft", chromedp.Evaluate[bool](js))
	}
	age(29)
	if !checked("29 minutes on") {
		t.Error("a 29-minute-old draft was not restored")
	}
	age(31)
	if checked("31 minutes on") {
		t.Error("a 31-minute-old draft was restored: the next person at a shared device sees it")
	}
}

// TestBrowserFormWeight (issue 11): the resident form, as a phone loads it
// from the QR code (page, scripts, styles, dictionary, icons), weighs at
// most 70 KB uncompressed.
func TestBrowserFormWeight(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx := MustBrowser(t)
	ts := MustServer(t, api.RateLimit{Off: true})
	centre := mustCentre(t, ts, "26740")
	do(t, ctx, "load the form", chromedp.Navigate(ts.URL+"/s/"+centre.Token), chromedp.WaitVisible(`#form-view`), chromedp.Sleep(500*time.Millisecond))
	type entry struct {
		Name string  `json:"name"`
		Size float64 `json:"size"`
	}
	entries := value(t, ctx, "resources", chromedp.Evaluate[[]entry](`[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
		.map(e => ({name: e.name, size: e.decodedBodySize}))`))
	total := 0.0
	for _, e := range entries {
		total += e.Size
	}
	t.Logf("resident form: %d requests, %.1f KB uncompressed", len(entries), total/1024)
	if len(entries) < 3 || total == 0 {
		t.Fatalf("resident form: %d requests measured (%v); want the page and its assets", len(entries), entries)
	}
	if total > 70*1024 {
		t.Errorf("resident form: %.1f KB uncompressed over %d requests, want at most 70 KB: %v", total/1024, len(entries), entries)
	}
}
