package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// doKiosk is ts.do from a tablet: with its device secret in X-Papi-Kiosk
// (none when secret is empty).
func (ts *testServer) doKiosk(t testing.TB, method, path, secret, body string, out any) *http.Response {
	t.Helper()
	h := http.Header{}
	if secret != "" {
		h.Set("X-Papi-Kiosk", secret)
	}
	return ts.doWith(t, method, path, h, body, out)
}

// mustKiosk creates and enrols a kiosk at the centre through the store and
// returns it with its device secret.
func mustKiosk(t testing.TB, ts *testServer, centre store.Centre, label string) (store.Kiosk, string) {
	t.Helper()
	ctx := context.Background()
	_, code, err := ts.store.CreateKiosk(ctx, "test", centre.ID, label)
	if err != nil {
		t.Fatal(err)
	}
	k, secret, err := ts.store.EnrolKiosk(ctx, centre.ID, code)
	if err != nil {
		t.Fatal(err)
	}
	return k, secret
}

type apiError struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		MessageVi string `json:"message_vi"`
		MessageEn string `json:"message_en"`
	} `json:"error"`
	Errors []struct{ Field string } `json:"errors"`
}

// TestKioskEnrolFlow drives enrolment over HTTP: the commune officer
// creates a kiosk from the centres page and gets a one-time code and link;
// the tablet opens the link's page, trades the code for a secret (once;
// the code at another centre's link is refused), checks itself and sends
// answers with channel kiosk; the list shows it enrolled and seen today;
// the officer revokes it, after which the tablet's check and its answers
// are refused with a bilingual 403; every change has its audit row.
func TestKioskEnrolFlow(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	centre, other := mustCentre(t, ts, "26740"), mustCentre(t, ts, "25747")
	officer := ts.tokens["commune"]
	path := fmt.Sprintf("/api/v1/centres/%d/kiosks", centre.ID)

	if res := ts.do(t, "POST", path, officer, `{"label":""}`, nil); res.StatusCode != 400 {
		t.Errorf("empty label: got %d, want 400", res.StatusCode)
	}
	var created struct {
		Kiosk struct {
			ID         uint
			Label      string
			EnrolledAt *string `json:"enrolled_at"`
		}
		Code     string
		EnrolURL string `json:"enrol_url"`
	}
	if res := ts.do(t, "POST", path, officer, `{"label":"Quầy số 1"}`, &created); res.StatusCode != 201 {
		t.Fatalf("create kiosk: got %d, want 201", res.StatusCode)
	}
	wantURL := ts.URL + "/k/" + centre.Token + "?enrol=" + created.Code
	if created.Kiosk.Label != "Quầy số 1" || created.Kiosk.EnrolledAt != nil || created.EnrolURL != wantURL {
		t.Errorf("created: got %+v, want label Quầy số 1, not enrolled, link %s", created, wantURL)
	}

	// The tablet opens the link.
	u, _ := url.Parse(created.EnrolURL)
	page := ts.do(t, "GET", u.RequestURI(), "", "", nil)
	body, _ := io.ReadAll(page.Body)
	if page.StatusCode != 200 || !strings.Contains(string(body), `data-kiosk="true"`) || page.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("kiosk page: got %d, referrer policy %q, kiosk mode %v", page.StatusCode, page.Header.Get("Referrer-Policy"), strings.Contains(string(body), `data-kiosk="true"`))
	}
	if res := ts.do(t, "GET", "/k/nosuchtoken", "", "", nil); res.StatusCode != 404 {
		t.Errorf("kiosk page of an unknown centre: got %d, want 404", res.StatusCode)
	}
	enrol := func(token, code string) (*http.Response, string) {
		var out struct {
			Secret string
			Kiosk  struct{ ID uint }
		}
		var e apiError
		res := ts.do(t, "POST", "/api/v1/kiosks/enrol", "", mustJSON(map[string]string{"token": token, "code": code}), nil)
		b, _ := io.ReadAll(res.Body)
		_ = json.Unmarshal(b, &out)
		_ = json.Unmarshal(b, &e)
		if res.StatusCode != 200 && (e.Error.Message == "" && len(e.Errors) == 0) {
			t.Errorf("enrol refusal without a message: %s", b)
		}
		return res, out.Secret
	}
	if res, _ := enrol(other.Token, created.Code); res.StatusCode != 400 {
		t.Errorf("code at another centre: got %d, want 400", res.StatusCode)
	}
	res, secret := enrol(centre.Token, created.Code)
	if res.StatusCode != 200 || len(secret) < 40 || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("enrol: got %d, secret of %d characters, cache %q", res.StatusCode, len(secret), res.Header.Get("Cache-Control"))
	}
	if res, _ := enrol(centre.Token, created.Code); res.StatusCode != 400 {
		t.Errorf("code used again: got %d, want 400", res.StatusCode)
	}

	current := "/api/v1/kiosks/current?token=" + centre.Token
	if res := ts.doKiosk(t, "GET", current, secret, "", nil); res.StatusCode != 200 {
		t.Errorf("check an enrolled tablet: got %d, want 200", res.StatusCode)
	}
	var refusal apiError
	if res := ts.doKiosk(t, "GET", "/api/v1/kiosks/current?token="+other.Token, secret, "", &refusal); res.StatusCode != 403 || !strings.Contains(refusal.Error.MessageVi, "trung tâm khác") {
		t.Errorf("check at another centre: got %d %+v, want 403 naming another centre", res.StatusCode, refusal)
	}
	if res := ts.doKiosk(t, "GET", current, "", "", nil); res.StatusCode != 403 {
		t.Errorf("check without a secret: got %d, want 403", res.StatusCode)
	}

	var f formJSON
	ts.do(t, "GET", "/api/v1/forms/"+centre.Token, "", "", &f)
	send := func(id, secret string, token string) (int, apiError) {
		b := validBody(t, ts, token, f, id, 3)
		b["channel"] = "kiosk"
		var e apiError
		res := ts.doKiosk(t, "POST", "/api/v1/responses", secret, mustJSON(b), nil)
		data, _ := io.ReadAll(res.Body)
		_ = json.Unmarshal(data, &e)
		return res.StatusCode, e
	}
	if st, _ := send("kiosk-answer-1", secret, centre.Token); st != 201 {
		t.Fatalf("kiosk answers: got %d, want 201", st)
	}
	if st, _ := send("kiosk-answer-1", secret, centre.Token); st != 200 {
		t.Errorf("the same submission again (offline queue retry): got %d, want 200", st)
	}
	r, err := ts.store.ResponseBySubmission(context.Background(), "kiosk-answer-1")
	if err != nil || r.Channel != survey.ChannelKiosk || r.KioskID != created.Kiosk.ID {
		t.Errorf("stored: got channel %q kiosk %d (%v), want kiosk %d", r.Channel, r.KioskID, err, created.Kiosk.ID)
	}

	var list []struct {
		ID         uint
		EnrolledAt *string `json:"enrolled_at"`
		LastSeen   string  `json:"last_seen"`
		Revoked    bool
	}
	if res := ts.do(t, "GET", path, ts.tokens["department"], "", &list); res.StatusCode != 200 || len(list) != 1 || list[0].EnrolledAt == nil || list[0].LastSeen != survey.LocalDay(time.Now()) || list[0].Revoked {
		t.Errorf("list: got %d %+v, want the kiosk enrolled and seen today", res.StatusCode, list)
	}
	if res := ts.do(t, "POST", path, ts.tokens["department"], `{"label":"x"}`, nil); res.StatusCode != 403 {
		t.Errorf("department creates a kiosk: got %d, want 403", res.StatusCode)
	}
	revoke := fmt.Sprintf("/api/v1/kiosks/%d", created.Kiosk.ID)
	if res := ts.do(t, "DELETE", revoke, ts.tokens["department"], "", nil); res.StatusCode != 403 {
		t.Errorf("department revokes: got %d, want 403", res.StatusCode)
	}
	if res := ts.do(t, "DELETE", revoke, officer, "", nil); res.StatusCode != 200 {
		t.Fatalf("revoke: got %d, want 200", res.StatusCode)
	}
	st, e := send("kiosk-answer-2", secret, centre.Token)
	if st != 403 || !strings.Contains(e.Error.MessageVi, "thu hồi") || !strings.Contains(e.Error.MessageEn, "revoked") {
		t.Errorf("revoked tablet: got %d %+v, want 403 saying revoked in both languages", st, e)
	}
	if res := ts.doKiosk(t, "GET", current, secret, "", nil); res.StatusCode != 403 {
		t.Errorf("check a revoked tablet: got %d, want 403", res.StatusCode)
	}
	for action, want := range map[string]int{"kiosk_create": 1, "kiosk_enrol": 1, "kiosk_revoke": 1} {
		log, err := ts.store.AuditLog(context.Background(), store.AuditFilter{Action: action})
		if err != nil || len(log) != want {
			t.Errorf("audit %s: got %d rows (%v), want %d", action, len(log), err, want)
		} else if action != "kiosk_enrol" && log[0].Actor != "xa@saigon.test" {
			t.Errorf("audit %s: actor %q, want the officer", action, log[0].Actor)
		}
	}
}

