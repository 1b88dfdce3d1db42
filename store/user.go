package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/papi-hcmc/papi/survey"
)

type userRow struct {
	ID           uint   `gorm:"primaryKey"`
	Email        string `gorm:"not null;uniqueIndex;size:254"`
	PasswordHash string `gorm:"not null"`
	Role         string `gorm:"not null;size:16"`
	CommuneCode  string `gorm:"size:5"`
	CreatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

func (r userRow) user() survey.User {
	return survey.User{ID: r.ID, Email: r.Email, Role: survey.Role(r.Role), CommuneCode: r.CommuneCode, CreatedAt: r.CreatedAt}
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

// CreateUser adds a staff account with an argon2id-hashed password.
func (s *Store) CreateUser(ctx context.Context, u survey.User, password string) (survey.User, error) {
	if err := u.Validate(); err != nil {
		return survey.User{}, err
	}
	if err := survey.ValidatePassword(password); err != nil {
		return survey.User{}, err
	}
	if u.Role == survey.RoleCommune {
		if _, err := s.Commune(ctx, u.CommuneCode); err != nil {
			return survey.User{}, err
		}
	}
	r := userRow{Email: u.Email, PasswordHash: hashPassword(password), Role: string(u.Role), CommuneCode: u.CommuneCode, CreatedAt: s.now().UTC()}
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		return survey.User{}, translate(err, survey.Text{Vi: "Tài khoản " + u.Email, En: "Account " + u.Email})
	}
	return r.user(), nil
}

// Users lists staff accounts.
func (s *Store) Users(ctx context.Context) ([]survey.User, error) {
	var rows []userRow
	if err := s.read.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]survey.User, len(rows))
	for i, r := range rows {
		out[i] = r.user()
	}
	return out, nil
}

var dummyHash = hashPassword("papi-timing-equaliser")
