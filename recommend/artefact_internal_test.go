package recommend

import (
	"context"
	"testing"

	"github.com/qianmian/qianmian/model"
)

// TestArtefactEncode_AllocatedAtSize: encode counts the bytes first and writes into a buffer
// of exactly that size, so the artefact is never held twice while it grows; and what it
// wrote decodes.
func TestArtefactEncode_AllocatedAtSize(t *testing.T) {
	b := model.NewDatasetBuilder()
	for u := range 40 {
		for k := range 6 {
			b.Add("u"+string(rune('a'+u%26))+string(rune('a'+u/26)), "i"+string(rune('a'+(u+k)%20)), 1, int64(1000+u*10+k))
		}
	}
	d := b.Build()
	ials := &model.IALS{Config: model.DefaultIALSConfig()}
	ials.Config.Factors = 8
	if err := ials.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	pop := model.NewPopularityCounter(model.PopularityConfig{TopK: 5})
	pop.Add(0, 0, 1, 1000)
	a := &artefact{
		TrainedAt: 1000, Items: d.Items, Stores: model.NewIDMap(0), Regions: model.NewIDMap(0), Categories: model.NewIDMap(0),
		StorePop: pop.Popularity(), RegionPop: pop.Popularity(), GlobalPop: pop.Popularity(),
		Learned: ials, LearnedName: "ials",
	}
	data, err := a.encode()
	if err != nil {
		t.Fatal(err)
	}
	if cap(data) != len(data) {
		t.Errorf("encoded %d bytes into a buffer of %d", len(data), cap(data))
	}
	back, err := decodeArtefact(data)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := back.Learned.(*model.IALS)
	if !ok || back.LearnedName != "ials" {
		t.Fatalf("decoded learned model %T %q", back.Learned, back.LearnedName)
	}
	if got.UserFactors(0) != nil {
		t.Error("the artefact carries the fitted users' vectors; serving folds histories in")
	}
	items, weights, times := d.Row(3)
	if x, y := got.FoldIn(items, weights, times), ials.FoldIn(items, weights, times); len(x) != len(y) || x[0] != y[0] {
		t.Errorf("fold-in after the round trip %v, before %v", x, y)
	}
}
