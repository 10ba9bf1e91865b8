package http

import (
	"encoding/json"
	"net/http"

	"github.com/qianmian/qianmian"
)

// errNotFound is the one answer for a missing object and for another tenant's object, so
// that a 404 never tells the two apart.
var errNotFound = qianmian.Errorf(qianmian.ENOTFOUND, "not found")

// statusFor translates an error code into an HTTP status. It is the only such table.
func statusFor(code string) int {
	switch code {
	case qianmian.EINVALID:
		return http.StatusBadRequest
	case qianmian.ENOTFOUND:
		return http.StatusNotFound
	case qianmian.ECONFLICT:
		return http.StatusConflict
	case qianmian.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case qianmian.EFORBIDDEN:
		return http.StatusForbidden
	case qianmian.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// writeError is the one path by which errors reach a caller. Internal errors are logged and
// answered with "internal error"; every 404 has the same body (errNotFound), whatever the
// service said, so another tenant's object cannot be told from a missing one.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := qianmian.ErrorCode(err)
	status := statusFor(code)
	d := errorDetail{Code: code, Message: qianmian.ErrorMessage(err), Field: qianmian.ErrorField(err)}
	switch status {
	case http.StatusInternalServerError:
		d = errorDetail{Code: qianmian.EINTERNAL, Message: "internal error"}
		s.Logger.ErrorContext(r.Context(), "internal error", "method", r.Method, "route", r.Pattern, "err", err)
	case http.StatusNotFound:
		d = errorDetail{Code: qianmian.ENOTFOUND, Message: errNotFound.Message}
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="qianmian"`)
	}
	writeJSON(w, status, errorBody{Error: d})
}

// writeJSON writes v as the JSON response body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	// The status is sent; an encoding error here can only be a broken connection.
	_ = json.NewEncoder(w).Encode(v)
}

// forbidden returns the EFORBIDDEN error for a write the principal may not make. Reads
// never use it: a refused read is errNotFound.
func forbidden(format string, args ...any) error {
	return qianmian.Errorf(qianmian.EFORBIDDEN, format, args...)
}
