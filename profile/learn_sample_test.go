package profile_test

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/profile"
	"github.com/qianmian/qianmian/sim"
)

// TestTrainPersonas_Sample trains the persona classifiers of sim.SmallConfig (500 users) over
// real SQLite with several bounds on the consumers trained on:
//
//   - unbounded (the default, 200,000), and a bound equal to the number of users: not
//     sampled, and the same report (consumers, users, declared counts) both times;
//   - a bound of 300: sampled; exactly 300 user records kept; the report's consumers are
//     exactly the consenting consumers with item events among the 300 smallest hashes (so no
//     history of a consumer left out was used), within 15% of the bound's share of the
//     unsampled consumers (300/500 of them) and fewer than them; both classifiers still
//     trained, and they tag consumers who were not in the sample;
//   - the same bound in another service over the same database: the same report (the same
//     consumers, the same declared counts), and the stored metrics say it was sampled;
//   - a bound one below the number of users: sampled.
func TestTrainPersonas_Sample(t *testing.T) {
	t.Parallel()
	w, err := sim.Generate(sim.SmallConfig())
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return w.Truth.End }
	e := newEnv(t, now)
	e.loadWorld(t, w)
	e.open(t)
	ctx := t.Context()
	users := len(w.Users)

	// Who has a history to train on: consenting (or record-less) ids with item events.
	consents := map[string]bool{}
	for _, u := range w.Users {
		consents[u.ID] = u.Consent.Personalization
	}
	active := map[string]bool{}
	for ev := range e.events.ScanEvents(ctx, qianmian.EventFilter{}) {
		if ev.UserID == "" || ev.ItemID == "" || ev.Type == qianmian.EventImpression {
			continue
		}
		if ok, known := consents[ev.UserID]; ok || !known {
			active[ev.UserID] = true
		}
	}

	full, err := e.svc.TrainPersonas(ctx)
	must(t, err)
	t.Logf("unsampled: %+v", full)
	if full.Sampled || full.SampledUsers != 0 || full.Users != users || full.Consumers != len(active) {
		t.Fatalf("unsampled report %+v, want %d users and %d consumers, not sampled", full, users, len(active))
	}
	if len(full.Targets) != 2 {
		t.Fatalf("unsampled report %+v, want gender and age band", full)
	}

	train := func(bound, minDeclared int) *profile.TrainReport {
		t.Helper()
		s := profile.NewService()
		s.Events, s.Users, s.Identities, s.Items, s.Profiles, s.Models = e.svc.Events, e.svc.Users, e.svc.Identities,
			e.svc.Items, e.svc.Profiles, e.svc.Models
		s.Now, s.Config.StatsEvery = now, -1
		s.Config.MaxTrainConsumers, s.Config.MinDeclared = bound, minDeclared
		must(t, s.Open(ctx))
		defer s.Close()
		rep, err := s.TrainPersonas(ctx)
		must(t, err)
		return rep
	}
	sameBut := func(a, b *profile.TrainReport) bool {
		a2, b2 := *a, *b
		a2.Version, b2.Version = 0, 0
		return reflect.DeepEqual(a2, b2)
	}

	// A bound of exactly the users: no sampling at all.
	if rep := train(users, 0); !sameBut(rep, full) {
		t.Fatalf("bound %d = users: report %+v, want the unsampled %+v", users, rep, full)
	}

	// A bound below: a hash sample.
	const bound = 300
	ids := make([]string, 0, users)
	for _, u := range w.Users {
		ids = append(ids, u.ID)
	}
	slices.SortFunc(ids, func(a, b string) int {
		ha, hb := profile.SampleHash(a), profile.SampleHash(b)
		if ha != hb {
			if ha < hb {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	last := ids[bound-1]
	inSample := func(id string) bool {
		h, hl := profile.SampleHash(id), profile.SampleHash(last)
		return h < hl || h == hl && id <= last
	}
	sampledActive := 0
	for id := range active {
		if inSample(id) {
			sampledActive++
		}
	}
	rep := train(bound, 10) // fewer declared consumers in a sample: learn classes of 10
	t.Logf("bound %d: %+v", bound, rep)
	if !rep.Sampled || rep.SampledUsers != bound || rep.Users != users {
		t.Fatalf("bound %d: report %+v, want %d of %d users sampled", bound, rep, bound, users)
	}
	if rep.Consumers != sampledActive {
		t.Fatalf("bound %d: fitted on %d consumers, want the %d with histories among the %d smallest hashes", bound,
			rep.Consumers, sampledActive, bound)
	}
	share := float64(bound) * float64(full.Consumers) / float64(users)
	if math.Abs(float64(rep.Consumers)-share) > 0.15*share || rep.Consumers >= full.Consumers {
		t.Fatalf("bound %d: fitted on %d consumers, want %.0f ± 15%% and fewer than the %d unsampled", bound, rep.Consumers,
			share, full.Consumers)
	}
	if len(rep.Targets) != 2 {
		t.Fatalf("bound %d: report %+v, want gender and age band", bound, rep)
	}
	for i, tr := range rep.Targets {
		if sum(tr.Declared) >= sum(full.Targets[i].Declared) {
			t.Errorf("bound %d: %s declared by %v, not fewer than the unsampled %v", bound, tr.Target, tr.Declared,
				full.Targets[i].Declared)
		}
	}

	// Another service (another process, as far as the sample knows): the same consumers.
	s := profile.NewService()
	s.Events, s.Users, s.Identities, s.Items, s.Profiles, s.Models = e.svc.Events, e.svc.Users, e.svc.Identities,
		e.svc.Items, e.svc.Profiles, e.svc.Models
	s.Now, s.Config.StatsEvery = now, -1
	s.Config.MaxTrainConsumers, s.Config.MinDeclared = bound, 10
	must(t, s.Open(ctx))
	defer s.Close()
	again, err := s.TrainPersonas(ctx)
	must(t, err)
	if again.Version != rep.Version+1 || !sameBut(again, rep) {
		t.Fatalf("trained again: %+v, want %+v but the next version", again, rep)
	}
	blob, err := e.models.LatestModel(ctx, "persona")
	must(t, err)
	var metrics struct {
		Consumers    int  `json:"consumers"`
		Users        int  `json:"users"`
		Sampled      bool `json:"sampled"`
		SampledUsers int  `json:"sampled_users"`
	}
	must(t, json.Unmarshal([]byte(blob.Metrics), &metrics))
	if metrics.Consumers != rep.Consumers || metrics.Users != users || !metrics.Sampled || metrics.SampledUsers != bound ||
		blob.Version != again.Version {
		t.Fatalf("stored metrics %s, want %d consumers of a sample of %d of %d users", blob.Metrics, rep.Consumers, bound, users)
	}

	// The sampled classifiers tag consumers they were not trained on.
	tagged, out := 0, 0
	for _, u := range w.Users {
		if !u.Consent.Personalization || inSample(u.ID) || !active[u.ID] {
			continue
		}
		out++
		p, err := s.FindProfileByUserID(ctx, u.ID)
		must(t, err)
		if slices.ContainsFunc(p.Tags, func(tag qianmian.ProfileTag) bool { return tag.Source == qianmian.TagSourceModel }) {
			tagged++
		}
	}
	t.Logf("learned tags for %d of %d consumers out of the sample", tagged, out)
	if tagged < out/10 {
		t.Errorf("learned tags for %d of %d consumers out of the sample", tagged, out)
	}

	// One below the number of users: sampled.
	if rep := train(users-1, 10); !rep.Sampled || rep.SampledUsers != users-1 || rep.Consumers > full.Consumers {
		t.Fatalf("bound %d: report %+v, want %d of %d users sampled", users-1, rep, users-1, users)
	}
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// TrainPersonas holds JobLock throughout: while another job holds it, training waits.
func TestTrainPersonas_JobLock(t *testing.T) {
	t.Parallel()
	w, err := sim.Generate(sim.SmallConfig())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func() time.Time { return w.Truth.End })
	e.loadWorld(t, w)
	var jobs sync.Mutex
	e.svc.JobLock = &jobs
	e.open(t)
	jobs.Lock() // another job is running
	done := make(chan error, 1)
	go func() {
		_, err := e.svc.TrainPersonas(t.Context())
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("TrainPersonas returned (%v) while the lock was held", err)
	case <-time.After(300 * time.Millisecond):
	}
	jobs.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !jobs.TryLock() {
		t.Fatal("training kept the lock after returning")
	}
}
