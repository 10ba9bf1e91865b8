package profile

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/qianmian/qianmian"
)

// buyer accumulates one consumer's purchases from the event log, for population statistics.
type buyer struct {
	spend    []catSpend // one entry per top-level category bought, in no order
	orders   int
	monetary float64
	lastBuy  int64
}

// catSpend is a buyer's money and units in one top-level category. The category's index
// (see accumulator.cats) and the units share a word: that keeps a buyer's few entries in 16
// bytes each.
type catSpend struct {
	amount float64
	n      uint64 // units<<catBits | category index
}

// catBits is how many bits of catSpend.n hold the category index; the units have the rest
// (2⁴⁰, over a trillion: one consumer would have to buy more than that in one category).
const catBits = 24

func (sp catSpend) cat() int32   { return int32(sp.n & (1<<catBits - 1)) }
func (sp catSpend) units() int64 { return int64(sp.n >> catBits) }

// addSpend adds amount and units bought in category c.
func (b *buyer) addSpend(c int32, amount float64, units int) {
	for k := range b.spend {
		if b.spend[k].cat() == c {
			b.spend[k].amount += amount
			b.spend[k].n += uint64(units) << catBits
			return
		}
	}
	b.spend = append(b.spend, catSpend{amount: amount, n: uint64(units)<<catBits | uint64(c)})
}

// buyerSummary is a buyer frozen in a stats snapshot. Its spend per item, by top-level
// category, is stats.means[meanOff : meanOff+meanN].
type buyerSummary struct {
	orders   int // 0 for a buyer left out of the snapshot
	monetary float64
	lastBuy  int64
	meanOff  int32
	meanN    int32
}

// catMean is a buyer's spend per item in one top-level category.
type catMean struct {
	cat  int32
	mean float64
}

// stats is an immutable snapshot of the population statistics: for each top-level
// category, the sorted spend per item of its buyers; for all buyers, their sorted orders,
// money spent and last purchase times; and each buyer's own values, to leave them out of
// the population they are ranked against.
//
// Buyers are known by their position in the accumulator, which never changes: ids, sums
// and order are indexed by it, or hold it.
type stats struct {
	asOf      time.Time
	lastSeq   int64
	cats      map[string]int32 // top-level category → index; a copy of the accumulator's
	unitPrice [][]float64      // by category index
	orders    []float64
	monetary  []float64
	lastBuy   []float64
	ids       []string       // buyers' IDs, by position: the accumulator's, which only appends past them
	order     []int32        // positions, sorted by ID
	sums      []buyerSummary // by position
	means     []catMean      // every buyer's, one after the other
	nBuyers   int            // buyers in the snapshot, not left out
}

// buyer returns the summary of userID's purchases, or nil when the snapshot does not count
// them.
func (st *stats) buyer(userID string) *buyerSummary {
	k, found := slices.BinarySearchFunc(st.order, userID, func(i int32, id string) int {
		return strings.Compare(st.ids[i], id)
	})
	if !found {
		return nil
	}
	b := &st.sums[st.order[k]]
	if b.orders == 0 {
		return nil
	}
	return b
}

// meanPrice returns b's spend per item in top-level category c, and whether b bought
// anything there.
func (st *stats) meanPrice(b *buyerSummary, c string) (float64, bool) {
	ci, ok := st.cats[c]
	if !ok || b == nil {
		return 0, false
	}
	for _, m := range st.means[b.meanOff : b.meanOff+b.meanN] {
		if m.cat == ci {
			return m.mean, true
		}
	}
	return 0, false
}

// unitPrices returns the sorted spend per item of top-level category c's buyers.
func (st *stats) unitPrices(c string) []float64 {
	if ci, ok := st.cats[c]; ok {
		return st.unitPrice[ci]
	}
	return nil
}

// accumulator follows the log's purchases from one refresh to the next. Only RefreshStats
// changes it, under Service.statsMu; the snapshots it publishes share ids and order, which
// it appends to and replaces but never changes in place.
type accumulator struct {
	lastSeq int64
	cats    map[string]int32 // top-level category → index, interned
	index   map[string]int32 // user ID → position
	ids     []string         // by position
	buyers  []buyer          // by position
	order   []int32          // positions sorted by ID, as of the last snapshot
}

// newAccumulator returns an accumulator that has seen no purchase.
func newAccumulator() *accumulator {
	return &accumulator{cats: map[string]int32{}, index: map[string]int32{}}
}

// RefreshStats reads the purchases logged since the last refresh (all of them the first
// time), reloads the catalogue, and publishes new population statistics: price tiers and RFM
// scores are ranked against them from then on. Consumers who refused analytics are left
// out. It also loads a persona model newer than the one in use.
func (s *Service) RefreshStats(ctx context.Context) error {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if err := s.cat.load(ctx); err != nil {
		return err
	}
	acc := s.acc
	for e, err := range s.Events.ScanEvents(ctx, qianmian.EventFilter{Types: []qianmian.EventType{qianmian.EventPurchase},
		AfterSeq: acc.lastSeq}) {
		if err != nil {
			return fmt.Errorf("refresh profile statistics: %w", err)
		}
		acc.lastSeq = max(acc.lastSeq, e.Seq)
		if e.UserID == "" {
			continue
		}
		acc.add(e, s.cat.item(ctx, e.ItemID))
	}
	refused, err := s.analyticsRefused(ctx)
	if err != nil {
		return err
	}
	s.stats.Store(acc.snapshot(refused, s.Now()))
	return s.loadModel(ctx)
}

