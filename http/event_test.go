package http_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

type eventsResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
	Rejected   []struct {
		Index  int    `json:"index"`
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"rejected"`
}

// event returns a valid view event of user u1 at store A, as JSON fields.
func event(i int) map[string]any {
	return map[string]any{
		"id": fmt.Sprintf("e%05d", i), "type": "view", "user_id": "u1", "item_id": "i1",
		"store_id": "A", "channel": "app", "occurred_at": "2024-05-06T07:00:00+08:00",
	}
}

// hundredEvents returns 100 events of which 3 are bad: record 10 has an unknown type,
// record 50 is a view without an item, record 90 has an unparseable time.
func hundredEvents() []map[string]any {
	events := make([]map[string]any, 100)
	for i := range events {
		events[i] = event(i)
	}
	events[10]["type"] = "teleport"
	delete(events[50], "item_id")
	events[90]["occurred_at"] = "yesterday at noon"
	return events
}

func postEvents(t *testing.T, resp response) eventsResult {
	t.Helper()
	resp.wantStatus(t, http.StatusOK)
	var res eventsResult
	resp.decode(t, &res)
	if res.Rejected == nil {
		t.Fatalf("rejected is null, want an array: %s", resp.body)
	}
	return res
}

func TestEvents_BatchWithBadRecords(t *testing.T) {
	t.Parallel()
	w := newWorld()
	h := w.server().Handler()
	body := string(mustJSON(t, hundredEvents()))

	res := postEvents(t, do(t, h, "POST", "/v1/events", "op", body))
	if res.Accepted != 97 || res.Duplicates != 0 {
		t.Fatalf("accepted %d duplicates %d, want 97 and 0", res.Accepted, res.Duplicates)
	}
	type reject struct {
		index int
		field string
	}
	var got []reject
	for _, r := range res.Rejected {
		if r.Reason == "" {
			t.Errorf("reject %d has no reason", r.Index)
		}
		got = append(got, reject{r.Index, r.Field})
	}
	want := []reject{{10, "type"}, {50, "item_id"}, {90, "occurred_at"}}
	if !slices.Equal(got, want) {
		t.Fatalf("rejected = %v, want %v", got, want)
	}
	if len(w.events) != 97 || w.createCalls != 1 {
		t.Fatalf("stored %d events in %d calls, want 97 in 1", len(w.events), w.createCalls)
	}
	if e := w.events["e00001"]; e.OccurredAt != time.Date(2024, 5, 5, 23, 0, 0, 0, time.UTC) {
		t.Errorf("occurred_at = %v, want 2024-05-05T23:00:00Z", e.OccurredAt)
	}

	res = postEvents(t, do(t, h, "POST", "/v1/events", "op", body))
	if res.Accepted != 0 || res.Duplicates != 97 || len(res.Rejected) != 3 {
		t.Fatalf("again: accepted %d duplicates %d rejected %d, want 0, 97, 3", res.Accepted, res.Duplicates, len(res.Rejected))
	}
	if len(w.events) != 97 {
		t.Fatalf("stored %d events after the repeat, want 97", len(w.events))
	}
}

func TestEvents_NDJSON(t *testing.T) {
	t.Parallel()
	var lines []string
	for _, e := range hundredEvents()[:12] {
		lines = append(lines, string(mustJSON(t, e)))
	}
	// A blank line is skipped and does not count as a record; a broken line is one reject.
	lines[3] += "\n"
	lines = append(lines, `{"id": "broken", `)
	body := strings.Join(lines, "\r\n") + "\n"
	for _, ct := range []string{"application/x-ndjson", "application/json", ""} {
		t.Run(ct, func(t *testing.T) {
			h := newWorld().server().Handler()
			req := newRequest("POST", "/v1/events", "op", body)
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			res := postEvents(t, serve(h, req))
			if res.Accepted != 11 || len(res.Rejected) != 2 {
				t.Fatalf("accepted %d rejected %+v, want 11 and 2", res.Accepted, res.Rejected)
			}
			if res.Rejected[0].Index != 10 || res.Rejected[0].Field != "type" ||
				res.Rejected[1].Index != 12 || res.Rejected[1].Field != "body" {
				t.Fatalf("rejected = %+v, want type at 10 and body at 12", res.Rejected)
			}
		})
	}
}

func TestEvents_TooMany(t *testing.T) {
	t.Parallel()
	h := newWorld().server().Handler()
	events := make([]map[string]any, 10_001)
	for i := range events {
		events[i] = event(i)
	}
	do(t, h, "POST", "/v1/events", "op", string(mustJSON(t, events))).wantError(t, http.StatusBadRequest, qianmian.EINVALID, "body")

	var sb strings.Builder
	for _, e := range events {
		sb.Write(mustJSON(t, e))
		sb.WriteByte('\n')
	}
	do(t, h, "POST", "/v1/events", "op", sb.String()).wantError(t, http.StatusBadRequest, qianmian.EINVALID, "body")

	// Exactly the limit is fine.
	res := postEvents(t, do(t, h, "POST", "/v1/events", "op", string(mustJSON(t, events[:10_000]))))
	if res.Accepted != 10_000 {
		t.Fatalf("accepted %d, want 10000", res.Accepted)
	}
}

func TestEvents_Malformed(t *testing.T) {
	t.Parallel()
	h := newWorld().server().Handler()
	for _, body := range []string{
		`[{"id": "e1", "type": "view"`,
		`[{"id": "e1"}, nonsense]`,
		`[{"id": "e1"}] trailing`,
		`"a string"`,
		`   `,
	} {
		do(t, h, "POST", "/v1/events", "op", body).wantError(t, http.StatusBadRequest, qianmian.EINVALID, "body")
	}
	// An empty array is a batch of nothing.
	if res := postEvents(t, do(t, h, "POST", "/v1/events", "op", "[]")); res.Accepted != 0 || len(res.Rejected) != 0 {
		t.Fatalf("[] gave %+v", res)
	}
}

func TestEvents_Access(t *testing.T) {
	t.Parallel()
	w := newWorld()
	h := w.server().Handler()
	own, noStore, other := event(1), event(2), event(3)
	delete(noStore, "store_id")
	other["store_id"] = "B"
	body := string(mustJSON(t, []map[string]any{own, noStore, other}))

	res := postEvents(t, do(t, h, "POST", "/v1/events", "store-a", body))
	if res.Accepted != 2 || len(res.Rejected) != 1 || res.Rejected[0].Index != 2 ||
		res.Rejected[0].Field != "store_id" || res.Rejected[0].Reason != "not your store" {
		t.Fatalf("store key: %+v", res)
	}
	if got := w.events["e00002"].StoreID; got != "A" {
		t.Fatalf("empty store_id became %q, want A", got)
	}
	// A visit needs a store: a store key's visit without one is a visit to it.
	visit := map[string]any{"id": "v1", "type": "visit", "user_id": "u3", "channel": "offline", "occurred_at": "2024-05-06T06:00:00Z"}
	if res := postEvents(t, do(t, h, "POST", "/v1/events", "store-a", string(mustJSON(t, []any{visit})))); res.Accepted != 1 || w.events["v1"].StoreID != "A" {
		t.Fatalf("store visit without store_id: %+v", res)
	}
	if res := postEvents(t, do(t, h, "POST", "/v1/events", "op", `[{"id": "v2", "type": "visit", "user_id": "u3", "channel": "offline", "occurred_at": "2024-05-06T06:00:00Z"}]`)); len(res.Rejected) != 1 || res.Rejected[0].Field != "store_id" {
		t.Fatalf("operator visit without store_id: %+v", res)
	}
	for _, key := range []string{"sup-1", "user-u1"} {
		do(t, h, "POST", "/v1/events", key, body).wantError(t, http.StatusForbidden, qianmian.EFORBIDDEN, "")
	}
	// The operator may post for any store.
	if res := postEvents(t, do(t, h, "POST", "/v1/events", "op", string(mustJSON(t, []map[string]any{event(7), other})))); res.Accepted != 2 {
		t.Fatalf("operator: %+v", res)
	}
}

func TestEvents_ArrayOfTrickyRecords(t *testing.T) {
	t.Parallel()
	w := newWorld()
	h := w.server().Handler()
	search := event(1)
	search["type"], search["query"] = "search", `say "hi"], [{"x": 1}, \`
	review := event(2)
	review["type"], review["text"], review["rating"] = "review", `back\slash\`, 5
	nested := event(3)
	nested["context"] = map[string]any{"location_type": "mall", "geo": map[string]any{"lat": 30.2, "lon": 120.1}}
	body, err := json.MarshalIndent([]map[string]any{search, review, nested}, "\n ", "\t")
	if err != nil {
		t.Fatal(err)
	}
	res := postEvents(t, do(t, h, "POST", "/v1/events", "op", " \n"+string(body)+"\n\n"))
	if res.Accepted != 3 || len(res.Rejected) != 0 {
		t.Fatalf("tricky batch: %+v", res)
	}
	if got := w.events["e00001"].Query; got != search["query"] {
		t.Fatalf("query = %q, want %q", got, search["query"])
	}
	if got := w.events["e00002"].Text; got != review["text"] {
		t.Fatalf("text = %q", got)
	}
	if g := w.events["e00003"].Context.Geo; g == nil || g.Lat != 30.2 {
		t.Fatalf("geo = %+v", g)
	}
	// Records that are not objects are rejected one by one.
	res = postEvents(t, do(t, h, "POST", "/v1/events", "op", `[1, "two", null, [], {"id": "x"}]`))
	if len(res.Rejected) != 5 || res.Accepted != 0 {
		t.Fatalf("non-objects: %+v", res)
	}
}
