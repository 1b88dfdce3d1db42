package survey

import "errors"

// Error codes shared by every layer; api maps them to HTTP statuses.
const (
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EINVALID      = "invalid"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ETOOMANY      = "too_many_requests"
	EINTERNAL     = "internal"
)

// Error is a domain error with a code and a message for the person using
// papi, in Vietnamese and English.
type Error struct {
	Code    string
	Message Text
}

func (e *Error) Error() string { return e.Code + ": " + e.Message.En }

// Errorf builds a domain error.
func Errorf(code, vi, en string) *Error {
	return &Error{Code: code, Message: Text{Vi: vi, En: en}}
}

// ErrorCode returns the code of a domain error, EINVALID for a
// *ValidationError and EINTERNAL for anything else.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var v *ValidationError
	if errors.As(err, &v) {
		return EINVALID
	}
	return EINTERNAL
}
