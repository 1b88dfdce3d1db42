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

// Login throttling. Each failed password check counts against the account
// tried and against the client address; past backoffAfter failures every
// further try waits twice as long as the one before (1 s, 2 s, 4 s, …) and
// at lockAfter failures the account or client is locked for lockFor.
// Failures are forgotten after forgetAfter without one. A client address may
// be a whole office behind one router, so it gets clientFactor times the
// account's allowance. The count lives in memory, per process.
const (
	backoffAfter = 5
	lockAfter    = 10
	lockFor      = 15 * time.Minute
	forgetAfter  = time.Hour
	clientFactor = 2
)

type failures struct {
	n     int
	last  time.Time
	until time.Time
}

type loginGuard struct {
	now      func() time.Time
	mu       sync.Mutex
	accounts map[[16]byte]*failures
	clients  map[[16]byte]*failures
	swept    time.Time
}

func newLoginGuard(now func() time.Time) *loginGuard {
	return &loginGuard{now: now, accounts: map[[16]byte]*failures{}, clients: map[[16]byte]*failures{}}
}

func accountKey(email string) [16]byte {
	sum := sha256.Sum256([]byte("account\x00" + survey.NormalEmail(email)))
	var k [16]byte
	copy(k[:], sum[:16])
	return k
}

// wait returns how long the account and the client must still wait before
// a password may be checked; 0 when it may be checked now.
func (g *loginGuard) wait(email, client string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	w := time.Duration(0)
	for _, f := range []*failures{g.accounts[accountKey(email)], g.clients[clientKey(client)]} {
		if f != nil && f.until.After(now) {
			w = max(w, f.until.Sub(now))
		}
	}
	return w
}

// fail records a failed check and reports whether it locked the account
// or the client.
func (g *loginGuard) fail(email, client string) (lockedAccount, lockedClient bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if now.Sub(g.swept) > time.Minute {
		for _, m := range []map[[16]byte]*failures{g.accounts, g.clients} {
			for k, f := range m {
				if now.Sub(f.last) > forgetAfter && !f.until.After(now) {
					delete(m, k)
				}
			}
		}
		g.swept = now
	}
	lockedAccount = record(g.accounts, accountKey(email), now, 1)
	lockedClient = record(g.clients, clientKey(client), now, clientFactor)
	return lockedAccount, lockedClient
}

// record counts one failure and sets the wait; factor scales the
// thresholds. It reports whether this failure started a lock.
func record(m map[[16]byte]*failures, k [16]byte, now time.Time, factor int) bool {
	f := m[k]
	if f == nil || now.Sub(f.last) > forgetAfter {
		if f == nil && len(m) >= maxBuckets {
			// A flood of new keys: forget an arbitrary one rather than grow.
			for old := range m {
				delete(m, old)
				break
			}
		}
		f = &failures{}
		m[k] = f
	}
	f.n++
	f.last = now
	switch {
	case f.n >= lockAfter*factor:
		f.until = now.Add(lockFor)
		return true
	case f.n >= backoffAfter*factor:
		f.until = now.Add(time.Second << (f.n - backoffAfter*factor))
	}
	return false
}

// succeed clears an account's failures once its password was right. The
// client's stay: one good account must not reset a client trying others.
func (g *loginGuard) succeed(email string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.accounts, accountKey(email))
}

// hashSlots bounds concurrent argon2id runs. Each takes 19 MiB and a core
// for about 50 ms; without a bound, anonymous logins in parallel grow the
// process by 15 MB each. A request waits up to hashWait for a slot, with at
// most maxWaiting requests waiting; beyond that it is refused at once.
type hashSlots struct {
	ch         chan struct{}
	mu         sync.Mutex
	waiting    int
	maxWaiting int
}

const hashWait = 2 * time.Second

func newHashSlots(n int) *hashSlots {
	return &hashSlots{ch: make(chan struct{}, n), maxWaiting: 4 * n}
}

var errHashBusy = survey.Errorf(survey.ETOOMANY, "Máy chủ đang bận xử lý đăng nhập; vui lòng thử lại sau vài giây.", "The server is busy with other logins; please try again in a few seconds.")

// acquire takes a slot; release it with the returned function.
func (h *hashSlots) acquire(c echo.Context) (func(), error) {
	release := func() { <-h.ch }
	select {
	case h.ch <- struct{}{}:
		return release, nil
	default:
	}
	h.mu.Lock()
	if h.waiting >= h.maxWaiting {
		h.mu.Unlock()
		c.Response().Header().Set("Retry-After", "2")
		return nil, errHashBusy
	}
	h.waiting++
	h.mu.Unlock()
	defer func() { h.mu.Lock(); h.waiting--; h.mu.Unlock() }()
	t := time.NewTimer(hashWait)
	defer t.Stop()
	select {
	case h.ch <- struct{}{}:
		return release, nil
	case <-t.C:
		c.Response().Header().Set("Retry-After", "2")
		return nil, errHashBusy
	case <-c.Request().Context().Done():
		return nil, c.Request().Context().Err()
	}
}
