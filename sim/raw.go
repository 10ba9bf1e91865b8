package sim

import (
	"strconv"
	"strings"
	"time"

	"github.com/qianmian/qianmian"
)

// rawEvent is an event in compact form: indexes instead of strings, about 40 bytes, so that
// a large world's history can be sorted in memory window by window. Events materialises it.
type rawEvent struct {
	at     int64  // unix seconds
	user   int32  // consumer index
	seq    uint32 // the consumer's event number: with user, the event id
	item   int32  // -1: none
	store  int32
	qa     int32 // query and text details, by qkind
	qb, qc int16
	typ    uint8 // index in eventTypes
	ch     uint8 // index in channels
	loc    uint8 // index in locations
	who    uint8
	qty    uint8
	rating uint8
	geo    uint8
	qkind  uint8
}

// Event types, channels and location types by compact index.
const (
	evView uint8 = iota
	evSearch
	evClick
	evCart
	evFavorite
	evPurchase
	evReturn
	evReview
	evVisit
)

func eventTypes() [9]qianmian.EventType {
	return [9]qianmian.EventType{qianmian.EventView, qianmian.EventSearch, qianmian.EventClick, qianmian.EventCart,
		qianmian.EventFavorite, qianmian.EventPurchase, qianmian.EventReturn, qianmian.EventReview, qianmian.EventVisit}
}

const (
	chApp uint8 = iota
	chMini
	chWeb
	chOffline
)

func channels() [4]qianmian.Channel {
	return [4]qianmian.Channel{qianmian.ChannelApp, qianmian.ChannelMiniProgram, qianmian.ChannelWeb, qianmian.ChannelOffline}
}

const (
	locHome uint8 = iota
	locOffice
	locMall
	locTransit
	locUnknown
	locStore
)

func locations() [6]qianmian.LocationType {
	return [6]qianmian.LocationType{qianmian.LocationHome, qianmian.LocationOffice, qianmian.LocationMall,
		qianmian.LocationTransit, qianmian.LocationUnknown, qianmian.LocationStore}
}

// Who an event names.
const (
	whoUser       uint8 = iota
	whoDevice           // anonymous app device only
	whoDeviceUser       // device and user: the login that links them
	whoCard             // membership card only
	whoCardUser         // card and user: links them
)

// Where an event's geo point comes from.
const (
	geoNone uint8 = iota
	geoHome
	geoOffice
	geoStore
)

// What qa, qb and qc mean.
const (
	qNone   uint8 = iota
	qTerm         // qa leaf, qb term
	qBrand        // qa leaf, qb term, qc brand
	qDesc         // qa leaf, qb term, qc descriptor
	qUnmet        // qa unmet query
	qTrend        // qa item
	qReview       // qb review text variant
)

func localTime(t int64) time.Time { return time.Unix(t, 0).In(china) }

// eventID returns the event's id: a keyed bijection of (user, seq), so ids are unique,
// stable, and say nothing about who did what.
func (g *generator) eventID(user int32, seq uint32) string {
	x := mix64(mix64(g.cfg.Seed^0xe7e47) ^ (uint64(user)<<24 | uint64(seq)))
	b := make([]byte, 0, 19)
	b = append(b, "ev-"...)
	s := strconv.FormatUint(x, 16)
	for range 16 - len(s) {
		b = append(b, '0')
	}
	return string(append(b, s...))
}

// event materialises a compact event.
func (g *generator) event(r *rawEvent) *qianmian.Event {
	e := &qianmian.Event{
		ID:         g.eventID(r.user, r.seq),
		Type:       eventTypes()[r.typ],
		StoreID:    g.storeIDs[r.store],
		Channel:    channels()[r.ch],
		Context:    qianmian.EventContext{LocationType: locations()[r.loc]},
		OccurredAt: time.Unix(r.at, 0).UTC(),
	}
	switch r.who {
	case whoUser:
		e.UserID = g.userIDs[r.user]
	case whoDevice, whoDeviceUser:
		ref := g.deviceRef(r.user)
		e.Identity = &ref
	case whoCard, whoCardUser:
		ref := g.cardRef(r.user)
		e.Identity = &ref
	}
	if r.who == whoDeviceUser || r.who == whoCardUser {
		e.UserID = g.userIDs[r.user]
	}
	if r.item >= 0 {
		e.ItemID = g.itemIDs[r.item]
	}
	if r.typ == evPurchase || r.typ == evReturn {
		st := &g.stores[r.store]
		e.Quantity = int(r.qty)
		e.Amount = roundCents(float64(r.qty) * st.entries[st.entry(r.item)].price)
	}
	if r.ch == chApp {
		e.Context.Device = g.devices[int(hash01(g.cfg.Seed, uint64(r.user))*float64(len(g.devices)))]
	}
	e.Context.Geo = g.geo(r)
	e.Rating = int(r.rating)
	if r.qkind == qReview {
		e.Text = g.reviews[r.rating-1][r.qb]
	} else if r.qkind != qNone {
		e.Query = g.query(r)
	}
	return e
}

// geo returns the event's position: the store for offline events, the consumer's home or
// office (a fixed point near their home store's city) for some app events.
func (g *generator) geo(r *rawEvent) *qianmian.GeoPoint {
	var base qianmian.GeoPoint
	var spread float64
	key := uint64(r.user) * 8
	switch r.geo {
	case geoStore:
		p := g.stores[r.store].geo
		return &p
	case geoHome:
		base, spread = g.stores[g.users[r.user].home].geo, 0.03
	case geoOffice:
		c := g.stores[g.users[r.user].home].city
		base, spread, key = qianmian.GeoPoint{Lat: c.lat, Lon: c.lon}, 0.05, key+4
	default:
		return nil
	}
	lat := base.Lat + spread*(2*hash01(g.cfg.Seed, key+1)-1)
	lon := base.Lon + spread*(2*hash01(g.cfg.Seed, key+2)-1)
	return &qianmian.GeoPoint{Lat: float64(int64(lat*1e5)) / 1e5, Lon: float64(int64(lon*1e5)) / 1e5}
}

// query renders a search query.
func (g *generator) query(r *rawEvent) string {
	switch r.qkind {
	case qUnmet:
		return g.unmet[r.qa].query
	case qTrend:
		it := &g.items[r.qa]
		spec := &g.leaves[it.leaf].spec
		return strings.ToLower(g.brands[it.brand].name + " " + spec.desc.values[it.desc] + " " + spec.types[it.typ])
	}
	spec := &g.leaves[r.qa].spec
	term := spec.terms[r.qb]
	switch r.qkind {
	case qBrand:
		return strings.ToLower(g.brands[r.qc].name) + " " + term
	case qDesc:
		return strings.ToLower(spec.desc.values[r.qc]) + " " + term
	}
	return term
}
