package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/papi-hcmc/papi/survey"
)

// responseFixed are the raw export's columns before the questions.
var responseFixed = []string{"id", "day", "centre_id", "questionnaire_version", "modules", "verified", "status", "sex", "age_group"}

// coarseFixed are those of the disclosure-controlled export: no id (ids
// count up, so they date a response), the month instead of the day.
var coarseFixed = []string{"month", "centre_id", "questionnaire_version", "modules", "verified", "status", "sex", "age_group"}

// ResponseRows selects the raw responses of an export.
type ResponseRows struct {
	// Commune limits to one commune; empty means every commune.
	Commune  string
	From, To string // inclusive local days
	// VerifiedOnly keeps the responses that carried a receipt;
	// IncludeFlagged adds the flagged ones to the counted ones (quarantined
	// responses are never exported).
	VerifiedOnly, IncludeFlagged bool
	// Coarse applies the disclosure rules for accounts other than admin
	// (SECURITY.md): the month instead of the day and no id, rows in an
	// order that says nothing about time, sex and age group only where at
	// least MinCell rows of the same month and centre share them, the
	// commune of residence only where at least MinCell rows share it, and
	// no free text.
	Coarse bool
}

// MinCell is the fewest rows that must share a combination of
// quasi-identifiers in a coarse export before it is shown.
const MinCell = 5

// ResponseColumns names the fields of EachResponseRow's rows: the
// response's own, then one per question of the current questionnaire (in a
// coarse export, without the free-text ones).
func (s *Store) ResponseColumns(coarse bool) []string {
	out := append([]string(nil), responseFixed...)
	if coarse {
		out = append([]string(nil), coarseFixed...)
	}
	return append(out, s.exportQuestions(coarse)...)
}

// exportQuestions are the ids of the questions an export carries.
func (s *Store) exportQuestions(coarse bool) []string {
	var ids []string
	for _, q := range s.current.Questions {
		if coarse && q.Type == survey.ShortText {
			continue
		}
		ids = append(ids, q.ID)
	}
	return ids
}

// EachResponseRow calls fn with the raw responses sel selects, as text
// fields in the order of ResponseColumns(sel.Coarse): in id order, or, in
// a coarse export, by centre and answers. Rows are scanned through
// database/sql into reused buffers and handed over one at a time, so
// memory stays flat whatever the number of rows; fn must not keep the
// slice. It returns the number of rows handed over.
func (s *Store) EachResponseRow(ctx context.Context, sel ResponseRows, fn func(row []string) error) (int, error) {
	ids := s.exportQuestions(sel.Coarse)
	where := " FROM responses WHERE day >= ? AND day <= ?"
	args := []any{sel.From, sel.To}
	if sel.Commune != "" {
		where += " AND commune_code = ?"
		args = append(args, sel.Commune)
	}
	if sel.VerifiedOnly {
		where += " AND verified"
	}
	if sel.IncludeFlagged {
		where += " AND status IN ('" + StatusCounted + "', '" + StatusFlagged + "')"
	} else {
		where += " AND status = '" + StatusCounted + "'"
	}
	var small smallCells
	if sel.Coarse {
		var err error
		if small, err = s.smallCells(ctx, where, args); err != nil {
			return 0, err
		}
	}
	query := "SELECT id, day, centre_id, questionnaire_version, modules, verified, status, sex, age_group, residence_commune, answers" + where
	if sel.Coarse {
		query += " ORDER BY centre_id, fingerprint, id"
	} else {
		query += " ORDER BY id"
	}
	rows, err := s.read.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return 0, fmt.Errorf("read responses: %w", err)
	}
	defer rows.Close()
	var (
		id, centre                             int64
		day, version, modules, status, sex, ag sql.RawBytes
		residence                              sql.RawBytes
		verified                               bool
		answers                                sql.RawBytes
		n                                      int
	)
	fixed := len(responseFixed)
	if sel.Coarse {
		fixed = len(coarseFixed)
	}
	residenceAt := slices.Index(ids, survey.ResidenceCommuneQuestion)
	columns := survey.NewAnswerColumns(ids)
	line := make([]string, fixed+len(ids))
	for rows.Next() {
		if err := rows.Scan(&id, &day, &centre, &version, &modules, &verified, &status, &sex, &ag, &residence, &answers); err != nil {
			return n, fmt.Errorf("read responses: %w", err)
		}
		if err := columns.Cells(answers, line[fixed:]); err != nil {
			return n, fmt.Errorf("response %d: %w", id, err)
		}
		// The columns after id and day (or month) are the same in both.
		head := line
		if sel.Coarse {
			head[0] = string(day[:min(7, len(day))])
		} else {
			line[0] = strconv.FormatInt(id, 10)
			head = line[1:]
			head[0] = string(day)
		}
		head[1], head[2], head[3] = strconv.FormatInt(centre, 10), string(version), strings.ReplaceAll(string(modules), ",", " ")
		head[4], head[5], head[6], head[7] = strconv.FormatBool(verified), string(status), string(sex), string(ag)
		if sel.Coarse {
			month := head[0]
			if small.profile[profileKey{month, centre, head[6], head[7]}] < MinCell {
				head[6], head[7] = "", ""
			}
			if residenceAt >= 0 && small.residence[residenceKey{month, centre, string(residence)}] < MinCell {
				line[fixed+residenceAt] = ""
			}
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

type profileKey struct {
	month       string
	centre      int64
	sex, ageGrp string
}

type residenceKey struct {
	month     string
	centre    int64
	residence string
}

// smallCells counts, for a coarse export, the rows sharing each month,
// centre, sex and age group, and each month, centre and commune of
// residence.
type smallCells struct {
	profile   map[profileKey]int
	residence map[residenceKey]int
}

func (s *Store) smallCells(ctx context.Context, where string, args []any) (smallCells, error) {
	out := smallCells{profile: map[profileKey]int{}, residence: map[residenceKey]int{}}
	rows, err := s.read.WithContext(ctx).Raw("SELECT substr(day, 1, 7), centre_id, COALESCE(sex, ''), COALESCE(age_group, ''), residence_commune, COUNT(*)"+where+
		" GROUP BY substr(day, 1, 7), centre_id, COALESCE(sex, ''), COALESCE(age_group, ''), residence_commune", args...).Rows()
	if err != nil {
		return out, fmt.Errorf("count responses for a coarse export: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var month, sex, ag, residence string
		var centre int64
		var n int
		if err := rows.Scan(&month, &centre, &sex, &ag, &residence, &n); err != nil {
			return out, fmt.Errorf("count responses for a coarse export: %w", err)
		}
		out.profile[profileKey{month, centre, sex, ag}] += n
		out.residence[residenceKey{month, centre, residence}] += n
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("count responses for a coarse export: %w", err)
	}
	return out, nil
}
