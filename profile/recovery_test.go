package profile_test

import (
	"os"
	"testing"
	"time"

	"github.com/qianmian/qianmian/sim"
)

// minRecovery is what the default rules must keep recovering of each persona of
// sim.SmallConfig (500 consumers, two weeks, about seven events each): the figures
// measured when the rules were written (docs/profiles.md), less a margin of about 0.05.
var minRecovery = map[string]struct{ precision, recall float64 }{
	"white_collar_woman":     {0.80, 0.50},
	"student":                {0.40, 0.45},
	"young_parent":           {0.60, 0.85},
	"retiree":                {0.35, 0.70},
	"gamer":                  {0.65, 0.55},
	"fitness_enthusiast":     {0.70, 0.60},
	"young_professional_man": {0.75, 0.50},
}

// TestPersonaRecovery_SmallWorld tags every consumer of sim.SmallConfig with the default
// rules and checks each persona's precision and recall against the simulator's truth.
// Run with -v for the table; QIANMIAN_PROFILE_WORLD=default measures the demo's world
// (20,000 consumers, six weeks) too, without thresholds.
func TestPersonaRecovery_SmallWorld(t *testing.T) {
	w, err := sim.Generate(sim.SmallConfig())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func() time.Time { return w.Truth.End })
	e.loadWorld(t, w)
	e.open(t)
	rs := personaRecovery(t, e, w)
	t.Logf("persona recovery on sim.SmallConfig (%d users, %d weeks):\n%s", len(w.Users), w.Config.Weeks, recoveryTable(rs))
	for _, r := range rs {
		min := minRecovery[r.persona]
		if r.precision() < min.precision || r.recall() < min.recall {
			t.Errorf("%s: precision %.2f, recall %.2f; want at least %.2f and %.2f", r.persona, r.precision(), r.recall(),
				min.precision, min.recall)
		}
	}
}

func TestPersonaRecovery_DemoWorld(t *testing.T) {
	if os.Getenv("QIANMIAN_PROFILE_WORLD") != "default" {
		t.Skip("set QIANMIAN_PROFILE_WORLD=default to measure the demo's world (about a minute)")
	}
	w, err := sim.Generate(sim.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func() time.Time { return w.Truth.End })
	started := time.Now()
	e.loadWorld(t, w)
	e.open(t)
	t.Logf("loaded in %v", time.Since(started).Round(time.Second))
	started = time.Now()
	rs := personaRecovery(t, e, w)
	t.Logf("persona recovery on sim.DefaultConfig (%d users, %d weeks), profiles built in %v:\n%s", len(w.Users), w.Config.Weeks,
		time.Since(started).Round(time.Millisecond), recoveryTable(rs))
	started = time.Now()
	rep, err := e.svc.TrainPersonas(t.Context())
	must(t, err)
	t.Logf("persona classifiers trained in %v: %+v", time.Since(started).Round(time.Second), rep)
}
