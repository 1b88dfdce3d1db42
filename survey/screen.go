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
	// KioskBurstLimit is the most responses one enrolled kiosk may send
	// within BurstWindow: one every 30 seconds for ten minutes, more than a
	// queue at one tablet produces (each person reads and taps through at
	// least a dozen questions). A kiosk's traffic is screened per device,
	// not against the centre's BurstLimit, which counts phones.
	KioskBurstLimit = 20
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
	// with the same fingerprint (for a kiosk: the device's own, apart from
	// the phones; the limit is the same, DuplicateLimit: on a simulated
	// week at 20 tablets with one person in six tapping the same answers,
	// it flagged 1 organic answer in 4,235, see store's TestKioskSimulation).
	SameAnswers int64
	// Kiosk is set for a response from an enrolled kiosk; the burst
	// counts below are then the device's, and RecentAtCentre is ignored.
	Kiosk bool
	// DeviceRecent counts the kiosk's responses within BurstWindow before
	// this one.
	DeviceRecent int64
	// DeviceOverlapping counts the kiosk's responses stored after
	// KioskBusySince(At, DurationMS), up to this one.
	DeviceOverlapping int64
}

// KioskBusySince is when the person of a kiosk response that arrived at at
// (the exact time) began, durationMS before: a response from the same
// device stored after it overlaps this one, two people on one tablet at
// once. Stored times are cut down to the minute, so a stored time after it
// means the earlier response surely arrived after this person began (an
// overlap hidden within that minute goes unseen).
func KioskBusySince(at time.Time, durationMS int64) time.Time {
	return at.Add(-time.Duration(durationMS) * time.Millisecond)
}

// Screen returns the anomaly flags of a response. A receipt proves that a
// procedure took place, not that its answers are genuine, so verified
// responses go through the same checks (issue: four identical 1 ms answers
// with self-issued receipts were all counted), except the burst: that counts
// unverified traffic, and a busy counter issuing receipts is no burst.
//
// A kiosk serves one person after another, so its answers are screened per
// device (KioskBurstLimit; repeated answers counted among its own), receipts
// or not, and one more rule holds: a person cannot start on the tablet
// before the previous one has sent. A response whose reported duration is
// longer than the time since the device's previous response overlaps it
// (DeviceOverlapping, see KioskBusySince): the kiosk submitted faster than
// a person can answer.
func Screen(in ScreenInput) []string {
	var flags []string
	switch {
	case in.Kiosk:
		if in.DeviceRecent >= KioskBurstLimit || in.DeviceOverlapping > 0 {
			flags = append(flags, FlagBurst)
		}
	case !in.Verified && in.RecentAtCentre >= BurstLimit:
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
