package api_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/survey"
)

// readXLSForm reads a workbook back into XLSForm sheets.
func readXLSForm(t *testing.T, data []byte) survey.XLSForm {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	defer x.Close()
	if got := x.GetSheetList(); strings.Join(got, ",") != "survey,choices,settings" {
		t.Errorf("sheets %q, want survey, choices, settings", got)
	}
	sheet := func(name string) survey.Sheet {
		rows, err := x.GetRows(name)
		if err != nil || len(rows) == 0 {
			t.Fatalf("sheet %s: %v", name, err)
		}
		s := survey.Sheet{Name: name, Columns: rows[0]}
		for _, r := range rows[1:] {
			// Trailing empty cells are not stored in the file.
			for len(r) < len(s.Columns) {
				r = append(r, "")
			}
			s.Rows = append(s.Rows, r)
		}
		return s
	}
	return survey.XLSForm{Survey: sheet("survey"), Choices: sheet("choices"), Settings: sheet("settings")}
}

func TestFormDownloads(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	cats, err := survey.Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range append([]*survey.Catalogue{nil}, cats...) {
		query, version := "", ts.store.Catalogue().Version
		if c != nil {
			query, version = "?version="+c.Version, c.Version
		}
		t.Run("version "+version+query, func(t *testing.T) {
			res := ts.do(t, "GET", "/api/v1/catalogue/xlsform"+query, "", "", nil)
			workbook, _ := io.ReadAll(res.Body)
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
				!strings.Contains(res.Header.Get("Content-Disposition"), `filename="papi-`+version+`.xlsx"`) {
				t.Fatalf("xlsform: status %d, type %q, disposition %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
			}
			f := readXLSForm(t, workbook)
			if err := f.Validate(); err != nil {
				t.Errorf("the workbook read back: %v", err)
			}
			if got := f.Settings.Cell(0, "version"); got != version {
				t.Errorf("settings version %q (read back as text), want %q", got, version)
			}
			// The workbook holds exactly the form: converting what was
			// read back gives the XForm the server serves.
			fromWorkbook, err := f.XForm()
			if err != nil {
				t.Fatal(err)
			}
			res = ts.do(t, "GET", "/api/v1/catalogue/xform"+query, "", "", nil)
			served, _ := io.ReadAll(res.Body)
			if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/xml") ||
				!strings.Contains(res.Header.Get("Content-Disposition"), `filename="papi-`+version+`.xml"`) {
				t.Fatalf("xform: status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
			}
			if !bytes.Equal(fromWorkbook, served) {
				t.Error("the XForm converted from the downloaded workbook differs from the served XForm")
			}
			if !bytes.Contains(served, []byte(`<data id="papi" version="`+version+`">`)) {
				t.Errorf("the XForm is not version %s", version)
			}
		})
	}
	for _, path := range []string{"/api/v1/catalogue/xlsform?version=1999.9", "/api/v1/catalogue/xform?version=1999.9"} {
		var body struct {
			Error struct {
				Code      string
				MessageVi string `json:"message_vi"`
			}
		}
		if res := ts.do(t, "GET", path, "", "", &body); res.StatusCode != 404 || body.Error.Code != survey.ENOTFOUND || body.Error.MessageVi == "" {
			t.Errorf("%s: status %d, error %+v, want 404 not_found", path, res.StatusCode, body.Error)
		}
	}
}
