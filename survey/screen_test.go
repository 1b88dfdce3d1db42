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
