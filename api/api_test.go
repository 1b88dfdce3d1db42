package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/xuri/excelize/v2"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/store/storetest"
	"github.com/papi-hcmc/papi/survey"
)

// testServer is the real router on a real database (SQLite, or PostgreSQL
// with PAPI_TEST_ENGINE=postgres) behind a real HTTP listener; every
// exchange is checked against openapi.json (contract_test.go).
type testServer struct {
	*httptest.Server
	store  *store.Store
	dsn    string // the database: a SQLite path or a postgres:// URL
	api    *api.Server
	tokens map[string]string // bearer tokens by role
}

// staffAccounts are the accounts every test server starts with, one per
// role; their tokens are in testServer.tokens.
var staffAccounts = []storetest.Account{
	{User: survey.User{Email: "admin@papi.test", Role: survey.RoleAdmin}, Password: "correct horse battery"},
	{User: survey.User{Email: "dept@sonoivu.test", Role: survey.RoleDepartment}, Password: "correct horse battery"},
	{User: survey.User{Email: "xa@saigon.test", Role: survey.RoleCommune, CommuneCode: "26740"}, Password: "correct horse battery"},
}

// MustServer starts papi on a fresh database with one account per role.
func MustServer(t testing.TB, rl api.RateLimit, population ...survey.Population) *testServer {
	t.Helper()
	cfg := api.Config{RateLimit: rl}
	if len(population) > 0 {
		cfg.Population = population[0]
	}
	return MustServerConfig(t, cfg)
}

// MustServerConfig is MustServer with the whole configuration; BaseURL and
// Version are filled in.
func MustServerConfig(t testing.TB, cfg api.Config) *testServer {
	t.Helper()
	return MustServerWith(t, cfg, store.Options{})
}

// MustServerWith is MustServerConfig with store options too (the
// catalogues are filled in). The engine comes from PAPI_TEST_ENGINE.
func MustServerWith(t testing.TB, cfg api.Config, opt store.Options) *testServer {
	t.Helper()
	return MustServerLogged(t, cfg, opt, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// MustServerLogged is MustServerWith with the server's logger.
func MustServerLogged(t testing.TB, cfg api.Config, opt store.Options, log *slog.Logger) *testServer {
	t.Helper()
	db := storetest.MustSeeded(t, storetest.Engine(t), opt, staffAccounts...)
	ts := &testServer{store: db.Store, dsn: db.DSN, tokens: map[string]string{}}
	for _, a := range staffAccounts {
		ts.tokens[string(a.Role)] = db.Tokens[a.Email]
	}
	var handler http.Handler
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	if cfg.BaseURL == "" {
		cfg.BaseURL = ts.URL
	}
	cfg.Version = "test"
	ts.api = api.New(db.Store, cfg, log)
	handler = contractChecked(t, ts.api)
	t.Cleanup(ts.Close) // before the store closes (cleanups run last first)
	return ts
}

// do sends a request (body as JSON unless it is empty) and decodes a JSON
// answer into out when out is not nil.
func (ts *testServer) do(t testing.TB, method, path, token, body string, out any) *http.Response {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return ts.doWith(t, method, path, h, body, out)
}

// doWith is do with the request's headers given (Content-Type is added for
// a body).
func (ts *testServer) doWith(t testing.TB, method, path string, h http.Header, body string, out any) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	req.Header = h
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(data))
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: status %d, body not JSON: %s", method, path, res.StatusCode, data)
		}
	}
	return res
}

