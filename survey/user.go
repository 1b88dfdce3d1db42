package survey

import (
	"net/mail"
	"strings"
	"time"
)

// Role is what a staff account may see.
type Role string

// Staff roles.
const (
	// RoleAdmin sees everything, manages accounts and reviews flagged answers.
	RoleAdmin Role = "admin"
	// RoleDepartment (Sở Nội vụ) sees every commune and the comparison.
	RoleDepartment Role = "department"
	// RoleCommune (UBND cấp xã) sees only its own commune.
	RoleCommune Role = "commune"
)

// User is a staff account. Residents have no account.
type User struct {
	ID          uint      `json:"id"`
	Email       string    `json:"email"`
	Role        Role      `json:"role"`
	CommuneCode string    `json:"commune_code,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Validate checks an account before it is stored.
func (u *User) Validate() error {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
		return Errorf(EINVALID, "Địa chỉ email không hợp lệ.", "The email address is not valid.")
	}
	switch u.Role {
	case RoleAdmin, RoleDepartment:
		if u.CommuneCode != "" {
			return Errorf(EINVALID, "Chỉ tài khoản cấp xã mới gắn với một xã/phường.", "Only commune accounts belong to a commune; drop --commune.")
		}
	case RoleCommune:
		if u.CommuneCode == "" {
			return Errorf(EINVALID, "Tài khoản cấp xã cần mã xã/phường (--commune).", "A commune account needs its commune code (--commune).")
		}
	default:
		return Errorf(EINVALID, "Vai trò phải là admin, department hoặc commune.", "The role must be admin, department or commune.")
	}
	return nil
}

// CanSeeCommune reports whether the account may read data of a commune.
func (u User) CanSeeCommune(code string) bool {
	return u.Role == RoleAdmin || u.Role == RoleDepartment || u.CommuneCode == code
}

// CanSeeCity reports whether the account may compare all communes.
func (u User) CanSeeCity() bool {
	return u.Role == RoleAdmin || u.Role == RoleDepartment
}

// ValidatePassword enforces NIST's minimum length of 8; longer passphrases
// are better, and there is no composition rule.
func ValidatePassword(p string) error {
	if n := len([]rune(p)); n < 8 || n > 1024 {
		return Errorf(EINVALID, "Mật khẩu cần từ 8 ký tự trở lên.", "The password needs at least 8 characters.")
	}
	return nil
}
