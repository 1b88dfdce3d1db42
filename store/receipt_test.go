package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

var issuer = survey.User{ID: 7, Email: "onestop@hcmc.vn", Role: survey.RoleIssuer}

// TestReceipts closes H1's receipt rules in the store: a receipt is bound
// to a procedure record (one per record), is valid at its own centre only,
// once, and until it expires; issued and redeemed receipts are counted per
// issuer and month.
func TestReceipts(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, survey.Local)
	eachBackendRaw(t, func() time.Time { return now }, func(t *testing.T, st *store.Store, _ *gorm.DB) {
		now = time.Date(2026, 11, 30, 9, 0, 0, 0, survey.Local)
		ctx := context.Background()
		cat := st.Catalogue()
		rng := rand.New(rand.NewPCG(5, 6))
		centre := firstCentre(t, st, "26740")
		other := firstCentre(t, st, "25747")
		r, err := st.CreateReceipt(ctx, issuer, centre.ID, " h29.38-251130-0001 ")
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Code) != 17 || !strings.HasSuffix(r.Code, "7") || r.IssuedOn != "2026-11-30" || r.ExpiresOn != "2026-12-07" {
			t.Errorf("receipt: got %+v, want a 16+1 character code, issued 2026-11-30, expiring 2026-12-07", r)
		}
		for _, tc := range []struct {
			name, record string
			centre       uint
			want         string
		}{
			{"same record again", "H29.38-251130-0001", centre.ID, survey.ECONFLICT},
			{"same record at another centre", "h29.38-251130-0001", other.ID, survey.ECONFLICT},
			{"no record", "  ", centre.ID, survey.EINVALID},
			{"record too long", strings.Repeat("9", 65), centre.ID, survey.EINVALID},
			{"control character", "H29\x00", centre.ID, survey.EINVALID},
			{"unknown centre", "H29.38-251130-0009", 999999, survey.ENOTFOUND},
		} {
			if _, err := st.CreateReceipt(ctx, issuer, tc.centre, tc.record); survey.ErrorCode(err) != tc.want {
				t.Errorf("%s: got %v, want %s", tc.name, err, tc.want)
			}
		}
		submit := func(id string, c store.Centre, code string) (bool, error) {
			_, created, err := st.CreateResponse(ctx, store.NewResponse{SubmissionID: id, Centre: c, Version: cat.Version,
				Visit: MustVisit(t, cat, rng, cat.AssignModules(1)), Receipt: code, DurationMS: 120000})
			return created, err
		}
		for i, tc := range []struct {
			name    string
			centre  store.Centre
			code    string
			want    string
			created bool
		}{
			{"wrong centre", other, r.Code, survey.EINVALID, false},
			{"unknown code", centre, "zzzzzzzzzzzzzzzz7", survey.EINVALID, false},
			{"valid, in upper case", centre, strings.ToUpper(r.Code), "", true},
			{"second use", centre, r.Code, survey.ECONFLICT, false},
		} {
			created, err := submit(fmt.Sprintf("receipt-case-%d", i), tc.centre, tc.code)
			if tc.want == "" && err != nil || tc.want != "" && survey.ErrorCode(err) != tc.want || created != tc.created {
				t.Errorf("%s: got created %v err %v, want %q", tc.name, created, err, tc.want)
			}
		}
		if got, _ := st.ResponseBySubmission(ctx, "receipt-case-2"); !got.Verified {
			t.Error("response with a valid receipt is not verified")
		}
		// Expiry: valid through the 7th day after issue, not the 8th.
		last, _ := st.CreateReceipt(ctx, issuer, centre.ID, "H29.38-251130-0002")
		late, _ := st.CreateReceipt(ctx, issuer, centre.ID, "H29.38-251130-0003")
		now = now.AddDate(0, 0, 7)
		if _, err := submit("receipt-day-7", centre, last.Code); err != nil {
			t.Errorf("on its 7th day: %v", err)
		}
		now = now.AddDate(0, 0, 1)
		if _, err := submit("receipt-day-8", centre, late.Code); survey.ErrorCode(err) != survey.EINVALID || !strings.Contains(err.Error(), "expired") {
			t.Errorf("on its 8th day: got %v, want an expired-receipt field error", err)
		}
		if n, _ := st.ResponseCount(ctx, ""); n != 2 {
			t.Errorf("got %d stored responses, want 2: refused receipts store nothing", n)
		}
		// 3 issued in November; 2 redeemed: one in November, one in December.
		counts, err := st.ReceiptCounts(ctx, "2026-11", "2026-12")
		if err != nil {
			t.Fatal(err)
		}
		want := []store.ReceiptCount{{IssuerID: 7, Month: "2026-11", Issued: 3, Redeemed: 1}, {IssuerID: 7, Month: "2026-12", Issued: 0, Redeemed: 1}}
		if !slices.Equal(counts, want) {
			t.Errorf("counts: got %+v, want %+v", counts, want)
		}
	})
}

