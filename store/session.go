package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
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
	// LastSeenAt moves with use (at most once a minute) for the idle
	// timeout.
	LastSeenAt time.Time
}

func (sessionRow) TableName() string { return "sessions" }

// Session limits: a login lasts at most SessionLifetime, and ends sooner
// after SessionIdle without a request, so an unattended office computer
// does not stay logged in all day.
const (
	SessionLifetime = 12 * time.Hour
	SessionIdle     = 60 * time.Minute
	// touchEvery bounds the writes that keep a session alive to one a
	// minute per session.
	touchEvery = time.Minute
)

var (
	errBadLogin = survey.Errorf(survey.EUNAUTHORIZED, "Email hoặc mật khẩu không đúng.", "Wrong email or password.")
	errDisabled = survey.Errorf(survey.EFORBIDDEN, "Tài khoản này đã bị khóa; vui lòng liên hệ quản trị viên.", "This account is disabled; ask an administrator.")
	errExpired  = survey.Errorf(survey.EUNAUTHORIZED, "Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại.", "Your session has expired; log in again.")
)

// Login checks a password and opens a session, returning its bearer token.
// The login is audited in the session's transaction, and sessions that
// have expired (anyone's) are deleted there too.
func (s *Store) Login(ctx context.Context, email, password string) (string, survey.User, error) {
	var r userRow
	err := s.read.WithContext(ctx).Where("email = ?", survey.NormalEmail(email)).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		// Spend the same time as a real check so timing does not reveal
		// which emails have accounts.
		checkPassword(dummyHash(), password)
		return "", survey.User{}, errBadLogin
	}
	if err != nil {
		return "", survey.User{}, fmt.Errorf("read account: %w", err)
	}
	if !checkPassword(r.PasswordHash, password) {
		return "", survey.User{}, errBadLogin
	}
	// Said only to someone who knows the password.
	if r.Disabled {
		return "", survey.User{}, errDisabled
	}
	token := newToken() + newToken()
	now := s.now().UTC()
	sess := sessionRow{TokenHash: hashToken(token), UserID: r.ID, CreatedAt: now, ExpiresAt: now.Add(SessionLifetime), LastSeenAt: now}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := purgeSessions(tx, now); err != nil {
			return err
		}
		if err := tx.Create(&sess).Error; err != nil {
			return fmt.Errorf("open session: %w", err)
		}
		return s.writeAudit(tx, r.Email, "login", "")
	})
	if err != nil {
		return "", survey.User{}, err
	}
	return token, r.user(), nil
}

// purgeSessions deletes sessions past their lifetime or idle too long.
func purgeSessions(tx *gorm.DB, now time.Time) error {
	if err := tx.Where("expires_at <= ? OR last_seen_at <= ?", now, now.Add(-SessionIdle)).Delete(&sessionRow{}).Error; err != nil {
		return fmt.Errorf("purge expired sessions: %w", err)
	}
	return nil
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// UserBySession returns the account of a live session token: within its
// lifetime, used within SessionIdle, of an account that is not disabled.
// Each use keeps the session alive.
func (s *Store) UserBySession(ctx context.Context, token string) (survey.User, error) {
	now := s.now().UTC()
	var sess sessionRow
	err := s.read.WithContext(ctx).Where("token_hash = ? AND expires_at > ? AND last_seen_at > ?", hashToken(token), now, now.Add(-SessionIdle)).Take(&sess).Error
	if err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return survey.User{}, errExpired
		}
		return survey.User{}, fmt.Errorf("read session: %w", err)
	}
	var u userRow
	if err := s.read.WithContext(ctx).Where("id = ?", sess.UserID).Take(&u).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return survey.User{}, survey.Errorf(survey.EUNAUTHORIZED, "Tài khoản không còn tồn tại.", "This account no longer exists.")
		}
		return survey.User{}, fmt.Errorf("read account: %w", err)
	}
	if u.Disabled {
		return survey.User{}, errDisabled
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		err := s.db.WithContext(ctx).Model(&sessionRow{}).Where("token_hash = ?", sess.TokenHash).Update("last_seen_at", now).Error
		if err != nil {
			return survey.User{}, fmt.Errorf("keep session alive: %w", err)
		}
	}
	return u.user(), nil
}

// Logout ends a session.
func (s *Store) Logout(ctx context.Context, token string) error {
	if err := s.db.WithContext(ctx).Where("token_hash = ?", hashToken(token)).Delete(&sessionRow{}).Error; err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// RevokeSessions ends every session of an account (a lost laptop, a leaked
// password) and records it; it returns how many were open.
func (s *Store) RevokeSessions(ctx context.Context, actor string, userID uint) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r userRow
		if err := tx.Where("id = ?", userID).Take(&r).Error; err != nil {
			return translate(err, accountNoun)
		}
		res := tx.Where("user_id = ?", userID).Delete(&sessionRow{})
		if res.Error != nil {
			return fmt.Errorf("end sessions of account %d: %w", userID, res.Error)
		}
		n = res.RowsAffected
		return s.writeAudit(tx, actor, "sessions_revoke", describeUser(r.user())+": "+strconv.FormatInt(n, 10))
	})
	return n, err
}
