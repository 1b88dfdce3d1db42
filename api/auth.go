package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

const (
	sessionCookie = "papi_session"
	userKey       = "papi.user"
	tokenKey      = "papi.token"
)

var (
	errNoAccount = survey.Errorf(survey.EUNAUTHORIZED, "Cần đăng nhập bằng tài khoản cán bộ.", "Log in with a staff account (Authorization: Bearer TOKEN).")
	errScope     = survey.Errorf(survey.EFORBIDDEN, "Tài khoản của Ông/Bà không có quyền xem dữ liệu này.", "Your account may not see this data.")
)

// authenticate resolves the bearer token or session cookie to an account;
// every staff route answers 401 without one.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := bearer(c.Request())
		if token == "" {
			if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
				// The browser sends the cookie whichever page asks, so a
				// change made with it must come from papi's own pages.
				if unsafeMethod(c.Request()) && !s.fromThisOrigin(c.Request()) {
					return errCrossSite
				}
				token = ck.Value
			}
		}
		if token == "" {
			return errNoAccount
		}
		u, err := s.store.UserBySession(c.Request().Context(), token)
		if err != nil {
			return err
		}
		c.Set(userKey, u)
		c.Set(tokenKey, token)
		return next(c)
	}
}

// bearer returns the token of an Authorization: Bearer header.
func bearer(r *http.Request) string {
	if h := r.Header.Get(echo.HeaderAuthorization); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	}
	return ""
}

func currentUser(c echo.Context) survey.User {
	u, _ := c.Get(userKey).(survey.User)
	return u
}

// communeScope lets through accounts that may see the :code commune.
func (s *Server) communeScope(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := currentUser(c)
		if !u.CanSeeCommune(c.Param("code")) {
			return errScope
		}
		return next(c)
	}
}

// centreGate loads the :id centre and lets through accounts for which
// allowed holds on the centre's commune, answering denied otherwise.
func (s *Server) centreGate(allowed func(survey.User, string) bool, denied error) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id, err := pathID(c, "id")
			if err != nil {
				return err
			}
			centre, err := s.store.Centre(c.Request().Context(), id)
			if err != nil {
				return err
			}
			if !allowed(currentUser(c), centre.CommuneCode) {
				return denied
			}
			c.Set("papi.centre", centre)
			return next(c)
		}
	}
}

// centreScope lets through accounts that may see the :id centre's commune.
func (s *Server) centreScope(next echo.HandlerFunc) echo.HandlerFunc {
	return s.centreGate(survey.User.CanSeeCommune, errScope)(next)
}

// centreRunScope lets through accounts that may close, reopen and renew
// the QR code of the :id centre: an admin or the commune's own staff.
func (s *Server) centreRunScope(next echo.HandlerFunc) echo.HandlerFunc {
	return s.centreGate(survey.User.CanRunCentres, survey.Errorf(survey.EFORBIDDEN,
		"Chỉ quản trị viên hoặc cán bộ của xã/phường này được thay đổi trung tâm.",
		"Only an administrator or this commune's staff may change its centres."))(next)
}

// receiptScope lets through accounts that may issue receipts for the :id
// centre's commune: admin, department and issuer accounts, never the
// commune's own staff.
func (s *Server) receiptScope(next echo.HandlerFunc) echo.HandlerFunc {
	return s.centreGate(survey.User.CanIssueReceipts, survey.Errorf(survey.EFORBIDDEN,
		"Tài khoản này không được cấp biên nhận cho trung tâm này; biên nhận do hệ thống một cửa hoặc Sở Nội vụ cấp.",
		"This account may not issue receipts for this centre; receipts come from the one-stop-shop system or the department."))(next)
}

func scopedCentre(c echo.Context) store.Centre {
	centre, _ := c.Get("papi.centre").(store.Centre)
	return centre
}

// cityScope lets through accounts that may compare all communes.
func (s *Server) cityScope(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u := currentUser(c); !u.CanSeeCity() {
			return errScope
		}
		return next(c)
	}
}

func (s *Server) adminOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentUser(c).Role != survey.RoleAdmin {
			return survey.Errorf(survey.EFORBIDDEN, "Chỉ quản trị viên được xem mục này.", "Only administrators may see this.")
		}
		return next(c)
	}
}

