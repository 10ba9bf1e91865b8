package http_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/qianmian/qianmian"
)

// TestEvents_MalformedArraysFailWhole checks that an array body that is not JSON fails as a
// whole, as a 400 naming the body, even where the records split out of it look fine on
// their own: the handler splits arrays without checking them first.
func TestEvents_MalformedArraysFailWhole(t *testing.T) {
	t.Parallel()
	h := newWorld().server().Handler()
	good := `{"id":"e1","type":"view","user_id":"u1","item_id":"i1","store_id":"A","channel":"app","occurred_at":"2024-05-06T07:00:00+08:00"}`
	for _, body := range []string{
		`[` + good + `,]`,
		`[,` + good + `]`,
		`[` + good + `,,` + good + `]`,
		`[` + good + ` ` + good + `]`,
		`[` + good + `]]`,
		`[` + good + `] {}`,
		`[` + good + `, {"id":"e2","x":{"a" 1}}]`,
		`[` + good + `, {"id":"e2","x":"\q"}]`,
		`[` + good + `, {"id":"e2","x":[1,]}]`,
		`[` + good + `, {"id":"e2"} x]`,
		`[` + good + `, {"id":"e2","x":tru}]`,
		`[` + good + `, {"id":"e2","type":"view"]`,
		`[` + strings.TrimSuffix(good, "}") + `]`,
	} {
		resp := do(t, h, "POST", "/v1/events", "op", body)
		if resp.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", body, resp.status, resp.body)
			continue
		}
		resp.wantError(t, http.StatusBadRequest, qianmian.EINVALID, "body")
	}
}

// TestEvents_WellFormedArrays checks arrays the fast path takes, and ones it leaves to the
// slow one, give the same answers.
func TestEvents_WellFormedArrays(t *testing.T) {
	t.Parallel()
	w := newWorld()
	h := w.server().Handler()
	good := func(id string) string {
		return `{"id":"` + id + `","type":"view","user_id":"u1","item_id":"i1","store_id":"A","channel":"app","occurred_at":"2024-05-06T07:00:00+08:00"}`
	}
	for _, tt := range []struct {
		body     string
		accepted int
		rejected []string // fields
	}{
		{"\t[ " + good("a1") + " ,\n" + good("a2") + "\r\n]\n", 2, nil},
		// Names in another case and escapes go through encoding/json, and are the same event.
		{`[{"ID":"a3","Type":"view","user_id":"u1","item_id":"i\u0031","store_id":"A","channel":"app","occurred_at":"2024-05-06T07:00:00Z"}]`, 1, nil},
		// A type error is the record's alone.
		{`[` + good("a4") + `,{"id":"a5","type":"view","user_id":"u1","item_id":"i1","store_id":"A","channel":"app","quantity":"2","occurred_at":"2024-05-06T07:00:00Z"}]`, 1, []string{"quantity"}},
		{`[` + good("a6") + `, {"id":"a7","type":"teleport"}, 7]`, 1, []string{"type", "body"}},
	} {
		res := postEvents(t, do(t, h, "POST", "/v1/events", "op", tt.body))
		var fields []string
		for _, r := range res.Rejected {
			fields = append(fields, r.Field)
		}
		if res.Accepted != tt.accepted || strings.Join(fields, ",") != strings.Join(tt.rejected, ",") {
			t.Errorf("%s: %+v, want %d accepted and rejects %v", tt.body, res, tt.accepted, tt.rejected)
		}
	}
	if e := w.events["a3"]; e == nil || e.ItemID != "i1" || e.Type != qianmian.EventView {
		t.Errorf("a3 = %+v", e)
	}
}
