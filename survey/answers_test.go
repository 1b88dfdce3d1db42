package survey

import (
	"encoding/json"
	"errors"
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
