package profile

import (
	"math"
	"strings"
	"time"
	"unicode"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/persona"
)

// affinityWeight is how much an event says about interest in its item's category and brand.
func affinityWeight(t qianmian.EventType) float64 {
	switch t {
	case qianmian.EventView, qianmian.EventClick, qianmian.EventReview:
		return 1
	case qianmian.EventFavorite:
		return 2
	case qianmian.EventCart:
		return 3
	case qianmian.EventPurchase:
		return 5
	}
	return 0 // impressions are the engine's doing; returns and visits say little of taste
}

// spend is money and units bought in one category.
type spend struct {
	amount float64
	units  int
}

// state accumulates one consumer's traits from their events, in any order. Decayed values
// are kept as weight·e^(λ(t−base)), so an event is added in O(1) and shares need no decay
// at all (the common factor cancels); base moves forward when the factors grow large.
type state struct {
	lambda float64 // ln 2 / half-life, per second
	loc    *time.Location
	cfg    *Config

	maxSeq int64
	links  []string // identity keys linked to the consumer when the state was built, sorted

	events      int
	first, last int64 // Unix seconds
	base        int64

	cat      map[string]float64
	catSum   float64
	brand    map[string]float64
	brandSum float64
	terms    map[string]float64

	hours    [24]int
	days     [7]int // Monday first
	channels map[qianmian.Channel]int
	locs     map[qianmian.LocationType]int
	locSum   int
	stores   map[string]int
	storeSum int

	spend            map[string]*spend // by top-level category
	orders           int
	monetary         float64
	lastBuy          int64
	bought, returned int

	hist     []persona.Event // a ring of the newest MaxHistory item events
	histNext int
}

func newState(cfg *Config) *state {
	return &state{
		lambda: math.Ln2 / cfg.HalfLife.Seconds(), loc: cfg.Location, cfg: cfg,
		cat: map[string]float64{}, brand: map[string]float64{}, terms: map[string]float64{},
		channels: map[qianmian.Channel]int{}, locs: map[qianmian.LocationType]int{},
		stores: map[string]int{}, spend: map[string]*spend{},
	}
}

// growth returns e^(λ(t−base)), first moving base to t when that factor would grow past
// e^300 (every half-life times 430).
func (s *state) growth(t int64) float64 {
	if s.events == 0 && s.base == 0 {
		s.base = t
	}
	x := s.lambda * float64(t-s.base)
	if x > 300 {
		f := math.Exp(-x)
		for k := range s.cat {
			s.cat[k] *= f
		}
		for k := range s.brand {
			s.brand[k] *= f
		}
		for k := range s.terms {
			s.terms[k] *= f
		}
		s.catSum *= f
		s.brandSum *= f
		s.base, x = t, 0
	}
	return math.Exp(x)
}

// apply adds one event; item is the event's item, nil when it has none or it is unknown.
func (s *state) apply(e *qianmian.Event, item *itemInfo) {
	if e.Seq > s.maxSeq {
		s.maxSeq = e.Seq
	}
	if e.Type == qianmian.EventImpression {
		return // shown by the engine, not done by the consumer
	}
	t := e.OccurredAt.Unix()
	g := s.growth(t)
	s.count(e, t)
	if w := affinityWeight(e.Type); w > 0 && item != nil {
		for _, c := range item.cats {
			s.cat[c] += w * g
		}
		s.catSum += w * g
		if item.brand != "" {
			s.brand[item.brand] += w * g
			s.brandSum += w * g
		}
	}
	if e.Type == qianmian.EventSearch {
		s.search(e.Query, g)
	}
	switch e.Type {
	case qianmian.EventPurchase:
		s.purchase(e, item, t)
	case qianmian.EventReturn:
		s.returned += max(e.Quantity, 1)
	}
	if e.ItemID != "" && item != nil {
		s.remember(personaEvent(e))
	}
}

// count adds the event to the counters of time, channel, place and store.
func (s *state) count(e *qianmian.Event, t int64) {
	if s.events == 0 || t < s.first {
		s.first = t
	}
	if t > s.last {
		s.last = t
	}
	s.events++
	lt := time.Unix(t, 0).In(s.loc)
	s.hours[lt.Hour()]++
	s.days[(int(lt.Weekday())+6)%7]++
	s.channels[e.Channel]++
	if l := e.Context.LocationType; l != "" && l != qianmian.LocationUnknown {
		s.locs[l]++
		s.locSum++
	}
	if e.StoreID != "" {
		s.stores[e.StoreID]++
		s.storeSum++
	}
}

