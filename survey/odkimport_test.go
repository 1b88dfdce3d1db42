package survey

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden export fixtures in testdata/odk")

// households makes n synthetic interviews answering every module, as the
// household form asks them, validated by the intake.
func households(t testing.TB, c *Catalogue, n int, seed uint64) []ExportRow {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	communes, _ := Communes()
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, Local)
	rows := make([]ExportRow, n)
	for i := range rows {
		sub := c.Synthesize(rng, c.AllModules(), rng.Float64())
		if i%3 == 0 {
			// Free text with everything CSV must quote, in Vietnamese.
			sub.Answers["c_comment"] = json.RawMessage(`"Cán bộ nhiệt tình; \"rất tốt\", cảm ơn\nlần sau nhanh hơn"`)
		}
		v, err := c.ValidateSubmission(sub)
		if err != nil {
			t.Fatalf("synthetic household %d: %v", i, err)
		}
		d := day.AddDate(0, 0, i%20)
		rows[i] = ExportRow{
			InstanceID:    fmt.Sprintf("uuid:%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), i, rng.IntN(4096), rng.IntN(4096), rng.Uint64()&(1<<48-1)),
			Submitted:     d.Add(20 * time.Hour),
			Commune:       communes[rng.IntN(len(communes))].Code,
			InterviewDate: d.Format(DateLayout),
			Visit:         v,
		}
	}
	return rows
}

// readAll reads an export to the end: the rows imported, the row errors,
// and a fatal error if any.
func readAll(t testing.TB, data []byte) (*ImportReader, []Imported, []*RowError, error) {
	t.Helper()
	cats, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	ir, err := NewImportReader(bytes.NewReader(data), cats)
	if err != nil {
		return nil, nil, nil, err
	}
	var rows []Imported
	var rerrs []*RowError
	for {
		r, err := ir.Next()
		var re *RowError
		switch {
		case errors.Is(err, io.EOF):
			return ir, rows, rerrs, nil
		case errors.As(err, &re):
			rerrs = append(rerrs, re)
		case err != nil:
			return ir, rows, rerrs, err
		default:
			rows = append(rows, r)
		}
	}
}

