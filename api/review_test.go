package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/papi-hcmc/papi/api"
)

type flagPageJSON struct {
	Items []struct {
		ID           uint64 `json:"id"`
		SubmissionID string `json:"submission_id"`
		Status       string `json:"status"`
	} `json:"items"`
	Total  int     `json:"total"`
	Limit  int     `json:"limit"`
	Offset int     `json:"offset"`
	Next   *string `json:"next"`
}

// TestFlagReview: an admin pages through the responses held for review,
// moves one to quarantine and back, and gets a bilingual 400 for a page
// that cannot be served.
func TestFlagReview(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	admin := ts.tokens["admin"]
	centre := mustCentre(t, ts, "26740")
	var f formJSON
	ts.do(t, "GET", "/api/v1/forms/"+centre.Token, "", "", &f)
	const held = 5
	for i := range held {
		b := validBody(t, ts, centre.Token, f, fmt.Sprintf("untimed-review-%03d", i), uint64(200+i))
		delete(b, "duration_ms") // untimed: stored, flagged for review
		if res := ts.do(t, "POST", "/api/v1/responses", "", mustJSON(b), nil); res.StatusCode != 201 {
			t.Fatalf("submission %d: got %d, want 201", i, res.StatusCode)
		}
	}

	// Following next from the first page visits every held response once,
	// newest first.
	var ids []uint64
	pages := 0
	for path := "/api/v1/flags?limit=2"; path != ""; pages++ {
		var page flagPageJSON
		if res := ts.do(t, "GET", path, admin, "", &page); res.StatusCode != 200 {
			t.Fatalf("GET %s: got %d, want 200", path, res.StatusCode)
		}
		if page.Total != held || page.Limit != 2 || len(page.Items) > 2 {
			t.Fatalf("GET %s: got total %d, limit %d, %d items; want total %d, limit 2, at most 2 items", path, page.Total, page.Limit, len(page.Items), held)
		}
		for _, it := range page.Items {
			if it.Status != "flagged" {
				t.Errorf("response %d: got status %q, want flagged", it.ID, it.Status)
			}
			ids = append(ids, it.ID)
		}
		path = ""
		if page.Next != nil {
			path = *page.Next
		}
		if pages > held {
			t.Fatal("next never ends")
		}
	}
	if pages != 3 || len(ids) != held || !slices.IsSortedFunc(ids, func(a, b uint64) int { return int(b) - int(a) }) || len(slices.Compact(slices.Clone(ids))) != held {
		t.Fatalf("paging: got ids %v over %d pages, want %d distinct ids, newest first, over 3 pages", ids, pages, held)
	}
	var def flagPageJSON
	ts.do(t, "GET", "/api/v1/flags", admin, "", &def)
	if def.Limit != 50 || def.Offset != 0 || len(def.Items) != held || def.Next != nil {
		t.Errorf("default page: got limit %d offset %d, %d items, next %v; want 50, 0, %d items, no next", def.Limit, def.Offset, len(def.Items), def.Next, held)
	}
	var past flagPageJSON
	if res := ts.do(t, "GET", "/api/v1/flags?offset=10", admin, "", &past); res.StatusCode != 200 || len(past.Items) != 0 || past.Total != held || past.Next != nil {
		t.Errorf("past the end: got %d with %d items, total %d; want 200, no items, total %d", res.StatusCode, len(past.Items), past.Total, held)
	}

	// Quarantine takes a response off the flag list onto its own; release
	// counts it.
	var moved struct {
		ID     uint64
		Status string
	}
	if res := ts.do(t, "POST", fmt.Sprintf("/api/v1/responses/%d/quarantine", ids[0]), admin, "", &moved); res.StatusCode != 200 || moved.Status != "quarantined" {
		t.Fatalf("quarantine: got %d status %q, want 200 quarantined", res.StatusCode, moved.Status)
	}
	var flagged, quarantined flagPageJSON
	ts.do(t, "GET", "/api/v1/flags", admin, "", &flagged)
	ts.do(t, "GET", "/api/v1/flags?status=quarantined", admin, "", &quarantined)
	if flagged.Total != held-1 || quarantined.Total != 1 || quarantined.Items[0].ID != ids[0] {
		t.Errorf("after quarantine: got %d flagged, %d quarantined; want %d and 1 (response %d)", flagged.Total, quarantined.Total, held-1, ids[0])
	}
	if res := ts.do(t, "POST", fmt.Sprintf("/api/v1/responses/%d/release", ids[0]), admin, "", &moved); res.StatusCode != 200 || moved.Status != "counted" {
		t.Errorf("release: got %d status %q, want 200 counted", res.StatusCode, moved.Status)
	}
	if res := ts.do(t, "POST", "/api/v1/responses/999999/quarantine", admin, "", nil); res.StatusCode != 404 {
		t.Errorf("quarantine of an unknown response: got %d, want 404", res.StatusCode)
	}

	for _, tc := range []struct{ query, field string }{
		{"limit=0", "limit"},
		{"limit=201", "limit"},
		{"limit=ten", "limit"},
		{"offset=-1", "offset"},
		{"offset=x", "offset"},
		{"status=counted", "status"},
		{"status=quarantined&limit=1000", "limit"},
	} {
		var body struct {
			Errors []struct{ Field string }
		}
		res := ts.do(t, "GET", "/api/v1/flags?"+tc.query, admin, "", &body)
		if res.StatusCode != 400 || len(body.Errors) != 1 || body.Errors[0].Field != tc.field {
			t.Errorf("%s: got %d %+v, want 400 on field %s", tc.query, res.StatusCode, body.Errors, tc.field)
		}
	}
	// The messages are worded in both languages.
	var body struct {
		Errors []struct {
			MessageVi string `json:"message_vi"`
			MessageEn string `json:"message_en"`
		}
	}
	ts.do(t, "GET", "/api/v1/flags?limit=0", admin, "", &body)
	if len(body.Errors) != 1 || !strings.Contains(body.Errors[0].MessageVi, "số nguyên") || !strings.Contains(body.Errors[0].MessageEn, "whole number") {
		t.Errorf("limit=0: got %+v, want Vietnamese and English messages", body.Errors)
	}
}
