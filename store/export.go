package store

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/papi-hcmc/papi/survey"
)

// utf8BOM makes Excel read a CSV file as UTF-8, so Vietnamese shows right.
const utf8BOM = "\ufeff"

// WriteResponsesCSV streams the raw responses of a commune (all communes
// when commune is empty) in a day range as CSV: one row per response, one
// column per question of the current questionnaire. Rows go out as they are
// read, through database/sql with reused buffers, so memory stays flat
// whatever the number of rows. It returns the number of rows written.
func (s *Store) WriteResponsesCSV(ctx context.Context, w io.Writer, commune, from, to string) (int, error) {
	cat := s.current
	ids := make([]string, len(cat.Questions))
	for i, q := range cat.Questions {
		ids[i] = q.ID
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(utf8BOM); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(bw)
	fixed := []string{"id", "day", "centre_id", "questionnaire_version", "modules", "verified", "status", "sex", "age_group"}
	if err := cw.Write(append(append([]string(nil), fixed...), ids...)); err != nil {
		return 0, err
	}
	sqlDB, err := s.read.DB()
	if err != nil {
		return 0, fmt.Errorf("export responses: %w", err)
	}
	query := "SELECT id, day, centre_id, questionnaire_version, modules, verified, status, sex, age_group, answers FROM responses WHERE day >= ? AND day <= ?"
	args := []any{from, to}
	if commune != "" {
		query += " AND commune_code = ?"
		args = append(args, commune)
	}
	query += " ORDER BY id"
	if s.postgres {
		query = rebind(query)
	}
	rows, err := sqlDB.QueryContext(ctx, query, args...)
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
	line := make([]string, len(fixed)+len(ids))
	for rows.Next() {
		if err := rows.Scan(&id, &day, &centre, &version, &modules, &verified, &status, &sex, &ag, &answers); err != nil {
			return n, fmt.Errorf("read responses: %w", err)
		}
		line[0], line[1], line[2] = strconv.FormatInt(id, 10), string(day), strconv.FormatInt(centre, 10)
		line[3], line[4], line[5] = string(version), strings.ReplaceAll(string(modules), ",", " "), strconv.FormatBool(verified)
		line[6], line[7], line[8] = string(status), string(sex), string(ag)
		if err := survey.AnswerCells(answers, ids, line[len(fixed):]); err != nil {
			return n, fmt.Errorf("response %d: %w", id, err)
		}
		if err := cw.Write(line); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("export responses: read: %w", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// rebind turns ? placeholders into PostgreSQL's $1, $2, ….
func rebind(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
