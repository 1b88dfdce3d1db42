package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/papi-hcmc/papi/survey"
)

// responseFixed are the raw export's columns before the questions.
var responseFixed = []string{"id", "day", "centre_id", "questionnaire_version", "modules", "verified", "status", "sex", "age_group"}

// ResponseColumns names the fields of EachResponseRow's rows: the
// response's own, then one per question of the current questionnaire.
func (s *Store) ResponseColumns() []string {
	out := append([]string(nil), responseFixed...)
	for _, q := range s.current.Questions {
		out = append(out, q.ID)
	}
	return out
}

// EachResponseRow calls fn with the raw responses of a commune (all
// communes when commune is empty) in a day range, in id order, as text
// fields in the order of ResponseColumns. Rows are scanned through
// database/sql into reused buffers and handed over one at a time, so
// memory stays flat whatever the number of rows; fn must not keep the
// slice. It returns the number of rows handed over.
func (s *Store) EachResponseRow(ctx context.Context, commune, from, to string, fn func(row []string) error) (int, error) {
	cat := s.current
	ids := make([]string, len(cat.Questions))
	for i, q := range cat.Questions {
		ids[i] = q.ID
	}
	query := "SELECT id, day, centre_id, questionnaire_version, modules, verified, status, sex, age_group, answers FROM responses WHERE day >= ? AND day <= ?"
	args := []any{from, to}
	if commune != "" {
		query += " AND commune_code = ?"
		args = append(args, commune)
	}
	query += " ORDER BY id"
	rows, err := s.read.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return 0, fmt.Errorf("read responses: %w", err)
	}
	defer rows.Close()
	var (
		id, centre                             int64
		day, version, modules, status, sex, ag sql.RawBytes
		verified                               bool
		answers                                sql.RawBytes
		n                                      int
	)
	line := make([]string, len(responseFixed)+len(ids))
	for rows.Next() {
		if err := rows.Scan(&id, &day, &centre, &version, &modules, &verified, &status, &sex, &ag, &answers); err != nil {
			return n, fmt.Errorf("read responses: %w", err)
		}
		line[0], line[1], line[2] = strconv.FormatInt(id, 10), string(day), strconv.FormatInt(centre, 10)
		line[3], line[4], line[5] = string(version), strings.ReplaceAll(string(modules), ",", " "), strconv.FormatBool(verified)
		line[6], line[7], line[8] = string(status), string(sex), string(ag)
		if err := survey.AnswerCells(answers, ids, line[len(responseFixed):]); err != nil {
			return n, fmt.Errorf("response %d: %w", id, err)
		}
		if err := fn(line); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("read responses: %w", err)
	}
	return n, nil
}
