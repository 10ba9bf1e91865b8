package model

import (
	"cmp"
	"io"
	"slices"
	"time"
)

// PopularityConfig holds the parameters of time-decayed popularity.
type PopularityConfig struct {
	// HalfLife halves an interaction's weight for every HalfLife it lies before Now; 0
	// counts every interaction fully. A 7-day half-life reads as "popular this week".
	HalfLife time.Duration
	// Now is the moment decay is measured from, in Unix seconds.
	Now int64
	// TopK is the number of items kept per group; 0 keeps every item with a positive score.
	TopK int
}

// PopularityCounter accumulates time-decayed interaction weight per (group, item). A group
// is any dense key the caller chooses: 0 for global popularity, a store or region index for
// per-store or per-region popularity. Negative weights (returns) count against an item.
type PopularityCounter struct {
	Config PopularityConfig

	acc    map[uint64]float64
	groups int32
}

// NewPopularityCounter returns an empty counter.
func NewPopularityCounter(c PopularityConfig) *PopularityCounter {
	return &PopularityCounter{Config: c, acc: make(map[uint64]float64)}
}

// Add counts weight for item in group at time at (Unix seconds).
func (c *PopularityCounter) Add(group, item int32, weight float32, at int64) {
	if group < 0 || item < 0 {
		return
	}
	c.groups = max(c.groups, group+1)
	c.acc[uint64(group)<<32|uint64(uint32(item))] += float64(weight) * decay(c.Config.HalfLife, c.Config.Now, at)
}

// Popularity returns each group's items with a positive score, best first (ties by item),
// at most TopK per group.
func (c *PopularityCounter) Popularity() *Popularity {
	type entry struct {
		group, item int32
		score       float32
	}
	entries := make([]entry, 0, len(c.acc))
	for k, s := range c.acc {
		if s > 0 {
			entries = append(entries, entry{int32(k >> 32), int32(uint32(k)), float32(s)})
		}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if a.group != b.group {
			return cmp.Compare(a.group, b.group)
		}
		if a.score != b.score {
			return cmp.Compare(b.score, a.score)
		}
		return cmp.Compare(a.item, b.item)
	})
	p := &Popularity{Config: c.Config, ptr: make([]int32, c.groups+1)}
	for k := 0; k < len(entries); {
		g := entries[k].group
		kept := 0
		for ; k < len(entries) && entries[k].group == g; k++ {
			if c.Config.TopK > 0 && kept >= c.Config.TopK {
				continue
			}
			p.items = append(p.items, entries[k].item)
			p.scores = append(p.scores, entries[k].score)
			kept++
		}
		p.ptr[g+1] = int32(kept)
	}
	for g := int32(0); g < c.groups; g++ {
		p.ptr[g+1] += p.ptr[g]
	}
	return p
}

// Popularity is the fitted ranking of items per group.
type Popularity struct {
	Config PopularityConfig

	ptr    []int32
	items  []int32
	scores []float32
}

// NumGroups returns the number of groups (the highest group index counted, plus one).
func (p *Popularity) NumGroups() int { return max(len(p.ptr)-1, 0) }

// Top returns group g's items, best first, and their decayed scores. A group never counted
// has none. The slices alias p and must not be modified.
func (p *Popularity) Top(g int32) ([]int32, []float32) {
	if g < 0 || int(g) >= p.NumGroups() {
		return nil, nil
	}
	lo, hi := p.ptr[g], p.ptr[g+1]
	return p.items[lo:hi], p.scores[lo:hi]
}

const (
	popMagic   = "QMPOPUL\x00"
	popVersion = 1
)

// WriteTo writes the rankings as a versioned artefact.
func (p *Popularity) WriteTo(w io.Writer) (int64, error) {
	e := newEncoder(w)
	e.header(popMagic, popVersion)
	e.i64(int64(p.Config.HalfLife))
	e.i64(p.Config.Now)
	e.u32(uint32(p.Config.TopK))
	e.int32s(p.ptr)
	e.int32s(p.items)
	e.float32s(p.scores)
	return e.finish()
}

// ReadFrom replaces p with an artefact written by WriteTo, reading exactly its bytes.
func (p *Popularity) ReadFrom(r io.Reader) (int64, error) {
	d := newDecoder(r)
	d.header(popMagic, popVersion)
	var c PopularityConfig
	c.HalfLife = time.Duration(d.i64())
	c.Now = d.i64()
	c.TopK = int(d.u32())
	ptr, items, scores := d.int32s(), d.int32s(), d.float32s()
	if n, err := d.finish(); err != nil {
		return n, err
	}
	if err := checkCSR(ptr, len(items), len(scores)); err != nil {
		return d.n, err
	}
	p.Config, p.ptr, p.items, p.scores = c, ptr, items, scores
	return d.n, nil
}
