package survey

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// AnswerColumns places stored answers in an export's columns, one per
// question: built once for an export, it finds each answered question's
// column with one map look-up, so a row costs its answers, not its columns.
type AnswerColumns struct {
	index map[string]int
}

// NewAnswerColumns indexes the question ids of an export's columns.
func NewAnswerColumns(ids []string) *AnswerColumns {
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		index[id] = i
	}
	return &AnswerColumns{index: index}
}

// Cells turns stored answers (the JSON object a Visit's Answers marshal
// to: question id → string, number or list of strings) into one text cell
// per column: a list becomes its values separated by spaces, an unanswered
// question an empty cell. It reads the bytes in place, without building
// maps, because an export does it for every stored response.
func (a *AnswerColumns) Cells(data []byte, cells []string) error {
	pairs, err := scanObject(data)
	if err != nil {
		return err
	}
	clear(cells)
	for _, p := range pairs {
		i, ok := a.index[string(p.key)]
		if !ok {
			continue
		}
		if cells[i], err = cellText(p.val); err != nil {
			return err
		}
	}
	return nil
}

type rawPair struct{ key, val []byte }

var errStoredAnswers = errors.New("stored answers are not a JSON object of answers")

// scanObject splits a flat JSON object into key and raw value slices, in the
// order written.
func scanObject(data []byte) ([]rawPair, error) {
	data = bytes.TrimSpace(data)
	if len(data) < 2 || data[0] != '{' || data[len(data)-1] != '}' {
		return nil, errStoredAnswers
	}
	var out []rawPair
	i := 1
	for {
		i = skipSpace(data, i)
		if i >= len(data)-1 {
			break
		}
		if data[i] == ',' {
			i++
			continue
		}
		end, err := stringEnd(data, i)
		if err != nil {
			return nil, err
		}
		key := data[i+1 : end]
		i = skipSpace(data, end+1)
		if i >= len(data) || data[i] != ':' {
			return nil, errStoredAnswers
		}
		i = skipSpace(data, i+1)
		start := i
		switch {
		case i < len(data) && data[i] == '"':
			if i, err = stringEnd(data, i); err != nil {
				return nil, err
			}
			i++
		case i < len(data) && data[i] == '[':
			for i++; i < len(data) && data[i] != ']'; i++ {
				if data[i] == '"' {
					if i, err = stringEnd(data, i); err != nil {
						return nil, err
					}
				}
			}
			if i >= len(data) {
				return nil, errStoredAnswers
			}
			i++
		default:
			for i < len(data)-1 && data[i] != ',' && data[i] != '}' {
				i++
			}
		}
		out = append(out, rawPair{key, bytes.TrimSpace(data[start:i])})
	}
	return out, nil
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t' || data[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index of the quote closing the string that opens at i.
func stringEnd(data []byte, i int) (int, error) {
	if i >= len(data) || data[i] != '"' {
		return 0, errStoredAnswers
	}
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j, nil
		}
	}
	return 0, errStoredAnswers
}

// cellText writes one raw JSON answer value as export text.
func cellText(v []byte) (string, error) {
	switch {
	case len(v) == 0:
		return "", nil
	case v[0] == '"':
		if bytes.IndexByte(v, '\\') < 0 {
			return string(v[1 : len(v)-1]), nil
		}
		var s string
		err := json.Unmarshal(v, &s)
		return s, err
	case v[0] == '[':
		var b strings.Builder
		for i := 1; i < len(v); i++ {
			if v[i] != '"' {
				continue
			}
			end, err := stringEnd(v, i)
			if err != nil {
				return "", err
			}
			s, err := cellText(v[i : end+1])
			if err != nil {
				return "", err
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(s)
			i = end
		}
		return b.String(), nil
	case bytes.Equal(v, []byte("null")):
		return "", nil
	}
	return string(v), nil
}
