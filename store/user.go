package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
	"gorm.io/gorm"

	"github.com/papi-hcmc/papi/survey"
)

type userRow struct {
	ID           uint   `gorm:"primaryKey"`
	Email        string `gorm:"not null;uniqueIndex;size:254"`
	PasswordHash string `gorm:"not null"`
	Role         string `gorm:"not null;size:16"`
	CommuneCode  string `gorm:"size:5"`
	Disabled     bool   `gorm:"not null;default:false"`
	CreatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

func (r userRow) user() survey.User {
	return survey.User{ID: r.ID, Email: r.Email, Role: survey.Role(r.Role), CommuneCode: r.CommuneCode, Disabled: r.Disabled, CreatedAt: r.CreatedAt}
}

// argon2id parameters: the OWASP minimum (19 MiB, 2 passes), which keeps a
// login under ~50 ms on the 2-core machines papi runs on.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

func hashPassword(password string) string {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func checkPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when no account has the email, so that the
// answer takes as long as for a real account and does not reveal which
// emails exist. It is made on first use: a CLI command that never logs
// anyone in should not spend 19 MiB and 50 ms on it.
var dummyHash = sync.OnceValue(func() string { return hashPassword("papi-timing-equaliser") })

// CreateUser adds a staff account with an argon2id-hashed password; actor
// is who creates it, recorded in the audit log in the same transaction.
func (s *Store) CreateUser(ctx context.Context, actor string, u survey.User, password string) (survey.User, error) {
	if err := u.Validate(); err != nil {
		return survey.User{}, err
	}
	if err := survey.ValidatePassword(password); err != nil {
		return survey.User{}, err
	}
	if u.CommuneCode != "" {
		if _, err := s.Commune(ctx, u.CommuneCode); err != nil {
			return survey.User{}, err
		}
	}
	// Hashed before the transaction: the writer is not held for the ~50 ms
	// of argon2id.
	r := userRow{Email: u.Email, PasswordHash: hashPassword(password), Role: string(u.Role), CommuneCode: u.CommuneCode, CreatedAt: s.now().UTC()}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&r).Error; err != nil {
			return translate(err, survey.Text{Vi: "Tài khoản " + u.Email, En: "Account " + u.Email})
		}
		return s.writeAudit(tx, actor, "user_create", describeUser(r.user()))
	})
	if err != nil {
		return survey.User{}, err
	}
	return r.user(), nil
}

// describeUser names an account in the audit log.
func describeUser(u survey.User) string {
	d := u.Email + " (" + string(u.Role)
	if u.CommuneCode != "" {
		d += " " + u.CommuneCode
	}
	return d + ")"
}

// Users lists staff accounts.
func (s *Store) Users(ctx context.Context) ([]survey.User, error) {
	var rows []userRow
	if err := s.read.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read accounts: %w", err)
	}
	out := make([]survey.User, len(rows))
	for i, r := range rows {
		out[i] = r.user()
	}
	return out, nil
}

var accountNoun = survey.Text{Vi: "tài khoản", En: "Account"}

// User returns an account by id.
func (s *Store) User(ctx context.Context, id uint) (survey.User, error) {
	var r userRow
	if err := s.read.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return survey.User{}, translate(err, accountNoun)
	}
	return r.user(), nil
}

// UserByEmail returns an account by email address.
func (s *Store) UserByEmail(ctx context.Context, email string) (survey.User, error) {
	var r userRow
	if err := s.read.WithContext(ctx).Where("email = ?", survey.NormalEmail(email)).Take(&r).Error; err != nil {
		return survey.User{}, translate(err, survey.Text{Vi: "tài khoản " + email, En: "Account " + email})
	}
	return r.user(), nil
}

// UpdateUser disables, enables or sets the password of an account, with its
// audit row in the same transaction. Disabling ends every session of the
// account at once; a new password ends every session but keepToken's (the
// session of the person changing it, when it is their own; "" for none).
func (s *Store) UpdateUser(ctx context.Context, actor string, id uint, upd survey.UserUpdate, keepToken string) (survey.User, error) {
	if err := upd.Validate(); err != nil {
		return survey.User{}, err
	}
	var hash string
	if upd.Password != nil {
		hash = hashPassword(*upd.Password)
	}
	var out survey.User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r userRow
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			return translate(err, accountNoun)
		}
		if upd.Disabled != nil && *upd.Disabled != r.Disabled {
			r.Disabled = *upd.Disabled
			action := "user_enable"
			if r.Disabled {
				action = "user_disable"
				if err := tx.Where("user_id = ?", id).Delete(&sessionRow{}).Error; err != nil {
					return fmt.Errorf("end sessions of account %d: %w", id, err)
				}
			}
			if err := tx.Model(&userRow{}).Where("id = ?", id).Update("disabled", r.Disabled).Error; err != nil {
				return fmt.Errorf("update account %d: %w", id, err)
			}
			if err := s.writeAudit(tx, actor, action, describeUser(r.user())); err != nil {
				return err
			}
		}
		if upd.Password != nil {
			if err := tx.Model(&userRow{}).Where("id = ?", id).Update("password_hash", hash).Error; err != nil {
				return fmt.Errorf("set password of account %d: %w", id, err)
			}
			if err := tx.Where("user_id = ? AND token_hash <> ?", id, hashToken(keepToken)).Delete(&sessionRow{}).Error; err != nil {
				return fmt.Errorf("end sessions of account %d: %w", id, err)
			}
			if err := s.writeAudit(tx, actor, "user_password", describeUser(r.user())); err != nil {
				return err
			}
		}
		out = r.user()
		return nil
	})
	return out, err
}
