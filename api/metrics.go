package api

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are exported at /metrics in Prometheus text format. Each server
// has its own registry, so tests can run servers side by side.
type metrics struct {
	registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	submissions *prometheus.CounterVec
	inFlight    prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "papi_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "papi_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
		submissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "papi_submissions_total", Help: "Resident submissions by result: stored, duplicate, flagged, rejected, throttled, abandoned (client left), failed.",
		}, []string{"result"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "papi_http_requests_in_flight", Help: "Requests being served.",
		}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.submissions, m.inFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range []string{"stored", "duplicate", "flagged", "rejected", "throttled", "abandoned", "failed"} {
		m.submissions.WithLabelValues(r)
	}
	return m
}

// observe counts and times every request and writes one structured log
// line per request with its request id. Client addresses are not logged:
// residents are anonymous.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		s.metrics.inFlight.Inc()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		s.metrics.inFlight.Dec()
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		elapsed := time.Since(start)
		method := c.Request().Method
		s.metrics.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
		s.metrics.latency.WithLabelValues(method, route).Observe(elapsed.Seconds())
		// Writes are logged at info, reads at debug, failures at warn. A
		// resident's accepted submission is the exception: it is counted
		// here (papi_http_requests_total), and a line for each would fill
		// the log under a busy day's traffic, or a flood, for nothing an
		// operator acts on; a refused one is logged.
		level := slog.LevelDebug
		switch {
		case status >= 500:
			level = slog.LevelWarn
		case method == http.MethodGet, route == submissionRoute && status < 400:
		default:
			level = slog.LevelInfo
		}
		s.log.Log(c.Request().Context(), level, "request", "method", method, "route", route, "status", status,
			"duration_ms", elapsed.Milliseconds(), "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		return nil
	}
}

func (s *Server) handleMetrics(c echo.Context) error {
	s.MetricsHandler().ServeHTTP(c.Response(), c.Request())
	return nil
}

func (s *Server) handleHealth(c echo.Context) error {
	if err := s.store.Ping(c.Request().Context()); err != nil {
		s.log.Error("health check failed", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "down"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "database": "ok", "version": s.cfg.Version})
}

// handleReady answers 503 once shutdown has begun so a load balancer stops
// sending new residents here while in-flight submissions finish.
func (s *Server) handleReady(c echo.Context) error {
	if s.draining.Load() {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "draining"})
	}
	return s.handleHealth(c)
}