// add counts one purchase.
func (a *accumulator) add(e *qianmian.Event, item *itemInfo) {
	i, ok := a.index[e.UserID]
	if !ok {
		i = int32(len(a.ids))
		a.index[e.UserID] = i
		a.ids = append(a.ids, e.UserID)
		a.buyers = append(a.buyers, buyer{})
	}
	b := &a.buyers[i]
	units := max(e.Quantity, 1)
	amount := e.Amount
	if amount <= 0 && item != nil {
		amount = item.price * float64(units)
	}
	b.orders++
	b.monetary += amount
	b.lastBuy = max(b.lastBuy, e.OccurredAt.Unix())
	if item == nil || item.top() == "" {
		return
	}
	c, ok := a.cats[item.top()]
	if !ok {
		if len(a.cats) >= 1<<catBits {
			return // more top-level categories than any catalogue has: not counted by category
		}
		c = int32(len(a.cats))
		a.cats[item.top()] = c
	}
	b.addSpend(c, amount, units)
}

// snapshot freezes the buyers, but those in skip, into sorted distributions.
func (a *accumulator) snapshot(skip map[string]bool, now time.Time) *stats {
	a.sortIDs()
	n := len(a.ids)
	st := &stats{asOf: now, lastSeq: a.lastSeq, cats: maps.Clone(a.cats), unitPrice: make([][]float64, len(a.cats)),
		ids: a.ids[:n:n], order: a.order, sums: make([]buyerSummary, n)}
	// Size every slice first: at most one mean per spend entry.
	perCat := make([]int, len(a.cats))
	nMeans := 0
	for i := range a.buyers {
		for _, sp := range a.buyers[i].spend {
			perCat[sp.cat()]++
			nMeans++
		}
	}
	for c, k := range perCat {
		st.unitPrice[c] = make([]float64, 0, k)
	}
	st.means = make([]catMean, 0, nMeans)
	st.orders, st.monetary, st.lastBuy = make([]float64, 0, n), make([]float64, 0, n), make([]float64, 0, n)
	for i := range a.buyers {
		b := &a.buyers[i]
		if skip[a.ids[i]] {
			continue
		}
		sum := buyerSummary{orders: b.orders, monetary: b.monetary, lastBuy: b.lastBuy, meanOff: int32(len(st.means))}
		for _, sp := range b.spend {
			if u := sp.units(); u > 0 {
				m := sp.amount / float64(u)
				st.means = append(st.means, catMean{cat: sp.cat(), mean: m})
				st.unitPrice[sp.cat()] = append(st.unitPrice[sp.cat()], m)
			}
		}
		sum.meanN = int32(len(st.means)) - sum.meanOff
		st.sums[i] = sum
		st.nBuyers++
		st.orders = append(st.orders, float64(b.orders))
		st.monetary = append(st.monetary, b.monetary)
		st.lastBuy = append(st.lastBuy, float64(b.lastBuy))
	}
	for _, v := range st.unitPrice {
		slices.Sort(v)
	}
	slices.Sort(st.orders)
	slices.Sort(st.monetary)
	slices.Sort(st.lastBuy)
	return st
}

// sortIDs brings a.order up to date with the buyers added since the last snapshot: it sorts
// them and merges them into a new slice, for snapshots hold the old one.
func (a *accumulator) sortIDs() {
	old := a.order
	if len(old) == len(a.ids) {
		return
	}
	byID := func(i, j int32) int { return strings.Compare(a.ids[i], a.ids[j]) }
	added := make([]int32, 0, len(a.ids)-len(old))
	for i := len(old); i < len(a.ids); i++ {
		added = append(added, int32(i))
	}
	slices.SortFunc(added, byID)
	if len(old) == 0 {
		a.order = added
		return
	}
	merged := make([]int32, 0, len(a.ids))
	for len(old) > 0 && len(added) > 0 {
		if byID(old[0], added[0]) < 0 {
			merged, old = append(merged, old[0]), old[1:]
		} else {
			merged, added = append(merged, added[0]), added[1:]
		}
	}
	merged = append(merged, old...)
	a.order = append(merged, added...)
}

// analyticsRefused returns the users who refused analytics: they count in no aggregate.
func (s *Service) analyticsRefused(ctx context.Context) (map[string]bool, error) {
	ids, err := s.Users.FindRefusals(ctx, qianmian.PurposeAnalytics)
	if err != nil {
		return nil, fmt.Errorf("read analytics consent: %w", err)
	}
	refused := make(map[string]bool, len(ids))
	for _, id := range ids {
		refused[id] = true
	}
	return refused, nil
}

// rank compares x with the sorted population pop, which holds own (the consumer's value at
// the last refresh) when had is set: it returns the share of the others below x and how many
// others there are.
func rank(pop []float64, x, own float64, had bool) (share float64, others int) {
	below := sort.SearchFloat64s(pop, x) // values < x
	n := len(pop)
	if had {
		n--
		if own < x {
			below--
		}
	}
	if n <= 0 {
		return 0, 0
	}
	return float64(max(below, 0)) / float64(n), n
}

// quintile turns a share in [0, 1] into a score from 1 to 5.
func quintile(share float64) int { return min(5, 1+int(share*5)) }
