package qianmian

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// decodeCorpus is JSON the fast path of UnmarshalEvent must decode exactly as
// encoding/json does, or leave to it.
var decodeCorpus = []string{
	`{"id":"e1","type":"view","user_id":"u1","item_id":"i1","store_id":"s1","channel":"app","occurred_at":"2024-05-06T07:00:00+08:00"}`,
	` { "id" : "e1" , "type" : "purchase" , "user_id" : "u1" , "item_id" : "i1" , "quantity" : 2 , "amount" : 19.9 , "channel" : "web" ,
	  "context" : { "location_type" : "mall" , "geo" : { "lat" : 31.2 , "lon" : 121.5 } , "device" : "iPhone" } , "occurred_at" : "2024-05-06T07:00:00.123Z" } `,
	`{"id":"e2","type":"search","identity":{"channel":"app","type":"device","value":"d-1"},"query":"玫瑰 香水","channel":"app","occurred_at":"2024-05-06T07:00:00Z"}`,
	`{"id":"e3","type":"review","user_id":"u1","item_id":"i1","rating":5,"text":"good \"stuff\"\n\u00e9\ud83d\ude00","channel":"miniprogram","occurred_at":"2024-05-06T07:00:00Z"}`,
	`{"id":"e4","type":"view","user_id":null,"identity":null,"context":null,"occurred_at":null,"quantity":null,"amount":null}`,
	`{"id":"e5","type":"view","extra":{"a":[1,2,{"b":null}],"c":true,"d":false,"e":-1.5e-3},"more":[],"x":{},"channel":"app"}`,
	`{"ID":"e6","Type":"view"}`, // case-insensitive names: encoding/json's
	`{"id":"e7","id":"e8"}`,     // repeated member
	`{"id":"e9","context":{"geo":{"lat":1}},"context":{"device":"x"}}`, // repeated object merges
	`{"id":"e10","quantity":1.0}`,                                      // type error
	`{"id":"e11","quantity":"1"}`,                                      // type error
	`{"id":"e12","amount":1e400}`,                                      // out of range
	`{"id":"e13","rating":99999999999999999999}`,                       // overflow
	`{"id":"e14","occurred_at":12}`,                                    // not a string
	`{"id":"e15","occurred_at":"yesterday"}`,                           // not RFC 3339
	`{"id":"e16","occurred_at":""}`,                                    // empty time
	`{"id":"e17"} trailing`,                                            // only the first value counts
	`{"id":"e18",}`,                                                    // syntax error
	`{"id":"e19" "type":"view"}`,
	`{"id":"\u0065\t20"}`,
	"{\"id\":\"bad\xffutf8\"}",
	"{\"id\":\"ctl\x01\"}",
	`{"\u0069d":"e21"}`,
	`{"id":01}`,
	`{"id":"e22","seq":42,"quantity":-0,"amount":0.5E+2}`,
	`[{"id":"e23"}]`,
	`{"id":"e24","identity":{"channel":"web","type":"account","value":"a","channel":"app"}}`,
	`{"id":"e25","x":` + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `}`,
	`{"id":"e26","identity":{"channel":"wechat","type":"openid","value":"o-1"},"type":"teleport","channel":"tv"}`,
	``, `null`, `{}`, `{"id":"e27"`, `{"id":"e28","type":tru}`,
}

func TestUnmarshalEvent_FastPathMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, data := range decodeCorpus {
		checkFastPath(t, data)
	}
}

func FuzzUnmarshalEvent(f *testing.F) {
	for _, data := range decodeCorpus {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data string) { checkFastPath(t, data) })
}

// checkFastPath checks that whenever the fast path takes data, it gives what encoding/json
// gives, and that UnmarshalEvent as a whole agrees with encoding/json alone.
func checkFastPath(t *testing.T, data string) {
	t.Helper()
	var fast Event
	d := eventDecoder{data: []byte(data)}
	occurred, has, ok := d.event(&fast)
	var slow Event
	slowOccurred, slowHas, slowErr := decodeEventSlow([]byte(data), &slow)
	if ok {
		if slowErr != nil {
			t.Fatalf("%q: the fast path took what encoding/json rejects (%v)", data, slowErr)
		}
		if !reflect.DeepEqual(fast, slow) || occurred != slowOccurred || has != slowHas {
			t.Fatalf("%q:\nfast %+v %q %v\nslow %+v %q %v", data, fast, occurred, has, slow, slowOccurred, slowHas)
		}
	}
	e, wellFormed, err := UnmarshalEvent([]byte(data))
	if slowErr != nil && (err == nil || err.Error() != slowErr.Error()) {
		t.Fatalf("%q: UnmarshalEvent error %v, want encoding/json's %v", data, err, slowErr)
	}
	if err == nil && slowHas {
		want, perr := time.Parse(time.RFC3339Nano, slowOccurred)
		if perr == nil && !e.OccurredAt.Equal(want) {
			t.Fatalf("%q: occurred_at %v, want %v", data, e.OccurredAt, want)
		}
	}
	if wellFormed && !ok {
		t.Fatalf("%q: well-formed without the fast path", data)
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	data := []byte(`{"id":"e00042","type":"view","user_id":"u1","item_id":"i1","store_id":"A","channel":"app","context":{"location_type":"home","device":"Android 14"},"occurred_at":"2024-05-06T07:00:00+08:00"}`)
	now := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeEvent(data, now); err != nil {
			b.Fatal(err)
		}
	}
}
