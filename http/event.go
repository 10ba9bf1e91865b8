package http

import (
	"bytes"
	"encoding/json"
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
	records, err := splitEvents(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	now := s.Now()
	events := make([]*qianmian.Event, 0, len(records))
	resp := eventsResponse{Rejected: []eventReject{}}
	for i, raw := range records {
		e, err := decodeEvent(p, raw, now)
		if err != nil {
			field := qianmian.ErrorField(err)
			if field == "" {
				field = "body"
			}
			resp.Rejected = append(resp.Rejected, eventReject{Index: i, Field: field, Reason: qianmian.ErrorMessage(err)})
			s.metrics.rejected.WithLabelValues(field).Inc()
			continue
		}
		events = append(events, e)
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

// decodeEvent decodes and validates one record as p posts it (scopeEvent). A store's
// record without store_id is its own: when validation needs the store (a visit), the record
// is decoded again with the store filled in.
func decodeEvent(p qianmian.Principal, raw []byte, now time.Time) (*qianmian.Event, error) {
	e, err := qianmian.DecodeEvent(raw, now)
	if err != nil && p.Role == qianmian.RoleStore && qianmian.ErrorField(err) == "store_id" {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) == nil {
			switch string(m["store_id"]) {
			case "", "null", `""`:
				m["store_id"], _ = json.Marshal(p.ID)
				if filled, merr := json.Marshal(m); merr == nil {
					e, err = qianmian.DecodeEvent(filled, now)
				}
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return e, scopeEvent(p, e)
}

// splitEvents returns the records of an events body: the elements of a JSON array when it
// starts with '[', else the non-blank lines of NDJSON. A record's index is its position
// among the records, blank lines not counted.
func splitEvents(body []byte) ([]json.RawMessage, error) {
	switch firstByte(body) {
	case '[':
		return splitArray(body, "events")
	case 0:
		return nil, qianmian.Invalid("body", "empty: send a JSON array or NDJSON of events")
	case '{':
	default:
		return nil, qianmian.Invalid("body", "must be a JSON array or NDJSON of events")
	}
	records := make([]json.RawMessage, 0, min(bytes.Count(body, []byte{'\n'})+1, MaxBatch))
	for line := range bytes.SplitSeq(body, []byte{'\n'}) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if len(records) == MaxBatch {
			return nil, qianmian.Invalid("body", "more than %d events: send at most %d a request", MaxBatch, MaxBatch)
		}
		records = append(records, line)
	}
	return records, nil
}
