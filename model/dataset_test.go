package model_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/qianmian/qianmian/model"
)

func TestDatasetBuilder_MergesAndSorts(t *testing.T) {
	t.Parallel()
	b := model.NewDatasetBuilder()
	b.Add("u1", "b", 1, 10)
	b.Add("u2", "a", 2, 5)
	b.Add("u1", "a", 4, 20)
	b.Add("u1", "b", -3, 30) // a return: summed, latest time kept
	b.Add("u1", "c", 1, 15)
	d := b.Build()
	if d.NumUsers() != 2 || d.NumItems() != 3 || d.NumInteractions() != 4 {
		t.Fatalf("users=%d items=%d interactions=%d, want 2 3 4", d.NumUsers(), d.NumItems(), d.NumInteractions())
	}
	u1, _ := d.Users.Index("u1")
	items, weights, times := d.Row(u1)
	ids := make([]string, len(items))
	for k, i := range items {
		ids[k] = d.Items.ID(i)
	}
	// Items were indexed b=0, a=1, c=2; rows are sorted by index.
	if want := []string{"b", "a", "c"}; !slices.Equal(ids, want) {
		t.Fatalf("row items=%v, want %v", ids, want)
	}
	if want := []float32{-2, 4, 1}; !slices.Equal(weights, want) {
		t.Fatalf("row weights=%v, want %v", weights, want)
	}
	if want := []int64{30, 20, 15}; !slices.Equal(times, want) {
		t.Fatalf("row times=%v, want %v", times, want)
	}
}

func TestIDMap_RoundTrip(t *testing.T) {
	t.Parallel()
	m := model.NewIDMap(0)
	for _, id := range []string{"x", "", "商品-1", "x", "y"} {
		m.Add(id)
	}
	var buf bytes.Buffer
	n, err := m.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo()=%d, %v; buffer has %d", n, err, buf.Len())
	}
	var got model.IDMap
	if _, err := got.ReadFrom(&buf); err != nil {
		t.Fatal(err)
	}
	if got.Len() != 4 {
		t.Fatalf("Len()=%d, want 4", got.Len())
	}
	if i, ok := got.Index("商品-1"); !ok || i != 2 || got.ID(3) != "y" {
		t.Fatalf("Index(商品-1)=%d,%v ID(3)=%q", i, ok, got.ID(3))
	}
	c := got.Clone()
	c.Add("z")
	if _, ok := got.Index("z"); ok {
		t.Fatal("Clone shares its map with the original")
	}
}

func TestDataset_SequenceOrdersByTimeThenInsertion(t *testing.T) {
	t.Parallel()
	b := model.NewDatasetBuilder()
	b.Add("u", "late", 1, 30)
	b.Add("v", "x", 1, 5)
	b.Add("u", "tie-first", 1, 10)
	b.Add("u", "early", 2, 1)
	b.Add("u", "tie-second", -1, 10) // kept, weight and all
	b.Add("u", "late", 1, 30)        // repeats stay separate
	d := b.Build()
	u, _ := d.Users.Index("u")
	items, weights, times := d.Sequence(u)
	var ids []string
	for _, i := range items {
		ids = append(ids, d.Items.ID(i))
	}
	if want := []string{"early", "tie-first", "tie-second", "late", "late"}; !slices.Equal(ids, want) {
		t.Fatalf("Sequence items=%v, want %v", ids, want)
	}
	if want := []float32{2, 1, -1, 1, 1}; !slices.Equal(weights, want) {
		t.Fatalf("Sequence weights=%v, want %v", weights, want)
	}
	if want := []int64{1, 10, 10, 30, 30}; !slices.Equal(times, want) {
		t.Fatalf("Sequence times=%v, want %v", times, want)
	}
	if row, _, _ := d.Row(u); len(row) != 4 {
		t.Fatalf("Row has %d items, want 4 distinct", len(row))
	}
}