func export(t testing.TB, c *Catalogue, format ExportFormat, opt ExportOptions, rows []ExportRow) []byte {
	t.Helper()
	f, err := c.XLSForm()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.WriteExport(&buf, format, opt, rows); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestImportReadsBothTools writes the same households as ODK Central and
// KoboToolbox export them, with each tool's header and select_multiple
// options, and reads back exactly the visits the intake validated.
func TestImportReadsBothTools(t *testing.T) {
	cats, _ := Catalogues()
	for _, c := range cats {
		rows := households(t, c, 60, 1)
		for _, tc := range []struct {
			name   string
			format ExportFormat
			opt    ExportOptions
		}{
			{"central default", ODKCentral, ExportOptions{GroupNames: true}},
			{"central split multiples", ODKCentral, ExportOptions{GroupNames: true, SplitMultiple: true}},
			{"central without group names", ODKCentral, ExportOptions{}},
			{"kobo default", KoboToolbox, ExportOptions{SplitMultiple: true}},
			{"kobo groups in headers", KoboToolbox, ExportOptions{GroupNames: true, SplitMultiple: true}},
			{"kobo single column", KoboToolbox, ExportOptions{GroupNames: true}},
			{"kobo separate columns only", KoboToolbox, ExportOptions{OnlySplit: true}},
		} {
			t.Run(c.Version+" "+tc.name, func(t *testing.T) {
				data := export(t, c, tc.format, tc.opt, rows)
				ir, got, rerrs, err := readAll(t, data)
				if err != nil {
					t.Fatal(err)
				}
				if ir.Format() != tc.format {
					t.Errorf("format %s, want %s", ir.Format(), tc.format)
				}
				for _, re := range rerrs {
					t.Errorf("row error: %v", re)
				}
				if len(got) != len(rows) {
					t.Fatalf("got %d rows, want %d", len(got), len(rows))
				}
				for i, r := range got {
					want := rows[i]
					wantVisit := want.Visit
					wantVisit.Channel = ChannelHousehold
					if r.Row != i+2 || r.SubmissionID != want.InstanceID || r.Commune != want.Commune || r.Version != c.Version {
						t.Errorf("row %d: got row %d id %s commune %s version %s, want row %d id %s commune %s version %s",
							i, r.Row, r.SubmissionID, r.Commune, r.Version, i+2, want.InstanceID, want.Commune, c.Version)
					}
					if wantAt, _ := time.ParseInLocation(DateLayout, want.InterviewDate, Local); !r.At.Equal(wantAt.Add(12 * time.Hour)) {
						t.Errorf("row %d: at %v, want noon of %s", i, r.At, want.InterviewDate)
					}
					if !reflect.DeepEqual(r.Visit, wantVisit) {
						t.Errorf("row %d: visit\n got %+v\nwant %+v", i, r.Visit, wantVisit)
					}
				}
			})
		}
	}
}

func TestImportGoldenFixtures(t *testing.T) {
	cats, _ := Catalogues()
	c := cats[0]
	rows := households(t, c, 3, 9)
	rows[1].Review = "approved"
	for _, tc := range []struct {
		file   string
		format ExportFormat
		opt    ExportOptions
	}{
		{"central-" + c.Version + ".csv", ODKCentral, ExportOptions{GroupNames: true}},
		{"kobo-" + c.Version + ".csv", KoboToolbox, ExportOptions{SplitMultiple: true}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "odk", tc.file)
			data := export(t, c, tc.format, tc.opt, rows)
			if *update {
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./survey -run Golden -update)", err)
			}
			if !bytes.Equal(data, golden) {
				t.Errorf("%s differs from what WriteExport writes now; check the change and run with -update", path)
			}
			_, got, rerrs, err := readAll(t, golden)
			if err != nil || len(rerrs) > 0 || len(got) != 3 {
				t.Fatalf("reading %s: %d rows, errors %v %v", path, len(got), rerrs, err)
			}
		})
	}
	// The headers are the tools' own.
	central, _ := os.ReadFile(filepath.Join("testdata", "odk", "central-"+c.Version+".csv"))
	head := strings.SplitN(string(central), "\n", 2)[0]
	for _, want := range []string{"SubmissionDate,commune,interview_date,core-c_procedure,", ",d1-d1_know_democracy_law,", ",profile-sex,profile-age_group,papi_version,meta-instanceID,KEY,SubmitterID,SubmitterName,AttachmentsPresent,AttachmentsExpected,Status,ReviewState,DeviceID,Edits,FormVersion"} {
		if !strings.Contains(head, want) {
			t.Errorf("central header lacks %q", want)
		}
	}
	kobo, _ := os.ReadFile(filepath.Join("testdata", "odk", "kobo-"+c.Version+".csv"))
	head = strings.SplitN(string(kobo), "\n", 2)[0]
	for _, want := range []string{`"commune";"interview_date";"c_procedure";`, `;"c_quality";"c_quality/posted";`, `;"papi_version";"_id";"_uuid";"_submission_time";"_validation_status";"_notes";"_status";"_submitted_by";"__version__";"_tags";"_index"`} {
		if !strings.Contains(head, want) {
			t.Errorf("kobo header lacks %q", want)
		}
	}
}

// edit changes one cell (by header name) of every data row, or of one row
// when row > 0.
func edit(t testing.TB, data []byte, col string, row int, value string) []byte {
	t.Helper()
	cats, _ := Catalogues()
	ir, err := NewImportReader(bytes.NewReader(data), cats)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.Index(ir.header, col)
	if i < 0 {
		t.Fatalf("no column %q", col)
	}
	var out bytes.Buffer
	recs, _ := readCSV(data, ir.cr.Comma)
	for r, rec := range recs {
		if r > 0 && (row == 0 || r+1 == row) {
			rec[i] = value
		}
	}
	writeCSV(&out, recs, ir.cr.Comma)
	return out.Bytes()
}

