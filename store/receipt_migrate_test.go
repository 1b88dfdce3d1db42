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
	if err := old.AutoMigrate(&schemaMigration{}); err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:6] {
		if err := m.up(old); err != nil {
			t.Fatalf("migration %d: %v", m.version, err)
		}
		old.Create(&schemaMigration{Version: m.version, Name: m.name, AppliedAt: time.Now()})
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
	st, err := Open(context.Background(), path, Options{Catalogues: cats, Now: func() time.Time { return now }})
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
