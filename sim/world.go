package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/qianmian/qianmian"
)

// World is a generated S2b2c world. The entity slices are ready to load in that order
// (suppliers, stores, items, assortments, users); the events are produced on demand by
// Events, because a large world's history does not fit in memory.
type World struct {
	Config      Config
	Suppliers   []*qianmian.Supplier
	Stores      []*qianmian.Store
	Items       []*qianmian.Item
	Assortments []*qianmian.Assortment // ordered by store, then item
	Users       []*qianmian.User
	Truth       *Truth

	g *generator
}

// china is the local time of every store and consumer: rhythms are in local hours.
var china = time.FixedZone("CST", 8*3600)

// generator holds the compact, index-based form of the world that histories are generated
// from. It is read-only once Generate returns, so histories can be generated concurrently.
type generator struct {
	cfg                Config
	start, end         time.Time
	startUnix, endUnix int64
	days               []day

	leaves   []leafInfo
	brands   []brandInfo
	personas []personaInfo
	items    []itemInfo
	stores   []storeInfo
	users    []userPlan
	trends   []trendInfo
	unmet    []unmetSpec
	reviews  [5][]string
	devices  []string

	// ids of entities by index, shared by every event that names them.
	itemIDs, storeIDs, userIDs []string
}

// day is a local calendar day overlapping the history.
type day struct {
	midnight int64 // unix seconds of local midnight
	weekend  bool
}

// Generate builds the world described by cfg. The same cfg always gives the same world.
func Generate(cfg Config) (*World, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &generator{cfg: cfg, reviews: reviewTexts(), devices: devices(), unmet: unmetSpecs()}
	g.end = cfg.End.UTC()
	g.start = g.end.Add(-time.Duration(cfg.Weeks) * 7 * 24 * time.Hour)
	g.startUnix, g.endUnix = g.start.Unix(), g.end.Unix()
	if g.end.After(g.end.Truncate(time.Second)) {
		g.endUnix++ // events are whole seconds strictly before End
	}
	g.buildDays()
	g.buildLeaves()
	g.buildPersonas()
	w := &World{Config: cfg, g: g}
	w.Suppliers = g.buildBrands(newRand(cfg.Seed, streamCatalog))
	w.Items = g.buildItems(newRand(cfg.Seed, streamCatalog+100))
	g.pickTrends(newRand(cfg.Seed, streamTruth))
	w.Stores, w.Assortments = g.buildStores(newRand(cfg.Seed, streamStores))
	w.Users = g.buildUsers(newRand(cfg.Seed, streamUsers))
	w.Truth = g.truth(w)
	return w, nil
}

func (g *generator) buildDays() {
	first := g.start.In(china)
	d := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, china)
	for ; d.Unix() < g.endUnix; d = d.AddDate(0, 0, 1) {
		wd := d.Weekday()
		g.days = append(g.days, day{midnight: d.Unix(), weekend: wd == time.Saturday || wd == time.Sunday})
	}
}

// leafInfo is a leaf category with the catalogue items in it.
type leafInfo struct {
	spec  leafSpec
	path  []string
	group string // first two levels
	items []int32
}

func (g *generator) buildLeaves() {
	for _, s := range leafSpecs() {
		path := strings.Split(s.key, "/")
		g.leaves = append(g.leaves, leafInfo{spec: s, path: path, group: path[0] + "/" + path[1]})
	}
}

// id formats an entity id with a zero-padded number wide enough for n entities, so that ids
// sort in generation order.
func id(prefix string, i, n int) string {
	w := len(fmt.Sprint(n))
	return fmt.Sprintf("%s-%0*d", prefix, max(w, 3), i+1)
}
