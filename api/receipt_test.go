package api_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// mustAccount creates an account and returns its bearer token.
func (ts *testServer) mustAccount(t testing.TB, u survey.User) string {
	t.Helper()
	if _, err := ts.store.CreateUser(context.Background(), "test", u, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	var out struct{ Token string }
	if res := ts.do(t, "POST", "/api/v1/auth/login", "", mustJSON(map[string]string{"email": u.Email, "password": "correct horse battery"}), &out); res.StatusCode != 200 {
		t.Fatalf("login %s: %d", u.Email, res.StatusCode)
	}
	return out.Token
}

type receiptJSON struct {
	Code      string
	FormURL   string `json:"form_url"`
	QR        string `json:"qr_data_uri"`
	IssuedOn  string `json:"issued_on"`
	ExpiresOn string `json:"expires_on"`
}

// TestReceiptIssuing closes H1's issuing rules: the evaluated commune's own
// account cannot issue receipts (it got 201 before); admin, department and
// issuer service accounts (scoped to their commune or the city) can, one
// per procedure record; and the admin sees each issuer's redeemed share.
func TestReceiptIssuing(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	own := mustCentre(t, ts, "26740")
	other := mustCentre(t, ts, "25747")
	cityIssuer := ts.mustAccount(t, survey.User{Email: "onestop@hcmc.test", Role: survey.RoleIssuer})
	localIssuer := ts.mustAccount(t, survey.User{Email: "onestop26740@hcmc.test", Role: survey.RoleIssuer, CommuneCode: "26740"})
	path := func(c store.Centre) string { return fmt.Sprintf("/api/v1/centres/%d/receipts", c.ID) }
	n := 0
	record := func() string { n++; return fmt.Sprintf(`{"record":"H29.38-251130-%04d"}`, n) }
	codes := map[string]string{}
	for _, tc := range []struct {
		who, token string
		centre     store.Centre
		want       int
	}{
		{"commune, own centre", ts.tokens["commune"], own, 403},
		{"commune, other centre", ts.tokens["commune"], other, 403},
		{"department", ts.tokens["department"], own, 201},
		{"admin", ts.tokens["admin"], other, 201},
		{"city-wide issuer", cityIssuer, other, 201},
		{"commune issuer, its commune", localIssuer, own, 201},
		{"commune issuer, another commune", localIssuer, other, 403},
	} {
		var r receiptJSON
		res := ts.do(t, "POST", path(tc.centre), tc.token, record(), &r)
		if res.StatusCode != tc.want {
			t.Errorf("%s: got %d, want %d", tc.who, res.StatusCode, tc.want)
			continue
		}
		if tc.want == 201 {
			if r.Code == "" || !strings.HasSuffix(r.FormURL, "/s/"+tc.centre.Token+"?r="+r.Code) || !strings.HasPrefix(r.QR, "data:image/png;base64,") || r.ExpiresOn <= r.IssuedOn {
				t.Errorf("%s: got %+v", tc.who, r)
			}
			codes[tc.who] = r.Code
		}
	}
	// One receipt per procedure record, whoever asks.
	if res := ts.do(t, "POST", path(own), cityIssuer, `{"record":" h29.38-251130-0003 "}`, nil); res.StatusCode != 409 {
		t.Errorf("second receipt for a record: got %d, want 409", res.StatusCode)
	}
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"no record", `{}`, 400},
		{"empty record", `{"record":""}`, 400},
		{"record too long", `{"record":"` + strings.Repeat("9", 65) + `"}`, 400},
		{"unknown field", `{"record":"X-1","issued_by":"me"}`, 400},
	} {
		if res := ts.do(t, "POST", path(own), cityIssuer, tc.body, nil); res.StatusCode != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, res.StatusCode, tc.want)
		}
	}
	// Department and admin staff may issue an unbound receipt with no body
	// at all (CONTRACT: POST …/receipts → 201 {code, form_url}).
	for _, who := range []string{"admin", "department"} {
		res, body := ts.send(t, "POST", path(own), "", map[string]string{"Authorization": "Bearer " + ts.tokens[who]})
		if res.StatusCode != 201 || !strings.Contains(body, `"code"`) || !strings.Contains(body, `"form_url"`) {
			t.Errorf("%s without a body: got %d %s, want 201 with code and form_url", who, res.StatusCode, body)
		}
	}
	// The one-stop system must bind every receipt to a procedure record.
	if res, _ := ts.send(t, "POST", path(own), "", map[string]string{"Authorization": "Bearer " + cityIssuer}); res.StatusCode != 400 {
		t.Errorf("issuer without a body: got %d, want 400", res.StatusCode)
	}
	if res, _ := ts.send(t, "POST", path(own), "text", map[string]string{"Authorization": "Bearer " + cityIssuer, "Content-Type": "text/plain"}); res.StatusCode != 415 {
		t.Errorf("issuer with a text body: got %d, want 415", res.StatusCode)
	}
	// An issuer account sees no results.
	for _, p := range []string{"/api/v1/communes/26740/summary", "/api/v1/compare", "/api/v1/communes/26740/centres"} {
		if res := ts.do(t, "GET", p, localIssuer, "", nil); res.StatusCode != 403 {
			t.Errorf("issuer GET %s: got %d, want 403", p, res.StatusCode)
		}
	}

	// A resident answers with the city issuer's receipt (at centre 25747).
	var f formJSON
	ts.do(t, "GET", "/api/v1/forms/"+other.Token, "", "", &f)
	body := validBody(t, ts, other.Token, f, "verified-0000001", 3)
	body["receipt"] = codes["city-wide issuer"]
	if res := ts.do(t, "POST", "/api/v1/responses", "", mustJSON(body), nil); res.StatusCode != 201 {
		t.Fatalf("answer with a receipt: got %d", res.StatusCode)
	}
	if got, _ := ts.store.ResponseBySubmission(context.Background(), "verified-0000001"); !got.Verified {
		t.Error("the answer with a receipt is not verified")
	}

	var report struct {
		Period  survey.Period
		Issuers []struct {
			Email         string
			Issued        int64
			Redeemed      int64
			RedeemedShare *float64 `json:"redeemed_share"`
			Months        []struct {
				Month    string
				Issued   int64
				Redeemed int64
			}
		}
	}
	if res := ts.do(t, "GET", "/api/v1/receipts/issuers?period=year", ts.tokens["admin"], "", &report); res.StatusCode != 200 {
		t.Fatalf("issuers report: %d", res.StatusCode)
	}
	got := map[string]string{}
	for _, is := range report.Issuers {
		share := "-"
		if is.RedeemedShare != nil {
			share = strconv.FormatFloat(*is.RedeemedShare, 'f', 2, 64)
		}
		got[is.Email] = fmt.Sprintf("%d/%d %s %d months", is.Redeemed, is.Issued, share, len(is.Months))
	}
	want := map[string]string{
		"dept@sonoivu.test":      "0/2 0.00 1 months", // one bound, one unbound
		"admin@papi.test":        "0/2 0.00 1 months",
		"onestop@hcmc.test":      "1/1 1.00 1 months",
		"onestop26740@hcmc.test": "0/1 0.00 1 months",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("issuers report: got %v, want %v", got, want)
	}
	if res := ts.do(t, "GET", "/api/v1/receipts/issuers", ts.tokens["department"], "", nil); res.StatusCode != 403 {
		t.Errorf("issuers report as department: got %d, want 403", res.StatusCode)
	}
}

