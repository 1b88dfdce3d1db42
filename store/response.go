package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/papi-hcmc/papi/survey"
)

// Response statuses as stored (survey.Status says what each means and
// which moves an admin may make).
const (
	StatusCounted     = string(survey.StatusCounted)
	StatusFlagged     = string(survey.StatusFlagged)
	StatusQuarantined = string(survey.StatusQuarantined)
)

type responseRow struct {
	ID uint64 `gorm:"primaryKey"`
	// SubmissionID is chosen by the resident's browser; a retry of the same
	// submission carries the same id and is stored once.
	SubmissionID string
	// CentreID is the centre visited; 0 for a household interview, whose
	// commune comes from its answers.
	CentreID             uint
	CommuneCode          string
	Day                  string
	QuestionnaireVersion string
	Modules              string
	Answers              string
	Sex                  string
	AgeGroup             string
	Lang                 string
	// DurationMS is rounded to whole seconds and CreatedAt truncated to the
	// minute: screening needs no more, and a precise time could be matched
	// with a queue ticket or a camera.
	DurationMS int64
	Verified   bool
	Status     string
	Flags      string
	// Fingerprint is a hash of the answer set, to spot the same answers
	// sent again and again at one centre.
	Fingerprint      string
	CreatedAt        time.Time
	Channel          string
	Residence        string
	ResidenceCommune string
	// Probs are the probabilities with which the rotating modules were
	// assigned ("d3=0.21,d5=0.4"), the basis of the design weights.
	Probs        string
	AssignmentID *string
	// KioskID is the enrolled kiosk the answers came from; nil otherwise.
	KioskID *uint
}

func (responseRow) TableName() string { return "responses" }

// NewResponse is a validated visit ready to store. It carries no name, phone
// number or IP address: residents are anonymous.
type NewResponse struct {
	SubmissionID string
	// Centre is the centre visited. A household interview (imported from
	// ODK) has none: leave Centre zero and give its commune in CommuneCode.
	Centre      Centre
	CommuneCode string
	Version     string
	// Visit holds the answers with the respondent's residence and the
	// module probabilities.
	Visit survey.Visit
	// Channel is how the answers arrived (survey.ChannelQR, ChannelKiosk or
	// ChannelHousehold); empty means Visit.Channel, and qr when that is
	// empty too.
	Channel string
	// AssignmentID names the module assignment the form was given. It must
	// belong to the same centre; its modules and probabilities (the
	// server's record) replace the visit's, and its completed count goes up
	// with the response.
	AssignmentID string
	Lang         string
	DurationMS   int64
	// Receipt is a one-time code from a finished procedure; a valid one
	// makes the response verified.
	Receipt string
	// Flags name anomaly checks the response tripped before it reached the
	// store; they are added to the store's own screening.
	Flags []string
	// At backdates a synthetic response (papi demo); zero means now.
	At time.Time
	// AnswersJSON, when set, is json.Marshal(Visit.Answers) done already
	// (the import encodes while it checks), so it is not done twice.
	AnswersJSON []byte
	// KioskID is the centre's enrolled kiosk the answers came from (the api
	// has checked its device secret); 0 for none. Its answers are screened
	// per device (survey.Screen).
	KioskID uint
}

// Response is a stored response.
type Response struct {
	ID                   uint64             `json:"id"`
	SubmissionID         string             `json:"submission_id"`
	CentreID             uint               `json:"centre_id"`
	CommuneCode          string             `json:"commune_code"`
	Day                  string             `json:"day"`
	QuestionnaireVersion string             `json:"questionnaire_version"`
	Channel              string             `json:"channel"`
	Modules              []string           `json:"modules"`
	Probs                map[string]float64 `json:"probs,omitempty"`
	AssignmentID         string             `json:"assignment_id,omitempty"`
	Answers              survey.Answers     `json:"answers"`
	Residence            string             `json:"residence,omitempty"`
	ResidenceCommune     string             `json:"residence_commune,omitempty"`
	Sex                  string             `json:"sex,omitempty"`
	AgeGroup             string             `json:"age_group,omitempty"`
	DurationMS           int64              `json:"duration_ms,omitempty"`
	Verified             bool               `json:"verified"`
	Status               string             `json:"status"`
	Flags                []string           `json:"flags,omitempty"`
	CreatedAt            time.Time          `json:"created_at"`
	KioskID              uint               `json:"kiosk_id,omitempty"`
}