// disclosedPeriod applies the account's disclosure rule to a period and
// returns it with the period its changes are measured against. Commune
// accounts see whole months only (survey.User.MonthsOnly): a from that is
// not the first of a month or a to that is not the last gets a 400;
// presets and defaults are widened to whole months; the previous period is
// the same number of whole months before.
func disclosedPeriod(c echo.Context, p survey.Period) (survey.Period, survey.Period, error) {
	if !currentUser(c).MonthsOnly() {
		return p, p.Previous(), nil
	}
	if v := c.QueryParam("from"); v != "" && !survey.IsMonthStart(v) {
		return p, p, survey.Invalid("from", "Tài khoản cấp xã xem số liệu theo tháng trọn vẹn: ngày bắt đầu phải là ngày 1 của tháng.",
			"Commune accounts see whole months: from must be the first day of a month.")
	}
	if v := c.QueryParam("to"); v != "" && !survey.IsMonthEnd(v) {
		return p, p, survey.Invalid("to", "Tài khoản cấp xã xem số liệu theo tháng trọn vẹn: ngày kết thúc phải là ngày cuối của tháng.",
			"Commune accounts see whole months: to must be the last day of a month.")
	}
	p = p.Months()
	return p, p.PreviousMonths(), nil
}

// pathID reads a numeric path parameter, answering 400 for anything else.
func pathID(c echo.Context, name string) (uint, error) {
	v, err := strconv.ParseUint(c.Param(name), 10, 32)
	if err != nil || v == 0 {
		return 0, survey.Invalid(name, "Mã số phải là số nguyên dương.", name+" must be a positive whole number.")
	}
	return uint(v), nil
}

type loginRequest struct {
	Email    string `json:"email" validate:"required,max=254"`
	Password string `json:"password" validate:"required"`
}

// handleLogin checks a password. Before any hashing it refuses a
// password longer than survey.MaxPasswordBytes and an account or client
// that must still wait after failures (429 with Retry-After); the hashing
// itself takes one of a few slots.
func (s *Server) handleLogin(c echo.Context) error {
	// Logging a victim's browser into an account of the attacker's
	// choosing (login CSRF) is refused like any other cross-site change.
	if s.fromOtherSite(c.Request()) {
		return errCrossSite
	}
	var req loginRequest
	if err := s.bindJSON(c, &req); err != nil {
		return err
	}
	if len(req.Password) > survey.MaxPasswordBytes {
		return survey.Invalid("password", "Mật khẩu dài tối đa 256 byte.", "The password may be at most 256 bytes long.")
	}
	client := c.RealIP()
	if wait := s.logins.wait(req.Email, client); wait > 0 {
		return tooManyLogins(c, wait)
	}
	release, err := s.hashes.acquire(c)
	if err != nil {
		return err
	}
	token, u, err := s.store.Login(c.Request().Context(), req.Email, req.Password)
	release()
	if survey.ErrorCode(err) == survey.EUNAUTHORIZED {
		return s.loginFailed(c, req.Email, client, err)
	}
	if err != nil {
		return err
	}
	s.logins.succeed(req.Email)
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: strings.HasPrefix(s.cfg.BaseURL, "https://"), Expires: s.now().Add(store.SessionLifetime),
	})
	return c.JSON(http.StatusOK, map[string]any{"token": token, "user": u, "expires_at": s.now().Add(store.SessionLifetime).UTC().Format(time.RFC3339),
		"idle_timeout_minutes": int(store.SessionIdle / time.Minute)})
}

// loginFailed counts a wrong password against the account and the client
// and records it: one audit row per account and client per minute, with a
// count, so guessing cannot flood the log. What was typed into the email
// field is recorded only if it is an email address: people type passwords
// there too.
func (s *Server) loginFailed(c echo.Context, email, client string, failure error) error {
	actor := survey.NormalEmail(email)
	if !survey.IsEmail(actor) {
		actor = "<invalid>"
	}
	target := "client " + s.clientTag(client)
	ctx := c.Request().Context()
	lockedAccount, lockedClient := s.logins.fail(email, client)
	if err := s.store.AuditRepeated(ctx, actor, "login_failed", target, time.Minute); err != nil {
		return err
	}
	for _, l := range []struct {
		locked bool
		what   string
	}{{lockedAccount, "account"}, {lockedClient, target}} {
		if l.locked {
			if err := s.store.AuditRepeated(ctx, actor, "login_locked", l.what, time.Minute); err != nil {
				return err
			}
		}
	}
	return failure
}

// tooManyLogins answers a login that must wait.
func tooManyLogins(c echo.Context, wait time.Duration) error {
	secs := int((wait + time.Second - 1) / time.Second)
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	n, vi, en := secs, "giây", "seconds"
	if secs > 90 {
		n, vi, en = (secs+59)/60, "phút", "minutes"
	}
	return survey.Errorf(survey.ETOOMANY,
		fmt.Sprintf("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau %d %s.", n, vi),
		fmt.Sprintf("Too many failed logins. Please try again in %d %s.", n, en))
}

