package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/store/storetest"
	"github.com/papi-hcmc/papi/survey"
)

// exportFile writes n synthetic household interviews (every module) as an
// ODK Central or KoboToolbox CSV export and returns its path.
func exportFile(t testing.TB, dir string, format survey.ExportFormat, n int, seed uint64) string {
	t.Helper()
	cats, _ := survey.Catalogues()
	cat := cats[len(cats)-1]
	rng := rand.New(rand.NewPCG(seed, 99))
	communes, _ := survey.Communes()
	d := time.Now().In(survey.Local).AddDate(0, 0, -2)
	if d.Weekday() == time.Sunday { // the interim storage screens household rows like QR answers
		d = d.AddDate(0, 0, -1)
	}
	rows := make([]survey.ExportRow, n)
	for i := range rows {
		v, err := cat.ValidateSubmission(cat.Synthesize(rng, cat.AllModules(), rng.Float64()))
		if err != nil {
			t.Fatal(err)
		}
		rows[i] = survey.ExportRow{InstanceID: fmt.Sprintf("uuid:%08x-0000-4000-8000-%012x", seed, i), Submitted: d,
			Commune: communes[rng.IntN(len(communes))].Code, InterviewDate: d.Format(survey.DateLayout), Visit: v}
	}
	f, err := cat.XLSForm()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.WriteExport(&buf, format, survey.ExportOptions{GroupNames: true}, rows); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.csv", format, seed))
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runPapi(t *testing.T, db string, args ...string) (string, error) {
	t.Helper()
	env := func(k string) string {
		if k == "PAPI_DB" {
			return db
		}
		return ""
	}
	var out bytes.Buffer
	err := run(context.Background(), args, env, strings.NewReader(""), &out, &out)
	return out.String(), err
}

func TestFormCommands(t *testing.T) {
	dir := t.TempDir()
	xlsx, xml := filepath.Join(dir, "papi.xlsx"), filepath.Join(dir, "papi.xml")
	if out, err := runPapi(t, "", "xlsform", "--out", xlsx, "--version", "2025.1"); err != nil || !strings.Contains(out, "wrote the XLSForm of questionnaire 2025.1") {
		t.Fatalf("papi xlsform: %v %s", err, out)
	}
	x, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if v, _ := x.GetCellValue("settings", "C2"); v != "2025.1" {
		t.Errorf("settings version %q, want 2025.1", v)
	}
	if out, err := runPapi(t, "", "xform", "--out", xml); err != nil || !strings.Contains(out, "wrote the XForm") {
		t.Fatalf("papi xform: %v %s", err, out)
	}
	cats, _ := survey.Catalogues()
	want, _ := cats[len(cats)-1].XForm()
	if got, _ := os.ReadFile(xml); !bytes.Equal(got, want) {
		t.Error("papi xform wrote something else than the current version's XForm")
	}
	for _, args := range [][]string{{"xform"}, {"xform", "--out", xml, "--version", "1999.1"}, {"xlsform", "--out", filepath.Join(dir, "missing", "f.xlsx")}} {
		if _, err := runPapi(t, "", args...); err == nil {
			t.Errorf("papi %q: no error", args)
		}
	}
}

func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "papi.db")
	central := exportFile(t, dir, survey.ODKCentral, 30, 1)
	if out, err := runPapi(t, db, "import", "--dry-run", central); err != nil || !strings.Contains(out, "30 valid") || !strings.Contains(out, "nothing stored") {
		t.Fatalf("papi import --dry-run: %v\n%s", err, out)
	}
	out, err := runPapi(t, db, "import", "--channel", "household", central)
	if err != nil || !strings.Contains(out, "ODK Central export: 30 rows — 30 valid, 0 invalid, 0 skipped") || !strings.Contains(out, "stored 30 new household responses; 0 were stored before") {
		t.Fatalf("papi import: %v\n%s", err, out)
	}
	// Again, with the flag after the file: nothing new.
	if out, err = runPapi(t, db, "import", central, "--channel", "household"); err != nil || !strings.Contains(out, "stored 0 new household responses; 30 were stored before") {
		t.Fatalf("papi import again: %v\n%s", err, out)
	}
	// A bad row: nothing stored, the row named, a failing exit.
	data, _ := os.ReadFile(exportFile(t, dir, survey.KoboToolbox, 10, 2))
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = ';'
	recs, err := r.ReadAll()
	col := slices.Index(recs[0], "core/c_procedure")
	if err != nil || col < 0 {
		t.Fatalf("kobo export: %v, header %q; want a core/c_procedure column", err, recs[0])
	}
	recs[4][col] = "không rõ" // row 5
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma = ';'
	_ = w.WriteAll(recs)
	bad := filepath.Join(dir, "bad.csv")
	_ = os.WriteFile(bad, b.Bytes(), 0o600)
	out, err = runPapi(t, db, "import", bad)
	if err == nil || !strings.Contains(out, "row 5 (uuid:") || !strings.Contains(out, "answers.c_procedure") || !strings.Contains(err.Error(), "partial") {
		t.Fatalf("papi import of a bad file: %v\n%s", err, out)
	}
	if out, err = runPapi(t, db, "import", "--partial", bad); err != nil || !strings.Contains(out, "stored 9 new household responses") {
		t.Fatalf("papi import --partial: %v\n%s", err, out)
	}
	if out, err = runPapi(t, db, "import", "--json", bad); err == nil || !strings.Contains(out, `"invalid": 1`) {
		t.Fatalf("papi import --json: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"import"}, {"import", "--channel", "kiosk", central}, {"import", filepath.Join(dir, "nope.csv")}, {"import", xlsformPath(t, dir)}} {
		if out, err := runPapi(t, db, args...); err == nil {
			t.Errorf("papi %q: no error\n%s", args, out)
		}
	}
	st := storetest.MustOpen(t, db, store.Options{})
	if n, _ := st.ResponseCount(context.Background(), ""); n != 39 {
		t.Errorf("%d responses stored, want 39", n)
	}
}

