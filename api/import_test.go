package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/survey"
)

// fieldHouseholds makes n synthetic household interviews of the current
// questionnaire on the given day, each answering every module, validated by
// the intake.
func fieldHouseholds(t testing.TB, cat *survey.Catalogue, n int, day time.Time, seed uint64) []survey.ExportRow {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 17))
	communes, _ := survey.Communes()
	rows := make([]survey.ExportRow, n)
	for i := range rows {
		v, err := cat.ValidateSubmission(cat.Synthesize(rng, cat.AllModules(), rng.Float64()))
		if err != nil {
			t.Fatalf("synthetic household %d: %v", i, err)
		}
		rows[i] = survey.ExportRow{
			InstanceID:    fmt.Sprintf("uuid:%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), i, rng.IntN(4096), rng.IntN(4096), rng.Uint64()&(1<<48-1)),
			Submitted:     day.Add(18 * time.Hour),
			Commune:       communes[rng.IntN(len(communes))].Code,
			InterviewDate: day.Format(survey.DateLayout),
			Visit:         v,
		}
	}
	return rows
}

func fieldExport(t testing.TB, cat *survey.Catalogue, format survey.ExportFormat, opt survey.ExportOptions, rows []survey.ExportRow) []byte {
	t.Helper()
	f, err := cat.XLSForm()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.WriteExport(&buf, format, opt, rows); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// postImport sends an export to POST /api/v1/imports.
func (ts *testServer) postImport(t testing.TB, token, query string, csv []byte, multipartUpload bool) (*http.Response, api.ImportReport, string) {
	t.Helper()
	body, ctype := io.Reader(bytes.NewReader(csv)), "text/csv"
	if multipartUpload {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		fw, _ := mw.CreateFormFile("file", "papi-export.csv")
		_, _ = fw.Write(csv)
		_ = mw.Close()
		body, ctype = &b, mw.FormDataContentType()
	}
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/imports"+query, body)
	req.Header.Set("Content-Type", ctype)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var rep api.ImportReport
	_ = json.Unmarshal(data, &rep)
	return res, rep, string(data)
}

// weekday returns a recent Monday-to-Saturday date: until the store keeps
// household responses apart, imported rows go through the centre's
// opening-hours check.
func weekday() time.Time {
	d := time.Now().In(survey.Local).AddDate(0, 0, -3)
	if d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, -1)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, survey.Local)
}

