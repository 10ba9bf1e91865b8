package model_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/qianmian/qianmian/model"
)

// blendWorld is the planted world with each item's first attribute as its category: the
// content base finds it, iALS the co-occurrence of the second, and a learned blend of the
// two wins on validation.
func blendWorld() (*model.Dataset, *model.ItemFeatures) {
	const g = 6
	d, _, _ := plantedWorld(300, g, 1)
	fb := model.NewItemFeaturesBuilder(d.Items)
	for i := 0; i < d.NumItems(); i++ {
		fb.Add(d.Items.ID(int32(i)), []string{fmt.Sprintf("c%d", i%g)}, "", 0, nil, "")
	}
	return d, fb.Build()
}

// TestHybrid_ServingRoundTrip checks that a hybrid saved with WriteServing and read with
// ReadServing — no training Dataset, bases restored from the stream — scores histories
// exactly as the fitted one, for the linear blend and for the boosted one.
func TestHybrid_ServingRoundTrip(t *testing.T) {
	t.Parallel()
	d, f := blendWorld()
	for _, tc := range []struct {
		trees int
		want  string
	}{{0, "linear"}, {30, "lambdamart"}} {
		t.Run(tc.want, func(t *testing.T) {
			h := fastHybrid([]model.Model{&model.IALS{Config: model.DefaultIALSConfig()},
				&model.Content{Config: model.DefaultContentConfig(), Features: f}})
			h.Features, h.Config.Trees = f, tc.trees
			if err := h.Fit(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			if got := h.Report().Chosen; got != tc.want {
				t.Fatalf("chose %s, want %s: %s", got, tc.want, h.Describe())
			}
			var buf bytes.Buffer
			n, err := h.WriteServing(&buf)
			if err != nil || n != int64(buf.Len()) {
				t.Fatalf("WriteServing: %d of %d bytes, %v", n, buf.Len(), err)
			}
			r := new(model.Hybrid)
			if n, err := r.ReadServing(bytes.NewReader(buf.Bytes())); err != nil || n != int64(buf.Len()) {
				t.Fatalf("ReadServing: %d of %d bytes, %v", n, buf.Len(), err)
			}
			if got, want := baseList(r.Bases), baseList(h.Bases); got != want {
				t.Fatalf("bases %s read, want %s", got, want)
			}
			if r.Report().Chosen != h.Report().Chosen {
				t.Fatalf("chosen %q after the round trip, want %q", r.Report().Chosen, h.Report().Chosen)
			}
			sa, sb := make([]float32, d.NumItems()), make([]float32, d.NumItems())
			for u := int32(0); u < 60; u++ {
				items, weights, times := d.Sequence(u)
				h.ScoreHistory(items, weights, times, sa)
				r.ScoreHistory(items, weights, times, sb)
				if !slices.Equal(sa, sb) {
					t.Fatalf("user %d: ScoreHistory differs after the round trip (%s)", u, h.Describe())
				}
			}
			for cut := 1; cut < buf.Len(); cut += buf.Len()/7 + 1 {
				if _, err := new(model.Hybrid).ReadServing(bytes.NewReader(buf.Bytes()[:cut])); err == nil {
					t.Fatalf("ReadServing of the first %d of %d bytes succeeded", cut, buf.Len())
				}
			}
		})
	}
}

func baseList(bases []model.Model) string {
	var s []string
	for _, b := range bases {
		s = append(s, b.Name())
	}
	return strings.Join(s, ",")
}

// TestHybrid_WriteServingRefusesUnsavableBase checks that a base without a serving codec
// is refused by name rather than written half.
func TestHybrid_WriteServingRefusesUnsavableBase(t *testing.T) {
	t.Parallel()
	d, _, _ := plantedWorld(100, 4, 3)
	h := fastHybrid([]model.Model{&model.PopularityModel{}})
	h.Config.MinHistory = 2
	if err := h.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := h.WriteServing(&buf); err == nil || !bytes.Contains([]byte(err.Error()), []byte(`"pop"`)) {
		t.Fatalf("WriteServing with a popularity base = %v, want an error naming it", err)
	}
	if _, err := new(model.Hybrid).WriteServing(&buf); err == nil {
		t.Fatal("WriteServing of an unfitted hybrid succeeded")
	}
}

// TestHybrid_RefitKeepsRanker checks that Refit fits the bases on new data and binds it,
// so users added since the learning are scored by the same ranker.
func TestHybrid_RefitKeepsRanker(t *testing.T) {
	t.Parallel()
	d, _, _ := plantedWorld(200, 4, 5)
	h := fastHybrid([]model.Model{&model.IALS{Config: model.DefaultIALSConfig()}})
	h.Config.MinHistory = 2
	if err := new(model.Hybrid).Refit(context.Background(), d, false); err == nil {
		t.Fatal("Refit of an unfitted hybrid succeeded")
	}
	if err := h.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	before := h.Describe()
	big, _, _ := plantedWorld(300, 4, 5)
	scores := make([]float32, big.NumItems())
	h.ScoreUser(250, scores) // a user only the new data has: popularity before the refit
	popTop := model.TopK(nil, scores, 10)
	if err := h.Refit(context.Background(), big, false); err != nil {
		t.Fatal(err)
	}
	if h.Describe() != before {
		t.Fatalf("Refit changed what was learned:\n%s\n%s", before, h.Describe())
	}
	h.ScoreUser(250, scores)
	if top := model.TopK(nil, scores, 10); slices.Equal(top, popTop) {
		t.Fatalf("after Refit user 250 still gets the popularity ranking %v", top)
	}
}

// TestHybrid_RefitReleasingSequences: a refit that releases the dataset's sequences once
// the sequential base has read them scores exactly as one that keeps them, and leaves the
// dataset without sequences; the other keeps them.
func TestHybrid_RefitReleasingSequences(t *testing.T) {
	t.Parallel()
	d, _, _ := plantedWorld(200, 4, 5)
	fit := func() *model.Hybrid {
		h := fastHybrid([]model.Model{
			&model.Sequential{Config: model.DefaultSequentialConfig()},
			&model.IALS{Config: model.DefaultIALSConfig()},
		})
		h.Config.MinHistory = 2
		if err := h.Fit(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		return h
	}
	kept, released := fit(), fit()
	bigKept, _, _ := plantedWorld(300, 4, 5)
	bigReleased, _, _ := plantedWorld(300, 4, 5)
	if err := kept.Refit(context.Background(), bigKept, false); err != nil {
		t.Fatal(err)
	}
	if err := released.Refit(context.Background(), bigReleased, true); err != nil {
		t.Fatal(err)
	}
	if items, _, _ := bigKept.Sequence(250); len(items) == 0 {
		t.Fatal("Refit without releasing emptied the sequences")
	}
	for u := range int32(bigReleased.NumUsers()) {
		if items, _, _ := bigReleased.Sequence(u); len(items) != 0 {
			t.Fatalf("after a releasing Refit user %d still has a sequence of %d", u, len(items))
		}
	}
	a, b := make([]float32, bigKept.NumItems()), make([]float32, bigKept.NumItems())
	// The hybrid may lean on one base, so each base is compared too.
	models := [][2]model.Model{{kept, released}, {kept.Bases[0], released.Bases[0]}, {kept.Bases[1], released.Bases[1]}}
	for _, m := range models {
		for u := int32(0); u < 300; u += 7 {
			m[0].ScoreUser(u, a)
			m[1].ScoreUser(u, b)
			for i := range a {
				if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
					t.Fatalf("%s: user %d item %d: %v kept, %v released", m[0].Name(), u, i, a[i], b[i])
				}
			}
		}
	}
}

// TestHybrid_ServingLeavesOutIALSUsers: the serving artefact carries iALS's item vectors but
// not the fitted users' (serving folds histories in), so it is smaller by exactly those
// vectors, and the histories score the same.
func TestHybrid_ServingLeavesOutIALSUsers(t *testing.T) {
	t.Parallel()
	d, f := blendWorld()
	ials := &model.IALS{Config: model.DefaultIALSConfig()}
	h := fastHybrid([]model.Model{ials, &model.Content{Config: model.DefaultContentConfig(), Features: f}})
	h.Features = f
	if err := h.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	var fitted, served bytes.Buffer
	if _, err := ials.WriteTo(&fitted); err != nil {
		t.Fatal(err)
	}
	if _, err := ials.WithoutUsers().WriteTo(&served); err != nil {
		t.Fatal(err)
	}
	if saved, want := fitted.Len()-served.Len(), d.NumUsers()*ials.NumFactors()*4; saved != want {
		t.Errorf("leaving the users out saved %d bytes, want %d (%d users × %d factors × 4)", saved, want, d.NumUsers(), ials.NumFactors())
	}
	if ials.UserFactors(0) == nil {
		t.Fatal("WithoutUsers changed the fitted model")
	}
	var buf bytes.Buffer
	if _, err := h.WriteServing(&buf); err != nil {
		t.Fatal(err)
	}
	r := new(model.Hybrid)
	if _, err := r.ReadServing(&buf); err != nil {
		t.Fatal(err)
	}
	var rials *model.IALS
	for _, b := range r.Bases {
		if m, ok := b.(*model.IALS); ok {
			rials = m
		}
	}
	if rials == nil || rials.UserFactors(0) != nil || rials.ItemFactors(0) == nil {
		t.Fatalf("served iALS: %v (user 0 vector %v)", rials != nil, rials != nil && rials.UserFactors(0) != nil)
	}
	sa, sb := make([]float32, d.NumItems()), make([]float32, d.NumItems())
	for u := int32(0); u < 40; u++ {
		items, weights, times := d.Sequence(u)
		h.ScoreHistory(items, weights, times, sa)
		r.ScoreHistory(items, weights, times, sb)
		if !slices.Equal(sa, sb) {
			t.Fatalf("user %d scores differently once served", u)
		}
	}
}
