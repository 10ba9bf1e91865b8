package model

import (
	"cmp"
	"slices"
)

// Dataset is a user × item interaction matrix in compressed sparse rows: for every user the
// distinct items they interacted with, each with the summed weight of its interactions and
// the time of the latest one. Weights may be negative (a return, a bad review). Rows are
// sorted by item. Build one with a DatasetBuilder.
type Dataset struct {
	// Users and Items map string ids to the dense indexes the matrix uses.
	Users *IDMap
	Items *IDMap

	ptr     []int64 // row u is [ptr[u], ptr[u+1])
	items   []int32
	weights []float32
	times   []int64
}

// NumUsers returns the number of users (rows).
func (d *Dataset) NumUsers() int { return len(d.ptr) - 1 }

// NumItems returns the number of items (columns).
func (d *Dataset) NumItems() int { return d.Items.Len() }

// NumInteractions returns the number of distinct (user, item) pairs.
func (d *Dataset) NumInteractions() int { return len(d.items) }

// Row returns user u's items, their weights and latest times. The slices alias the dataset
// and must not be modified.
func (d *Dataset) Row(u int32) (items []int32, weights []float32, times []int64) {
	lo, hi := d.ptr[u], d.ptr[u+1]
	return d.items[lo:hi], d.weights[lo:hi], d.times[lo:hi]
}

// DatasetBuilder collects interactions and builds a Dataset. Users and Items may be set
// before the first Add to share an id space with other artefacts.
type DatasetBuilder struct {
	Users *IDMap
	Items *IDMap

	users   []int32
	items   []int32
	weights []float32
	times   []int64
}

// NewDatasetBuilder returns a builder with empty id maps.
func NewDatasetBuilder() *DatasetBuilder {
	return &DatasetBuilder{Users: NewIDMap(0), Items: NewIDMap(0)}
}

// Add records one interaction of user with item at time at (Unix seconds) and returns their
// indexes.
func (b *DatasetBuilder) Add(user, item string, weight float32, at int64) (u, i int32) {
	u, i = b.Users.Add(user), b.Items.Add(item)
	b.AddIndex(u, i, weight, at)
	return u, i
}

// AddIndex records an interaction by index; u and i must come from b.Users and b.Items.
func (b *DatasetBuilder) AddIndex(u, i int32, weight float32, at int64) {
	b.users = append(b.users, u)
	b.items = append(b.items, i)
	b.weights = append(b.weights, weight)
	b.times = append(b.times, at)
}

// Len returns the number of interactions recorded.
func (b *DatasetBuilder) Len() int { return len(b.users) }

// Build returns the dataset: interactions grouped by user (a counting sort, O(n)), each row
// sorted by item, and repeated (user, item) pairs merged: weights summed, the latest time
// kept. Build releases the builder's buffers; the dataset shares its id maps.
func (b *DatasetBuilder) Build() *Dataset {
	nu := b.Users.Len()
	ptr := make([]int64, nu+1)
	for _, u := range b.users {
		ptr[u+1]++
	}
	for u := 0; u < nu; u++ {
		ptr[u+1] += ptr[u]
	}
	type entry struct {
		item int32
		w    float32
		at   int64
	}
	grouped := make([]entry, len(b.users))
	next := slices.Clone(ptr[:nu])
	for k, u := range b.users {
		grouped[next[u]] = entry{b.items[k], b.weights[k], b.times[k]}
		next[u]++
	}
	d := &Dataset{
		Users:   b.Users,
		Items:   b.Items,
		ptr:     make([]int64, nu+1),
		items:   make([]int32, 0, len(grouped)),
		weights: make([]float32, 0, len(grouped)),
		times:   make([]int64, 0, len(grouped)),
	}
	for u := 0; u < nu; u++ {
		row := grouped[ptr[u]:ptr[u+1]]
		// Stable, so equal items keep insertion order and sums are reproducible.
		slices.SortStableFunc(row, func(a, b entry) int { return cmp.Compare(a.item, b.item) })
		for k, e := range row {
			if k > 0 && e.item == row[k-1].item {
				last := len(d.items) - 1
				d.weights[last] += e.w
				d.times[last] = max(d.times[last], e.at)
				continue
			}
			d.items = append(d.items, e.item)
			d.weights = append(d.weights, e.w)
			d.times = append(d.times, e.at)
		}
		d.ptr[u+1] = int64(len(d.items))
	}
	b.users, b.items, b.weights, b.times = nil, nil, nil, nil
	return d
}
