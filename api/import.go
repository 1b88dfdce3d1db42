package api

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// maxImportBody bounds an uploaded export: 100,000 interviews of the full
// questionnaire come to about 150 MB.
const maxImportBody = "512M"

// importDeadline is how long an import request may take to upload, check
// and store.
const importDeadline = 15 * time.Minute

// ImportOptions control an import of field submissions.
type ImportOptions struct {
	// Channel is how the answers were collected; only household interviews
	// (survey.ChannelHousehold) come from ODK Central or KoboToolbox.
	Channel string
	// Partial keeps the valid rows when some rows are invalid; otherwise
	// the import is all-or-nothing.
	Partial bool
	// MaxErrors bounds the row errors listed in the report (default 1000);
	// the rest are counted in ErrorsOmitted.
	MaxErrors int
	// BatchSize is how many rows go into one write transaction (default
	// 500): short transactions let the live intake interleave.
	BatchSize int
	// DryRun checks every row and reports, storing nothing.
	DryRun bool
}

// ImportReport says what an import did.
type ImportReport struct {
	Format  string `json:"format"`
	Channel string `json:"channel"`
	Partial bool   `json:"partial"`
	DryRun  bool   `json:"dry_run"`
	// Rows counts the data rows read; Valid + Invalid + Skipped = Rows.
	Rows    int `json:"rows"`
	Valid   int `json:"valid"`
	Invalid int `json:"invalid"`
	// Skipped rows are left out on purpose: rejected in review on ODK
	// Central / KoboToolbox, or a repeat of an earlier row of the file.
	Skipped int `json:"skipped"`
	// Stored counts new responses; Duplicates the valid rows stored by an
	// earlier import (same instanceID), which are not stored again.
	Stored     int `json:"stored"`
	Duplicates int `json:"duplicates"`
	// Flagged counts stored responses held back by the anomaly checks.
	Flagged       int              `json:"flagged"`
	Errors        []ImportRowError `json:"errors"`
	ErrorsOmitted int              `json:"errors_omitted,omitempty"`
	Skips         []ImportSkip     `json:"skips,omitempty"`
}

// ImportRowError is one problem of one row, in both languages.
type ImportRowError struct {
	Row          int    `json:"row"`
	SubmissionID string `json:"submission_id,omitempty"`
	Field        string `json:"field"`
	Message      string `json:"message"`
	MessageVi    string `json:"message_vi"`
	MessageEn    string `json:"message_en"`
}

// ImportSkip is a row left out on purpose.
type ImportSkip struct {
	Row          int    `json:"row"`
	SubmissionID string `json:"submission_id"`
	Reason       string `json:"reason"`
}

// errImportRefused is returned with a report listing the invalid rows of an
// all-or-nothing import that stored nothing.
var errImportRefused = survey.Errorf(survey.EINVALID,
	"Có dòng không hợp lệ nên không nhập dòng nào. Sửa các dòng được liệt kê trên ODK Central/KoboToolbox rồi xuất lại, hoặc nhập phần hợp lệ với tùy chọn partial.",
	"Some rows are invalid, so no row was imported. Fix the listed rows on ODK Central/KoboToolbox and export again, or import the valid rows with the partial option.")

// ImportRefused reports whether Import stored nothing because rows were
// invalid (the report lists them).
func ImportRefused(err error) bool { return errors.Is(err, errImportRefused) }

// spooled is a validated row waiting to be stored: its description, and
// its answers apart (see spoolRecord).
type spooled struct {
	Row          int          `json:"row"`
	SubmissionID string       `json:"id"`
	Version      string       `json:"v"`
	Commune      string       `json:"c"`
	At           time.Time    `json:"at"`
	Visit        survey.Visit `json:"visit"` // without its answers
}