// xlsformPath writes the form itself: a file that is no export at all.
func xlsformPath(t *testing.T, dir string) string {
	p := filepath.Join(dir, "form.xlsx")
	if _, err := runPapi(t, "", "xlsform", "--out", p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestImportWhileServing runs `papi import` as its own process on the
// database a `papi serve` process is taking submissions on: both finish,
// nothing is lost and nothing fails.
func TestImportWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns papi processes")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "papi.db")
	srv := startPapi(t, db, filepath.Join(dir, "serve.log"))
	tokens := centreTokens(t, db)
	file := exportFile(t, dir, survey.ODKCentral, 3000, 7)
	bm := newBodyMaker(t, tokens, 200, 3)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan struct{})
	var mu sync.Mutex
	var accepted int
	var failures []string
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 30 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				r := submit(ctx, c, srv.base, bm.body(fmt.Sprintf("while-import-%d-%05d", w, i)))
				mu.Lock()
				if r.err != nil {
					failures = append(failures, r.err.Error())
				} else {
					accepted++
				}
				mu.Unlock()
				if i >= 500 {
					return
				}
			}
		}()
	}
	cmd := exec.CommandContext(ctx, papiBinary(t), "import", "--channel", "household", file)
	cmd.Env = papiEnv(db, "127.0.0.1:0")
	out, err := cmd.CombinedOutput()
	close(done)
	wg.Wait()
	if err != nil || !strings.Contains(string(out), "stored 3000 new household responses") {
		t.Fatalf("papi import while serving: %v\n%s", err, out)
	}
	if len(failures) > 0 {
		t.Errorf("%d submissions failed during the import, e.g. %s", len(failures), failures[0])
	}
	srv.stop(t)
	counts, _ := storedCounts(t, db)
	if len(counts) != 3000+accepted {
		t.Errorf("%d responses stored, want %d imported + %d submitted", len(counts), 3000, accepted)
	}
	t.Logf("imported 3000 rows while %d submissions were accepted: %s", accepted, strings.TrimSpace(string(out)))
}
