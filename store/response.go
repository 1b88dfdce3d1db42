package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/papi-hcmc/papi/survey"
)

// Response statuses. Only counted responses feed the aggregates; flagged and
// quarantined ones are kept, never deleted, and can be released by an admin.
const (
	StatusCounted     = "counted"
	StatusFlagged     = "flagged"
	StatusQuarantined = "quarantined"
)

type responseRow struct {
	ID uint64 `gorm:"primaryKey"`
	// SubmissionID is chosen by the resident's browser; a retry of the same
	// submission carries the same id and is stored once.
	SubmissionID         string `gorm:"not null;uniqueIndex;size:64"`
	CentreID             uint   `gorm:"not null;index:idx_responses_centre_created,priority:1;index:idx_responses_centre_fingerprint,priority:1"`
	CommuneCode          string `gorm:"not null;size:5;index:idx_responses_commune_day,priority:1"`
	Day                  string `gorm:"not null;size:10;index:idx_responses_commune_day,priority:2"`
	QuestionnaireVersion string `gorm:"not null;size:32"`
	Modules              string `gorm:"not null"`
	Answers              string `gorm:"not null"`
	Sex                  string `gorm:"size:16"`
	AgeGroup             string `gorm:"size:16"`
	Lang                 string `gorm:"size:8"`
	DurationMS           int64
	Verified             bool   `gorm:"not null"`
	Status               string `gorm:"not null;size:16;index"`
	Flags                string
	// Fingerprint is a hash of the answer set, to spot the same answers
	// sent again and again at one centre.
	Fingerprint string    `gorm:"size:16;index:idx_responses_centre_fingerprint,priority:2"`
	CreatedAt   time.Time `gorm:"not null;index:idx_responses_centre_created,priority:2"`
}

func (responseRow) TableName() string { return "responses" }

// NewResponse is a validated visit ready to store. It carries no name, phone
// number or IP address: residents are anonymous.
type NewResponse struct {
	SubmissionID string
	Centre       Centre
	Version      string
	Visit        survey.Visit
	Lang         string
	DurationMS   int64
	// Receipt is a one-time code from a finished procedure; a valid one
	// makes the response verified.
	Receipt string
	// Flags name the anomaly checks the response tripped; a flagged
	// response is stored but not counted.
	Flags []string
	// At backdates a synthetic response (papi demo); zero means now.
	At time.Time
}

// Response is a stored response.
type Response struct {
	ID                   uint64         `json:"id"`
	SubmissionID         string         `json:"submission_id"`
	CentreID             uint           `json:"centre_id"`
	CommuneCode          string         `json:"commune_code"`
	Day                  string         `json:"day"`
	QuestionnaireVersion string         `json:"questionnaire_version"`
	Modules              []string       `json:"modules"`
	Answers              survey.Answers `json:"answers"`
	Sex                  string         `json:"sex,omitempty"`
	AgeGroup             string         `json:"age_group,omitempty"`
	DurationMS           int64          `json:"duration_ms,omitempty"`
	Verified             bool           `json:"verified"`
	Status               string         `json:"status"`
	Flags                []string       `json:"flags,omitempty"`
	CreatedAt            time.Time      `json:"created_at"`
}

func (r *responseRow) response() (Response, error) {
	ans, err := survey.ParseAnswers([]byte(r.Answers))
	if err != nil {
		return Response{}, err
	}
	return Response{
		ID: r.ID, SubmissionID: r.SubmissionID, CentreID: r.CentreID, CommuneCode: r.CommuneCode, Day: r.Day,
		QuestionnaireVersion: r.QuestionnaireVersion, Modules: splitList(r.Modules), Answers: ans,
		Sex: r.Sex, AgeGroup: r.AgeGroup, DurationMS: r.DurationMS, Verified: r.Verified, Status: r.Status,
		Flags: splitList(r.Flags), CreatedAt: r.CreatedAt,
	}, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// CreateResponse stores a response once. It returns the id and whether this
// call stored it: a submission id seen before returns the first id and
// created false, storing nothing. The response, its receipt and its share of
// the aggregates are written in one transaction, so a failure leaves nothing.
//
// Concurrent calls are committed together (group commit): the writer takes
// every submission waiting when it is free and stores them in one
// transaction, so a busy centre costs one commit per batch, not per answer.
func (s *Store) CreateResponse(ctx context.Context, in NewResponse) (id uint64, created bool, err error) {
	r := s.Submit(ctx, in)
	return r.ID, r.Created, r.Err
}

// Submit is CreateResponse with the whole outcome, including whether the
// anomaly checks flagged the response.
func (s *Store) Submit(ctx context.Context, in NewResponse) Result {
	p := &pending{ctx: ctx, in: in, done: make(chan Result, 1)}
	// The read lock keeps Close from finishing while a submission is being
	// queued, so nothing is queued after the writer's last drain.
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return Result{Err: errClosed}
	}
	select {
	case s.queue <- p:
		s.closeMu.RUnlock()
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return Result{Err: ctx.Err()}
	}
	select {
	case r := <-p.done:
		return r
	case <-ctx.Done():
		// The batch may still store it; a retry of the same submission id
		// then gets the stored id.
		return Result{Err: ctx.Err()}
	}
}

