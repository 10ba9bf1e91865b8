package http

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/qianmian/qianmian"
)

// Store-visit alerts: the store's webhook and its alerts, listed or followed live as
// server-sent events. The operator and the store itself may use them; anyone else gets 404.

// DefaultAlertHeartbeat is how often an idle alert stream sends a comment, so proxies and
// the tablet know the connection is alive.
const DefaultAlertHeartbeat = 15 * time.Second

// alertStreamPoll is how often a stream reads the store's alerts even without a signal from
// the AlertWatcher: alerts made by another process, or no watcher at all.
const alertStreamPoll = 5 * time.Second

// alertPage bounds the alerts a stream reads at once.
const alertPage = 100

// alertStore checks that the request may use the alerts of the store in its path, and that
// the store exists.
func (s *Server) alertStore(r *http.Request) (string, error) {
	storeID := r.PathValue("id")
	if !canManageAlerts(principal(r), storeID) {
		return "", errNotFound
	}
	if s.Alerts == nil {
		return "", qianmian.Errorf(qianmian.EUNAVAILABLE, "store alerts are not enabled on this server")
	}
	if _, err := s.Stores.FindStoreByID(r.Context(), storeID); err != nil {
		return "", err
	}
	return storeID, nil
}

// webhookRequest is the body of PUT /v1/stores/{id}/webhook.
type webhookRequest struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

// handleWebhookPut sets the store's webhook. An empty secret keeps the current one.
func (s *Server) handleWebhookPut(w http.ResponseWriter, r *http.Request) {
	storeID, err := s.alertStore(r)
	var body webhookRequest
	if err == nil {
		err = decodeObject(w, r, &body)
	}
	wh := &qianmian.Webhook{StoreID: storeID, URL: body.URL, Secret: body.Secret}
	if err == nil && wh.Secret == "" {
		old, ferr := s.Alerts.FindWebhook(r.Context(), storeID)
		switch {
		case ferr == nil:
			wh.Secret = old.Secret
		case qianmian.ErrorCode(ferr) == qianmian.ENOTFOUND:
			err = qianmian.Invalid("secret", "required for a new webhook")
		default:
			err = ferr
		}
	}
	if err == nil {
		err = s.Alerts.SetWebhook(r.Context(), wh)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wh)
}

// handleWebhookGet answers the store's webhook, without its secret.
func (s *Server) handleWebhookGet(w http.ResponseWriter, r *http.Request) {
	storeID, err := s.alertStore(r)
	var wh *qianmian.Webhook
	if err == nil {
		wh, err = s.Alerts.FindWebhook(r.Context(), storeID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wh)
}

func (s *Server) handleWebhookDelete(w http.ResponseWriter, r *http.Request) {
	storeID, err := s.alertStore(r)
	if err == nil {
		err = s.Alerts.DeleteWebhook(r.Context(), storeID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleAlertsList pages through the store's alerts, newest first, with their delivery
// state: ?limit= and ?before= (the next of the previous page).
func (s *Server) handleAlertsList(w http.ResponseWriter, r *http.Request) {
	storeID, err := s.alertStore(r)
	q := r.URL.Query()
	var limit int
	var before int64
	if err == nil {
		limit, err = queryInt(q, "limit", DefaultPageLimit, 1, MaxPageLimit)
	}
	if err == nil {
		before, err = querySeq(q.Get("before"), "before")
	}
	var list []*qianmian.StoreAlert
	if err == nil {
		list, err = s.Alerts.FindAlerts(r.Context(), qianmian.AlertFilter{
			StoreID: storeID, BeforeSeq: before, Descending: true, Limit: limit + 1,
		})
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, next := pageNext(list, limit, func(a *qianmian.StoreAlert) string { return strconv.FormatInt(a.Seq, 10) })
	writeJSON(w, http.StatusOK, struct {
		Alerts []*qianmian.StoreAlert `json:"alerts"`
		Next   string                 `json:"next"`
	}{list, next})
}

// querySeq parses an alert sequence number given as name; 0 when empty.
func querySeq(v, name string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, qianmian.Invalid(name, "must be an alert seq (an integer >= 0), not %q", v)
	}
	return n, nil
}

// handleAlertStream follows the store's alerts as server-sent events: each alert is
//
//	id: SEQ
//	event: visit
//	data: {alert JSON}
//
// with a comment line every AlertHeartbeat. A client that reconnects with Last-Event-ID
// (or ?last_event_id=, for clients that cannot set headers) gets every alert after that one
// first; without it, the stream starts with the next alert made.
func (s *Server) handleAlertStream(w http.ResponseWriter, r *http.Request) {
	storeID, err := s.alertStore(r)
	var last int64
	resume := r.Header.Get("Last-Event-ID")
	field := "Last-Event-ID"
	if resume == "" {
		resume, field = r.URL.Query().Get("last_event_id"), "last_event_id"
	}
	if err == nil {
		last, err = querySeq(resume, field)
	}
	var wake <-chan struct{}
	if err == nil && s.AlertWatcher != nil {
		// Watch before reading where to start, so an alert made in between wakes the stream.
		watch := s.AlertWatcher.WatchAlerts(storeID)
		defer watch.Close()
		wake = watch.C()
	}
	if err == nil && resume == "" {
		var newest []*qianmian.StoreAlert
		newest, err = s.Alerts.FindAlerts(r.Context(), qianmian.AlertFilter{StoreID: storeID, Descending: true, Limit: 1})
		if len(newest) > 0 {
			last = newest[0].Seq
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, ": alerts of store "+strconv.Quote(storeID)+"\n\n"); err != nil {
		return
	}
	heartbeat := time.NewTicker(s.alertHeartbeat())
	defer heartbeat.Stop()
	poll := time.NewTicker(alertStreamPoll)
	defer poll.Stop()
	for {
		if last, err = s.sendAlerts(r.Context(), w, storeID, last); err != nil {
			if r.Context().Err() == nil {
				s.Logger.WarnContext(r.Context(), "alert stream ended", "store_id", storeID, "err", err)
			}
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case _, ok := <-wake:
			if !ok { // the watcher stopped: the server is shutting down
				return
			}
		case <-poll.C:
		case <-heartbeat.C:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
				return
			}
		}
	}
}

// sendAlerts writes the store's alerts after last as events and returns the last one sent.
func (s *Server) sendAlerts(ctx context.Context, w io.Writer, storeID string, last int64) (int64, error) {
	for {
		list, err := s.Alerts.FindAlerts(ctx, qianmian.AlertFilter{StoreID: storeID, AfterSeq: last, Limit: alertPage})
		if err != nil {
			return last, err
		}
		for _, a := range list {
			payload := *a
			payload.Delivery = nil // the webhook's business, not the tablet's
			data, err := json.Marshal(&payload)
			if err != nil {
				return last, err
			}
			if _, err := fmt.Fprintf(w, "id: %d\nevent: visit\ndata: %s\n\n", a.Seq, data); err != nil {
				return last, err
			}
			last = a.Seq
		}
		if len(list) < alertPage {
			return last, nil
		}
	}
}

func (s *Server) alertHeartbeat() time.Duration {
	if s.AlertHeartbeat > 0 {
		return s.AlertHeartbeat
	}
	return DefaultAlertHeartbeat
}
