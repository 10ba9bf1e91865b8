package recommend_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/recommend"
)

// trainMetrics is the part of the published metrics these tests read.
type trainMetrics struct {
	Learned    string `json:"learned"`
	Validation struct {
		Subjects int `json:"subjects"`
		Models   []struct {
			Name    string  `json:"name"`
			NDCG    float64 `json:"ndcg@10"`
			HR      float64 `json:"hr@10"`
			Skipped string  `json:"skipped"`
		} `json:"models"`
		Chosen string `json:"chosen"`
	} `json:"validation"`
}

func (m trainMetrics) ndcg(name string) float64 {
	for _, s := range m.Validation.Models {
		if s.Name == name {
			return s.NDCG
		}
	}
	return -1
}

func parseMetrics(t testing.TB, blob *qianmian.ModelBlob) trainMetrics {
	t.Helper()
	var m trainMetrics
	if err := json.Unmarshal([]byte(blob.Metrics), &m); err != nil {
		t.Fatalf("metrics %q: %v", blob.Metrics, err)
	}
	return m
}

// A world with real structure (each consumer keeps to three favourite categories and the
// head of each): the learned model must beat popularity on validation, be published, and be
// served after a reload.
func TestTrainer_PublishesLearnedModel(t *testing.T) {
	t.Parallel()
	db := newScaledWorld(t, demoScale{items: 1000, leaves: 20, stores: 10, regions: 2, users: 2000, eventsPerUser: 20})
	train := func() *qianmian.ModelBlob {
		tr := newTrainer(t, db)
		h := &tr.Config.Learn.Hybrid
		h.Candidates, h.Trees, h.MaxQueries = 30, 0, 1500
		blob, err := tr.TrainOnce(context.Background())
		must(t, err)
		return blob
	}
	blob := train()
	m := parseMetrics(t, blob)
	if m.Learned != "hybrid" || m.Learned != m.Validation.Chosen || m.Validation.Subjects < 1000 {
		t.Fatalf("learned %q, chosen %q, %d subjects: want the hybrid chosen on 1,000+ subjects: %s",
			m.Learned, m.Validation.Chosen, m.Validation.Subjects, blob.Metrics)
	}
	best := 0.0
	for _, name := range []string{"popularity", "cooccurrence", "seq", "ials", "content", "ease"} {
		if m.ndcg(name) < 0 {
			t.Fatalf("validation has no %s: %s", name, blob.Metrics)
		}
		best = max(best, m.ndcg(name))
	}
	if pop, got := m.ndcg("popularity"), m.ndcg(m.Learned); !(got > 1.5*pop) || !(got > best) {
		t.Fatalf("%s NDCG@10 %.4f, popularity %.4f, best other %.4f: want the hybrid above every other", m.Learned, got, pop, best)
	}
	t.Logf("learned %s: %s", m.Learned, blob.Metrics)

	e := openEngine(t, db, newClock(testNow))
	req := qianmian.RecommendRequest{StoreID: "store-003", UserID: "user-00042", N: 10}
	if rec := mustRecommend(t, e, req); rec.ModelVersion != 1 || !hasSource(rec, "model") {
		t.Fatalf("version %d, sources %v: want version 1 with the model source", rec.ModelVersion, allSources(rec))
	}
	if again := train(); again.Version != 2 {
		t.Fatalf("second training saved version %d, want 2", again.Version)
	}
	must(t, e.Reload(context.Background()))
	rec := mustRecommend(t, e, req)
	if e.ModelVersion() != 2 || rec.ModelVersion != 2 || !hasSource(rec, "model") {
		t.Fatalf("after reload: version %d/%d, sources %v", e.ModelVersion(), rec.ModelVersion, allSources(rec))
	}
	checkRanking(t, db, "store-003", rec, 10)
}

func TestTrainer_FastArtefactHasNoLearnedModel(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	tr := newTrainer(t, db)
	tr.Config.Learn.Off = true
	blob, err := tr.TrainOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m := parseMetrics(t, blob); m.Learned != "" || m.Validation.Subjects != 0 {
		t.Fatalf("fast artefact metrics %s", blob.Metrics)
	}
	e := openEngine(t, db, newClock(testNow))
	if rec := mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s1", UserID: "a01", N: 10}); hasSource(rec, "model") {
		t.Fatalf("fast artefact served the model source: %v", allSources(rec))
	}
}

