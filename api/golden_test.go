package api_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
)

// update rewrites the golden files from what the downloads give today:
// go test ./api -run Golden -update, then read the diff before committing.
var update = flag.Bool("update", false, "rewrite api/testdata/golden from the current downloads")

// downloadCase is one download and the account that asks for it.
type downloadCase struct {
	name, role, path string
}

// goldenPeriod holds every fixture response (100 per commune from 1 June
// 2026, 24 a day).
const goldenPeriod = "from=2026-06-01&to=2026-06-30"

// downloadCases are every download papi offers, in each format and
// rendering (Vietnamese, English, Vietnamese locale).
var downloadCases = []downloadCase{
	{"summary-26740.csv", "commune", "/api/v1/communes/26740/summary?" + goldenPeriod + "&format=csv"},
	{"summary-26740-locale-vi.csv", "commune", "/api/v1/communes/26740/summary?" + goldenPeriod + "&format=csv&locale=vi"},
	{"summary-26740-en.csv", "commune", "/api/v1/communes/26740/summary?" + goldenPeriod + "&format=csv&lang=en"},
	{"summary-26740.xlsx", "commune", "/api/v1/communes/26740/summary?" + goldenPeriod + "&format=xlsx"},
	{"summary-26740-en.xlsx", "commune", "/api/v1/communes/26740/summary?" + goldenPeriod + "&format=xlsx&lang=en"},
	{"summary-city.csv", "department", "/api/v1/summary?" + goldenPeriod + "&format=csv"},
	{"summary-city.xlsx", "department", "/api/v1/summary?" + goldenPeriod + "&format=xlsx"},
	{"compare.csv", "department", "/api/v1/compare?" + goldenPeriod + "&format=csv"},
	{"compare-locale-vi.csv", "department", "/api/v1/compare?" + goldenPeriod + "&format=csv&locale=vi"},
	{"compare.xlsx", "department", "/api/v1/compare?" + goldenPeriod + "&format=xlsx"},
	{"followup.csv", "department", "/api/v1/followup?" + goldenPeriod + "&format=csv"},
	{"followup.xlsx", "department", "/api/v1/followup?" + goldenPeriod + "&format=xlsx"},
	{"followup-en.xlsx", "department", "/api/v1/followup?" + goldenPeriod + "&format=xlsx&lang=en"},
	{"responses-26740.csv", "admin", "/api/v1/communes/26740/responses.csv?from=2026-06-02&to=2026-06-02"},
	{"responses-26740-locale-vi.csv", "admin", "/api/v1/communes/26740/responses.csv?from=2026-06-02&to=2026-06-02&locale=vi"},
}

// MustDownloadServer is a server with 100 responses in each of two
// communes of June 2026, of different quality; the first carries a comment
// with the characters CSV must quote. Submission ids sort as they are
// given, so both engines number the responses alike (PostgreSQL inserts a
// batch in submission id order).
func MustDownloadServer(t testing.TB) *testServer {
	t.Helper()
	ts := MustServer(t, api.RateLimit{Off: true})
	ctx := context.Background()
	cat := ts.store.Catalogue()
	rng := rand.New(rand.NewPCG(21, 22))
	for i, code := range []string{"26740", "25747"} {
		centre := mustCentre(t, ts, code)
		batch := make([]store.NewResponse, 0, 100)
		for k := 0; k < 100; k++ {
			v, err := cat.ValidateSubmission(cat.Synthesize(rng, cat.AssignModules(uint64(k)), 0.3+0.4*float64(i)))
			if err != nil {
				t.Fatal(err)
			}
			if k == 24 {
				v.Answers["c_comment"] = "rất tốt; \"nhanh\", 3.5 phút"
			}
			batch = append(batch, store.NewResponse{SubmissionID: fmt.Sprintf("golden-%s-%03d", code, k), Centre: centre, Version: cat.Version, Visit: v, At: openSlot(k)})
		}
		res, err := ts.store.CreateResponses(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}
	return ts
}

// TestDownloadGolden compares every download with its golden file: CSV
// text byte for byte, XLSX as its cells (value and number format), sheet
// by sheet, with each sheet's page setup.
func TestDownloadGolden(t *testing.T) {
	ts := MustDownloadServer(t)
	for _, tc := range downloadCases {
		t.Run(tc.name, func(t *testing.T) {
			res := ts.do(t, "GET", tc.path, ts.tokens[tc.role], "", nil)
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != 200 {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			got, file := body, filepath.Join("testdata", "golden", tc.name)
			if strings.HasSuffix(tc.name, ".xlsx") {
				checkXLSXLayout(t, body)
				got, file = []byte(dumpXLSX(t, body)), file+".txt"
			}
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (go test ./api -run Golden -update rewrites it):\n%s", tc.name, file, firstDiff(string(got), string(want)))
			}
		})
	}
}

// checkXLSXLayout checks what every sheet of every workbook must have,
// golden files aside: a name Excel accepts, a <dimension> that covers every
// cell (readers such as openpyxl in read-only mode trust it), A4 fitted to
// the page width, a frozen header repeated on every printed page.
func checkXLSXLayout(t *testing.T, data []byte) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	titles := map[string]bool{}
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm.Print_Titles" {
			titles[dn.Scope] = true
		}
	}
	for _, sheet := range f.GetSheetList() {
		if n := utf8.RuneCountInString(sheet); n > 31 {
			t.Errorf("sheet %q: %d characters, Excel takes 31", sheet, n)
		}
		rows, _ := f.GetRows(sheet)
		width := 0
		for _, r := range rows {
			width = max(width, len(r))
		}
		last, _ := excelize.CoordinatesToCellName(max(width, 1), max(len(rows), 1))
		if dim, _ := f.GetSheetDimension(sheet); dim != "A1:"+last {
			t.Errorf("sheet %q: dimension %s, want A1:%s", sheet, dim, last)
		}
		layout, _ := f.GetPageLayout(sheet)
		if deref(layout.Size) != 9 || deref(layout.FitToWidth) != 1 || deref(layout.FitToHeight) != 0 {
			t.Errorf("sheet %q: page size %d, fit %d × %d; want A4 (9), 1 page wide", sheet, deref(layout.Size), deref(layout.FitToWidth), deref(layout.FitToHeight))
		}
		if panes, _ := f.GetPanes(sheet); !panes.Freeze || panes.YSplit == 0 || !titles[sheet] {
			t.Errorf("sheet %q: frozen %v below row %d, print titles %v; want the header frozen and repeated", sheet, panes.Freeze, panes.YSplit, titles[sheet])
		}
	}
}

