package http

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/qianmian/qianmian"
)

// eventsResponse answers POST /v1/events.
type eventsResponse struct {
	Accepted   int           `json:"accepted"`
	Duplicates int           `json:"duplicates"`
	Rejected   []eventReject `json:"rejected"`
}

// eventReject says why record Index of a batch was not stored.
type eventReject struct {
	Index  int    `json:"index"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// handleEventsCreate stores a batch of events given as a JSON array or as NDJSON. Each record
// is decoded and validated alone, so a bad one is rejected without spoiling the batch; the
// good ones are stored in one durable call before the answer.
func (s *Server) handleEventsCreate(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if !canPostEvents(p) {
		s.writeError(w, r, forbidden("only the operator and store keys post events"))
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	events, resp, err := s.decodeInSlot(r.Context(), p, body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, rej := range resp.Rejected {
		s.metrics.rejected.WithLabelValues(rej.Field).Inc()
	}

	if len(events) > 0 {
		res, err := s.Events.CreateEvents(r.Context(), events)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		resp.Accepted, resp.Duplicates = res.Accepted, res.Duplicates
		s.metrics.accepted.Add(float64(res.Accepted))
		s.metrics.duplicates.Add(float64(res.Duplicates))
	}
	writeJSON(w, http.StatusOK, resp)
}

// decodeInSlot is decodeEvents in one of the server's decode slots (Server.DecodeSlots):
// decoding is pure CPU work, and the storage's one event writer, which every batch then
// waits for, must not queue behind a burst of it for a core. It gives up with EUNAVAILABLE
// when ctx ends before a slot is free.
func (s *Server) decodeInSlot(ctx context.Context, p qianmian.Principal, body []byte) ([]*qianmian.Event, eventsResponse, error) {
	select {
	case s.decodeSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, eventsResponse{}, qianmian.Errorf(qianmian.EUNAVAILABLE, "the request ended while waiting to be decoded")
	}
	defer func() { <-s.decodeSlots }()
	return s.decodeEvents(p, body)
}

// decodeEvents decodes and validates each record of an events body as p posts it. An error
// fails the whole body (not an array or NDJSON, or a malformed array); a bad record is only
// listed in the response's rejections.
func (s *Server) decodeEvents(p qianmian.Principal, body []byte) ([]*qianmian.Event, eventsResponse, error) {
	resp := eventsResponse{Rejected: []eventReject{}}
	records, checked, err := splitEvents(body)
	if err != nil {
		return nil, resp, err
	}

	now := s.Now()
	events := make([]*qianmian.Event, 0, len(records))
	wellFormed := true
	for i, raw := range records {
		e, ok, err := decodeEvent(p, raw, now)
		wellFormed = wellFormed && ok
		if err != nil {
			field := qianmian.ErrorField(err)
			if field == "" {
				field = "body"
			}
			resp.Rejected = append(resp.Rejected, eventReject{Index: i, Field: field, Reason: qianmian.ErrorMessage(err)})
			continue
		}
		events = append(events, e)
	}
	if !checked && !wellFormed {
		// The array was split without checking it, and some record was not seen whole by
		// the fast decoder: check the body now, so a malformed one fails as a whole.
		if _, err := splitArray(body, "events"); err != nil {
			return nil, resp, err
		}
	}
	return events, resp, nil
}

// decodeEvent decodes and validates one record as p posts it (scopeEvent): a store's record
// without store_id is its own, and gets the store before validation (a visit needs it).
// wellFormed is qianmian.UnmarshalEvent's.
func decodeEvent(p qianmian.Principal, raw []byte, now time.Time) (e *qianmian.Event, wellFormed bool, err error) {
	e, wellFormed, err = qianmian.UnmarshalEvent(raw)
	if err != nil {
		return nil, wellFormed, err
	}
	if p.Role == qianmian.RoleStore && e.StoreID == "" {
		e.StoreID = p.ID
	}
	if err := e.Validate(now); err != nil {
		return nil, wellFormed, err
	}
	return e, wellFormed, scopeEvent(p, e)
}

// splitEvents returns the records of an events body: the elements of a JSON array when it
// starts with '[', else the non-blank lines of NDJSON. A record's index is its position
// among the records, blank lines not counted. checked is false when the array was split
// without checking that the body is well-formed JSON (splitArrayFast): the caller must then
// check it unless the decoder saw every record whole.
func splitEvents(body []byte) (records [][]byte, checked bool, err error) {
	switch firstByte(body) {
	case '[':
		if records, ok := splitArrayFast(body); ok {
			return records, false, nil
		}
		raws, err := splitArray(body, "events")
		if err != nil {
			return nil, false, err
		}
		records = make([][]byte, len(raws))
		for i, raw := range raws {
			records[i] = raw
		}
		return records, true, nil
	case 0:
		return nil, false, qianmian.Invalid("body", "empty: send a JSON array or NDJSON of events")
	case '{':
	default:
		return nil, false, qianmian.Invalid("body", "must be a JSON array or NDJSON of events")
	}
	records = make([][]byte, 0, min(bytes.Count(body, []byte{'\n'})+1, MaxBatch))
	for line := range bytes.SplitSeq(body, []byte{'\n'}) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if len(records) == MaxBatch {
			return nil, false, qianmian.Invalid("body", "more than %d events: send at most %d a request", MaxBatch, MaxBatch)
		}
		records = append(records, line)
	}
	return records, true, nil
}

// splitArrayFast splits a JSON array of objects into its elements without checking them:
// it only follows strings and nesting, and checks the commas between elements and that
// nothing but white space follows the array. It gives up (ok false) on anything else, an
// element that is not an object, or more than MaxBatch elements, so that splitArray decides
// and words the error. Each element must then be checked (UnmarshalEvent's wellFormed).
func splitArrayFast(body []byte) (records [][]byte, ok bool) {
	i := bytes.IndexByte(body, '[') + 1
	records = make([][]byte, 0, min(bytes.Count(body, []byte("},"))+1, MaxBatch))
	for n := 0; ; n++ {
		i = skipSpace(body, i)
		if i < len(body) && body[i] == ']' && n == 0 {
			return records, onlySpace(body[i+1:])
		}
		if i >= len(body) || body[i] != '{' || len(records) == MaxBatch {
			return nil, false
		}
		end, ok := objectEnd(body, i)
		if !ok {
			return nil, false
		}
		records = append(records, body[i:end])
		i = skipSpace(body, end)
		switch {
		case i < len(body) && body[i] == ',':
			i++
		case i < len(body) && body[i] == ']':
			return records, onlySpace(body[i+1:])
		default:
			return nil, false
		}
	}
}

// objectEnd returns the index just past the JSON object that starts at body[start], following
// strings (and their escapes) and nesting only.
func objectEnd(body []byte, start int) (int, bool) {
	depth := 0
	for i := start; i < len(body); i++ {
		switch body[i] {
		case '"':
			for i++; ; i++ {
				j := bytes.IndexByte(body[i:], '"')
				if j < 0 {
					return 0, false
				}
				i += j
				// The quote ends the string unless an odd number of backslashes precede it.
				k := i
				for k > start && body[k-1] == '\\' {
					k--
				}
				if (i-k)%2 == 0 {
					break
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1, true
			}
		}
	}
	return 0, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

func onlySpace(b []byte) bool { return skipSpace(b, 0) == len(b) }