// clientTag names a client address in the audit log without storing it: a
// keyed hash whose key lives only in this process.
func (s *Server) clientTag(ip string) string {
	k := clientKey(ip)
	m := hmac.New(sha256.New, s.tagKey[:])
	m.Write(k[:])
	return hex.EncodeToString(m.Sum(nil)[:4])
}

func (s *Server) handleLogout(c echo.Context) error {
	if t := bearer(c.Request()); t != "" {
		if err := s.store.Logout(c.Request().Context(), t); err != nil {
			return err
		}
	} else if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
		if !s.fromThisOrigin(c.Request()) {
			return errCrossSite
		}
		if err := s.store.Logout(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return c.NoContent(http.StatusNoContent)
}

// me is the logged-in account with what it may do: the staff pages offer
// only that, from the server's rules rather than a copy of them.
type me struct {
	survey.User
	Capabilities survey.Capabilities `json:"capabilities"`
}

func (s *Server) handleMe(c echo.Context) error {
	u := currentUser(c)
	return c.JSON(http.StatusOK, me{User: u, Capabilities: u.Capabilities()})
}

type userRequest struct {
	Email       string `json:"email" validate:"required,email,max=254"`
	Password    string `json:"password" validate:"required"`
	Role        string `json:"role" validate:"required,oneof=admin department commune issuer"`
	CommuneCode string `json:"commune_code" validate:"omitempty,len=5,numeric"`
}

func (s *Server) handleUserCreate(c echo.Context) error {
	var req userRequest
	if err := s.bindJSON(c, &req); err != nil {
		return err
	}
	if err := survey.ValidatePassword(req.Password); err != nil {
		return err
	}
	release, err := s.hashes.acquire(c)
	if err != nil {
		return err
	}
	defer release()
	u, err := s.store.CreateUser(c.Request().Context(), currentUser(c).Email,
		survey.User{Email: req.Email, Role: survey.Role(req.Role), CommuneCode: req.CommuneCode}, req.Password)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, u)
}

func (s *Server) handleUserList(c echo.Context) error {
	users, err := s.store.Users(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, users)
}

// userPatch is the body of PATCH /users/{id}: the fields to change.
type userPatch struct {
	Disabled *bool   `json:"disabled"`
	Password *string `json:"password"`
}

// handleUserUpdate disables, enables or sets the password of an account.
// An admin cannot disable their own account (the last admin would lock
// everyone out); changing one's own password keeps the session it is made
// from and ends the others.
func (s *Server) handleUserUpdate(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req userPatch
	if err := s.bindJSON(c, &req); err != nil {
		return err
	}
	me := currentUser(c)
	if req.Disabled != nil && *req.Disabled && id == me.ID {
		return survey.Invalid("disabled", "Không thể tự khóa tài khoản của chính mình.", "You cannot disable your own account.")
	}
	upd := survey.UserUpdate{Disabled: req.Disabled, Password: req.Password}
	if err := upd.Validate(); err != nil {
		return err
	}
	keep := ""
	if id == me.ID {
		keep, _ = c.Get(tokenKey).(string)
	}
	if upd.Password != nil {
		release, err := s.hashes.acquire(c)
		if err != nil {
			return err
		}
		defer release()
	}
	u, err := s.store.UpdateUser(c.Request().Context(), me.Email, id, upd, keep)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

// handleUserSessionsDelete ends every session of an account.
func (s *Server) handleUserSessionsDelete(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	n, err := s.store.RevokeSessions(c.Request().Context(), currentUser(c).Email, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int64{"revoked": n})
}

// handleAudit lists the audit log, newest first: limit (at most 1000),
// before (an entry id, for the next page), action and actor filters.
func (s *Server) handleAudit(c echo.Context) error {
	f := store.AuditFilter{Action: c.QueryParam("action"), Actor: c.QueryParam("actor")}
	for _, p := range []struct {
		name string
		dst  any
	}{{"limit", &f.Limit}, {"before", &f.Before}} {
		v := c.QueryParam(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return survey.Invalid(p.name, p.name+" phải là số nguyên dương.", p.name+" must be a positive whole number.")
		}
		switch d := p.dst.(type) {
		case *int:
			*d = int(n)
		case *uint64:
			*d = n
		}
	}
	entries, err := s.store.AuditLog(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, entries)
}
