package profile

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

// statsWant is the population statistics computed the plain way, from the purchases.
type statsWant struct {
	unitPrice                 map[string][]float64
	orders, monetary, lastBuy []float64
	buyers                    map[string]*buyerWant
}

type buyerWant struct {
	orders    int
	monetary  float64
	lastBuy   int64
	meanPrice map[string]float64
}

type purchase struct {
	e    *qianmian.Event
	item *itemInfo
}

// wantStats sums the purchases per buyer and category, in log order, leaving out skip.
func wantStats(ps []purchase, skip map[string]bool) *statsWant {
	type sum struct {
		amount float64
		units  int
	}
	type acc struct {
		orders   int
		monetary float64
		lastBuy  int64
		spend    map[string]*sum
	}
	by := map[string]*acc{}
	for _, p := range ps {
		a := by[p.e.UserID]
		if a == nil {
			a = &acc{spend: map[string]*sum{}}
			by[p.e.UserID] = a
		}
		units := max(p.e.Quantity, 1)
		amount := p.e.Amount
		if amount <= 0 && p.item != nil {
			amount = p.item.price * float64(units)
		}
		a.orders++
		a.monetary += amount
		a.lastBuy = max(a.lastBuy, p.e.OccurredAt.Unix())
		if p.item == nil || len(p.item.cats) == 0 {
			continue
		}
		s := a.spend[p.item.cats[0]]
		if s == nil {
			s = &sum{}
			a.spend[p.item.cats[0]] = s
		}
		s.amount += amount
		s.units += units
	}
	w := &statsWant{unitPrice: map[string][]float64{}, buyers: map[string]*buyerWant{}}
	for id, a := range by {
		if skip[id] {
			continue
		}
		b := &buyerWant{orders: a.orders, monetary: a.monetary, lastBuy: a.lastBuy, meanPrice: map[string]float64{}}
		for c, s := range a.spend {
			b.meanPrice[c] = s.amount / float64(s.units)
			w.unitPrice[c] = append(w.unitPrice[c], b.meanPrice[c])
		}
		w.buyers[id] = b
		w.orders = append(w.orders, float64(a.orders))
		w.monetary = append(w.monetary, a.monetary)
		w.lastBuy = append(w.lastBuy, float64(a.lastBuy))
	}
	for _, v := range w.unitPrice {
		slices.Sort(v)
	}
	slices.Sort(w.orders)
	slices.Sort(w.monetary)
	slices.Sort(w.lastBuy)
	return w
}

