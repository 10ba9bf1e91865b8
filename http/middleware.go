package http

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/qianmian/qianmian"
)

// requestInfo is what the inner layers tell observe about a request after it ran.
type requestInfo struct {
	principal qianmian.Principal
}

type requestInfoKey struct{}

// observe counts, times and logs every request by its route pattern. The mux sets
// r.Pattern on the very request observe hands it, so the pattern is known afterwards.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now() // the wall clock, not s.Now, which tests pin
		info := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)

		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		s.metrics.observeRequest(route, status, elapsed)
		s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Duration("duration", elapsed),
			slog.String("role", string(info.principal.Role)),
			slog.String("principal", info.principal.ID),
		)
	})
}

// authenticate resolves "Authorization: Bearer TOKEN" to a Principal and puts it in the
// request's context. Without a known key the request ends with 401.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok {
			s.writeError(w, r, qianmian.Errorf(qianmian.EUNAUTHORIZED, "API key required: send Authorization: Bearer KEY"))
			return
		}
		p, err := s.Keys.FindPrincipalByToken(r.Context(), token)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
			info.principal = p
		}
		next.ServeHTTP(w, r.WithContext(qianmian.NewContextWithPrincipal(r.Context(), p)))
	})
}

// bearerToken returns the token of an "Authorization: Bearer TOKEN" header value.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// principal returns the request's principal. authenticate guarantees one on every route
// that calls it; the zero Principal (no role) is refused by every access rule.
func principal(r *http.Request) qianmian.Principal {
	p, _ := qianmian.PrincipalFromContext(r.Context())
	return p
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