// Visit returns the response as the survey package sees a visit.
func (r Response) Visit() survey.Visit {
	return survey.Visit{Modules: r.Modules, Answers: r.Answers, Sex: r.Sex, AgeGroup: r.AgeGroup, Channel: r.Channel,
		Residence: r.Residence, ResidenceCommune: r.ResidenceCommune, Probs: r.Probs}
}

func (r *responseRow) response() (Response, error) {
	ans, err := survey.ParseAnswers([]byte(r.Answers))
	if err != nil {
		return Response{}, fmt.Errorf("response %d: %w", r.ID, err)
	}
	probs, err := parseProbs(r.Probs)
	if err != nil {
		return Response{}, fmt.Errorf("response %d: %w", r.ID, err)
	}
	out := Response{
		ID: r.ID, SubmissionID: r.SubmissionID, CentreID: r.CentreID, CommuneCode: r.CommuneCode, Day: r.Day,
		QuestionnaireVersion: r.QuestionnaireVersion, Channel: r.Channel, Modules: splitList(r.Modules), Probs: probs,
		Answers: ans, Residence: r.Residence, ResidenceCommune: r.ResidenceCommune,
		Sex: r.Sex, AgeGroup: r.AgeGroup, DurationMS: r.DurationMS, Verified: r.Verified, Status: r.Status,
		Flags: splitList(r.Flags), CreatedAt: r.CreatedAt,
	}
	if r.AssignmentID != nil {
		out.AssignmentID = *r.AssignmentID
	}
	if r.KioskID != nil {
		out.KioskID = *r.KioskID
	}
	return out, nil
}

// tallied is what the row contributes to the tallies.
func (r *responseRow) tallied(v survey.Visit) tallied {
	return tallied{version: r.QuestionnaireVersion, day: r.Day, commune: r.CommuneCode, centre: r.CentreID,
		channel: r.Channel, verified: r.Verified, status: r.Status, visit: v}
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// formatProbs writes module probabilities compactly, in module order:
// "d3=0.21,d5=0.4".
func formatProbs(p map[string]float64) string {
	if len(p) == 0 {
		return ""
	}
	mods := make([]string, 0, len(p))
	for m := range p {
		mods = append(mods, m)
	}
	slices.Sort(mods)
	var b strings.Builder
	for i, m := range mods {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m)
		b.WriteByte('=')
		b.WriteString(strconv.FormatFloat(p[m], 'g', -1, 64))
	}
	return b.String()
}

func parseProbs(s string) (map[string]float64, error) {
	if s == "" {
		return nil, nil
	}
	out := map[string]float64{}
	for _, part := range strings.Split(s, ",") {
		m, v, ok := strings.Cut(part, "=")
		p, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("stored module probabilities %q are not module=probability pairs", s)
		}
		out[m] = p
	}
	return out, nil
}

// CreateResponse stores a response once. It returns the id and whether this
// call stored it: a submission id seen before returns the first id and
// created false, storing nothing. The response, its receipt, its share of
// the tallies and its assignment's completion are written in one
// transaction, so a failure leaves nothing.
//
// Concurrent calls are committed together (group commit, see writer.go).
func (s *Store) CreateResponse(ctx context.Context, in NewResponse) (id uint64, created bool, err error) {
	r := s.Submit(ctx, in)
	return r.ID, r.Created, r.Err
}

// Result is the outcome of one response of CreateResponses.
type Result struct {
	ID      uint64
	Created bool
	// Flagged is set when the anomaly checks held the response back.
	Flagged bool
	Err     error
}

// item is one response of a batch on its way in.
type item struct {
	index int // in the caller's slice
	in    *NewResponse
	row   responseRow
	visit survey.Visit
	// duration is the duration as sent and at the exact time of arrival,
	// for screening (the row keeps both coarsened).
	duration int64
	at       time.Time
	done     bool // the result is decided (refused, or stored before)
	// skipBurst leaves the centre's burst count out of the screening
	// query: it cannot change the outcome (see screen).
	skipBurst bool
	flags     []string
	// credits are the visit's tally credits, worked out when the item is
	// prepared (off the writer); an assignment that changes the visit's
	// modules or probabilities unsets credited.
	credits  []survey.Credit
	credited bool
}