// Import reads an ODK Central or KoboToolbox CSV export of papi's form and
// stores its valid rows as household responses. Every row is validated
// first (on every core), the valid ones spooled to a temporary file; only
// when no row is invalid, or opt.Partial is set, are they stored, in short
// batches. A file that is not the form's export is refused with an error
// before any row; an all-or-nothing import with invalid rows returns the
// report and an error for which ImportRefused is true. The instanceID is
// the submission id, so importing the same file again stores nothing new.
func Import(ctx context.Context, st *store.Store, src io.Reader, opt ImportOptions) (ImportReport, error) {
	if opt.Channel == "" {
		opt.Channel = survey.ChannelHousehold
	}
	rep := ImportReport{Channel: opt.Channel, Partial: opt.Partial, DryRun: opt.DryRun, Errors: []ImportRowError{}}
	if opt.Channel != survey.ChannelHousehold {
		return rep, survey.Invalid("channel", "Chỉ nhập được phỏng vấn hộ gia đình (channel=household) từ ODK/KoboToolbox.",
			"Only household interviews (channel=household) are imported from ODK/KoboToolbox.")
	}
	if opt.MaxErrors <= 0 {
		opt.MaxErrors = 1000
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 500
	}
	cats, err := survey.Catalogues()
	if err != nil {
		return rep, err
	}
	ir, err := survey.NewImportReader(src, cats)
	if err != nil {
		return rep, err
	}
	rep.Format = string(ir.Format())

	spool, err := os.CreateTemp("", "papi-import-*.spool")
	if err != nil {
		return rep, fmt.Errorf("create the import's temporary file: %w", err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	w := bufio.NewWriterSize(spool, 1<<20)

	rowError := func(re *survey.RowError) {
		rep.Invalid++
		for _, fe := range re.Errors {
			if len(rep.Errors) >= opt.MaxErrors {
				rep.ErrorsOmitted++
				continue
			}
			rep.Errors = append(rep.Errors, ImportRowError{Row: re.Row, SubmissionID: re.SubmissionID, Field: fe.Field,
				Message: bilingual(fe.Message), MessageVi: fe.Message.Vi, MessageEn: fe.Message.En})
		}
	}
	err = checkRows(ctx, ir, !opt.DryRun, func(c checked) error {
		rep.Rows++
		var re *survey.RowError
		switch {
		case errors.As(c.err, &re):
			rowError(re)
		case c.err != nil:
			return c.err
		case c.imp.Skipped != nil:
			rep.Skipped++
			if len(rep.Skips) < opt.MaxErrors {
				rep.Skips = append(rep.Skips, ImportSkip{Row: c.imp.Row, SubmissionID: c.imp.SubmissionID, Reason: bilingual(*c.imp.Skipped)})
			}
		default:
			rep.Valid++
			_, err := w.Write(c.record)
			return err
		}
		return nil
	})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return rep, err
	}
	if rep.Invalid > 0 && !opt.Partial {
		return rep, errImportRefused
	}
	if opt.DryRun {
		return rep, nil
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return rep, err
	}
	return rep, storeSpooled(ctx, st, bufio.NewReaderSize(spool, 1<<20), opt.BatchSize, &rep, rowError)
}

// checked is a row read and checked: the row as imported, its spool record
// when it is valid and to be stored, or its error.
type checked struct {
	imp    survey.Imported
	record []byte
	err    error
}

// checkRows reads rows in order, checks them on every core (and, with
// spool, encodes each valid row's spool record there too) and hands the
// results to fn in row order.
func checkRows(ctx context.Context, ir *survey.ImportReader, spool bool, fn func(checked) error) error {
	type read struct {
		rec *survey.Record
		err error // a read error of the row itself (*survey.RowError)
	}
	next := func() (read, error) {
		rec, err := ir.Read()
		var re *survey.RowError
		if err != nil && !errors.As(err, &re) {
			return read{}, err
		}
		return read{rec, err}, nil
	}
	check := func(r read) checked {
		if r.err != nil {
			return checked{imp: survey.Imported{Row: r.rec.Row, SubmissionID: r.rec.SubmissionID}, err: r.err}
		}
		imp, err := ir.Check(r.rec)
		c := checked{imp: imp, err: err}
		if err != nil || imp.Skipped != nil || !spool {
			return c
		}
		c.record, c.err = spoolRecord(imp)
		return c
	}
	return inOrder(ctx, next, check, fn)
}

// spoolRecord encodes a valid row for the spool: the length and JSON of
// its description (spooled), then the length and JSON of its answers,
// encoded as the store encodes them (json.Marshal of the answers) so that
// the store takes them as they are. Kept apart, the answers are never
// scanned again as part of a larger JSON value.
func spoolRecord(imp survey.Imported) ([]byte, error) {
	answers, err := json.Marshal(imp.Visit.Answers)
	if err != nil {
		return nil, err
	}
	v := imp.Visit
	v.Answers = nil
	head, err := json.Marshal(spooled{Row: imp.Row, SubmissionID: imp.SubmissionID, Version: imp.Version, Commune: imp.Commune, At: imp.At, Visit: v})
	if err != nil {
		return nil, err
	}
	rec := make([]byte, 0, 2*binary.MaxVarintLen64+len(head)+len(answers))
	rec = binary.AppendUvarint(rec, uint64(len(head)))
	rec = append(rec, head...)
	rec = binary.AppendUvarint(rec, uint64(len(answers)))
	return append(rec, answers...), nil
}

// spoolPart reads one length-prefixed part of a spool record.
func spoolPart(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > maxSpoolPart {
		return nil, fmt.Errorf("read the import's temporary file: a row part of %d bytes, longer than any row it wrote (the file is damaged)", n)
	}
	b := make([]byte, n)
	_, err = io.ReadFull(r, b)
	return b, err
}

// maxSpoolPart bounds a part of a spool record: a row of the CSV export
// is far smaller.
const maxSpoolPart = 16 << 20

// inOrder runs work on the items next yields on every core and hands the
// results to emit in the items' order. Memory stays bounded: a few items
// per core are in flight. next returns io.EOF after the last item; any
// other error of next ends the run with that error, after the items before
// it are emitted.
func inOrder[In, Out any](ctx context.Context, next func() (In, error), work func(In) Out, emit func(Out) error) error {
	workers := runtime.GOMAXPROCS(0)
	type job struct {
		in  In
		out chan Out
	}
	jobs := make(chan job, 4*workers) // in order, for emit
	todo := make(chan job, 4*workers) // the same jobs, for the workers
	stop := make(chan struct{})
	var nextErr error
	go func() {
		defer close(jobs)
		defer close(todo)
		for {
			in, err := next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					nextErr = err
				}
				return
			}
			j := job{in: in, out: make(chan Out, 1)}
			for _, ch := range [2]chan job{jobs, todo} {
				select {
				case ch <- j:
				case <-stop:
					return
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range todo {
				j.out <- work(j.in)
			}
		}()
	}
	defer wg.Wait()
	defer close(stop)
	for j := range jobs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(<-j.out); err != nil {
			return err
		}
	}
	return nextErr // read after jobs is closed, so no race
}

