package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/papi-hcmc/papi/survey"
)

// Receipts make an answer "verified": the one-stop-shop system prints a
// one-time code when a procedure is finished, and an answer that carries it
// is known to come from someone who was served. So that this cannot be
// abused or turned against the resident:
//   - a receipt is bound to a keyed hash of the procedure's record number,
//     one receipt per record; the record number cannot be read back without
//     the key;
//   - it expires (ReceiptPolicy.Days) and a centre issues at most
//     ReceiptPolicy.DailyCap a day;
//   - the row keeps the day of issue and a used flag, never the moment of
//     use, the answer it verified or who issued it. The issuer is counted
//     per month in receipt_counts (issued, redeemed) for the verified share
//     per issuer, and named in the audit log, one row per issuer, centre
//     and day.
type receiptRow struct {
	// CodeHash is the SHA-256 of the code (80 random bits): a database
	// leak does not reveal codes that are still unused.
	CodeHash string `gorm:"primaryKey;size:64"`
	// RecordHash is the HMAC of the procedure's record number; NULL only
	// for receipts issued before records were required.
	RecordHash *string `gorm:"size:64"`
	CentreID   uint    `gorm:"not null"`
	IssuedOn   string  `gorm:"not null;size:10"`
	ExpiresOn  string  `gorm:"not null;size:10"`
	Used       bool    `gorm:"not null"`
}

func (receiptRow) TableName() string { return "receipts" }

// receiptRowV1 is the receipts table as migration 1 created it. Frozen.
type receiptRowV1 struct {
	CodeHash   string `gorm:"primaryKey;size:64"`
	CentreID   uint   `gorm:"not null;index"`
	IssuedBy   string
	CreatedAt  time.Time
	UsedAt     *time.Time
	ResponseID *uint64
}

func (receiptRowV1) TableName() string { return "receipts" }

// receiptCountRow counts one issuer's receipts in a month: issued that
// month, and redeemed that month (whenever issued).
type receiptCountRow struct {
	IssuerID uint   `gorm:"primaryKey;autoIncrement:false"`
	Month    string `gorm:"primaryKey;size:7"`
	Issued   int64  `gorm:"not null"`
	Redeemed int64  `gorm:"not null"`
}

func (receiptCountRow) TableName() string { return "receipt_counts" }

// secretRow keeps a generated secret, such as the record-number key when
// none is configured.
type secretRow struct {
	Name  string `gorm:"primaryKey;size:32"`
	Value string `gorm:"not null"`
}

func (secretRow) TableName() string { return "secrets" }

// ReceiptPolicy sets the receipt rules.
type ReceiptPolicy struct {
	// Days a receipt stays valid after its day of issue (default 7).
	Days int
	// DailyCap bounds the receipts one centre issues in a city day
	// (default 500).
	DailyCap int
	// Key is the HMAC key for record numbers. Without one a random key is
	// generated and kept in the database; then whoever holds a copy of the
	// database can test guessed record numbers, so production sets
	// PAPI_RECEIPT_KEY.
	Key []byte
}

// DefaultReceiptPolicy is used for the zero fields of Options.Receipts.
var DefaultReceiptPolicy = ReceiptPolicy{Days: 7, DailyCap: 500}

func (p ReceiptPolicy) withDefaults() ReceiptPolicy {
	if p.Days <= 0 {
		p.Days = DefaultReceiptPolicy.Days
	}
	if p.DailyCap <= 0 {
		p.DailyCap = DefaultReceiptPolicy.DailyCap
	}
	return p
}

// receipts is the Store's receipt state.
type receipts struct {
	policy ReceiptPolicy
	mu     sync.Mutex
	key    []byte
}

// Receipt is an issued receipt.
type Receipt struct {
	// Code is given to the resident; only its hash is kept.
	Code      string `json:"code"`
	CentreID  uint   `json:"centre_id"`
	IssuedOn  string `json:"issued_on"`
	ExpiresOn string `json:"expires_on"`
}

// codeLen is the random part of a code: 16 base32 characters, 80 bits.
const codeLen = 16