// settle sets the row's status and flags from the item's flags, once
// it is screened.
func (it *item) settle() {
	if len(it.flags) > 0 {
		it.row.Status, it.row.Flags = StatusFlagged, strings.Join(it.flags, ",")
	}
}

// unscreen takes back what screen and settle did to the item, for a
// batch to be screened again in another transaction.
func (it *item) unscreen() {
	it.flags = slices.Clone(it.in.Flags)
	it.skipBurst = false
	it.row.Status, it.row.Flags = StatusCounted, ""
}

// tallied is what the item contributes to the tallies.
func (it *item) tallied() tallied {
	t := it.row.tallied(it.visit)
	t.credits, t.credited = it.credits, it.credited
	return t
}

// CreateResponses stores several responses in one transaction (see
// CreateResponse); results are in the order given. A response refused for
// its own reason (invalid, a used receipt) fails alone; a database error
// fails the whole batch and stores nothing. papi demo and the benchmarks
// use it; the writer's group commit stores batches prepared by Submit.
//
// A batch costs a few statements whatever its size: a look-up of the
// submission ids (when a receipt is to be used), one of the assignments
// (when there are some), the screening query, the multi-row insert, one
// completion update (with assignments) and the delta rows. The multi-row
// statements take one of a few cached shapes (see batches). On PostgreSQL
// most batches take two: the screening query and one statement that
// inserts both the responses and their delta rows (storeInOneStatement).
func (s *Store) CreateResponses(ctx context.Context, ins []NewResponse) ([]Result, error) {
	ps := make([]Prepared, len(ins))
	for i, in := range ins {
		ps[i] = s.Prepare(ctx, in)
	}
	return s.createPrepared(ctx, ps, true)
}

// Prepared is a response checked and encoded for storing: its row, its
// share of the tallies, or why it is refused. Preparing needs no write
// lock, so callers prepare on their own goroutines and leave the writer
// only the writing.
type Prepared struct {
	it  *item
	err error
}

// Prepare checks and encodes one response for CreatePrepared.
func (s *Store) Prepare(ctx context.Context, in NewResponse) Prepared {
	it, err := s.prepare(ctx, &in)
	return Prepared{it: it, err: err}
}

// CreatePrepared is CreateResponses for prepared responses of a bulk load
// (papi import); results are in the order given. A Prepared is used once.
// A bulk load's rows spread over many days and its batches are large, so
// it reads and rewrites the tally rows directly, not as delta rows (see
// tallydelta.go).
func (s *Store) CreatePrepared(ctx context.Context, ps []Prepared) ([]Result, error) {
	return s.createPrepared(ctx, ps, false)
}

// createPrepared stores prepared responses in one transaction (on
// PostgreSQL an intake batch, when it can, in one statement, see
// storeInOneStatement). intake says whether the batch is the live
// intake's, which appends delta rows (tallydelta.go); any other batch
// reads and rewrites the tally rows.
func (s *Store) createPrepared(ctx context.Context, ps []Prepared, intake bool) ([]Result, error) {
	out := make([]Result, len(ps))
	items := make([]*item, 0, len(ps))
	for i, p := range ps {
		if p.err != nil {
			out[i].Err = p.err
			continue
		}
		p.it.index = i
		items = append(items, p.it)
	}
	if len(items) == 0 {
		return out, nil
	}
	if !s.postgres {
		// No batch screens between another's commit and its remembering
		// (see phoneMemory).
		s.intakeMu.Lock()
		defer s.intakeMu.Unlock()
	}
	if intake && s.postgres {
		switch stored, err := s.storeInOneStatement(ctx, items, out); {
		case err != nil:
			return nil, fmt.Errorf("store responses: %w", err)
		case stored:
			s.bursts.remember(items, out)
			return out, nil
		}
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, it := range items {
			out[it.index] = Result{}
		}
		return s.insertBatch(ctx, tx, items, out, intake)
	})
	s.stmts.prepareMissed(ctx)
	if err != nil {
		return nil, fmt.Errorf("store responses: %w", err)
	}
	s.bursts.remember(items, out)
	if !s.postgres {
		s.phones.remember(items, out, s.now())
	}
	return out, nil
}

