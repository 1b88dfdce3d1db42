package survey

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// hotpathCatalogues are the catalogues the differential tests run on:
// mini.json and every published version.
func hotpathCatalogues(t *testing.T) []*Catalogue {
	t.Helper()
	cats, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	return append([]*Catalogue{MustMini(t)}, cats...)
}

// oddRaws are answers a form should never send, for any question.
var oddRaws = []string{`null`, `""`, `"  "`, `"x"`, `1`, `-0`, `0`, `3.5`, `1e400`, `-1`, `[]`, `[null]`, `["a","a"]`, `[1]`, `true`, `{}`,
	`"3"`, `"\u0061"`, ` "yes" `, `"yes`, `[ "yes" , "no" ]`, `"Gọi 0903 123 456"`, `"a@b.cd"`, "\"\xff\"", `01`, `1.`, `2e0`, `"26740"`, `"00000"`, `[`, ``}

// mutate changes a synthesized submission in one of the ways residents,
// broken forms or exports do: answers of the wrong type or value, answers
// the skip logic hides, missing required answers, unknown questions or
// modules, no module list, odd profile values.
func mutate(rng *rand.Rand, c *Catalogue, sub Submission) Submission {
	answers := make(map[string]json.RawMessage, len(sub.Answers))
	for id, raw := range sub.Answers {
		answers[id] = raw
	}
	sub.Answers = answers
	sub.Modules = slices.Clone(sub.Modules)
	for range 1 + rng.IntN(3) {
		q := &c.Questions[rng.IntN(len(c.Questions))]
		switch rng.IntN(9) {
		case 0:
			delete(sub.Answers, q.ID)
		case 1:
			sub.Answers[q.ID] = json.RawMessage(oddRaws[rng.IntN(len(oddRaws))])
		case 2:
			if len(q.Options) > 0 {
				o := q.Options[rng.IntN(len(q.Options))].Value
				sub.Answers[q.ID] = json.RawMessage(fmt.Sprintf("%q", o))
				if q.Type == MultipleChoice || rng.IntN(4) == 0 {
					sub.Answers[q.ID] = json.RawMessage(fmt.Sprintf("[%q]", o))
				}
			}
		case 3:
			if len(q.Options) > 1 {
				sub.Answers[q.ID] = json.RawMessage(fmt.Sprintf("[%q,%q]", q.Options[0].Value, q.Options[len(q.Options)-1].Value))
			}
		case 4:
			sub.Answers["no_such_question"] = json.RawMessage(`"x"`)
		case 5:
			sub.Modules = nil
		case 6:
			sub.Modules = append(sub.Modules, []string{"nope", CoreModule, c.Modules[rng.IntN(len(c.Modules))].ID}[rng.IntN(3)])
		case 7:
			sub.Sex, sub.AgeGroup = []string{"", "female", "x"}[rng.IntN(3)], []string{"", "30_39", "y"}[rng.IntN(3)]
		case 8:
			sub.Answers[q.ID] = json.RawMessage(fmt.Sprintf("%d", rng.IntN(12)-1))
		}
	}
	return sub
}

// TestHotpathMatchesReference compares ValidateSubmission, Observe and
// Credits with the implementation they replaced, on synthesized visits of
// every kind and on thousands of odd ones.
func TestHotpathMatchesReference(t *testing.T) {
	n := 1500
	if testing.Short() {
		n = 400
	}
	for _, c := range hotpathCatalogues(t) {
		t.Run(c.Version, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			rot := c.RotatingModules()
			valid := 0
			for i := range n {
				var modules []string
				switch i % 4 {
				case 0:
					modules = c.AllModules()
				case 1, 2:
					modules = c.AssignModules(uint64(i))
				case 3:
					if len(rot) > 1 {
						modules = []string{rot[0], rot[1]}
					}
				}
				sub := c.SynthesizeAt(rng, modules, rng.Float64(), "26740")
				if i%3 != 0 {
					sub = mutate(rng, c, sub)
				}
				got, gotErr := c.ValidateSubmission(sub)
				want, wantErr := c.refValidateSubmission(sub)
				if !reflect.DeepEqual(gotErr, wantErr) || !reflect.DeepEqual(got, want) {
					t.Fatalf("ValidateSubmission(%v, %s):\ngot  %#v, %v\nwant %#v, %v", sub.Modules, answersText(sub), got, gotErr, want, wantErr)
				}
				if wantErr != nil {
					got = Visit{Modules: sub.Modules, Answers: Answers{}}
					for id, raw := range sub.Answers {
						if v, ok := storedAnswer(raw); ok {
							got.Answers[id] = v
						}
					}
				} else {
					valid++
				}
				if i%5 == 0 {
					got.Probs = map[string]float64{CoreModule: 1, c.Modules[len(c.Modules)-1].ID: 0.25, "nope": 0.5}
				}
				if a, b := c.Observe(got), c.refObserve(got); !reflect.DeepEqual(a, b) {
					t.Fatalf("Observe(%#v):\ngot  %v\nwant %v", got, a, b)
				}
				for _, visited := range []string{"26740", "26743"} {
					if a, b := c.Credits(got, visited), c.refCredits(got, visited); !reflect.DeepEqual(a, b) {
						t.Fatalf("Credits(%#v, %s):\ngot  %v\nwant %v", got, visited, a, b)
					}
				}
				for _, q := range c.Questions {
					if a, b := c.Shown(q.ID, got), c.refShown(&q, c.refModuleSet(got.Modules), got.Answers); a != b {
						t.Fatalf("Shown(%s, %#v): got %v, want %v", q.ID, got, a, b)
					}
				}
			}
			if valid < n/4 {
				t.Errorf("only %d of %d submissions valid: the test hardly checks Observe on real visits", valid, n)
			}
		})
	}
}

