package survey

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// TestRawJSONMatchesEncodingJSON: the hand readers of plain answers give
// what encoding/json gives, and step aside for anything else.
func TestRawJSONMatchesEncodingJSON(t *testing.T) {
	q := &Question{Options: []Option{{Value: "a"}, {Value: "b c"}, {Value: "x"}}}
	for _, raw := range []string{`"a"`, `"b c"`, `"a\"`, `"\u0061"`, `"é"`, "\"\x01\"", `"a`, `a"`, `""`, `"`, `[]`, ` [ ] `, `["a"]`, `[ "a" , "x" ]`,
		`["a","a"]`, `["a",]`, `[,"a"]`, `["a" "x"]`, `["a"] x`, `["z"]`, `[null]`, `[1]`, `["a",["x"]]`, `["\u0061"]`, `[`, `["a"`,
		`0`, `-0`, `1`, `-1.5`, `1e3`, `1E+3`, `2e-0`, `01`, `1.`, `.5`, `-`, `+1`, `1e`, `1e400`, `-1e400`, `0x10`, `Infinity`, `NaN`, `1_0`, `"1"`, `true`, `null`} {
		if s, ok := plainString([]byte(raw)); ok {
			var want string
			if err := json.Unmarshal([]byte(raw), &want); err != nil || want != string(s) {
				t.Errorf("plainString(%s): got %q, want %q (%v)", raw, s, want, err)
			}
		}
		if list, ok := q.optionList([]byte(raw)); ok {
			var want []string
			if err := json.Unmarshal([]byte(raw), &want); err != nil || !reflect.DeepEqual(list, want) {
				t.Errorf("optionList(%s): got %q, want %q (%v)", raw, list, want, err)
			}
		}
		var want float64
		wantErr := json.Unmarshal([]byte(raw), &want)
		got, err := parseNumber([]byte(raw))
		if (err != nil) != (wantErr != nil) || err == nil && fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("parseNumber(%s): got %v, %v; want %v, %v", raw, got, err, want, wantErr)
		}
	}
}

// TestListJSON: listJSON writes what json.Marshal writes.
func TestListJSON(t *testing.T) {
	for _, list := range [][]string{{}, {"a"}, {"a", "b_c", "1"}, {"a<b"}, {"x", "é"}, {`"`}, {"a\\b"}, {"\x01"}} {
		want, _ := json.Marshal(list)
		if got := listJSON(list); string(got) != string(want) {
			t.Errorf("listJSON(%q): got %s, want %s", list, got, want)
		}
	}
}