// prepare checks one response and builds its row, without the database
// (but for the list of communes, read once).
func (s *Store) prepare(ctx context.Context, in *NewResponse) (*item, error) {
	if in.SubmissionID == "" || len(in.SubmissionID) > 64 {
		return nil, survey.Invalid("submission_id", "Thiếu mã lượt gửi (submission_id) hoặc mã quá dài.", "submission_id is missing or longer than 64 characters.")
	}
	cat, ok := s.catalogues[in.Version]
	if !ok {
		return nil, survey.Invalid("questionnaire_version", "Phiên bản bảng hỏi không tồn tại.", "Unknown questionnaire version.")
	}
	v := in.Visit
	channel := cmp.Or(in.Channel, v.Channel, survey.ChannelQR)
	if !slices.Contains(survey.Channels, channel) {
		return nil, survey.Invalid("channel", "Kênh trả lời phải là qr, kiosk hoặc household.", "channel must be qr, kiosk or household.")
	}
	v.Channel = channel
	commune := in.Centre.CommuneCode
	if in.Centre.ID == 0 {
		if channel != survey.ChannelHousehold {
			return nil, survey.Invalid("token", "Thiếu trung tâm: chỉ phỏng vấn hộ gia đình mới không gắn với trung tâm.", "No centre given: only household interviews have none.")
		}
		commune = in.CommuneCode
	}
	if ok, err := s.knownCommune(ctx, s.read, commune); err != nil {
		return nil, err
	} else if !ok {
		return nil, survey.Invalid("commune_code", "Mã xã/phường không có trong danh sách 168 xã/phường.", "The commune code is not one of the city's 168 communes.")
	}
	switch v.Residence {
	case "", survey.ResidenceHere, survey.ResidenceOutside:
		v.ResidenceCommune = ""
	case survey.ResidenceOther:
		ok, err := s.knownCommune(ctx, s.read, v.ResidenceCommune)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, survey.Invalid("answers.c_residence_commune", "Vui lòng chọn xã/phường nơi bạn sống trong danh sách.", "Choose the commune you live in from the list.")
		}
	default:
		return nil, survey.Invalid("answers.c_residence", "Nơi ở phải là xã/phường này, xã/phường khác của Thành phố hoặc ngoài Thành phố.", "Residence must be this commune, another commune of the city or outside the city.")
	}
	if err := checkProbs(cat, v.Probs); err != nil {
		return nil, err
	}
	answers := in.AnswersJSON
	if answers == nil {
		var err error
		if answers, err = json.Marshal(v.Answers); err != nil {
			return nil, fmt.Errorf("encode answers: %w", err)
		}
	}
	now := s.now()
	if !in.At.IsZero() {
		now = in.At
	}
	it := &item{in: in, visit: v, duration: in.DurationMS, at: now.UTC(), flags: slices.Clone(in.Flags)}
	it.row = responseRow{
		SubmissionID: in.SubmissionID, CentreID: in.Centre.ID, CommuneCode: commune, Day: survey.LocalDay(now),
		QuestionnaireVersion: in.Version, Modules: strings.Join(v.Modules, ","), Answers: string(answers),
		Sex: v.Sex, AgeGroup: v.AgeGroup, Lang: in.Lang, DurationMS: (max(in.DurationMS, 0) + 500) / 1000 * 1000,
		Status: StatusCounted, CreatedAt: now.UTC().Truncate(time.Minute), Fingerprint: survey.FingerprintJSON(answers),
		Channel: channel, Residence: v.Residence, ResidenceCommune: v.ResidenceCommune, Probs: formatProbs(v.Probs),
	}
	if in.AssignmentID != "" {
		id := in.AssignmentID
		it.row.AssignmentID = &id
	}
	if in.KioskID != 0 {
		if channel != survey.ChannelKiosk || in.Centre.ID == 0 {
			return nil, survey.Invalid("channel", "Chỉ câu trả lời qua kiosk mới gắn với một máy kiosk.", "Only kiosk answers come from a kiosk.")
		}
		id := in.KioskID
		it.row.KioskID = &id
	}
	it.credits, it.credited = cat.Credits(v, commune), true
	return it, nil
}

