package profile

import (
	"bytes"
	"cmp"
	"container/heap"
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

// modelMetrics is what a persona model blob's Metrics say (the TrainReport's fields but
// the version).
type modelMetrics struct {
	Consumers    int            `json:"consumers"`
	Users        int            `json:"users,omitempty"`
	Sampled      bool           `json:"sampled,omitempty"`
	SampledUsers int            `json:"sampled_users,omitempty"`
	Targets      []TargetReport `json:"targets"`
}

// TrainReport says what TrainPersonas fitted.
type TrainReport struct {
	Version   int64 `json:"version"`
	Consumers int   `json:"consumers"` // histories the features were fitted on
	// Users is how many user records there were.
	Users int `json:"users"`
	// Sampled says that Users exceeded Config.MaxTrainConsumers, so training was restricted
	// to a hash sample of SampledUsers of them (Config.MaxTrainConsumers): only their
	// histories, and those of sampled ids without a user record, were read and fitted on.
	Sampled      bool           `json:"sampled,omitempty"`
	SampledUsers int            `json:"sampled_users,omitempty"`
	Targets      []TargetReport `json:"targets"`
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
//
// When there are more user records than Config.MaxTrainConsumers, only a deterministic
// uniform sample of that many is trained on (see trainSample), decided before the log is
// read, so the histories held at once are proportional to the sample, not to the world.
func (s *Service) TrainPersonas(ctx context.Context) (*TrainReport, error) {
	if s.Models == nil {
		return nil, errors.New("profile: TrainPersonas needs Models")
	}
	s.trainMu.Lock()
	defer s.trainMu.Unlock()
	if s.JobLock != nil {
		s.JobLock.Lock()
		defer s.JobLock.Unlock()
	}
	users, total, sample, err := s.allUsers(ctx)
	if err != nil {
		return nil, err
	}
	ids, hs, err := s.histories(ctx, users, sample)
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
	rep := &TrainReport{Consumers: len(hs), Users: total, Targets: reports}
	if sample != nil {
		rep.Sampled, rep.SampledUsers = true, len(users)
	}
	metrics, err := json.Marshal(modelMetrics{Consumers: rep.Consumers, Users: rep.Users, Sampled: rep.Sampled,
		SampledUsers: rep.SampledUsers, Targets: reports})
	if err != nil {
		return nil, err
	}
	blob := &qianmian.ModelBlob{Name: s.cfg.ModelName, Data: buf.Bytes(), Metrics: string(metrics)}
	if err := s.Models.SaveModel(ctx, blob); err != nil {
		return nil, fmt.Errorf("profile: save persona model: %w", err)
	}
	s.model.Store(newLearned(blob.Version, m, reports))
	rep.Version = blob.Version
	return rep, nil
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

// allUsers pages through every user record and returns the number of them and the users
// to train on by id: all of them when there are at most Config.MaxTrainConsumers, and a nil
// sample; otherwise the MaxTrainConsumers with the smallest sample keys, and the sample they
// make. Only the users kept are held: memory is proportional to the bound, not to the world.
func (s *Service) allUsers(ctx context.Context) (map[string]*qianmian.User, int, *trainSample, error) {
	users := map[string]*qianmian.User{}
	kept := &sampleHeap{}
	limit := s.cfg.MaxTrainConsumers
	total := 0
	page := qianmian.Page{Limit: 1000}
	for {
		list, err := s.Users.FindUsers(ctx, page)
		if err != nil {
			return nil, 0, nil, fmt.Errorf("profile: read users: %w", err)
		}
		for _, u := range list {
			total++
			k := newSampleKey(u.ID)
			switch {
			case kept.Len() < limit:
				heap.Push(kept, k)
			case k.compare((*kept)[0]) < 0: // replaces the largest key kept
				delete(users, (*kept)[0].id)
				(*kept)[0] = k
				heap.Fix(kept, 0)
			default:
				continue
			}
			users[u.ID] = u
		}
		if len(list) < page.Limit {
			break
		}
		page.After = list[len(list)-1].ID
	}
	if total <= limit {
		return users, total, nil, nil
	}
	return users, total, &trainSample{max: (*kept)[0]}, nil
}

// trainSample is the consumers TrainPersonas fits on when there are more user records than
// Config.MaxTrainConsumers: those whose sample key is at most max, the largest key among
// the MaxTrainConsumers users with the smallest keys (a bottom-k sample). Keys hash the user
// id with a fixed, stable hash, so the sample is uniform, and the same in every process and
// run over the same users. It is decided from the user records alone; an id that events
// name without a user record is in the sample when its key is at most max too, so such
// consumers are sampled at the same rate as the others (a nil sample keeps everyone).
type trainSample struct {
	max sampleKey
}

// keeps says whether the consumer is in the sample.
func (t *trainSample) keeps(userID string) bool {
	return t == nil || newSampleKey(userID).compare(t.max) <= 0
}

// sampleKey orders consumers for sampling: by the hash of their id, ties by the id.
type sampleKey struct {
	hash uint64
	id   string
}

func newSampleKey(id string) sampleKey { return sampleKey{sampleHash(id), id} }

func (k sampleKey) compare(o sampleKey) int {
	if c := cmp.Compare(k.hash, o.hash); c != 0 {
		return c
	}
	return strings.Compare(k.id, o.id)
}

// sampleHash is the 64-bit FNV-1a hash of the id, mixed by MurmurHash3's finaliser so
// that ids differing only in their last characters spread over the whole range. It must
// not change: it decides which consumers every process trains on.
func sampleHash(id string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// sampleHeap is a max-heap of sample keys: the largest key kept is first.
type sampleHeap []sampleKey

func (h sampleHeap) Len() int           { return len(h) }
func (h sampleHeap) Less(i, j int) bool { return h[i].compare(h[j]) > 0 }
func (h sampleHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sampleHeap) Push(x any)        { *h = append(*h, x.(sampleKey)) }
func (h *sampleHeap) Pop() any {
	old := *h
	k := old[len(old)-1]
	*h = old[:len(old)-1]
	return k
}

// histories reads the log once and returns, in id order, the consumers of the sample who
// allow personalisation and their newest MaxHistory item events. Events of consumers left
// out of the sample are skipped as they are read.
func (s *Service) histories(ctx context.Context, users map[string]*qianmian.User, sample *trainSample) ([]string, []persona.History, error) {
	by := map[string]persona.History{}
	in := newEventInterner()
	for e, err := range s.Events.ScanEvents(ctx, qianmian.EventFilter{}) {
		if err != nil {
			return nil, nil, fmt.Errorf("profile: read events: %w", err)
		}
		if e.UserID == "" || e.ItemID == "" || e.Type == qianmian.EventImpression {
			continue
		}
		if sample != nil && !sample.keeps(e.UserID) {
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
// location and store carries one token list. Histories of every consumer trained on are held
// at once (up to Config.MaxTrainConsumers, and more when events name ids without a user
// record), and each event would otherwise own its item id, its token list and a "store=…"
// string: about 100 bytes more per event.
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
