package api_test

import (
	"testing"

	"github.com/papi-hcmc/papi/api"
)

// TestFormSections checks what the form JSON tells the resident's page
// beyond the questions: a heading per module (and a reassurance before the
// corruption module), the tables the grid questions form, the commune
// question, the honest duration of this visit, and the closing comment last.
func TestFormSections(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	centre := mustCentre(t, ts, "26740")
	type section struct {
		Module        string
		Heading       string
		HeadingEn     string `json:"heading_en"`
		Reassurance   string
		ReassuranceEn string `json:"reassurance_en"`
		ShowIf        *struct {
			Question string
			In       []string
		} `json:"show_if"`
	}
	var f struct {
		Modules  []string
		Sections []section
		Grids    []struct {
			ID, Text string
			TextEn   string `json:"text_en"`
		}
		Questions []struct{ ID, Module, Type, Grid string }
		Minutes   int
		MinMax    int `json:"minutes_max"`
		QMax      int `json:"questions_max"`
	}
	for _, tc := range []struct {
		name, query string
	}{{"one visit", ""}, {"full questionnaire", "?full=1"}} {
		t.Run(tc.name, func(t *testing.T) {
			if res := ts.do(t, "GET", "/api/v1/forms/"+centre.Token+tc.query, "", "", &f); res.StatusCode != 200 {
				t.Fatalf("form: status %d", res.StatusCode)
			}
			if len(f.Sections) != len(f.Modules) {
				t.Fatalf("sections: got %d for modules %v, want one each", len(f.Sections), f.Modules)
			}
			for i, s := range f.Sections {
				if s.Module != f.Modules[i] || s.Heading == "" || s.HeadingEn == "" {
					t.Errorf("section %d: got %+v, want module %s with a heading in both languages", i, s, f.Modules[i])
				}
				if s.Module == "d4" && (s.Reassurance == "" || s.ReassuranceEn == "") {
					t.Errorf("d4: got no reassurance, want one in both languages")
				}
				if s.Module == "d1" && (s.ShowIf == nil || s.ShowIf.Question != "c_residence") {
					t.Errorf("d1: got show_if %+v, want it asked by residence", s.ShowIf)
				}
			}
			grids := map[string]bool{}
			for _, g := range f.Grids {
				grids[g.ID] = g.Text != "" && g.TextEn != ""
			}
			for _, q := range f.Questions {
				if q.Grid != "" && !grids[q.Grid] {
					t.Errorf("%s: grid %q not described in grids", q.ID, q.Grid)
				}
				if q.ID == "c_residence_commune" && q.Type != "commune" {
					t.Errorf("c_residence_commune: got type %q, want commune", q.Type)
				}
			}
			if last := f.Questions[len(f.Questions)-1]; last.ID != "c_comment" {
				t.Errorf("last question: got %s, want the comment c_comment", last.ID)
			}
			if f.Minutes < 1 || f.Minutes > f.MinMax || f.QMax < len(f.Modules) {
				t.Errorf("duration: got %d–%d minutes, %d questions at most", f.Minutes, f.MinMax, f.QMax)
			}
			if tc.query == "" && f.QMax > 28 {
				t.Errorf("one visit: longest path %d questions, want at most 28", f.QMax)
			}
		})
	}
}
