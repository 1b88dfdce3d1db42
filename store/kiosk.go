package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/papi-hcmc/papi/survey"
)

// KioskCodeLifetime is how long a kiosk's enrolment code works: staff
// enrol the tablet while they stand beside it, so a day is plenty, and a
// code left on a screen or in a chat expires.
const KioskCodeLifetime = 24 * time.Hour

// Kiosk is a centre's tablet on which residents answer one after another.
// Staff create it, which gives a one-time enrolment code; the tablet trades
// the code for a device secret, which it sends with every submission.
// Neither the code nor the secret is stored, only their SHA-256.
type Kiosk struct {
	ID       uint   `json:"id"`
	CentreID uint   `json:"centre_id"`
	Label    string `json:"label"`
	// CreatedAt is when staff created the kiosk; EnrolledAt when a tablet
	// used its code (nil until then); RevokedAt when staff revoked it.
	CreatedAt  time.Time  `json:"created_at"`
	EnrolledAt *time.Time `json:"enrolled_at"`
	// CodeExpiresAt is when the enrolment code stops working; nil once used
	// or revoked.
	CodeExpiresAt *time.Time `json:"code_expires_at,omitempty"`
	// LastSeen is the city day of the tablet's last submission or check
	// (empty before it has any): no finer time is kept.
	LastSeen  string     `json:"last_seen"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// Revoked reports whether staff revoked the kiosk.
func (k Kiosk) Revoked() bool { return k.RevokedAt != nil }

type kioskRow struct {
	ID            uint `gorm:"primaryKey"`
	CentreID      uint
	Label         string
	CodeHash      *string
	CodeExpiresAt *time.Time
	SecretHash    *string
	CreatedAt     time.Time
	EnrolledAt    *time.Time
	LastSeen      string
	RevokedAt     *time.Time
}

func (kioskRow) TableName() string { return "kiosks" }

func (r kioskRow) kiosk() Kiosk {
	k := Kiosk{ID: r.ID, CentreID: r.CentreID, Label: r.Label, CreatedAt: r.CreatedAt, EnrolledAt: r.EnrolledAt,
		LastSeen: r.LastSeen, RevokedAt: r.RevokedAt}
	if r.CodeHash != nil {
		k.CodeExpiresAt = r.CodeExpiresAt
	}
	return k
}

// describeKiosk names a kiosk in the audit log.
func describeKiosk(r kioskRow) string {
	return fmt.Sprintf("kiosk %d of centre %d: %s", r.ID, r.CentreID, r.Label)
}

var kioskWhat = survey.Text{Vi: "máy kiosk", En: "Kiosk"}

// newKioskCode returns a one-time enrolment code: 10 characters of
// base32 (50 random bits), short enough to type on a tablet, unguessable
// within its lifetime at the throttled rate of attempts.
func newKioskCode() string {
	b := make([]byte, 7)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:10]
}

// normKioskCode forgives case and spaces in a typed code.
func normKioskCode(code string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), " ", ""))
}

// CreateKiosk adds a kiosk to a centre and returns it with its one-time
// enrolment code (shown once, stored only as a hash), audited in the same
// transaction.
func (s *Store) CreateKiosk(ctx context.Context, actor string, centreID uint, label string) (Kiosk, string, error) {
	label = strings.TrimSpace(label)
	if label == "" || len([]rune(label)) > 100 {
		return Kiosk{}, "", survey.Invalid("label", "Tên máy kiosk cần từ 1 đến 100 ký tự.", "The kiosk label needs 1 to 100 characters.")
	}
	if _, err := s.Centre(ctx, centreID); err != nil {
		return Kiosk{}, "", err
	}
	code := newKioskCode()
	now := s.now().UTC()
	hash, expires := hashToken(code), now.Add(KioskCodeLifetime)
	r := kioskRow{CentreID: centreID, Label: label, CodeHash: &hash, CodeExpiresAt: &expires, CreatedAt: now}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&r).Error; err != nil {
			return translate(err, kioskWhat)
		}
		return s.writeAudit(tx, actor, "kiosk_create", describeKiosk(r))
	})
	if err != nil {
		return Kiosk{}, "", err
	}
	return r.kiosk(), code, nil
}

var errKioskCode = survey.Invalid("code",
	"Mã kích hoạt không đúng, đã dùng hoặc đã hết hạn. Vui lòng nhờ cán bộ tạo mã mới ở trang Trung tâm.",
	"The enrolment code is wrong, used or expired. Ask staff for a new one on the centres page.")

// EnrolKiosk trades a one-time enrolment code of one of the centre's
// kiosks for the device secret the tablet keeps. The code then stops
// working; the secret is returned once and only its hash is stored. A
// wrong, used, expired or revoked code is refused alike.
func (s *Store) EnrolKiosk(ctx context.Context, centreID uint, code string) (Kiosk, string, error) {
	code = normKioskCode(code)
	if code == "" || len(code) > 64 {
		return Kiosk{}, "", errKioskCode
	}
	secret := newToken() + newToken()
	now := s.now().UTC()
	var r kioskRow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Where("code_hash = ? AND centre_id = ? AND revoked_at IS NULL AND code_expires_at > ?", hashToken(code), centreID, now).Take(&r).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return errKioskCode
		} else if err != nil {
			return fmt.Errorf("find kiosk code: %w", err)
		}
		hash := hashToken(secret)
		r.SecretHash, r.EnrolledAt, r.CodeHash, r.CodeExpiresAt, r.LastSeen = &hash, &now, nil, nil, survey.LocalDay(now)
		// The code's hash in the condition: of two tablets racing with one
		// code, only one gets a secret.
		res := tx.Model(&kioskRow{}).Where("id = ? AND code_hash = ?", r.ID, hashToken(code)).Updates(map[string]any{
			"secret_hash": hash, "enrolled_at": now, "code_hash": nil, "code_expires_at": nil, "last_seen": r.LastSeen})
		if res.Error != nil {
			return fmt.Errorf("enrol kiosk: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return errKioskCode
		}
		return s.writeAudit(tx, "kiosk "+fmt.Sprint(r.ID), "kiosk_enrol", describeKiosk(r))
	})
	if err != nil {
		return Kiosk{}, "", err
	}
	return r.kiosk(), secret, nil
}

// KioskBySecret returns the kiosk a device secret belongs to, revoked or
// not (the caller decides; a revoked tablet is told so).
func (s *Store) KioskBySecret(ctx context.Context, secret string) (Kiosk, error) {
	if secret == "" || len(secret) > 256 {
		return Kiosk{}, translate(gorm.ErrRecordNotFound, kioskWhat)
	}
	var r kioskRow
	if err := s.read.WithContext(ctx).Where("secret_hash = ?", hashToken(secret)).Take(&r).Error; err != nil {
		return Kiosk{}, translate(err, kioskWhat)
	}
	return r.kiosk(), nil
}

// Kiosk returns a kiosk by id.
func (s *Store) Kiosk(ctx context.Context, id uint) (Kiosk, error) {
	var r kioskRow
	if err := s.read.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return Kiosk{}, translate(err, kioskWhat)
	}
	return r.kiosk(), nil
}

// Kiosks lists a centre's kiosks, revoked ones included, oldest first.
func (s *Store) Kiosks(ctx context.Context, centreID uint) ([]Kiosk, error) {
	var rows []kioskRow
	if err := s.read.WithContext(ctx).Where("centre_id = ?", centreID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list kiosks: %w", err)
	}
	out := make([]Kiosk, len(rows))
	for i, r := range rows {
		out[i] = r.kiosk()
	}
	return out, nil
}

// RevokeKiosk stops a kiosk: its tablet's submissions are refused from now
// on and an unused enrolment code stops working. It is audited in the same
// transaction; revoking a revoked kiosk changes nothing.
func (s *Store) RevokeKiosk(ctx context.Context, actor string, id uint) (Kiosk, error) {
	var r kioskRow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			return translate(err, kioskWhat)
		}
		if r.RevokedAt != nil {
			return nil
		}
		now := s.now().UTC()
		if err := tx.Model(&kioskRow{}).Where("id = ?", id).Updates(map[string]any{
			"revoked_at": now, "code_hash": nil, "code_expires_at": nil}).Error; err != nil {
			return fmt.Errorf("revoke kiosk: %w", err)
		}
		r.RevokedAt, r.CodeHash, r.CodeExpiresAt = &now, nil, nil
		return s.writeAudit(tx, actor, "kiosk_revoke", describeKiosk(r))
	})
	if err != nil {
		return Kiosk{}, err
	}
	return r.kiosk(), nil
}

// TouchKiosk records that a kiosk was in use today (city time); it writes
// only on the first call of a day.
func (s *Store) TouchKiosk(ctx context.Context, id uint) error {
	day := survey.LocalDay(s.now())
	if err := s.db.WithContext(ctx).Model(&kioskRow{}).Where("id = ? AND last_seen <> ?", id, day).Update("last_seen", day).Error; err != nil {
		return fmt.Errorf("touch kiosk: %w", err)
	}
	return nil
}
