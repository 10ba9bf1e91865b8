package segment_test

import (
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/qianmian/qianmian/profile/segment"
)

func mustCompile(tb testing.TB, src string) *segment.Expr {
	tb.Helper()
	e, err := testSchema(tb).Compile(src)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// subjects yields the subjects of m in id order.
func subjects(m map[string]segment.Subject) iter.Seq2[string, segment.Subject] {
	return func(yield func(string, segment.Subject) bool) {
		for _, id := range slices.Sorted(maps.Keys(m)) {
			if !yield(id, m[id]) {
				return
			}
		}
	}
}

func TestIndex_JoinLeave(t *testing.T) {
	t.Parallel()
	ix := segment.NewIndex()
	at := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	ix.Now = func() time.Time { return at }
	if ch := ix.Define("premium", mustCompile(t, `price_tier >= 4`), nil); len(ch) != 0 {
		t.Fatalf("Define of an empty segment: %v", ch)
	}
	if ch := ix.Update("u1", newSubject(map[string]any{"price_tier": 2.0})); ch != nil {
		t.Fatalf("not qualifying: %v", ch)
	}
	ch := ix.Update("u1", newSubject(map[string]any{"price_tier": 5.0}))
	want := []segment.Change{{Segment: "premium", Subject: "u1", Joined: true, Count: 1, At: at}}
	if !slices.Equal(ch, want) {
		t.Fatalf("qualifying: %v, want %v", ch, want)
	}
	if n, _ := ix.Count("premium"); n != 1 || !ix.Contains("premium", "u1") {
		t.Fatalf("Count = %d, Contains = %v after joining", n, ix.Contains("premium", "u1"))
	}
	if ch := ix.Update("u1", newSubject(map[string]any{"price_tier": 4.0})); ch != nil {
		t.Fatalf("still qualifying: %v", ch)
	}
	ch = ix.Update("u1", newSubject(map[string]any{})) // price tier no longer known: Unknown
	want = []segment.Change{{Segment: "premium", Subject: "u1", Joined: false, Count: 0, At: at}}
	if !slices.Equal(ch, want) {
		t.Fatalf("no longer qualifying: %v, want %v", ch, want)
	}
	if ids, ok := ix.Members("premium", "", 0); !ok || len(ids) != 0 {
		t.Fatalf("Members = %v, %v", ids, ok)
	}
	if _, ok := ix.Count("nope"); ok {
		t.Fatal("Count of an unknown segment is ok")
	}
	if _, ok := ix.Members("nope", "", 0); ok {
		t.Fatal("Members of an unknown segment is ok")
	}
}

// TestIndex_MembershipWithinOneSecond is the issue's "a segment's membership changes within
// 1 s of the event that qualifies a consumer": the change is made, and visible to readers,
// before Update returns, with 200 segments defined over 2,000 consumers.
func TestIndex_MembershipWithinOneSecond(t *testing.T) {
	t.Parallel()
	ix := segment.NewIndex()
	pop := map[string]segment.Subject{}
	for i := range 2000 {
		pop["u"+strconv.Itoa(i)] = boxedSubject{"price_tier": float64(i % 5), "city": "Beijing"}
	}
	for i := range 200 {
		src := fmt.Sprintf(`price_tier >= %d and city in ["Beijing", "Shanghai"]`, i%5)
		if i == 0 {
			src = `affinity("beauty") > 0.5 and price_tier >= 4 and city = "Shanghai"`
		}
		ix.Define("s"+strconv.Itoa(i), mustCompile(t, src), subjects(pop))
	}
	qualified := newSubject(map[string]any{"affinity(beauty)": 0.9, "price_tier": 4.0, "city": "Shanghai"})
	start := time.Now()
	ch := ix.Update("u3", qualified, "affinity")
	elapsed := time.Since(start)
	if len(ch) != 1 || ch[0].Segment != "s0" || !ch[0].Joined {
		t.Fatalf("changes = %v", ch)
	}
	if ids, _ := ix.Members("s0", "", 10); !slices.Equal(ids, []string{"u3"}) {
		t.Fatalf("Members(s0) = %v right after Update", ids)
	}
	if elapsed > time.Second {
		t.Fatalf("Update took %v", elapsed)
	}
	t.Logf("the qualifying Update took %v", elapsed)
}

func TestIndex_UpdateEvaluatesOnlyReferencingSegments(t *testing.T) {
	t.Parallel()
	ix := segment.NewIndex()
	ix.Define("premium", mustCompile(t, `price_tier >= 4`), nil)
	ix.Define("shanghai", mustCompile(t, `city = "Shanghai"`), nil)
	ix.Define("beauty_sh", mustCompile(t, `affinity("beauty") > 0.5 and city = "Shanghai"`), nil)
	ix.Define("urban", mustCompile(t, `"urban" in tags`), nil)
	values := map[string]any{"price_tier": 5.0, "city": "Shanghai", "affinity(beauty)": 0.9, "tags": []string{"urban"}}
	for _, tt := range []struct {
		name    string
		changed []string
		want    map[string]int // lookups per name
		joined  []string
	}{
		{"price_tier", []string{"price_tier"}, map[string]int{"price_tier": 1}, []string{"premium"}},
		{"affinity", []string{"affinity"}, map[string]int{"affinity": 1, "city": 1}, []string{"beauty_sh"}},
		{"city and tags", []string{"city", "tags"}, map[string]int{"affinity": 1, "city": 2, "tags": 1}, []string{"beauty_sh", "shanghai", "urban"}},
		{"unreferenced", []string{"gender"}, map[string]int{}, nil},
		{"unreferenced pair", []string{"gender", "age"}, map[string]int{}, nil},
		{"all", nil, map[string]int{"price_tier": 1, "affinity": 1, "city": 2, "tags": 1}, []string{"beauty_sh", "premium", "shanghai", "urban"}},
	} {
		id := "u-" + tt.name
		sub := newSubject(values)
		var joined []string
		for _, c := range ix.Update(id, sub, tt.changed...) {
			if c.Subject != id || !c.Joined {
				t.Errorf("%s: change %v", tt.name, c)
			}
			joined = append(joined, c.Segment)
		}
		if !maps.Equal(sub.lookups, tt.want) {
			t.Errorf("%s: lookups %v, want %v", tt.name, sub.lookups, tt.want)
		}
		if !slices.Equal(joined, tt.joined) {
			t.Errorf("%s: joined %v, want %v", tt.name, joined, tt.joined)
		}
	}
}

func TestIndex_DefineBackfillAndRedefine(t *testing.T) {
	t.Parallel()
	ix := segment.NewIndex()
	pop := map[string]segment.Subject{
		"a": newSubject(map[string]any{"price_tier": 5.0, "city": "Beijing"}),
		"b": newSubject(map[string]any{"price_tier": 4.0, "city": "Shanghai"}),
		"c": newSubject(map[string]any{"price_tier": 1.0, "city": "Shanghai"}),
		"d": newSubject(map[string]any{}),
	}
	ch := ix.Define("seg", mustCompile(t, `price_tier >= 4`), subjects(pop))
	if got := changeList(ch); got != "+a +b" {
		t.Fatalf("Define: %s", got)
	}
	if n, _ := ix.Count("seg"); n != 2 {
		t.Fatalf("Count = %d", n)
	}
	ch = ix.Define("seg", mustCompile(t, `city = "Shanghai"`), subjects(pop))
	if got := changeList(ch); got != "-a +c" {
		t.Fatalf("redefine: %s", got)
	}
	if ids, _ := ix.Members("seg", "", 0); !slices.Equal(ids, []string{"b", "c"}) {
		t.Fatalf("Members = %v", ids)
	}
	if e, _ := ix.Expr("seg"); e.String() != `city = "Shanghai"` {
		t.Fatalf("Expr = %v", e)
	}
	// Updates after a redefinition use the new expression only.
	if got := changeList(ix.Update("a", newSubject(map[string]any{"city": "Shanghai"}))); got != "+a" {
		t.Fatalf("Update after redefine: %s", got)
	}
	if !ix.Remove("seg") || ix.Remove("seg") {
		t.Fatal("Remove")
	}
	if got := ix.Update("a", newSubject(map[string]any{"city": "Beijing"})); got != nil {
		t.Fatalf("Update after Remove: %v", got)
	}
	if got := ix.Segments(); len(got) != 0 {
		t.Fatalf("Segments = %v", got)
	}
}

// TestIndex_DefineRacesUpdate updates a subject while its segment is being defined: the
// Update's newer view wins over the older view the backfill sequence yields afterwards.
func TestIndex_DefineRacesUpdate(t *testing.T) {
	t.Parallel()
	ix := segment.NewIndex()
	ix.Define("seg", mustCompile(t, `price_tier >= 4`), nil)
	stale := newSubject(map[string]any{"price_tier": 5.0})
	var during []segment.Change
	seq := func(yield func(string, segment.Subject) bool) {
		if !yield("x", newSubject(map[string]any{"price_tier": 5.0, "city": "Shanghai"})) {
			return
		}
		// "y" changes while the definition runs: it now qualifies, and "z" is erased.
		during = ix.Update("y", newSubject(map[string]any{"price_tier": 1.0, "city": "Shanghai"}))
		during = append(during, ix.Delete("z")...)
		if !yield("y", newSubject(map[string]any{"price_tier": 9.0, "city": "Beijing"})) {
			return
		}
		yield("z", stale)
	}
	ch := ix.Define("seg", mustCompile(t, `city = "Shanghai"`), seq)
	if len(during) != 0 {
		t.Fatalf("changes reported during the definition: %v", during)
	}
	if got := changeList(ch); got != "+x +y" {
		t.Fatalf("Define: %s", got)
	}
}

func TestIndex_Delete(t *testing.T) {
	t.Parallel()
	ix := segment.NewIndex()
	ix.Define("a", mustCompile(t, `price_tier >= 4`), nil)
	ix.Define("b", mustCompile(t, `price_tier >= 2`), nil)
	ix.Update("u", newSubject(map[string]any{"price_tier": 5.0}))
	if got := changeList(ix.Delete("u")); got != "-u -u" {
		t.Fatalf("Delete: %s", got)
	}
	if n, _ := ix.Count("a"); n != 0 {
		t.Fatalf("Count = %d", n)
	}
}

func changeList(ch []segment.Change) string {
	s := ""
	for i, c := range ch {
		if i > 0 {
			s += " "
		}
		if c.Joined {
			s += "+" + c.Subject
		} else {
			s += "-" + c.Subject
		}
	}
	return s
}

func TestIndex_MembersPaging(t *testing.T) {
	t.Parallel()
	ix := segment.NewIndex()
	ix.Define("all", mustCompile(t, `true`), nil)
	var want []string
	for i := range 25 {
		id := fmt.Sprintf("u%02d", i)
		want = append(want, id)
		ix.Update(id, newSubject(nil))
	}
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		page, ok := ix.Members("all", after, 10)
		if !ok || pages > 3 {
			t.Fatalf("page %d: %v %v", pages, page, ok)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1]
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged members %v, want %v", got, want)
	}
	if page, _ := ix.Members("all", "u07x", 2); !slices.Equal(page, []string{"u08", "u09"}) {
		t.Fatalf("after a non-member id: %v", page)
	}
	// A change after a read is seen by the next read.
	ix.Delete("u00")
	if page, _ := ix.Members("all", "", 1); !slices.Equal(page, []string{"u01"}) {
		t.Fatalf("first page after Delete: %v", page)
	}
	ix.Update("u00", consentSubject{})
	if page, _ := ix.Members("all", "", 1); !slices.Equal(page, []string{"u00"}) {
		t.Fatalf("first page after Update: %v", page)
	}
}

