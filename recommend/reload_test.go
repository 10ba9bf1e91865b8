package recommend_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/recommend"
)

// countingModels counts the artefacts read from the store it wraps.
type countingModels struct {
	*fakeDB
	reads atomic.Int64
}

func (c *countingModels) LatestModel(ctx context.Context, name string) (*qianmian.ModelBlob, error) {
	c.reads.Add(1)
	return c.fakeDB.LatestModel(ctx, name)
}

// TestEngine_ReloadEveryServesAModelTrainedElsewhere: an engine that does not train itself
// picks up a version another process published, within a few reload periods, and reads the
// artefact only when the version changed.
func TestEngine_ReloadEveryServesAModelTrainedElsewhere(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	first := mustTrain(t, db)
	models := &countingModels{fakeDB: db}
	e := recommend.NewEngine()
	e.Config.ReloadEvery = 20 * time.Millisecond
	e.Items, e.Stores, e.Assortments, e.Users, e.Events = db, db, db, db, db
	e.Models, e.Bus, e.Identities = models, db.bus, db
	e.Logger = testLogger(t)
	e.Now = newClock(testNow).Now
	must(t, e.Open(context.Background()))
	t.Cleanup(func() { must(t, e.Close()) })
	req := qianmian.RecommendRequest{StoreID: "s1", UserID: "b03", N: 10}
	if v := mustRecommend(t, e, req).ModelVersion; v != first.Version {
		t.Fatalf("serving version %d, want %d", v, first.Version)
	}
	time.Sleep(150 * time.Millisecond) // several reloads of the same version
	if n := models.reads.Load(); n != 1 {
		t.Errorf("%d artefact reads while the version stayed %d, want the first only", n, first.Version)
	}

	second := mustTrain(t, db) // "another process": the engine is not told
	deadline := time.Now().Add(5 * time.Second)
	for mustRecommend(t, e, req).ModelVersion != second.Version {
		if time.Now().After(deadline) {
			t.Fatalf("still serving version %d 5 s after version %d was published", mustRecommend(t, e, req).ModelVersion, second.Version)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := models.reads.Load(); n != 2 {
		t.Errorf("%d artefact reads for two versions, want 2", n)
	}
}
