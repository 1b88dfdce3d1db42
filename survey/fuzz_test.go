package survey

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// FuzzValidateSubmission feeds arbitrary answer objects and module lists to
// ValidateSubmission on mini.json and the real catalogue. It must never
// panic; an accepted visit must be observable, consistent with its skip
// logic and survive storage (JSON, then ParseAnswers) unchanged; a rejected
// one must say why, field by field.
func FuzzValidateSubmission(f *testing.F) {
	mini := MustMini(f)
	cs, err := Catalogues()
	if err != nil {
		f.Fatal(err)
	}
	catalogues := append([]*Catalogue{mini}, cs...)

	for _, seed := range []struct{ answers, modules string }{
		{`{"c_proc":"other","c_sat":3}`, "core"},
		{`{"c_proc":"cert","c_paid":"no","c_quality":["c","a"],"c_sat":5,"c_note":" Gọi 0903 123 456 ","d1_contact":"yes","d1_good":"dk"}`, "core,d1"},
		{`{"c_proc":"land","c_sat":2,"d2_amount":12.5,"d2_road":"dk"}`, ""},
		{`{"c_proc":"cert","c_sat":3.5,"c_quality":["none","a"]}`, "core"},
		{`{"c_proc":1,"c_sat":"3","c_quality":{"a":true},"d2_amount":1e400}`, "core,d2"},
		{`{"c_proc":"other","c_sat":3,"d1_contact":"no","d1_good":"yes"}`, "d1,d9"},
		{`{"c_proc":null,"c_note":"   ","c_quality":[]}`, ""},
		{`{"c_satisfaction":5,"c_comment":"tốt lắm an@example.com"}`, "core,d2"},
		{`{"c_proc":"cert","c_sat":-0,"d2_amount":-0}`, "d2"},
		{`{"c_proc":"other","c_sat":3,"c_quality":["a","a"]}`, ",,core"},
		// Catalogue 2025.2: residence, a commune code, a grid, a follow-up number.
		{`{"c_residence":"other","c_residence_commune":"26743","c_procedure":"dat_dai","c_visit_purpose":"collect","c_result":"received","c_many_doors":"no","c_satisfaction":4,"d5_q_posted":"yes","d5_q_on_time":"unsure"}`, "core,d5"},
		{`{"c_residence":"other","c_residence_commune":"00000","c_procedure":"ho_tich","c_visit_purpose":"submit","c_many_doors":"dk","c_satisfaction":2}`, "core"},
		{`{"c_residence":"outside","c_procedure":"other","c_visit_purpose":"inquire","c_many_doors":"refuse","c_satisfaction":5,"d1_voted":"self"}`, "core,d1"},
		{`{"c_residence":"here","c_procedure":"other","c_visit_purpose":"submit","c_many_doors":"no","c_satisfaction":3,"d4_report_if_asked":"above_amount","d4_report_amount":1e3,"c_comment":"ok"}`, "core,d4,end"},
	} {
		f.Add([]byte(seed.answers), seed.modules)
	}

	f.Fuzz(func(t *testing.T, data []byte, modules string) {
		var answers map[string]json.RawMessage
		if json.Unmarshal(data, &answers) != nil {
			return
		}
		sub := Submission{Answers: answers}
		if modules != "" {
			sub.Modules = strings.Split(modules, ",")
		}
		for _, c := range catalogues {
			v, err := c.ValidateSubmission(sub)
			if err != nil {
				var ve *ValidationError
				if !errors.As(err, &ve) || len(ve.Errors) == 0 {
					t.Fatalf("%s: got %v (%T), want a *ValidationError with errors", c.Version, err, err)
				}
				if !sort.SliceIsSorted(ve.Errors, func(i, j int) bool { return ve.Errors[i].Field < ve.Errors[j].Field }) {
					t.Errorf("%s: got fields in order %v, want sorted", c.Version, ve.Errors)
				}
				for _, fe := range ve.Errors {
					if fe.Field == "" || fe.Message.Vi == "" || fe.Message.En == "" {
						t.Errorf("%s: got error %+v, want a field and messages in both languages", c.Version, fe)
					}
				}
				continue
			}
			for _, o := range c.Observe(v) {
				if math.IsNaN(o.X) || math.IsInf(o.X, 0) {
					t.Errorf("%s: observation %+v, want a finite value", c.Version, o)
				}
			}
			for i := range c.Questions {
				q := &c.Questions[i]
				_, answered := v.Answers[q.ID]
				shown := c.Shown(q.ID, v)
				if answered && !shown {
					t.Errorf("%s: %s answered but not shown", c.Version, q.ID)
				}
				if q.Required && shown && !answered {
					t.Errorf("%s: %s required and shown but not answered", c.Version, q.ID)
				}
			}
			stored, err := json.Marshal(v.Answers)
			if err != nil {
				t.Fatalf("%s: marshal %#v: %v", c.Version, v.Answers, err)
			}
			back, err := ParseAnswers(stored)
			if err != nil {
				t.Fatalf("%s: ParseAnswers(%s): %v", c.Version, stored, err)
			}
			if !reflect.DeepEqual(back, v.Answers) {
				t.Errorf("%s: round trip: got %#v, want %#v", c.Version, back, v.Answers)
			}
			// A stored visit must measure the same as the fresh one.
			again := Visit{Modules: v.Modules, Answers: back}
			if a, b := c.Observe(v), c.Observe(again); !reflect.DeepEqual(a, b) {
				t.Errorf("%s: observations after storage: got %v, want %v", c.Version, b, a)
			}
		}
	})
}

