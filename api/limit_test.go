package api

import (
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/survey"
)

// TestBucketsAreCapped: however many addresses a flood brings, the map
// stays within maxBuckets, and a client that keeps sending stays limited.
func TestBucketsAreCapped(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	b := newBuckets[string](20, 3)
	for i := 0; i < maxBuckets+5000; i++ {
		b.allow(fmt.Sprintf("client-%d", i), now.Add(time.Duration(i)*time.Microsecond))
	}
	now = now.Add(time.Second)
	if len(b.m) > maxBuckets {
		t.Errorf("got %d buckets, want at most %d", len(b.m), maxBuckets)
	}
	allowed := 0
	for i := 0; i < 10; i++ {
		if b.allow("steady", now) {
			allowed++
		}
	}
	if allowed != 3 {
		t.Errorf("one client, 10 at once: got %d allowed, want the burst of 3", allowed)
	}
	// A minute later the refilled buckets are swept: only ones still
	// short of tokens would remain, and none is.
	b.allow("late", now.Add(2*time.Minute))
	if len(b.m) != 1 {
		t.Errorf("after the sweep: got %d buckets, want only the new one", len(b.m))
	}
}

func TestClientKey(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"2001:db8::1", "2001:db8::ffff:1", true},  // one /64
		{"2001:db8::1", "2001:db8:0:1::1", false},  // the next /64
		{"192.0.2.1", "::ffff:192.0.2.1", true},    // IPv4-mapped
		{"192.0.2.1", "192.0.2.2", false},          // IPv4 addresses are hosts
		{"not an address", "not an address", true}, // still a stable key
	} {
		if got := clientKey(tc.a) == clientKey(tc.b); got != tc.same {
			t.Errorf("clientKey(%q) == clientKey(%q): got %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}

// TestHashSlots closes M4's bound: at most n password hashes run at once;
// a request waits a little for a slot, and beyond maxWaiting waiters it is
// refused at once with 429 and Retry-After.
func TestHashSlots(t *testing.T) {
	e := echo.New()
	ctx := func() (echo.Context, *httptest.ResponseRecorder) {
		rec := httptest.NewRecorder()
		return e.NewContext(httptest.NewRequest("POST", "/api/v1/auth/login", nil), rec), rec
	}
	h := newHashSlots(2)
	c, _ := ctx()
	r1, err1 := h.acquire(c)
	r2, err2 := h.acquire(c)
	if err1 != nil || err2 != nil {
		t.Fatalf("two slots: got %v, %v", err1, err2)
	}
	// Fill the waiting room, then one more is refused without waiting.
	var wg sync.WaitGroup
	results := make(chan error, h.maxWaiting)
	for i := 0; i < h.maxWaiting; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _ := ctx()
			release, err := h.acquire(c)
			if err == nil {
				release()
			}
			results <- err
		}()
	}
	for {
		h.mu.Lock()
		n := h.waiting
		h.mu.Unlock()
		if n == h.maxWaiting {
			break
		}
		time.Sleep(time.Millisecond)
	}
	c, rec := ctx()
	start := time.Now()
	if _, err := h.acquire(c); survey.ErrorCode(err) != survey.ETOOMANY || rec.Header().Get("Retry-After") == "" {
		t.Errorf("beyond the waiting room: got %v (Retry-After %q), want too_many_requests", err, rec.Header().Get("Retry-After"))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusal took %v; want it at once", d)
	}
	// Freeing the slots lets every waiter through in turn.
	r1()
	r2()
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil {
			t.Errorf("waiter: %v", err)
		}
	}
	if len(h.ch) != 0 {
		t.Errorf("%d slots still taken after every release", len(h.ch))
	}
}
