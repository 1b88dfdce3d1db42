package api

import (
	"crypto/sha256"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

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

// maxBuckets caps each limiter map: a flood of new client addresses (a
// botnet, or IPv6 hosts) cannot grow memory without bound. When the map is
// full, buckets that are full again are forgotten first (forgetting them
// changes nothing), then arbitrary ones (their clients get a fresh burst;
// the per-centre limit still holds).
const maxBuckets = 50_000

// buckets holds one token bucket per key.
type buckets[K comparable] struct {
	limit rate.Limit
	burst int
	m     map[K]*rate.Limiter
	swept time.Time
}

func newBuckets[K comparable](perMinute, burst float64) *buckets[K] {
	return &buckets[K]{limit: rate.Limit(perMinute / 60), burst: max(1, int(burst)), m: map[K]*rate.Limiter{}}
}

// allow takes one token from k's bucket. The caller holds the limiter's lock.
func (b *buckets[K]) allow(k K, now time.Time) bool {
	// Sweep every minute, or sooner when full, but at most once a second:
	// under a flood each sweep walks the whole map.
	if d := now.Sub(b.swept); d > time.Minute || len(b.m) >= maxBuckets && d > time.Second {
		b.sweep(now)
	}
	l := b.m[k]
	if l == nil {
		for k := range b.m {
			if len(b.m) < maxBuckets {
				break
			}
			delete(b.m, k) // map order is random: an arbitrary victim
		}
		l = rate.NewLimiter(b.limit, b.burst)
		b.m[k] = l
	}
	return l.AllowN(now, 1)
}

// sweep forgets buckets that have refilled: a new bucket would be the same.
func (b *buckets[K]) sweep(now time.Time) {
	for k, l := range b.m {
		if l.TokensAt(now) >= float64(b.burst) {
			delete(b.m, k)
		}
	}
	b.swept = now
}

type limiter struct {
	cfg     RateLimit
	now     func() time.Time
	mu      sync.Mutex
	clients *buckets[[16]byte]
	centres *buckets[string]
}

func newLimiter(cfg RateLimit, now func() time.Time) *limiter {
	if cfg.PerClient == 0 {
		cfg.PerClient, cfg.Burst, cfg.PerCentre = DefaultRateLimit.PerClient, DefaultRateLimit.Burst, DefaultRateLimit.PerCentre
	}
	return &limiter{cfg: cfg, now: now,
		clients: newBuckets[[16]byte](cfg.PerClient, cfg.Burst),
		centres: newBuckets[string](cfg.PerCentre, cfg.PerCentre/4)}
}

// clientKey identifies a client address as a truncated hash: addresses are
// kept only this way, in memory, never stored. An IPv6 client is its /64,
// the block one household or phone gets, so it cannot rotate through it.
func clientKey(ip string) [16]byte {
	if a, err := netip.ParseAddr(ip); err == nil {
		a = a.Unmap()
		if a.Is6() {
			p, _ := a.Prefix(64)
			a = p.Addr()
		}
		ip = a.String()
	}
	sum := sha256.Sum256([]byte(ip))
	var k [16]byte
	copy(k[:], sum[:16])
	return k
}

// allowClient takes one submission from the client's bucket.
func (l *limiter) allowClient(clientIP string) bool {
	if l.cfg.Off {
		return true
	}
	k := clientKey(clientIP)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.clients.allow(k, l.now())
}

// allowCentre takes one submission from the centre's bucket.
func (l *limiter) allowCentre(token string) bool {
	if l.cfg.Off {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.centres.allow(token, l.now())
}

// ipExtractor decides where the client address comes from. With no trusted
// proxy it is the connection's peer: a client cannot choose it. Otherwise
// X-Forwarded-For is read from the right, skipping only the configured
// proxies, so a value the client put in front is never believed. Echo's
// extractor trusts loopback and private ranges by default; that is turned
// off so that only what the operator listed counts.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

var errThrottled = survey.Errorf(survey.ETOOMANY, "Gửi quá nhiều lần, vui lòng thử lại sau ít phút.", "Too many submissions; please try again in a minute.")

// throttle applies the per-client limit to submissions; the per-centre
// limit is applied once the body names the centre.
func (s *Server) throttle(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.limiter.allowClient(c.RealIP()) {
			s.metrics.submissions.WithLabelValues("throttled").Inc()
			c.Response().Header().Set("Retry-After", "60")
			return errThrottled
		}
		return next(c)
	}
}
