package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
)

// mustSoffice finds LibreOffice's soffice, skipping the test when it is
// absent unless PAPI_TEST_LIBREOFFICE_REQUIRED=1 (as in CI).
func mustSoffice(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("LibreOffice conversions are slow; skipped with -short")
	}
	path, err := exec.LookPath("soffice")
	if err != nil {
		if os.Getenv("PAPI_TEST_LIBREOFFICE_REQUIRED") == "1" {
			t.Fatal("soffice not found and PAPI_TEST_LIBREOFFICE_REQUIRED=1 (apt-get install libreoffice-calc-nogui)")
		}
		t.Skip("soffice not found; install libreoffice-calc-nogui to run")
	}
	return path
}

// convert runs LibreOffice headless on files, writing the converted
// copies (to is pdf or xlsx) into dir; infilter sets the CSV import options.
func convert(t *testing.T, soffice, dir, to, infilter string, files ...string) {
	t.Helper()
	args := []string{"-env:UserInstallation=file://" + filepath.Join(dir, "profile"), "--headless", "--norestore"}
	if infilter != "" {
		args = append(args, "--infilter="+infilter)
	}
	args = append(args, "--convert-to", to, "--outdir", filepath.Join(dir, "out"))
	cmd := exec.Command(soffice, append(args, files...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)) + "." + to
		if _, err := os.Stat(filepath.Join(dir, "out", name)); err != nil {
			t.Fatalf("LibreOffice did not convert %s: %v\n%s", filepath.Base(f), err, out)
		}
	}
}

var pdfPage = regexp.MustCompile(`/Type\s*/Page[^s]`)

// pdfPages counts the pages of a PDF by its page objects (LibreOffice
// writes them uncompressed).
func pdfPages(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return len(pdfPage.FindAll(data, -1))
}