func checkProbs(cat *survey.Catalogue, probs map[string]float64) error {
	for m, p := range probs {
		if _, ok := cat.Module(m); !ok || !(p > 0 && p <= 1) {
			return survey.Invalid("probs", "Xác suất chọn phần hỏi phải nằm trong (0, 1] cho một phần hỏi có thật.", "Module probabilities must be in (0, 1] and name modules of the questionnaire.")
		}
	}
	return nil
}

// insertBatch stores the prepared items inside tx and fills their results.
func (s *Store) insertBatch(ctx context.Context, tx *gorm.DB, items []*item, out []Result, intake bool) error {
	pool := tx.Statement.ConnPool
	// The same submission twice in one batch (a retry racing its original)
	// is stored once; the copy gets the first one's result.
	first := map[string]*item{}
	copies := map[*item]*item{}
	var live []*item
	for _, it := range items {
		if f, ok := first[it.row.SubmissionID]; ok {
			copies[it] = f
			continue
		}
		first[it.row.SubmissionID] = it
		live = append(live, it)
	}
	// A retry must not use its receipt twice, so batches with receipts look
	// their submission ids up first; the others learn of a retry from the
	// insert, which skips a stored submission id (one statement less).
	if slices.ContainsFunc(live, func(it *item) bool { return it.in.Receipt != "" }) {
		if err := s.findStored(ctx, pool, live, out); err != nil {
			return err
		}
	}
	if err := s.applyAssignments(ctx, pool, live, out); err != nil {
		return err
	}
	for _, it := range live {
		if it.done || it.in.Receipt == "" {
			continue
		}
		if err := consumeReceipt(tx, it.row.CentreID, it.in.Receipt, it.row.CreatedAt); err != nil {
			if survey.ErrorCode(err) == survey.EINTERNAL {
				return fmt.Errorf("use receipt: %w", err)
			}
			out[it.index].Err, it.done = err, true
			continue
		}
		it.row.Verified = true
	}
	if err := s.screen(ctx, pool, live); err != nil {
		return err
	}
	var fresh []*item
	for _, it := range live {
		if !it.done {
			it.settle()
			fresh = append(fresh, it)
		}
	}
	inserted, err := s.insertRows(ctx, pool, fresh)
	if err != nil {
		return err
	}
	// A submission id stored before (a retry, or one stored by another
	// process since the look-up) gets the stored id.
	var raced []*item
	for _, it := range fresh {
		if _, ok := inserted[it]; !ok {
			raced = append(raced, it)
		}
	}
	if len(raced) > 0 {
		if err := s.findStored(ctx, pool, raced, out); err != nil {
			return err
		}
	}
	if err := s.completeAssignments(ctx, pool, fresh, inserted); err != nil {
		return err
	}
	batch := s.newTallyBatch()
	if intake {
		batch = s.newDeltaBatch()
	}
	for _, it := range fresh {
		id, ok := inserted[it]
		if !ok {
			continue
		}
		if err := batch.add(it.tallied(), +1); err != nil {
			batch.release()
			return err
		}
		out[it.index] = Result{ID: id, Created: true, Flagged: it.row.Status == StatusFlagged}
	}
	if err := batch.flush(ctx, tx); err != nil {
		return err
	}
	for cp, f := range copies {
		r := out[f.index]
		r.Created = false
		out[cp.index] = r
	}
	return nil
}