var errClosed = errors.New("the database is closed")

// Result is the outcome of one response of CreateResponses.
type Result struct {
	ID      uint64
	Created bool
	// Flagged is set when the anomaly checks held the response back.
	Flagged bool
	Err     error
}

type pending struct {
	ctx  context.Context
	in   NewResponse
	done chan Result
}

// maxBatch bounds one group commit.
const maxBatch = 128

// writeLoop is the single writer: it stores queued submissions in batches
// until the store closes, then finishes what is queued.
func (s *Store) writeLoop() {
	defer close(s.stopped)
	batch := make([]*pending, 0, maxBatch)
	for {
		var first *pending
		select {
		case first = <-s.queue:
		case <-s.closing:
			for {
				select {
				case p := <-s.queue:
					s.commit([]*pending{p})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	drain:
		for len(batch) < maxBatch {
			select {
			case p := <-s.queue:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		s.commit(batch)
	}
}

// commit stores a batch in one transaction. Items whose request was given up
// before its turn are skipped. An item refused for its own reason (a used
// receipt) fails alone; a database error fails the whole batch, and nothing
// of it is stored.
func (s *Store) commit(batch []*pending) {
	live := batch[:0:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.done <- Result{Err: err}
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	ins := make([]NewResponse, len(live))
	for i, p := range live {
		ins[i] = p.in
	}
	results, err := s.CreateResponses(context.Background(), ins)
	for i, p := range live {
		if err != nil {
			p.done <- Result{Err: err}
			continue
		}
		p.done <- results[i]
	}
}

// CreateResponses stores several responses in one transaction (see
// CreateResponse); results are in the order given. papi demo and
// benchmarks use it directly to load data fast.
func (s *Store) CreateResponses(ctx context.Context, ins []NewResponse) ([]Result, error) {
	out := make([]Result, len(ins))
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		buf := newAggBuffer()
		for i, in := range ins {
			r := s.insertOne(tx, in, buf)
			if r.Err != nil && survey.ErrorCode(r.Err) == survey.EINTERNAL {
				return r.Err
			}
			out[i] = r
		}
		return buf.flush(tx)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// insertOne stores one response inside the batch's transaction and adds its
// observations to the batch's aggregate buffer.
func (s *Store) insertOne(tx *gorm.DB, in NewResponse, buf *aggBuffer) Result {
	cat, ok := s.catalogues[in.Version]
	if !ok {
		return Result{Err: survey.Invalid("questionnaire_version", "Phiên bản bảng hỏi không tồn tại.", "Unknown questionnaire version.")}
	}
	answers, err := json.Marshal(in.Visit.Answers)
	if err != nil {
		return Result{Err: err}
	}
	now := s.now().UTC()
	if !in.At.IsZero() {
		now = in.At.UTC()
	}
	row := responseRow{
		SubmissionID: in.SubmissionID, CentreID: in.Centre.ID, CommuneCode: in.Centre.CommuneCode,
		Day: survey.LocalDay(now), QuestionnaireVersion: in.Version, Modules: strings.Join(in.Visit.Modules, ","),
		Answers: string(answers), Sex: in.Visit.Sex, AgeGroup: in.Visit.AgeGroup, Lang: in.Lang,
		DurationMS: in.DurationMS, Status: StatusCounted, CreatedAt: now, Fingerprint: survey.Fingerprint(in.Visit.Answers),
	}
	var prior responseRow
	switch err := tx.Select("id", "status").Where("submission_id = ?", in.SubmissionID).Take(&prior).Error; {
	case err == nil:
		return Result{ID: prior.ID, Flagged: prior.Status == StatusFlagged}
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return Result{Err: err}
	}
	flags := in.Flags
	if in.Receipt != "" {
		if err := consumeReceipt(tx, in.Centre.ID, in.Receipt, now); err != nil {
			return Result{Err: err}
		}
		row.Verified = true
	} else {
		screened, err := screen(tx, &row, len(in.Visit.Answers))
		if err != nil {
			return Result{Err: err}
		}
		flags = append(flags, screened...)
	}
	if len(flags) > 0 {
		row.Status, row.Flags = StatusFlagged, strings.Join(flags, ",")
	}
	if err := tx.Create(&row).Error; err != nil {
		return Result{Err: err}
	}
	buf.add(cat, &row, in.Visit, +1)
	return Result{ID: row.ID, Created: true, Flagged: row.Status == StatusFlagged}
}

// screen runs the anomaly checks on an unverified response, counting recent
// traffic at its centre inside the caller's transaction.
func screen(tx *gorm.DB, r *responseRow, answered int) ([]string, error) {
	in := survey.ScreenInput{At: r.CreatedAt, DurationMS: r.DurationMS, Answered: answered}
	// One pass over the centre's recent responses (DuplicateWindow is the
	// longer window) counts both the burst and the repeated answer sets.
	var counts struct {
		Recent int64
		Same   int64
	}
	err := tx.Model(&responseRow{}).
		Select("COALESCE(SUM(CASE WHEN verified = ? AND created_at > ? THEN 1 ELSE 0 END), 0) AS recent, "+
			"COALESCE(SUM(CASE WHEN fingerprint = ? THEN 1 ELSE 0 END), 0) AS same",
			false, r.CreatedAt.Add(-survey.BurstWindow), r.Fingerprint).
		Where("centre_id = ? AND created_at > ? AND created_at <= ?", r.CentreID, r.CreatedAt.Add(-max(survey.DuplicateWindow, survey.BurstWindow)), r.CreatedAt).
		Scan(&counts).Error
	if err != nil {
		return nil, err
	}
	in.RecentAtCentre, in.SameAnswers = counts.Recent, counts.Same
	return survey.Screen(in), nil
}

// Flagged lists responses with the given status (flagged or quarantined),
// newest first, for an admin's review.
func (s *Store) Flagged(ctx context.Context, status string, limit int) ([]Response, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	var rows []responseRow
	if err := s.read.WithContext(ctx).Where("status = ?", status).Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Response, 0, len(rows))
	for i := range rows {
		r, err := rows[i].response()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// SetStatus moves a response between counted, flagged and quarantined,
// adding it to or removing it from the aggregates and writing actor's audit
// row in the same transaction. Nothing is ever deleted.
func (s *Store) SetStatus(ctx context.Context, actor string, id uint64, status string) (Response, error) {
	if status != StatusCounted && status != StatusFlagged && status != StatusQuarantined {
		return Response{}, survey.Invalid("status", "Trạng thái không hợp lệ.", "Unknown status.")
	}
	var out Response
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r responseRow
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			return translate(err, survey.Text{Vi: "phiếu trả lời", En: "Response"})
		}
		if r.Status != status {
			cat, ok := s.catalogues[r.QuestionnaireVersion]
			if !ok {
				return fmt.Errorf("response %d uses unknown questionnaire %s", r.ID, r.QuestionnaireVersion)
			}
			ans, err := survey.ParseAnswers([]byte(r.Answers))
			if err != nil {
				return err
			}
			// Out of the aggregates under the old status, in under the new
			// one (the buffer keys each change by the status at that moment).
			visit := survey.Visit{Modules: splitList(r.Modules), Answers: ans}
			buf := newAggBuffer()
			buf.add(cat, &r, visit, -1)
			r.Status = status
			buf.add(cat, &r, visit, +1)
			if err := buf.flush(tx); err != nil {
				return err
			}
			if err := tx.Model(&responseRow{}).Where("id = ?", id).Update("status", status).Error; err != nil {
				return err
			}
			if err := s.writeAudit(tx, actor, statusAction[status], fmt.Sprintf("response %d (%s)", r.ID, r.CommuneCode)); err != nil {
				return err
			}
		}
		var err error
		out, err = r.response()
		return err
	})
	return out, err
}

// statusAction names a move to a status in the audit log.
var statusAction = map[string]string{StatusCounted: "release", StatusQuarantined: "quarantine", StatusFlagged: "flag"}

// ResponseCount counts stored responses, optionally of one commune.
func (s *Store) ResponseCount(ctx context.Context, communeCode string) (int64, error) {
	q := s.read.WithContext(ctx).Model(&responseRow{})
	if communeCode != "" {
		q = q.Where("commune_code = ?", communeCode)
	}
	var n int64
	err := q.Count(&n).Error
	return n, err
}

// ResponseBySubmission returns the response stored for a submission id.
func (s *Store) ResponseBySubmission(ctx context.Context, submissionID string) (Response, error) {
	var r responseRow
	if err := s.read.WithContext(ctx).Where("submission_id = ?", submissionID).Take(&r).Error; err != nil {
		return Response{}, translate(err, survey.Text{Vi: "phiếu trả lời", En: "Response"})
	}
	return r.response()
}

// EachResponse streams a commune's responses in a day range (inclusive, both
// "YYYY-MM-DD"; empty commune means all) in id order without holding them
// all in memory.
func (s *Store) EachResponse(ctx context.Context, communeCode, from, to string, fn func(Response) error) error {
	q := s.read.WithContext(ctx).Model(&responseRow{}).Where("day >= ? AND day <= ?", from, to)
	if communeCode != "" {
		q = q.Where("commune_code = ?", communeCode)
	}
	rows, err := q.Order("id").Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r responseRow
		if err := s.read.ScanRows(rows, &r); err != nil {
			return err
		}
		resp, err := r.response()
		if err != nil {
			return err
		}
		if err := fn(resp); err != nil {
			return err
		}
	}
	return rows.Err()
}