// prepared is a spooled row ready for the store.
type prepared struct {
	row          int
	submissionID string
	prep         store.Prepared
	err          error
}

// storeSpooled stores the spooled rows in batches, each as a household
// interview of its commune: no centre was visited, so no centre's summary
// counts it and the anomaly checks for a centre's traffic do not apply.
// Rows are decoded and prepared on every core while the batch before is
// written.
func storeSpooled(ctx context.Context, st *store.Store, r *bufio.Reader, batchSize int, rep *ImportReport, rowError func(*survey.RowError)) error {
	type record struct{ head, answers []byte }
	next := func() (record, error) {
		head, err := spoolPart(r)
		if err != nil {
			return record{}, err // io.EOF at the end
		}
		answers, err := spoolPart(r)
		if err != nil {
			return record{}, fmt.Errorf("read the import's temporary file: it ends inside a row: %w", err)
		}
		return record{head, answers}, nil
	}
	prepare := func(rec record) prepared {
		var sp spooled
		if err := json.Unmarshal(rec.head, &sp); err != nil {
			return prepared{err: fmt.Errorf("read the import's temporary file: %w", err)}
		}
		answers, err := survey.ParseAnswers(rec.answers)
		if err != nil {
			return prepared{err: err}
		}
		sp.Visit.Answers = answers
		in := store.NewResponse{SubmissionID: sp.SubmissionID, CommuneCode: sp.Commune, Channel: survey.ChannelHousehold,
			Version: sp.Version, Visit: sp.Visit, At: sp.At, AnswersJSON: rec.answers}
		return prepared{row: sp.Row, submissionID: sp.SubmissionID, prep: st.Prepare(ctx, in)}
	}
	// Batches are written on a goroutine of their own, so that rows are
	// prepared for the next batch while one is being written.
	full := make(chan []prepared, 1)
	var writeErr error
	failed := make(chan struct{}) // closed when a batch fails
	written := make(chan struct{})
	go func() {
		defer close(written)
		for rows := range full {
			if writeErr != nil {
				continue // drain: the import stops at the first failed batch
			}
			if writeErr = writeBatch(ctx, st, rows, rep, rowError); writeErr != nil {
				close(failed)
			}
		}
	}()
	cur := make([]prepared, 0, batchSize)
	err := inOrder(ctx, next, prepare, func(p prepared) error {
		if p.err != nil {
			return p.err
		}
		cur = append(cur, p)
		if len(cur) == batchSize {
			select {
			case full <- cur:
			case <-failed:
				return errBatchFailed
			}
			cur = make([]prepared, 0, batchSize)
		}
		return nil
	})
	if err == nil && len(cur) > 0 {
		full <- cur
	}
	close(full)
	<-written
	if writeErr != nil {
		return writeErr
	}
	return err
}

// errBatchFailed stops the preparing when a batch failed to be written;
// the batch's own error is what the import returns.
var errBatchFailed = errors.New("an earlier batch failed")

