package api

import (
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

// centreScope lets through accounts that may see the :id centre's commune.
func (s *Server) centreScope(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		centre, err := s.store.Centre(c.Request().Context(), id)
		if err != nil {
			return err
		}
		if !currentUser(c).CanSeeCommune(centre.CommuneCode) {
			return errScope
		}
		c.Set("papi.centre", centre)
		return next(c)
	}
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
	Password string `json:"password" validate:"required,max=1024"`
}

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
	token, u, err := s.store.Login(c.Request().Context(), req.Email, req.Password)
	if err != nil {
		if survey.ErrorCode(err) == survey.EUNAUTHORIZED {
			_ = s.store.Audit(c.Request().Context(), strings.ToLower(req.Email), "login_failed", "")
		}
		return err
	}
	_ = s.store.Audit(c.Request().Context(), u.Email, "login", "")
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: strings.HasPrefix(s.cfg.BaseURL, "https://"), Expires: s.now().Add(store.SessionLifetime),
	})
	return c.JSON(http.StatusOK, map[string]any{"token": token, "user": u, "expires_at": s.now().Add(store.SessionLifetime).UTC().Format(time.RFC3339)})
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
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) handleMe(c echo.Context) error { return c.JSON(http.StatusOK, currentUser(c)) }

type userRequest struct {
	Email       string `json:"email" validate:"required,email,max=254"`
	Password    string `json:"password" validate:"required,min=8,max=1024"`
	Role        string `json:"role" validate:"required,oneof=admin department commune"`
	CommuneCode string `json:"commune_code" validate:"omitempty,len=5,numeric"`
}

func (s *Server) handleUserCreate(c echo.Context) error {
	var req userRequest
	if err := s.bindJSON(c, &req); err != nil {
		return err
	}
	u, err := s.store.CreateUser(c.Request().Context(), survey.User{Email: req.Email, Role: survey.Role(req.Role), CommuneCode: req.CommuneCode}, req.Password)
	if err != nil {
		return err
	}
	_ = s.store.Audit(c.Request().Context(), currentUser(c).Email, "user_create", u.Email+" ("+string(u.Role)+")")
	return c.JSON(http.StatusCreated, u)
}

func (s *Server) handleUserList(c echo.Context) error {
	users, err := s.store.Users(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, users)
}

func (s *Server) handleAudit(c echo.Context) error {
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	entries, err := s.store.AuditLog(c.Request().Context(), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, entries)
}
