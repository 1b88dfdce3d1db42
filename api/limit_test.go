package api

import (
	"fmt"
	"testing"
	"time"
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