// FuzzParseCatalogue feeds arbitrary bytes to ParseCatalogue. It must never
// panic, and a catalogue it accepts must validate again, have unique
// indicator ids and look-ups that agree with its lists, and be usable
// (observe, score, assign modules, measure visit length) without panicking.
func FuzzParseCatalogue(f *testing.F) {
	mini, err := os.ReadFile(miniFile)
	if err != nil {
		f.Fatal(err)
	}
	// The real catalogue (430 kB) is left out: the fuzzer crawls on an
	// input that large. TestRealCatalogue covers it.
	f.Add(mini)
	f.Add(append(append([]byte{}, mini...), " {}"...))
	f.Add([]byte(strings.Replace(string(mini), `"question": "d1_contact", "in": ["yes"]}, "exclude"`, `"question": "c_paid", "in": ["yes"]}, "exclude"`, 1)))
	f.Add([]byte(strings.Replace(string(mini), `"min": 1, "max": 5}`, `"min": -9007199254740992, "max": 9007199254740992}`, 1)))
	f.Add([]byte(strings.Replace(string(mini), `"min": 1, "max": 5}`, `"min": 1, "max": 3, "options": [{"value": "1", "label": {"vi": "a", "en": "a"}}, {"value": "3", "label": {"vi": "c", "en": "c"}}]}`, 1)))
	// A small valid catalogue: mutants of small inputs minimise quickly
	// (the fuzzer's minimiser is quadratic in the input's length).
	f.Add([]byte(tinyCatalogue))
	f.Add([]byte(tinyCatalogue2))
	f.Add([]byte(`{"version":"x","published":"2025-01-01","modules":[{"id":"core","name":{"vi":"a"}}]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCatalogue(data)
		if err != nil {
			if c != nil {
				t.Errorf("got a catalogue with error %v, want nil", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Validate again: %v", err)
		}
		seen := map[string]bool{}
		for _, ind := range c.Indicators() {
			if seen[ind.ID] {
				t.Errorf("indicator %q listed twice", ind.ID)
			}
			seen[ind.ID] = true
			if got, ok := c.Indicator(ind.ID); !ok || got != ind {
				t.Errorf("Indicator(%q): got %p, want %p", ind.ID, got, ind)
			}
			for _, id := range ind.Rule.Questions() {
				if _, ok := c.Question(id); !ok {
					t.Errorf("indicator %q: rule question %q missing", ind.ID, id)
				}
			}
		}
		for i := range c.Questions {
			if got, ok := c.Question(c.Questions[i].ID); !ok || got != &c.Questions[i] {
				t.Errorf("Question(%q): got %p, want %p", c.Questions[i].ID, got, &c.Questions[i])
			}
		}
		if m := c.AssignModules(12345); len(m) == 0 || m[0] != CoreModule {
			t.Errorf("AssignModules: got %q, want core first", m)
		}
		c.Observe(Visit{Modules: c.AllModules()})
		c.Score(nil, Policy{})
		if l := c.VisitLength(c.AllModules()); l.Max < 0 || l.Typical < 0 || l.Typical > float64(l.Max)+1e-9 {
			t.Errorf("VisitLength: got %+v, want 0 ≤ typical ≤ longest", l)
		}
	})
}

// tinyCatalogue is about the smallest valid catalogue.
const tinyCatalogue = `{"version":"t","published":"2025-01-01",
"modules":[{"id":"core","name":{"vi":"c"}},{"id":"m","name":{"vi":"m"},"rotating":true}],
"questions":[
{"id":"a","module":"core","type":"single","text":{"vi":"a","en":"a"},"options":[{"value":"y","label":{"vi":"y","en":"y"}},{"value":"n","label":{"vi":"n","en":"n"},"exclusive":true}]},
{"id":"b","module":"m","type":"scale","text":{"vi":"b","en":"b"},"min":1,"max":3,"show_if":{"question":"a","in":["y"]}}],
"dimensions":[{"id":"D1","name":{"vi":"d","en":"d"},"subdimensions":[{"id":"D1.1","name":{"vi":"s","en":"s"},"indicators":[
{"id":"D1.1.1","name":{"vi":"i","en":"i"},"kind":"ratio","rule":{"question":"a","numerator":["y"],"scale":{"min":0,"max":1}},"agencies":{"implementing":["x"],"lead":["y"]}},
{"id":"D1.1.2","name":{"vi":"j","en":"j"},"kind":"mean","rule":{"question":"b","applies_if":{"question":"a","in":["y"]},"points":{"1":0,"2":1,"3":2},"scale":{"min":0,"max":2,"higher_is_better":true}},"agencies":{"implementing":["x"],"lead":["y"]}}]}]}]}`

// tinyCatalogue2 is a small valid catalogue using what 2025.2 added: a
// commune question, a module asked only on a condition, a grid scored by
// items, and a median taking a follow-up number.
const tinyCatalogue2 = `{"version":"t2","published":"2025-01-01",
"modules":[{"id":"core","name":{"vi":"c"},"heading":{"vi":"h","en":"h"}},{"id":"m","name":{"vi":"m"},"rotating":true,"show_if":{"question":"r","in":["y"]}}],
"grids":[{"id":"g","text":{"vi":"g","en":"g"}}],
"questions":[
{"id":"r","module":"core","type":"single","text":{"vi":"r","en":"r"},"required":true,"options":[{"value":"y","label":{"vi":"y","en":"y"}},{"value":"n","label":{"vi":"n","en":"n"}}]},
{"id":"h","module":"core","type":"commune","text":{"vi":"h","en":"h"},"show_if":{"question":"r","in":["n"]}},
{"id":"a","module":"m","type":"single","grid":"g","text":{"vi":"a","en":"a"},"options":[{"value":"y","label":{"vi":"y","en":"y"}},{"value":"u","label":{"vi":"u","en":"u"}}]},
{"id":"b","module":"m","type":"single","grid":"g","text":{"vi":"b","en":"b"},"options":[{"value":"y","label":{"vi":"y","en":"y"}},{"value":"u","label":{"vi":"u","en":"u"}}]},
{"id":"w","module":"m","type":"single","text":{"vi":"w","en":"w"},"options":[{"value":"0","label":{"vi":"0","en":"0"}},{"value":"x","label":{"vi":"x","en":"x"}},{"value":"9","label":{"vi":"9","en":"9"}}]},
{"id":"x","module":"m","type":"number","text":{"vi":"x","en":"x"},"min":0,"show_if":{"question":"w","in":["x"]}}],
"dimensions":[{"id":"D1","name":{"vi":"d","en":"d"},"subdimensions":[{"id":"D1.1","name":{"vi":"s","en":"s"},"indicators":[
{"id":"D1.1.1","name":{"vi":"i","en":"i"},"kind":"mean","rule":{"items":["a","b"],"numerator":["y"],"exclude":["u"],"scale":{"min":0,"max":1,"higher_is_better":true}},"agencies":{"implementing":["x"],"lead":["y"]}},
{"id":"D1.1.2","name":{"vi":"j","en":"j"},"kind":"median","rule":{"question":"w","points":{"0":0,"9":9},"from_number":{"when":"x","question":"x"},"scale":{"min":0,"max":9}},"agencies":{"implementing":["x"],"lead":["y"]}}]}]}]}`
