package profile

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/qianmian/qianmian"
)

// buyer accumulates one consumer's purchases from the event log, for population statistics.
type buyer struct {
	spend    map[string]*spend // by top-level category
	orders   int
	monetary float64
	lastBuy  int64
}

// buyerSummary is a buyer frozen in a stats snapshot.
type buyerSummary struct {
	meanPrice map[string]float64 // spend per item, by top-level category
	orders    int
	monetary  float64
	lastBuy   int64
}

// stats is an immutable snapshot of the population statistics: for each top-level
// category, the sorted spend per item of its buyers; for all buyers, their sorted orders,
// money spent and last purchase times.
type stats struct {
	asOf      time.Time
	lastSeq   int64
	unitPrice map[string][]float64
	orders    []float64
	monetary  []float64
	lastBuy   []float64
	buyers    map[string]*buyerSummary
}

// accumulator follows the log's purchases from one refresh to the next.
type accumulator struct {
	lastSeq int64
	buyers  map[string]*buyer
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
	b := a.buyers[e.UserID]
	if b == nil {
		b = &buyer{spend: map[string]*spend{}}
		a.buyers[e.UserID] = b
	}
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
	sp := b.spend[item.top()]
	if sp == nil {
		sp = &spend{}
		b.spend[item.top()] = sp
	}
	sp.amount += amount
	sp.units += units
}

// snapshot freezes the buyers, but those in skip, into sorted distributions.
func (a *accumulator) snapshot(skip map[string]bool, now time.Time) *stats {
	st := &stats{asOf: now, lastSeq: a.lastSeq, unitPrice: map[string][]float64{},
		buyers: make(map[string]*buyerSummary, len(a.buyers))}
	for id, b := range a.buyers {
		if skip[id] {
			continue
		}
		sum := &buyerSummary{meanPrice: map[string]float64{}, orders: b.orders, monetary: b.monetary, lastBuy: b.lastBuy}
		for c, sp := range b.spend {
			if sp.units > 0 {
				m := sp.amount / float64(sp.units)
				sum.meanPrice[c] = m
				st.unitPrice[c] = append(st.unitPrice[c], m)
			}
		}
		st.buyers[id] = sum
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
