package profile

import (
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/qianmian/qianmian"
)

// TestEventInterner_SharesWhatRepeats: interned persona events equal personaEvent's, and
// events of one item, or of one context, share the item string and the token list.
func TestEventInterner_SharesWhatRepeats(t *testing.T) {
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	mk := func(typ qianmian.EventType, item, store string, ch qianmian.Channel) *qianmian.Event {
		// Fresh strings each time, as rows scanned from storage are.
		return &qianmian.Event{Type: typ, UserID: "u", ItemID: string([]byte(item)), StoreID: string([]byte(store)),
			Channel: ch, Quantity: 1, Amount: 12.5, OccurredAt: at}
	}
	events := []*qianmian.Event{
		mk(qianmian.EventView, "i1", "s1", qianmian.ChannelApp),
		mk(qianmian.EventPurchase, "i1", "s1", qianmian.ChannelApp),
		mk(qianmian.EventView, "i2", "s1", qianmian.ChannelApp),
		mk(qianmian.EventView, "i1", "s2", qianmian.ChannelApp),
		mk(qianmian.EventView, "i3", "", qianmian.ChannelWeb),
	}
	in := newEventInterner()
	got := make([]any, len(events))
	for k, e := range events {
		pe := in.event(e)
		if want := personaEvent(e); !reflect.DeepEqual(pe, want) {
			t.Fatalf("event %d: interned %+v, personaEvent %+v", k, pe, want)
		}
		got[k] = pe
	}
	a, c := in.event(events[0]), in.event(events[3])
	if unsafe.StringData(a.Item) != unsafe.StringData(c.Item) {
		t.Error("two events of item i1 hold two copies of its id")
	}
	b := in.event(mk(qianmian.EventView, "i9", "s1", qianmian.ChannelApp))
	if &a.Tokens[0] != &b.Tokens[0] {
		t.Error("two views at s1 on the app hold two token lists")
	}
	if d := in.event(events[2]); &d.Tokens[0] == &c.Tokens[0] {
		t.Error("views at two stores share a token list")
	}
	if len(in.items) != 4 || len(in.toks) != 4 {
		t.Errorf("%d item strings and %d token lists kept, want 4 and 4", len(in.items), len(in.toks))
	}
}
