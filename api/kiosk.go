package api

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// kioskHeader carries an enrolled tablet's device secret. A header, not a
// cookie: the secret lives in the tablet's localStorage and goes only where
// the page's own script sends it.
const kioskHeader = "X-Papi-Kiosk"

// kioskItem is a kiosk as the centres page lists it.
type kioskItem struct {
	ID            uint       `json:"id"`
	CentreID      uint       `json:"centre_id"`
	Label         string     `json:"label"`
	CreatedAt     time.Time  `json:"created_at"`
	EnrolledAt    *time.Time `json:"enrolled_at"`
	CodeExpiresAt *time.Time `json:"code_expires_at,omitempty"`
	LastSeen      string     `json:"last_seen"`
	Revoked       bool       `json:"revoked"`
	RevokedAt     *time.Time `json:"revoked_at"`
}

func toKioskItem(k store.Kiosk) kioskItem {
	return kioskItem{ID: k.ID, CentreID: k.CentreID, Label: k.Label, CreatedAt: k.CreatedAt, EnrolledAt: k.EnrolledAt,
		CodeExpiresAt: k.CodeExpiresAt, LastSeen: k.LastSeen, Revoked: k.Revoked(), RevokedAt: k.RevokedAt}
}

// kioskURL is the address of a centre's kiosk page.
func (s *Server) kioskURL(token string) string { return s.cfg.BaseURL + "/k/" + url.PathEscape(token) }

type kioskRequest struct {
	Label string `json:"label" validate:"required,max=100"`
}

// handleKioskCreate adds a kiosk to the :id centre and answers with its
// one-time enrolment code and link, shown to the staff member once.
func (s *Server) handleKioskCreate(c echo.Context) error {
	var req kioskRequest
	if err := s.bindJSON(c, &req); err != nil {
		return err
	}
	ct := scopedCentre(c)
	k, code, err := s.store.CreateKiosk(c.Request().Context(), currentUser(c).Email, ct.ID, req.Label)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{
		"kiosk": toKioskItem(k), "code": code, "enrol_url": s.kioskURL(ct.Token) + "?enrol=" + url.QueryEscape(code),
	})
}

// handleKioskList lists the :id centre's kiosks, revoked ones included.
func (s *Server) handleKioskList(c echo.Context) error {
	list, err := s.store.Kiosks(c.Request().Context(), scopedCentre(c).ID)
	if err != nil {
		return err
	}
	out := make([]kioskItem, len(list))
	for i, k := range list {
		out[i] = toKioskItem(k)
	}
	return c.JSON(http.StatusOK, out)
}

// kioskRunScope loads the :id kiosk and lets through accounts that may run
// its centre (survey.User.CanRunCentres).
func (s *Server) kioskRunScope(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		k, err := s.store.Kiosk(ctx, id)
		if err != nil {
			return err
		}
		ct, err := s.store.Centre(ctx, k.CentreID)
		if err != nil {
			return err
		}
		if !currentUser(c).CanRunCentres(ct.CommuneCode) {
			return survey.Errorf(survey.EFORBIDDEN,
				"Chỉ quản trị viên hoặc cán bộ của xã/phường này được thu hồi máy kiosk của trung tâm.",
				"Only an administrator or this commune's staff may revoke the centre's kiosks.")
		}
		return next(c)
	}
}

// handleKioskRevoke revokes the :id kiosk: its tablet's answers are
// refused from now on.
func (s *Server) handleKioskRevoke(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	k, err := s.store.RevokeKiosk(c.Request().Context(), currentUser(c).Email, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toKioskItem(k))
}

type kioskEnrolRequest struct {
	Token string `json:"token" validate:"required,max=64"`
	Code  string `json:"code" validate:"required,max=64"`
}

// handleKioskEnrol trades a kiosk's one-time code, typed or brought by the
// enrolment link on the tablet, for the device secret the tablet keeps.
func (s *Server) handleKioskEnrol(c echo.Context) error {
	var req kioskEnrolRequest
	if err := s.bindJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	ct, err := s.store.CentreByToken(ctx, req.Token)
	if survey.ErrorCode(err) == survey.ENOTFOUND {
		return errKioskCentre
	} else if err != nil {
		return err
	}
	k, secret, err := s.store.EnrolKiosk(ctx, ct.ID, req.Code)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"secret": secret, "kiosk": map[string]any{"id": k.ID, "label": k.Label, "centre_id": k.CentreID}})
}