// TestReceiptDailyCap: a centre issues at most DailyCap receipts a city
// day; the next day it may issue again, and other centres are not held up.
func TestReceiptDailyCap(t *testing.T) {
	var now time.Time
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			now = time.Date(2026, 11, 30, 23, 0, 0, 0, survey.Local)
			st, _ := MustOpenRaw(t, b, store.Options{Now: func() time.Time { return now }, Receipts: store.ReceiptPolicy{DailyCap: 3}})
			ctx := context.Background()
			centre := firstCentre(t, st, "26740")
			for i := 0; i < 3; i++ {
				if _, err := st.CreateReceipt(ctx, issuer, centre.ID, fmt.Sprintf("R-%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := st.CreateReceipt(ctx, issuer, centre.ID, "R-3"); survey.ErrorCode(err) != survey.ETOOMANY {
				t.Errorf("4th receipt of the day: got %v, want too_many_requests", err)
			}
			if _, err := st.CreateReceipt(ctx, issuer, firstCentre(t, st, "25747").ID, "R-4"); err != nil {
				t.Errorf("another centre: %v", err)
			}
			now = now.Add(time.Hour) // 00:00 the next day in the city
			if _, err := st.CreateReceipt(ctx, issuer, centre.ID, "R-3"); err != nil {
				t.Errorf("next day: %v", err)
			}
		})
	}
}

// TestReceiptRowsHoldNoLink closes M7: the receipt row keeps no time of
// use, no response and no issuer, the record number only as a keyed hash,
// and the issuer appears only in the audit log, counted per day.
func TestReceiptRowsHoldNoLink(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 17, 23, 0, survey.Local)
	eachBackendRaw(t, func() time.Time { return now }, func(t *testing.T, st *store.Store, raw *gorm.DB) {
		ctx := context.Background()
		cat := st.Catalogue()
		centre := firstCentre(t, st, "26740")
		const record = "H29.38-251130-4242"
		r, err := st.CreateReceipt(ctx, issuer, centre.ID, record)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateReceipt(ctx, issuer, centre.ID, record+"-2"); err != nil {
			t.Fatal(err)
		}
		v := MustVisit(t, cat, rand.New(rand.NewPCG(1, 2)), cat.AssignModules(1))
		if _, _, err := st.CreateResponse(ctx, store.NewResponse{SubmissionID: "m7-linked-0001", Centre: centre, Version: cat.Version, Visit: v, Receipt: r.Code, DurationMS: 90000}); err != nil {
			t.Fatal(err)
		}
		var rows []map[string]any
		if err := raw.Table("receipts").Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		plain := sha256.Sum256([]byte(record))
		for _, row := range rows {
			var cols []string
			for k, v := range row {
				cols = append(cols, k)
				s := fmt.Sprint(v)
				if strings.Contains(s, record) || s == hex.EncodeToString(plain[:]) || strings.Contains(s, issuer.Email) {
					t.Errorf("receipt column %s = %q reveals the record or the issuer", k, s)
				}
			}
			slices.Sort(cols)
			if got := strings.Join(cols, ","); got != "centre_id,code_hash,expires_on,issued_on,record_hash,used" {
				t.Errorf("receipt columns: got %s, want only centre_id, code_hash, expires_on, issued_on, record_hash, used", got)
			}
		}
		log, _ := st.AuditLog(ctx, store.AuditFilter{Action: "receipt_issue"})
		midnight := time.Date(2026, 11, 30, 0, 0, 0, 0, survey.Local)
		if len(log) != 1 || log[0].Actor != issuer.Email || log[0].Count != 2 || !log[0].At.Equal(midnight) {
			t.Errorf("receipt_issue audit: got %+v, want one row of 2 at the day's start", log)
		}
	})
}

// TestReceiptRecordNumberNotStored: the procedure record number appears
// nowhere in the SQLite files, and the database's own key survives a
// restart (one receipt per record still holds).
func TestReceiptRecordNumberNotStored(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "papi.db")
	cats, _ := survey.Catalogues()
	ctx := context.Background()
	const record = "HS-2026-ZQX-778899"
	for i := 0; i < 2; i++ {
		st, err := store.Open(ctx, path, store.Options{Catalogues: cats})
		if err != nil {
			t.Fatal(err)
		}
		communes, _ := survey.Communes()
		if err := st.Seed(ctx, communes); err != nil {
			t.Fatal(err)
		}
		_, err = st.CreateReceipt(ctx, issuer, firstCentre(t, st, "26740").ID, record)
		if want := []string{"", survey.ECONFLICT}[i]; want == "" && err != nil || want != "" && survey.ErrorCode(err) != want {
			t.Errorf("open %d: got %v, want %q", i+1, err, want)
		}
		for _, f := range []string{path, path + "-wal"} {
			data, _ := os.ReadFile(f)
			if bytes.Contains(data, []byte(record)) {
				t.Errorf("%s holds the record number in clear", filepath.Base(f))
			}
		}
		st.Close()
	}
}
