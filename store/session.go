package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/papi-hcmc/papi/survey"
)

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