func (ts *testServer) count(t testing.TB) int64 {
	t.Helper()
	n, err := ts.store.ResponseCount(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

type formJSON struct {
	Centre               struct{ ID uint }
	Commune              survey.Commune
	QuestionnaireVersion string `json:"questionnaire_version"`
	Modules              []string
	Questions            []struct {
		ID       string
		Module   string
		Type     string
		Required bool
		ShowIf   *survey.Condition `json:"show_if"`
	}
}

// validBody builds a valid submission for a form the server handed out.
func validBody(t testing.TB, ts *testServer, token string, f formJSON, submissionID string, seed uint64) map[string]any {
	t.Helper()
	sub := ts.store.Catalogue().Synthesize(rand.New(rand.NewPCG(seed, 1)), f.Modules, 0.6)
	answers := map[string]any{}
	for id, raw := range sub.Answers {
		var v any
		_ = json.Unmarshal(raw, &v)
		answers[id] = v
	}
	return map[string]any{"token": token, "submission_id": submissionID, "questionnaire_version": f.QuestionnaireVersion,
		"modules": f.Modules, "answers": answers, "sex": "female", "age_group": "30_39", "duration_ms": 150000, "lang": "vi"}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestResidentPath drives the whole resident path over HTTP: a commune
// officer fetches the centre's QR code, the code decodes to the form URL, the
// form loads, the answers are submitted, and a retry stores nothing new.
func TestResidentPath(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	var centres []struct {
		ID      uint
		Token   string
		FormURL string `json:"form_url"`
	}
	if res := ts.do(t, "GET", "/api/v1/communes/26740/centres", ts.tokens["commune"], "", &centres); res.StatusCode != 200 || len(centres) != 1 {
		t.Fatalf("centres: status %d, %d centres", res.StatusCode, len(centres))
	}
	c := centres[0]
	if c.FormURL != ts.URL+"/s/"+c.Token {
		t.Fatalf("form_url: got %q, want %q", c.FormURL, ts.URL+"/s/"+c.Token)
	}
	res := ts.do(t, "GET", fmt.Sprintf("/api/v1/centres/%d/qr.png", c.ID), ts.tokens["commune"], "", nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr: status %d type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	img, err := png.Decode(res.Body)
	if err != nil {
		t.Fatalf("qr is not a PNG: %v", err)
	}
	decoded, err := decodeQR(img)
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	if decoded != c.FormURL {
		t.Fatalf("QR decodes to %q, want %q", decoded, c.FormURL)
	}
	page, err := http.Get(decoded)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != 200 || !strings.Contains(string(html), `lang="vi"`) || !strings.Contains(page.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("form page: status %d type %q", page.StatusCode, page.Header.Get("Content-Type"))
	}
	var f formJSON
	if res := ts.do(t, "GET", "/api/v1/forms/"+c.Token, "", "", &f); res.StatusCode != 200 {
		t.Fatalf("form: status %d", res.StatusCode)
	}
	rotating := 0
	for _, m := range f.Modules {
		if mod, ok := ts.store.Catalogue().Module(m); ok && mod.Rotating {
			rotating++
		}
	}
	if f.Commune.Name != "Phường Sài Gòn" || rotating != 1 || f.Modules[0] != "core" || len(f.Questions) == 0 {
		t.Fatalf("form: got commune %q modules %v and %d questions, want core first and one rotating module", f.Commune.Name, f.Modules, len(f.Questions))
	}
	body := mustJSON(validBody(t, ts, c.Token, f, "2f1c7b9e-5d2a-4c1e-9f00-aa0000000001", 1))
	var first, again struct{ ID uint64 }
	if res := ts.do(t, "POST", "/api/v1/responses", "", body, &first); res.StatusCode != 201 || first.ID == 0 {
		t.Fatalf("submit: status %d id %d", res.StatusCode, first.ID)
	}
	if res := ts.do(t, "POST", "/api/v1/responses", "", body, &again); res.StatusCode != 200 || again.ID != first.ID {
		t.Fatalf("retry: status %d id %d, want 200 and id %d", res.StatusCode, again.ID, first.ID)
	}
	if n := ts.count(t); n != 1 {
		t.Fatalf("got %d stored responses, want exactly 1", n)
	}
	stored, err := ts.store.ResponseBySubmission(context.Background(), "2f1c7b9e-5d2a-4c1e-9f00-aa0000000001")
	if err != nil || stored.CommuneCode != "26740" || stored.Sex != "female" {
		t.Fatalf("stored: %+v, %v", stored, err)
	}
}

// TestBadSubmissions sends one kind of bad input per case: each is refused
// with a 4xx naming the field, and nothing is stored.
func TestBadSubmissions(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	ctx := context.Background()
	centre := mustCentre(t, ts, "26740")
	closed, err := ts.store.CreateCentre(ctx, "test", "26740", "Điểm đã đóng", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.store.SetCentreOpen(ctx, "test", closed.ID, false); err != nil {
		t.Fatal(err)
	}
	var f formJSON
	ts.do(t, "GET", "/api/v1/forms/"+centre.Token+"?full=1", "", "", &f)
	cat := ts.store.Catalogue()

	// A baseline that is valid; each case breaks one thing.
	base := func(id string) map[string]any { return validBody(t, ts, centre.Token, f, id, 42) }
	answers := func(b map[string]any) map[string]any { return b["answers"].(map[string]any) }
	hidden := firstHiddenQuestion(t, cat, answers(base("x")))
	checklist := firstWithExclusiveOption(t, cat)
	receipt, err := ts.store.CreateReceipt(ctx, survey.User{ID: 1, Email: "admin@papi.test"}, centre.ID, "HS-0001")
	if err != nil {
		t.Fatal(err)
	}
	used := receipt.Code
	okBody := base("receipt-first-use-0001")
	okBody["receipt"] = used
	if res := ts.do(t, "POST", "/api/v1/responses", "", mustJSON(okBody), nil); res.StatusCode != 201 {
		t.Fatalf("baseline with receipt: status %d", res.StatusCode)
	}
	before := ts.count(t)

	cases := []struct {
		name   string
		body   func() string
		ctype  string
		status int
		field  string
	}{
		{"empty body", func() string { return "" }, "application/json", 400, "body"},
		{"not JSON", func() string { return "{answers:" }, "application/json", 400, "body"},
		{"not a JSON content type", func() string { return mustJSON(base("ctype-000001")) }, "text/plain", 415, ""},
		{"unknown top-level field", func() string { b := base("unknown-field-01"); b["name"] = "Nguyễn Văn A"; return mustJSON(b) }, "", 400, "name"},
		{"missing token", func() string { b := base("missing-token-01"); delete(b, "token"); return mustJSON(b) }, "", 400, "token"},
		{"unknown token", func() string {
			b := base("unknown-token-01")
			b["token"] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			return mustJSON(b)
		}, "", 400, "token"},
		{"closed centre", func() string { b := base("closed-centre-01"); b["token"] = closed.Token; return mustJSON(b) }, "", 400, "token"},
		{"missing submission_id", func() string { b := base(""); return mustJSON(b) }, "", 400, "submission_id"},
		{"malformed submission_id", func() string { b := base("has spaces in it"); return mustJSON(b) }, "", 400, "submission_id"},
		{"unknown questionnaire version", func() string {
			b := base("bad-version-0001")
			b["questionnaire_version"] = "1999.9"
			return mustJSON(b)
		}, "", 400, "questionnaire_version"},
		{"unknown question", func() string {
			b := base("unknown-q-000001")
			answers(b)["q_favourite_colour"] = "blue"
			return mustJSON(b)
		}, "", 400, "answers.q_favourite_colour"},
		{"option not offered", func() string {
			b := base("bad-option-00001")
			answers(b)["c_procedure"] = "bribery"
			return mustJSON(b)
		}, "", 400, "answers.c_procedure"},
		{"wrong type for a scale", func() string {
			b := base("wrong-type-00001")
			answers(b)["c_satisfaction"] = "rất hài lòng"
			return mustJSON(b)
		}, "", 400, "answers.c_satisfaction"},
		{"scale out of range", func() string { b := base("out-of-range-001"); answers(b)["c_satisfaction"] = 9; return mustJSON(b) }, "", 400, "answers.c_satisfaction"},
		{"required answer missing", func() string { b := base("required-miss-01"); delete(answers(b), "c_procedure"); return mustJSON(b) }, "", 400, "answers.c_procedure"},
		{"answer to a question skip logic hides", func() string { b := base("skip-logic-00001"); answers(b)[hidden.id] = hidden.value; return mustJSON(b) }, "", 400, "answers." + hidden.id},
		{"unknown module", func() string {
			b := base("bad-module-00001")
			b["modules"] = []string{"core", "d9"}
			return mustJSON(b)
		}, "", 400, "modules"},
		{"exclusive option with others", func() string {
			b := base("exclusive-000001")
			answers(b)[checklist] = []string{exclusiveOption(t, cat, checklist), otherOption(t, cat, checklist)}
			return mustJSON(b)
		}, "", 400, "answers." + checklist},
		{"residence commune that does not exist", func() string {
			b := base("no-such-commune1")
			answers(b)["c_residence"] = "other"
			answers(b)["c_residence_commune"] = "99999"
			return mustJSON(b)
		}, "", 400, "answers.c_residence_commune"},
		{"2025.1 answers sent as the current version", func() string {
			b := base("old-answers-0001")
			b["answers"] = map[string]any{"c_procedure": "ho_tich", "c_lives_here": "yes", "c_many_doors": "no", "c_quality": []string{"polite"}, "c_satisfaction": 4}
			return mustJSON(b)
		}, "", 400, "answers.c_lives_here"},
		{"invalid sex", func() string { b := base("bad-sex-00000001"); b["sex"] = "unknown"; return mustJSON(b) }, "", 400, "sex"},
		{"answers not an object", func() string { b := base("answers-list-001"); b["answers"] = []string{"yes"}; return mustJSON(b) }, "", 400, "answers"},
		{"text too long", func() string {
			b := base("text-too-long-01")
			answers(b)["c_comment"] = strings.Repeat("ý kiến ", 200)
			return mustJSON(b)
		}, "", 400, "answers.c_comment"},
		{"body too large", func() string {
			b := base("too-large-000001")
			b["padding"] = strings.Repeat("x", 70<<10)
			return mustJSON(b)
		}, "", 413, ""},
		{"receipt already used", func() string { b := base("receipt-reuse-01"); b["receipt"] = used; return mustJSON(b) }, "", 409, ""},
		{"receipt of another kind", func() string { b := base("receipt-bad-0001"); b["receipt"] = "not-a-code!"; return mustJSON(b) }, "", 400, "receipt"},
		{"bad envelope and bad answer reported together", func() string {
			b := base("x")
			answers(b)["c_procedure"] = "bribery"
			return mustJSON(b)
		}, "", 400, "answers.c_procedure"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", ts.URL+"/api/v1/responses", strings.NewReader(tc.body()))
			ct := tc.ctype
			if ct == "" {
				ct = "application/json"
			}
			req.Header.Set("Content-Type", ct)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("got status %d, want %d: %s", res.StatusCode, tc.status, data)
			}
			if tc.field != "" {
				var out struct {
					Errors []struct{ Field, Message, MessageVi, MessageEn string } `json:"errors"`
				}
				if err := json.Unmarshal(data, &out); err != nil || len(out.Errors) == 0 {
					t.Fatalf("want {errors:[…]}, got %s", data)
				}
				found := false
				for _, e := range out.Errors {
					if e.Field == tc.field {
						found = true
					}
				}
				if !found {
					t.Errorf("got errors %s, want one for field %q", data, tc.field)
				}
				if !strings.Contains(string(data), `"message_vi"`) || !strings.Contains(string(data), `"message_en"`) {
					t.Errorf("want messages in Vietnamese and English, got %s", data)
				}
			}
			if n := ts.count(t); n != before {
				t.Errorf("got %d stored responses after a refused submission, want %d", n, before)
			}
		})
	}
}

type hiddenAnswer struct {
	id    string
	value any
}

// firstHiddenQuestion finds a question the given answers hide by skip
// logic, with a value it would accept if shown.
func firstHiddenQuestion(t testing.TB, cat *survey.Catalogue, answers map[string]any) hiddenAnswer {
	t.Helper()
	for _, q := range cat.Questions {
		if q.ShowIf == nil || q.Type != survey.SingleChoice {
			continue
		}
		if _, answered := answers[q.ID]; answered {
			continue
		}
		parent, ok := answers[q.ShowIf.Question].(string)
		if !ok || slices.Contains(q.ShowIf.In, parent) {
			continue
		}
		return hiddenAnswer{q.ID, q.Options[0].Value}
	}
	t.Fatal("no question hidden by skip logic in the baseline answers")
	return hiddenAnswer{}
}

// firstWithExclusiveOption returns the first multiple choice with an
// option such as "none of these".
func firstWithExclusiveOption(t testing.TB, cat *survey.Catalogue) string {
	t.Helper()
	for _, q := range cat.Questions {
		for _, o := range q.Options {
			if q.Type == survey.MultipleChoice && o.Exclusive {
				return q.ID
			}
		}
	}
	t.Fatal("no multiple choice with an exclusive option")
	return ""
}

func exclusiveOption(t testing.TB, cat *survey.Catalogue, id string) string {
	q, _ := cat.Question(id)
	for _, o := range q.Options {
		if o.Exclusive {
			return o.Value
		}
	}
	t.Fatalf("%s has no exclusive option", id)
	return ""
}

func otherOption(t testing.TB, cat *survey.Catalogue, id string) string {
	q, _ := cat.Question(id)
	for _, o := range q.Options {
		if !o.Exclusive {
			return o.Value
		}
	}
	t.Fatalf("%s has no ordinary option", id)
	return ""
}

func mustCentre(t testing.TB, ts *testServer, code string) store.Centre {
	t.Helper()
	list, err := ts.store.Centres(context.Background(), code)
	if err != nil || len(list) == 0 {
		t.Fatalf("centres of %s: %v", code, err)
	}
	return list[0]
}

// TestStaffAccess checks every staff endpoint answers 401 without an
// account and 403 outside the account's scope.
func TestStaffAccess(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	own := mustCentre(t, ts, "26740")
	other := mustCentre(t, ts, "25747")
	type call struct{ method, path string }
	staff := []call{
		{"GET", "/api/v1/me"},
		{"GET", "/api/v1/communes/26740/centres"},
		{"GET", fmt.Sprintf("/api/v1/centres/%d/qr.png", own.ID)},
		{"GET", fmt.Sprintf("/api/v1/centres/%d/poster", own.ID)},
		{"POST", fmt.Sprintf("/api/v1/centres/%d/receipts", own.ID)},
		{"GET", "/api/v1/communes/26740/summary"},
		{"GET", "/api/v1/communes/26740/responses.csv"},
		{"GET", "/api/v1/compare"},
		{"GET", "/api/v1/followup"},
		{"GET", "/api/v1/trend"},
		{"GET", "/api/v1/audit"},
		{"GET", "/api/v1/users"},
	}
	for _, c := range staff {
		if res := ts.do(t, c.method, c.path, "", "", nil); res.StatusCode != 401 {
			t.Errorf("%s %s without an account: got %d, want 401", c.method, c.path, res.StatusCode)
		}
		if res := ts.do(t, c.method, c.path, "not-a-real-token", "", nil); res.StatusCode != 401 {
			t.Errorf("%s %s with a bad token: got %d, want 401", c.method, c.path, res.StatusCode)
		}
	}
	cases := []struct {
		role, method, path string
		want               int
	}{
		{"commune", "GET", "/api/v1/communes/26740/summary", 200},
		{"commune", "GET", "/api/v1/communes/25747/summary", 403},
		{"commune", "GET", "/api/v1/communes/25747/centres", 403},
		{"commune", "GET", fmt.Sprintf("/api/v1/centres/%d/qr.png", other.ID), 403},
		{"commune", "POST", fmt.Sprintf("/api/v1/centres/%d/receipts", other.ID), 403},
		{"commune", "GET", "/api/v1/communes/25747/responses.csv", 403},
		{"commune", "GET", "/api/v1/compare", 403},
		{"commune", "GET", "/api/v1/followup", 403},
		{"commune", "GET", "/api/v1/audit", 403},
		{"department", "GET", "/api/v1/communes/25747/summary", 200},
		{"department", "GET", "/api/v1/compare", 200},
		{"department", "GET", "/api/v1/followup", 200},
		{"department", "GET", "/api/v1/audit", 403},
		{"admin", "GET", "/api/v1/audit", 200},
		{"admin", "GET", "/api/v1/compare", 200},
		{"department", "GET", "/api/v1/centres/999999/qr.png", 404},
		{"department", "GET", "/api/v1/centres/abc/qr.png", 400},
		{"commune", "GET", "/api/v1/trend?commune=26740", 200},
		{"commune", "GET", "/api/v1/trend?commune=25747", 403},
		{"commune", "GET", "/api/v1/trend", 403},
		{"department", "GET", "/api/v1/trend?months=3", 200},
		{"department", "GET", "/api/v1/trend?months=99", 400},
	}
	for _, tc := range cases {
		if res := ts.do(t, tc.method, tc.path, ts.tokens[tc.role], "", nil); res.StatusCode != tc.want {
			t.Errorf("%s %s %s: got %d, want %d", tc.role, tc.method, tc.path, res.StatusCode, tc.want)
		}
	}
	// The session cookie works like the bearer token.
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/me", nil)
	req.AddCookie(&http.Cookie{Name: "papi_session", Value: ts.tokens["commune"]})
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Errorf("cookie session: got %v, %v", res, err)
	}
	var log []struct{ Actor, Action string }
	ts.do(t, "GET", "/api/v1/audit", ts.tokens["admin"], "", &log)
	logins := 0
	for _, e := range log {
		if e.Action == "login" {
			logins++
		}
	}
	if logins != 3 {
		t.Errorf("audit log: got %d logins, want 3", logins)
	}
}

func TestLoginErrors(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{"email":"admin@papi.test","password":"wrong"}`, 401},
		{`{"email":"nobody@papi.test","password":"correct horse battery"}`, 401},
		{`{"email":"admin@papi.test"}`, 400},
		{`not json`, 400},
	} {
		if res := ts.do(t, "POST", "/api/v1/auth/login", "", tc.body, nil); res.StatusCode != tc.want {
			t.Errorf("login %s: got %d, want %d", tc.body, res.StatusCode, tc.want)
		}
	}
}

// TestSummaryAndDownloads fills a commune with synthetic answers and checks
// the summary, its CSV/XLSX/HTML downloads, the comparison and the
// follow-up.
func TestSummaryAndDownloads(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	ctx := context.Background()
	cat := ts.store.Catalogue()
	rng := rand.New(rand.NewPCG(11, 12))
	for i, code := range []string{"26740", "25747"} {
		centre := mustCentre(t, ts, code)
		for k := 0; k < 300; k++ {
			v, err := cat.ValidateSubmission(cat.Synthesize(rng, cat.AssignModules(uint64(k)), 0.3+0.4*float64(i)))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := ts.store.CreateResponse(ctx, store.NewResponse{SubmissionID: fmt.Sprintf("sum-%s-%d", code, k), Centre: centre, Version: cat.Version, Visit: v, At: openSlot(k)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var sum struct {
		Commune    survey.Commune
		Responses  int64
		Note       survey.Text
		Dimensions []struct {
			ID            string
			Subdimensions []struct {
				Indicators []struct {
					ID         string
					N          *int
					Value      *float64
					Suppressed bool
				}
			}
		}
	}
	if res := ts.do(t, "GET", "/api/v1/communes/26740/summary?from=2026-01-01&to=2026-12-31", ts.tokens["commune"], "", &sum); res.StatusCode != 200 {
		t.Fatalf("summary: %d", res.StatusCode)
	}
	indicators, shown := 0, 0
	for _, d := range sum.Dimensions {
		for _, sd := range d.Subdimensions {
			for _, ir := range sd.Indicators {
				indicators++
				if ir.Value != nil {
					shown++
					if ir.N == nil || *ir.N < 30 || ir.Suppressed {
						t.Errorf("%s: a value is shown with n=%v suppressed=%v", ir.ID, ir.N, ir.Suppressed)
					}
				}
				if ir.N != nil && *ir.N < 5 {
					t.Errorf("%s: n=%d below 5 must not be shown", ir.ID, *ir.N)
				}
			}
		}
	}
	if sum.Responses != 300 || len(sum.Dimensions) != 8 || indicators != 118 || shown == 0 || sum.Note.Vi == "" {
		t.Fatalf("summary: got %d responses, %d dimensions, %d indicators (%d shown)", sum.Responses, len(sum.Dimensions), indicators, shown)
	}
	res := ts.do(t, "GET", "/api/v1/communes/26740/summary?from=2026-01-01&to=2026-12-31&format=csv", ts.tokens["commune"], "", nil)
	csvBody, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !bytes.HasPrefix(csvBody, []byte("\ufeff")) || !strings.Contains(string(csvBody), "Phường Sài Gòn") || !strings.Contains(res.Header.Get("Content-Disposition"), ".csv") {
		t.Errorf("csv: status %d, BOM/name missing", res.StatusCode)
	}
	res = ts.do(t, "GET", "/api/v1/communes/26740/summary?from=2026-01-01&to=2026-12-31&format=xlsx", ts.tokens["commune"], "", nil)
	book, err := excelize.OpenReader(res.Body)
	if err != nil {
		t.Fatalf("xlsx: %v", err)
	}
	// One sheet per dimension printed on nine pages or more; the summary
	// now has an overview of the 8 dimensions and one sheet holding every
	// dimension, sub-dimension and indicator, so that it prints on at most
	// six (TestDownloadsOpenInLibreOffice).
	if sheets := book.GetSheetList(); len(sheets) != 2 {
		t.Errorf("xlsx: got sheets %v, want an overview and the indicators", sheets)
	} else {
		rows, _ := book.GetRows(sheets[0])
		dims := 0
		for _, r := range rows {
			if len(r) > 1 && len(r[0]) == 2 && r[0][0] == 'D' {
				dims++
			}
		}
		if dims != 8 {
			t.Errorf("xlsx overview: got %d dimension rows, want 8", dims)
		}
		rows, _ = book.GetRows(sheets[1])
		levels := map[string]int{}
		for _, r := range rows[1:] {
			levels[r[0]]++
		}
		if levels["chỉ số nội dung"] != 8 || levels["chỉ tiêu"] != indicators {
			t.Errorf("xlsx indicators sheet: got %v rows per level, want 8 dimensions and %d indicators", levels, indicators)
		}
	}
	if res := ts.do(t, "GET", "/api/v1/communes/26740/summary?from=2026-01-01&to=2026-12-31&format=html", ts.tokens["commune"], "", nil); res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("html report: status %d", res.StatusCode)
	}
	res = ts.do(t, "GET", "/api/v1/communes/26740/responses.csv?from=2026-01-01&to=2026-12-31", ts.tokens["commune"], "", nil)
	raw, _ := io.ReadAll(res.Body)
	if lines := strings.Count(string(raw), "\n"); res.StatusCode != 200 || lines != 301 {
		t.Errorf("raw export: status %d, %d lines, want header + 300", res.StatusCode, lines)
	}
	var cmp struct {
		Rows []struct {
			Commune    survey.Commune
			Responses  int64
			TotalScore *float64 `json:"total_score"`
			Rank       int
			Dimensions []struct{ Score *float64 }
			Indicator  *struct{ Score *float64 }
		}
	}
	if res := ts.do(t, "GET", "/api/v1/compare?from=2026-01-01&to=2026-12-31", ts.tokens["department"], "", &cmp); res.StatusCode != 200 || len(cmp.Rows) != 168 {
		t.Fatalf("compare: status %d, %d rows, want 168", res.StatusCode, len(cmp.Rows))
	}
	// Ranks follow scores: ranked by satisfaction with today's service
	// (D5.3.4, asked of everyone in the core module), the two filled
	// communes come first, the better one (quality 0.7, Bình Dương's 25747)
	// on top, and the rest are unranked.
	if res := ts.do(t, "GET", "/api/v1/compare?from=2026-01-01&to=2026-12-31&indicator=D5.3.4", ts.tokens["department"], "", &cmp); res.StatusCode != 200 {
		t.Fatalf("compare by D5.3.4: status %d", res.StatusCode)
	}
	sat := func(i int) *float64 {
		if cmp.Rows[i].Indicator == nil {
			return nil
		}
		return cmp.Rows[i].Indicator.Score
	}
	if cmp.Rows[0].Commune.Code != "25747" || cmp.Rows[0].Rank != 1 || cmp.Rows[1].Rank != 2 || cmp.Rows[2].Rank != 0 ||
		sat(0) == nil || sat(1) == nil || *sat(0) <= *sat(1) {
		t.Errorf("compare order by D5.3.4: got %+v, %+v, %+v", cmp.Rows[0], cmp.Rows[1], cmp.Rows[2])
	}
	if res := ts.do(t, "GET", "/api/v1/compare?from=2026-01-01&to=2026-12-31&former_province="+strings.ReplaceAll("Bình Dương", " ", "%20"), ts.tokens["department"], "", &cmp); res.StatusCode != 200 || len(cmp.Rows) != 36 {
		t.Errorf("compare filtered to Bình Dương: status %d, %d rows, want 36", res.StatusCode, len(cmp.Rows))
	}
	for _, format := range []string{"csv", "xlsx"} {
		if res := ts.do(t, "GET", "/api/v1/compare?from=2026-01-01&to=2026-12-31&format="+format, ts.tokens["department"], "", nil); res.StatusCode != 200 {
			t.Errorf("compare %s: status %d", format, res.StatusCode)
		}
	}
	var fu struct {
		Agencies []struct {
			Agency string
			Items  []struct{ Commune, Indicator, Role string }
		}
	}
	if res := ts.do(t, "GET", "/api/v1/followup?from=2026-01-01&to=2026-12-31", ts.tokens["department"], "", &fu); res.StatusCode != 200 || len(fu.Agencies) == 0 {
		t.Fatalf("followup: status %d, %d agencies", res.StatusCode, len(fu.Agencies))
	}
	if res := ts.do(t, "GET", "/api/v1/followup?from=2026-01-01&to=2026-12-31&format=xlsx", ts.tokens["department"], "", nil); res.StatusCode != 200 {
		t.Errorf("followup xlsx: status %d", res.StatusCode)
	}
	var city struct {
		Level     string
		Responses int64
	}
	if res := ts.do(t, "GET", "/api/v1/summary?from=2026-01-01&to=2026-12-31", ts.tokens["department"], "", &city); res.StatusCode != 200 || city.Level != "city" || city.Responses != 600 {
		t.Errorf("city summary: status %d, got %+v, want level city and 600 responses", res.StatusCode, city)
	}
	if res := ts.do(t, "GET", "/api/v1/summary?from=2026-01-01&to=2026-12-31&former_province=B%C3%ACnh%20D%C6%B0%C6%A1ng", ts.tokens["department"], "", &city); res.StatusCode != 200 || city.Level != "former_province" || city.Responses != 300 {
		t.Errorf("Bình Dương summary: status %d, got %+v, want 300 responses (25747)", res.StatusCode, city)
	}
	if res := ts.do(t, "GET", "/api/v1/summary", ts.tokens["commune"], "", nil); res.StatusCode != 403 {
		t.Errorf("city summary as a commune account: got %d, want 403", res.StatusCode)
	}
	own := mustCentre(t, ts, "26740")
	if res := ts.do(t, "GET", fmt.Sprintf("/api/v1/communes/26740/summary?from=2026-01-01&to=2026-12-31&centre=%d", own.ID), ts.tokens["commune"], "", &city); res.StatusCode != 200 || city.Level != "centre" || city.Responses != 300 {
		t.Errorf("centre summary: status %d, got %+v", res.StatusCode, city)
	}
	if res := ts.do(t, "GET", fmt.Sprintf("/api/v1/communes/26740/summary?centre=%d", mustCentre(t, ts, "25747").ID), ts.tokens["commune"], "", nil); res.StatusCode != 400 {
		t.Errorf("another commune's centre: got %d, want 400", res.StatusCode)
	}
	if res := ts.do(t, "GET", "/api/v1/communes/26740/summary?from=2026-02-30", ts.tokens["commune"], "", nil); res.StatusCode != 400 {
		t.Errorf("bad from date: got %d, want 400", res.StatusCode)
	}
}

// openSlot spreads synthetic responses over opening hours, 24 a day from
// 08:00 every 20 minutes, Monday to Saturday, from 1 June 2026, so the
// anomaly checks see an ordinary queue.
func openSlot(k int) time.Time {
	return openSlotFrom(time.Date(2026, 6, 1, 8, 0, 0, 0, survey.Local), k)
}

// openSlotFrom is openSlot from another first day (at 08:00, not a Sunday).
func openSlotFrom(day time.Time, k int) time.Time {
	for d := k / 24; d > 0; d-- {
		day = day.AddDate(0, 0, 1)
		if day.Weekday() == time.Sunday {
			day = day.AddDate(0, 0, 1)
		}
	}
	return day.Add(time.Duration(k%24) * 20 * time.Minute)
}

func TestThrottling(t *testing.T) {
	ts := MustServer(t, api.RateLimit{PerClient: 20, Burst: 3, PerCentre: 1000})
	centre := mustCentre(t, ts, "26740")
	var f formJSON
	ts.do(t, "GET", "/api/v1/forms/"+centre.Token, "", "", &f)
	codes := map[int]int{}
	for i := 0; i < 8; i++ {
		res := ts.do(t, "POST", "/api/v1/responses", "", mustJSON(validBody(t, ts, centre.Token, f, fmt.Sprintf("burst-%08d", i), uint64(i))), nil)
		codes[res.StatusCode]++
	}
	if codes[201] != 3 || codes[429] != 5 {
		t.Errorf("burst of 8 from one client: got %v, want 3 stored and 5 refused with 429", codes)
	}
}

func TestPublicEndpoints(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	var cat struct {
		Version    string
		Dimensions []struct {
			ID, Name      string
			Subdimensions []struct {
				Indicators []struct {
					ID       string
					Kind     string
					Rule     map[string]any
					Agencies struct{ Implementing, Lead, Coordinating []string }
					About    string
					PapiItem string `json:"papi_item"`
				}
			}
		}
	}
	if res := ts.do(t, "GET", "/api/v1/catalogue", "", "", &cat); res.StatusCode != 200 || len(cat.Dimensions) != 8 {
		t.Fatalf("catalogue: status %d, %d dimensions", res.StatusCode, len(cat.Dimensions))
	}
	if cat.Dimensions[0].ID != "D1" || cat.Dimensions[0].Name != "Tham gia của người dân ở cấp cơ sở" {
		t.Errorf("first dimension: got %q %q, want D1 with the plan's name", cat.Dimensions[0].ID, cat.Dimensions[0].Name)
	}
	n := 0
	for _, d := range cat.Dimensions {
		for _, sd := range d.Subdimensions {
			for _, ind := range sd.Indicators {
				n++
				if (ind.Rule["question"] == nil && ind.Rule["items"] == nil) || len(ind.Agencies.Implementing) == 0 {
					t.Errorf("%s: rule %v agencies %+v", ind.ID, ind.Rule, ind.Agencies)
				}
				if ind.About != "service" && ind.About != "locality" || ind.PapiItem == "" {
					t.Errorf("%s: about %q papi_item %q, want both", ind.ID, ind.About, ind.PapiItem)
				}
			}
		}
	}
	if n != 118 {
		t.Errorf("catalogue: got %d indicators, want 118", n)
	}
	var communes []struct{ Code, Name, Type string }
	if res := ts.do(t, "GET", "/api/v1/communes", "", "", &communes); res.StatusCode != 200 || len(communes) != 168 {
		t.Errorf("communes: status %d, %d rows", res.StatusCode, len(communes))
	}
	if res := ts.do(t, "GET", "/healthz", "", "", nil); res.StatusCode != 200 {
		t.Errorf("healthz: %d", res.StatusCode)
	}
	res := ts.do(t, "GET", "/metrics", "", "", nil)
	body, _ := io.ReadAll(res.Body)
	for _, name := range []string{"papi_submissions_total", "papi_http_requests_total", "papi_tally_folds_total", "papi_tally_fold_failures_total"} {
		if res.StatusCode != 200 || !strings.Contains(string(body), name) {
			t.Errorf("metrics: status %d, want %s in the body", res.StatusCode, name)
		}
	}
	if res := ts.do(t, "GET", "/api/v1/forms/nope", "", "", nil); res.StatusCode != 404 {
		t.Errorf("unknown form token: got %d, want 404", res.StatusCode)
	}
	if res := ts.do(t, "GET", "/s/nope", "", "", nil); res.StatusCode != 404 {
		t.Errorf("unknown form page: got %d, want 404", res.StatusCode)
	}
}

// TestOpenAPIMatchesRoutes keeps the OpenAPI document in step with the
// router: every route is documented and every documented path is routed.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]any
	}
	if res := ts.do(t, "GET", "/api/v1/openapi.json", "", "", &doc); res.StatusCode != 200 || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi: status %d version %q", res.StatusCode, doc.OpenAPI)
	}
	routed := map[string]bool{}
	for _, r := range ts.api.Routes() {
		if strings.HasPrefix(r.Path, "/static") || strings.HasPrefix(r.Method, "echo_route") {
			continue
		}
		parts := strings.Split(r.Path, "/")
		for i, p := range parts {
			if strings.HasPrefix(p, ":") {
				parts[i] = "{" + p[1:] + "}"
			}
		}
		path := strings.Join(parts, "/")
		key := strings.ToLower(r.Method) + " " + path
		routed[key] = true
		if _, ok := doc.Paths[path][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s is not in openapi.json", r.Method, path)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if !routed[method+" "+path] {
				t.Errorf("openapi.json documents %s %s, which no route serves", method, path)
			}
		}
	}
}

// TestWeightedSummary checks that weighted=1 post-stratifies a commune's
// answers to its configured population and says so, and that a commune
// without margins gets a clear 400.
func TestWeightedSummary(t *testing.T) {
	pop, err := survey.ReadPopulation(strings.NewReader("commune_code,sex,age_group,population\n26740,female,18_29,900\n26740,male,18_29,100\n"))
	if err != nil {
		t.Fatal(err)
	}
	ts := MustServer(t, api.RateLimit{Off: true}, pop)
	ctx := context.Background()
	cat := ts.store.Catalogue()
	centre := mustCentre(t, ts, "26740")
	// 40 women all satisfied (5), 40 men all dissatisfied (1): unweighted
	// mean 3; weighted to a 90/10 population the mean is 0.9·5 + 0.1·1 = 4.6.
	for k := 0; k < 80; k++ {
		sex, sat := "female", 5.0
		if k%2 == 1 {
			sex, sat = "male", 1.0
		}
		v := survey.Visit{Modules: []string{"core"}, Sex: sex, AgeGroup: "18_29", Residence: survey.ResidenceHere,
			Answers: survey.Answers{"c_residence": "here", "c_procedure": "ho_tich", "c_visit_purpose": "submit", "c_many_doors": "no", "c_satisfaction": sat}}
		if _, err := cat.ValidateSubmission(survey.Submission{Modules: v.Modules, Answers: rawAnswers(v.Answers), Sex: sex, AgeGroup: "18_29"}); err != nil {
			t.Fatalf("fixture invalid: %v", err)
		}
		if _, _, err := ts.store.CreateResponse(ctx, store.NewResponse{SubmissionID: fmt.Sprintf("w-%04d", k), Centre: centre, Version: cat.Version, Visit: v, At: openSlot(k)}); err != nil {
			t.Fatal(err)
		}
	}
	satisfaction := func(query string) (float64, bool) {
		var sum struct {
			Weighted   bool
			Dimensions []struct {
				Subdimensions []struct {
					Indicators []struct {
						ID    string
						Value *float64
					}
				}
			}
		}
		if res := ts.do(t, "GET", "/api/v1/communes/26740/summary?from=2026-01-01&to=2026-12-31"+query, ts.tokens["commune"], "", &sum); res.StatusCode != 200 {
			t.Fatalf("summary%s: status %d", query, res.StatusCode)
		}
		for _, d := range sum.Dimensions {
			for _, sd := range d.Subdimensions {
				for _, ir := range sd.Indicators {
					if ir.ID == "D5.3.4" && ir.Value != nil {
						return *ir.Value, sum.Weighted
					}
				}
			}
		}
		t.Fatalf("summary%s: D5.3.4 has no value", query)
		return 0, false
	}
	if got, weighted := satisfaction(""); math.Abs(got-3) > 1e-9 || weighted {
		t.Errorf("unweighted satisfaction: got %v (weighted %v), want 3", got, weighted)
	}
	if got, weighted := satisfaction("&weighted=1"); math.Abs(got-4.6) > 1e-9 || !weighted {
		t.Errorf("weighted satisfaction: got %v (weighted %v), want 4.6", got, weighted)
	}
	if res := ts.do(t, "GET", "/api/v1/communes/25747/summary?weighted=1", ts.tokens["department"], "", nil); res.StatusCode != 400 {
		t.Errorf("weighted summary without margins: got %d, want 400", res.StatusCode)
	}
	// A weighted download says so, with the weighted value (4.6).
	for query, want := range map[string][]string{
		"&format=csv":            {"Phạm vi,tất cả phiếu,không gia quyền\n", "D5.3.4,Mức độ hài lòng với dịch vụ nhận được,trung bình,3,"},
		"&format=csv&weighted=1": {"Phạm vi,tất cả phiếu,gia quyền theo giới tính × nhóm tuổi\n", "D5.3.4,Mức độ hài lòng với dịch vụ nhận được,trung bình,4.6,"},
	} {
		res := ts.do(t, "GET", "/api/v1/communes/26740/summary?from=2026-01-01&to=2026-12-31"+query, ts.tokens["commune"], "", nil)
		body, _ := io.ReadAll(res.Body)
		for _, w := range want {
			if !strings.Contains(string(body), w) {
				t.Errorf("summary%s: status %d, %q missing", query, res.StatusCode, w)
			}
		}
	}
}

func rawAnswers(a survey.Answers) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, v := range a {
		b, _ := json.Marshal(v)
		out[k] = b
	}
	return out
}

// decodeQR reads a QR code from an image. gozxing's finder misjudges the
// size of about 1 clean, generated code in 270 (3 of 800 random form
// addresses), depending on the random token; a second read that knows the
// image is nothing but the code, and tries harder, reads them all (0 of
// 800).
func decodeQR(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	r := qrcode.NewQRCodeReader()
	res, err := r.Decode(bmp, nil)
	if err != nil {
		res, err = r.Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true, gozxing.DecodeHintType_PURE_BARCODE: true})
	}
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}
