package profile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/persona"
)

// Targets the persona classifiers learn: attributes consumers may declare.
const (
	TargetGender  = "gender"
	TargetAgeBand = "age_band"
)

// learned is the persona model in use.
type learned struct {
	version  int64
	model    *persona.Model
	declared map[string]int // target → declared consumers it was trained on
}

// modelMetrics is what a persona model blob's Metrics say.
type modelMetrics struct {
	Consumers int            `json:"consumers"`
	Targets   []TargetReport `json:"targets"`
}

// TrainReport says what TrainPersonas fitted.
type TrainReport struct {
	Version   int64          `json:"version"`
	Consumers int            `json:"consumers"` // histories the features were fitted on
	Targets   []TargetReport `json:"targets"`
}

// TargetReport is one learned attribute: its classes and how many consumers declared each.
type TargetReport struct {
	Target   string   `json:"target"`
	Classes  []string `json:"classes"`
	Declared []int    `json:"declared"`
}

// TrainPersonas fits the persona classifiers (gender, age band) on the consumers who
// declared them, features fitted on everyone's behaviour, saves them as the newest version of
// Config.ModelName, and serves them at once. Consumers who refused personalisation are left
// out, and so are events that arrived anonymously before their identity was linked. A class
// declared by fewer than Config.MinDeclared consumers is not learned.
func (s *Service) TrainPersonas(ctx context.Context) (*TrainReport, error) {
	if s.Models == nil {
		return nil, errors.New("profile: TrainPersonas needs Models")
	}
	s.trainMu.Lock()
	defer s.trainMu.Unlock()
	users, err := s.allUsers(ctx)
	if err != nil {
		return nil, err
	}
	ids, hs, err := s.histories(ctx, users)
	if err != nil {
		return nil, err
	}
	tasks, reports := s.tasks(users, ids)
	if len(tasks) == 0 {
		return nil, fmt.Errorf("profile: no attribute declared by enough consumers to learn (%d each)", s.cfg.MinDeclared)
	}
	cat := persona.Catalog{}
	for _, h := range hs {
		for _, e := range h {
			if _, ok := cat[e.Item]; !ok {
				if it := s.cat.item(ctx, e.Item); it != nil {
					cat[e.Item] = it.tokens
				}
			}
		}
	}
	fc := persona.DefaultFeatureConfig()
	_, fc.TZOffset = s.Now().In(s.cfg.Location).Zone()
	m, err := persona.Train(ctx, hs, cat, tasks, fc, persona.Config{Seed: 1})
	if err != nil {
		return nil, fmt.Errorf("profile: train personas: %w", err)
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return nil, err
	}
	metrics, err := json.Marshal(modelMetrics{Consumers: len(hs), Targets: reports})
	if err != nil {
		return nil, err
	}
	blob := &qianmian.ModelBlob{Name: s.cfg.ModelName, Data: buf.Bytes(), Metrics: string(metrics)}
	if err := s.Models.SaveModel(ctx, blob); err != nil {
		return nil, fmt.Errorf("profile: save persona model: %w", err)
	}
	s.model.Store(newLearned(blob.Version, m, reports))
	return &TrainReport{Version: blob.Version, Consumers: len(hs), Targets: reports}, nil
}

func newLearned(version int64, m *persona.Model, reports []TargetReport) *learned {
	l := &learned{version: version, model: m, declared: map[string]int{}}
	for _, r := range reports {
		for _, n := range r.Declared {
			l.declared[r.Target] += n
		}
	}
	return l
}

// loadModel serves the newest persona model when it is newer than the one in use.
func (s *Service) loadModel(ctx context.Context) error {
	if s.Models == nil {
		return nil
	}
	blob, err := s.Models.LatestModel(ctx, s.cfg.ModelName)
	switch {
	case qianmian.ErrorCode(err) == qianmian.ENOTFOUND:
		return nil
	case err != nil:
		return fmt.Errorf("load persona model: %w", err)
	}
	if cur := s.model.Load(); cur != nil && cur.version >= blob.Version {
		return nil
	}
	m := &persona.Model{}
	if _, err := m.ReadFrom(bytes.NewReader(blob.Data)); err != nil {
		return fmt.Errorf("persona model version %d: %w", blob.Version, err)
	}
	var mm modelMetrics
	if blob.Metrics != "" {
		if err := json.Unmarshal([]byte(blob.Metrics), &mm); err != nil {
			return fmt.Errorf("persona model version %d metrics: %w", blob.Version, err)
		}
	}
	s.model.Store(newLearned(blob.Version, m, mm.Targets))
	return nil
}

// allUsers returns every user by id.
func (s *Service) allUsers(ctx context.Context) (map[string]*qianmian.User, error) {
	users := map[string]*qianmian.User{}
	page := qianmian.Page{Limit: 1000}
	for {
		list, err := s.Users.FindUsers(ctx, page)
		if err != nil {
			return nil, fmt.Errorf("profile: read users: %w", err)
		}
		for _, u := range list {
			users[u.ID] = u
		}
		if len(list) < page.Limit {
			return users, nil
		}
		page.After = list[len(list)-1].ID
	}
}