// TestReceiptDailyCapHTTP: past the centre's daily cap the issuer gets 429
// with a bilingual message and Retry-After up to midnight.
func TestReceiptDailyCapHTTP(t *testing.T) {
	ts := MustServerWith(t, api.Config{RateLimit: api.RateLimit{Off: true}}, store.Options{Receipts: store.ReceiptPolicy{DailyCap: 2}})
	c := mustCentre(t, ts, "26740")
	p := fmt.Sprintf("/api/v1/centres/%d/receipts", c.ID)
	for i := 0; i < 2; i++ {
		if res := ts.do(t, "POST", p, ts.tokens["department"], fmt.Sprintf(`{"record":"R-%d"}`, i), nil); res.StatusCode != 201 {
			t.Fatalf("receipt %d: got %d", i, res.StatusCode)
		}
	}
	res, body := ts.send(t, "POST", p, `{"record":"R-3"}`, map[string]string{"Authorization": "Bearer " + ts.tokens["department"], "Content-Type": "application/json"})
	retry, _ := strconv.Atoi(res.Header.Get("Retry-After"))
	if res.StatusCode != 429 || retry < 1 || retry > 86401 || !strings.Contains(body, "message_vi") {
		t.Errorf("3rd receipt of the day: got %d (Retry-After %q) %s, want 429 until midnight", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
}
