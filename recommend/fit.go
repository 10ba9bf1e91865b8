package recommend

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/model"
)

// trainingCatalog is what fitting needs to know besides the events.
type trainingCatalog struct {
	itemCategory map[string]string // item id → category key
	storeRegion  map[string]string // store id → region
	optedOut     map[string]bool   // users who refused personalisation
	items        []*qianmian.Item  // the catalogue, for the learned model's item features
}

// fitter turns a stream of events into an artefact. The Trainer uses it with co-occurrence;
// the Engine uses it without, to serve popularity before the first model is trained.
type fitter struct {
	cfg       TrainerConfig
	now       int64
	cat       *trainingCatalog
	neighbors bool
	learn     bool // fit the learned model too (the trainer, unless Learn.Off)
	logger    *slog.Logger

	ds                             *model.DatasetBuilder
	storePop, regionPop, globalPop *model.PopularityCounter
	stores, regions, categories    *model.IDMap
	purchases                      []model.Purchase

	stats fitStats
}

// fitStats summarise a fit; they are published as the model's metrics.
type fitStats struct {
	Events          int      `json:"events"`
	ItemEvents      int      `json:"item_events"`
	OptedOutSkipped int      `json:"opted_out_skipped"`
	Subjects        int      `json:"subjects"`
	Items           int      `json:"items"`
	Interactions    int      `json:"interactions"`
	Neighbors       int      `json:"neighbors"`
	RebuyCategories []string `json:"rebuy_categories"`
	Seconds         float64  `json:"seconds"`
	// Learned is the learned model published ("" for none) and Validation how the
	// candidates did; both absent in the fast artefact.
	Learned    string       `json:"learned,omitempty"`
	Validation *learnReport `json:"validation,omitempty"`
}

func newFitter(cfg TrainerConfig, now time.Time, cat *trainingCatalog, neighbors bool) *fitter {
	pc := model.PopularityConfig{HalfLife: cfg.PopularityHalfLife, Now: now.Unix(), TopK: cfg.PopularityTopK}
	f := &fitter{
		cfg: cfg, now: now.Unix(), cat: cat, neighbors: neighbors, learn: neighbors && !cfg.Learn.Off,
		logger:     slog.New(slog.DiscardHandler),
		ds:         model.NewDatasetBuilder(),
		storePop:   model.NewPopularityCounter(pc),
		regionPop:  model.NewPopularityCounter(pc),
		globalPop:  model.NewPopularityCounter(pc),
		stores:     model.NewIDMap(0),
		regions:    model.NewIDMap(0),
		categories: model.NewIDMap(0),
	}
	if f.learn {
		// Every catalogue item gets an index, so the content part can recommend items
		// nobody has met yet.
		for _, it := range cat.items {
			f.ds.Items.Add(it.ID)
		}
	}
	return f
}

// add counts one event. Popularity counts everyone's events, as aggregates; the per-person
// parts (co-occurrence, repurchase) skip users who refused personalisation.
func (f *fitter) add(e *qianmian.Event) {
	f.stats.Events++
	w := f.cfg.Weights.Of(e)
	if w == 0 {
		return
	}
	f.stats.ItemEvents++
	at := e.OccurredAt.Unix()
	item := f.ds.Items.Add(e.ItemID)
	f.globalPop.Add(0, item, w, at)
	if e.StoreID != "" {
		f.storePop.Add(f.stores.Add(e.StoreID), item, w, at)
		if region, ok := f.cat.storeRegion[e.StoreID]; ok {
			f.regionPop.Add(f.regions.Add(region), item, w, at)
		}
	}
	subject := e.Subject()
	if subject == "" {
		return
	}
	if e.UserID != "" && f.cat.optedOut[e.UserID] {
		f.stats.OptedOutSkipped++
		return
	}
	u := f.ds.Users.Add(subject)
	f.ds.AddIndex(u, item, w, at)
	if e.Type == qianmian.EventPurchase {
		if key, ok := f.cat.itemCategory[e.ItemID]; ok {
			f.purchases = append(f.purchases, model.Purchase{User: u, Category: f.categories.Add(key), At: at})
		}
	}
}

