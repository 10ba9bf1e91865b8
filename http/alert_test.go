package http_test

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

// fakeAlerts is an in-memory qianmian.AlertService and AlertWatcher; the store is tested in
// sqlite/, the whole path in shop/.
type fakeAlerts struct {
	mu       sync.Mutex
	alerts   []*qianmian.StoreAlert // ascending Seq
	webhooks map[string]*qianmian.Webhook
	watches  []chan struct{}
}

func newFakeAlerts() *fakeAlerts {
	return &fakeAlerts{webhooks: map[string]*qianmian.Webhook{}}
}

// add stores an alert of store A and wakes the watches.
func (f *fakeAlerts) add(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := &qianmian.StoreAlert{ID: id, Seq: int64(len(f.alerts) + 1), StoreID: "A", Visitor: qianmian.Visitor{Ref: "v_" + id},
		Delivery: &qianmian.AlertDelivery{State: qianmian.DeliveryPending}}
	f.alerts = append(f.alerts, a)
	for _, c := range f.watches {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

func (f *fakeAlerts) CreateAlert(context.Context, *qianmian.StoreAlert, int64) (bool, error) {
	panic("not used by the API")
}

func (f *fakeAlerts) FindAlerts(_ context.Context, filter qianmian.AlertFilter) ([]*qianmian.StoreAlert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*qianmian.StoreAlert
	for _, a := range f.alerts {
		if a.StoreID == filter.StoreID && a.Seq > filter.AfterSeq && (filter.BeforeSeq == 0 || a.Seq < filter.BeforeSeq) {
			out = append(out, a)
		}
	}
	if filter.Descending {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	if filter.Limit > 0 && len(out) > filter.Limit {
		out = out[:filter.Limit]
	}
	return out, nil
}

func (f *fakeAlerts) SetWebhook(_ context.Context, w *qianmian.Webhook) error {
	if err := w.Validate(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w.UpdatedAt = now
	v := *w
	f.webhooks[w.StoreID] = &v
	return nil
}

func (f *fakeAlerts) FindWebhook(_ context.Context, storeID string) (*qianmian.Webhook, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w, ok := f.webhooks[storeID]; ok {
		v := *w
		return &v, nil
	}
	return nil, notFound("webhook", storeID)
}

func (f *fakeAlerts) DeleteWebhook(_ context.Context, storeID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.webhooks[storeID]; !ok {
		return notFound("webhook", storeID)
	}
	delete(f.webhooks, storeID)
	return nil
}

func (f *fakeAlerts) WatchAlerts(string) qianmian.AlertWatch {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := make(chan struct{}, 1)
	f.watches = append(f.watches, c)
	return fakeWatch(c)
}

type fakeWatch chan struct{}

func (w fakeWatch) C() <-chan struct{} { return w }
func (w fakeWatch) Close()             {}

func alertServer(f *fakeAlerts) http.Handler {
	s := newWorld().server()
	s.Alerts, s.AlertWatcher = f, f
	return s.Handler()
}

// TestAlerts_Access: only the operator and the store itself reach a store's webhook and
// alerts; everyone else, and a missing store, gets the 404 of a missing object. Allowed
// requests are made invalid (a bad Last-Event-ID, an empty body) so they answer 400 at
// once instead of streaming.
func TestAlerts_Access(t *testing.T) {
	t.Parallel()
	h := alertServer(newFakeAlerts())
	routes := []struct{ method, path, body string }{
		{"PUT", "/v1/stores/%s/webhook", "[]"},
		{"GET", "/v1/stores/%s/alerts?limit=0", ""},
		{"GET", "/v1/stores/%s/alerts/stream?last_event_id=x", ""},
	}
	for _, rt := range routes {
		for _, tt := range []struct {
			key, store string
			status     int
		}{
			{"op", "A", http.StatusBadRequest},
			{"store-a", "A", http.StatusBadRequest},
			{"store-b", "A", http.StatusNotFound},
			{"sup-1", "A", http.StatusNotFound},
			{"user-u1", "A", http.StatusNotFound},
			{"op", "C", http.StatusNotFound}, // no such store
			{"", "A", http.StatusUnauthorized},
		} {
			path := strings.Replace(rt.path, "%s", tt.store, 1)
			resp := do(t, h, rt.method, path, tt.key, rt.body)
			if resp.status != tt.status {
				t.Errorf("%s %s with key %q: status %d, want %d (%s)", rt.method, path, tt.key, resp.status, tt.status, resp.body)
			}
		}
	}
	for _, key := range []string{"store-b", "sup-1", "user-u1"} {
		do(t, h, "GET", "/v1/stores/A/webhook", key, "").wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
		do(t, h, "DELETE", "/v1/stores/A/webhook", key, "").wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
	}
}

// TestAlerts_NotEnabled: without an AlertService the routes answer 503, after the access
// rules.
func TestAlerts_NotEnabled(t *testing.T) {
	t.Parallel()
	h := newWorld().server().Handler()
	do(t, h, "GET", "/v1/stores/A/alerts", "store-a", "").wantError(t, http.StatusServiceUnavailable, qianmian.EUNAVAILABLE, "")
	do(t, h, "GET", "/v1/stores/A/alerts/stream", "store-a", "").wantError(t, http.StatusServiceUnavailable, qianmian.EUNAVAILABLE, "")
	do(t, h, "GET", "/v1/stores/A/alerts", "store-b", "").wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
}

// TestWebhook_SetGetDelete: the secret is required for a new webhook, kept when only the URL
// changes, and never answered.
func TestWebhook_SetGetDelete(t *testing.T) {
	t.Parallel()
	f := newFakeAlerts()
	h := alertServer(f)
	const secret = "0123456789abcdef-secret"
	do(t, h, "PUT", "/v1/stores/A/webhook", "store-a", `{"url": "https://a.example/hook"}`).
		wantError(t, http.StatusBadRequest, qianmian.EINVALID, "secret")
	do(t, h, "PUT", "/v1/stores/A/webhook", "store-a", `{"url": "gopher://a.example/", "secret": "`+secret+`"}`).
		wantError(t, http.StatusBadRequest, qianmian.EINVALID, "url")
	do(t, h, "PUT", "/v1/stores/A/webhook", "store-a", `{"url": "https://a.example/", "secret": "short"}`).
		wantError(t, http.StatusBadRequest, qianmian.EINVALID, "secret")
	do(t, h, "PUT", "/v1/stores/A/webhook", "store-a", `{"url": "https://a.example/", "sekret": "x"}`).
		wantError(t, http.StatusBadRequest, qianmian.EINVALID, "sekret")

	resp := do(t, h, "PUT", "/v1/stores/A/webhook", "store-a", `{"url": "https://a.example/hook", "secret": "`+secret+`"}`)
	resp.wantStatus(t, http.StatusOK)
	if bytes.Contains(resp.body, []byte(secret)) || !bytes.Contains(resp.body, []byte(`"url":"https://a.example/hook"`)) {
		t.Fatalf("PUT answered %s", resp.body)
	}
	do(t, h, "PUT", "/v1/stores/A/webhook", "op", `{"url": "https://a.example/v2"}`).wantStatus(t, http.StatusOK)
	if w := f.webhooks["A"]; w.URL != "https://a.example/v2" || w.Secret != secret {
		t.Fatalf("after changing the URL only: %+v", w)
	}
	resp = do(t, h, "GET", "/v1/stores/A/webhook", "store-a", "")
	resp.wantStatus(t, http.StatusOK)
	if bytes.Contains(resp.body, []byte(secret)) || bytes.Contains(resp.body, []byte("secret")) {
		t.Fatalf("GET answered the secret: %s", resp.body)
	}
	do(t, h, "DELETE", "/v1/stores/A/webhook", "store-a", "").wantStatus(t, http.StatusNoContent)
	do(t, h, "GET", "/v1/stores/A/webhook", "store-a", "").wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
}

// TestAlerts_List pages newest first with ?before=.
func TestAlerts_List(t *testing.T) {
	t.Parallel()
	f := newFakeAlerts()
	for _, id := range []string{"a1", "a2", "a3"} {
		f.add(id)
	}
	h := alertServer(f)
	var page struct {
		Alerts []qianmian.StoreAlert `json:"alerts"`
		Next   string                `json:"next"`
	}
	resp := do(t, h, "GET", "/v1/stores/A/alerts?limit=2", "store-a", "")
	resp.wantStatus(t, http.StatusOK)
	resp.decode(t, &page)
	if len(page.Alerts) != 2 || page.Alerts[0].ID != "a3" || page.Alerts[1].ID != "a2" || page.Next != "2" ||
		page.Alerts[0].Delivery == nil {
		t.Fatalf("first page = %+v", page)
	}
	resp = do(t, h, "GET", "/v1/stores/A/alerts?limit=2&before="+page.Next, "store-a", "")
	resp.decode(t, &page)
	if len(page.Alerts) != 1 || page.Alerts[0].ID != "a1" || page.Next != "" {
		t.Fatalf("second page = %+v", page)
	}
	do(t, h, "GET", "/v1/stores/A/alerts?before=-1", "store-a", "").wantError(t, http.StatusBadRequest, qianmian.EINVALID, "before")
}

// TestAlertStream_Resume: a stream opened with Last-Event-ID replays what followed it, then
// sends alerts as the watcher signals them, in the server-sent-event format.
func TestAlertStream_Resume(t *testing.T) {
	t.Parallel()
	f := newFakeAlerts()
	f.add("a1")
	f.add("a2")
	srv := httptest.NewUnstartedServer(alertServer(f))
	srv.Config.ReadTimeout = 100 * time.Millisecond // as Server.Open sets one: it must not end streams
	srv.Start()
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/stores/A/alerts/stream", nil)
	req.Header.Set("Authorization", "Bearer store-a")
	req.Header.Set("Last-Event-ID", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// expect reads lines until it has seen the event of alert seq/id.
	expect := func(seq, id string) {
		t.Helper()
		want := []string{"id: " + seq, "event: visit"}
		var got []string
		timeout := time.After(5 * time.Second)
		for {
			select {
			case l := <-lines:
				if strings.HasPrefix(l, ":") || l == "" && len(got) == 0 {
					continue
				}
				if l == "" {
					if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || !strings.Contains(got[2], `"id":"`+id+`"`) ||
						strings.Contains(got[2], "delivery") {
						t.Fatalf("event = %q, want id %s of alert %s without its delivery", got, seq, id)
					}
					return
				}
				got = append(got, l)
			case <-timeout:
				t.Fatalf("no event for alert %s; lines so far %q", id, got)
			}
		}
	}
	expect("2", "a2")
	time.Sleep(3 * srv.Config.ReadTimeout)
	f.add("a3")
	expect("3", "a3")
}

var (
	_ qianmian.AlertService = (*fakeAlerts)(nil)
	_ qianmian.AlertWatcher = (*fakeAlerts)(nil)
)

// TestConsent_StoreAlerts: the consent PUT takes the store_alerts purpose.
func TestConsent_StoreAlerts(t *testing.T) {
	t.Parallel()
	w := newWorld()
	h := w.server().Handler()
	resp := do(t, h, "PUT", "/v1/users/u1/consent", "user-u1", `{"store_alerts": true}`)
	resp.wantStatus(t, http.StatusOK)
	var u qianmian.User
	resp.decode(t, &u)
	if !u.Consent.StoreAlerts || !bytes.Contains(resp.body, []byte(`"store_alerts":true`)) {
		t.Fatalf("consent after PUT = %s", resp.body)
	}
}