// writeBatch stores one batch of prepared rows and counts the outcome in
// the report.
func writeBatch(ctx context.Context, st *store.Store, rows []prepared, rep *ImportReport, rowError func(*survey.RowError)) error {
	preps := make([]store.Prepared, len(rows))
	for i, r := range rows {
		preps[i] = r.prep
	}
	results, err := st.CreatePrepared(ctx, preps)
	if err != nil {
		return fmt.Errorf("store imported rows %d–%d (%d rows before them are stored; importing the file again stores only the rest): %w",
			rows[0].row, rows[len(rows)-1].row, rep.Stored+rep.Duplicates, err)
	}
	for i, res := range results {
		switch {
		case res.Err != nil:
			var derr *survey.Error
			msg := survey.Text{Vi: "Không lưu được dòng này.", En: "This row could not be stored."}
			if errors.As(res.Err, &derr) {
				msg = derr.Message
			}
			rep.Valid--
			rowError(&survey.RowError{Row: rows[i].row, SubmissionID: rows[i].submissionID, Errors: []survey.FieldError{{Field: "row", Message: msg}}})
		case res.Created:
			rep.Stored++
			if res.Flagged {
				rep.Flagged++
			}
		default:
			rep.Duplicates++
		}
	}
	return nil
}

// readImportOptions reads channel=, partial= and dry_run= (1 or 0).
func readImportOptions(c echo.Context) (ImportOptions, error) {
	opt := ImportOptions{Channel: c.QueryParam("channel")}
	for _, f := range []struct {
		name string
		dst  *bool
	}{{"partial", &opt.Partial}, {"dry_run", &opt.DryRun}} {
		switch c.QueryParam(f.name) {
		case "", "0", "false":
		case "1", "true":
			*f.dst = true
		default:
			return opt, survey.Invalid(f.name, f.name+" phải là 1 hoặc 0.", f.name+" must be 1 or 0.")
		}
	}
	return opt, nil
}

// importSource is the uploaded file: the "file" field of a multipart form,
// or else the request body; name is what the audit row calls it.
func importSource(c echo.Context) (src io.Reader, name string, closeSrc func(), err error) {
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if mt != echo.MIMEMultipartForm {
		return c.Request().Body, "body", func() {}, nil
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, "", nil, survey.Invalid("file", "Cần gửi tệp CSV trong trường “file”.", "Send the CSV file in the “file” field.")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "", nil, err
	}
	return f, fh.Filename, func() { f.Close() }, nil
}

// handleImportCreate imports an ODK Central or KoboToolbox CSV export sent
// as the request body (text/csv) or as the "file" part of a form upload.
func (s *Server) handleImportCreate(c echo.Context) error {
	opt, err := readImportOptions(c)
	if err != nil {
		return err
	}
	// A large export takes longer to upload and check than the server's
	// deadlines allow an ordinary request.
	rc := http.NewResponseController(c.Response().Writer)
	_ = rc.SetReadDeadline(time.Now().Add(importDeadline))
	_ = rc.SetWriteDeadline(time.Now().Add(importDeadline))
	src, name, closeSrc, err := importSource(c)
	if err != nil {
		return err
	}
	defer closeSrc()
	rep, err := Import(c.Request().Context(), s.store, src, opt)
	actor := currentUser(c).Email
	if opt.DryRun && (err == nil || ImportRefused(err)) {
		// A check stores nothing: the report is the answer either way.
		return c.JSON(http.StatusOK, rep)
	}
	if ImportRefused(err) {
		_ = s.store.Audit(c.Request().Context(), actor, "import_refused", fmt.Sprintf("%s: %d rows, %d invalid", name, rep.Rows, rep.Invalid))
		return c.JSON(http.StatusBadRequest, struct {
			Error errorBody `json:"error"`
			ImportReport
		}{errorBody{Code: survey.EINVALID, Message: bilingual(errImportRefused.Message), MessageVi: errImportRefused.Message.Vi, MessageEn: errImportRefused.Message.En}, rep})
	}
	if err != nil {
		return err
	}
	_ = s.store.Audit(c.Request().Context(), actor, "import", fmt.Sprintf("%s (%s): %d rows, %d stored, %d already stored, %d invalid, %d skipped",
		name, rep.Format, rep.Rows, rep.Stored, rep.Duplicates, rep.Invalid, rep.Skipped))
	status := http.StatusOK
	if rep.Stored > 0 {
		status = http.StatusCreated
	}
	c.Response().Header().Set("X-Papi-Stored", strconv.Itoa(rep.Stored))
	return c.JSON(status, rep)
}
