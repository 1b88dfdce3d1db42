package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// SubmissionRequest is the body of POST /api/v1/responses as it arrives,
// with its validate tags (checked by a validator from NewValidator). It is
// exported so the load tool decodes exactly what the service decodes.
type SubmissionRequest struct {
	Token                string                     `json:"token" validate:"required,max=64"`
	SubmissionID         string                     `json:"submission_id" validate:"required,submission_id"`
	QuestionnaireVersion string                     `json:"questionnaire_version" validate:"required,max=32"`
	Modules              []string                   `json:"modules" validate:"max=16,dive,max=32"`
	Answers              map[string]json.RawMessage `json:"answers" validate:"required,max=400"`
	Sex                  string                     `json:"sex" validate:"omitempty,max=16"`
	AgeGroup             string                     `json:"age_group" validate:"omitempty,max=16"`
	DurationMS           int64                      `json:"duration_ms" validate:"gte=0"`
	Lang                 string                     `json:"lang" validate:"omitempty,oneof=vi en"`
	Receipt              string                     `json:"receipt" validate:"omitempty,max=64,alphanum"`
	// AssignmentID is the module assignment the form was given (optional).
	AssignmentID string `json:"assignment_id" validate:"omitempty,max=64,alphanum"`
	// Channel is qr (the poster, default) or kiosk (the centre's tablet).
	Channel string `json:"channel" validate:"omitempty,oneof=qr kiosk"`
}

var submissionIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

func validSubmissionID(fl validator.FieldLevel) bool {
	return submissionIDPattern.MatchString(fl.Field().String())
}

// handleResponseCreate stores a resident's answers once. Every check runs
// before anything is written; a retried submission_id answers 200 with the
// id stored the first time.
func (s *Server) handleResponseCreate(c echo.Context) error {
	var req SubmissionRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.metrics.submissions.WithLabelValues("rejected").Inc()
		return err
	}
	if err := s.validateStruct(&req); err != nil {
		s.metrics.submissions.WithLabelValues("rejected").Inc()
		return s.withAnswerErrors(err, req)
	}
	r, kiosk := s.storeResponse(c, req)
	if r.Err != nil {
		s.metrics.submissions.WithLabelValues(rejectReason(r.Err)).Inc()
		return r.Err
	}
	if !r.Created {
		s.metrics.submissions.WithLabelValues("duplicate").Inc()
		return c.JSON(http.StatusOK, map[string]any{"id": r.ID, "duplicate": true})
	}
	s.metrics.submissions.WithLabelValues("stored").Inc()
	if kiosk != 0 {
		// The answers are stored: a failure to note the day the kiosk was
		// seen must not make the tablet send them again.
		if err := s.store.TouchKiosk(c.Request().Context(), kiosk); err != nil {
			s.log.Error("touch kiosk", "kiosk", kiosk, "err", err)
		}
	}
	if r.Flagged {
		s.metrics.submissions.WithLabelValues("flagged").Inc()
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": r.ID})
}

// withAnswerErrors adds the answers' own problems to a refusal for the
// envelope (say, a bad submission_id), when the questionnaire version is
// known, so the resident sees every problem at once.
func (s *Server) withAnswerErrors(err error, req SubmissionRequest) error {
	var verr *survey.ValidationError
	cat, ok := s.store.CatalogueVersion(req.QuestionnaireVersion)
	if !errors.As(err, &verr) || !ok || req.Answers == nil {
		return err
	}
	if _, aerr := cat.ValidateSubmission(survey.Submission{Modules: req.Modules, Answers: req.Answers, Sex: req.Sex, AgeGroup: req.AgeGroup}); aerr != nil {
		var averr *survey.ValidationError
		if errors.As(aerr, &averr) {
			verr.Errors = append(verr.Errors, averr.Errors...)
		}
	}
	return verr
}

