package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// The contract check: every request that a test sends through a testServer
// is matched against api/openapi.json, and the answer must be one the
// document promises for that operation: a documented status, a documented
// content type, and for JSON a body that validates against the schema, with
// every key in snake_case. A request that the document calls invalid must
// not be answered with a success.

// loadContract parses and validates openapi.json once for the whole test
// binary.
var loadContract = sync.OnceValues(func() (routers.Router, error) {
	data, err := os.ReadFile("openapi.json")
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.json is not a valid OpenAPI document: %w", err)
	}
	// papi reads imports with a lenient CSV reader (ODK's and Kobo's
	// exports are not always strict RFC 4180); the body is checked by the
	// import's own tests, so here a CSV body is just text.
	openapi3filter.RegisterBodyDecoder("text/csv", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	})
	return legacy.NewRouter(doc)
})

// MustContract returns the router built from openapi.json.
func MustContract(t testing.TB) routers.Router {
	t.Helper()
	r, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var contractOptions = &openapi3filter.Options{
	// Authentication is the server's job and has its own tests; here a
	// missing or wrong token must simply lead to a documented 401 or 403.
	AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	IncludeResponseStatus: true,
	MultiError:            true,
}

// contractChecked wraps the server's handler so that every exchange is
// checked against the contract; a mismatch fails t.
func contractChecked(t testing.TB, next http.Handler) http.Handler {
	router := MustContract(t)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, params, err := router.FindRoute(r)
		if err != nil {
			// Not an operation of the document: assets, unknown paths (the
			// route test keeps documented and served paths in step).
			next.ServeHTTP(w, r)
			return
		}
		var reqBody []byte
		if r.Body != nil {
			reqBody, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		res := rec.Result()

		// Answer the client first, so that a failed check doesn't also
		// hang the request that caused it.
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(rec.Body.Bytes())

		if res.StatusCode == 499 {
			return // the client went away; nobody reads this answer
		}
		checked := r.Clone(context.Background())
		checked.Body = io.NopCloser(bytes.NewReader(reqBody))
		in := &openapi3filter.RequestValidationInput{Request: checked, PathParams: params, Route: route, Options: contractOptions}
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && res.StatusCode < 400 {
			t.Errorf("contract: %s %s was answered %d, but openapi.json calls the request invalid: %v", r.Method, r.URL.RequestURI(), res.StatusCode, err)
		}
		body := rec.Body.Bytes()
		if res.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err == nil {
				body, err = io.ReadAll(zr)
			}
			if err != nil {
				t.Errorf("contract: %s %s: gzip body: %v", r.Method, r.URL.RequestURI(), err)
				return
			}
		}
		if msg := checkResponse(in, res, body); msg != "" {
			t.Errorf("contract: %s %s answered %d: %s", r.Method, r.URL.RequestURI(), res.StatusCode, msg)
		}
	})
}

// checkResponse returns what is wrong with an answer, or "".
func checkResponse(in *openapi3filter.RequestValidationInput, res *http.Response, body []byte) string {
	ct := res.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	opts := *contractOptions
	opts.ExcludeResponseBody = !isJSON
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Options:                &opts,
	}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return err.Error()
	}
	resp := in.Route.Operation.Responses.Status(res.StatusCode)
	if resp == nil {
		resp = in.Route.Operation.Responses.Default()
	}
	if resp == nil || resp.Value == nil {
		return "" // a status the validator never checks (redirects)
	}
	documented := resp.Value.Content
	if len(body) > 0 && in.Request.Method != http.MethodHead {
		if len(documented) == 0 {
			return fmt.Sprintf("a %s body where openapi.json documents none", ct)
		}
		if documented.Get(ct) == nil {
			return fmt.Sprintf("content type %q is not documented (documented: %s)", ct, strings.Join(slices.Sorted(maps.Keys(documented)), ", "))
		}
	}
	if isJSON && len(body) > 0 {
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return "body is not JSON: " + err.Error()
		}
		if in.Route.Path == "/api/v1/openapi.json" {
			return "" // schema names are CamelCase by convention
		}
		if key := nonSnakeKey(v, ""); key != "" {
			return "JSON key not in snake_case: " + key
		}
	}
	return ""
}

