// Package api is papi's HTTP interface: the resident form and intake, the
// staff API with its downloads, and the embedded pages, on Echo.
package api

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/papi-hcmc/papi/static"
	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// Config is what the HTTP layer needs to know about its deployment.
type Config struct {
	// BaseURL is the public address written into QR codes.
	BaseURL string
	// Policy is the disclosure rule for every output.
	Policy survey.Policy
	// RateLimit turns on throttling of open-poster submissions.
	RateLimit RateLimit
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client; none by default, so the connection's peer is the client.
	TrustedProxies []*net.IPNet
	// Population holds per-commune sex × age margins for weighted summaries.
	Population survey.Population
	// Targets replace the city-average target of the follow-up for some
	// indicators (on the 1-10 scale).
	Targets map[string]float64
	// SeparateMetrics leaves /metrics off the public router: the caller
	// serves MetricsHandler on its own address (PAPI_METRICS_ADDR), so
	// outsiders cannot watch logins, exports and what the checks catch.
	SeparateMetrics bool
	// Version is the build version.
	Version string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// NewValidator returns the request validator with papi's own rules
// (submission_id).
func NewValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	if err := v.RegisterValidation("submission_id", validSubmissionID); err != nil {
		panic(err) // a programming error: the rule is registered once, here
	}
	return v
}

// Server is papi's HTTP server.
type Server struct {
	echo     *echo.Echo
	store    *store.Store
	cfg      Config
	log      *slog.Logger
	origin   string // PAPI_BASE_URL's origin, for the cross-site check
	validate *validator.Validate
	metrics  *metrics
	limiter  *limiter
	logins   *loginGuard
	hashes   *hashSlots
	// tagKey keys the client tags of the audit log; it lives only in this
	// process, so a tag cannot be turned back into an address.
	tagKey [32]byte
	now    func() time.Time
	pages  *pages

	// visits counts form loads per centre to rotate modules in turn.
	// draining is set when shutdown begins; /readyz then answers 503.
	draining atomic.Bool

	visitsMu sync.Mutex
	visits   map[uint]uint64
}

// New builds the server and its routes.
func New(st *store.Store, cfg Config, log *slog.Logger) *Server {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Policy.MinN == 0 {
		cfg.Policy = survey.DefaultPolicy
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		echo:     echo.New(),
		store:    st,
		cfg:      cfg,
		log:      log,
		origin:   originOf(cfg.BaseURL),
		validate: NewValidator(),
		metrics:  newMetrics(),
		limiter:  newLimiter(cfg.RateLimit, cfg.Now),
		logins:   newLoginGuard(cfg.Now),
		hashes:   newHashSlots(runtime.GOMAXPROCS(0)),
		now:      cfg.Now,
		visits:   map[uint]uint64{},
		pages:    mustLoadPages(static.FS),
	}
	s.metrics.registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "papi_tally_folds_total",
			Help: "Folds of the intake's tally delta rows into the tallies run by this process."},
			func() float64 { return float64(st.FoldStats().Folds) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "papi_tally_fold_failures_total",
			Help: "Folds that failed and left their delta rows for the next one (summaries still count them)."},
			func() float64 { return float64(st.FoldStats().Failures) }))
	_, _ = rand.Read(s.tagKey[:])
	s.echo.HideBanner = true
	s.echo.HidePort = true
	s.echo.HTTPErrorHandler = s.handleError
	s.echo.IPExtractor = ipExtractor(cfg.TrustedProxies)
	s.routes()
	return s
}

// ServeHTTP makes the server an http.Handler (for tests and embedding).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Handler returns the root HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

// MetricsHandler serves the Prometheus metrics, for a separate listener.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
}

// Routes lists the method and path of every route, for the OpenAPI check.
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }

// httpStatus maps domain error codes to HTTP statuses.
var httpStatus = map[string]int{
	survey.ENOTFOUND:     http.StatusNotFound,
	survey.ECONFLICT:     http.StatusConflict,
	survey.EINVALID:      http.StatusBadRequest,
	survey.EUNAUTHORIZED: http.StatusUnauthorized,
	survey.EFORBIDDEN:    http.StatusForbidden,
	survey.ETOOMANY:      http.StatusTooManyRequests,
	survey.EINTERNAL:     http.StatusInternalServerError,
}

