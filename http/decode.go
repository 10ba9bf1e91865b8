package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/qianmian/qianmian"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 64 << 20

// MaxBatch bounds the records of one batch request: events and catalogue upserts alike.
const MaxBatch = 10_000

// readBody reads the request body, at most MaxBodyBytes of it.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	if r.ContentLength > 0 && r.ContentLength <= MaxBodyBytes {
		buf.Grow(int(r.ContentLength) + bytes.MinRead) // one allocation for a declared length
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	body := buf.Bytes()
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, qianmian.Invalid("body", "larger than %d MiB", MaxBodyBytes>>20)
	case err != nil:
		return nil, qianmian.Invalid("body", "could not be read: %s", err.Error())
	}
	return body, nil
}

// firstByte returns the first byte of b that is not JSON white space, or 0.
func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

// malformed returns the EINVALID error for a body that is not JSON.
func malformed(err error) error {
	return qianmian.Invalid("body", "malformed JSON: %s", err.Error())
}

// splitArray returns the raw elements of the JSON array body, refusing more than MaxBatch.
// noun names the elements in messages ("events"). The elements are subslices of body: the
// body is checked once and split without decoding, since each element is decoded later.
func splitArray(body []byte, noun string) ([]json.RawMessage, error) {
	switch firstByte(body) {
	case '[':
	case 0:
		return nil, qianmian.Invalid("body", "empty: send a JSON array of %s", noun)
	default:
		return nil, qianmian.Invalid("body", "must be a JSON array of %s", noun)
	}
	if !json.Valid(body) {
		var v json.RawMessage
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, malformed(err)
		}
		return nil, qianmian.Invalid("body", "malformed JSON")
	}
	var raws []json.RawMessage
	start := bytes.IndexByte(body, '[') + 1
	depth, inString, escaped := 0, false, false
	for i := start; i < len(body); i++ {
		c := body[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
		case '}', ']', ',':
			if depth > 0 && c != ',' {
				depth--
				continue
			}
			if depth > 0 {
				continue
			}
			if elem := bytes.TrimSpace(body[start:i]); len(elem) > 0 {
				if len(raws) == MaxBatch {
					return nil, qianmian.Invalid("body", "more than %d %s: send at most %d a request", MaxBatch, noun, MaxBatch)
				}
				raws = append(raws, elem)
			}
			if c == ']' {
				return raws, nil
			}
			start = i + 1
		}
	}
	return raws, nil // unreachable for a valid array
}

// decodeBatch decodes a JSON array of records, each strictly (an unknown field is an error
// naming it). noun prefixes the field of an error: "items[3].price".
func decodeBatch[T any](w http.ResponseWriter, r *http.Request, noun string) ([]*T, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	raws, err := splitArray(body, noun)
	if err != nil {
		return nil, err
	}
	out := make([]*T, len(raws))
	for i, raw := range raws {
		v := new(T)
		if err := decodeStrict(raw, v); err != nil {
			return nil, atIndex(noun, i, err)
		}
		out[i] = v
	}
	return out, nil
}

// decodeObject decodes the request body, one JSON object, strictly into v.
func decodeObject(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if firstByte(body) != '{' {
		return qianmian.Invalid("body", "must be a JSON object")
	}
	return decodeStrict(body, v)
}

// decodeStrict decodes one JSON value into v, refusing unknown fields. Errors are EINVALID
// and name the field when the decoder knows it.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			return qianmian.Invalid("body", "malformed JSON: data after the value")
		}
		return nil
	}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return qianmian.Invalid(te.Field, "must be %s, not %s", te.Type.String(), te.Value)
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return malformed(err)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if unq, uerr := strconv.Unquote(name); uerr == nil {
			name = unq
		}
		return qianmian.Invalid(name, "unknown field")
	}
	return qianmian.Invalid("", "%s", err.Error())
}

// atIndex returns err with its field placed under record i of noun: "price" becomes
// "items[3].price", no field becomes "items[3]".
func atIndex(noun string, i int, err error) error {
	var e *qianmian.Error
	if !errors.As(err, &e) {
		return err
	}
	field := fmt.Sprintf("%s[%d]", noun, i)
	if e.Field != "" && e.Field != "body" {
		field += "." + e.Field
	}
	return &qianmian.Error{Code: e.Code, Message: e.Message, Field: field}
}

// queryInt parses the integer query parameter name: def when absent, an EINVALID error
// naming it when not an integer in [lo, hi].
func queryInt(q url.Values, name string, def, lo, hi int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, qianmian.Invalid(name, "must be an integer between %d and %d, not %q", lo, hi, s)
	}
	return n, nil
}

// queryTime parses the RFC 3339 query parameter name; the zero time when absent.
func queryTime(q url.Values, name string) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, qianmian.Invalid(name, "not an RFC 3339 time: %q", s)
	}
	return t, nil
}

// Listing pages: ?limit= (default and bounds below) and ?after= (the cursor "next" of the
// previous page).
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// queryPage parses ?limit= and ?after=. It asks for one entry more than the limit, so the
// handler can tell whether there is a next page (see pageNext).
func queryPage(q url.Values) (qianmian.Page, int, error) {
	limit, err := queryInt(q, "limit", DefaultPageLimit, 1, MaxPageLimit)
	if err != nil {
		return qianmian.Page{}, 0, err
	}
	return qianmian.Page{After: q.Get("after"), Limit: limit + 1}, limit, nil
}

// pageNext trims a listing fetched with queryPage to limit entries and returns the cursor
// of the next page: the key of the last entry kept, or "" on the last page.
func pageNext[T any](list []T, limit int, key func(T) string) ([]T, string) {
	if len(list) <= limit {
		if list == nil {
			list = []T{}
		}
		return list, ""
	}
	list = list[:limit]
	return list, key(list[limit-1])
}