// MustCityServer is a server where every one of the 168 communes has
// answers of its own quality, as the follow-up sees the city at volume.
func MustCityServer(t *testing.T, perCommune int) *testServer {
	t.Helper()
	ts := MustServer(t, api.RateLimit{Off: true})
	ctx := context.Background()
	cat := ts.store.Catalogue()
	centres, err := ts.store.AllCentres(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(31, 32))
	batch := make([]store.NewResponse, 0, 500)
	flush := func() {
		res, err := ts.store.CreateResponses(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
		batch = batch[:0]
	}
	for i, centre := range centres {
		quality := 0.2 + 0.6*float64(i%17)/16
		for k := 0; k < perCommune; k++ {
			v, err := cat.ValidateSubmission(cat.Synthesize(rng, cat.AssignModules(uint64(k)), quality))
			if err != nil {
				t.Fatal(err)
			}
			batch = append(batch, store.NewResponse{SubmissionID: fmt.Sprintf("city-%d-%d", centre.ID, k), Centre: centre, Version: cat.Version, Visit: v, At: openSlot(k)})
			if len(batch) == cap(batch) {
				flush()
			}
		}
	}
	if len(batch) > 0 {
		flush()
	}
	return ts
}

// TestDownloadsOpenInLibreOffice converts every download to PDF with
// LibreOffice, as someone printing it would, and counts the A4 pages: the
// commune summary must print on at most 6, one agency's follow-up on at
// most 20. A CSV asked for with locale=vi must come in as numbers under
// Vietnamese settings.
func TestDownloadsOpenInLibreOffice(t *testing.T) {
	soffice := mustSoffice(t)
	start := time.Now()
	ts := MustCityServer(t, 100)
	t.Logf("fixture: %s", time.Since(start))
	dir := t.TempDir()
	const period = "from=2026-06-01&to=2026-06-30"
	downloads := map[string]string{
		"summary.xlsx":         "/api/v1/communes/26740/summary?" + period + "&format=xlsx",
		"summary-en.xlsx":      "/api/v1/communes/26740/summary?" + period + "&format=xlsx&lang=en",
		"city.xlsx":            "/api/v1/summary?" + period + "&format=xlsx",
		"compare.xlsx":         "/api/v1/compare?" + period + "&format=xlsx",
		"followup.xlsx":        "/api/v1/followup?" + period + "&format=xlsx",
		"summary-csv.csv":      "/api/v1/communes/26740/summary?" + period + "&format=csv",
		"compare-csv.csv":      "/api/v1/compare?" + period + "&format=csv",
		"followup-csv.csv":     "/api/v1/followup?" + period + "&format=csv",
		"responses-csv.csv":    "/api/v1/communes/26740/responses.csv?" + period,
		"summary-csv-vi.csv":   "/api/v1/communes/26740/summary?" + period + "&format=csv&locale=vi",
		"compare-csv-vi.csv":   "/api/v1/compare?" + period + "&format=csv&locale=vi",
		"responses-csv-vi.csv": "/api/v1/communes/26740/responses.csv?" + period + "&locale=vi",
	}
	files := map[string][]string{}
	for name, path := range downloads {
		asked := time.Now()
		res := ts.do(t, "GET", path, ts.tokens["admin"], "", nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: status %d", path, res.StatusCode)
		}
		t.Logf("%s: %d bytes in %s", name, len(body), time.Since(asked).Round(time.Millisecond))
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, body, 0o644); err != nil {
			t.Fatal(err)
		}
		kind := filepath.Ext(name)
		if strings.HasSuffix(name, "-vi.csv") {
			kind = "vi"
		}
		files[kind] = append(files[kind], file)
	}
	// One agency's follow-up, as that agency prints it: the workbook with
	// only the sheet of the agency with the most items.
	agency, items := oneAgency(t, filepath.Join(dir, "followup.xlsx"), filepath.Join(dir, "agency.xlsx"))
	files[".xlsx"] = append(files[".xlsx"], filepath.Join(dir, "agency.xlsx"))

	start = time.Now()
	convert(t, soffice, dir, "pdf", "", files[".xlsx"]...)
	// CSV import options: separator, quote, UTF-8 (76), from line 1.
	convert(t, soffice, dir, "pdf", "CSV:44,34,76,1", files[".csv"]...)
	convert(t, soffice, dir, "pdf", "CSV:59,34,76,1", files["vi"]...)
	t.Logf("conversions: %s", time.Since(start))
	if keep := os.Getenv("PAPI_TEST_LIBREOFFICE_OUT"); keep != "" {
		// For a look at the printed pages: PAPI_TEST_LIBREOFFICE_OUT=/tmp/pdf.
		if err := os.CopyFS(keep, os.DirFS(dir)); err != nil {
			t.Error(err)
		}
	}
	t.Logf("busiest agency: %s, %d items", agency, items)
	for _, kind := range []string{".xlsx", ".csv", "vi"} {
		for _, f := range files[kind] {
			name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
			n := pdfPages(t, filepath.Join(dir, "out", name+".pdf"))
			t.Logf("%s: %d A4 pages", filepath.Base(f), n)
			if n == 0 {
				t.Errorf("%s: the PDF has no pages", filepath.Base(f))
			}
			switch name {
			case "summary", "summary-en":
				if n > 6 {
					t.Errorf("%s: the commune summary prints on %d pages, want at most 6", filepath.Base(f), n)
				}
			case "agency":
				// At least 40 items a page keeps a list of 800 on 20 pages,
				// whatever the fixture's size.
				if n > 20 || items < 40*(n-1) {
					t.Errorf("follow-up of %s (%d items) prints on %d pages, want at most 20 and at least 40 items a page", agency, items, n)
				}
			}
		}
	}
	if items < 20 {
		t.Errorf("the busiest agency has %d follow-up items; the fixture should give it a real list", items)
	}

	// Under Vietnamese settings (language 1066), "," decimals are numbers;
	// "." ones would come in as text.
	convert(t, soffice, dir, "xlsx", "CSV:59,34,76,1,,1066", filepath.Join(dir, "compare-csv-vi.csv"))
	numbers, texts := numericCells(t, filepath.Join(dir, "out", "compare-csv-vi.xlsx"), "D1")
	if numbers == 0 || texts > 0 {
		t.Errorf("compare with locale=vi opened in Vietnamese: %d D1 scores read as numbers, %d as text; want all numbers", numbers, texts)
	}
}

// oneAgency saves the follow-up workbook with only the sheet that has the
// most rows, and returns that sheet's name and item count.
func oneAgency(t *testing.T, from, to string) (string, int) {
	t.Helper()
	f, err := excelize.OpenFile(from)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	best, most := "", 0
	for _, s := range sheets[1 : len(sheets)-1] { // the overview and the tasks aside
		rows, _ := f.GetRows(s)
		if len(rows) > most {
			best, most = s, len(rows)
		}
	}
	for _, s := range sheets {
		if s != best {
			if err := f.DeleteSheet(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.SaveAs(to); err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows(best)
	head := 0
	for i, r := range rows {
		if len(r) > 0 && r[0] == "Xã/phường" {
			head = i
		}
	}
	return best, len(rows) - head - 1
}

// numericCells counts the cells of a column, below its header, that a
// workbook holds as numbers and as text.
func numericCells(t *testing.T, path, header string) (numbers, texts int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetList()[0]
	rows, _ := f.GetRows(sheet)
	col := -1
	for r, cells := range rows {
		for c, v := range cells {
			if col < 0 && v == header {
				col = c
				continue
			}
			if col >= 0 && c == col && v != "" {
				name, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if typ, _ := f.GetCellType(sheet, name); typ == excelize.CellTypeNumber || typ == excelize.CellTypeUnset {
					numbers++
				} else {
					texts++
				}
			}
		}
	}
	return numbers, texts
}