func TestImportRowErrors(t *testing.T) {
	cats, _ := Catalogues()
	c := cats[0]
	rows := households(t, c, 12, 5)
	// Row 3 is shown d1_el_candidates only if d1_head_elected is yes.
	hidden := -1
	for i, r := range rows {
		if a, _ := r.Visit.Answers["d1_head_elected"].(string); a != "yes" && i > 0 {
			hidden = i
			break
		}
	}
	base := export(t, c, ODKCentral, ExportOptions{GroupNames: true}, rows)
	for _, tc := range []struct {
		name, col string
		row       int // spreadsheet row (2 = first data row)
		value     string
		field     string
	}{
		{"unknown option", "core-c_procedure", 2, "visa", "answers.c_procedure"},
		{"not a number", "d4-d4_denounce_threshold", 3, "năm triệu", "answers.d4_denounce_threshold"},
		{"number out of range", "d4-d4_denounce_threshold", 3, "5000", "answers.d4_denounce_threshold"},
		{"required answer missing", "core-c_satisfaction", 4, "", "answers.c_satisfaction"},
		{"unknown commune", "commune", 5, "99999", "commune"},
		{"commune missing", "commune", 5, "", "commune"},
		{"bad interview date", "interview_date", 6, "03/02/2026", "interview_date"},
		{"not an ODK instanceID", "KEY", 7, "12345", "instanceID"},
		{"exclusive option with others", "core-c_quality", 8, "none posted", "answers.c_quality"},
		{"answer to a hidden question", "d1-d1_el_candidates", hidden + 2, "yes", "answers.d1_el_candidates"},
		{"unknown sex", "profile-sex", 9, "x", "sex"},
		{"no version", "papi_version", 10, "", "papi_version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := edit(t, base, tc.col, tc.row, tc.value)
			_, got, rerrs, err := readAll(t, data)
			if err != nil {
				t.Fatal(err)
			}
			if len(rerrs) != 1 || len(got) != len(rows)-1 {
				t.Fatalf("got %d good rows and errors %v, want %d rows and one error", len(got), rerrs, len(rows)-1)
			}
			re := rerrs[0]
			if re.Row != tc.row || !slices.ContainsFunc(re.Errors, func(fe FieldError) bool { return fe.Field == tc.field }) {
				t.Errorf("got %v, want row %d field %s", re, tc.row, tc.field)
			}
			for _, fe := range re.Errors {
				if fe.Message.Vi == "" || fe.Message.En == "" || fe.Message.Vi == fe.Message.En {
					t.Errorf("field %s: message needs Vietnamese and English: %+v", fe.Field, fe.Message)
				}
			}
		})
	}
}

func TestImportSkips(t *testing.T) {
	cats, _ := Catalogues()
	c := cats[0]
	rows := households(t, c, 6, 8)
	rows[1].Review = "rejected"
	rows[4].InstanceID = rows[2].InstanceID // KoboToolbox's duplicate of one interview
	central := export(t, c, ODKCentral, ExportOptions{GroupNames: true}, rows)
	rows[1].Review = "Not Approved"
	kobo := export(t, c, KoboToolbox, ExportOptions{}, rows)
	for name, data := range map[string][]byte{"central": central, "kobo": kobo} {
		t.Run(name, func(t *testing.T) {
			_, got, rerrs, err := readAll(t, data)
			if err != nil || len(rerrs) > 0 {
				t.Fatal(err, rerrs)
			}
			var skipped []string
			for _, r := range got {
				if r.Skipped != nil {
					skipped = append(skipped, fmt.Sprintf("%d %s", r.Row, r.Skipped.En))
				}
			}
			want := []string{"3 Rejected in review on " + map[string]string{"central": "ODK Central", "kobo": "KoboToolbox"}[name] + ".", "6 A repeat of row 4 (same submission id)."}
			if !slices.Equal(skipped, want) {
				t.Errorf("skipped %q, want %q", skipped, want)
			}
		})
	}
}

