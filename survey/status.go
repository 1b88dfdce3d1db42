package survey

// Status is where a stored response stands. Only counted responses feed
// the scores; flagged ones (by the anomaly checks) are tallied apart and
// left out unless asked for; quarantined ones are in no tally. None is ever
// deleted.
type Status string

const (
	StatusCounted     Status = "counted"
	StatusFlagged     Status = "flagged"
	StatusQuarantined Status = "quarantined"
)

// Statuses lists every status.
var Statuses = []Status{StatusCounted, StatusFlagged, StatusQuarantined}

// CanMove reports whether an admin may move a response from s to to: a
// counted or flagged response may be quarantined, and a flagged or
// quarantined one released (counted). Flagging is the anomaly checks' alone,
// so nothing moves to flagged by hand. Staying put is always allowed.
func (s Status) CanMove(to Status) bool {
	if s == to {
		return true
	}
	switch to {
	case StatusQuarantined:
		return s == StatusCounted || s == StatusFlagged
	case StatusCounted:
		return s == StatusFlagged || s == StatusQuarantined
	}
	return false
}
