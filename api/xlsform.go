package api

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

	"github.com/papi-hcmc/papi/survey"
)

// MIME types of the field-survey forms.
const (
	mimeXLSX  = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	mimeXForm = "application/xml; charset=UTF-8"
)

// WriteXLSForm renders XLSForm sheets as an .xlsx workbook, every cell as
// text (so a version such as 2025.10 or a commune code keeps its digits),
// with the header row in bold and frozen.
func WriteXLSForm(w io.Writer, f survey.XLSForm) error {
	x := excelize.NewFile()
	defer x.Close()
	bold, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	for i, sh := range []survey.Sheet{f.Survey, f.Choices, f.Settings} {
		if i == 0 {
			if err := x.SetSheetName("Sheet1", sh.Name); err != nil {
				return err
			}
		} else if _, err := x.NewSheet(sh.Name); err != nil {
			return err
		}
		sw, err := x.NewStreamWriter(sh.Name)
		if err != nil {
			return err
		}
		for c := range sh.Columns {
			width := 14.0
			if c >= 2 && i != 2 {
				width = 40 // labels and expressions
			}
			if err := sw.SetColWidth(c+1, c+1, width); err != nil {
				return err
			}
		}
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return err
		}
		header := make([]any, len(sh.Columns))
		for c, name := range sh.Columns {
			header[c] = excelize.Cell{Value: name, StyleID: bold}
		}
		if err := sw.SetRow("A1", header); err != nil {
			return err
		}
		for r, row := range sh.Rows {
			cells := make([]any, len(row))
			for c, v := range row {
				cells[c] = v
			}
			cell, _ := excelize.CoordinatesToCellName(1, r+2)
			if err := sw.SetRow(cell, cells); err != nil {
				return err
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	return x.Write(w)
}

// formCatalogue resolves the ?version= of a form download (the current
// version when absent).
func (s *Server) formCatalogue(c echo.Context) (*survey.Catalogue, error) {
	v := c.QueryParam("version")
	if v == "" {
		return s.store.Catalogue(), nil
	}
	cat, ok := s.store.CatalogueVersion(v)
	if !ok {
		return nil, survey.Errorf(survey.ENOTFOUND, "Không có phiên bản bảng hỏi "+v+".", "No questionnaire version "+v+".")
	}
	return cat, nil
}

// handleXLSFormGet serves the questionnaire as an XLSForm workbook for ODK
// Collect / KoboToolbox.
func (s *Server) handleXLSFormGet(c echo.Context) error {
	cat, err := s.formCatalogue(c)
	if err != nil {
		return err
	}
	f, err := cat.XLSForm()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := WriteXLSForm(&buf, f); err != nil {
		return fmt.Errorf("render XLSForm: %w", err)
	}
	attachment(c, "papi-"+cat.Version+".xlsx", mimeXLSX)
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=300")
	return c.Blob(http.StatusOK, mimeXLSX, buf.Bytes())
}

// handleXFormGet serves the same form as an ODK XForm, which ODK Central
// takes as a form upload.
func (s *Server) handleXFormGet(c echo.Context) error {
	cat, err := s.formCatalogue(c)
	if err != nil {
		return err
	}
	form, err := cat.XForm()
	if err != nil {
		return err
	}
	attachment(c, "papi-"+cat.Version+".xml", mimeXForm)
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=300")
	return c.Blob(http.StatusOK, mimeXForm, form)
}
