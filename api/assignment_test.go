package api_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
)

// TestSubmissionWithAssignment: a submission naming an assignment of its
// centre is stored with the assignment's modules and probabilities and
// completes it; one naming an unknown assignment or another centre's is
// refused with a field error and stores nothing.
func TestSubmissionWithAssignment(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	ctx := context.Background()
	centre := mustCentre(t, ts, "26740")
	other := mustCentre(t, ts, "25747")
	mine, err := ts.store.CreateAssignment(ctx, store.Assignment{CentreID: centre.ID, Modules: []string{"core", "d3"}, Probs: map[string]float64{"d3": 0.2}})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := ts.store.CreateAssignment(ctx, store.Assignment{CentreID: other.ID, Modules: []string{"core", "d3"}})
	if err != nil {
		t.Fatal(err)
	}
	f := formJSON{QuestionnaireVersion: ts.store.Catalogue().Version, Modules: []string{"core", "d3"}}
	_, secret := mustKiosk(t, ts, centre, "Quầy 1")
	for _, tc := range []struct {
		name, assignment string
		status           int
	}{
		{"unknown", "nosuchassignment0000000000000000", 400},
		{"another centre's", theirs.ID, 400},
		{"this centre's", mine.ID, 201},
	} {
		body := validBody(t, ts, centre.Token, f, "assigned-"+tc.name[:3]+"-0001", 7)
		delete(body, "modules") // the assignment says which modules
		body["assignment_id"] = tc.assignment
		body["channel"] = "kiosk"
		var out struct {
			Errors []struct{ Field string }
		}
		res := ts.doKiosk(t, "POST", "/api/v1/responses", secret, mustJSON(body), &out)
		if res.StatusCode != tc.status {
			t.Errorf("%s assignment: got status %d, want %d", tc.name, res.StatusCode, tc.status)
		}
		if tc.status == 400 && (len(out.Errors) == 0 || out.Errors[0].Field != "assignment_id") {
			t.Errorf("%s assignment: got errors %+v, want one on assignment_id", tc.name, out.Errors)
		}
	}
	if n := ts.count(t); n != 1 {
		t.Errorf("got %d stored responses, want 1", n)
	}
	r, err := ts.store.ResponseBySubmission(ctx, "assigned-thi-0001")
	if err != nil {
		t.Fatal(err)
	}
	if r.AssignmentID != mine.ID || r.Probs["d3"] != 0.2 || r.Channel != "kiosk" {
		t.Errorf("stored: got assignment %q probs %v channel %q, want %q, d3=0.2, kiosk", r.AssignmentID, r.Probs, r.Channel, mine.ID)
	}
	if a, _ := ts.store.Assignment(ctx, mine.ID); a.Completed != 1 {
		t.Errorf("assignment completed: got %d, want 1", a.Completed)
	}
}

// TestSubmissionModulesChecked: a submission that lists its modules must
// list a set a form asks (core and one rotating module, or the whole
// questionnaire); any other list is refused field by field and stores
// nothing.
func TestSubmissionModulesChecked(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	centre := mustCentre(t, ts, "26740")
	cat := ts.store.Catalogue()
	rot := cat.RotatingModules()
	for i, tc := range []struct {
		name    string
		modules []string
		status  int
	}{
		{"one rotating", []string{"core", rot[0]}, 201},
		{"the full form", cat.AllModules(), 201},
		{"core only", []string{"core"}, 400},
		{"two rotating", []string{"core", rot[0], rot[1]}, 400},
	} {
		f := formJSON{QuestionnaireVersion: cat.Version, Modules: tc.modules}
		body := validBody(t, ts, centre.Token, f, fmt.Sprintf("modules-check-%04d", i), uint64(30+i))
		before := ts.count(t)
		var out struct {
			Errors []struct{ Field string }
		}
		res := ts.do(t, "POST", "/api/v1/responses", "", mustJSON(body), &out)
		stored := ts.count(t) - before
		switch {
		case res.StatusCode != tc.status:
			t.Errorf("%s: got %d, want %d", tc.name, res.StatusCode, tc.status)
		case tc.status == 400 && (len(out.Errors) != 1 || out.Errors[0].Field != "modules" || stored != 0):
			t.Errorf("%s: got errors %+v and %d stored, want one error on modules and nothing stored", tc.name, out.Errors, stored)
		case tc.status == 201 && stored != 1:
			t.Errorf("%s: %d stored, want 1", tc.name, stored)
		}
	}
}
