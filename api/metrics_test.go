package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
)

// lockedBuffer is a log sink the server's goroutines write to at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines are the JSON log lines written so far, decoded.
func (b *lockedBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	dec := json.NewDecoder(bytes.NewReader(b.buf.Bytes()))
	for dec.More() {
		var l map[string]any
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

// TestRequestLog: at the default level (info) an accepted submission
// leaves no request line, being counted in the metrics, while a refused
// one does, and so does a staff member's write.
func TestRequestLog(t *testing.T) {
	sink := &lockedBuffer{}
	ts := MustServerLogged(t, api.Config{RateLimit: api.RateLimit{Off: true}}, store.Options{},
		slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: slog.LevelInfo})))
	centre := mustCentre(t, ts, "26740")
	var f formJSON
	if res := ts.do(t, "GET", "/api/v1/forms/"+centre.Token, "", "", &f); res.StatusCode != 200 {
		t.Fatalf("form: status %d", res.StatusCode)
	}
	accepted := validBody(t, ts, centre.Token, f, "logged-submission-0001", 3)
	if res := ts.do(t, "POST", "/api/v1/responses", "", mustJSON(accepted), nil); res.StatusCode != 201 {
		t.Fatalf("a valid submission: status %d, want 201", res.StatusCode)
	}
	refused := validBody(t, ts, centre.Token, f, "logged-submission-0002", 4)
	refused["age_group"] = "100_and_more"
	if res := ts.do(t, "POST", "/api/v1/responses", "", mustJSON(refused), nil); res.StatusCode != 400 {
		t.Fatalf("an invalid submission: status %d, want 400", res.StatusCode)
	}
	if code, _, body := ts.login(t, "admin@papi.test", "correct horse battery"); code != 200 {
		t.Fatalf("a staff login: status %d (%s), want 200", code, body)
	}
	// A request's line is written after its response is sent: wait for
	// the lines expected, then compare them all.
	want := map[string]int{"POST /api/v1/responses 400": 1, "POST /api/v1/auth/login 200": 1}
	var got map[string]int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got = map[string]int{}
		for _, l := range sink.lines(t) {
			if l["msg"] == "request" {
				got[fmt.Sprint(l["method"], " ", l["route"], " ", l["status"])]++
			}
		}
		if maps.Equal(got, want) || time.Now().After(deadline) {
			break
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("request lines %v, want %v", got, want)
	}
}