func TestImportRefusesOtherFiles(t *testing.T) {
	cats, _ := Catalogues()
	c := cats[0]
	rows := households(t, c, 3, 2)
	central := export(t, c, ODKCentral, ExportOptions{GroupNames: true}, rows)
	kobo := export(t, c, KoboToolbox, ExportOptions{}, rows)
	dropColumn := func(data []byte, comma rune, col string) []byte {
		recs, _ := readCSV(data, comma)
		i := slices.Index(recs[0], col)
		for j := range recs {
			recs[j] = slices.Delete(recs[j], i, i+1)
		}
		var b bytes.Buffer
		writeCSV(&b, recs, comma)
		return b.Bytes()
	}
	renameColumn := func(data []byte, from, to string) []byte {
		return bytes.Replace(data, []byte(from), []byte(to), 1)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string // fragment of the English message
	}{
		{"empty", nil, "empty"},
		{"another CSV", []byte("name,phone\nAn,0901234567\n"), "not a CSV export from ODK Central"},
		{"another form", renameColumn(central, "core-c_procedure", "core-q1"), "not part of papi's form: core-q1"},
		{"kobo labels as headers", renameColumn(kobo, `"c_procedure"`, `"Hôm nay Ông/Bà đến Trung tâm để làm loại thủ tục nào?"`), "not part of papi's form"},
		{"no version column", dropColumn(central, ',', "papi_version"), "no papi_version column"},
		{"a field's column missing", dropColumn(central, ',', "d2-d2_budget_public"), "lacks columns of questionnaire version " + c.Version + ": d2_budget_public"},
		{"unknown questionnaire version", edit(t, central, "papi_version", 3, "2030.9"), `version "2030.9"`},
		{"malformed CSV", append(slices.Clone(central), []byte("\"unclosed,quote\n")...), "malformed at line"},
		{"no submission id", dropColumn(dropColumn(central, ',', "KEY"), ',', "meta-instanceID"), "no submission id column"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := readAll(t, tc.data)
			var derr *Error
			if !errors.As(err, &derr) || derr.Code != EINVALID || !strings.Contains(derr.Message.En, tc.want) || derr.Message.Vi == "" {
				t.Errorf("got %v, want an invalid-file error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestImportReadsSpreadsheetResaves(t *testing.T) {
	cats, _ := Catalogues()
	c := cats[0]
	rows := households(t, c, 4, 4)
	data := export(t, c, ODKCentral, ExportOptions{GroupNames: true}, rows)
	// Excel adds a byte-order mark and CRLF line ends when it saves CSV.
	resaved := append([]byte("\xef\xbb\xbf"), bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))...)
	_, got, rerrs, err := readAll(t, resaved)
	if err != nil || len(rerrs) > 0 || len(got) != 4 {
		t.Fatalf("got %d rows, %v, %v", len(got), rerrs, err)
	}
	if got[0].Visit.Answers["c_comment"] != rows[0].Visit.Answers["c_comment"] {
		t.Errorf("comment: got %q, want %q", got[0].Visit.Answers["c_comment"], rows[0].Visit.Answers["c_comment"])
	}
}

func readCSV(data []byte, comma rune) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = comma
	return r.ReadAll()
}

func writeCSV(w io.Writer, recs [][]string, comma rune) {
	cw := csv.NewWriter(w)
	cw.Comma = comma
	_ = cw.WriteAll(recs)
}

// exportStream is an export of n rows made on the fly from a few hundred
// rendered households, each row with its own instanceID, so a benchmark can
// read 100,000 rows without holding the file in memory.
type exportStream struct {
	head  []byte
	parts [][][]byte // per template row: the text around its instanceID
	n, i  int
	buf   bytes.Buffer
}

const placeholderID = "uuid:00000000-0000-4000-8000-00000000cafe"

func newExportStream(t testing.TB, c *Catalogue, format ExportFormat, n int) *exportStream {
	rows := households(t, c, 300, 42)
	for i := range rows {
		rows[i].InstanceID = placeholderID
	}
	data := export(t, c, format, ExportOptions{GroupNames: true}, rows)
	head, body, _ := bytes.Cut(data, []byte("\n"))
	s := &exportStream{head: append(head, '\n'), n: n}
	recs, _ := readCSV(data, map[ExportFormat]rune{ODKCentral: ',', KoboToolbox: ';'}[format])
	var lines [][]byte
	var b bytes.Buffer
	for _, rec := range recs[1:] {
		b.Reset()
		writeCSV(&b, [][]string{rec}, map[ExportFormat]rune{ODKCentral: ',', KoboToolbox: ';'}[format])
		lines = append(lines, slices.Clone(b.Bytes()))
	}
	_ = body
	for _, l := range lines {
		s.parts = append(s.parts, bytes.Split(l, []byte(strings.TrimPrefix(placeholderID, "uuid:"))))
	}
	return s
}

func (s *exportStream) Read(p []byte) (int, error) {
	for s.buf.Len() < len(p) && s.i <= s.n {
		if s.i == 0 {
			s.buf.Write(s.head)
		} else {
			parts := s.parts[s.i%len(s.parts)]
			id := fmt.Sprintf("%08x-0000-4000-8000-%012x", s.i, s.i)
			for j, part := range parts {
				if j > 0 {
					s.buf.WriteString(id)
				}
				s.buf.Write(part)
			}
		}
		s.i++
	}
	if s.buf.Len() == 0 {
		return 0, io.EOF
	}
	return s.buf.Read(p)
}

// BenchmarkImportReader reads and validates a 100,000-row export (parsing
// and the intake's validation, no database): the rate is reported as
// rows/s.
func BenchmarkImportReader(b *testing.B) {
	cats, _ := Catalogues()
	c := cats[len(cats)-1]
	n := 100_000
	if s := os.Getenv("PAPI_BENCH_IMPORT_ROWS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for _, format := range []ExportFormat{ODKCentral, KoboToolbox} {
		b.Run(string(format), func(b *testing.B) {
			for b.Loop() {
				ir, err := NewImportReader(newExportStream(b, c, format, n), cats)
				if err != nil {
					b.Fatal(err)
				}
				rows := 0
				for {
					_, err := ir.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					rows++
				}
				if rows != n {
					b.Fatalf("read %d rows, want %d", rows, n)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// TestImportCheckInParallel checks records on several goroutines, as the
// import does, and gets what checking them one by one gives.
func TestImportCheckInParallel(t *testing.T) {
	cats, _ := Catalogues()
	c := cats[len(cats)-1]
	rows := households(t, c, 80, 6)
	data := edit(t, export(t, c, KoboToolbox, ExportOptions{GroupNames: true}, rows), "core/c_satisfaction", 7, "9")
	_, want, wantErrs, err := readAll(t, data)
	if err != nil {
		t.Fatal(err)
	}
	ir, err := NewImportReader(bytes.NewReader(data), cats)
	if err != nil {
		t.Fatal(err)
	}
	var recs []*Record
	for {
		r, err := ir.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	got := make([]Imported, len(recs))
	errs := make([]error, len(recs))
	done := make(chan struct{})
	for w := range 4 {
		go func() {
			for i := w; i < len(recs); i += 4 {
				got[i], errs[i] = ir.Check(recs[i])
			}
			done <- struct{}{}
		}()
	}
	for range 4 {
		<-done
	}
	var good []Imported
	var bad []string
	for i := range got {
		if errs[i] != nil {
			bad = append(bad, errs[i].Error())
			continue
		}
		good = append(good, got[i])
	}
	if !reflect.DeepEqual(good, want) || len(bad) != 1 || bad[0] != wantErrs[0].Error() {
		t.Errorf("in parallel: %d rows, errors %q; one by one: %d rows, errors %v", len(good), bad, len(want), wantErrs)
	}
}
