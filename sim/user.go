package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/qianmian/qianmian"
)

// userPlan is what is decided about a consumer before their history is generated.
type userPlan struct {
	persona      uint8
	anon, card   bool
	home, second int32 // store indexes; second is -1 when there is none
	activity     float64
	loginAt      int64 // anonymous consumers: when they log in and link their device
	cardLinkAt   int64 // card holders: the offline purchase that links card and user (0: never)
}

// onlineStore and offlineStore return the consumer's store for the channel, or -1.
func (g *generator) onlineStore(p *userPlan, r *rand.Rand) int32 {
	h := g.stores[p.home].online
	s := p.second >= 0 && g.stores[p.second].online
	switch {
	case h && s:
		if r.Float64() < 0.8 {
			return p.home
		}
		return p.second
	case h:
		return p.home
	case s:
		return p.second
	}
	return -1
}

func (g *generator) hasOnline(p *userPlan) bool {
	return g.stores[p.home].online || p.second >= 0 && g.stores[p.second].online
}

func (g *generator) offlineStore(p *userPlan) int32 {
	switch {
	case g.stores[p.home].offline:
		return p.home
	case p.second >= 0 && g.stores[p.second].offline:
		return p.second
	}
	return -1
}

// buildUsers draws consumers: a home store (by store size), a persona from that store's
// audience, sometimes a second store in the region, an activity level with a heavy tail,
// and whether they start anonymous or hold a membership card.
func (g *generator) buildUsers(r *rand.Rand) []*qianmian.User {
	sw := make([]float64, len(g.stores))
	for i, s := range g.stores {
		sw[i] = s.size
	}
	storeCum := cumulative(sw)
	g.users = make([]userPlan, g.cfg.Users)
	var onlineOK, offlineOK int
	for i := range g.users {
		p := &g.users[i]
		p.home = int32(pickCum(r, storeCum))
		p.persona = uint8(pick(r, g.stores[p.home].mix))
		p.second = g.secondStore(r, p)
		const sigma = 1.0
		p.activity = math.Exp(sigma*r.NormFloat64() - sigma*sigma/2)
		if g.hasOnline(p) {
			onlineOK++
		}
		if g.offlineStore(p) >= 0 {
			offlineOK++
		}
	}
	anonP := g.cfg.AnonymousShare * float64(g.cfg.Users) / float64(max(onlineOK, 1))
	cardP := g.cfg.CardShare * float64(g.cfg.Users) / float64(max(offlineOK, 1))
	h := g.endUnix - g.startUnix
	users := make([]*qianmian.User, len(g.users))
	for i := range g.users {
		p := &g.users[i]
		per := &g.personas[p.persona]
		if g.hasOnline(p) && r.Float64() < anonP {
			p.loginAt, p.anon = g.sampleTime(r, per, g.startUnix+h*15/100, g.startUnix+h*70/100, false)
		}
		if g.offlineStore(p) >= 0 && r.Float64() < cardP {
			p.card = true
			if r.Float64() < 0.8 {
				lo := g.startUnix + h/10
				if p.anon {
					lo = max(lo, p.loginAt+3600) // no purchase under their id before they sign up
				}
				p.cardLinkAt, _ = g.sampleTime(r, per, lo, g.endUnix-7200, true)
			}
		}
		g.userIDs = append(g.userIDs, id("user", i, g.cfg.Users))
		users[i] = g.userEntity(r, i)
	}
	return users
}

// secondStore draws another store in the home store's region that suits the persona, for
// 30% of consumers.
func (g *generator) secondStore(r *rand.Rand, p *userPlan) int32 {
	if r.Float64() >= 0.3 {
		return -1
	}
	home := &g.stores[p.home]
	w := make([]float64, len(g.stores))
	for i, s := range g.stores {
		if int32(i) != p.home && s.region == home.region {
			w[i] = s.size * s.mix[p.persona]
		}
	}
	return int32(pick(r, w))
}

// userEntity renders consumer i: declared attributes for 55%, personal fields for 60%,
// consent (5% opted out of personalisation, 40% agreed to marketing).
func (g *generator) userEntity(r *rand.Rand, i int) *qianmian.User {
	p := &g.users[i]
	per := &g.personas[p.persona].spec
	home := &g.stores[p.home]
	female := r.Float64() < per.female
	u := &qianmian.User{
		ID: g.userIDs[i],
		Consent: qianmian.Consent{
			Personalization: r.Float64() >= 0.05,
			Marketing:       r.Float64() < 0.40,
			Analytics:       r.Float64() >= 0.03,
		},
	}
	if r.Float64() < 0.55 {
		u.Gender = qianmian.GenderMale
		if female {
			u.Gender = qianmian.GenderFemale
		}
		u.BirthYear = g.end.In(china).Year() - per.minAge - r.IntN(per.maxAge-per.minAge+1)
		u.City = home.city.name
	}
	if r.Float64() < 0.6 {
		area := home.city.areas[r.IntN(len(home.city.areas))]
		sn, gn := surnames(), givenNames(female)
		u.Name = sn[r.IntN(len(sn))] + gn[r.IntN(len(gn))]
		pp := phonePrefixes()
		u.Phone = fmt.Sprintf("%s%08d", pp[r.IntN(len(pp))], r.IntN(100000000))
		u.Address = fmt.Sprintf("%s%s%s%d号%d栋%d室", home.city.zh, area.zh, area.street, 1+r.IntN(800), 1+r.IntN(30), 101+r.IntN(30)*100+r.IntN(6))
	}
	created := g.startUnix - int64(between(r, 7, 3*365)*86400)
	if p.anon {
		created = p.loginAt // they sign up when they log in
	}
	u.CreatedAt = time.Unix(created, 0).UTC()
	u.UpdatedAt = time.Unix(max(created, g.startUnix-86400), 0).UTC()
	return u
}