// TestKioskAnswersRefused: channel kiosk without a secret, with an unknown
// one, with another centre's kiosk, and a secret with channel qr are all
// refused with a bilingual message, and nothing is stored.
func TestKioskAnswersRefused(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	centre, other := mustCentre(t, ts, "26740"), mustCentre(t, ts, "25747")
	_, secret := mustKiosk(t, ts, centre, "Quầy 1")
	_, otherSecret := mustKiosk(t, ts, other, "Quầy A")
	var f formJSON
	ts.do(t, "GET", "/api/v1/forms/"+centre.Token, "", "", &f)
	for i, tc := range []struct {
		name, channel, secret string
		status                int
		field                 string
	}{
		{"kiosk without a device", "kiosk", "", 403, ""},
		{"kiosk with an unknown device", "kiosk", "not-a-device-secret", 403, ""},
		{"kiosk of another centre", "kiosk", otherSecret, 403, ""},
		{"device secret on qr answers", "qr", secret, 400, "channel"},
	} {
		b := validBody(t, ts, centre.Token, f, fmt.Sprintf("refused-kiosk-%d", i), 5)
		b["channel"] = tc.channel
		var e apiError
		res := ts.doKiosk(t, "POST", "/api/v1/responses", tc.secret, mustJSON(b), &e)
		if res.StatusCode != tc.status {
			t.Errorf("%s: got %d, want %d", tc.name, res.StatusCode, tc.status)
		}
		if tc.field != "" && (len(e.Errors) == 0 || e.Errors[0].Field != tc.field) {
			t.Errorf("%s: got errors %+v, want one on %s", tc.name, e.Errors, tc.field)
		}
		if tc.field == "" && (e.Error.MessageVi == "" || e.Error.MessageEn == "" || e.Error.MessageVi == e.Error.MessageEn) {
			t.Errorf("%s: got %+v, want a message in Vietnamese and English", tc.name, e.Error)
		}
	}
	if n := ts.count(t); n != 0 {
		t.Errorf("got %d stored responses, want 0", n)
	}
}