func hashCode(code string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(code))))
	return hex.EncodeToString(sum[:])
}

// NormalRecord is the form a procedure record number is hashed in: trimmed
// and upper-case, so that "h29.38-251130-0001 " and "H29.38-251130-0001"
// are one record.
func NormalRecord(record string) string { return strings.ToUpper(strings.TrimSpace(record)) }

// ValidateRecord checks a procedure record number: 1 to 64 printable
// characters.
func ValidateRecord(record string) error {
	r := NormalRecord(record)
	if r == "" || len([]rune(r)) > 64 || strings.IndexFunc(r, func(c rune) bool { return !unicode.IsPrint(c) }) >= 0 {
		return survey.Invalid("record", "Cần số hồ sơ thủ tục (1–64 ký tự in được).", "The procedure's record number is required (1–64 printable characters).")
	}
	return nil
}

var (
	errRecordUsed = survey.Errorf(survey.ECONFLICT, "Hồ sơ này đã được cấp biên nhận; mỗi hồ sơ chỉ có một biên nhận.", "A receipt was already issued for this procedure record: one receipt per procedure.")
	errReceiptCap = survey.Errorf(survey.ETOOMANY, "Trung tâm này đã cấp đủ số biên nhận cho hôm nay; hạn mức được tính lại từ 0 giờ.", "This centre has issued today's quota of receipts; the count starts again at midnight.")
)

// CreateReceipt issues a one-time receipt for a finished procedure, bound
// to the procedure's record number. The issuer's id rides in the code's
// tail (the code is held only by the resident), so the redemption can be
// counted for the issuer without the row ever naming one.
//
// An empty record issues an unbound receipt (admin and department staff
// handing out a paper slip); it still expires and counts against the cap.
func (s *Store) CreateReceipt(ctx context.Context, issuer survey.User, centreID uint, record string) (Receipt, error) {
	if record != "" {
		if err := ValidateRecord(record); err != nil {
			return Receipt{}, err
		}
	}
	centre, err := s.Centre(ctx, centreID)
	if err != nil {
		return Receipt{}, err
	}
	key, err := s.recordKey(ctx)
	if err != nil {
		return Receipt{}, err
	}
	var recordHash *string
	if record != "" {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(NormalRecord(record)))
		h := hex.EncodeToString(m.Sum(nil))
		recordHash = &h
	}
	now := s.now().In(survey.Local)
	code := newToken()[:codeLen] + strconv.FormatUint(uint64(issuer.ID), 36)
	p := s.receipts.policy
	out := Receipt{Code: code, CentreID: centreID, IssuedOn: now.Format(survey.DateLayout), ExpiresOn: now.AddDate(0, 0, p.Days).Format(survey.DateLayout)}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var today int64
		if err := tx.Model(&receiptRow{}).Where("centre_id = ? AND issued_on = ?", centreID, out.IssuedOn).Count(&today).Error; err != nil {
			return fmt.Errorf("count today's receipts: %w", err)
		}
		if today >= int64(p.DailyCap) {
			return errReceiptCap
		}
		row := receiptRow{CodeHash: hashCode(code), RecordHash: recordHash, CentreID: centreID, IssuedOn: out.IssuedOn, ExpiresOn: out.ExpiresOn}
		if err := tx.Create(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return errRecordUsed
			}
			return fmt.Errorf("store receipt: %w", err)
		}
		if err := countReceipt(tx, issuer.ID, now, "issued"); err != nil {
			return err
		}
		return s.auditRepeated(tx, issuer.Email, "receipt_issue", "centre "+strconv.FormatUint(uint64(centreID), 10)+" ("+centre.CommuneCode+")", 24*time.Hour)
	})
	if err != nil {
		return Receipt{}, err
	}
	return out, nil
}

// countReceipt adds one to an issuer's issued or redeemed count of the
// month of t.
func countReceipt(tx *gorm.DB, issuerID uint, t time.Time, column string) error {
	row := receiptCountRow{IssuerID: issuerID, Month: t.In(survey.Local).Format("2006-01")}
	if column == "issued" {
		row.Issued = 1
	} else {
		row.Redeemed = 1
	}
	err := tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "issuer_id"}, {Name: "month"}},
		DoUpdates: clause.Set{{Column: clause.Column{Name: column}, Value: gorm.Expr("receipt_counts." + column + " + 1")}},
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("count receipt %s: %w", column, err)
	}
	return nil
}