// consentSubject is a Subject with no traits, for segments that do not read any.
type consentSubject struct{}

func (consentSubject) Lookup(string, ...string) (any, bool) { return nil, false }

func TestIndex_Audience(t *testing.T) {
	t.Parallel()
	ix := segment.NewIndex()
	ix.Define("seg", mustCompile(t, `not known(city)`), nil)
	for _, id := range []string{"c", "a", "d", "b"} {
		ix.Update(id, consentSubject{})
	}
	marketing := map[string]bool{"a": true, "c": true, "x": true}
	got, ok := ix.Audience("seg", func(id string) bool { return marketing[id] })
	if !ok || !slices.Equal(got, []string{"a", "c"}) {
		t.Fatalf("Audience = %v, %v", got, ok)
	}
	got, _ = ix.Audience("seg", func(string) bool { return false })
	if got == nil || len(got) != 0 {
		t.Fatalf("Audience with no consent = %#v, want empty", got)
	}
	if _, ok := ix.Audience("nope", func(string) bool { return true }); ok {
		t.Fatal("Audience of an unknown segment is ok")
	}
}

func TestIndex_History(t *testing.T) {
	t.Parallel()
	ix := segment.NewIndex()
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	now := t0.Add(10 * time.Second)
	ix.Now = func() time.Time { return now }
	ix.HistoryLimit = 3
	ix.Define("seg", mustCompile(t, `price_tier >= 4`), nil) // 09:00 → 0
	yes, no := newSubject(map[string]any{"price_tier": 5.0}), newSubject(map[string]any{"price_tier": 1.0})
	ix.Update("a", yes) // 09:00 → 1
	now = t0.Add(time.Minute + 5*time.Second)
	ix.Update("b", yes) // 09:01 → 2
	ix.Update("c", yes) // 09:01 → 3
	ix.Update("a", no)  // 09:01 → 2
	ix.Update("a", no)  // no change, no sample
	now = t0.Add(5 * time.Minute)
	ix.Update("b", no) // 09:05 → 1
	want := []segment.CountSample{{t0, 1}, {t0.Add(time.Minute), 2}, {t0.Add(5 * time.Minute), 1}}
	if got, _ := ix.History("seg"); !slices.Equal(got, want) {
		t.Fatalf("History = %v, want %v", got, want)
	}
	now = t0.Add(6 * time.Minute)
	ix.Update("b", yes) // 09:06 → 2, and the 09:00 sample falls off
	want = append(want[1:], segment.CountSample{At: t0.Add(6 * time.Minute), Count: 2})
	if got, _ := ix.History("seg"); !slices.Equal(got, want) {
		t.Fatalf("History = %v, want %v", got, want)
	}
	// Redefining keeps the series and adds the new definition's count.
	ix.Define("seg", mustCompile(t, `price_tier >= 100`), nil)
	got, _ := ix.History("seg")
	if last := got[len(got)-1]; last != (segment.CountSample{At: t0.Add(6 * time.Minute), Count: 0}) {
		t.Fatalf("after redefinition: %v", got)
	}
}