func (s *state) purchase(e *qianmian.Event, item *itemInfo, t int64) {
	units := max(e.Quantity, 1)
	amount := e.Amount
	if amount <= 0 && item != nil {
		amount = item.price * float64(units)
	}
	s.orders++
	s.monetary += amount
	s.bought += units
	if t > s.lastBuy {
		s.lastBuy = t
	}
	if item == nil || item.top() == "" {
		return
	}
	sp := s.spend[item.top()]
	if sp == nil {
		sp = &spend{}
		s.spend[item.top()] = sp
	}
	sp.amount += amount
	sp.units += units
}

// search counts the words of a query, and the whole query when it has several.
func (s *state) search(query string, g float64) {
	q := strings.ToLower(strings.TrimSpace(query))
	words := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, w := range words {
		s.addTerm(w, g)
	}
	if len(words) > 1 {
		s.addTerm(strings.Join(words, " "), g)
	}
}

// addTerm adds to a term's count, dropping the weakest term when the profile holds
// MaxTerms.
func (s *state) addTerm(term string, g float64) {
	if _, ok := s.terms[term]; !ok && len(s.terms) >= s.cfg.MaxTerms {
		weakest, min := "", math.Inf(1)
		for k, v := range s.terms {
			if v < min || v == min && k < weakest {
				weakest, min = k, v
			}
		}
		if min > g {
			return
		}
		delete(s.terms, weakest)
	}
	s.terms[term] += g
}

// remember keeps e in the ring of recent item events.
func (s *state) remember(e persona.Event) {
	if len(s.hist) < s.cfg.MaxHistory {
		s.hist = append(s.hist, e)
		return
	}
	s.hist[s.histNext] = e
	s.histNext = (s.histNext + 1) % len(s.hist)
}

// history returns a copy of the recent item events, for the classifiers.
func (s *state) history() persona.History {
	return append(persona.History(nil), s.hist...)
}

// Tokens of an event's context, built once so that most events allocate only the slice.
var (
	typeTokens = func() map[qianmian.EventType]string {
		m := map[qianmian.EventType]string{}
		for _, t := range qianmian.EventTypes {
			m[t] = "type=" + string(t)
		}
		return m
	}()
	chanTokens = func() map[qianmian.Channel]string {
		m := map[qianmian.Channel]string{}
		for _, c := range []qianmian.Channel{qianmian.ChannelApp, qianmian.ChannelMiniProgram, qianmian.ChannelWeb, qianmian.ChannelOffline} {
			m[c] = "channel=" + string(c)
		}
		return m
	}()
	locTokens = func() map[qianmian.LocationType]string {
		m := map[qianmian.LocationType]string{}
		for _, l := range []qianmian.LocationType{qianmian.LocationHome, qianmian.LocationOffice, qianmian.LocationMall,
			qianmian.LocationTransit, qianmian.LocationStore} {
			m[l] = "location=" + string(l)
		}
		return m
	}()
)

// personaEvent is what the classifiers see of an item event: the item, how much the event
// says, when, the money, and its context (type, channel, place, store). Training and
// prediction both use it, so they see the same features.
func personaEvent(e *qianmian.Event) persona.Event { return personaEventWith(e, personaTokens(e)) }

// personaTokens is the context of e as persona tokens.
func personaTokens(e *qianmian.Event) []string {
	toks := make([]string, 0, 4)
	toks = append(toks, typeTokens[e.Type], chanTokens[e.Channel])
	if l, ok := locTokens[e.Context.LocationType]; ok {
		toks = append(toks, l)
	}
	if e.StoreID != "" {
		toks = append(toks, "store="+e.StoreID)
	}
	return toks
}

// personaEventWith is personaEvent with its tokens given.
func personaEventWith(e *qianmian.Event, toks []string) persona.Event {
	w := affinityWeight(e.Type)
	if w == 0 {
		w = 1
	}
	var amount float64
	if e.Type == qianmian.EventPurchase {
		amount = e.Amount
	}
	return persona.Event{Item: e.ItemID, Weight: w, Time: e.OccurredAt.Unix(), Amount: amount, Tokens: toks}
}
