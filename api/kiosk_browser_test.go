package api_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// setOffline cuts the page off the network (its requests fail) and tells it
// so (navigator.onLine and the online/offline events), or undoes both.
func setOffline(t *testing.T, ctx context.Context, offline bool) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Action[cdp.Empty](func(ctx context.Context, tg *chromedp.Target) (cdp.Empty, error) {
		if _, err := cdp.Call(ctx, tg, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}},
		}); err != nil {
			return cdp.Empty{}, err
		}
		return cdp.Call(ctx, tg, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1})
	}))
	if err != nil {
		t.Fatalf("network offline=%v: %v", offline, err)
	}
}

// formEmpty lists every field of the kiosk form that holds something: a
// checked box, a typed value, an error shown, a progress above zero.
const formEmpty = `(() => {
  const full = [];
  for (const i of document.querySelectorAll('#form input, #form textarea')) {
    if ((i.type === 'radio' || i.type === 'checkbox') ? i.checked : i.value !== '') full.push(i.name || i.id);
  }
  for (const e of document.querySelectorAll('.q-error')) if (e.textContent) full.push('error ' + e.id);
  if (!/^Đã trả lời 0\//.test(document.getElementById('progress-text').textContent)) full.push('progress ' + document.getElementById('progress-text').textContent);
  const keys = Object.keys(localStorage).filter(k => k.startsWith('papi.draft') || k.startsWith('papi.pending'));
  return full.concat(keys.map(k => 'stored ' + k));
})()`

// smallTargets lists visible buttons, choices and fields shorter than
// 48 px: a kiosk is tapped by people of every age.
const smallTargets = `(() => [...document.querySelectorAll('button, .opt-label, input[type=text], input[type=number], textarea')]
  .filter(e => e.getClientRects().length && !e.closest('[hidden]'))
  .filter(e => e.getBoundingClientRect().height < 48)
  .map(e => (e.id || e.className || e.tagName) + ' ' + Math.round(e.getBoundingClientRect().height) + 'px'))()`

// metric reads one counter of papi_submissions_total.
func metric(t *testing.T, ts *testServer, result string) string {
	t.Helper()
	res := ts.do(t, "GET", "/metrics", "", "", nil)
	b, _ := io.ReadAll(res.Body)
	m := regexp.MustCompile(`papi_submissions_total\{result="` + result + `"\} (\d+)`).FindStringSubmatch(string(b))
	if m == nil {
		return "0"
	}
	return m[1]
}