// sameFloats reports whether a and b hold the same values, bit for bit.
func sameFloats(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// checkStats compares st with w, asking st what traits ask of it, for every user in users and
// every category in cats.
func checkStats(t *testing.T, name string, st *stats, w *statsWant, users, cats []string) {
	t.Helper()
	if !sameFloats(st.orders, w.orders) || !sameFloats(st.monetary, w.monetary) || !sameFloats(st.lastBuy, w.lastBuy) {
		t.Errorf("%s: orders %v, monetary %v, last purchases %v; want %v, %v, %v", name,
			st.orders, st.monetary, st.lastBuy, w.orders, w.monetary, w.lastBuy)
	}
	if st.nBuyers != len(w.buyers) {
		t.Errorf("%s: %d buyers, want %d", name, st.nBuyers, len(w.buyers))
	}
	for _, c := range cats {
		if got := st.unitPrices(c); !sameFloats(got, w.unitPrice[c]) {
			t.Errorf("%s: unit prices in %q %v, want %v", name, c, got, w.unitPrice[c])
		}
	}
	for _, id := range users {
		got, want := st.buyer(id), w.buyers[id]
		if (got == nil) != (want == nil) {
			t.Errorf("%s: buyer %q counted %v, want %v", name, id, got != nil, want != nil)
			continue
		}
		if got == nil {
			continue
		}
		if got.orders != want.orders || math.Float64bits(got.monetary) != math.Float64bits(want.monetary) ||
			got.lastBuy != want.lastBuy {
			t.Errorf("%s: buyer %q has %d orders, %v spent, last at %d; want %d, %v, %d", name, id,
				got.orders, got.monetary, got.lastBuy, want.orders, want.monetary, want.lastBuy)
		}
		for _, c := range cats {
			m, had := st.meanPrice(got, c)
			wm, whad := want.meanPrice[c]
			if had != whad || math.Float64bits(m) != math.Float64bits(wm) {
				t.Errorf("%s: buyer %q's mean price in %q is %v (%v), want %v (%v)", name, id, c, m, had, wm, whad)
			}
		}
	}
}

// TestStats_MatchPlainSums: snapshots of the accumulator, over purchases logged in two goes,
// hold exactly the distributions and per-buyer values of plain per-buyer sums, leave out
// the consumers who refused analytics, and stay unchanged as more purchases come in, while
// they are read.
func TestStats_MatchPlainSums(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	cats := []string{"beauty", "food", "home", "sport", "toys", "garden"}
	var items []*itemInfo
	for k, c := range cats {
		for j := range 3 {
			items = append(items, &itemInfo{cats: []string{c, c + "/" + fmt.Sprint(j)}, price: float64(3+k) + float64(j)/3})
		}
	}
	items = append(items, &itemInfo{price: 9.99}, nil) // an item without category, and one not in the catalogue
	users := make([]string, 40)
	for u := range users {
		users[u] = fmt.Sprintf("u%02d", u*37%100) // the later ones sort among the first
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var log []purchase
	var seq int64
	buy := func(n, buyers, firstCat int) {
		for range n {
			seq++
			item := items[firstCat*3+r.IntN(len(items)-firstCat*3)]
			e := &qianmian.Event{Seq: seq, Type: qianmian.EventPurchase, UserID: users[r.IntN(buyers)], ItemID: "i",
				Quantity: r.IntN(4), OccurredAt: at.Add(time.Duration(r.IntN(1e6)) * time.Second)}
			if r.IntN(4) > 0 {
				e.Amount = math.Round(r.Float64()*10000) / 100 / 3 // else the item's price
			}
			log = append(log, purchase{e, item})
		}
	}
	refresh := func(acc *accumulator, from, to int, skip map[string]bool) *stats {
		for _, p := range log[from:to] {
			acc.lastSeq = max(acc.lastSeq, p.e.Seq)
			acc.add(p.e, p.item)
		}
		return acc.snapshot(skip, at)
	}
	// First, 30 consumers in all categories but "beauty", then 10 new consumers join in, and
	// everyone buys in every category.
	buy(300, 30, 1)
	first := len(log)
	buy(200, 40, 0)
	users = append(users, "nobody")
	allCats := append(slices.Clone(cats), "unknown")

	acc := newAccumulator()
	skip1 := map[string]bool{users[7]: true, "nobody": true}
	st1 := refresh(acc, 0, first, skip1)
	if st1.lastSeq != int64(first) {
		t.Errorf("first snapshot up to seq %d, want %d", st1.lastSeq, first)
	}
	want1 := wantStats(log[:first], skip1)
	if len(want1.buyers) != 29 || len(want1.unitPrice) < 5 {
		t.Fatalf("test data: %d buyers, %d categories", len(want1.buyers), len(want1.unitPrice))
	}
	checkStats(t, "first", st1, want1, users, allCats)

	// Readers keep reading the first snapshot while the second is made (go test -race).
	done := make(chan struct{})
	go func() {
		defer close(done)
		checkStats(t, "first, during the second", st1, want1, users, allCats)
	}()
	skip2 := map[string]bool{users[7]: true, users[33]: true} // one more refused since
	st2 := refresh(acc, first, len(log), skip2)
	<-done
	if st2.lastSeq != seq {
		t.Errorf("second snapshot up to seq %d, want %d", st2.lastSeq, seq)
	}
	want2 := wantStats(log, skip2)
	if len(want2.buyers) != 38 || len(want2.unitPrice) != len(cats) {
		t.Fatalf("test data: %d buyers, %d categories", len(want2.buyers), len(want2.unitPrice))
	}
	checkStats(t, "second", st2, want2, users, allCats)
	checkStats(t, "first, after the second", st1, want1, users, allCats)

	// A refresh without new purchases sees the same, and so does a fresh accumulator.
	checkStats(t, "third", refresh(acc, len(log), len(log), skip2), want2, users, allCats)
	checkStats(t, "from scratch", refresh(newAccumulator(), 0, len(log), skip2), want2, users, allCats)
}
