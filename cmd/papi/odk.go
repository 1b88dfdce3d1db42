package main

// The field-survey commands: the questionnaire as an XLSForm or XForm for
// ODK Collect / KoboToolbox, and the import of their CSV exports.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/survey"
)

// formFlags parses --out FILE [--version V] and returns the catalogue.
func formFlags(name string, args []string) (*survey.Catalogue, string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	out := fs.String("out", "", "file to write")
	version := fs.String("version", "", "questionnaire version (default: the current one)")
	if err := fs.Parse(args); err != nil {
		return nil, "", err
	}
	if *out == "" || fs.NArg() > 0 {
		return nil, "", fmt.Errorf("usage: papi %s --out FILE [--version V]", name)
	}
	cats, err := survey.Catalogues()
	if err != nil {
		return nil, "", err
	}
	cat := cats[len(cats)-1]
	if *version != "" {
		cat = nil
		var known []string
		for _, c := range cats {
			known = append(known, c.Version)
			if c.Version == *version {
				cat = c
			}
		}
		if cat == nil {
			return nil, "", fmt.Errorf("no questionnaire version %q (published: %s)", *version, strings.Join(known, ", "))
		}
	}
	return cat, *out, nil
}

// writeFile writes data next to path and renames it into place, so a
// failure never leaves half a form behind.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// xlsformCmd writes the questionnaire as an XLSForm workbook.
func xlsformCmd(args []string, stdout io.Writer) error {
	cat, out, err := formFlags("xlsform", args)
	if err != nil {
		return err
	}
	f, err := cat.XLSForm()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := api.WriteXLSForm(&buf, f); err != nil {
		return err
	}
	if err := writeFile(out, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote the XLSForm of questionnaire %s to %s (%d questions, every module; upload it to KoboToolbox or ODK Central)\n", cat.Version, out, len(cat.Questions))
	return nil
}

// xformCmd writes the questionnaire as an ODK XForm.
func xformCmd(args []string, stdout io.Writer) error {
	cat, out, err := formFlags("xform", args)
	if err != nil {
		return err
	}
	form, err := cat.XForm()
	if err != nil {
		return err
	}
	if err := writeFile(out, form); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote the XForm of questionnaire %s to %s (upload it to ODK Central as a form definition)\n", cat.Version, out)
	return nil
}

// importCmd imports an ODK Central or KoboToolbox CSV export. Flags may
// come before or after the file name.
func importCmd(ctx context.Context, cfg Config, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	channel := fs.String("channel", survey.ChannelHousehold, "how the answers were collected (household)")
	partial := fs.Bool("partial", false, "keep the valid rows when some rows are invalid")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	dryRun := fs.Bool("dry-run", false, "check every row and report, storing nothing")
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		return errors.New("usage: papi import [--channel household] [--partial] [--dry-run] [--json] FILE (a CSV exported by ODK Central or KoboToolbox; - for standard input)")
	}
	var src io.Reader = stdin
	if files[0] != "-" {
		f, err := os.Open(files[0])
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := api.Import(ctx, st, src, api.ImportOptions{Channel: *channel, Partial: *partial, DryRun: *dryRun})
	if err != nil && !api.ImportRefused(err) {
		var derr *survey.Error
		var verr *survey.ValidationError
		switch {
		case errors.As(err, &derr):
			return fmt.Errorf("%s\n%s", derr.Message.Vi, derr.Message.En)
		case errors.As(err, &verr):
			return fmt.Errorf("%s: %s / %s", verr.Errors[0].Field, verr.Errors[0].Message.Vi, verr.Errors[0].Message.En)
		}
		return err
	}
	if !*dryRun {
		_ = st.Audit(ctx, "cli", map[bool]string{true: "import_refused", false: "import"}[err != nil],
			fmt.Sprintf("%s (%s): %d rows, %d stored, %d already stored, %d invalid, %d skipped", files[0], rep.Format, rep.Rows, rep.Stored, rep.Duplicates, rep.Invalid, rep.Skipped))
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(rep); jerr != nil {
			return jerr
		}
	} else {
		printImport(stdout, rep)
	}
	if err != nil {
		var derr *survey.Error
		errors.As(err, &derr)
		return fmt.Errorf("%s\n%s", derr.Message.Vi, derr.Message.En)
	}
	return nil
}

func printImport(w io.Writer, rep api.ImportReport) {
	tool := map[string]string{string(survey.ODKCentral): "ODK Central", string(survey.KoboToolbox): "KoboToolbox"}[rep.Format]
	fmt.Fprintf(w, "%s export: %d rows — %d valid, %d invalid, %d skipped\n", tool, rep.Rows, rep.Valid, rep.Invalid, rep.Skipped)
	if rep.DryRun {
		fmt.Fprintln(w, "checked only (--dry-run): nothing stored")
	} else {
		fmt.Fprintf(w, "stored %d new household responses; %d were stored before", rep.Stored, rep.Duplicates)
	}
	if rep.Flagged > 0 {
		fmt.Fprintf(w, "; %d held back by the anomaly checks", rep.Flagged)
	}
	if !rep.DryRun {
		fmt.Fprintln(w)
	}
	for _, s := range rep.Skips {
		fmt.Fprintf(w, "skipped row %d (%s): %s\n", s.Row, s.SubmissionID, s.Reason)
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "row %d (%s) %s: %s\n", e.Row, e.SubmissionID, e.Field, e.Message)
	}
	if rep.ErrorsOmitted > 0 {
		fmt.Fprintf(w, "… and %d more problems\n", rep.ErrorsOmitted)
	}
}