// snakeKey is a JSON key as the contract wants it. Keys that are data rather
// than names (question and indicator ids, commune codes, agency names) live
// under the objects listed in dataKeyed.
var snakeKey = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// dataKeyed are the object keys whose own keys are data (ids, codes), not
// field names.
var dataKeyed = map[string]bool{"answers": true, "points": true, "probs": true, "counts": true, "options": true, "by_channel": true, "scores": true, "labels": true, "values": true}

// nonSnakeKey returns the path of the first object key not in snake_case.
func nonSnakeKey(v any, path string) string {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			last := path[strings.LastIndex(path, ".")+1:]
			if !dataKeyed[last] && !snakeKey.MatchString(k) {
				return path + "." + k
			}
			if bad := nonSnakeKey(v[k], path+"."+k); bad != "" {
				return bad
			}
		}
	case []any:
		for i, e := range v {
			if bad := nonSnakeKey(e, fmt.Sprintf("%s[%d]", path, i)); bad != "" {
				return bad
			}
		}
	}
	return ""
}

// recordingTB collects the failures that the contract check reports.
type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	failed []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}

// TestContractCheckCatchesDrift feeds the check answers that break the
// contract in each way it looks for, and one that keeps it: a check that
// passes everything would make every other api test meaningless.
func TestContractCheckCatchesDrift(t *testing.T) {
	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		want                            string // "" when the answer keeps the contract
	}{
		{"keeps it", "GET", "/api/v1/communes", "application/json", `[{"code":"26740","name":"Phường Sài Gòn","type":"phuong"}]`, 200, ""},
		{"object for an array", "GET", "/api/v1/communes", "application/json", `{"code":"26740"}`, 200, "doesn't match schema"},
		{"missing required field", "GET", "/api/v1/communes", "application/json", `[{"name":"Phường Sài Gòn"}]`, 200, "doesn't match schema"},
		{"undocumented status", "GET", "/api/v1/communes", "application/json", `[]`, 418, "status is not supported"},
		{"undocumented content type", "GET", "/api/v1/communes", "text/csv", "code\n26740\n", 200, "not documented"},
		{"CamelCase key", "GET", "/healthz", "application/json", `{"status":"ok","Database":"ok"}`, 200, "snake_case"},
		{"error without English", "GET", "/api/v1/forms/x", "application/json", `{"error":{"code":"not_found","message":"Không tìm thấy","message_vi":"Không tìm thấy"}}`, 404, "doesn't match schema"},
		{"error with a field of its own", "GET", "/api/v1/forms/x", "application/json", `{"error":{"code":"not_found","message":"a / b","message_vi":"a","message_en":"b","detail":"x"}}`, 404, "doesn't match schema"},
		{"field errors keep it", "POST", "/api/v1/auth/login", "application/json", `{"errors":[{"field":"email","message":"a / b","message_vi":"a","message_en":"b"}]}`, 400, ""},
		{"success for an invalid request", "POST", "/api/v1/auth/login", "application/json", `{"token":"t","user":{"id":1,"email":"a@b","role":"admin","disabled":false,"created_at":"2026-01-01T00:00:00Z"},"expires_at":"2026-01-01T00:00:00Z","idle_timeout_minutes":60}`, 200, "calls the request invalid"},
		{"not an operation", "GET", "/static/x.css", "text/css", "body{}", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			h := contractChecked(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			var body io.Reader
			if tc.method == "POST" {
				body = strings.NewReader(`{"email":"a@b"}`) // no password: invalid per the document
			}
			req := httptest.NewRequest(tc.method, tc.path, body)
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tc.status || w.Body.String() != tc.body {
				t.Errorf("the client got %d %q, want the handler's %d %q passed through", w.Code, w.Body.String(), tc.status, tc.body)
			}
			got := strings.Join(rec.failed, "\n")
			switch {
			case tc.want == "" && got != "":
				t.Errorf("got failures %q, want none", got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Errorf("got failures %q, want one mentioning %q", got, tc.want)
			}
		})
	}
}
