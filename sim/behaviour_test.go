package sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

// TestBehaviour_Personas checks that personas drive what consumers look at.
func TestBehaviour_Personas(t *testing.T) {
	w, events := mustBehaviour(t)
	items := itemsByID(w)
	seen := map[string]map[string]int{} // persona → category → item events
	total := map[string]int{}
	for _, e := range events {
		p := w.Truth.PersonaOf(e.UserID)
		if e.ItemID == "" || p == "" {
			continue
		}
		if seen[p] == nil {
			seen[p] = map[string]int{}
		}
		seen[p][items[e.ItemID].CategoryKey()]++
		total[p]++
	}
	share := func(persona, prefix string) float64 {
		n := 0
		for k, c := range seen[persona] {
			if hasPrefix(k, prefix) {
				n += c
			}
		}
		return float64(n) / float64(max(total[persona], 1))
	}
	for _, tt := range []struct {
		prefix    string
		high, low string
		minHigh   float64
		minRatio  float64
	}{
		{"beauty/fragrance/perfume", "white_collar_woman", "gamer", 0.08, 5},
		{"electronics/gaming", "gamer", "white_collar_woman", 0.25, 5},
		{"baby", "young_parent", "student", 0.2, 5},
		{"books/textbook", "student", "retiree", 0.08, 5},
		{"health", "retiree", "gamer", 0.15, 4},
		{"sports", "fitness_enthusiast", "young_parent", 0.15, 4},
	} {
		hi, lo := share(tt.high, tt.prefix), share(tt.low, tt.prefix)
		t.Logf("%s: %s %.3f, %s %.3f", tt.prefix, tt.high, hi, tt.low, lo)
		if hi < tt.minHigh || hi < tt.minRatio*lo {
			t.Errorf("%s: %s share %.3f, %s share %.3f: want at least %.2f and %g times more", tt.prefix, tt.high, hi, tt.low, lo, tt.minHigh, tt.minRatio)
		}
	}
}

// TestBehaviour_Repeat checks that consumers rebuy repeat categories more than others.
func TestBehaviour_Repeat(t *testing.T) {
	w, events := mustBehaviour(t)
	items := itemsByID(w)
	type key struct{ subject, category string }
	bought := map[key]int{}
	for _, e := range events {
		if e.Type == qianmian.EventPurchase {
			bought[key{e.Subject(), items[e.ItemID].CategoryKey()}]++
		}
	}
	var pairs, again [2]int // [other, repeat]
	for k, n := range bought {
		r := b2i(w.Truth.IsRepeatCategory(k.category))
		pairs[r]++
		if n >= 2 {
			again[r]++
		}
	}
	other, repeat := float64(again[0])/float64(pairs[0]), float64(again[1])/float64(pairs[1])
	t.Logf("bought again: repeat categories %.3f of %d, others %.3f of %d", repeat, pairs[1], other, pairs[0])
	if repeat < 0.25 || repeat < 3*other {
		t.Errorf("bought again: repeat categories %.3f, others %.3f", repeat, other)
	}
}

// TestBehaviour_Rhythm checks the weekly and daily rhythm in local (China) time.
func TestBehaviour_Rhythm(t *testing.T) {
	w, events := mustBehaviour(t)
	china := time.FixedZone("CST", 8*3600)
	first := w.Truth.Start.In(china).AddDate(0, 0, 1)
	first = time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, china)
	last := w.Truth.End.In(china)
	last = time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, china) // exclusive: partial day
	perDay := map[time.Time]int{}
	visits := map[time.Time]int{}
	byHour := make([]int, 24)
	for _, e := range events {
		lt := e.OccurredAt.In(china)
		byHour[lt.Hour()]++
		d := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, china)
		if d.Before(first) || !d.Before(last) {
			continue
		}
		perDay[d]++
		if e.Type == qianmian.EventVisit {
			visits[d]++
		}
	}
	mean := func(m map[time.Time]int, weekend bool) float64 {
		sum, n := 0, 0
		for d := first; d.Before(last); d = d.AddDate(0, 0, 1) {
			if wd := d.Weekday(); (wd == time.Saturday || wd == time.Sunday) == weekend {
				sum += m[d]
				n++
			}
		}
		return float64(sum) / float64(n)
	}
	we, wd := mean(perDay, true), mean(perDay, false)
	vwe, vwd := mean(visits, true), mean(visits, false)
	t.Logf("events per day: weekend %.0f, weekday %.0f; visits: weekend %.0f, weekday %.0f", we, wd, vwe, vwd)
	if we < 1.1*wd {
		t.Errorf("events per weekend day %.0f, weekday %.0f: want weekends busier", we, wd)
	}
	if vwe < 1.3*vwd {
		t.Errorf("store visits per weekend day %.0f, weekday %.0f: want weekends busier", vwe, vwd)
	}
	night := byHour[3] + byHour[4] + byHour[5]
	evening := byHour[20] + byHour[21] + byHour[22]
	if night*10 > evening {
		t.Errorf("events 3–6h %d, 20–23h %d: want evenings far busier", night, evening)
	}
}

