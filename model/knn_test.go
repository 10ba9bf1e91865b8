package model_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/qianmian/qianmian/model"
)

// syntheticDataset builds users who each pick a few random items plus, for every planted
// pair (2k, 2k+1) among the first pairs*2 items, both items of a pair with some probability.
func syntheticDataset(users, items, perUser, pairs int, seed uint64) *model.Dataset {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := model.NewDatasetBuilder()
	for i := 0; i < items; i++ {
		b.Items.Add(fmt.Sprintf("i%d", i))
	}
	for u := 0; u < users; u++ {
		uid := b.Users.Add(fmt.Sprintf("u%d", u))
		at := int64(1_000_000 + u)
		for k := 0; k < perUser; k++ {
			// Zipf-like: low item indexes are more popular.
			i := int32(float64(items) * rng.Float64() * rng.Float64())
			b.AddIndex(uid, i, float32(1+rng.IntN(4)), at+int64(k))
		}
		if pairs > 0 && rng.IntN(4) == 0 {
			p := int32(rng.IntN(pairs))
			b.AddIndex(uid, 2*p+int32(items-2*pairs), 4, at)
			b.AddIndex(uid, 2*p+1+int32(items-2*pairs), 4, at)
		}
	}
	return b.Build()
}

func TestItemKNN_FindsPlantedPairs(t *testing.T) {
	t.Parallel()
	const items, pairs = 300, 10
	d := syntheticDataset(2000, items, 8, pairs, 1)
	m := model.ItemKNN{Config: model.DefaultItemKNNConfig()}
	m.Config.Now = 2_000_000
	if err := m.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if m.NumItems() != items {
		t.Fatalf("NumItems()=%d, want %d", m.NumItems(), items)
	}
	for p := 0; p < pairs; p++ {
		a := int32(items - 2*pairs + 2*p)
		nbr, sim := m.Neighbors(a)
		if len(nbr) == 0 || nbr[0] != a+1 {
			t.Fatalf("item %d: first neighbour %v, want %d", a, nbr[:min(3, len(nbr))], a+1)
		}
		if !slices.IsSortedFunc(sim, func(x, y float32) int { return compareDesc(x, y) }) {
			t.Fatalf("item %d: similarities not descending: %v", a, sim)
		}
		if slices.Contains(nbr, a) {
			t.Fatalf("item %d is its own neighbour", a)
		}
	}
}

func compareDesc(x, y float32) int {
	switch {
	case x > y:
		return -1
	case x < y:
		return 1
	}
	return 0
}

func TestItemKNN_DeterministicAcrossWorkers(t *testing.T) {
	t.Parallel()
	d := syntheticDataset(1000, 200, 10, 5, 2)
	var out [][]byte
	for _, workers := range []int{1, 2, 3} {
		m := model.ItemKNN{Config: model.DefaultItemKNNConfig()}
		m.Config.Workers, m.Config.Now, m.Config.K = workers, 2_000_000, 20
		if err := m.Fit(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := m.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	if !bytes.Equal(out[0], out[1]) || !bytes.Equal(out[0], out[2]) {
		t.Fatal("fitted neighbours depend on the number of workers")
	}
}

func TestItemKNN_IgnoresNegativeAndDecays(t *testing.T) {
	t.Parallel()
	b := model.NewDatasetBuilder()
	// a–b co-occur recently for three users; a–c co-occur as often but a year ago; a–d only
	// with a returned d.
	const now = 400 * 86400
	for u := 0; u < 3; u++ {
		id := fmt.Sprint("r", u)
		b.Add(id, "a", 1, now)
		b.Add(id, "b", 1, now)
		old := fmt.Sprint("o", u)
		b.Add(old, "a", 1, now)
		b.Add(old, "c", 1, now-365*86400)
		neg := fmt.Sprint("n", u)
		b.Add(neg, "a", 1, now)
		b.Add(neg, "d", -5, now)
	}
	d := b.Build()
	m := model.ItemKNN{Config: model.DefaultItemKNNConfig()}
	m.Config.Now = now
	if err := m.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	a, _ := d.Items.Index("a")
	nbr, _ := m.Neighbors(a)
	var got []string
	for _, i := range nbr {
		got = append(got, d.Items.ID(i))
	}
	if want := []string{"b", "c"}; !slices.Equal(got, want) {
		t.Fatalf("neighbours of a = %v, want %v (recent first, returned item absent)", got, want)
	}
}

func TestItemKNN_RoundTripAndCorruption(t *testing.T) {
	t.Parallel()
	d := syntheticDataset(300, 50, 5, 3, 3)
	m := model.ItemKNN{Config: model.DefaultItemKNNConfig()}
	if err := m.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	var got model.ItemKNN
	// Followed by trailing bytes: ReadFrom must consume exactly its own.
	r := bytes.NewReader(append(slices.Clone(data), "tail"...))
	n, err := got.ReadFrom(r)
	if err != nil || n != int64(len(data)) || r.Len() != 4 {
		t.Fatalf("ReadFrom()=%d, %v; want %d bytes and the tail left", n, err, len(data))
	}
	for i := int32(0); i < int32(m.NumItems()); i++ {
		wn, ws := m.Neighbors(i)
		gn, gs := got.Neighbors(i)
		if !slices.Equal(wn, gn) || !slices.Equal(ws, gs) {
			t.Fatalf("item %d: neighbours differ after round trip", i)
		}
	}
	bad := slices.Clone(data)
	bad[0] = 'X'
	if _, err := got.ReadFrom(bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "magic") {
		t.Fatalf("bad magic: err=%v", err)
	}
	if _, err := got.ReadFrom(bytes.NewReader(data[:len(data)-3])); err == nil {
		t.Fatal("truncated artefact read without error")
	}
}

func TestItemKNN_Cancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := model.ItemKNN{Config: model.DefaultItemKNNConfig()}
	if err := m.Fit(ctx, syntheticDataset(100, 50, 5, 0, 4)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit()=%v, want context.Canceled", err)
	}
}

func BenchmarkItemKNN_Fit(b *testing.B) {
	// Demo scale: 20,000 users, 5,000 items, 400,000 interactions.
	d := syntheticDataset(20_000, 5_000, 20, 50, 5)
	b.ReportAllocs()
	for b.Loop() {
		m := model.ItemKNN{Config: model.DefaultItemKNNConfig()}
		if err := m.Fit(context.Background(), d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDatasetBuilder_Build(b *testing.B) {
	rng := rand.New(rand.NewPCG(6, 0))
	users, items := make([]int32, 400_000), make([]int32, 400_000)
	for k := range users {
		users[k], items[k] = int32(rng.IntN(20_000)), int32(rng.IntN(5_000))
	}
	ub, ib := model.NewIDMap(20_000), model.NewIDMap(5_000)
	for i := 0; i < 20_000; i++ {
		ub.Add(fmt.Sprint(i))
	}
	for i := 0; i < 5_000; i++ {
		ib.Add(fmt.Sprint(i))
	}
	b.ReportAllocs()
	for b.Loop() {
		bl := &model.DatasetBuilder{Users: ub, Items: ib}
		for k := range users {
			bl.AddIndex(users[k], items[k], 1, int64(k))
		}
		bl.Build()
	}
}