func TestImportEndpoint(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	cat := ts.store.Catalogue()
	rows := fieldHouseholds(t, cat, 40, weekday(), 1)
	central := fieldExport(t, cat, survey.ODKCentral, survey.ExportOptions{GroupNames: true}, rows)
	kobo := fieldExport(t, cat, survey.KoboToolbox, survey.ExportOptions{SplitMultiple: true}, rows)
	admin := ts.tokens["admin"]

	// Only administrators import.
	if res, _, _ := ts.postImport(t, "", "", central, false); res.StatusCode != 401 {
		t.Errorf("no account: status %d, want 401", res.StatusCode)
	}
	if res, _, _ := ts.postImport(t, ts.tokens["department"], "", central, false); res.StatusCode != 403 {
		t.Errorf("department: status %d, want 403", res.StatusCode)
	}

	// A file that is not the form's export stores nothing.
	for name, data := range map[string][]byte{
		"another CSV":   []byte("ho_ten,so_dien_thoai\nAn,0901234567\n"),
		"another form":  bytes.Replace(central, []byte("core-c_procedure"), []byte("core-q1"), 1),
		"wrong version": bytes.ReplaceAll(central, []byte(","+cat.Version+","), []byte(",1999.1,")),
	} {
		res, _, body := ts.postImport(t, admin, "", data, false)
		if res.StatusCode != 400 || !strings.Contains(body, `"message_vi"`) || ts.count(t) != 0 {
			t.Errorf("%s: status %d, %d stored, body %.200s; want 400 and nothing stored", name, res.StatusCode, ts.count(t), body)
		}
	}

	// A dry run checks and stores nothing.
	res, rep, _ := ts.postImport(t, admin, "?dry_run=1", central, false)
	if res.StatusCode != 200 || !rep.DryRun || rep.Valid != 40 || rep.Stored != 0 || ts.count(t) != 0 {
		t.Fatalf("dry run: status %d, report %+v, %d stored; want 200, 40 valid and nothing stored", res.StatusCode, rep, ts.count(t))
	}

	// One bad row: all-or-nothing by default, row by row errors.
	lines := bytes.Split(central, []byte("\n"))
	lines[6] = bytes.Replace(lines[6], []byte(","+rows[5].Commune+","), []byte(",00000,"), 1) // row 7 is rows[5]
	bad := bytes.Join(lines, []byte("\n"))
	res, rep, body := ts.postImport(t, admin, "", bad, false)
	if res.StatusCode != 400 || rep.Stored != 0 || rep.Invalid != 1 || rep.Valid != 39 || ts.count(t) != 0 {
		t.Fatalf("a bad row: status %d, report %+v, %d stored; want 400 and nothing stored", res.StatusCode, rep, ts.count(t))
	}
	if len(rep.Errors) != 1 || rep.Errors[0].Row != 7 || rep.Errors[0].Field != "commune" || rep.Errors[0].MessageVi == "" || rep.Errors[0].MessageEn == "" ||
		!strings.Contains(body, `"error":{"code":"invalid"`) {
		t.Errorf("errors: %+v, body %.300s; want row 7 field commune in both languages", rep.Errors, body)
	}

	// partial=1 keeps the valid rows.
	res, rep, _ = ts.postImport(t, admin, "?partial=1&channel=household", bad, true)
	if res.StatusCode != 201 || rep.Stored != 39 || rep.Invalid != 1 || rep.Format != "odk_central" || ts.count(t) != 39 {
		t.Fatalf("partial: status %d, report %+v, %d stored; want 201 and 39 stored", res.StatusCode, rep, ts.count(t))
	}
	// The whole file from KoboToolbox: only the row left out is new.
	res, rep, _ = ts.postImport(t, admin, "", kobo, false)
	if res.StatusCode != 201 || rep.Format != "kobotoolbox" || rep.Stored != 1 || rep.Duplicates != 39 || ts.count(t) != 40 {
		t.Fatalf("kobo: status %d, report %+v, %d stored; want 201, 1 new and 39 already stored", res.StatusCode, rep, ts.count(t))
	}
	// Again: nothing new.
	res, rep, _ = ts.postImport(t, admin, "", central, false)
	if res.StatusCode != 200 || rep.Stored != 0 || rep.Duplicates != 40 || ts.count(t) != 40 {
		t.Fatalf("re-import: status %d, report %+v, %d stored; want 200 and nothing new", res.StatusCode, rep, ts.count(t))
	}
	stored, err := ts.store.ResponseBySubmission(context.Background(), rows[3].InstanceID)
	if err != nil || stored.CommuneCode != rows[3].Commune || stored.Day != rows[3].InterviewDate || !reflect.DeepEqual(stored.Answers, rows[3].Visit.Answers) {
		t.Errorf("stored row 3: %+v, %v; want commune %s, day %s and its answers", stored, err, rows[3].Commune, rows[3].InterviewDate)
	}

	for _, q := range []string{"?channel=kiosk", "?partial=yes"} {
		if res, _, _ := ts.postImport(t, admin, q, central, false); res.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400", q, res.StatusCode)
		}
	}
	var audit []struct{ Action, Target string }
	ts.do(t, "GET", "/api/v1/audit", admin, "", &audit)
	actions := map[string]int{}
	for _, a := range audit {
		actions[a.Action]++
	}
	if actions["import"] != 3 || actions["import_refused"] != 1 {
		t.Errorf("audit: %v, want 3 imports and 1 refused", actions)
	}
}

