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
	// KioskDuplicateLimit is the number of earlier identical answer sets
	// from one kiosk within DuplicateWindow at which a response is
	// flagged. A tablet serves a whole queue, so the short "satisfied with
	// everything" path recurs more often than from one phone; the count is
	// the device's own, apart from the phones at the centre.
	KioskDuplicateLimit = 3
	// KioskOverlapSlack absorbs the minute to which stored times are cut
	// when the overlap check compares a kiosk's responses.
	KioskOverlapSlack = time.Minute
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
	// with the same fingerprint (for a kiosk: the device's own).
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

// KioskBusySince is the time after which a kiosk that sent a response at at,
// durationMS after its person started, cannot have sent another: a response
// from the same device stored later overlaps this one, two people on one
// tablet at once. Stored times are cut to the minute, hence the slack.
func KioskBusySince(at time.Time, durationMS int64) time.Time {
	return at.Add(-time.Duration(durationMS)*time.Millisecond + KioskOverlapSlack)
}

// Screen returns the anomaly flags of a response. A receipt proves that a
// procedure took place, not that its answers are genuine, so verified
// responses go through the same checks (issue: four identical 1 ms answers
// with self-issued receipts were all counted), except the burst: that counts
// unverified traffic, and a busy counter issuing receipts is no burst.
//
// A kiosk serves one person after another, so its answers are screened per
// device (see KioskBurstLimit, KioskDuplicateLimit), receipts or not, and
// one more rule holds: a person cannot start on the tablet before the
// previous one has sent. A response whose reported duration is longer than
// the time since the device's previous response (plus KioskOverlapSlack)
// overlaps it (DeviceOverlapping): the kiosk submitted faster than a person
// can answer.
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
	same := int64(DuplicateLimit)
	if in.Kiosk {
		same = KioskDuplicateLimit
	}
	if in.SameAnswers >= same {
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