var (
	errKioskCentre = survey.Invalid("token",
		"Đường dẫn kiosk không đúng: không có trung tâm nào với mã này.",
		"Wrong kiosk link: no centre has this code.")
	errKioskNeeded = survey.Errorf(survey.EFORBIDDEN,
		"Máy tính bảng này chưa được kích hoạt làm kiosk. Vui lòng nhờ cán bộ kích hoạt ở trang Trung tâm.",
		"This tablet is not enrolled as a kiosk. Ask staff to enrol it on the centres page.")
	errKioskRevoked = survey.Errorf(survey.EFORBIDDEN,
		"Máy kiosk này đã bị thu hồi. Vui lòng nhờ cán bộ kích hoạt lại ở trang Trung tâm.",
		"This kiosk has been revoked. Ask staff to enrol it again on the centres page.")
	errKioskOtherCentre = survey.Errorf(survey.EFORBIDDEN,
		"Máy kiosk này được kích hoạt cho một trung tâm khác.",
		"This kiosk is enrolled for another centre.")
)

// deviceKiosk returns the enrolled, unrevoked kiosk whose secret the
// request carries, if it belongs to centre; a bilingual 403 otherwise.
func (s *Server) deviceKiosk(c echo.Context, centre store.Centre) (store.Kiosk, error) {
	secret := c.Request().Header.Get(kioskHeader)
	if secret == "" {
		return store.Kiosk{}, errKioskNeeded
	}
	k, err := s.store.KioskBySecret(c.Request().Context(), secret)
	switch {
	case survey.ErrorCode(err) == survey.ENOTFOUND:
		return store.Kiosk{}, errKioskNeeded
	case err != nil:
		return store.Kiosk{}, err
	case k.Revoked():
		return store.Kiosk{}, errKioskRevoked
	case k.CentreID != centre.ID:
		return store.Kiosk{}, errKioskOtherCentre
	}
	return k, nil
}

// handleKioskCurrent tells a tablet whether it is an enrolled kiosk of the
// centre of ?token=, before it invites anyone to answer, and marks the
// kiosk as seen today.
func (s *Server) handleKioskCurrent(c echo.Context) error {
	ctx := c.Request().Context()
	ct, err := s.store.CentreByToken(ctx, c.QueryParam("token"))
	if survey.ErrorCode(err) == survey.ENOTFOUND {
		return errKioskCentre
	} else if err != nil {
		return err
	}
	k, err := s.deviceKiosk(c, ct)
	if err != nil {
		return err
	}
	if err := s.store.TouchKiosk(ctx, k.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": k.ID, "label": k.Label, "centre_id": k.CentreID})
}

// handleKioskPage serves the kiosk page: the resident form in kiosk mode
// (start screen, large targets, nothing kept between people). Whether the
// tablet is enrolled is the page's first question to the API.
func (s *Server) handleKioskPage(c echo.Context) error {
	status := http.StatusOK
	if _, err := s.openCentre(c, c.Param("token")); err != nil {
		var derr *survey.Error
		if !errors.As(err, &derr) || derr.Code != survey.ENOTFOUND {
			return err
		}
		status = http.StatusNotFound
	}
	return s.formPage(c, status, true)
}

// formPage renders the resident page, in kiosk mode or not.
func (s *Server) formPage(c echo.Context, status int, kiosk bool) error {
	var buf bytes.Buffer
	data := struct {
		Kiosk       bool
		IdleSeconds int
	}{kiosk, kioskIdleSeconds}
	if err := s.pages.form.Execute(&buf, data); err != nil {
		return fmt.Errorf("render form page: %w", err)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
	return c.HTMLBlob(status, buf.Bytes())
}

// kioskIdleSeconds is how long a kiosk waits without a touch before it
// clears the answers and returns to its start screen: long enough to read
// a question twice, short enough that the next person never finds the
// previous one's answers.
const kioskIdleSeconds = 90