// TestBrowserKiosk drives a tablet through kiosk mode in Chromium: staff
// create the kiosk, the tablet opens the enrolment link (the code leaves
// the address bar, the secret stays in localStorage); the start screen,
// the form and the thank-you have no serious or critical axe-core
// violation and no touch target under 48 px; a person answers and sends;
// the next person sees an empty form (no draft kept, nothing restored
// after a reload either); a half-filled form left idle returns to the start
// (the 90 s wait shortened through data-idle) and starts empty again;
// offline, a person's answers are queued, the thank-you says so, and back
// online the queue sends once (one stored response, no duplicate
// submission), and the thank-you returns to the start by itself; revoked
// on the centres page, the tablet shows the page asking staff to enrol it,
// where a wrong code is refused and a new one typed in enrols it again.
func TestBrowserKiosk(t *testing.T) {
	ctx := MustBrowser(t)
	axe := ""
	if os.Getenv("PAPI_TEST_AXE") != "" {
		axe = MustAxe(t)
		bypassCSP(t, ctx)
	}
	check := func(where string) {
		t.Helper()
		if axe != "" {
			axeCheck(t, ctx, axe, where)
		}
		if small := value(t, ctx, "targets", chromedp.Evaluate[[]string](smallTargets)); len(small) > 0 {
			t.Errorf("%s: touch targets under 48 px: %v", where, small)
		}
	}
	ts := MustServer(t, api.RateLimit{Off: true})
	centre := mustCentre(t, ts, "26740")

	// The commune officer creates the kiosk on the centres page.
	login(t, ctx, ts, "xa@saigon.test")
	open(t, ctx, ts.URL+"/staff/centres/26740")
	do(t, ctx, "create a kiosk",
		chromedp.WaitVisible(fmt.Sprintf(`#kiosk-label-%d`, centre.ID)),
		chromedp.SendKeys(fmt.Sprintf(`#kiosk-label-%d`, centre.ID), "Quầy 1"),
		chromedp.Click(fmt.Sprintf(`#kiosk-create-%d`, centre.ID)),
		chromedp.WaitVisible(fmt.Sprintf(`#kiosk-code-%d`, centre.ID)))
	enrolURL := value(t, ctx, "enrolment link", chromedp.Text(`.kiosk-url`))
	if !strings.HasPrefix(enrolURL, ts.URL+"/k/"+centre.Token+"?enrol=") {
		t.Fatalf("enrolment link: got %q", enrolURL)
	}
	if row := value(t, ctx, "kiosk row", chromedp.Text(`.kiosk-row`)); !strings.Contains(row, "Quầy 1") || !strings.Contains(row, "chờ kích hoạt") {
		t.Errorf("kiosk list: got %q, want Quầy 1 waiting for enrolment", row)
	}
	if axe != "" {
		axeCheck(t, ctx, axe, "centres page with a new kiosk code")
	}
	kiosks, err := ts.store.Kiosks(context.Background(), centre.ID)
	if err != nil || len(kiosks) != 1 {
		t.Fatalf("kiosks: %v %v", kiosks, err)
	}
	var created struct{ Kiosk struct{ ID uint } }
	created.Kiosk.ID = kiosks[0].ID

	do(t, ctx, "enrol the tablet",
		chromedp.EmulateViewport(800, 1280, chromedp.EmulateMobile),
		chromedp.Navigate(enrolURL),
		chromedp.WaitVisible(`#kiosk-start`))
	state := value(t, ctx, "after enrolment", chromedp.Evaluate[map[string]any](`({url: location.href, device: !!(JSON.parse(localStorage.getItem('papi.kiosk.device') || 'null') || {}).secret,
		lang: document.documentElement.lang, begin: document.getElementById('kiosk-begin').textContent})`))
	if strings.Contains(state["url"].(string), "enrol") || state["device"] != true || state["lang"] != "vi" || state["begin"] != "Bắt đầu" {
		t.Errorf("after enrolment: got %v, want the code gone from the address, a device secret kept, Vietnamese, Bắt đầu", state)
	}
	screenshot(t, ctx, "kiosk-start")
	check("kiosk start screen")

	answerAll := func() {
		t.Helper()
		for round := 0; round < 10; round++ {
			if n := value(t, ctx, "answer", chromedp.Evaluate[int](answerVisibleRequired)); n == 0 {
				break
			}
		}
		do(t, ctx, "comment", chromedp.SendKeys(`#q-c_comment-input`, "Cán bộ nhiệt tình"))
	}
	do(t, ctx, "begin", chromedp.Click(`#kiosk-begin`), chromedp.WaitVisible(`#form-view`))
	if empty := value(t, ctx, "first form", chromedp.Evaluate[[]string](formEmpty)); len(empty) > 0 {
		t.Errorf("first person's form: not empty: %v", empty)
	}
	check("kiosk form")
	answerAll()
	screenshot(t, ctx, "kiosk-form")
	do(t, ctx, "submit", chromedp.Click(`#submit`), chromedp.WaitVisible(`#thank-you`))
	check("kiosk thank-you")
	if n := ts.count(t); n != 1 {
		t.Fatalf("after the first person: %d stored responses, want 1", n)
	}
	var first []string
	if err := ts.store.EachResponse(context.Background(), "", "2000-01-01", "2100-01-01", func(r store.Response) error {
		if r.Channel != survey.ChannelKiosk || r.KioskID != created.Kiosk.ID || r.Answers["c_comment"] != "Cán bộ nhiệt tình" {
			first = append(first, fmt.Sprintf("channel %s kiosk %d comment %v", r.Channel, r.KioskID, r.Answers["c_comment"]))
		}
		return nil
	}); err != nil || len(first) > 0 {
		t.Errorf("stored: %v %v; want channel kiosk from kiosk %d with the comment", first, err, created.Kiosk.ID)
	}

	// The next person: back at the start, then an empty form; a reload
	// restores nothing either.
	do(t, ctx, "back to the start", chromedp.Click(`#new-response`), chromedp.WaitVisible(`#kiosk-start`))
	do(t, ctx, "next person", chromedp.Click(`#kiosk-begin`), chromedp.WaitVisible(`#form-view`))
	if empty := value(t, ctx, "next form", chromedp.Evaluate[[]string](formEmpty)); len(empty) > 0 {
		t.Errorf("the next person sees: %v, want an empty form", empty)
	}
	do(t, ctx, "half an answer", chromedp.SendKeys(`#q-c_comment-input`, "dở dang"))
	do(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(`#kiosk-start`), chromedp.Click(`#kiosk-begin`), chromedp.WaitVisible(`#form-view`))
	if empty := value(t, ctx, "after reload", chromedp.Evaluate[[]string](formEmpty)); len(empty) > 0 {
		t.Errorf("after a reload: %v, want an empty form", empty)
	}

	// Idle: one touch, then nothing for data-idle seconds.
	do(t, ctx, "shorten the idle wait", chromedp.Evaluate[chromedp.Void](`document.body.dataset.idle = '2'`))
	do(t, ctx, "one answer", chromedp.Evaluate[chromedp.Void](answerVisibleRequired))
	do(t, ctx, "type", chromedp.SendKeys(`#q-c_comment-input`, "bỏ đi giữa chừng"))
	start := time.Now()
	value(t, ctx, "back at the start when idle", chromedp.Poll[bool](`!document.getElementById('kiosk-start').hidden`, chromedp.WithPollingTimeout(10*time.Second)))
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("returned to the start after %v, before the idle time", waited)
	}
	do(t, ctx, "begin after idle", chromedp.Click(`#kiosk-begin`), chromedp.WaitVisible(`#form-view`))
	if empty := value(t, ctx, "after idle", chromedp.Evaluate[[]string](formEmpty)); len(empty) > 0 {
		t.Errorf("after the idle return: %v, want an empty form", empty)
	}
	do(t, ctx, "idle back to 90 s", chromedp.Evaluate[chromedp.Void](`document.body.dataset.idle = '90'`))

	// Offline: queued, then sent once.
	answerAll()
	setOffline(t, ctx, true)
	do(t, ctx, "shorten the thank-you", chromedp.Evaluate[chromedp.Void](`document.body.dataset.thanks = '3'`))
	do(t, ctx, "submit offline", chromedp.Click(`#submit`), chromedp.WaitVisible(`#thank-you`))
	offline := value(t, ctx, "offline thank-you", chromedp.Evaluate[map[string]any](`({queued: !document.getElementById('kiosk-queued-note').hidden,
		queue: JSON.parse(localStorage.getItem('papi.kiosk.queue') || '[]').length})`))
	if offline["queued"] != true || offline["queue"] != float64(1) {
		t.Errorf("offline submission: got %v, want the queued note and one answer set in the queue", offline)
	}
	screenshot(t, ctx, "kiosk-thank-you-offline")
	value(t, ctx, "back at the start after the thank-you", chromedp.Poll[bool](`!document.getElementById('kiosk-start').hidden`, chromedp.WithPollingTimeout(10*time.Second)))
	if n := ts.count(t); n != 1 {
		t.Errorf("while offline: %d stored responses, want still 1", n)
	}
	setOffline(t, ctx, false)
	value(t, ctx, "queue sent", chromedp.Poll[bool](`JSON.parse(localStorage.getItem('papi.kiosk.queue') || '[]').length === 0`, chromedp.WithPollingTimeout(20*time.Second)))
	do(t, ctx, "another online event", chromedp.Evaluate[chromedp.Void](`window.dispatchEvent(new Event('online'))`), chromedp.Sleep(time.Second))
	if n := ts.count(t); n != 2 {
		t.Errorf("back online: %d stored responses, want 2", n)
	}
	if d := metric(t, ts, "duplicate"); d != "0" {
		t.Errorf("back online: %s duplicate submissions, want the queue sent once", d)
	}

	// Revoked on the centres page: the list says so, the tablet is told to
	// ask staff.
	open(t, ctx, ts.URL+"/staff/centres/26740")
	do(t, ctx, "revoke", chromedp.WaitVisible(fmt.Sprintf(`#kiosk-revoke-%d`, created.Kiosk.ID)),
		chromedp.Click(fmt.Sprintf(`#kiosk-revoke-%d`, created.Kiosk.ID)))
	value(t, ctx, "revoked in the list", chromedp.Poll[bool](`/thu hồi/.test(document.querySelector('.kiosk-row').textContent)`, chromedp.WithPollingTimeout(10*time.Second)))
	if row := value(t, ctx, "kiosk row", chromedp.Text(`.kiosk-row`)); !strings.Contains(row, "dùng lần cuối ngày") {
		t.Errorf("kiosk list: got %q, want the last day of use", row)
	}
	do(t, ctx, "reload revoked", chromedp.Navigate(ts.URL+"/k/"+centre.Token), chromedp.WaitVisible(`#kiosk-enrol`))
	if text := value(t, ctx, "revoked text", chromedp.Text(`#kiosk-enrol-vi`)); !strings.Contains(text, "thu hồi") {
		t.Errorf("revoked tablet: got %q, want it told the kiosk was revoked", text)
	}
	screenshot(t, ctx, "kiosk-revoked")
	check("kiosk enrolment page")

	// Enrolled again by typing a new code on the tablet.
	_, code, err := ts.store.CreateKiosk(context.Background(), "test", centre.ID, "Quầy 1 mới")
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "type a wrong code", chromedp.SendKeys(`#kiosk-code`, "khongdung1"), chromedp.Click(`#kiosk-enrol-submit`),
		chromedp.WaitVisible(`#kiosk-enrol`))
	value(t, ctx, "wrong code refused", chromedp.Poll[bool](`/không đúng/.test(document.getElementById('kiosk-code-error').textContent)`, chromedp.WithPollingTimeout(10*time.Second)))
	do(t, ctx, "type the code", chromedp.Evaluate[chromedp.Void](`document.getElementById('kiosk-code').value = ''`), chromedp.SendKeys(`#kiosk-code`, strings.ToUpper(code)), chromedp.Click(`#kiosk-enrol-submit`),
		chromedp.WaitVisible(`#kiosk-start`))
	if k, _ := ts.store.Kiosks(context.Background(), centre.ID); len(k) != 2 || k[1].EnrolledAt == nil {
		t.Errorf("after typing the code: kiosks %+v, want the new one enrolled", k)
	}

	// The centre's connection goes down (the server is gone) and the tablet
	// is reloaded: the service worker's copy of the page opens the start
	// screen, and the questionnaire loaded last serves the next person.
	value(t, ctx, "service worker in control", chromedp.Poll[bool](`!!(navigator.serviceWorker && navigator.serviceWorker.controller)`, chromedp.WithPollingTimeout(10*time.Second)))
	ts.Close()
	do(t, ctx, "reload with the server gone", chromedp.Reload(), chromedp.WaitVisible(`#kiosk-start`))
	do(t, ctx, "begin offline", chromedp.Click(`#kiosk-begin`), chromedp.WaitVisible(`#form-view`))
	if n := value(t, ctx, "questions offline", chromedp.Evaluate[int](`document.querySelectorAll('#questions input').length`)); n == 0 {
		t.Error("reloaded offline: the form shows no questions, want the stored questionnaire")
	}
	screenshot(t, ctx, "kiosk-offline-reload")
}
