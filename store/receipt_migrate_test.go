package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/papi-hcmc/papi/survey"
)

// TestReceiptMigration upgrades a database whose receipts have the old
// shape (issuer, issue and use times, response link): the rows keep
// working, used ones stay used, and the columns that linked a verified
// answer to its receipt are gone.
func TestReceiptMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "papi.db")
	old, err := gorm.Open(sqlite.Open(path), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	// The schema as it stood before step 10 (receipts bound to records):
	// every earlier step's SQL, recorded as applied. Step 8 rebuilds the
	// tallies from the responses, of which there are none here.
	ctx := context.Background()
	if err := old.Exec("CREATE TABLE `schema_migrations` (`version` integer,`name` text,`applied_at` datetime,PRIMARY KEY (`version`))").Error; err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations {
		if m.version >= 10 {
			break
		}
		for _, q := range m.sqlite {
			if err := old.Exec(q).Error; err != nil {
				t.Fatalf("migration %d: %s: %v", m.version, q, err)
			}
		}
		if m.version == 3 {
			if err := addFingerprint(ctx, &Store{}, old); err != nil {
				t.Fatal(err)
			}
		}
		if err := old.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", m.version, m.name, time.Now()).Error; err != nil {
			t.Fatal(err)
		}
	}
	// 2026-11-29 20:30 UTC is 30 November in the city.
	issued := time.Date(2026, 11, 29, 20, 30, 0, 0, time.UTC)
	used := issued.Add(time.Hour)
	rid := uint64(12)
	for _, r := range []receiptRowV1{
		{CodeHash: hashCode("unusedcode000001"), CentreID: 1, IssuedBy: "xa@ubnd.vn", CreatedAt: issued},
		{CodeHash: hashCode("usedcode00000002"), CentreID: 1, IssuedBy: "xa@ubnd.vn", CreatedAt: issued, UsedAt: &used, ResponseID: &rid},
	} {
		if err := old.Create(&r).Error; err != nil {
			t.Fatal(err)
		}
	}
	if db, err := old.DB(); err == nil {
		db.Close()
	}

	cats, _ := survey.Catalogues()
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, survey.Local)
	st, err := Open(ctx, path, Options{Catalogues: cats, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer st.Close()
	var rows []map[string]any
	st.read.Table("receipts").Order("code_hash").Find(&rows)
	if len(rows) != 2 {
		t.Fatalf("got %d receipts after the upgrade, want 2", len(rows))
	}
	for _, r := range rows {
		if len(r) != 6 || r["issued_on"] != "2026-11-30" || r["expires_on"] != "2026-12-07" || r["record_hash"] != nil {
			t.Errorf("upgraded receipt: got %v, want 6 columns, issued 2026-11-30 (city day), expiring 2026-12-07", r)
		}
	}
	err = st.db.Transaction(func(tx *gorm.DB) error {
		if err := consumeReceipt(tx, 1, "usedcode00000002", now); survey.ErrorCode(err) != survey.ECONFLICT {
			t.Errorf("a receipt used before the upgrade: got %v, want conflict", err)
		}
		if err := consumeReceipt(tx, 1, "unusedcode000001", now); err != nil {
			t.Errorf("an unused receipt from before the upgrade: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
