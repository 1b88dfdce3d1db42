package survey

import (
	"encoding/json"
	"strconv"
)

// Most answers arrive as JSON in its simplest form: an option value in
// quotes, a list of them, a plain number. Reading those by hand is many
// times cheaper than encoding/json; anything else still goes through
// encoding/json, so the results and the errors stay the same.

// plainString returns the text between the quotes of a JSON string that
// needs no decoding: printable ASCII without escapes.
func plainString(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	s := raw[1 : len(raw)-1]
	for _, b := range s {
		if b < 0x20 || b >= 0x7f || b == '"' || b == '\\' {
			return nil, false
		}
	}
	return s, true
}

// option returns q's option whose value is v, or nil.
func (q *Question) option(v []byte) *Option {
	for i := range q.Options {
		if q.Options[i].Value == string(v) {
			return &q.Options[i]
		}
	}
	return nil
}

// optionList reads a JSON list of q's option values written as plain
// strings (plainString), returning the catalogue's own strings; ok is false
// for any other list.
func (q *Question) optionList(raw []byte) (list []string, ok bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return nil, false
	}
	list = []string{}
	if i = skipSpace(raw, i+1); i < len(raw) && raw[i] == ']' {
		return list, skipSpace(raw, i+1) == len(raw)
	}
	for i < len(raw) && raw[i] == '"' {
		end := i + 1
		for end < len(raw) && raw[end] != '"' {
			end++
		}
		if end == len(raw) {
			return nil, false
		}
		s, plain := plainString(raw[i : end+1])
		o := q.option(s)
		if !plain || o == nil {
			return nil, false
		}
		list = append(list, o.Value)
		switch i = skipSpace(raw, end+1); {
		case i < len(raw) && raw[i] == ',':
			i = skipSpace(raw, i+1)
		case i < len(raw) && raw[i] == ']':
			return list, skipSpace(raw, i+1) == len(raw)
		default:
			return nil, false
		}
	}
	return nil, false
}

// parseNumber reads a JSON number as encoding/json does into a float64.
func parseNumber(raw []byte) (float64, error) {
	if !isJSONNumber(raw) {
		var n float64
		err := json.Unmarshal(raw, &n)
		return n, err
	}
	return strconv.ParseFloat(string(raw), 64)
}

// isJSONNumber reports whether b is exactly one JSON number literal.
func isJSONNumber(b []byte) bool {
	digits := func(i int) int {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i
	}
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(i)
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return false
		}
		i = j
	}
	return i == len(b)
}
