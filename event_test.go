package qianmian_test

import (
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestDecodeEvent_Valid(t *testing.T) {
	t.Parallel()
	e, err := qianmian.DecodeEvent([]byte(`{"id":"e1","type":"purchase","user_id":"u1","item_id":"i1",
		"store_id":"s1","channel":"app","amount":12.5,"context":{"location_type":"office","geo":{"lat":31.2,"lon":121.5}},
		"occurred_at":"2026-11-20T08:00:00+08:00"}`), now)
	if err != nil {
		t.Fatal(err)
	}
	if e.Quantity != 1 {
		t.Errorf("Quantity=%d, want 1 filled in for a purchase", e.Quantity)
	}
	if want := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC); !e.OccurredAt.Equal(want) || e.OccurredAt.Location() != time.UTC {
		t.Errorf("OccurredAt=%v, want %v in UTC", e.OccurredAt, want)
	}
	if e.Context.Geo == nil || e.Context.Geo.Lat != 31.2 || e.Context.LocationType != qianmian.LocationOffice {
		t.Errorf("Context=%+v", e.Context)
	}
}

func TestDecodeEvent_Errors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, json, field string
	}{
		{"Malformed", `{"id":`, "body"},
		{"NoID", `{"type":"view","user_id":"u","item_id":"i","channel":"app","occurred_at":"2026-11-20T00:00:00Z"}`, "id"},
		{"UnknownType", `{"id":"e","type":"teleport","user_id":"u","item_id":"i","channel":"app","occurred_at":"2026-11-20T00:00:00Z"}`, "type"},
		{"ViewWithoutItem", `{"id":"e","type":"view","user_id":"u","channel":"app","occurred_at":"2026-11-20T00:00:00Z"}`, "item_id"},
		{"BadTime", `{"id":"e","type":"view","user_id":"u","item_id":"i","channel":"app","occurred_at":"yesterday"}`, "occurred_at"},
		{"NoTime", `{"id":"e","type":"view","user_id":"u","item_id":"i","channel":"app"}`, "occurred_at"},
		{"FarFuture", `{"id":"e","type":"view","user_id":"u","item_id":"i","channel":"app","occurred_at":"2027-01-01T00:00:00Z"}`, "occurred_at"},
		{"NoSubject", `{"id":"e","type":"view","item_id":"i","channel":"app","occurred_at":"2026-11-20T00:00:00Z"}`, "user_id"},
		{"BadChannel", `{"id":"e","type":"view","user_id":"u","item_id":"i","channel":"fax","occurred_at":"2026-11-20T00:00:00Z"}`, "channel"},
		{"SearchWithoutQuery", `{"id":"e","type":"search","user_id":"u","channel":"app","occurred_at":"2026-11-20T00:00:00Z"}`, "query"},
		{"VisitWithoutStore", `{"id":"e","type":"visit","user_id":"u","channel":"offline","occurred_at":"2026-11-20T00:00:00Z"}`, "store_id"},
		{"QuantityAsString", `{"id":"e","type":"purchase","user_id":"u","item_id":"i","channel":"app","quantity":"two","occurred_at":"2026-11-20T00:00:00Z"}`, "quantity"},
		{"RatingRange", `{"id":"e","type":"review","user_id":"u","item_id":"i","channel":"app","rating":9,"occurred_at":"2026-11-20T00:00:00Z"}`, "rating"},
		{"BadLocation", `{"id":"e","type":"view","user_id":"u","item_id":"i","channel":"app","context":{"location_type":"moon"},"occurred_at":"2026-11-20T00:00:00Z"}`, "context.location_type"},
		{"BadIdentity", `{"id":"e","type":"view","identity":{"channel":"app","type":"iris","value":"x"},"item_id":"i","channel":"app","occurred_at":"2026-11-20T00:00:00Z"}`, "identity.type"},
		{"BadGeo", `{"id":"e","type":"view","user_id":"u","item_id":"i","channel":"app","context":{"geo":{"lat":91,"lon":0}},"occurred_at":"2026-11-20T00:00:00Z"}`, "context.geo.lat"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := qianmian.DecodeEvent([]byte(tt.json), now)
			if code := qianmian.ErrorCode(err); code != qianmian.EINVALID {
				t.Fatalf("code=%q (err %v), want invalid", code, err)
			}
			if got := qianmian.ErrorField(err); got != tt.field {
				t.Fatalf("field=%q, want %q (err %v)", got, tt.field, err)
			}
		})
	}
}

func TestEvent_AnonymousSubject(t *testing.T) {
	t.Parallel()
	id := &qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "d1"}
	e := &qianmian.Event{Identity: id}
	if got, want := e.Subject(), "~app:device:d1"; got != want {
		t.Fatalf("Subject()=%q, want %q", got, want)
	}
	e.UserID = "u1"
	if got := e.Subject(); got != "u1" {
		t.Fatalf("Subject()=%q, want u1 once the user is known", got)
	}
}

func TestValidate_Catalogue(t *testing.T) {
	t.Parallel()
	item := &qianmian.Item{ID: "i1", SupplierID: "s1", Title: "Perfume", Category: []string{"beauty", "perfume"}, Price: -1}
	if f := qianmian.ErrorField(item.Validate()); f != "price" {
		t.Errorf("negative price: field %q, want price", f)
	}
	item.Price = 10
	if err := item.Validate(); err != nil || item.Status != qianmian.ItemActive {
		t.Errorf("Validate()=%v status=%q, want nil and active", err, item.Status)
	}
	if got := item.CategoryKey(); got != "beauty/perfume" {
		t.Errorf("CategoryKey()=%q", got)
	}
	st := &qianmian.Store{ID: "b1", Region: "east", Channel: "kiosk"}
	if f := qianmian.ErrorField(st.Validate()); f != "channel" {
		t.Errorf("bad store channel: field %q", f)
	}
	a := &qianmian.Assortment{StoreID: "b1", ItemID: "i1", CommissionRate: 1.5}
	if f := qianmian.ErrorField(a.Validate()); f != "commission_rate" {
		t.Errorf("commission: field %q", f)
	}
	u := &qianmian.User{ID: "u1", Gender: "x"}
	if f := qianmian.ErrorField(u.Validate()); f != "gender" {
		t.Errorf("gender: field %q", f)
	}
	if f := qianmian.ErrorField((&qianmian.Principal{Role: "admin"}).Validate()); f != "role" {
		t.Errorf("role: field %q", f)
	}
}

func TestConsentUpdate_Apply(t *testing.T) {
	t.Parallel()
	off := false
	got := qianmian.ConsentUpdate{Personalization: &off}.Apply(qianmian.DefaultConsent())
	if got.Personalization || !got.Analytics || got.Marketing {
		t.Fatalf("Apply()=%+v", got)
	}
}