// With every other source weighed 0, only the learned model can rank a visitor's items; it
// must find the neighbourhood of what they just viewed, from the store's stock only, and
// not for a visitor who refused personalisation.
func TestEngine_ModelSourceScoresTheLiveHistory(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	blob := mustTrain(t, db)
	if m := parseMetrics(t, blob); m.Learned == "" {
		t.Fatalf("no learned model on the test world: %s", blob.Metrics)
	}
	clk := newClock(testNow)
	e := recommend.NewEngine()
	e.Items, e.Stores, e.Assortments, e.Users, e.Events = db, db, db, db, db
	e.Models, e.Bus, e.Identities = db, db.bus, db
	e.Logger = testLogger(t)
	e.Now = clk.Now
	e.Config.Blend = recommend.BlendWeights{Model: 1}
	must(t, e.Open(context.Background()))
	t.Cleanup(func() { must(t, e.Close()) })

	ctx := context.Background()
	var evs []*qianmian.Event
	for k, id := range []string{"cream-01", "cream-02", "cream-03"} {
		for _, user := range []string{"newbie", "opt"} {
			evs = append(evs, &qianmian.Event{ID: user + "-cream-" + id, Type: qianmian.EventView, UserID: user, ItemID: id,
				StoreID: "s2", Channel: qianmian.ChannelApp, OccurredAt: testNow.Add(time.Duration(k) * time.Second)})
		}
	}
	if _, err := db.CreateEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	var rec *qianmian.Recommendation
	eventually(t, "the model ranks beauty first", func() bool {
		rec = mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s3", UserID: "newbie", N: 10})
		return len(rec.Items) > 0 && hasSource(rec, "model")
	})
	checkRanking(t, db, "s3", rec, 10)
	for _, it := range rec.Items[:3] {
		if !slices.Contains(it.Sources, "model") || !strings.HasPrefix(testCategories[leafOf(it.ItemID)][0], "beauty") ||
			!strings.HasPrefix(it.Reasons[0], "picked for you") {
			t.Fatalf("top items %v: want beauty items from the model", rec.Items[:3])
		}
		if slices.Contains([]string{"cream-01", "cream-02", "cream-03"}, it.ItemID) {
			t.Fatalf("%s was just viewed; the model source leaves it to the others", it.ItemID)
		}
	}
	if !containsString(rec.Items[0].Reasons, "cream no.") && !containsString(rec.Items[0].Reasons, "from what you viewed") {
		t.Fatalf("reasons %q", rec.Items[0].Reasons)
	}
	opt := mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s3", UserID: "opt", N: 10})
	if opt.Personalized || hasSource(opt, "model") {
		t.Fatalf("opted-out visitor: personalized=%v sources %v", opt.Personalized, allSources(opt))
	}
}

func hasSource(rec *qianmian.Recommendation, source string) bool {
	return slices.Contains(allSources(rec), source)
}

func allSources(rec *qianmian.Recommendation) []string {
	var out []string
	for _, it := range rec.Items {
		for _, s := range it.Sources {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// The learned model's prepared stock (iALS's packed item vectors, alone or as a base of the
// hybrid) must rank exactly as the unprepared path: same items, same scores, for many
// visitors in many stores. PreparedBytes bounds how many stores are prepared.
func TestEngine_PreparedStockRanksTheSame(t *testing.T) {
	t.Parallel()
	for _, models := range [][]string{{"ials"}, {"seq", "ials", "content", "hybrid"}} {
		t.Run(models[len(models)-1], func(t *testing.T) {
			t.Parallel()
			sc := demoScale{items: 1000, leaves: 20, stores: 10, regions: 2, users: 2000, eventsPerUser: 20}
			db := newScaledWorld(t, sc)
			tr := newTrainer(t, db)
			tr.Config.Learn.Models = models
			blob, err := tr.TrainOnce(context.Background())
			must(t, err)
			if m := parseMetrics(t, blob); m.Learned != models[len(models)-1] {
				t.Fatalf("learned %q, want %s: %s", m.Learned, models[len(models)-1], blob.Metrics)
			}
			clk := newClock(testNow)
			prepared := openEngine(t, db, clk)
			plain := openEngineWith(t, db, clk, func(c *recommend.EngineConfig) { c.PreparedBytes = -1 })
			one := openEngineWith(t, db, clk, func(c *recommend.EngineConfig) { c.PreparedBytes = 1 })
			if n, b := prepared.Prepared(); n != int64(sc.stores) || b < int64(sc.stores*8*4) {
				t.Fatalf("default budget prepared %d stores, %d bytes; want all %d", n, b, sc.stores)
			}
			if n, _ := plain.Prepared(); n != 0 {
				t.Fatalf("PreparedBytes -1 prepared %d stores", n)
			}
			if n, _ := one.Prepared(); n != 1 {
				t.Fatalf("a 1-byte budget prepared %d stores, want the first one only", n)
			}
			withModel := 0
			for k := range 200 {
				req := qianmian.RecommendRequest{StoreID: fmt.Sprintf("store-%03d", k%sc.stores),
					UserID: fmt.Sprintf("user-%05d", k*7), N: 10}
				a, b, c := mustRecommend(t, prepared, req), mustRecommend(t, plain, req), mustRecommend(t, one, req)
				for _, other := range []*qianmian.Recommendation{b, c} {
					if len(a.Items) != len(other.Items) {
						t.Fatalf("%+v: %d items prepared, %d not", req, len(a.Items), len(other.Items))
					}
					for r := range a.Items {
						if a.Items[r].ItemID != other.Items[r].ItemID || a.Items[r].Score != other.Items[r].Score {
							t.Fatalf("%+v rank %d: prepared %s %v, unprepared %s %v", req, r,
								a.Items[r].ItemID, a.Items[r].Score, other.Items[r].ItemID, other.Items[r].Score)
						}
					}
				}
				if hasSource(a, "model") {
					withModel++
				}
			}
			if withModel < 100 {
				t.Fatalf("%d of 200 rankings used the model source: the comparison proves little", withModel)
			}
		})
	}
}
