package qianmian

import (
	"errors"
	"fmt"
)

// Error codes. They are the only part of an error that callers act on; the edge (HTTP, CLI)
// translates them into a status or exit code in one place.
const (
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	EUNAVAILABLE  = "unavailable"
)

// Error is an error meant for the API caller. Anything that is not an *Error is internal:
// it is logged, and the caller sees only "internal error".
type Error struct {
	Code    string
	Message string
	// Field names the input field at fault for EINVALID errors ("occurred_at",
	// "context.location_type"); empty otherwise.
	Field string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return "qianmian: " + e.Code + ": " + e.Field + ": " + e.Message
	}
	return "qianmian: " + e.Code + ": " + e.Message
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error that names the field at fault and the reason.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil, and EINTERNAL
// for anything else.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, "" for nil, and
// "internal error" for anything else, so internal details never reach a caller.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	}
	return "internal error"
}

// ErrorField returns the Field of the first *Error in err's chain, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
