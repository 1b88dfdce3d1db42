package survey

import (
	"encoding/json"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

func TestAnswerColumns(t *testing.T) {
	ids := []string{"a_text", "b_list", "c_num", "d_missing", "e_quote"}
	cases := []struct {
		name string
		json string
		want []string
	}{
		{"every type", `{"a_text":"Phường Sài Gòn","b_list":["x","y"],"c_num":12.5,"e_quote":"nói \"tốt\"\nlắm"}`, []string{"Phường Sài Gòn", "x y", "12.5", "", "nói \"tốt\"\nlắm"}},
		{"empty object", `{}`, []string{"", "", "", "", ""}},
		{"unsorted keys and spaces", ` { "c_num" : 3 , "a_text" : "b" } `, []string{"b", "", "3", "", ""}},
		{"null", `{"a_text":null}`, []string{"", "", "", "", ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := make([]string, len(ids))
			if err := NewAnswerColumns(ids).Cells([]byte(tc.json), got); err != nil {
				t.Fatal(err)
			}
			for i := range ids {
				if got[i] != tc.want[i] {
					t.Errorf("%s: got %q, want %q", ids[i], got[i], tc.want[i])
				}
			}
		})
	}
	for _, bad := range []string{``, `[]`, `{"a":`, `{"a":"x}`, `{"a" "x"}`} {
		if err := NewAnswerColumns(ids).Cells([]byte(bad), make([]string, len(ids))); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// TestAnswerColumnsMatchesDecoding checks the in-place reader against
// encoding/json on many synthetic answer sets of the real catalogue.
func TestAnswerColumnsMatchesDecoding(t *testing.T) {
	cats, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	cat := cats[len(cats)-1]
	ids := make([]string, len(cat.Questions))
	for i, q := range cat.Questions {
		ids[i] = q.ID
	}
	rng := rand.New(rand.NewPCG(4, 2))
	got := make([]string, len(ids))
	columns := NewAnswerColumns(ids)
	for k := 0; k < 300; k++ {
		v, err := cat.ValidateSubmission(cat.Synthesize(rng, cat.AssignModules(uint64(k)), rng.Float64()))
		if err != nil {
			t.Fatal(err)
		}
		v.Answers["c_comment"] = `góp ý, "có" dấu phẩy; và xuống` + "\n" + `dòng \ gạch`
		data, _ := json.Marshal(v.Answers)
		if err := columns.Cells(data, got); err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			want := ""
			switch x := v.Answers[id].(type) {
			case string:
				want = x
			case float64:
				want = FormatNumber(x)
			case []string:
				s := append([]string(nil), x...)
				sort.Strings(s)
				want = strings.Join(s, " ")
			}
			if got[i] != want {
				t.Fatalf("visit %d, %s: got %q, want %q", k, id, got[i], want)
			}
		}
	}
}
