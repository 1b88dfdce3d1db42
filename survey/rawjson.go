package survey

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Most answers arrive as JSON in its simplest form: an option value in
// quotes, a list of them, a plain number. Reading those by hand is many
// times cheaper than encoding/json; anything else still goes through
// encoding/json, so the results and the errors stay the same.

// plainString returns the text between the quotes of a JSON string that
// needs no decoding: valid UTF-8 without escapes or control characters.
func plainString(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	s := raw[1 : len(raw)-1]
	ascii := true
	for _, b := range s {
		if b < 0x20 || b == '"' || b == '\\' {
			return nil, false
		}
		ascii = ascii && b < utf8.RuneSelf
	}
	// encoding/json replaces invalid UTF-8.
	return s, ascii || utf8.Valid(s)
}

// stringEndIn returns the index of the quote closing the string that opens
// at i, or len(b).
func stringEndIn(b []byte, i int) int {
	if j := bytes.IndexByte(b[i+1:], '"'); j >= 0 {
		return i + 1 + j
	}
	return len(b)
}

// option returns q's option whose value is v, or nil.
func (q *Question) option(v []byte) *Option {
	if k := q.optionIndex(v); k >= 0 {
		return &q.Options[k]
	}
	return nil
}

// optionIndex returns the position of q's option whose value is v, or -1.
func (q *Question) optionIndex(v []byte) int {
	for k := range q.Options {
		if q.Options[k].Value == string(v) {
			return k
		}
	}
	return -1
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
		end := stringEndIn(raw, i)
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

// parsePlainAnswers reads stored answers in the shape json.Marshal gives a
// Visit's Answers (a flat object of plain strings, numbers and lists of
// plain strings); ok is false for anything else. Keys and texts are cut
// from one copy of data, one allocation instead of one per string.
func parsePlainAnswers(data []byte) (a Answers, ok bool) {
	text := string(data)
	str := func(i int) (string, int, bool) {
		end := stringEndIn(data, i)
		if end == len(data) {
			return "", 0, false
		}
		if _, plain := plainString(data[i : end+1]); !plain {
			return "", 0, false
		}
		return text[i+1 : end], end + 1, true
	}
	i := skipSpace(data, 0)
	if i == len(data) || data[i] != '{' {
		return nil, false
	}
	a = make(Answers, bytes.Count(data, []byte(`":`)))
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return a, skipSpace(data, i+1) == len(data)
	}
	for i < len(data) && data[i] == '"' {
		key, next, ok := str(i)
		if i = skipSpace(data, next); !ok || i == len(data) || data[i] != ':' {
			return nil, false
		}
		if i = skipSpace(data, i+1); i == len(data) {
			return nil, false
		}
		switch data[i] {
		case '"':
			var s string
			if s, i, ok = str(i); !ok {
				return nil, false
			}
			a[key] = s
		case '[':
			list := []string{}
			i = skipSpace(data, i+1)
			for i < len(data) && data[i] == '"' {
				var s string
				if s, i, ok = str(i); !ok {
					return nil, false
				}
				list = append(list, s)
				if i = skipSpace(data, i); i == len(data) || data[i] != ',' {
					break
				}
				if i = skipSpace(data, i+1); i == len(data) || data[i] != '"' {
					return nil, false
				}
			}
			if i == len(data) || data[i] != ']' {
				return nil, false
			}
			a[key] = list
			i++
		default:
			end := i
			for end < len(data) && (data[end] == '-' || data[end] == '+' || data[end] == '.' || data[end] == 'e' || data[end] == 'E' || data[end] >= '0' && data[end] <= '9') {
				end++
			}
			if !isJSONNumber(data[i:end]) {
				return nil, false
			}
			x, err := strconv.ParseFloat(text[i:end], 64)
			if err != nil {
				return nil, false
			}
			a[key] = x
			i = end
		}
		switch i = skipSpace(data, i); {
		case i < len(data) && data[i] == ',':
			i = skipSpace(data, i+1)
		case i < len(data) && data[i] == '}':
			return a, skipSpace(data, i+1) == len(data)
		default:
			return nil, false
		}
	}
	return nil, false
}
