package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/papi-hcmc/papi/survey"
)

// Assignment is the set of modules one form load was given, kept in the
// database so that a reload keeps it, every papi process sees the same, and
// the probabilities behind it weigh the answers. Completed counts the
// responses submitted with it.
type Assignment struct {
	// ID is an unguessable token; the form echoes it in the submission.
	ID       string `json:"id"`
	CentreID uint   `json:"centre_id"`
	// Modules are core plus the rotating modules drawn (every module when
	// Full).
	Modules []string `json:"modules"`
	// Probs are the probabilities with which the rotating modules were
	// drawn; a module not listed was certain.
	Probs     map[string]float64 `json:"probs,omitempty"`
	Full      bool               `json:"full"`
	Completed int64              `json:"completed"`
	// CreatedAt is kept to the minute.
	CreatedAt time.Time `json:"created_at"`
}

type assignmentRow struct {
	ID        string `gorm:"primaryKey"`
	CentreID  uint
	Modules   string
	Probs     string
	FullForm  bool
	Completed int64
	CreatedAt time.Time
}

func (assignmentRow) TableName() string { return "assignments" }

func (r assignmentRow) assignment() (Assignment, error) {
	probs, err := parseProbs(r.Probs)
	if err != nil {
		return Assignment{}, fmt.Errorf("assignment %s: %w", r.ID, err)
	}
	return Assignment{ID: r.ID, CentreID: r.CentreID, Modules: splitList(r.Modules), Probs: probs, Full: r.FullForm,
		Completed: r.Completed, CreatedAt: r.CreatedAt}, nil
}

// CreateAssignment records the modules given to one form load at a centre
// and returns it with its new id. The modules must be modules of the current
// questionnaire and include core; each probability must be in (0, 1] and
// belong to one of the modules.
func (s *Store) CreateAssignment(ctx context.Context, a Assignment) (Assignment, error) {
	if _, err := s.Centre(ctx, a.CentreID); err != nil {
		return Assignment{}, err
	}
	if !slices.Contains(a.Modules, survey.CoreModule) {
		return Assignment{}, survey.Invalid("modules", "Phần hỏi phải gồm phần chung (core).", "The modules must include core.")
	}
	for _, m := range a.Modules {
		if _, ok := s.current.Module(m); !ok {
			return Assignment{}, survey.Invalid("modules", "Phần hỏi "+m+" không có trong bảng hỏi.", "Module "+m+" is not part of the questionnaire.")
		}
	}
	for m := range a.Probs {
		if !slices.Contains(a.Modules, m) {
			return Assignment{}, survey.Invalid("probs", "Xác suất cho phần hỏi không được giao: "+m+".", "A probability is given for a module not assigned: "+m+".")
		}
	}
	if err := checkProbs(s.current, a.Probs); err != nil {
		return Assignment{}, err
	}
	mods := slices.Clone(a.Modules)
	slices.Sort(mods)
	a.Modules = slices.Compact(mods)
	a.ID, a.Completed, a.CreatedAt = newToken(), 0, s.now().UTC().Truncate(time.Minute)
	row := assignmentRow{ID: a.ID, CentreID: a.CentreID, Modules: strings.Join(a.Modules, ","), Probs: formatProbs(a.Probs),
		FullForm: a.Full, CreatedAt: a.CreatedAt}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return Assignment{}, fmt.Errorf("create assignment: %w", err)
	}
	return a, nil
}

// Assignment returns an assignment by id; an unknown id is ENOTFOUND.
func (s *Store) Assignment(ctx context.Context, id string) (Assignment, error) {
	var r assignmentRow
	if err := s.read.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return Assignment{}, translate(err, survey.Text{Vi: "lượt giao phần hỏi", En: "Assignment"})
	}
	return r.assignment()
}

