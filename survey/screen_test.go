package survey

import (
	"slices"
	"testing"
	"time"
)

// TestScreen: every rule, for unverified and receipt-verified answers (a
// receipt does not exempt answers from the checks, only from the burst,
// which counts unverified traffic).
func TestScreen(t *testing.T) {
	open := time.Date(2026, 3, 4, 10, 0, 0, 0, Local) // a Wednesday morning
	night := time.Date(2026, 3, 4, 22, 0, 0, 0, Local)
	cases := []struct {
		name string
		in   ScreenInput
		want []string
	}{
		{"ordinary", ScreenInput{At: open, DurationMS: 120000, Answered: 20, RecentAtCentre: 5}, nil},
		{"burst", ScreenInput{At: open, DurationMS: 120000, Answered: 20, RecentAtCentre: BurstLimit}, []string{FlagBurst}},
		{"burst, verified", ScreenInput{At: open, DurationMS: 120000, Answered: 20, RecentAtCentre: BurstLimit, Verified: true}, nil},
		{"repeated answers, verified", ScreenInput{At: open, DurationMS: 120000, Answered: 20, SameAnswers: DuplicateLimit, Verified: true}, []string{FlagDuplicate}},
		{"night, verified", ScreenInput{At: night, DurationMS: 120000, Answered: 20, Verified: true}, []string{FlagOffHours}},
		{"1 ms, verified", ScreenInput{At: open, DurationMS: 1, Answered: 20, Verified: true}, []string{FlagTooFast}},
		{"duration unknown", ScreenInput{At: open, Answered: 20}, nil},
	}
	for _, tc := range cases {
		if got := Screen(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestFingerprintJSON: the fingerprint of encoded answers is the
// fingerprint of the answers.
func TestFingerprintJSON(t *testing.T) {
	a := Answers{"q1": "yes", "q2": []string{"a", "b"}, "q3": 4.0}
	b := []byte(`{"q1":"yes","q2":["a","b"],"q3":4}`)
	if got, want := FingerprintJSON(b), Fingerprint(a); got != want || len(got) != 16 {
		t.Errorf("got %q, want %q (16 hex digits)", got, want)
	}
}

// TestScreenKiosk: a kiosk's answers are screened per device. Ten minutes
// of a busy tablet (one person every minute) pass whatever the phones at
// the centre do; a kiosk sending more than a queue can, or a response that
// took longer than the time since the device's previous one (two people on
// one tablet at once), is a burst; repeated answers, speed and hours apply
// as to any answer.
func TestScreenKiosk(t *testing.T) {
	open := time.Date(2026, 3, 4, 10, 0, 0, 0, Local)
	cases := []struct {
		name string
		in   ScreenInput
		want []string
	}{
		{"busy tablet, busy centre", ScreenInput{At: open, DurationMS: 50000, Answered: 20, Kiosk: true, RecentAtCentre: 500, DeviceRecent: 9}, nil},
		{"more than a queue", ScreenInput{At: open, DurationMS: 50000, Answered: 20, Kiosk: true, DeviceRecent: KioskBurstLimit}, []string{FlagBurst}},
		{"verified, more than a queue", ScreenInput{At: open, DurationMS: 50000, Answered: 20, Kiosk: true, Verified: true, DeviceRecent: KioskBurstLimit}, []string{FlagBurst}},
		{"overlapping", ScreenInput{At: open, DurationMS: 240000, Answered: 20, Kiosk: true, DeviceRecent: 1, DeviceOverlapping: 1}, []string{FlagBurst}},
		{"same answers twice before", ScreenInput{At: open, DurationMS: 50000, Answered: 20, Kiosk: true, SameAnswers: DuplicateLimit - 1}, nil},
		{"same answers thrice", ScreenInput{At: open, DurationMS: 50000, Answered: 20, Kiosk: true, SameAnswers: DuplicateLimit}, []string{FlagDuplicate}},
		{"too fast", ScreenInput{At: open, DurationMS: 20000, Answered: 20, Kiosk: true}, []string{FlagTooFast}},
		{"phone, busy centre", ScreenInput{At: open, DurationMS: 50000, Answered: 20, RecentAtCentre: BurstLimit, DeviceOverlapping: 3}, []string{FlagBurst}},
	}
	for _, tc := range cases {
		if got := Screen(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestKioskBusySince: a response that arrived at 10:02:30 after 4 minutes
// began at 09:58:30; a previous one stored at 09:59 (sent between 09:59:00
// and 09:59:59) surely overlaps it, one stored at 09:58 may not and is not
// counted; one taking 20 s began at 10:02:10, after both.
func TestKioskBusySince(t *testing.T) {
	at := time.Date(2026, 3, 4, 10, 2, 30, 0, Local)
	for _, tc := range []struct {
		ms   int64
		prev time.Time
		want bool
	}{
		{240000, at.Add(-3*time.Minute - 30*time.Second), true},
		{240000, at.Add(-4*time.Minute - 30*time.Second), false},
		{20000, at.Add(-3*time.Minute - 30*time.Second), false},
	} {
		if got := tc.prev.After(KioskBusySince(at, tc.ms)); got != tc.want {
			t.Errorf("%d ms, previous stored at %s: overlaps %v, want %v", tc.ms, tc.prev.Format("15:04"), got, tc.want)
		}
	}
}
