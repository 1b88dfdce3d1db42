package api_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/store/storetest"
)

type centreJSON struct {
	ID      uint
	Token   string
	Open    bool
	FormURL string `json:"form_url"`
}

// TestCentreLifecycle closes L10: a centre's QR code can be closed,
// reopened and renewed by an admin or the commune's own staff, audited;
// old posters then lead to the closed page and their answers are refused.
func TestCentreLifecycle(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	centre := mustCentre(t, ts, "26740")
	path := func(action string) string { return fmt.Sprintf("/api/v1/centres/%d/%s", centre.ID, action) }
	submit := func(token, id string) int {
		var f formJSON
		ts.do(t, "GET", "/api/v1/forms/"+mustCentre(t, ts, "26740").Token, "", "", &f)
		return ts.do(t, "POST", "/api/v1/responses", "", mustJSON(validBody(t, ts, token, f, id, 1)), nil).StatusCode
	}
	page := func(token string) int { res, _ := ts.send(t, "GET", "/s/"+token, "", nil); return res.StatusCode }

	for _, tc := range []struct {
		who  string
		path string
		want int
	}{
		{"department", path("close"), 403},
		{"commune", fmt.Sprintf("/api/v1/centres/%d/close", mustCentre(t, ts, "25747").ID), 403},
		{"commune", "/api/v1/centres/999999/close", 404},
	} {
		if res := ts.do(t, "POST", tc.path, ts.tokens[tc.who], "", nil); res.StatusCode != tc.want {
			t.Errorf("%s POST %s: got %d, want %d", tc.who, tc.path, res.StatusCode, tc.want)
		}
	}
	var got centreJSON
	if res := ts.do(t, "POST", path("close"), ts.tokens["commune"], "", &got); res.StatusCode != 200 || got.Open {
		t.Fatalf("close: got %d %+v", res.StatusCode, got)
	}
	if st := page(centre.Token); st != 404 {
		t.Errorf("closed centre's page: got %d, want 404 (the closed page)", st)
	}
	if st := submit(centre.Token, "closed-0000001"); st != 400 {
		t.Errorf("answer to a closed centre: got %d, want 400", st)
	}
	if res := ts.do(t, "POST", path("open"), ts.tokens["admin"], "", &got); res.StatusCode != 200 || !got.Open {
		t.Fatalf("open: got %d %+v", res.StatusCode, got)
	}
	if st := submit(centre.Token, "reopened-000001"); st != 201 {
		t.Errorf("answer after reopening: got %d, want 201", st)
	}
	if res := ts.do(t, "POST", path("rotate-token"), ts.tokens["commune"], "", &got); res.StatusCode != 200 || got.Token == centre.Token || !strings.HasSuffix(got.FormURL, "/s/"+got.Token) {
		t.Fatalf("rotate: got %d %+v", res.StatusCode, got)
	}
	if st := page(centre.Token); st != 404 {
		t.Errorf("old poster after rotation: got %d, want 404 (the closed page)", st)
	}
	if st := submit(centre.Token, "old-token-000001"); st != 400 {
		t.Errorf("answer with the old token: got %d, want 400", st)
	}
	if st := page(got.Token); st != 200 {
		t.Errorf("new token's page: got %d, want 200", st)
	}
	res := ts.do(t, "GET", path("poster"), ts.tokens["commune"], "", nil)
	poster, _ := io.ReadAll(res.Body)
	if strings.Contains(string(poster), centre.Token) {
		t.Error("the poster after rotation still carries the old token")
	}
	// Its QR code leads to the new form.
	if qr := posterQR(t, string(poster)); qr != got.FormURL {
		t.Errorf("the poster's QR after rotation: got %q, want %q", qr, got.FormURL)
	}
	var log []store.AuditEntry
	ts.do(t, "GET", "/api/v1/audit?actor=xa@saigon.test", ts.tokens["admin"], "", &log)
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
	}
	if want := "download_poster centre_rotate_token centre_close login"; strings.Join(actions, " ") != want {
		t.Errorf("commune's audit rows: got %q, want %q", strings.Join(actions, " "), want)
	}
}

// TestCentreCreationCapped: a commune account (or the department) adds at
// most 10 centres to a commune, each with its own throttle; an admin may
// add more.
func TestCentreCreationCapped(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	add := func(who string, i int) int {
		return ts.do(t, "POST", "/api/v1/communes/26740/centres", ts.tokens[who], fmt.Sprintf(`{"name":"Điểm %d"}`, i), nil).StatusCode
	}
	for i := 2; i <= 10; i++ { // the seeded centre is the first
		if st := add("commune", i); st != 201 {
			t.Fatalf("centre %d: got %d, want 201", i, st)
		}
	}
	for _, who := range []string{"commune", "department"} {
		if st := add(who, 11); st != 403 {
			t.Errorf("11th centre by %s: got %d, want 403", who, st)
		}
	}
	if st := add("admin", 11); st != 201 {
		t.Errorf("11th centre by an admin: got %d, want 201", st)
	}
}

// TestReadEventsAuditedFirst: a download is recorded before it leaves; when
// the record cannot be written, nothing is handed out.
func TestReadEventsAuditedFirst(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	raw := storetest.MustRaw(t, ts.dsn)
	if err := raw.Exec("ALTER TABLE audit_log RENAME TO audit_log_away").Error; err != nil {
		t.Fatal(err)
	}
	centre := mustCentre(t, ts, "26740")
	for _, p := range []string{
		fmt.Sprintf("/api/v1/centres/%d/qr.png", centre.ID),
		fmt.Sprintf("/api/v1/centres/%d/poster", centre.ID),
		"/api/v1/communes/26740/summary?format=csv",
		"/api/v1/communes/26740/summary?format=xlsx",
		"/api/v1/communes/26740/responses.csv",
		"/api/v1/compare?format=csv",
		"/api/v1/followup?format=xlsx",
	} {
		res := ts.do(t, "GET", p, ts.tokens["admin"], "", nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), `"error"`) {
			t.Errorf("GET %s with the audit log unwritable: got %d (%d bytes), want 500 and no data", p, res.StatusCode, len(body))
		}
	}
	if res := ts.do(t, "POST", fmt.Sprintf("/api/v1/centres/%d/close", centre.ID), ts.tokens["admin"], "", nil); res.StatusCode != 500 {
		t.Errorf("closing a centre with the audit log unwritable: got %d, want 500", res.StatusCode)
	}
	if err := raw.Exec("ALTER TABLE audit_log_away RENAME TO audit_log").Error; err != nil {
		t.Fatal(err)
	}
	if c := mustCentre(t, ts, "26740"); !c.Open {
		t.Error("the centre was closed although its audit row could not be written")
	}
}

// posterQR decodes the QR code image embedded in a poster page.
func posterQR(t testing.TB, page string) string {
	t.Helper()
	const prefix = "data:image/png;base64,"
	i := strings.Index(page, prefix)
	if i < 0 {
		t.Fatal("the poster has no QR image")
	}
	end := strings.IndexAny(page[i+len(prefix):], `"'`)
	data, err := base64.StdEncoding.DecodeString(html.UnescapeString(page[i+len(prefix) : i+len(prefix)+end]))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := decodeQR(img)
	if err != nil {
		t.Fatalf("decode the poster's QR: %v", err)
	}
	return decoded
}
