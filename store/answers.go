package store

import (
	"bytes"
	"strconv"

	"github.com/papi-hcmc/papi/survey"
)

// parseAnswers reads stored answers (json.Marshal of survey.Answers), as
// recompute does for every response: the common shape — a flat object
// of strings, numbers and lists of strings without escapes — is cut out in
// place, several times faster than encoding/json; anything else goes to
// survey.ParseAnswers, which gives the same result more slowly.
func parseAnswers(data []byte) (survey.Answers, error) {
	if a, ok := parseAnswersFast(data); ok {
		return a, nil
	}
	return survey.ParseAnswers(data)
}

func parseAnswersFast(b []byte) (survey.Answers, bool) {
	if bytes.IndexByte(b, '\\') >= 0 {
		return nil, false
	}
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, false
	}
	out := survey.Answers{}
	i, end := 1, len(b)-1
	for i < end {
		if b[i] != '"' {
			return nil, false
		}
		j := bytes.IndexByte(b[i+1:end], '"')
		if j < 0 || i+2+j >= end || b[i+2+j] != ':' {
			return nil, false
		}
		key := string(b[i+1 : i+1+j])
		i += j + 3
		if i >= end {
			return nil, false
		}
		switch c := b[i]; {
		case c == '"':
			k := bytes.IndexByte(b[i+1:end], '"')
			if k < 0 {
				return nil, false
			}
			out[key] = string(b[i+1 : i+1+k])
			i += k + 2
		case c == '[':
			list := []string{}
			i++
			for i < end && b[i] != ']' {
				if b[i] == ',' {
					i++
					continue
				}
				if b[i] != '"' {
					return nil, false
				}
				k := bytes.IndexByte(b[i+1:end], '"')
				if k < 0 {
					return nil, false
				}
				list = append(list, string(b[i+1:i+1+k]))
				i += k + 2
			}
			if i >= end {
				return nil, false
			}
			out[key] = list
			i++
		case c == '-' || c >= '0' && c <= '9':
			k := i
			for k < end && b[k] != ',' {
				k++
			}
			x, err := strconv.ParseFloat(string(b[i:k]), 64)
			if err != nil {
				return nil, false
			}
			out[key] = x
			i = k
		default:
			return nil, false
		}
		if i < end {
			if b[i] != ',' {
				return nil, false
			}
			i++
		}
	}
	return out, true
}
