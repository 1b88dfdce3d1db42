package store

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/papi-hcmc/papi/survey"
)

// TestParseAnswersMatchesSurvey: the fast reader gives exactly what
// survey.ParseAnswers gives, for synthesized visits and for answers with
// escapes, Vietnamese text, empty lists and negative or fractional
// numbers.
func TestParseAnswersMatchesSurvey(t *testing.T) {
	cats, _ := survey.Catalogues()
	cat := cats[len(cats)-1]
	rng := rand.New(rand.NewPCG(61, 62))
	var inputs [][]byte
	for i := 0; i < 300; i++ {
		v, err := cat.ValidateSubmission(cat.Synthesize(rng, cat.AllModules(), rng.Float64()))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v.Answers)
		inputs = append(inputs, b)
	}
	for _, a := range []survey.Answers{
		{"c_comment": `rất tốt, "nhanh"`},
		{"c_comment": "a<b & c>d"},
		{"c_comment": "Thủ tục nhanh gọn, cán bộ tận tình"},
		{"q": []string{}, "n": -2.5, "m": 1e21, "z": 0.0},
		{},
	} {
		b, _ := json.Marshal(a)
		inputs = append(inputs, b)
	}
	inputs = append(inputs, []byte(`{"q": "a" , "n" : 3}`), []byte(`not json`), []byte(`{"q":true}`))
	for _, b := range inputs {
		want, wantErr := survey.ParseAnswers(b)
		got, err := parseAnswers(b)
		if (err != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v (%v), want %#v (%v)", b, got, err, want, wantErr)
		}
	}
}

func BenchmarkParseAnswers(b *testing.B) {
	cats, _ := survey.Catalogues()
	cat := cats[len(cats)-1]
	v, _ := cat.ValidateSubmission(cat.Synthesize(rand.New(rand.NewPCG(1, 1)), cat.AssignModules(3), 0.5))
	data, _ := json.Marshal(v.Answers)
	for _, p := range []struct {
		name string
		fn   func([]byte) (survey.Answers, error)
	}{{"fast", parseAnswers}, {"encoding/json", survey.ParseAnswers}} {
		b.Run(p.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := p.fn(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