// fieldError is the JSON shape of one field-level problem.
type fieldError struct {
	Field     string `json:"field"`
	Message   string `json:"message"`
	MessageVi string `json:"message_vi"`
	MessageEn string `json:"message_en"`
}

type errorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	MessageVi string `json:"message_vi"`
	MessageEn string `json:"message_en"`
}

func bilingual(t survey.Text) string { return t.Vi + " / " + t.En }

// handleError answers every error with one JSON shape: field problems as
// {errors:[…]}, anything else as {error:{code, message…}}. Only server
// errors are logged; their details never reach the client.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var verr *survey.ValidationError
	var derr *survey.Error
	var herr *echo.HTTPError
	status := http.StatusInternalServerError
	var body any
	switch {
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer and it is not a
		// server fault (nginx's 499 convention).
		c.Response().WriteHeader(499)
		return
	case errors.As(err, &verr):
		status = http.StatusBadRequest
		list := make([]fieldError, len(verr.Errors))
		for i, fe := range verr.Errors {
			list[i] = fieldError{Field: fe.Field, Message: bilingual(fe.Message), MessageVi: fe.Message.Vi, MessageEn: fe.Message.En}
		}
		body = map[string]any{"errors": list}
	case errors.As(err, &derr):
		status = httpStatus[derr.Code]
		if status == 0 {
			status = http.StatusInternalServerError
		}
		body = map[string]any{"error": errorBody{Code: derr.Code, Message: bilingual(derr.Message), MessageVi: derr.Message.Vi, MessageEn: derr.Message.En}}
	case errors.As(err, &herr):
		status = herr.Code
		msg := http.StatusText(status)
		if m, ok := herr.Message.(string); ok {
			msg = m
		}
		t := echoText(status, msg)
		body = map[string]any{"error": errorBody{Code: strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_")), Message: bilingual(t), MessageVi: t.Vi, MessageEn: t.En}}
	default:
		t := survey.Text{Vi: "Lỗi máy chủ, vui lòng thử lại sau.", En: "Server error; please try again later."}
		body = map[string]any{"error": errorBody{Code: survey.EINTERNAL, Message: bilingual(t), MessageVi: t.Vi, MessageEn: t.En}}
	}
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, body)
}

// echoText words Echo's own errors (unknown route, body too large, …).
func echoText(status int, msg string) survey.Text {
	switch status {
	case http.StatusNotFound:
		return survey.Text{Vi: "Không tìm thấy địa chỉ này.", En: "Not found."}
	case http.StatusRequestEntityTooLarge:
		return survey.Text{Vi: "Dữ liệu gửi lên quá lớn.", En: "The request body is too large."}
	case http.StatusMethodNotAllowed:
		return survey.Text{Vi: "Phương thức không được hỗ trợ.", En: "Method not allowed."}
	case http.StatusUnsupportedMediaType:
		return survey.Text{Vi: "Cần gửi dữ liệu dạng JSON (Content-Type: application/json).", En: "Send the body as JSON (Content-Type: application/json)."}
	case http.StatusTooManyRequests:
		return survey.Text{Vi: "Gửi quá nhiều lần, vui lòng thử lại sau ít phút.", En: "Too many submissions; please try again in a minute."}
	}
	return survey.Text{Vi: msg, En: msg}
}

// Shutdown stops accepting requests and waits for those in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	return s.echo.Shutdown(ctx)
}

// Start serves on addr until Shutdown.
func (s *Server) Start(addr string) error {
	s.echo.Server.ReadHeaderTimeout = 10 * time.Second
	s.echo.Server.ReadTimeout = 30 * time.Second
	s.echo.Server.WriteTimeout = 5 * time.Minute // streamed exports
	s.echo.Server.IdleTimeout = 2 * time.Minute
	err := s.echo.Start(addr)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
