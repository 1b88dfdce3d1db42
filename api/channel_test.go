package api_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// TestChannels: with QR answers and household interviews in one commune
// (fillChannels), the summary sets the two channels side by side and finds
// gaps, channel= filters every output, and a bad channel is refused.
func TestChannels(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	from, to := fillChannels(t, ts)
	period := "from=" + from + "&to=" + to

	type summary struct {
		CountedResponses int64            `json:"counted_responses"`
		Channels         map[string]int64 `json:"channels"`
		ChannelFilter    []string         `json:"channel_filter"`
		ByChannel        *struct {
			Gaps       int `json:"gaps"`
			Indicators []struct {
				ID     string
				Values []struct {
					Channel string
					N       int
				}
			}
		} `json:"by_channel"`
	}
	var all summary
	if res := ts.do(t, "GET", "/api/v1/communes/26740/summary?"+period, ts.tokens["admin"], "", &all); res.StatusCode != 200 {
		t.Fatalf("summary: status %d", res.StatusCode)
	}
	if all.Channels["qr"] != 150 || all.Channels["household"] != 150 || all.ByChannel == nil {
		t.Fatalf("summary: channels %v, by_channel %v; want 150 and 150 side by side", all.Channels, all.ByChannel)
	}
	// QR visits answer the core module and one rotating module, so only
	// the core's indicators reach 30 QR answers here (4 of them).
	if len(all.ByChannel.Indicators) < 3 || all.ByChannel.Gaps < 3 {
		t.Errorf("by_channel: %d indicators, %d gaps; want the core's indicators for both channels, with gaps between answers drawn at 0.9 and 0.2 quality",
			len(all.ByChannel.Indicators), all.ByChannel.Gaps)
	}
	for _, ind := range all.ByChannel.Indicators {
		if len(ind.Values) != 2 || ind.Values[0].Channel != "qr" || ind.Values[1].Channel != "household" || ind.Values[0].N < 30 {
			t.Errorf("%s: values %+v, want qr then household, each with at least 30 answers", ind.ID, ind.Values)
			break
		}
	}

	var one summary
	if res := ts.do(t, "GET", "/api/v1/communes/26740/summary?channel=household&"+period, ts.tokens["admin"], "", &one); res.StatusCode != 200 {
		t.Fatalf("household summary: status %d", res.StatusCode)
	}
	if one.CountedResponses != 150 || one.Channels["qr"] != 0 || !slices.Equal(one.ChannelFilter, []string{"household"}) || one.ByChannel != nil {
		t.Errorf("channel=household: %d counted, channels %v, filter %v, by_channel %v; want the 150 household interviews alone",
			one.CountedResponses, one.Channels, one.ChannelFilter, one.ByChannel)
	}

	var cmp struct {
		Rows []struct {
			Commune struct {
				Code string `json:"code"`
			} `json:"commune"`
			Responses int64 `json:"responses"`
		} `json:"rows"`
	}
	if res := ts.do(t, "GET", "/api/v1/compare?channel=qr&"+period, ts.tokens["admin"], "", &cmp); res.StatusCode != 200 {
		t.Fatalf("compare: status %d", res.StatusCode)
	}
	for _, r := range cmp.Rows {
		if r.Commune.Code == "26740" && r.Responses != 150 {
			t.Errorf("compare channel=qr: 26740 has %d responses, want the 150 QR answers", r.Responses)
		}
	}

	for _, path := range []string{"/api/v1/communes/26740/summary?channel=sms", "/api/v1/compare?channel=qr,", "/api/v1/followup?channel=QR"} {
		var e struct {
			Errors []struct{ Field string } `json:"errors"`
		}
		if res := ts.do(t, "GET", path, ts.tokens["admin"], "", &e); res.StatusCode != 400 || len(e.Errors) != 1 || e.Errors[0].Field != "channel" {
			t.Errorf("%s: status %d, errors %+v; want 400 on field channel", path, res.StatusCode, e.Errors)
		}
	}
}

