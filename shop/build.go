package shop

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/qianmian/qianmian"
)

// What a store is told, by the visitor's consent:
//
//	                     store_alerts off           store_alerts on, no          store_alerts and
//	                                                personalisation              personalisation
//	visitor.ref          yes (opaque)               yes                          yes
//	user_id, name        no                         yes                          yes
//	recently_viewed      none                       none                         last RecentItems
//	suggestions          the store's non-           the store's non-             ranked for the
//	                     personalised ranking       personalised ranking         visitor
//
// A visitor who has not consented is still announced, as "a member the platform knows",
// because that tells the store no more than its own door does; everything that would
// identify them or reveal their interests is left out.

// lookedAt lists the event types that count as having looked at an item.
var lookedAt = []qianmian.EventType{qianmian.EventView, qianmian.EventClick, qianmian.EventCart, qianmian.EventFavorite}

// viewed is an item the visitor looked at, and when they last did.
type viewed struct {
	itemID string
	at     time.Time
}

// build returns the alert of visit e by userID, or nil if the platform does not know the
// visitor (no online behaviour within LookBack).
func (a *Alerter) build(ctx context.Context, e *qianmian.Event, userID string, now time.Time) (*qianmian.StoreAlert, error) {
	online, recent, err := a.history(ctx, userID, now)
	if err != nil || !online {
		return nil, err
	}
	consent := qianmian.DefaultConsent()
	var name string
	u, err := a.Users.FindUserByID(ctx, userID)
	switch {
	case err == nil:
		consent, name = u.Consent, u.Name
	case qianmian.ErrorCode(err) != qianmian.ENOTFOUND:
		return nil, err
	}
	alert := &qianmian.StoreAlert{
		ID:             AlertID(e.ID),
		StoreID:        e.StoreID,
		EventID:        e.ID,
		VisitedAt:      e.OccurredAt,
		Visitor:        qianmian.Visitor{Ref: a.visitorRef(e.StoreID, userID)},
		RecentlyViewed: []qianmian.AlertItem{},
		Suggestions:    []qianmian.AlertItem{},
	}
	if consent.StoreAlerts {
		alert.Visitor.Consented, alert.Visitor.UserID, alert.Visitor.Name = true, userID, name
	}
	personal := consent.StoreAlerts && consent.Personalization
	if personal {
		for _, v := range recent {
			alert.RecentlyViewed = append(alert.RecentlyViewed, qianmian.AlertItem{ItemID: v.itemID, ViewedAt: v.at})
		}
	}
	if err := a.suggest(ctx, alert, e, userID, personal); err != nil {
		return nil, err
	}
	if err := a.describe(ctx, alert); err != nil {
		return nil, err
	}
	return alert, nil
}

// history reads the user's behaviour within LookBack: whether any of it was online, and
// the items they last looked at online, newest first.
func (a *Alerter) history(ctx context.Context, userID string, now time.Time) (online bool, recent []viewed, err error) {
	last := make(map[string]time.Time)
	for ev, err := range a.Events.ScanEvents(ctx, qianmian.EventFilter{UserID: userID, Since: now.Add(-a.cfg.LookBack)}) {
		if err != nil {
			return false, nil, err
		}
		if ev.Channel == qianmian.ChannelOffline {
			continue
		}
		online = true
		if ev.ItemID != "" && slices.Contains(lookedAt, ev.Type) && ev.OccurredAt.After(last[ev.ItemID]) {
			last[ev.ItemID] = ev.OccurredAt
		}
	}
	for id, at := range last {
		recent = append(recent, viewed{id, at})
	}
	slices.SortFunc(recent, func(x, y viewed) int {
		if c := y.at.Compare(x.at); c != 0 {
			return c
		}
		return cmp.Compare(x.itemID, y.itemID)
	})
	if len(recent) > a.cfg.RecentItems {
		recent = recent[:a.cfg.RecentItems]
	}
	return online, recent, nil
}

// suggest fills the alert's suggestions from the store's ranking: for the visitor when
// personal, else the store's own. A ranking that fails leaves them empty: an alert without
// suggestions is better than none.
func (a *Alerter) suggest(ctx context.Context, alert *qianmian.StoreAlert, e *qianmian.Event, userID string, personal bool) error {
	if a.Recommender == nil {
		return nil
	}
	req := qianmian.RecommendRequest{
		StoreID: e.StoreID,
		N:       a.cfg.Suggestions,
		Context: qianmian.RequestContext{
			Channel: qianmian.ChannelOffline, LocationType: qianmian.LocationStore, At: e.OccurredAt,
		},
	}
	if personal {
		req.UserID = userID
	}
	rec, err := a.Recommender.Recommend(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a.Logger.Warn("shop: no suggestions for a store alert", "store_id", e.StoreID, "err", err)
		return nil
	}
	for _, it := range rec.Items {
		s := qianmian.AlertItem{ItemID: it.ItemID}
		if personal {
			s.Reasons = it.Reasons // reasons may speak of the visitor's history
		}
		alert.Suggestions = append(alert.Suggestions, s)
	}
	alert.Personalized = personal && rec.Personalized
	return nil
}

// describe gives the alert's items their titles, drops recently viewed items no longer in
// the catalogue, and marks those in stock at the store.
func (a *Alerter) describe(ctx context.Context, alert *qianmian.StoreAlert) error {
	var ids []string
	for _, it := range alert.RecentlyViewed {
		ids = append(ids, it.ItemID)
	}
	for _, it := range alert.Suggestions {
		ids = append(ids, it.ItemID)
	}
	if len(ids) == 0 {
		return nil
	}
	items, err := a.Items.FindItems(ctx, qianmian.ItemFilter{IDs: ids})
	if err != nil {
		return fmt.Errorf("titles of alert items: %w", err)
	}
	titles := make(map[string]string, len(items))
	for _, it := range items {
		titles[it.ID] = it.Title
	}
	recent := alert.RecentlyViewed[:0]
	for _, it := range alert.RecentlyViewed {
		title, ok := titles[it.ItemID]
		if !ok {
			continue
		}
		it.Title = title
		if a.Assortments != nil {
			yes := true
			entries, err := a.Assortments.FindAssortments(ctx, qianmian.AssortmentFilter{
				StoreID: alert.StoreID, ItemID: it.ItemID, InStock: &yes, Page: qianmian.Page{Limit: 1},
			})
			if err != nil {
				return fmt.Errorf("stock of alert items: %w", err)
			}
			it.InStockHere = len(entries) > 0
		}
		recent = append(recent, it)
	}
	alert.RecentlyViewed = recent
	for i := range alert.Suggestions {
		alert.Suggestions[i].Title = titles[alert.Suggestions[i].ItemID]
	}
	return nil
}