// TestBehaviour_Identities checks anonymous devices and membership cards against the truth.
func TestBehaviour_Identities(t *testing.T) {
	w, events := mustBehaviour(t)
	owner := map[string]string{}
	linkedAt := map[string]time.Time{}
	for _, id := range w.Truth.Identities {
		owner[id.Identity.Key()] = id.UserID
		if id.LinkedAt != nil {
			linkedAt[id.Identity.Key()] = *id.LinkedAt
		}
	}
	firstBoth := map[string]time.Time{}
	var anonDevice, cardOnly, cardUser int
	anonDevices := map[string]bool{}
	for _, e := range events {
		if e.Identity == nil {
			continue
		}
		k := e.Identity.Key()
		if owner[k] == "" {
			t.Fatalf("event %s: identity %s is not in the truth", e.ID, k)
		}
		switch {
		case e.UserID != "":
			if e.UserID != owner[k] {
				t.Fatalf("event %s links %s to %s, truth says %s", e.ID, k, e.UserID, owner[k])
			}
			if _, ok := firstBoth[k]; !ok {
				firstBoth[k] = e.OccurredAt
			}
			cardUser += b2i(e.Identity.Type == qianmian.IdentityMembership)
		case e.Identity.Type == qianmian.IdentityDevice:
			anonDevice++
			anonDevices[k] = true
			if at, ok := linkedAt[k]; ok && !e.OccurredAt.Before(at) {
				t.Fatalf("event %s: anonymous device %s at %v, after its login at %v", e.ID, k, e.OccurredAt, at)
			}
			if e.Channel != qianmian.ChannelApp {
				t.Fatalf("event %s: device identity in channel %s", e.ID, e.Channel)
			}
		default:
			cardOnly++
		}
	}
	for k, at := range linkedAt {
		if !firstBoth[k].Equal(at) {
			t.Errorf("identity %s: truth links it at %v, first event with both at %v", k, at, firstBoth[k])
		}
	}
	t.Logf("%d anonymous device events from %d devices, %d card-only events, %d card+user events", anonDevice, len(anonDevices), cardOnly, cardUser)
	if len(anonDevices) < len(w.Users)/10 || cardOnly == 0 || cardUser == 0 {
		t.Errorf("%d anonymous devices, %d card-only events, %d card+user events", len(anonDevices), cardOnly, cardUser)
	}
}

// TestBehaviour_Unmet checks that a few searches ask for what the catalogue lacks.
func TestBehaviour_Unmet(t *testing.T) {
	w, events := mustBehaviour(t)
	unmet := map[string]bool{}
	for _, u := range w.Truth.UnmetQueries {
		unmet[u.Query] = true
		for _, it := range w.Items {
			if strings.Contains(strings.ToLower(it.Title), u.Query) || strings.Contains(it.CategoryKey(), u.Category) {
				t.Fatalf("unmet query %q matches item %s %q", u.Query, it.ID, it.Title)
			}
		}
	}
	searches, misses := 0, 0
	for _, e := range events {
		if e.Type == qianmian.EventSearch {
			searches++
			misses += b2i(unmet[e.Query])
		}
	}
	share := float64(misses) / float64(searches)
	t.Logf("%d of %d searches unmet (%.3f)", misses, searches, share)
	if share < 0.03 || share > 0.07 {
		t.Errorf("unmet share of searches %.3f, want about 0.05", share)
	}
}

// TestBehaviour_Trends checks that trending items rise in their region only.
func TestBehaviour_Trends(t *testing.T) {
	w, events := mustBehaviour(t)
	region := map[string]string{}
	for _, s := range w.Stores {
		region[s.ID] = s.Region
	}
	if len(w.Truth.Trends) != w.Config.Trends {
		t.Fatalf("%d trends, want %d", len(w.Truth.Trends), w.Config.Trends)
	}
	for _, tr := range w.Truth.Trends {
		span := w.Truth.End.Sub(tr.Start)
		var before, during, elsewhere int
		for _, e := range events {
			if e.ItemID != tr.ItemID || e.OccurredAt.Before(tr.Start.Add(-span)) {
				continue
			}
			switch {
			case region[e.StoreID] != tr.Region:
				elsewhere += b2i(!e.OccurredAt.Before(tr.Start))
			case e.OccurredAt.Before(tr.Start):
				before++
			default:
				during++
			}
		}
		t.Logf("trend %s (%s) in %s: %d events before, %d during, %d elsewhere during", tr.ItemID, tr.Title, tr.Region, before, during, elsewhere)
		if during < 3*(before+1) || during < 3*elsewhere {
			t.Errorf("trend %s: %d before, %d during, %d elsewhere", tr.ItemID, before, during, elsewhere)
		}
	}
}

// TestTruth_Sample checks the ids the demo shows.
func TestTruth_Sample(t *testing.T) {
	w, events := mustBehaviour(t)
	s := w.Truth.Sample
	stores := map[string]*qianmian.Store{}
	for _, st := range w.Stores {
		stores[st.ID] = st
	}
	a, b := stores[s.StoreID], stores[s.OtherStoreID]
	if a == nil || b == nil || a.Region == b.Region || a.Channel == qianmian.StoreOffline || b.Channel == qianmian.StoreOffline {
		t.Fatalf("sample stores %+v and %+v", a, b)
	}
	supplied := 0
	items := itemsByID(w)
	for _, as := range w.Assortments {
		if as.StoreID == s.StoreID && items[as.ItemID].SupplierID == s.SupplierID {
			supplied++
		}
	}
	var user *qianmian.User
	for _, u := range w.Users {
		if u.ID == s.UserID {
			user = u
		}
	}
	if supplied == 0 || user == nil || !user.Consent.Personalization {
		t.Fatalf("supplier %s has %d items in %s; user %+v", s.SupplierID, supplied, s.StoreID, user)
	}
	n, cats := 0, map[string]bool{}
	for _, e := range events {
		if e.UserID == s.UserID && e.StoreID == s.StoreID {
			n++
			if e.ItemID != "" {
				cats[items[e.ItemID].CategoryKey()] = true
			}
		}
	}
	t.Logf("sample user %s: %d events in %d categories at %s", s.UserID, n, len(cats), s.StoreID)
	if n < 50 {
		t.Errorf("sample user %s has %d events at %s, want plenty", s.UserID, n, s.StoreID)
	}
}