// findStored marks the items whose submission id is already stored with
// the stored response's id.
func (s *Store) findStored(ctx context.Context, pool gorm.ConnPool, items []*item, out []Result) error {
	if len(items) == 0 {
		return nil
	}
	q := newQuery(s.postgres)
	q.WriteString("SELECT submission_id, id, status FROM responses WHERE submission_id IN (")
	by := make(map[string]*item, len(items))
	for i, it := range items {
		if i > 0 {
			q.WriteString(", ")
		}
		q.arg(it.row.SubmissionID)
		by[it.row.SubmissionID] = it
	}
	q.WriteString(")")
	rows, err := pool.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return fmt.Errorf("look up submission ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sid, status string
		var id uint64
		if err := rows.Scan(&sid, &id, &status); err != nil {
			return fmt.Errorf("look up submission ids: %w", err)
		}
		if it := by[sid]; it != nil {
			out[it.index] = Result{ID: id, Flagged: status == StatusFlagged}
			it.done = true
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("look up submission ids: %w", err)
	}
	return nil
}

// responseCols are the columns insertRows writes, in order.
const responseCols = "submission_id, centre_id, commune_code, day, questionnaire_version, modules, answers, sex, age_group, lang, " +
	"duration_ms, verified, status, flags, fingerprint, created_at, channel, residence, residence_commune, probs, assignment_id, kiosk_id"

// kioskArg is the row's kiosk as a statement argument (nil for none).
func (r *responseRow) kioskArg() *int64 {
	if r.KioskID == nil {
		return nil
	}
	k := int64(*r.KioskID)
	return &k
}

// responseValues are a row's values of responseCols.
func responseValues(r *responseRow) [22]any {
	return [22]any{r.SubmissionID, int64(r.CentreID), r.CommuneCode, r.Day, r.QuestionnaireVersion, r.Modules, r.Answers,
		r.Sex, r.AgeGroup, r.Lang, r.DurationMS, r.Verified, r.Status, r.Flags, r.Fingerprint, r.CreatedAt,
		r.Channel, r.Residence, r.ResidenceCommune, r.Probs, r.AssignmentID, r.kioskArg()}
}

// responseTypes are the PostgreSQL types of responseCols.
var responseTypes = []string{"varchar", "bigint", "varchar", "varchar", "varchar", "text", "text", "varchar", "varchar", "varchar",
	"bigint", "boolean", "varchar", "text", "varchar", "timestamptz", "varchar", "varchar", "varchar", "text", "varchar", "bigint"}

// responseArrays are the values of responseCols of items' rows as one
// array a column (see query.unnest).
func responseArrays(items []*item) []any {
	var cols [22]any
	for _, it := range items {
		for j, v := range responseValues(&it.row) {
			switch v := v.(type) {
			case string:
				cols[j] = push(cols[j], v)
			case int64:
				cols[j] = push(cols[j], v)
			case bool:
				cols[j] = push(cols[j], v)
			case time.Time:
				cols[j] = push(cols[j], v)
			case *string:
				cols[j] = push(cols[j], v)
			case *int64:
				cols[j] = push(cols[j], v)
			default:
				panic(fmt.Sprintf("responseArrays: column %d has values of type %T", j, v))
			}
		}
	}
	return cols[:]
}

// push appends v to col, a []T or nil.
func push[T any](col any, v T) any {
	c, _ := col.([]T)
	return append(c, v)
}

// insertRows inserts the rows with multi-row INSERTs and returns the ids
// given to them. A submission id stored meanwhile by another transaction
// is skipped, not an error.
func (s *Store) insertRows(ctx context.Context, pool gorm.ConnPool, items []*item) (map[*item]uint64, error) {
	ids := make(map[*item]uint64, len(items))
	if s.postgres {
		// Writers insert in submission id order, so two batches waiting on
		// each other's new unique-index entries (a retry racing its original
		// on another writer or process) queue instead of deadlocking.
		items = bySubmissionID(items)
	}
	for _, part := range batches(s.postgres, items) {
		q := newQuery(s.postgres)
		q.WriteString("INSERT INTO responses (" + responseCols + ") ")
		by := make(map[string]*item, len(part))
		for _, it := range part {
			by[it.row.SubmissionID] = it
		}
		if s.postgres {
			// The rows come out of unnest in the order of the arrays.
			q.unnest(responseTypes, responseArrays(part)...)
		} else {
			q.WriteString("VALUES ")
			for i, it := range part {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(")
				for j, v := range responseValues(&it.row) {
					if j > 0 {
						q.WriteString(", ")
					}
					q.arg(v)
				}
				q.WriteString(")")
			}
		}
		q.WriteString(" ON CONFLICT (submission_id) DO NOTHING RETURNING id, submission_id")
		stored, err := storedIDs(s.stmts.query(ctx, pool, q))
		if err != nil {
			return nil, fmt.Errorf("insert responses: %w", err)
		}
		for sid, id := range stored {
			if it := by[sid]; it != nil {
				ids[it] = id
			}
		}
	}
	return ids, nil
}

// bySubmissionID is items in submission id order, the order PostgreSQL
// writers insert in.
func bySubmissionID(items []*item) []*item {
	return slices.SortedFunc(slices.Values(items), func(a, b *item) int { return strings.Compare(a.row.SubmissionID, b.row.SubmissionID) })
}

// storedIDs reads the (id, submission_id) rows an insert returns, by
// submission id, and closes them.
func storedIDs(rows *sql.Rows, err error) (map[string]uint64, error) {
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // read to the end below; Err reports
	ids := map[string]uint64{}
	for rows.Next() {
		var id uint64
		var sid string
		if err := rows.Scan(&id, &sid); err != nil {
			return nil, err
		}
		ids[sid] = id
	}
	return ids, rows.Err()
}

// Flagged lists responses with the given status (flagged or quarantined),
// newest first, for an admin's review: at most limit of them (200 when limit
// is not in 1..1000) after skipping offset, and how many there are in all.
func (s *Store) Flagged(ctx context.Context, status string, limit, offset int) ([]Response, int64, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	offset = max(offset, 0)
	// The literal "status <> 'counted'" lets both engines use the partial
	// index of the responses held for review.
	held := s.read.WithContext(ctx).Model(&responseRow{}).Where("status = ? AND status <> '"+StatusCounted+"'", status).Session(&gorm.Session{})
	var total int64
	if err := held.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count %s responses: %w", status, err)
	}
	var rows []responseRow
	if err := held.Order("id DESC").Limit(limit).Offset(offset).Find(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("read %s responses: %w", status, err)
	}
	out := make([]Response, 0, len(rows))
	for i := range rows {
		r, err := rows[i].response()
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, total, nil
}

// SetStatus moves a response between counted, flagged and quarantined,
// taking it out of the tallies under its old status and into them under the
// new one and writing actor's audit row in the same transaction. Nothing is
// ever deleted.
func (s *Store) SetStatus(ctx context.Context, actor string, id uint64, status string) (Response, error) {
	if !slices.Contains(survey.Statuses, survey.Status(status)) {
		return Response{}, survey.Invalid("status", "Trạng thái không hợp lệ.", "Unknown status.")
	}
	var out Response
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r responseRow
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			return translate(err, survey.Text{Vi: "phiếu trả lời", En: "Response"})
		}
		resp, err := r.response()
		if err != nil {
			return err
		}
		if !survey.Status(r.Status).CanMove(survey.Status(status)) {
			return survey.Errorf(survey.ECONFLICT, "Không thể chuyển phiếu từ trạng thái “"+r.Status+"” sang “"+status+"”: chỉ kiểm tra tự động mới đánh dấu phiếu.",
				"A response cannot move from "+r.Status+" to "+status+": only the anomaly checks flag responses.")
		}
		if r.Status != status {
			// The response's share may still be a delta row.
			if err := s.foldAll(ctx, tx); err != nil {
				return err
			}
			batch := s.newTallyBatch()
			if err := batch.add(r.tallied(resp.Visit()), -1); err != nil {
				batch.release()
				return err
			}
			r.Status = status
			if err := batch.add(r.tallied(resp.Visit()), +1); err != nil {
				batch.release()
				return err
			}
			if err := batch.flush(ctx, tx); err != nil {
				return err
			}
			if err := tx.Model(&responseRow{}).Where("id = ?", id).Update("status", status).Error; err != nil {
				return fmt.Errorf("set status: %w", err)
			}
			if err := s.writeAudit(tx, actor, statusAction[status], fmt.Sprintf("response %d (%s)", r.ID, r.CommuneCode)); err != nil {
				return err
			}
			resp.Status = status
		}
		out = resp
		return nil
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
	if err := q.Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count responses: %w", err)
	}
	return n, nil
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
		return fmt.Errorf("read responses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r responseRow
		if err := s.read.ScanRows(rows, &r); err != nil {
			return fmt.Errorf("read responses: %w", err)
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

var errClosed = errors.New("the database is closed")
