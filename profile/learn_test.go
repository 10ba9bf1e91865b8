package profile_test

import (
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/profile"
	"github.com/qianmian/qianmian/sim"
)

// TestLearnedTags_DeletedTagsStayDeleted trains the persona classifiers on the consumers of
// sim.SmallConfig who declared their gender and age, checks that those who did not get
// learned tags with calibrated confidence, and that tags a consumer deleted, rule and model
// tags alike, are not given back by a rebuild, a retraining, or a restart.
func TestLearnedTags_DeletedTagsStayDeleted(t *testing.T) {
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
	started := time.Now()
	rep, err := e.svc.TrainPersonas(ctx)
	must(t, err)
	t.Logf("trained %+v in %v", rep, time.Since(started).Round(time.Millisecond))
	if rep.Version != 1 || len(rep.Targets) != 2 {
		t.Fatalf("report %+v, want version 1 with gender and age band", rep)
	}

	// Find a consumer with a rule tag and a learned gender tag, and check the learned tags
	// against the truth where the persona fixes the gender.
	var victim *qianmian.Profile
	var ruleTag, modelTag string
	var sure, right int
	for _, u := range w.Users {
		if !u.Consent.Personalization {
			continue
		}
		p, err := e.svc.FindProfileByUserID(ctx, u.ID)
		must(t, err)
		for _, tag := range p.Tags {
			if tag.Source != qianmian.TagSourceModel {
				continue
			}
			if u.Gender != "" && strings.HasPrefix(tag.Name, "gender_") {
				t.Fatalf("%s declared %s and got the learned tag %s", u.ID, u.Gender, tag.Name)
			}
			if tag.Confidence < 0.7 || tag.Confidence > 1 || !strings.Contains(tag.Reason, "calibrated probability") {
				t.Fatalf("learned tag %+v", tag)
			}
			switch persona := w.Truth.PersonaOf(u.ID); {
			case tag.Name == "gender_female" && persona == "white_collar_woman", tag.Name == "gender_male" && persona == "young_professional_man":
				sure++
				right++
			case tag.Name == "gender_male" && persona == "white_collar_woman", tag.Name == "gender_female" && persona == "young_professional_man":
				sure++
			}
		}
		if victim == nil {
			r, m := firstTag(p, qianmian.TagSourceRule, ""), firstTag(p, qianmian.TagSourceModel, "gender_")
			if r != "" && m != "" {
				victim, ruleTag, modelTag = p, r, m
			}
		}
	}
	t.Logf("learned gender tags of undeclared consumers whose persona fixes the gender: %d of %d right", right, sure)
	if sure < 10 || float64(right) < 0.8*float64(sure) {
		t.Errorf("learned gender right for %d of %d consumers of single-gender personas", right, sure)
	}
	if victim == nil {
		t.Fatal("no consumer with both a rule tag and a learned gender tag")
	}

	must(t, e.svc.DeleteProfileTag(ctx, victim.UserID, ruleTag))
	must(t, e.svc.DeleteProfileTag(ctx, victim.UserID, modelTag))
	check := func(when string, s *profile.Service) {
		t.Helper()
		p, err := s.FindProfileByUserID(ctx, victim.UserID)
		must(t, err)
		for _, tag := range p.Tags {
			if tag.Name == ruleTag || strings.HasPrefix(tag.Name, "gender_") {
				t.Fatalf("%s: tag %s is back (deleted %s and %s)", when, tag.Name, ruleTag, modelTag)
			}
		}
		if !slicesHave(p.DeletedTags, ruleTag, modelTag) {
			t.Fatalf("%s: deleted tags %v", when, p.DeletedTags)
		}
	}
	check("at once", e.svc)
	rep, err = e.svc.TrainPersonas(ctx)
	must(t, err)
	if rep.Version != 2 {
		t.Fatalf("retrained version %d", rep.Version)
	}
	check("after retraining", e.svc)

	// A restart: a new service over the same database rebuilds from the log and loads the
	// newest model.
	s2 := profile.NewService()
	s2.Events, s2.Users, s2.Identities, s2.Items, s2.Profiles, s2.Models = e.svc.Events, e.svc.Users, e.svc.Identities,
		e.svc.Items, e.svc.Profiles, e.svc.Models
	s2.Now, s2.Config.StatsEvery = now, -1
	must(t, s2.Open(ctx))
	defer s2.Close()
	check("after a restart", s2)
}

func firstTag(p *qianmian.Profile, source, prefix string) string {
	for _, tag := range p.Tags {
		if tag.Source == source && strings.HasPrefix(tag.Name, prefix) {
			return tag.Name
		}
	}
	return ""
}

func slicesHave(list []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, x := range list {
			found = found || x == w
		}
		if !found {
			return false
		}
	}
	return true
}
