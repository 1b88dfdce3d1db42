package api

import (
	"bufio"
	"context"
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

// spooled is a validated row waiting to be stored.
type spooled struct {
	Row          int             `json:"row"`
	SubmissionID string          `json:"id"`
	Version      string          `json:"v"`
	Commune      string          `json:"c"`
	At           time.Time       `json:"at"`
	Visit        survey.Visit    `json:"visit"`
	Answers      json.RawMessage `json:"answers"`
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

	spool, err := os.CreateTemp("", "papi-import-*.jsonl")
	if err != nil {
		return rep, fmt.Errorf("create the import's temporary file: %w", err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	w := bufio.NewWriterSize(spool, 1<<20)
	enc := json.NewEncoder(w)

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
	err = checkRows(ctx, ir, func(imp survey.Imported, err error) error {
		rep.Rows++
		var re *survey.RowError
		switch {
		case errors.As(err, &re):
			rowError(re)
		case err != nil:
			return err
		case imp.Skipped != nil:
			rep.Skipped++
			if len(rep.Skips) < opt.MaxErrors {
				rep.Skips = append(rep.Skips, ImportSkip{Row: imp.Row, SubmissionID: imp.SubmissionID, Reason: bilingual(*imp.Skipped)})
			}
		default:
			rep.Valid++
			if opt.DryRun {
				return nil
			}
			answers, err := json.Marshal(imp.Visit.Answers)
			if err != nil {
				return err
			}
			v := imp.Visit
			v.Answers = nil
			return enc.Encode(spooled{Row: imp.Row, SubmissionID: imp.SubmissionID, Version: imp.Version, Commune: imp.Commune, At: imp.At, Visit: v, Answers: answers})
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

// checkRows reads rows in order and checks them on every core, handing the
// results to fn in row order. Memory stays bounded: at most a few rows per
// worker are in flight.
func checkRows(ctx context.Context, ir *survey.ImportReader, fn func(survey.Imported, error) error) error {
	type job struct {
		rec *survey.Record
		err error // a read error of the row itself (*survey.RowError)
		out chan result
	}
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan job, 4*workers) // rows being checked, in row order
	work := make(chan job, 4*workers) // the same jobs, for the workers
	stop := make(chan struct{})
	var readErr error
	go func() {
		defer close(jobs)
		defer close(work)
		for {
			rec, err := ir.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			var re *survey.RowError
			if err != nil && !errors.As(err, &re) {
				readErr = err
				return
			}
			j := job{rec: rec, err: err, out: make(chan result, 1)}
			select {
			case jobs <- j:
			case <-stop:
				return
			}
			if err == nil {
				select {
				case work <- j:
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
			for j := range work {
				imp, err := ir.Check(j.rec)
				j.out <- result{imp, err}
			}
		}()
	}
	defer wg.Wait()
	defer close(stop)
	for j := range jobs {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := result{err: j.err}
		if j.rec != nil {
			r.imp = survey.Imported{Row: j.rec.Row, SubmissionID: j.rec.SubmissionID}
		}
		if j.err == nil {
			r = <-j.out
		}
		if err := fn(r.imp, r.err); err != nil {
			return err
		}
	}
	return readErr
}

type result struct {
	imp survey.Imported
	err error
}

// storeSpooled stores the spooled rows in batches, each as a household
// interview of its commune: no centre was visited, so no centre's summary
// counts it and the anomaly checks for a centre's traffic do not apply.
func storeSpooled(ctx context.Context, st *store.Store, r *bufio.Reader, batchSize int, rep *ImportReport, rowError func(*survey.RowError)) error {
	dec := json.NewDecoder(r)
	batch := make([]store.NewResponse, 0, batchSize)
	rows := make([]spooled, 0, batchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		results, err := st.CreateResponses(ctx, batch)
		if err != nil {
			return fmt.Errorf("store imported rows %d–%d (%d rows before them are stored; importing the file again stores only the rest): %w",
				rows[0].Row, rows[len(rows)-1].Row, rep.Stored+rep.Duplicates, err)
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
				rowError(&survey.RowError{Row: rows[i].Row, SubmissionID: rows[i].SubmissionID, Errors: []survey.FieldError{{Field: "row", Message: msg}}})
			case res.Created:
				rep.Stored++
				if res.Flagged {
					rep.Flagged++
				}
			default:
				rep.Duplicates++
			}
		}
		batch, rows = batch[:0], rows[:0]
		return nil
	}
	for {
		var sp spooled
		if err := dec.Decode(&sp); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("read the import's temporary file: %w", err)
		}
		answers, err := survey.ParseAnswers(sp.Answers)
		if err != nil {
			return err
		}
		sp.Visit.Answers = answers
		batch = append(batch, store.NewResponse{SubmissionID: sp.SubmissionID, CommuneCode: sp.Commune, Channel: survey.ChannelHousehold,
			Version: sp.Version, Visit: sp.Visit, At: sp.At})
		rows = append(rows, sp)
		if len(batch) == batchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
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