// fillChannels stores, in commune 26740, 150 QR answers from satisfied
// visitors and 150 household interviews from dissatisfied residents, 24 a
// working day from 20 days ago, and returns the period that holds them.
func fillChannels(t testing.TB, ts *testServer) (from, to string) {
	t.Helper()
	ctx := context.Background()
	cat := ts.store.Catalogue()
	centre := mustCentre(t, ts, "26740")
	rng := rand.New(rand.NewPCG(8, 9))
	// 24 answers a working day from 20 days ago, like fill.
	now := time.Now().In(survey.Local)
	first := time.Date(now.Year(), now.Month(), now.Day(), 8, 0, 0, 0, survey.Local).AddDate(0, 0, -20)
	if first.Weekday() == time.Sunday {
		first = first.AddDate(0, 0, 1)
	}
	for k := range 150 {
		at := openSlotFrom(first, k)
		qr, err := cat.ValidateSubmission(cat.Synthesize(rng, cat.AssignModules(uint64(k)), 0.9))
		if err != nil {
			t.Fatal(err)
		}
		hh, err := cat.ValidateSubmission(cat.Synthesize(rng, cat.AllModules(), 0.2))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []store.NewResponse{
			{SubmissionID: fmt.Sprintf("qr-%d", k), Centre: centre, Version: cat.Version, Visit: qr, At: at},
			{SubmissionID: fmt.Sprintf("hh-%d", k), CommuneCode: "26740", Channel: survey.ChannelHousehold, Version: cat.Version, Visit: hh, At: at},
		} {
			if _, _, err := ts.store.CreateResponse(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	return first.Format(survey.DateLayout), now.Format(survey.DateLayout)
}

// TestBrowserChannels: the commune page sets the channels side by side,
// marks the gaps, passes axe-core, fits a 360 px phone, and the channel
// filter narrows the page to one channel (where the section disappears).
func TestBrowserChannels(t *testing.T) {
	ctx := MustBrowser(t)
	axe := MustAxe(t)
	bypassCSP(t, ctx)
	ts := MustServer(t, api.RateLimit{Off: true})
	from, to := fillChannels(t, ts)
	login(t, ctx, ts, "admin@papi.test")
	page := ts.URL + "/staff/commune/26740?from=" + from + "&to=" + to
	open(t, ctx, page)
	rows := value(t, ctx, "channel rows", chromedp.Evaluate[int](`document.querySelectorAll('#channel-table tbody tr').length`))
	gaps := value(t, ctx, "gap tags", chromedp.Evaluate[int](`document.querySelectorAll('#channel-table .tag-gap').length`))
	heads := value(t, ctx, "channel heads", chromedp.Evaluate[string](`[...document.querySelectorAll('#channel-table thead th')].map(x => x.textContent).join('|')`))
	if rows < 3 || gaps < 3 || !strings.Contains(heads, "Mã QR (150)") || !strings.Contains(heads, "Phỏng vấn hộ gia đình (150)") {
		t.Errorf("channel table: %d rows, %d gaps, heads %q; want the core indicators for QR (150) and households (150) with gaps", rows, gaps, heads)
	}
	axeCheck(t, ctx, axe, "commune page with channels")
	do(t, ctx, "phone size", chromedp.EmulateViewport(360, 780, chromedp.EmulateMobile))
	open(t, ctx, page)
	if w := value(t, ctx, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 360 {
		t.Errorf("commune page with channels at 360 px: %d px wide", w)
	}
	do(t, ctx, "desktop size", chromedp.EmulateViewport(1280, 900))
	open(t, ctx, page)
	do(t, ctx, "choose households", chromedp.SetValue(chromedp.CSS(`#channel-filter`), "household"), chromedp.Click(chromedp.CSS(`#apply-filters`)))
	value(t, ctx, "household page", chromedp.Poll[bool](`location.search.includes('channel=household') && !!document.querySelector('#responses') && !document.getElementById('main').hasAttribute('aria-busy')`,
		chromedp.WithPollingTimeout(25*time.Second)))
	waitReady(t, ctx, "household page")
	if n := value(t, ctx, "channel section", chromedp.Evaluate[int](`document.querySelectorAll('#by-channel').length`)); n != 0 {
		t.Errorf("channel=household: the side-by-side section is still there")
	}
	if got := value(t, ctx, "responses", chromedp.Evaluate[string](`document.querySelector('#responses').textContent`)); !strings.Contains(got, "150") {
		t.Errorf("channel=household: responses box says %q, want 150", got)
	}
}
