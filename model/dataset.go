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

	// Every interaction as added, grouped by user and ordered by (time, insertion order):
	// user u's sequence is [seqPtr[u], seqPtr[u+1]).
	seqPtr     []int64
	seqItems   []int32
	seqWeights []float32
	seqTimes   []int64
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

// Sequence returns every interaction of user u as it was added, oldest first: ordered by
// time, and by insertion order among equal times. Unlike Row, repeated (user, item) pairs
// stay separate and non-positive weights are kept, so sequence-aware models see the order
// in which a person met items. The slices alias the dataset and must not be modified.
func (d *Dataset) Sequence(u int32) (items []int32, weights []float32, times []int64) {
	lo, hi := d.seqPtr[u], d.seqPtr[u+1]
	return d.seqItems[lo:hi], d.seqWeights[lo:hi], d.seqTimes[lo:hi]
}

// ReleaseSequences lets go of the time-ordered copy of the interactions that Sequence
// reads, for a caller done with it: it is as large as the rows or larger, and training on a
// big world need not hold it while fitting models that read the rows only. Sequence returns
// empty slices afterwards.
func (d *Dataset) ReleaseSequences() {
	d.seqPtr = make([]int64, len(d.ptr))
	d.seqItems, d.seqWeights, d.seqTimes = nil, nil, nil
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
// kept. It also keeps each user's raw interactions in time order for Sequence. Build
// releases the builder's buffers; the dataset shares its id maps.
func (b *DatasetBuilder) Build() *Dataset {
	nu := b.Users.Len()
	ptr := make([]int64, nu+1)
	for _, u := range b.users {
		ptr[u+1]++
	}
	for u := 0; u < nu; u++ {
		ptr[u+1] += ptr[u]
	}
	grouped := make([]datasetEntry, len(b.users))
	next := slices.Clone(ptr[:nu])
	for k, u := range b.users {
		grouped[next[u]] = datasetEntry{b.items[k], b.weights[k], b.times[k]}
		next[u]++
	}
	d := &Dataset{Users: b.Users, Items: b.Items}
	d.buildSequences(ptr, grouped)
	d.ptr = make([]int64, nu+1)
	d.items = make([]int32, 0, len(grouped))
	d.weights = make([]float32, 0, len(grouped))
	d.times = make([]int64, 0, len(grouped))
	for u := 0; u < nu; u++ {
		row := grouped[ptr[u]:ptr[u+1]]
		// Stable, so equal items keep insertion order and sums are reproducible.
		slices.SortStableFunc(row, func(a, b datasetEntry) int { return cmp.Compare(a.item, b.item) })
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

// datasetEntry is one interaction of a user while a Dataset is built.
type datasetEntry struct {
	item int32
	w    float32
	at   int64
}

// buildSequences fills the per-user sequences from grouped, which holds each user's
// interactions in insertion order; ptr delimits the users and is kept as seqPtr.
func (d *Dataset) buildSequences(ptr []int64, grouped []datasetEntry) {
	d.seqPtr = slices.Clone(ptr)
	d.seqItems = make([]int32, len(grouped))
	d.seqWeights = make([]float32, len(grouped))
	d.seqTimes = make([]int64, len(grouped))
	var buf []datasetEntry
	byTime := func(a, b datasetEntry) int { return cmp.Compare(a.at, b.at) }
	for u := 0; u+1 < len(ptr); u++ {
		row := grouped[ptr[u]:ptr[u+1]]
		if !slices.IsSortedFunc(row, byTime) {
			// A copy, sorted stably so equal times keep insertion order; grouped itself
			// must stay in insertion order for the rows.
			buf = append(buf[:0], row...)
			slices.SortStableFunc(buf, byTime)
			row = buf
		}
		for k, e := range row {
			q := ptr[u] + int64(k)
			d.seqItems[q], d.seqWeights[q], d.seqTimes[q] = e.item, e.w, e.at
		}
	}
}