// firstDiff shows the first line where two texts differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n got: %q\nwant: %q", i+1, a, b)
		}
	}
	return "same lines, different bytes"
}

// dumpXLSX writes a workbook out as text: per sheet its dimension, panes,
// filter, page layout and print titles, then every row, numbers with their
// format in brackets.
func dumpXLSX(t testing.TB, data []byte) string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]string{}
	list := f.GetDefinedName()
	for _, dn := range list {
		names[dn.Scope+" "+dn.Name] = dn.RefersTo
	}
	var b strings.Builder
	for _, sheet := range f.GetSheetList() {
		dim, _ := f.GetSheetDimension(sheet)
		panes, _ := f.GetPanes(sheet)
		layout, _ := f.GetPageLayout(sheet)
		fmt.Fprintf(&b, "== %s\ndimension %s; frozen %v at %s; filter %s; print titles %s\npage size %d %s, fit %d wide × %d tall\n",
			sheet, dim, panes.Freeze, panes.TopLeftCell, names[sheet+" _xlnm._FilterDatabase"], names[sheet+" _xlnm.Print_Titles"],
			deref(layout.Size), deref(layout.Orientation), deref(layout.FitToWidth), deref(layout.FitToHeight))
		rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		for r, cells := range rows {
			for c, v := range cells {
				if c > 0 {
					b.WriteByte('\t')
				}
				b.WriteString(v)
				name, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if typ, _ := f.GetCellType(sheet, name); typ == excelize.CellTypeNumber || typ == excelize.CellTypeUnset && v != "" && isNumber(v) {
					id, _ := f.GetCellStyle(sheet, name)
					st, _ := f.GetStyle(id)
					if st != nil && st.CustomNumFmt != nil {
						b.WriteString(" [" + *st.CustomNumFmt + "]")
					}
				}
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

var numberPattern = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?(E-?[0-9]+)?$`)

func isNumber(s string) bool { return numberPattern.MatchString(s) }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// TestDownloadOptionsInvalid: a format, language or locale papi does not
// offer is a 400 naming the field, and nothing is audited.
func TestDownloadOptionsInvalid(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	audited := func() int {
		var rows []struct{ Action string }
		if res := ts.do(t, "GET", "/api/v1/audit", ts.tokens["admin"], "", &rows); res.StatusCode != 200 {
			t.Fatalf("audit: status %d", res.StatusCode)
		}
		n := 0
		for _, r := range rows {
			if strings.HasPrefix(r.Action, "export_") {
				n++
			}
		}
		return n
	}
	before := audited()
	for _, tc := range []struct{ path, field string }{
		{"/api/v1/communes/26740/summary?format=pdf", "format"},
		{"/api/v1/communes/26740/summary?format=csv&lang=fr", "lang"},
		{"/api/v1/communes/26740/summary?format=xlsx&locale=de", "locale"},
		{"/api/v1/compare?format=html", "format"},
		{"/api/v1/followup?format=csv&locale=en", "locale"},
		{"/api/v1/communes/26740/responses.csv?locale=fr", "locale"},
	} {
		var body struct {
			Errors []struct{ Field, MessageVi, MessageEn string }
		}
		res := ts.do(t, "GET", tc.path, ts.tokens["admin"], "", &body)
		if res.StatusCode != 400 || len(body.Errors) != 1 || body.Errors[0].Field != tc.field {
			t.Errorf("GET %s: got %d %+v, want 400 on %s", tc.path, res.StatusCode, body.Errors, tc.field)
		}
	}
	if after := audited(); after != before {
		t.Errorf("refused downloads were audited: %d export rows, want %d", after, before)
	}
	if res := ts.do(t, "GET", "/api/v1/compare?format=csv&locale=vi&lang=en", ts.tokens["admin"], "", nil); res.StatusCode != 200 || audited() != before+1 {
		t.Errorf("a download: status %d, %d export rows audited, want 200 and %d", res.StatusCode, audited(), before+1)
	}
	// The language chosen on the pages carries over to a download.
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/compare?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+ts.tokens["admin"])
	req.AddCookie(&http.Cookie{Name: "papi_lang", Value: "en"})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if !bytes.Contains(body, []byte("\nCode,Commune,Type,")) || len(res.Cookies()) != 0 {
		t.Errorf("compare CSV with the English page language: got %.300q and cookies %v, want English headers and no cookie set", body, res.Cookies())
	}
}

// TestDownloadsEmptyPeriod: with no answers at all every download still
// opens, with its headers and a valid layout.
func TestDownloadsEmptyPeriod(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	for _, tc := range downloadCases {
		res := ts.do(t, "GET", tc.path, ts.tokens[tc.role], "", nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || len(body) == 0 {
			t.Errorf("%s with no answers: status %d, %d bytes", tc.name, res.StatusCode, len(body))
			continue
		}
		if strings.HasSuffix(tc.name, ".xlsx") {
			checkXLSXLayout(t, body)
		}
	}
}
