package api

import (
	"crypto/sha256"
	"net"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/survey"
)

// RateLimit tunes throttling of open-poster submissions. A whole centre's
// Wi-Fi shares one address, so the per-client limit is generous per minute
// but stops bursts; the per-centre limit caps what any number of clients can
// push into one centre.
type RateLimit struct {
	Off bool
	// PerClient submissions per minute from one client address, with Burst
	// allowed at once.
	PerClient float64
	Burst     float64
	// PerCentre submissions per minute into one centre.
	PerCentre float64
}

// DefaultRateLimit lets a queue of residents on one Wi-Fi submit (one every
// few seconds) but refuses a script firing dozens at once.
var DefaultRateLimit = RateLimit{PerClient: 20, Burst: 6, PerCentre: 120}

// bucket is a token bucket.
type bucket struct {
	tokens float64
	last   time.Time
}

type limiter struct {
	cfg     RateLimit
	now     func() time.Time
	mu      sync.Mutex
	clients map[[16]byte]*bucket
	centres map[string]*bucket
	swept   time.Time
}

func newLimiter(cfg RateLimit, now func() time.Time) *limiter {
	if cfg.PerClient == 0 {
		cfg.PerClient, cfg.Burst, cfg.PerCentre = DefaultRateLimit.PerClient, DefaultRateLimit.Burst, DefaultRateLimit.PerCentre
	}
	return &limiter{cfg: cfg, now: now, clients: map[[16]byte]*bucket{}, centres: map[string]*bucket{}}
}

func take(b *bucket, now time.Time, perMinute, burst float64) bool {
	b.tokens += now.Sub(b.last).Minutes() * perMinute
	if b.tokens > burst {
		b.tokens = burst
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// allowClient takes one submission from the client's bucket. Client
// addresses are kept only as truncated hashes in memory, never stored.
func (l *limiter) allowClient(clientIP string) bool {
	if l.cfg.Off {
		return true
	}
	sum := sha256.Sum256([]byte(clientIP))
	var k [16]byte
	copy(k[:], sum[:16])
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	b := l.clients[k]
	if b == nil {
		b = &bucket{tokens: l.cfg.Burst, last: now}
		l.clients[k] = b
	}
	return take(b, now, l.cfg.PerClient, l.cfg.Burst)
}

// allowCentre takes one submission from the centre's bucket.
func (l *limiter) allowCentre(token string) bool {
	if l.cfg.Off {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	burst := l.cfg.PerCentre / 4
	b := l.centres[token]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		l.centres[token] = b
	}
	return take(b, now, l.cfg.PerCentre, burst)
}

// sweep forgets idle buckets so memory stays bounded.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < 10*time.Minute {
		return
	}
	for id, b := range l.clients {
		if now.Sub(b.last) > 10*time.Minute {
			delete(l.clients, id)
		}
	}
	for id, b := range l.centres {
		if now.Sub(b.last) > 10*time.Minute {
			delete(l.centres, id)
		}
	}
	l.swept = now
}

var errThrottled = survey.Errorf(survey.ETOOMANY, "Gửi quá nhiều lần, vui lòng thử lại sau ít phút.", "Too many submissions; please try again in a minute.")

// throttle applies the per-client limit to submissions; the per-centre
// limit is applied once the body names the centre.
func (s *Server) throttle(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ip := c.RealIP()
		if h, _, err := net.SplitHostPort(ip); err == nil {
			ip = h
		}
		if !s.limiter.allowClient(ip) {
			s.metrics.submissions.WithLabelValues("throttled").Inc()
			c.Response().Header().Set("Retry-After", "60")
			return errThrottled
		}
		return next(c)
	}
}
