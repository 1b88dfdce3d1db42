package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
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
	CreatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

func (r userRow) user() survey.User {
	return survey.User{ID: r.ID, Email: r.Email, Role: survey.Role(r.Role), CommuneCode: r.CommuneCode, CreatedAt: r.CreatedAt}
}

type sessionRow struct {
	// TokenHash is the SHA-256 of the bearer token; the token itself is
	// only ever held by the client.
	TokenHash string `gorm:"primaryKey;size:64"`
	UserID    uint   `gorm:"not null;index"`
	CreatedAt time.Time
	ExpiresAt time.Time `gorm:"not null;index"`
}

func (sessionRow) TableName() string { return "sessions" }

// SessionLifetime is how long a login lasts.
const SessionLifetime = 12 * time.Hour

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

var errBadLogin = survey.Errorf(survey.EUNAUTHORIZED, "Email hoặc mật khẩu không đúng.", "Wrong email or password.")

// Login checks a password and opens a session, returning its bearer token.
func (s *Store) Login(ctx context.Context, email, password string) (string, survey.User, error) {
	var r userRow
	err := s.read.WithContext(ctx).Where("email = ?", strings.ToLower(strings.TrimSpace(email))).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		// Spend the same time as a real check so timing does not reveal
		// which emails have accounts.
		checkPassword(dummyHash, password)
		return "", survey.User{}, errBadLogin
	}
	if err != nil {
		return "", survey.User{}, err
	}
	if !checkPassword(r.PasswordHash, password) {
		return "", survey.User{}, errBadLogin
	}
	token := newToken() + newToken()
	now := s.now().UTC()
	sess := sessionRow{TokenHash: hashToken(token), UserID: r.ID, CreatedAt: now, ExpiresAt: now.Add(SessionLifetime)}
	if err := s.db.WithContext(ctx).Create(&sess).Error; err != nil {
		return "", survey.User{}, err
	}
	return token, r.user(), nil
}

var dummyHash = hashPassword("papi-timing-equaliser")

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// UserBySession returns the account of a live session token.
func (s *Store) UserBySession(ctx context.Context, token string) (survey.User, error) {
	var sess sessionRow
	err := s.read.WithContext(ctx).Where("token_hash = ? AND expires_at > ?", hashToken(token), s.now().UTC()).Take(&sess).Error
	if err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return survey.User{}, survey.Errorf(survey.EUNAUTHORIZED, "Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại.", "Your session has expired; log in again.")
		}
		return survey.User{}, err
	}
	var u userRow
	if err := s.read.WithContext(ctx).Where("id = ?", sess.UserID).Take(&u).Error; err != nil {
		return survey.User{}, survey.Errorf(survey.EUNAUTHORIZED, "Tài khoản không còn tồn tại.", "This account no longer exists.")
	}
	return u.user(), nil
}

// Logout ends a session.
func (s *Store) Logout(ctx context.Context, token string) error {
	return s.db.WithContext(ctx).Where("token_hash = ?", hashToken(token)).Delete(&sessionRow{}).Error
}

type auditRow struct {
	ID     uint64    `gorm:"primaryKey"`
	At     time.Time `gorm:"not null;index"`
	Actor  string    `gorm:"not null"`
	Action string    `gorm:"not null;size:64"`
	Target string
}

func (auditRow) TableName() string { return "audit_log" }

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
}

// Audit records who did what.
func (s *Store) Audit(ctx context.Context, actor, action, target string) error {
	return s.db.WithContext(ctx).Create(&auditRow{At: s.now().UTC(), Actor: actor, Action: action, Target: target}).Error
}

// AuditLog lists the latest entries, newest first.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	var rows []auditRow
	if err := s.read.WithContext(ctx).Order("at DESC, id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = AuditEntry{At: r.At, Actor: r.Actor, Action: r.Action, Target: r.Target}
	}
	return out, nil
}