// finish fits the models and returns the artefact.
func (f *fitter) finish(ctx context.Context) (*artefact, error) {
	d := f.ds.Build()
	f.stats.Subjects, f.stats.Items, f.stats.Interactions = d.NumUsers(), d.NumItems(), d.NumInteractions()
	a := &artefact{
		TrainedAt: f.now,
		Items:     d.Items, Stores: f.stores, Regions: f.regions, Categories: f.categories,
		StorePop: f.storePop.Popularity(), RegionPop: f.regionPop.Popularity(), GlobalPop: f.globalPop.Popularity(),
	}
	if f.neighbors {
		cfg := f.cfg.Neighbors
		cfg.Now = f.now
		a.Neighbors = &model.ItemKNN{Config: cfg}
		if err := a.Neighbors.Fit(ctx, d); err != nil {
			return nil, err
		}
		for i := range d.NumItems() {
			nbr, _ := a.Neighbors.Neighbors(int32(i))
			f.stats.Neighbors += len(nbr)
		}
	}
	rates, buyers := model.RepurchaseRates(f.purchases, f.categories.Len(), int64(f.cfg.RebuyMinGap.Seconds()))
	a.RebuyRates = rates
	f.stats.RebuyCategories = []string{}
	for c, r := range rates {
		if int(buyers[c]) >= f.cfg.RebuyMinBuyers && float64(r) >= f.cfg.RebuyThreshold {
			a.Rebuy = append(a.Rebuy, int32(c))
			f.stats.RebuyCategories = append(f.stats.RebuyCategories, f.categories.ID(int32(c)))
		}
	}
	if f.learn {
		features := itemFeatures(d.Items, f.cat.items)
		m, name, rep, err := f.fitLearned(ctx, d, features, f.repeatable(d, a.Rebuy))
		if err != nil {
			return nil, fmt.Errorf("learned model: %w", err)
		}
		a.Learned, a.LearnedName = m, name
		f.stats.Learned, f.stats.Validation = name, rep
	}
	return a, nil
}

// repeatable marks the items of d in rebuy categories.
func (f *fitter) repeatable(d *model.Dataset, rebuy []int32) []bool {
	out := make([]bool, d.NumItems())
	if len(rebuy) == 0 {
		return out
	}
	isRebuy := make([]bool, f.categories.Len())
	for _, c := range rebuy {
		isRebuy[c] = true
	}
	for i := range out {
		if c, ok := f.categories.Index(f.cat.itemCategory[d.Items.ID(int32(i))]); ok {
			out[i] = isRebuy[c]
		}
	}
	return out
}

// loadTrainingCatalog reads item categories, store regions and, when users is set, who
// refused personalisation.
func loadTrainingCatalog(ctx context.Context, items qianmian.ItemService, stores qianmian.StoreService, users qianmian.UserService) (*trainingCatalog, error) {
	tc := &trainingCatalog{itemCategory: map[string]string{}, storeRegion: map[string]string{}, optedOut: map[string]bool{}}
	err := pageAll(ctx, func(p qianmian.Page) ([]*qianmian.Item, error) {
		return items.FindItems(ctx, qianmian.ItemFilter{Page: p})
	}, func(it *qianmian.Item) string { return it.ID }, func(it *qianmian.Item) {
		tc.itemCategory[it.ID] = it.CategoryKey()
		tc.items = append(tc.items, it)
	})
	if err != nil {
		return nil, err
	}
	err = pageAll(ctx, func(p qianmian.Page) ([]*qianmian.Store, error) {
		return stores.FindStores(ctx, qianmian.StoreFilter{Page: p})
	}, func(s *qianmian.Store) string { return s.ID }, func(s *qianmian.Store) {
		tc.storeRegion[s.ID] = s.Region
	})
	if err != nil || users == nil {
		return tc, err
	}
	return tc, tc.readOptedOut(ctx, users)
}

// readOptedOut adds the users who refused personalisation to tc.optedOut, reading their
// ids alone rather than every user.
func (tc *trainingCatalog) readOptedOut(ctx context.Context, users qianmian.UserService) error {
	ids, err := users.FindRefusals(ctx, qianmian.PurposePersonalization)
	if err != nil {
		return err
	}
	for _, id := range ids {
		tc.optedOut[id] = true
	}
	return nil
}

// pageSize is the page size of catalogue listings.
const pageSize = 1000

// pageAll calls each for every entry of a cursor-paged listing, until an empty page.
func pageAll[T any](ctx context.Context, fetch func(qianmian.Page) ([]T, error), key func(T) string, each func(T)) error {
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, err := fetch(qianmian.Page{After: after, Limit: pageSize})
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, v := range page {
			each(v)
		}
		next := key(page[len(page)-1])
		if next == after {
			return nil // a listing that ignores the cursor: stop rather than loop
		}
		after = next
	}
}
