package survey

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Anomaly flags raised on responses, receipt-verified ones included. A
// flagged response is kept but left out of scores until an admin releases
// it.
const (
	FlagBurst     = "burst"     // many unverified answers at one centre within minutes
	FlagDuplicate = "duplicate" // the same answer set again and again within a short window
	FlagOffHours  = "off_hours" // sent when the centre is closed
	FlagTooFast   = "too_fast"  // answered faster than anyone can read the questions
	FlagUntimed   = "untimed"   // sent through the web form without the time it took
)

// Screening thresholds, chosen so that a busy centre's real queue passes
// (see the stuffing simulation in store's tests for the measured rates).
const (
	BurstWindow     = 10 * time.Minute
	BurstLimit      = 30 // unverified responses at one centre within BurstWindow
	DuplicateWindow = time.Hour
	DuplicateLimit  = 2 // earlier identical answer sets at the centre within DuplicateWindow
	// MinSecondsPerAnswer is the least reading-and-tapping time per answer.
	MinSecondsPerAnswer = 1.5
)

// ScreenInput is what the anomaly checks look at.
type ScreenInput struct {
	At time.Time
	// DurationMS is the time from opening the form to sending it, as the
	// page reports it; 0 when unknown (then the speed check is skipped
	// here, and ClientFlags has flagged a web-form submission).
	DurationMS int64
	Answered   int
	// Verified is set when the response carried a valid receipt code.
	Verified bool
	// RecentAtCentre counts unverified responses at the centre within
	// BurstWindow before this one.
	RecentAtCentre int64
	// SameAnswers counts responses at the centre within DuplicateWindow
	// with the same fingerprint.
	SameAnswers int64
}

// Screen returns the anomaly flags of a response. A receipt proves that a
// procedure took place, not that its answers are genuine, so verified
// responses go through the same checks (issue: four identical 1 ms answers
// with self-issued receipts were all counted), except the burst: that counts
// unverified traffic, and a busy counter issuing receipts is no burst.
func Screen(in ScreenInput) []string {
	var flags []string
	if !in.Verified && in.RecentAtCentre >= BurstLimit {
		flags = append(flags, FlagBurst)
	}
	if in.SameAnswers >= DuplicateLimit {
		flags = append(flags, FlagDuplicate)
	}
	if !OpenHours(in.At) {
		flags = append(flags, FlagOffHours)
	}
	if in.DurationMS > 0 && float64(in.DurationMS) < MinSecondsPerAnswer*1000*float64(in.Answered) {
		flags = append(flags, FlagTooFast)
	}
	return flags
}

// ClientFlags returns the flags a web-form submission earns from what its
// client reported, before the store's checks. The resident's page always
// reports how long the answers took; a submission without it (duration_ms
// missing or 0) comes from something else, and leaving the number out must
// not exempt it from the speed check. Answers that come without a page
// (papi demo, household interviews) do not pass through here.
func ClientFlags(durationMS int64) []string {
	if durationMS <= 0 {
		return []string{FlagUntimed}
	}
	return nil
}

// OpenHours reports whether t falls in the widest plausible opening hours
// of a commune centre: Monday to Saturday, 06:30 to 19:00 city time.
func OpenHours(t time.Time) bool {
	l := t.In(Local)
	if l.Weekday() == time.Sunday {
		return false
	}
	m := l.Hour()*60 + l.Minute()
	return m >= 6*60+30 && m < 19*60
}

// Fingerprint identifies an answer set (the same answers to the same
// questions give the same fingerprint), without storing anything about the
// person.
func Fingerprint(a Answers) string {
	b, _ := json.Marshal(a) // map keys are sorted: a stable encoding
	return FingerprintJSON(b)
}

// FingerprintJSON is Fingerprint of answers already encoded with
// json.Marshal, for callers that store the encoding anyway.
func FingerprintJSON(encoded []byte) string {
	sum := sha256.Sum256(encoded)
	return hex.EncodeToString(sum[:8])
}
