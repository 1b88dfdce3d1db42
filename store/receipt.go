package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/papi-hcmc/papi/survey"
)

type receiptRow struct {
	// CodeHash is the SHA-256 of the code: a database leak does not reveal
	// codes that are still unused.
	CodeHash   string `gorm:"primaryKey;size:64"`
	CentreID   uint   `gorm:"not null;index"`
	IssuedBy   string
	CreatedAt  time.Time
	UsedAt     *time.Time
	ResponseID *uint64
}

func (receiptRow) TableName() string { return "receipts" }

func hashCode(code string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(code))))
	return hex.EncodeToString(sum[:])
}

// CreateReceipt issues a one-time receipt code for a finished procedure at a
// centre.
func (s *Store) CreateReceipt(ctx context.Context, centreID uint, issuedBy string) (string, error) {
	if _, err := s.Centre(ctx, centreID); err != nil {
		return "", err
	}
	code := newToken()[:16]
	r := receiptRow{CodeHash: hashCode(code), CentreID: centreID, IssuedBy: issuedBy, CreatedAt: s.now().UTC()}
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		return "", err
	}
	return code, nil
}

// consumeReceipt marks a receipt used, refusing unknown codes, codes of
// another centre and codes used before.
func consumeReceipt(tx *gorm.DB, centreID uint, code string, now time.Time) error {
	res := tx.Model(&receiptRow{}).
		Where("code_hash = ? AND centre_id = ? AND used_at IS NULL", hashCode(code), centreID).
		Update("used_at", now)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var r receiptRow
	if err := tx.Where("code_hash = ? AND centre_id = ?", hashCode(code), centreID).Take(&r).Error; err == nil {
		return survey.Errorf(survey.ECONFLICT, "Mã biên nhận này đã được dùng.", "This receipt code has already been used.")
	}
	return survey.Invalid("receipt", "Mã biên nhận không đúng với trung tâm này.", "The receipt code is not valid for this centre.")
}