func rejectReason(err error) string {
	if errors.Is(err, context.Canceled) {
		return "abandoned"
	}
	switch survey.ErrorCode(err) {
	case survey.EINVALID, survey.ENOTFOUND, survey.ECONFLICT:
		return "rejected"
	case survey.ETOOMANY:
		return "throttled"
	}
	return "failed"
}

// storeResponse checks and stores a submission; it returns the result and
// the kiosk it came from (0 for none).
func (s *Server) storeResponse(c echo.Context, req SubmissionRequest) (store.Result, uint) {
	r, err := s.checkResponse(c, req)
	if err != nil {
		return store.Result{Err: err}, 0
	}
	return s.store.Submit(c.Request().Context(), r), r.KioskID
}

// checkResponse validates a submission against its centre and
// questionnaire version and prepares it for the store.
func (s *Server) checkResponse(c echo.Context, req SubmissionRequest) (store.NewResponse, error) {
	ctx := c.Request().Context()
	centre, err := s.store.CentreByToken(ctx, req.Token)
	if err != nil {
		if survey.ErrorCode(err) == survey.ENOTFOUND {
			return store.NewResponse{}, survey.Invalid("token", "Mã QR không đúng: không có trung tâm nào với mã này.", "Unknown token: no centre has this QR code.")
		}
		return store.NewResponse{}, err
	}
	if !centre.Open {
		return store.NewResponse{}, survey.Invalid("token", "Trung tâm này tạm ngừng nhận ý kiến.", "This centre is not taking answers now.")
	}
	// Kiosk answers come from an enrolled tablet of this centre only: the
	// channel is what screening trusts to treat one device as many people.
	var kioskID uint
	if req.Channel == survey.ChannelKiosk || c.Request().Header.Get(kioskHeader) != "" {
		if req.Channel != survey.ChannelKiosk {
			return store.NewResponse{}, survey.Invalid("channel", "Máy kiosk gửi câu trả lời với kênh kiosk.", "A kiosk sends its answers with channel kiosk.")
		}
		k, err := s.deviceKiosk(c, centre)
		if err != nil {
			return store.NewResponse{}, err
		}
		kioskID = k.ID
	}
	if !s.limiter.allowCentre(req.Token) {
		return store.NewResponse{}, errThrottled
	}
	cat, ok := s.store.CatalogueVersion(req.QuestionnaireVersion)
	if !ok {
		return store.NewResponse{}, survey.Invalid("questionnaire_version", "Phiên bản bảng hỏi không tồn tại; vui lòng tải lại trang.", "Unknown questionnaire version; reload the form.")
	}
	modules := req.Modules
	if req.AssignmentID == "" {
		if err := cat.ValidateModules(modules); err != nil {
			return store.NewResponse{}, err
		}
	} else {
		// The answers are checked against the modules the server assigned
		// (the store checks the assignment again when it stores them).
		a, err := s.store.Assignment(ctx, req.AssignmentID)
		if err != nil || a.CentreID != centre.ID {
			if err == nil || survey.ErrorCode(err) == survey.ENOTFOUND {
				return store.NewResponse{}, survey.Invalid("assignment_id", "Lượt giao phần hỏi không đúng với trung tâm này; vui lòng tải lại trang.", "The assignment is not one of this centre's; reload the form.")
			}
			return store.NewResponse{}, err
		}
		modules = a.Modules
	}
	visit, err := cat.ValidateSubmission(survey.Submission{Modules: modules, Answers: req.Answers, Sex: req.Sex, AgeGroup: req.AgeGroup})
	if err != nil {
		return store.NewResponse{}, err
	}
	return store.NewResponse{
		SubmissionID: req.SubmissionID, Centre: centre, Version: cat.Version, Visit: visit,
		Lang: req.Lang, DurationMS: req.DurationMS, Receipt: req.Receipt, AssignmentID: req.AssignmentID, Channel: req.Channel,
		Flags: survey.ClientFlags(req.DurationMS), KioskID: kioskID,
	}, nil
}