// TestIndex_Concurrent runs updates, reads and definitions in parallel; run it with -race.
// At the end every count must equal the members listed.
func TestIndex_Concurrent(t *testing.T) {
	t.Parallel()
	ix := segment.NewIndex()
	ix.Define("high", mustCompile(t, `price_tier >= 3`), nil)
	ix.Define("sh", mustCompile(t, `city = "Shanghai"`), nil)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				id := "u" + strconv.Itoa((w*500+i)%300)
				city := "Beijing"
				if i%3 == 0 {
					city = "Shanghai"
				}
				ix.Update(id, newSubject(map[string]any{"price_tier": float64(i % 5), "city": city}), "price_tier", "city")
				if i%50 == 0 {
					ix.Delete(id)
				}
			}
		})
	}
	wg.Go(func() {
		for range 200 {
			ix.Members("high", "u1", 20)
			ix.Count("sh")
			ix.Audience("sh", func(string) bool { return true })
			ix.History("high")
			ix.Contains("sh", "u5")
		}
	})
	wg.Go(func() {
		for i := range 20 {
			ix.Define("tier"+strconv.Itoa(i%3), mustCompile(t, fmt.Sprintf(`price_tier = %d`, i%5)), nil)
			ix.Segments()
		}
		ix.Remove("tier0")
	})
	wg.Wait()
	for _, id := range ix.Segments() {
		n, _ := ix.Count(id)
		ids, _ := ix.Members(id, "", 0)
		if n != len(ids) {
			t.Errorf("%s: Count %d, %d members", id, n, len(ids))
		}
	}
}

func BenchmarkIndex_Update(b *testing.B) {
	for _, segs := range []int{10, 100, 1000} {
		b.Run(strconv.Itoa(segs), func(b *testing.B) {
			ix := segment.NewIndex()
			s := segment.DefaultSchema()
			for i := range segs {
				e, err := s.Compile(fmt.Sprintf(
					`affinity("beauty") > 0.%d and price_tier >= %d and city in ["Shanghai", "Beijing"] and not has_tag("t%d")`, i%10, i%5, i))
				if err != nil {
					b.Fatal(err)
				}
				ix.Define("s"+strconv.Itoa(i), e, nil)
			}
			sub := boxedSubject{"affinity\x00beauty": 0.55, "price_tier": 3.0, "city": "Beijing"}
			ids := make([]string, 1000)
			for i := range ids {
				ids[i] = "u" + strconv.Itoa(i)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				ix.Update(ids[i%len(ids)], sub)
				i++
			}
		})
	}
}