// recordKey returns the HMAC key for record numbers: the configured one,
// or the database's own, created on first use.
func (s *Store) recordKey(ctx context.Context) ([]byte, error) {
	r := &s.receipts
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.key != nil {
		return r.key, nil
	}
	if len(r.policy.Key) > 0 {
		r.key = r.policy.Key
		return r.key, nil
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("make the record key: %w", err)
	}
	db := s.db.WithContext(ctx)
	// Another process may create it at the same moment: the first one wins
	// and both read it back.
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&secretRow{Name: "receipt_key", Value: hex.EncodeToString(b[:])}).Error; err != nil {
		return nil, fmt.Errorf("store the record key: %w", err)
	}
	var row secretRow
	if err := db.Where("name = ?", "receipt_key").Take(&row).Error; err != nil {
		return nil, fmt.Errorf("read the record key: %w", err)
	}
	key, err := hex.DecodeString(row.Value)
	if err != nil {
		return nil, fmt.Errorf("the stored record key is damaged: %w", err)
	}
	r.key = key
	return key, nil
}

// consumeReceipt marks a receipt used, refusing unknown codes, codes of
// another centre, expired codes and codes used before. Only a flag is set:
// no time of use and no link to the response, so a verified answer cannot
// be matched to its receipt (and through the record number to a person).
func consumeReceipt(tx *gorm.DB, centreID uint, code string, now time.Time) error {
	h := hashCode(code)
	today := survey.LocalDay(now)
	res := tx.Model(&receiptRow{}).
		Where("code_hash = ? AND centre_id = ? AND used = ? AND expires_on >= ?", h, centreID, false, today).
		Update("used", true)
	if res.Error != nil {
		return fmt.Errorf("use receipt: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		if id, ok := codeIssuer(code); ok {
			return countReceipt(tx, id, now, "redeemed")
		}
		return nil
	}
	var r receiptRow
	if err := tx.Where("code_hash = ? AND centre_id = ?", h, centreID).Take(&r).Error; err == nil {
		if r.Used {
			return survey.Errorf(survey.ECONFLICT, "Mã biên nhận này đã được dùng.", "This receipt code has already been used.")
		}
		return survey.Invalid("receipt", "Mã biên nhận đã hết hạn; phiếu vẫn có thể gửi mà không kèm mã.", "The receipt code has expired; the answers can still be sent without it.")
	}
	return survey.Invalid("receipt", "Mã biên nhận không đúng với trung tâm này.", "The receipt code is not valid for this centre.")
}

// codeIssuer reads the issuer's account id from a code's tail; codes from
// before issuers were counted have none.
func codeIssuer(code string) (uint, bool) {
	code = strings.ToLower(strings.TrimSpace(code))
	if len(code) <= codeLen {
		return 0, false
	}
	id, err := strconv.ParseUint(code[codeLen:], 36, 32)
	if err != nil || id == 0 {
		return 0, false
	}
	return uint(id), true
}

// ReceiptCount is one issuer's receipts in one month.
type ReceiptCount struct {
	IssuerID uint   `json:"issuer_id"`
	Month    string `json:"month"`
	Issued   int64  `json:"issued"`
	Redeemed int64  `json:"redeemed"`
}

// ReceiptCounts lists the issuers' monthly counts from month from to month
// to ("YYYY-MM", inclusive), by issuer then month.
func (s *Store) ReceiptCounts(ctx context.Context, from, to string) ([]ReceiptCount, error) {
	var rows []receiptCountRow
	err := s.read.WithContext(ctx).Where("month >= ? AND month <= ?", from, to).Order("issuer_id, month").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read receipt counts: %w", err)
	}
	out := make([]ReceiptCount, len(rows))
	for i, r := range rows {
		out[i] = ReceiptCount(r)
	}
	return out, nil
}