// applyAssignments reads the assignments the batch's items name (one
// query) and gives each item its assignment's modules and probabilities:
// the server's record, not the client's list. An item naming an unknown
// assignment, one of another centre, or answering a module it was not
// given is refused alone.
func (s *Store) applyAssignments(ctx context.Context, pool gorm.ConnPool, items []*item, out []Result) error {
	q := newQuery(s.postgres)
	n := 0
	q.WriteString("SELECT id, centre_id, modules, probs FROM assignments WHERE id IN (")
	for _, it := range items {
		if it.done || it.row.AssignmentID == nil {
			continue
		}
		if n > 0 {
			q.WriteString(", ")
		}
		q.arg(*it.row.AssignmentID)
		n++
	}
	if n == 0 {
		return nil
	}
	q.WriteString(")")
	rows, err := pool.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return fmt.Errorf("read assignments: %w", err)
	}
	found := map[string]assignmentRow{}
	for rows.Next() {
		var r assignmentRow
		var centre int64
		if err := rows.Scan(&r.ID, &centre, &r.Modules, &r.Probs); err != nil {
			rows.Close()
			return fmt.Errorf("read assignments: %w", err)
		}
		r.CentreID = uint(centre)
		found[r.ID] = r
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("read assignments: %w", err)
	}
	for _, it := range items {
		if it.done || it.row.AssignmentID == nil {
			continue
		}
		a, ok := found[*it.row.AssignmentID]
		if !ok || a.CentreID != it.row.CentreID {
			out[it.index].Err, it.done = survey.Invalid("assignment_id", "Lượt giao phần hỏi không đúng với trung tâm này; vui lòng tải lại trang.", "The assignment is not one of this centre's; reload the form."), true
			continue
		}
		if err := s.useAssignment(it, a); err != nil {
			out[it.index].Err, it.done = err, true
		}
	}
	return nil
}

// useAssignment gives the item the assignment's modules and probabilities.
func (s *Store) useAssignment(it *item, a assignmentRow) error {
	modules := splitList(a.Modules)
	probs, err := parseProbs(a.Probs)
	if err != nil {
		return fmt.Errorf("assignment %s: %w", a.ID, err)
	}
	cat := s.catalogues[it.row.QuestionnaireVersion]
	for id := range it.visit.Answers {
		q, ok := cat.Question(id)
		if ok && !slices.Contains(modules, q.Module) {
			return survey.Invalid("answers."+id, "Câu hỏi này không thuộc các phần hỏi đã giao cho lượt trả lời này.", "This question is not part of the modules this form was given.")
		}
	}
	if err := checkProbs(cat, probs); err != nil {
		return err
	}
	if a.Modules != it.row.Modules || a.Probs != it.row.Probs {
		it.credited = false // worked out again from the assigned modules
	}
	it.visit.Modules, it.visit.Probs = modules, probs
	it.row.Modules, it.row.Probs = a.Modules, a.Probs
	return nil
}

// completeAssignments adds the stored items to their assignments' completed
// counts with one statement.
func (s *Store) completeAssignments(ctx context.Context, pool gorm.ConnPool, items []*item, inserted map[*item]uint64) error {
	done := map[string]int64{}
	for _, it := range items {
		if _, ok := inserted[it]; ok && it.row.AssignmentID != nil {
			done[*it.row.AssignmentID]++
		}
	}
	if len(done) == 0 {
		return nil
	}
	ids := make([]string, 0, len(done))
	for id := range done {
		ids = append(ids, id)
	}
	slices.Sort(ids) // a fixed lock order between processes
	q := newQuery(s.postgres)
	q.WriteString("UPDATE assignments SET completed = completed + CASE id")
	for _, id := range ids {
		q.WriteString(" WHEN ")
		q.arg(id)
		q.WriteString(" THEN ")
		q.arg(done[id])
		if s.postgres {
			q.WriteString("::bigint")
		}
	}
	q.WriteString(" ELSE 0 END WHERE id IN (")
	for i, id := range ids {
		if i > 0 {
			q.WriteString(", ")
		}
		q.arg(id)
	}
	q.WriteString(")")
	if _, err := pool.ExecContext(ctx, q.String(), q.args...); err != nil {
		return fmt.Errorf("count assignment completions: %w", err)
	}
	return nil
}

// Completions returns, per commune, how many counted visits answered each
// module over the filter's period (the adaptive assignment policy balances
// modules with it). It reads the tallies, not the responses.
func (s *Store) Completions(ctx context.Context, f Filter) (map[string]map[string]int64, error) {
	t, err := s.Tallies(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]int64, len(t.Communes))
	for c, ct := range t.Communes {
		if len(ct.Modules) > 0 {
			out[c] = ct.Modules
		}
	}
	return out, nil
}
