package shop_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	qmhttp "github.com/qianmian/qianmian/http"
	"github.com/qianmian/qianmian/shop"
	"github.com/qianmian/qianmian/sqlite"
)

// sse is one server-sent event, or a comment (heartbeat) when comment is set.
type sse struct {
	id, event, data string
	comment         string
}

// stream is an open alert stream.
type stream struct {
	resp   *http.Response
	cancel context.CancelFunc
	c      chan sse
}

// openStream GETs path with the key and, on 200, reads its events in the background.
func openStream(t *testing.T, url, key, lastEventID string) (*stream, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, resp.StatusCode
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q", ct)
	}
	s := &stream{resp: resp, cancel: cancel, c: make(chan sse, 100)}
	go func() {
		defer close(s.c)
		sc := bufio.NewScanner(resp.Body)
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev != (sse{}) {
					s.c <- ev
				}
				ev = sse{}
			case strings.HasPrefix(line, ":"):
				ev.comment = strings.TrimSpace(line[1:])
			default:
				k, v, _ := strings.Cut(line, ": ")
				switch k {
				case "id":
					ev.id = v
				case "event":
					ev.event = v
				case "data":
					ev.data = v
				}
			}
		}
	}()
	t.Cleanup(s.close)
	return s, http.StatusOK
}

func (s *stream) close() {
	s.cancel()
	s.resp.Body.Close()
}

// nextAlert returns the next event that is not a comment.
func (s *stream) nextAlert(t *testing.T) (sse, qianmian.StoreAlert) {
	t.Helper()
	timeout := time.After(generous)
	for {
		select {
		case ev, ok := <-s.c:
			if !ok {
				t.Fatal("stream ended")
			}
			if ev.comment != "" && ev.event == "" {
				continue
			}
			var a qianmian.StoreAlert
			if err := json.Unmarshal([]byte(ev.data), &a); err != nil {
				t.Fatalf("event data %q: %v", ev.data, err)
			}
			return ev, a
		case <-timeout:
			t.Fatalf("no alert on the stream within %s", generous)
		}
	}
}

// TestAlertStream follows a store's alerts over the real API: a connected tablet gets the
// alert as it is made, heartbeats while idle, and a reconnecting one resumes after its
// Last-Event-ID; another store's key gets 404.
func TestAlertStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start(shop.DefaultBackoff())
	keys := sqlite.NewKeyService(e.db)
	key := func(p qianmian.Principal) string {
		_, token, err := keys.CreateKey(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	s1, s2 := key(qianmian.Principal{Role: qianmian.RoleStore, ID: "s1"}), key(qianmian.Principal{Role: qianmian.RoleStore, ID: "s2"})
	op := key(qianmian.Principal{Role: qianmian.RoleOperator})

	srv := qmhttp.NewServer()
	srv.Keys, srv.Stores, srv.Alerts, srv.AlertWatcher = keys, sqlite.NewStoreService(e.db), e.alerts, e.alerter
	srv.AlertHeartbeat = 50 * time.Millisecond
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	url := ts.URL + "/v1/stores/s1/alerts/stream"

	if _, status := openStream(t, url, s2, ""); status != http.StatusNotFound {
		t.Fatalf("another store's key: status %d, want 404", status)
	}
	live, _ := openStream(t, url, s1, "")
	start := time.Now()
	e.visit("v-alice", user("alice"))
	ev, a := live.nextAlert(t)
	t.Logf("visit committed → alert on the stream: %s", time.Since(start))
	if ev.event != "visit" || ev.id != strconv.FormatInt(a.Seq, 10) || a.ID != shop.AlertID("v-alice") || a.Visitor.Name != "Alice Li" {
		t.Fatalf("event %+v, alert %+v", ev, a)
	}
	first := ev.id
	heartbeat := time.After(generous)
	for got := false; !got; {
		select {
		case ev := <-live.c:
			got = ev.comment == "ping"
		case <-heartbeat:
			t.Fatal("no heartbeat on an idle stream")
		}
	}
	live.close()

	e.visit("v-bob", user("bob"))
	waitStored(t, e, 2)
	resumed, _ := openStream(t, url, op, first)
	ev, a = resumed.nextAlert(t)
	if a.ID != shop.AlertID("v-bob") || ev.id == first {
		t.Fatalf("resumed after %s: got %s (id %s), want bob's alert", first, a.ID, ev.id)
	}
	all, _ := openStream(t, url, s1, "0")
	_, a1 := all.nextAlert(t)
	_, a2 := all.nextAlert(t)
	if a1.ID != shop.AlertID("v-alice") || a2.ID != shop.AlertID("v-bob") {
		t.Fatalf("replay from 0: %s, %s", a1.ID, a2.ID)
	}

	// The listing: newest first, for the store and the operator only.
	for _, tt := range []struct {
		key    string
		status int
	}{{s1, 200}, {op, 200}, {s2, 404}} {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", ts.URL+"/v1/stores/s1/alerts?limit=1", nil)
		req.Header.Set("Authorization", "Bearer "+tt.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Alerts []qianmian.StoreAlert `json:"alerts"`
			Next   string                `json:"next"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Fatalf("list alerts: status %d, want %d", resp.StatusCode, tt.status)
		}
		if tt.status == 200 && (len(body.Alerts) != 1 || body.Alerts[0].ID != shop.AlertID("v-bob") || body.Next == "") {
			t.Fatalf("list alerts: %+v", body)
		}
	}
}

// waitStored waits until store s1 has n alerts.
func waitStored(t *testing.T, e *env, n int) {
	t.Helper()
	deadline := time.Now().Add(generous)
	for {
		list, err := e.alerts.FindAlerts(t.Context(), qianmian.AlertFilter{StoreID: "s1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d alerts stored, want %d", len(list), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