// withoutChannels drops the "channels" counts from a decoded answer: the
// same answers count as household interviews when imported and as QR
// answers when posted, and everything else must agree.
func withoutChannels(v any) any {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "channels")
		for _, e := range x {
			withoutChannels(e)
		}
	case []any:
		for _, e := range x {
			withoutChannels(e)
		}
	}
	return v
}

// sameUpToRounding compares decoded JSON, numbers up to their last bits:
// running sums added in another grouping (a batch of the import against
// the live intake's, or delta rows folded at another moment)
// differ there, as recompute allows (store.sameTally).
func sameUpToRounding(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !sameUpToRounding(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameUpToRounding(x[i], y[i]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && math.Abs(x-y) <= 1e-12*math.Max(1, math.Abs(y))
	}
	return reflect.DeepEqual(a, b)
}

// TestImportRoundTrip exports the form, writes ODK Central's and
// KoboToolbox's CSVs for 500 synthetic households, imports each into its
// own papi, submits the same answers through POST /api/v1/responses into a
// third, and requires the same comparison of all 168 communes and the same
// commune summaries from all three, but for the channel counts.
func TestImportRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("500 households into three databases")
	}
	servers := map[string]*testServer{}
	for _, name := range []string{"central", "kobo", "responses"} {
		servers[name] = MustServer(t, api.RateLimit{Off: true})
	}
	cat := servers["central"].store.Catalogue()
	today := time.Now().In(survey.Local)
	rows := fieldHouseholds(t, cat, 500, time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, survey.Local), 500)

	for name, data := range map[string][]byte{
		"central": fieldExport(t, cat, survey.ODKCentral, survey.ExportOptions{GroupNames: true, SplitMultiple: true}, rows),
		"kobo":    fieldExport(t, cat, survey.KoboToolbox, survey.ExportOptions{OnlySplit: true}, rows),
	} {
		ts := servers[name]
		res, rep, body := ts.postImport(t, ts.tokens["admin"], "", data, false)
		if res.StatusCode != 201 || rep.Stored != 500 {
			t.Fatalf("%s import: status %d, %.300s", name, res.StatusCode, body)
		}
	}
	// The same answers through the resident intake, at each commune's
	// centre.
	ts := servers["responses"]
	tokens := map[string]string{}
	for _, r := range rows {
		if tokens[r.Commune] != "" {
			continue
		}
		var centres []struct{ Token string }
		ts.do(t, "GET", "/api/v1/communes/"+r.Commune+"/centres", ts.tokens["admin"], "", &centres)
		tokens[r.Commune] = centres[0].Token
	}
	for i, r := range rows {
		body, _ := json.Marshal(map[string]any{
			"token": tokens[r.Commune], "submission_id": fmt.Sprintf("roundtrip-%04d", i), "questionnaire_version": cat.Version,
			"modules": r.Visit.Modules, "answers": r.Visit.Answers, "sex": r.Visit.Sex, "age_group": r.Visit.AgeGroup,
		})
		if res := ts.do(t, "POST", "/api/v1/responses", "", string(body), nil); res.StatusCode != 201 {
			data, _ := io.ReadAll(res.Body)
			t.Fatalf("POST response %d: status %d %s", i, res.StatusCode, data)
		}
	}

	day := today.Format(survey.DateLayout)
	get := func(name, path string) any {
		var out any
		if res := servers[name].do(t, "GET", path, servers[name].tokens["admin"], "", &out); res.StatusCode != 200 {
			t.Fatalf("%s %s: status %d", name, path, res.StatusCode)
		}
		return out
	}
	paths := []string{"/api/v1/compare?from=" + day + "&to=" + day + "&flagged=include"}
	for _, r := range rows[:5] {
		paths = append(paths, "/api/v1/communes/"+r.Commune+"/summary?from="+day+"&to="+day+"&flagged=include")
	}
	for _, p := range paths {
		want := withoutChannels(get("responses", p))
		for _, name := range []string{"central", "kobo"} {
			if got := withoutChannels(get(name, p)); !sameUpToRounding(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Errorf("%s %s:\n got %.600s\nwant %.600s", name, p, g, w)
			}
		}
	}
}
