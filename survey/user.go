package survey

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what a staff account may see and do.
type Role string

// Staff roles.
const (
	// RoleAdmin sees everything, manages accounts and reviews flagged answers.
	RoleAdmin Role = "admin"
	// RoleDepartment (Sở Nội vụ) sees every commune and the comparison.
	RoleDepartment Role = "department"
	// RoleCommune (UBND cấp xã) sees only its own commune. It is the party
	// being evaluated, so it may not issue receipts: a receipt makes an
	// answer "verified".
	RoleCommune Role = "commune"
	// RoleIssuer is a service account of the one-stop-shop system: it only
	// issues receipts, for the centres of its commune or, without a commune,
	// of the whole city, and sees no results.
	RoleIssuer Role = "issuer"
)

// Roles lists every role, in the order pages show them.
var Roles = []Role{RoleAdmin, RoleDepartment, RoleCommune, RoleIssuer}

// User is a staff account. Residents have no account.
type User struct {
	ID          uint   `json:"id"`
	Email       string `json:"email"`
	Role        Role   `json:"role"`
	CommuneCode string `json:"commune_code,omitempty"`
	// Disabled accounts cannot log in and their sessions are ended.
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// NormalEmail is the form an email address is stored and looked up in.
func NormalEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// IsEmail reports whether s is a bare email address (no display name).
func IsEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// Validate checks an account before it is stored.
func (u *User) Validate() error {
	u.Email = NormalEmail(u.Email)
	if !IsEmail(u.Email) {
		return Invalid("email", "Địa chỉ email không hợp lệ.", "The email address is not valid.")
	}
	switch u.Role {
	case RoleAdmin, RoleDepartment:
		if u.CommuneCode != "" {
			return Invalid("commune_code", "Chỉ tài khoản cấp xã hoặc tài khoản cấp biên nhận mới gắn với một xã/phường.", "Only commune and issuer accounts belong to a commune.")
		}
	case RoleCommune:
		if u.CommuneCode == "" {
			return Invalid("commune_code", "Tài khoản cấp xã cần mã xã/phường.", "A commune account needs its commune code.")
		}
	case RoleIssuer:
		// Without a commune it issues for every centre of the city.
	default:
		return Invalid("role", "Vai trò phải là admin, department, commune hoặc issuer.", "The role must be admin, department, commune or issuer.")
	}
	return nil
}

// CanSeeCommune reports whether the account may read data of a commune.
func (u User) CanSeeCommune(code string) bool {
	return u.Role == RoleAdmin || u.Role == RoleDepartment || u.Role == RoleCommune && u.CommuneCode == code
}

// CanSeeCity reports whether the account may compare all communes.
func (u User) CanSeeCity() bool {
	return u.Role == RoleAdmin || u.Role == RoleDepartment
}

// CanIssueReceipts reports whether the account may issue receipts for the
// centres of a commune. Commune staff may not: they are the ones evaluated.
func (u User) CanIssueReceipts(communeCode string) bool {
	switch u.Role {
	case RoleAdmin, RoleDepartment:
		return true
	case RoleIssuer:
		return u.CommuneCode == "" || u.CommuneCode == communeCode
	}
	return false
}

// CanRunCentres reports whether the account may close, reopen and renew
// the QR codes of a commune's centres: an admin, or the commune's own staff,
// who see a poster torn down or a code passed around first.
func (u User) CanRunCentres(communeCode string) bool {
	return u.Role == RoleAdmin || u.Role == RoleCommune && u.CommuneCode == communeCode
}

// Capabilities say what an account may do, for pages to offer only that;
// the server checks every request with the User methods themselves.
// Communes are "*" for every commune, a code for one, "" for none.
type Capabilities struct {
	City       bool   `json:"city"`        // CanSeeCity
	Receipts   string `json:"receipts"`    // CanIssueReceipts
	RunCentres string `json:"run_centres"` // CanRunCentres
	MonthsOnly bool   `json:"months_only"` // MonthsOnly
}

// Capabilities works out the account's capabilities from its own rules.
func (u User) Capabilities() Capabilities {
	return Capabilities{City: u.CanSeeCity(), Receipts: u.communesFor(u.CanIssueReceipts),
		RunCentres: u.communesFor(u.CanRunCentres), MonthsOnly: u.MonthsOnly()}
}

// communesFor names the communes a rule allows: an account's rights depend
// only on its role and its own commune, so an account without a commune
// may act on all of them or on none, and one with a commune on its own at
// most.
func (u User) communesFor(can func(communeCode string) bool) string {
	switch {
	case u.CommuneCode == "" && can(anyCommune):
		return "*"
	case u.CommuneCode != "" && can(u.CommuneCode):
		return u.CommuneCode
	}
	return ""
}

// anyCommune stands for a commune an account has no tie to.
const anyCommune = "*"

// MonthsOnly reports whether the account sees summaries for whole calendar
// months only. Commune staff know whom they served on which day; if they
// could ask for any two overlapping day ranges, the difference of the two
// answers would be one day's handful of residents.
func (u User) MonthsOnly() bool { return u.Role == RoleCommune }

// MaxCentresPerCommune bounds the centres a non-admin account may create in
// one commune: each centre gets its own throttle and burst window.
const MaxCentresPerCommune = 10

// Password bounds: NIST's minimum length of 8 characters, and at most 256
// bytes, which is plenty for a passphrase and bounds the hashing work a
// request can ask for.
const (
	MinPasswordChars = 8
	MaxPasswordBytes = 256
)

// ValidatePassword enforces the password bounds; there is no composition
// rule (NIST SP 800-63B).
func ValidatePassword(p string) error {
	if utf8.RuneCountInString(p) < MinPasswordChars {
		return Invalid("password", "Mật khẩu cần từ 8 ký tự trở lên.", "The password needs at least 8 characters.")
	}
	if len(p) > MaxPasswordBytes {
		return Invalid("password", "Mật khẩu dài tối đa 256 byte.", "The password may be at most 256 bytes long.")
	}
	return nil
}

// UserUpdate changes an account; nil fields stay as they are.
type UserUpdate struct {
	Disabled *bool
	Password *string
}

// Validate checks an update before it is applied.
func (u UserUpdate) Validate() error {
	if u.Disabled == nil && u.Password == nil {
		return Invalid("body", "Không có gì để thay đổi: gửi disabled hoặc password.", "Nothing to change: send disabled or password.")
	}
	if u.Password != nil {
		return ValidatePassword(*u.Password)
	}
	return nil
}
