package sim

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// A consumer's history is generated from an agenda: sessions drawn from their persona's
// rhythm, plus the moments they need to rebuy something, plus the login of an anonymous
// device and the purchase that links a membership card. Each consumer has their own random
// stream, so a history depends on nothing but the world and the consumer.

// Kinds of agenda entries.
const (
	doSession uint8 = iota
	doNeed
	doLogin
	doCardLink
)

type agendaEntry struct {
	at   int64
	kind uint8
	leaf int16
}

// history keeps the state of one consumer while their history is generated. One per
// worker, reset for each consumer, so that its slices are reused.
type history struct {
	g          *generator
	u          int32
	p          *userPlan
	per        *personaInfo
	r          *rand.Rand
	pcg        *rand.PCG
	sink       *sink
	seq        uint32
	leafW      []float64 // the consumer's own interests
	leafCum    []float64
	maxLeaf    float64
	maxTier    float64
	favBrand   [2]int16
	lastBought []int32 // per leaf, the item last bought (-1)
	sated      []bool  // per leaf, bought something that lasts: less keen on more
	agenda     []agendaEntry
	cursor     int64 // the end of the last session
	cardLinked bool
	weights    []float64 // scratch
}

func newHistory(g *generator, s *sink) *history {
	pcg := rand.NewPCG(0, 0)
	return &history{g: g, sink: s, r: rand.New(pcg), pcg: pcg,
		leafW: make([]float64, len(g.leaves)), lastBought: make([]int32, len(g.leaves)),
		sated: make([]bool, len(g.leaves))}
}

// run generates consumer u's history into the sink.
func (h *history) run(u int32) {
	g := h.g
	h.u, h.p = u, &g.users[u]
	h.per = &g.personas[h.p.persona]
	h.pcg.Seed(g.cfg.Seed, streamEvents+uint64(u))
	h.seq, h.cursor, h.cardLinked = 0, 0, false
	h.prepare()
	h.plan()
	for len(h.agenda) > 0 {
		a := h.agenda[0]
		h.agenda = h.agenda[1:]
		if a.at >= g.endUnix {
			break
		}
		h.do(a)
	}
}

// prepare draws the consumer's own taste: the persona's interests, scattered, and two
// favourite brands.
func (h *history) prepare() {
	var sum float64
	for i, w := range h.per.leafW {
		h.leafW[i] = w * logNormal(h.r, 0.6)
		sum += h.leafW[i]
		h.lastBought[i] = -1
		h.sated[i] = false
	}
	h.maxLeaf = 0
	for i := range h.leafW {
		h.leafW[i] /= sum
		h.maxLeaf = max(h.maxLeaf, h.leafW[i])
	}
	h.leafCum = cumulative(h.leafW)
	h.maxTier = slices.Max(h.per.spec.tiers[:])
	for k := range h.favBrand {
		leaf := h.g.leaves[pickCum(h.r, h.leafCum)]
		var in []int16
		for bi, b := range h.g.brands {
			if b.group == leaf.group {
				in = append(in, int16(bi))
			}
		}
		h.favBrand[k] = in[h.r.IntN(len(in))]
	}
}

// plan fills the agenda: sessions, the first need of each category the consumer rebuys,
// and the identity links.
func (h *history) plan() {
	g := h.g
	h.agenda = h.agenda[:0]
	n := poisson(h.r, h.per.spec.sessionsPerWeek*g.cfg.ActivityScale*float64(g.cfg.Weeks)*h.p.activity)
	for range n {
		if t, ok := g.sampleTime(h.r, h.per, g.startUnix, g.endUnix, false); ok {
			h.agenda = append(h.agenda, agendaEntry{at: t, kind: doSession})
		}
	}
	from := g.startUnix
	if h.p.anon {
		from = h.p.loginAt
		h.agenda = append(h.agenda, agendaEntry{at: h.p.loginAt, kind: doLogin})
	}
	if h.p.cardLinkAt != 0 {
		h.agenda = append(h.agenda, agendaEntry{at: h.p.cardLinkAt, kind: doCardLink})
	}
	for li, w := range h.leafW {
		if g.leaves[li].spec.repeat == 0 || w < 0.04 || h.r.Float64() >= min(0.7, w*5) {
			continue
		}
		h.agenda = append(h.agenda, agendaEntry{at: from + int64(h.r.Float64()*h.interval(int16(li))*86400), kind: doNeed, leaf: int16(li)})
	}
	slices.SortStableFunc(h.agenda, func(a, b agendaEntry) int { return cmp.Compare(a.at, b.at) })
}

// schedule adds an entry to the agenda in time order.
func (h *history) schedule(a agendaEntry) {
	i, _ := slices.BinarySearchFunc(h.agenda, a.at, func(e agendaEntry, t int64) int { return cmp.Compare(e.at, t) })
	h.agenda = slices.Insert(h.agenda, i, a)
}

