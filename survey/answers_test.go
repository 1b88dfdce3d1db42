package survey

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
)

const miniFile = "testdata/mini.json"

// MustMini loads the test catalogue testdata/mini.json.
func MustMini(t testing.TB) *Catalogue {
	t.Helper()
	data, err := os.ReadFile(miniFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCatalogue(data)
	if err != nil {
		t.Fatalf("parse %s: %v", miniFile, err)
	}
	return c
}

// miniWith returns mini.json changed by edit, re-encoded and parsed again
// (so the change goes through ParseCatalogue and Validate).
func miniWith(t testing.TB, edit func(c *Catalogue)) (*Catalogue, error) {
	t.Helper()
	data, err := os.ReadFile(miniFile)
	if err != nil {
		t.Fatal(err)
	}
	var c Catalogue
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	edit(&c)
	out, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	return ParseCatalogue(out)
}

// MustMiniWith is miniWith for edits that leave the catalogue valid.
func MustMiniWith(t testing.TB, edit func(c *Catalogue)) *Catalogue {
	t.Helper()
	c, err := miniWith(t, edit)
	if err != nil {
		t.Fatalf("edited mini catalogue: got %v, want it valid", err)
	}
	return c
}

// raw builds a submission's answers from pairs of question id and raw JSON.
func raw(pairs ...string) map[string]json.RawMessage {
	if len(pairs)%2 != 0 {
		panic("raw: odd number of arguments")
	}
	out := map[string]json.RawMessage{}
	for i := 0; i < len(pairs); i += 2 {
		out[pairs[i]] = json.RawMessage(pairs[i+1])
	}
	return out
}

// MustFieldErrors checks that err is a *ValidationError on exactly the
// fields want, in that order, each with a message in both languages.
func MustFieldErrors(t *testing.T, err error, want []string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error: got %v (%T), want a *ValidationError on %q", err, err, want)
	}
	if code := ErrorCode(err); code != EINVALID {
		t.Errorf("ErrorCode: got %q, want %q", code, EINVALID)
	}
	var got []string
	for _, fe := range ve.Errors {
		got = append(got, fe.Field)
		if strings.TrimSpace(fe.Message.Vi) == "" || strings.TrimSpace(fe.Message.En) == "" {
			t.Errorf("message of %s: got %+v, want Vietnamese and English", fe.Field, fe.Message)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("error fields: got %q, want %q (%v)", got, want, err)
	}
}

func TestValidateSubmission(t *testing.T) {
	c := MustMini(t)
	core := []string{CoreModule}
	// Every core submission needs c_proc and c_sat (required, always shown).
	const proc, sat = `"other"`, `3`
	long50 := strings.Repeat("ệ", 50) // 50 runes, 150 bytes
	for _, tc := range []struct {
		name        string
		sub         Submission
		wantFields  []string // nil: the submission is valid
		wantModules []string
		wantAnswers Answers
	}{
		{
			name:        "valid minimal",
			sub:         Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", sat)},
			wantModules: core,
			wantAnswers: Answers{"c_proc": "other", "c_sat": 3.0},
		},
		{
			name: "valid full core and d1 with profile",
			sub: Submission{Modules: []string{"d1", "core"}, Sex: "female", AgeGroup: "60_plus", Answers: raw(
				"c_proc", `"cert"`, "c_paid", `"no"`, "c_quality", `["c","a"]`, "c_sat", `5`, "c_note", `" Tốt "`,
				"d1_contact", `"yes"`, "d1_good", `"dk"`)},
			wantModules: []string{"core", "d1"},
			// The multiple choice comes back sorted, the text trimmed.
			wantAnswers: Answers{"c_proc": "cert", "c_paid": "no", "c_quality": []string{"a", "c"}, "c_sat": 5.0,
				"c_note": "Tốt", "d1_contact": "yes", "d1_good": "dk"},
		},
		{
			name:        "modules inferred from answers",
			sub:         Submission{Answers: raw("c_proc", proc, "c_sat", sat, "d2_amount", `12.5`)},
			wantModules: []string{"core", "d2"},
			wantAnswers: Answers{"c_proc": "other", "c_sat": 3.0, "d2_amount": 12.5},
		},
		{
			// d1 is inferred from d1_good, so d1_contact becomes required and
			// d1_good, whose show_if needs d1_contact = yes, is hidden.
			name:       "inferred module brings its required questions",
			sub:        Submission{Answers: raw("c_proc", proc, "c_sat", sat, "d1_good", `"yes"`)},
			wantFields: []string{"answers.d1_contact", "answers.d1_good"},
		},
		{
			name:       "listed module brings its required questions",
			sub:        Submission{Modules: []string{"core", "d1"}, Answers: raw("c_proc", proc, "c_sat", sat)},
			wantFields: []string{"answers.d1_contact"},
		},
		{
			name:       "unknown question",
			sub:        Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", sat, "c_nope", `"x"`)},
			wantFields: []string{"answers.c_nope"},
		},
		{
			name:       "unknown module",
			sub:        Submission{Modules: []string{"core", "d9"}, Answers: raw("c_proc", proc, "c_sat", sat)},
			wantFields: []string{"modules"},
		},
		{
			name:       "question of a module not shown",
			sub:        Submission{Modules: []string{"core", "d1"}, Answers: raw("c_proc", proc, "c_sat", sat, "d1_contact", `"no"`, "d2_amount", `5`)},
			wantFields: []string{"answers.d2_amount"},
		},
		{
			name:       "string for a number",
			sub:        Submission{Modules: []string{"core", "d2"}, Answers: raw("c_proc", proc, "c_sat", sat, "d2_amount", `"5"`)},
			wantFields: []string{"answers.d2_amount"},
		},
		{
			name:       "string for a scale",
			sub:        Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", `"3"`)},
			wantFields: []string{"answers.c_sat"},
		},
		{
			name:       "number for a single choice",
			sub:        Submission{Modules: core, Answers: raw("c_proc", `1`, "c_sat", sat)},
			wantFields: []string{"answers.c_proc"},
		},
		{
			name:       "list for a single choice",
			sub:        Submission{Modules: core, Answers: raw("c_proc", `["cert"]`, "c_sat", sat)},
			wantFields: []string{"answers.c_proc"},
		},
		{
			name:       "object for a multiple choice",
			sub:        Submission{Modules: core, Answers: raw("c_proc", `"cert"`, "c_sat", sat, "c_quality", `{"a":true}`)},
			wantFields: []string{"answers.c_quality"},
		},
		{
			name:       "bare string for a multiple choice",
			sub:        Submission{Modules: core, Answers: raw("c_proc", `"cert"`, "c_sat", sat, "c_quality", `"a"`)},
			wantFields: []string{"answers.c_quality"},
		},
		{
			name:       "numbers in a multiple choice",
			sub:        Submission{Modules: core, Answers: raw("c_proc", `"cert"`, "c_sat", sat, "c_quality", `[1]`)},
			wantFields: []string{"answers.c_quality"},
		},
		{
			name:       "number for a text",
			sub:        Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", sat, "c_note", `42`)},
			wantFields: []string{"answers.c_note"},
		},
		{
			name:       "boolean for a single choice",
			sub:        Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", sat, "c_paid", `true`)},
			wantFields: []string{"answers.c_paid"},
		},
		{
			name:       "option not in the list",
			sub:        Submission{Modules: core, Answers: raw("c_proc", `"Cert"`, "c_sat", sat)},
			wantFields: []string{"answers.c_proc"},
		},
		{
			name:       "multiple choice option not in the list",
			sub:        Submission{Modules: core, Answers: raw("c_proc", `"cert"`, "c_sat", sat, "c_quality", `["a","d"]`)},
			wantFields: []string{"answers.c_quality"},
		},
		{
			name:       "duplicate option in a multiple choice",
			sub:        Submission{Modules: core, Answers: raw("c_proc", `"cert"`, "c_sat", sat, "c_quality", `["a","b","a"]`)},
			wantFields: []string{"answers.c_quality"},
		},
		{
			name:       "exclusive option with another",
			sub:        Submission{Modules: core, Answers: raw("c_proc", `"cert"`, "c_sat", sat, "c_quality", `["none","b"]`)},
			wantFields: []string{"answers.c_quality"},
		},
		{
			name:        "exclusive option alone",
			sub:         Submission{Modules: core, Answers: raw("c_proc", `"cert"`, "c_sat", sat, "c_quality", `["none"]`)},
			wantModules: core,
			wantAnswers: Answers{"c_proc": "cert", "c_sat": 3.0, "c_quality": []string{"none"}},
		},
		{
			name:        "empty multiple choice is unanswered",
			sub:         Submission{Modules: core, Answers: raw("c_proc", `"cert"`, "c_sat", sat, "c_quality", `[]`)},
			wantModules: core,
			wantAnswers: Answers{"c_proc": "cert", "c_sat": 3.0},
		},
		{
			name:       "number below min",
			sub:        Submission{Modules: []string{"core", "d2"}, Answers: raw("c_proc", proc, "c_sat", sat, "d2_amount", `-0.01`)},
			wantFields: []string{"answers.d2_amount"},
		},
		{
			name:       "number above max",
			sub:        Submission{Modules: []string{"core", "d2"}, Answers: raw("c_proc", proc, "c_sat", sat, "d2_amount", `1000.5`)},
			wantFields: []string{"answers.d2_amount"},
		},
		{
			name:        "number at both bounds",
			sub:         Submission{Modules: []string{"core", "d2"}, Answers: raw("c_proc", proc, "c_sat", `1`, "d2_amount", `1e3`)},
			wantModules: []string{"core", "d2"},
			wantAnswers: Answers{"c_proc": "other", "c_sat": 1.0, "d2_amount": 1000.0},
		},
		{
			name:       "scale not a whole point",
			sub:        Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", `3.5`)},
			wantFields: []string{"answers.c_sat"},
		},
		{
			name:       "scale below range",
			sub:        Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", `0`)},
			wantFields: []string{"answers.c_sat"},
		},
		{
			name:       "scale above range",
			sub:        Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", `6`)},
			wantFields: []string{"answers.c_sat"},
		},
		{
			// JSON has no NaN or infinity; 1e400 overflows float64.
			name:       "number overflowing float64",
			sub:        Submission{Modules: []string{"core", "d2"}, Answers: raw("c_proc", proc, "c_sat", sat, "d2_amount", `1e400`)},
			wantFields: []string{"answers.d2_amount"},
		},
		{
			name:       "scale overflowing float64",
			sub:        Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", `-1e400`)},
			wantFields: []string{"answers.c_sat"},
		},
		{
			name:        "text of max_length runes",
			sub:         Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", sat, "c_note", `"`+long50+`"`)},
			wantModules: core,
			wantAnswers: Answers{"c_proc": "other", "c_sat": 3.0, "c_note": long50},
		},
		{
			name:       "text one rune too long",
			sub:        Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", sat, "c_note", `"`+long50+`ệ"`)},
			wantFields: []string{"answers.c_note"},
		},
		{
			// "0903 123 456" is a digit, 10 digits/spaces, a digit: phone-like.
			name:        "phone number redacted",
			sub:         Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", sat, "c_note", `"Gọi 0903 123 456 nhé"`)},
			wantModules: core,
			wantAnswers: Answers{"c_proc": "other", "c_sat": 3.0, "c_note": "Gọi […] nhé"},
		},
		{
			name:        "international phone number redacted",
			sub:         Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", sat, "c_note", `"SĐT +84-903-123-456"`)},
			wantModules: core,
			wantAnswers: Answers{"c_proc": "other", "c_sat": 3.0, "c_note": "SĐT […]"},
		},
		{
			name:        "email redacted",
			sub:         Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", sat, "c_note", `"Thư: an.nguyen@example.com cảm ơn"`)},
			wantModules: core,
			wantAnswers: Answers{"c_proc": "other", "c_sat": 3.0, "c_note": "Thư: […] cảm ơn"},
		},
		{
			name:        "short numbers kept",
			sub:         Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", sat, "c_note", `"Chờ 45 phút, quầy 3"`)},
			wantModules: core,
			wantAnswers: Answers{"c_proc": "other", "c_sat": 3.0, "c_note": "Chờ 45 phút, quầy 3"},
		},
		{
			name:        "blank text is unanswered",
			sub:         Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", sat, "c_note", `" \t\n "`)},
			wantModules: core,
			wantAnswers: Answers{"c_proc": "other", "c_sat": 3.0},
		},
		{
			name:        "null is unanswered",
			sub:         Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", sat, "c_paid", `null`, "c_quality", ` null `)},
			wantModules: core,
			wantAnswers: Answers{"c_proc": "other", "c_sat": 3.0},
		},
		{
			name:       "null for a required question",
			sub:        Submission{Modules: core, Answers: raw("c_proc", proc, "c_sat", `null`)},
			wantFields: []string{"answers.c_sat"},
		},
		{
			name:       "required missing",
			sub:        Submission{Modules: core, Answers: raw("c_sat", sat)},
			wantFields: []string{"answers.c_proc"},
		},
		{
			name:       "nothing answered",
			sub:        Submission{Modules: core},
			wantFields: []string{"answers.c_proc", "answers.c_sat"},
		},
		{
			// d1_good is required but shown only when d1_contact = yes.
			name:        "required but hidden by show_if",
			sub:         Submission{Modules: []string{"core", "d1"}, Answers: raw("c_proc", proc, "c_sat", sat, "d1_contact", `"no"`)},
			wantModules: []string{"core", "d1"},
			wantAnswers: Answers{"c_proc": "other", "c_sat": 3.0, "d1_contact": "no"},
		},
		{
			name:       "required and shown by show_if",
			sub:        Submission{Modules: []string{"core", "d1"}, Answers: raw("c_proc", proc, "c_sat", sat, "d1_contact", `"yes"`)},
			wantFields: []string{"answers.d1_good"},
		},
		{
			name:       "answer to a question hidden by show_if",
			sub:        Submission{Modules: []string{"core", "d1"}, Answers: raw("c_proc", proc, "c_sat", sat, "d1_contact", `"no"`, "d1_good", `"yes"`)},
			wantFields: []string{"answers.d1_good"},
		},
		{
			name:       "multiple choice hidden by show_if",
			sub:        Submission{Modules: core, Answers: raw("c_proc", `"other"`, "c_sat", sat, "c_quality", `["a"]`)},
			wantFields: []string{"answers.c_quality"},
		},
		{
			name:        "null to a hidden question",
			sub:         Submission{Modules: []string{"core", "d1"}, Answers: raw("c_proc", proc, "c_sat", sat, "d1_contact", `"no"`, "d1_good", `null`)},
			wantModules: []string{"core", "d1"},
			wantAnswers: Answers{"c_proc": "other", "c_sat": 3.0, "d1_contact": "no"},
		},
		{
			name:       "invalid sex",
			sub:        Submission{Modules: core, Sex: "Female", AgeGroup: "30_39", Answers: raw("c_proc", proc, "c_sat", sat)},
			wantFields: []string{"sex"},
		},
		{
			name:       "invalid age group",
			sub:        Submission{Modules: core, Sex: "male", AgeGroup: "18-29", Answers: raw("c_proc", proc, "c_sat", sat)},
			wantFields: []string{"age_group"},
		},
		{
			name: "several errors sorted by field",
			sub: Submission{Modules: []string{"core", "d2"}, Sex: "x", AgeGroup: "y", Answers: raw(
				"d2_amount", `-1`, "c_sat", `9`, "c_paid", `"maybe"`, "c_proc", proc, "zz", `1`)},
			wantFields: []string{"age_group", "answers.c_paid", "answers.c_sat", "answers.d2_amount", "answers.zz", "sex"},
		},
		{
			name:       "unknown module with bad profile",
			sub:        Submission{Modules: []string{"d7"}, Sex: "x", Answers: raw("c_proc", `1`)},
			wantFields: []string{"modules", "sex"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := c.ValidateSubmission(tc.sub)
			if tc.wantFields != nil {
				MustFieldErrors(t, err, tc.wantFields)
				if v.Answers != nil || v.Modules != nil {
					t.Errorf("visit: got %+v, want the zero visit with an error", v)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			if !reflect.DeepEqual(v.Modules, tc.wantModules) {
				t.Errorf("modules: got %q, want %q", v.Modules, tc.wantModules)
			}
			if !reflect.DeepEqual(v.Answers, tc.wantAnswers) {
				t.Errorf("answers: got %#v, want %#v", v.Answers, tc.wantAnswers)
			}
			if v.Sex != tc.sub.Sex || v.AgeGroup != tc.sub.AgeGroup {
				t.Errorf("profile: got %q/%q, want %q/%q", v.Sex, v.AgeGroup, tc.sub.Sex, tc.sub.AgeGroup)
			}
		})
	}
}

// chainCatalogue is mini.json with d1_why, shown when d1_good = no, which is
// itself shown only when d1_contact = yes: a two-step show_if chain.
func chainCatalogue(t *testing.T) *Catalogue {
	t.Helper()
	return MustMiniWith(t, func(c *Catalogue) {
		c.Questions = append(c.Questions, Question{
			ID: "d1_why", Module: "d1", Type: SingleChoice, Required: true,
			Text:   Text{"Vì sao?", "Why?"},
			ShowIf: &Condition{Question: "d1_good", In: []string{"no"}},
			Options: []Option{
				{Value: "slow", Label: Text{"Chậm", "Slow"}},
				{Value: "rude", Label: Text{"Thô lỗ", "Rude"}},
			},
		})
	})
}

func TestValidateSubmissionShowIfChain(t *testing.T) {
	c := chainCatalogue(t)
	d1 := []string{"core", "d1"}
	for _, tc := range []struct {
		name       string
		answers    map[string]json.RawMessage
		wantFields []string
		wantShown  bool // whether d1_why was on the form
	}{
		{
			name:      "chain holds, required answered",
			answers:   raw("c_proc", `"cert"`, "c_sat", `4`, "d1_contact", `"yes"`, "d1_good", `"no"`, "d1_why", `"slow"`),
			wantShown: true,
		},
		{
			name:       "chain holds, required missing",
			answers:    raw("c_proc", `"cert"`, "c_sat", `4`, "d1_contact", `"yes"`, "d1_good", `"no"`),
			wantFields: []string{"answers.d1_why"},
		},
		{
			name:    "second link fails, not required",
			answers: raw("c_proc", `"cert"`, "c_sat", `4`, "d1_contact", `"yes"`, "d1_good", `"yes"`),
		},
		{
			name:       "second link fails, answered",
			answers:    raw("c_proc", `"cert"`, "c_sat", `4`, "d1_contact", `"yes"`, "d1_good", `"yes"`, "d1_why", `"rude"`),
			wantFields: []string{"answers.d1_why"},
		},
		{
			// d1_good = no would show d1_why, but d1_good itself is hidden
			// by d1_contact = no: both answers are to hidden questions.
			name:       "first link fails, rest answered",
			answers:    raw("c_proc", `"cert"`, "c_sat", `4`, "d1_contact", `"no"`, "d1_good", `"no"`, "d1_why", `"rude"`),
			wantFields: []string{"answers.d1_good", "answers.d1_why"},
		},
		{
			name:    "first link fails, rest blank",
			answers: raw("c_proc", `"cert"`, "c_sat", `4`, "d1_contact", `"no"`),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := c.ValidateSubmission(Submission{Modules: d1, Answers: tc.answers})
			if tc.wantFields != nil {
				MustFieldErrors(t, err, tc.wantFields)
				return
			}
			if err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			if got := c.Shown("d1_why", v); got != tc.wantShown {
				t.Errorf("Shown(d1_why): got %v, want %v", got, tc.wantShown)
			}
		})
	}
}

func TestShown(t *testing.T) {
	c := MustMini(t)
	v := Visit{Modules: []string{"d1"}, Answers: Answers{"c_proc": "land", "d1_contact": "no"}}
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"c_proc", true},     // core is always on the form
		{"c_quality", true},  // c_proc = land is in its show_if
		{"d1_contact", true}, // module d1
		{"d1_good", false},   // d1_contact = no
		{"d2_amount", false}, // module d2 not asked
		{"nope", false},      // unknown question
	} {
		t.Run(tc.id, func(t *testing.T) {
			if got := c.Shown(tc.id, v); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseAnswers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    Answers
		wantErr bool
	}{
		{name: "every type", in: `{"a":"x","b":["p","q"],"c":2.5,"d":[]}`,
			want: Answers{"a": "x", "b": []string{"p", "q"}, "c": 2.5, "d": []string{}}},
		{name: "empty object", in: `{}`, want: Answers{}},
		{name: "not JSON", in: `{"a":`, wantErr: true},
		{name: "not an object", in: `["a"]`, wantErr: true},
		{name: "number in a list", in: `{"b":["p",1]}`, wantErr: true},
		{name: "boolean", in: `{"a":true}`, wantErr: true},
		{name: "nested object", in: `{"a":{"b":1}}`, wantErr: true},
		{name: "null", in: `{"a":null}`, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAnswers([]byte(tc.in))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("got %#v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestAnswersRoundTrip checks that a validated visit's answers, stored as
// JSON, are read back by ParseAnswers unchanged.
func TestAnswersRoundTrip(t *testing.T) {
	c := MustMini(t)
	v, err := c.ValidateSubmission(Submission{Modules: []string{"core", "d2"}, Answers: raw(
		"c_proc", `"land"`, "c_paid", `"dk"`, "c_quality", `["c","b"]`, "c_sat", `2`, "c_note", `"Nhanh, gọn"`,
		"d2_amount", `0.1`, "d2_road", `"gravel"`)})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(v.Answers)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseAnswers(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, v.Answers) {
		t.Errorf("got %#v, want %#v", got, v.Answers)
	}
	if got := v.Answers["c_quality"].([]string); !sort.StringsAreSorted(got) {
		t.Errorf("c_quality: got %q, want sorted", got)
	}
}

// core25 returns the answers of a minimal 2025.2 visit (a resident of the
// commune visited, submitting a civil-status file), overridden and extended
// by pairs of question id and raw JSON.
func core25(pairs ...string) map[string]json.RawMessage {
	base := []string{"c_residence", `"here"`, "c_procedure", `"ho_tich"`, "c_visit_purpose", `"submit"`,
		"c_many_doors", `"no"`, "c_satisfaction", `4`}
	return raw(append(base, pairs...)...)
}

// TestValidateSubmissionResidence covers what catalogue 2025.2 asks first:
// where the respondent lives, a commune code checked against the city's
// list, and locality modules skipped by residents of other provinces.
func TestValidateSubmissionResidence(t *testing.T) {
	c := MustCatalogue(t, "2025.2")
	for _, tc := range []struct {
		name          string
		modules       []string
		answers       map[string]json.RawMessage
		wantFields    []string
		wantMessage   string // part of the first error's English message
		wantResidence [2]string
		wantModules   []string
	}{
		{name: "lives here", modules: []string{"core", "d1"}, answers: core25(),
			wantResidence: [2]string{"here", ""}, wantModules: []string{"core", "d1", "end"}},
		{name: "lives in another commune", modules: []string{"core", "d5"},
			answers:       core25("c_residence", `"other"`, "c_residence_commune", `"26743"`),
			wantResidence: [2]string{"other", "26743"}, wantModules: []string{"core", "d5", "end"}},
		{name: "lives outside the city", answers: core25("c_residence", `"outside"`),
			wantResidence: [2]string{"outside", ""}, wantModules: []string{"core", "end"}},
		{name: "another commune not named", answers: core25("c_residence", `"other"`),
			wantFields: []string{"answers.c_residence_commune"}, wantMessage: "Please answer"},
		{name: "commune code that does not exist", answers: core25("c_residence", `"other"`, "c_residence_commune", `"99999"`),
			wantFields: []string{"answers.c_residence_commune"}, wantMessage: "168 communes"},
		{name: "commune code as a number", answers: core25("c_residence", `"other"`, "c_residence_commune", `26743`),
			wantFields: []string{"answers.c_residence_commune"}, wantMessage: "Choose a commune"},
		{name: "commune named by someone living here", answers: core25("c_residence_commune", `"26743"`),
			wantFields: []string{"answers.c_residence_commune"}, wantMessage: `"c_residence"`},
		{name: "residence missing", answers: raw("c_procedure", `"ho_tich"`, "c_visit_purpose", `"submit"`, "c_many_doors", `"no"`, "c_satisfaction", `4`),
			wantFields: []string{"answers.c_residence"}},
		{name: "residence not one of the three", answers: core25("c_residence", `"yes"`),
			wantFields: []string{"answers.c_residence"}},
		// The locality module d1 is not asked of someone from outside the
		// city, so its answers are refused and none is required.
		{name: "outside resident answers a locality module", modules: []string{"core", "d1"},
			answers:    core25("c_residence", `"outside"`, "d1_head_elected", `"yes"`),
			wantFields: []string{"answers.d1_head_elected"}, wantMessage: `"c_residence"`},
		{name: "outside resident with a locality module", modules: []string{"core", "d1"},
			answers:       core25("c_residence", `"outside"`),
			wantResidence: [2]string{"outside", ""}, wantModules: []string{"core", "d1", "end"}},
		// A 2025.1 answer set sent as 2025.2: its questions are unknown.
		{name: "2025.1 answers", modules: []string{"core"},
			answers: raw("c_procedure", `"ho_tich"`, "c_lives_here", `"yes"`, "c_many_doors", `"no"`,
				"c_quality", `["polite"]`, "c_satisfaction", `4`),
			wantFields: []string{"answers.c_lives_here", "answers.c_quality"}, wantMessage: "not part of this questionnaire"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := c.ValidateSubmission(Submission{Modules: tc.modules, Answers: tc.answers})
			if tc.wantFields != nil {
				MustFieldErrors(t, err, tc.wantFields)
				var ve *ValidationError
				if errors.As(err, &ve) && !strings.Contains(ve.Errors[0].Message.En, tc.wantMessage) {
					t.Errorf("message: got %q, want it to contain %q", ve.Errors[0].Message.En, tc.wantMessage)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			if got := [2]string{v.Residence, v.ResidenceCommune}; got != tc.wantResidence {
				t.Errorf("residence: got %q, want %q", got, tc.wantResidence)
			}
			if !reflect.DeepEqual(v.Modules, tc.wantModules) {
				t.Errorf("modules: got %q, want %q", v.Modules, tc.wantModules)
			}
		})
	}
}

// TestValidateSubmissionGridAndFollowUps checks grid rows and the questions
// that 2025.2 asks only after certain answers.
func TestValidateSubmissionGridAndFollowUps(t *testing.T) {
	c := MustCatalogue(t, "2025.2")
	d5 := []string{"core", "d5"}
	d4 := []string{"core", "d4"}
	for _, tc := range []struct {
		name       string
		modules    []string
		answers    map[string]json.RawMessage
		wantFields []string
	}{
		{name: "grid rows answered one by one", modules: d5,
			answers: core25("d5_q_posted", `"yes"`, "d5_q_fees", `"unsure"`, "d5_q_no_harass", `"no"`)},
		{name: "grid row with a value of another question", modules: d5,
			answers: core25("d5_q_posted", `"dk"`), wantFields: []string{"answers.d5_q_posted"}},
		{name: "on-time row for a result collected", modules: d5,
			answers: core25("c_visit_purpose", `"collect"`, "c_result", `"received"`, "d5_q_on_time", `"yes"`)},
		{name: "on-time row for a file submitted today", modules: d5,
			answers: core25("d5_q_on_time", `"yes"`), wantFields: []string{"answers.d5_q_on_time"}},
		{name: "result asked of a submission", answers: core25("c_result", `"received"`),
			wantFields: []string{"answers.c_result"}},
		{name: "amount after 'from a certain amount'", modules: d4,
			answers: core25("d4_report_if_asked", `"above_amount"`, "d4_report_amount", `20`)},
		{name: "amount after 'whatever the amount'", modules: d4,
			answers: core25("d4_report_if_asked", `"any_amount"`, "d4_report_amount", `20`), wantFields: []string{"answers.d4_report_amount"}},
		{name: "closing comment", answers: core25("c_comment", `"Cảm ơn"`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ValidateSubmission(Submission{Modules: tc.modules, Answers: tc.answers})
			if tc.wantFields != nil {
				MustFieldErrors(t, err, tc.wantFields)
			} else if err != nil {
				t.Errorf("got %v, want no error", err)
			}
		})
	}
}

// TestValidateModules: a form asks the fixed modules and exactly one
// rotating module, or the whole questionnaire; anything else would skew the
// weights the estimates give each rotating module.
func TestValidateModules(t *testing.T) {
	cats, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	latest := cats[len(cats)-1]
	rot := latest.RotatingModules()
	if len(rot) < 3 {
		t.Fatalf("catalogue %s has %d rotating modules; the cases below need 3 or more", latest.Version, len(rot))
	}
	mini := MustMini(t)
	for _, tc := range []struct {
		name    string
		cat     *Catalogue
		modules []string
		want    string // "" when valid, else a fragment of the English message
	}{
		{"none listed: taken from the answers", latest, nil, ""},
		{"assigned: core, one rotating, the rest fixed", latest, latest.AssignModules(3), ""},
		{"one rotating without the fixed ones", latest, []string{rot[0]}, ""},
		{"the full form", latest, latest.AllModules(), ""},
		{"every rotating module, no core listed", latest, rot, ""},
		{"core only", latest, []string{CoreModule}, "this form sent 0 rotating modules"},
		{"two rotating", latest, []string{CoreModule, rot[0], rot[1]}, "this form sent 2 rotating modules"},
		{"all but one rotating", latest, append([]string{CoreModule}, rot[1:]...), fmt.Sprintf("this form sent %d rotating modules", len(rot)-1)},
		{"unknown module", latest, []string{CoreModule, "d99"}, `Module "d99" is not part of this questionnaire`},
		{"mini: one of two", mini, []string{CoreModule, "d2"}, ""},
		{"mini: both (full form)", mini, []string{CoreModule, "d1", "d2"}, ""},
		{"mini: core only", mini, []string{CoreModule}, "exactly one rotating module (d1, d2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cat.ValidateModules(tc.modules)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			var verr *ValidationError
			if !errors.As(err, &verr) || len(verr.Errors) != 1 || verr.Errors[0].Field != "modules" ||
				!strings.Contains(verr.Errors[0].Message.En, tc.want) || verr.Errors[0].Message.Vi == "" || verr.Errors[0].Message.Vi == verr.Errors[0].Message.En {
				t.Fatalf("got %v, want one error on modules mentioning %q, worded in Vietnamese too", err, tc.want)
			}
		})
	}
}