// histories reads the log once and returns, in id order, the consumers who allow
// personalisation and their newest MaxHistory item events.
func (s *Service) histories(ctx context.Context, users map[string]*qianmian.User) ([]string, []persona.History, error) {
	by := map[string]persona.History{}
	in := newEventInterner()
	for e, err := range s.Events.ScanEvents(ctx, qianmian.EventFilter{}) {
		if err != nil {
			return nil, nil, fmt.Errorf("profile: read events: %w", err)
		}
		if e.UserID == "" || e.ItemID == "" || e.Type == qianmian.EventImpression {
			continue
		}
		if u := users[e.UserID]; u != nil && !u.Consent.Personalization {
			continue
		}
		h := append(by[e.UserID], in.event(e))
		if len(h) >= 2*s.cfg.MaxHistory {
			h = append(h[:0:0], h[len(h)-s.cfg.MaxHistory:]...) // memory stays within twice the histories kept
		}
		by[e.UserID] = h
	}
	ids := make([]string, 0, len(by))
	for id := range by {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	hs := make([]persona.History, len(ids))
	for i, id := range ids {
		h := by[id]
		hs[i] = h[max(0, len(h)-s.cfg.MaxHistory):]
	}
	return ids, hs, nil
}

// tasks returns the learnable targets over ids: each consumer's declared class, −1 when
// undeclared or when the class is too rare to learn.
func (s *Service) tasks(users map[string]*qianmian.User, ids []string) ([]persona.Task, []TargetReport) {
	now := s.Now()
	declared := map[string]func(u *qianmian.User) string{
		TargetGender: func(u *qianmian.User) string {
			if u.Gender == qianmian.GenderFemale || u.Gender == qianmian.GenderMale {
				return u.Gender
			}
			return ""
		},
		TargetAgeBand: func(u *qianmian.User) string { return qianmian.AgeBand(u.BirthYear, now) },
	}
	var tasks []persona.Task
	var reports []TargetReport
	for _, target := range []string{TargetGender, TargetAgeBand} {
		values := make([]string, len(ids))
		count := map[string]int{}
		for i, id := range ids {
			if u := users[id]; u != nil {
				values[i] = declared[target](u)
				count[values[i]]++
			}
		}
		var classes []string
		for c, n := range count {
			if c != "" && n >= s.cfg.MinDeclared {
				classes = append(classes, c)
			}
		}
		if len(classes) < 2 {
			continue
		}
		slices.Sort(classes)
		labels := make([]int, len(ids))
		for i, v := range values {
			labels[i] = slices.Index(classes, v)
		}
		rep := TargetReport{Target: target, Classes: classes}
		for _, c := range classes {
			rep.Declared = append(rep.Declared, count[c])
		}
		tasks = append(tasks, persona.Task{Target: target, Classes: classes, Labels: labels})
		reports = append(reports, rep)
	}
	return tasks, reports
}

// learnedTags infers the attributes the consumer did not declare, from their recent
// history, with the model's calibrated confidence. A target is left out when the consumer
// declared it, when the confidence is below MinConfidence, or when the consumer deleted any
// of its tags: deleting "gender_female" means "do not infer my gender", not "call me male".
func (s *Service) learnedTags(p *qianmian.Profile, h persona.History) []qianmian.ProfileTag {
	l := s.model.Load()
	if l == nil || len(h) == 0 {
		return nil
	}
	var tags []qianmian.ProfileTag
	for _, pr := range l.model.Predict(h) {
		if declaredTarget(p, pr.Target) || pr.Confidence < s.cfg.MinConfidence {
			continue
		}
		if slices.ContainsFunc(p.DeletedTags, func(t string) bool { return strings.HasPrefix(t, pr.Target+"_") }) {
			continue
		}
		tags = append(tags, qianmian.ProfileTag{
			Name: pr.Target + "_" + pr.Class, Label: targetLabel(pr.Target, pr.Class), Source: qianmian.TagSourceModel,
			Confidence: round4(pr.Confidence),
			Reason: fmt.Sprintf("inferred from %s by a classifier trained on %d consumers who declared their %s (model version %d); calibrated probability %.2f",
				plural(len(h), "recent event"), l.declared[pr.Target], strings.ReplaceAll(pr.Target, "_", " "), l.version, pr.Confidence),
		})
	}
	return tags
}

func declaredTarget(p *qianmian.Profile, target string) bool {
	switch target {
	case TargetGender:
		return p.Declared.Gender != ""
	case TargetAgeBand:
		return p.Declared.AgeBand != ""
	}
	return false
}

func targetLabel(target, class string) string {
	if target == TargetAgeBand {
		return "aged " + strings.ReplaceAll(strings.ReplaceAll(class, "_plus", "+"), "_", "–") + " (inferred)"
	}
	return class + " (inferred)"
}

// eventInterner makes the persona events of one training pass share their strings: every
// event of an item names it with one string, and every event with the same type, channel,
// location and store carries one token list. Histories of every consumer are held at once
// (1M consumers in the large world), and each event would otherwise own its item id, its
// token list and a "store=…" string: about 100 bytes more per event.
type eventInterner struct {
	items map[string]string
	toks  map[tokenKey][]string
}

type tokenKey struct {
	typ   qianmian.EventType
	ch    qianmian.Channel
	loc   qianmian.LocationType
	store string
}

func newEventInterner() *eventInterner {
	return &eventInterner{items: map[string]string{}, toks: map[tokenKey][]string{}}
}

// event is personaEvent(e) with shared strings; the token list must not be modified.
func (in *eventInterner) event(e *qianmian.Event) persona.Event {
	k := tokenKey{e.Type, e.Channel, e.Context.LocationType, e.StoreID}
	toks, ok := in.toks[k]
	if !ok {
		toks = slices.Clip(personaTokens(e))
		k.store = strings.Clone(k.store)
		in.toks[k] = toks
	}
	pe := personaEventWith(e, toks)
	item, ok := in.items[e.ItemID]
	if !ok {
		item = strings.Clone(e.ItemID)
		in.items[item] = item
	}
	pe.Item = item
	return pe
}