// do carries out an agenda entry.
func (h *history) do(a agendaEntry) {
	g := h.g
	switch a.kind {
	case doLogin:
		if s := g.onlineStore(h.p, h.r); s >= 0 {
			h.login(a.at, s)
		}
		return
	case doCardLink:
		if s := g.offlineStore(h.p); s >= 0 {
			h.offline(a.at-300, s, -1, true)
		}
		return
	}
	at := a.at
	if a.kind == doNeed {
		at = h.rhythmic(at) // running out is any time; shopping for more is in their hours
	}
	t := max(at, h.cursor+120)
	if t >= g.endUnix {
		return
	}
	anon := h.p.anon && t < h.p.loginAt
	leaf := int16(-1)
	if a.kind == doNeed {
		leaf = a.leaf
	}
	// A visit needs an offline store, opening hours, and (for anonymous starters) an account
	// by then.
	off, ot := g.offlineStore(h.p), offlineHours(t)
	canVisit := off >= 0 && !anon && ot >= h.p.loginAt
	if canVisit && h.r.Float64() < h.offlineChance(t, a.kind == doNeed) {
		h.offline(ot, off, leaf, false)
		return
	}
	s := g.onlineStore(h.p, h.r)
	if s < 0 {
		if canVisit {
			h.offline(ot, off, leaf, false)
		}
		return
	}
	ss := session{at: t, store: s, ch: h.onlineChannel(), who: whoUser, leaf: leaf}
	if anon {
		ss.ch, ss.who = chApp, whoDevice
	}
	h.online(ss)
}

// login is the session in which an anonymous app user logs in: its first event carries
// both the device and the user id, at exactly the planned moment (Truth.Identities).
func (h *history) login(at int64, store int32) {
	seq := h.seq
	h.online(session{at: at, store: store, ch: chApp, who: whoDeviceUser, leaf: -1})
	if h.seq != seq {
		return
	}
	// Nothing caught their eye: they still opened an item of the shop.
	st := &h.g.stores[store]
	for _, e := range st.entries {
		if h.g.available(e.item, at) {
			s := session{at: at, store: store, ch: chApp, who: whoDeviceUser, loc: h.g.location(h.r, h.per, at)}
			h.put(&s, rawEvent{typ: evView, item: e.item})
			h.cursor = max(h.cursor, s.at)
			return
		}
	}
}

// rhythmic moves t to an hour of the same local day drawn from the persona's daily rhythm.
func (h *history) rhythmic(t int64) int64 {
	lt := localTime(t)
	wk := 0
	if wd := lt.Weekday(); wd == 0 || wd == 6 {
		wk = 1
	}
	midnight := t - int64(lt.Hour()*3600+lt.Minute()*60+lt.Second())
	return midnight + int64(pickCum(h.r, h.per.hourCum[wk]))*3600 + h.r.Int64N(3600)
}

// offlineChance is the chance that a session is a store visit: the persona's offline share,
// 1.6 times that at weekends, higher still when the consumer needs to rebuy something.
func (h *history) offlineChance(t int64, need bool) float64 {
	c := h.per.spec.channels
	p := c[chOffline]
	if wd := localTime(t).Weekday(); wd == 0 || wd == 6 {
		p *= 1.6
	}
	if need {
		p *= 1.3
	}
	return min(p, 0.9)
}

// offlineHours moves a moment outside opening hours (9:00–21:00) to later that day or, after
// closing, into the afternoon of the same day.
func offlineHours(t int64) int64 {
	lt := localTime(t)
	switch h := lt.Hour(); {
	case h < 9:
		return t + int64(9-h)*3600 + 600
	case h >= 21:
		return t - int64(h-15)*3600
	}
	return t
}

func (h *history) onlineChannel() uint8 {
	c := h.per.spec.channels
	return uint8(pick(h.r, c[:chOffline]))
}

// emit assigns the event its sequence number and hands it to the sink. Sequence numbers are
// assigned whether or not the sink keeps the event, so ids do not depend on the window.
func (h *history) emit(e rawEvent) {
	e.user, e.seq = h.u, h.seq
	h.seq++
	if e.at >= h.g.startUnix && e.at < h.g.endUnix && h.seq < 1<<24 {
		h.sink.add(&e)
	}
}

// fit is how well an item suits the consumer, in [0, 1]: interest in its category and
// liking for its price tier.
func (h *history) fit(item int32) float64 {
	it := &h.g.items[item]
	return 0.55*math.Min(1, 2*h.leafW[it.leaf]/h.maxLeaf) + 0.45*h.per.spec.tiers[it.tier]/h.maxTier
}