// storedAnswer reads a raw answer as ParseAnswers would, for measuring
// answers that never passed validation. Empty lists are left out: the
// rules read a list's first value (the old code panics on them too).
func storedAnswer(raw json.RawMessage) (any, bool) {
	a, err := ParseAnswers([]byte(`{"a":` + string(raw) + `}`))
	if err != nil {
		return nil, false
	}
	if list, ok := a["a"].([]string); ok && len(list) == 0 {
		return nil, false
	}
	return a["a"], true
}

func answersText(sub Submission) string {
	b, _ := json.Marshal(sub.Answers)
	return string(b)
}

// TestParseAnswersMatchesReference compares ParseAnswers with the
// implementation it replaced, on stored visits and on odd JSON.
func TestParseAnswersMatchesReference(t *testing.T) {
	inputs := []string{`{}`, `null`, ``, ` {"a":"x"} `, `{"a":"x"} x`, `{"a":"x",}`, `{"a":1,"a":"b"}`, `{"a":[],"b":-0,"c":1e400}`,
		`{"a":["x",1]}`, `{"a":true}`, `{"a":null}`, `{"a":{"b":1}}`, `{"a":"\u0041\n"}`, "{\"a\":\"\xff\"}", "{\"\xff\":1}",
		`{"a" : [ "x" , "y" ] , "b" : 2.50 }`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":"Gọi"}`, `{"a":Infinity}`, `{"a":0x10}`,
		`{"a":[,"x"]}`, `{"a":["x",]}`, `{"a":["x" "y"]}`, `{"a":["x","y"] "b":1}`, `{"a":1"b":2}`, `{"a":1-2}`, `{"a""b"}`, `{"a":[]}`, `{"a":[ ]}`,
		`{"a":"é","b":"tốt lắm"}`, `{"a":["x"],}`, `{,}`, `{"a":1}}`, `{"a":1e}`, `{"a":[1,"x"]}`, `{"a":"x\"}`, "{\"a\":\"\x7f\"}", `{"a":-0.0}`, `{"a":1e5,"b":-2.5E-3}`, `[1]`, `"x"`, `{"a":"x"`, `{"a"}`, `{a:1}`, "{\"a\":\"\t\"}"}
	for _, c := range hotpathCatalogues(t) {
		rng := rand.New(rand.NewPCG(5, 6))
		for range 200 {
			v, err := c.ValidateSubmission(c.Synthesize(rng, c.AllModules(), rng.Float64()))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(v.Answers)
			inputs = append(inputs, string(b))
		}
	}
	for _, in := range inputs {
		got, gotErr := ParseAnswers([]byte(in))
		want, wantErr := refParseAnswers([]byte(in))
		if !reflect.DeepEqual(got, want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("ParseAnswers(%s):\ngot  %#v, %v\nwant %#v, %v", in, got, gotErr, want, wantErr)
		}
	}
}

// FuzzParseAnswersMatchesReference: ParseAnswers gives what the
// implementation it replaced gives, answers and errors alike.
func FuzzParseAnswersMatchesReference(f *testing.F) {
	for _, seed := range []string{`{"a":"x","b":[" y","z"],"c":-1.5e3}`, `{"a":[]}`, ` { "a" : "tốt" } `, `{"a":"\u00e9"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, gotErr := ParseAnswers(data)
		want, wantErr := refParseAnswers(data)
		if !reflect.DeepEqual(got, want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("ParseAnswers(%q):\ngot  %#v, %v\nwant %#v, %v", data, got, gotErr, want, wantErr)
		}
	})
}

// TestRedactSkipsOnlyWhatCannotMatch: the guards in redact change nothing.
func TestRedactSkipsOnlyWhatCannotMatch(t *testing.T) {
	for _, s := range []string{"", "tốt", "Gọi 0903 123 456", "0903123456", "+84 903 123 456", "+84903123", "0 9 0 3 1 2 3 4", "12.03.2025", "1.500.000 đồng",
		"an@example.com", "a@b", "x@y.z 0903-123-456", "@", "gọi 0903.123.45 hay an@ví.dụ"} {
		want := emailLike.ReplaceAllString(phoneLike.ReplaceAllString(s, "[…]"), "[…]")
		if got := redact(s); got != want {
			t.Errorf("redact(%q): got %q, want %q", s, got, want)
		}
	}
}
