package profile

import (
	"context"
	"fmt"
	"hash/fnv"
	"iter"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

// SampleHash is sampleHash, for the tests of package profile_test.
var SampleHash = sampleHash

// TestSampleHash_Stable: the sample hash is FNV-1a 64 of the id followed by MurmurHash3's
// finaliser, and gives fixed values: a seeded hash (hash/maphash) or any change of it would
// train other processes, or the next release, on other consumers.
func TestSampleHash_Stable(t *testing.T) {
	golden := map[string]uint64{
		"":             0xefd01f60ba992926,
		"u1":           0x63b9b7f52c45b2b1,
		"user_0000001": 0x51a00a2dab986517,
	}
	for id, want := range golden {
		if got := sampleHash(id); got != want {
			t.Errorf("sampleHash(%q) = %#x, want %#x", id, got, want)
		}
	}
	for i := range 1000 {
		id := fmt.Sprintf("user-%07d", i)
		f := fnv.New64a()
		f.Write([]byte(id))
		h := f.Sum64()
		h ^= h >> 33
		h *= 0xff51afd7ed558ccd
		h ^= h >> 33
		h *= 0xc4ceb9fe1a85ec53
		h ^= h >> 33
		if got := sampleHash(id); got != h {
			t.Fatalf("sampleHash(%q) = %#x, want FNV-1a 64 mixed %#x", id, got, h)
		}
	}
}

// pagedUsers serves FindUsers from a list sorted by id, as the stores do.
type pagedUsers struct {
	qianmian.UserService
	list  []*qianmian.User
	pages int
}

func (p *pagedUsers) FindUsers(_ context.Context, page qianmian.Page) ([]*qianmian.User, error) {
	p.pages++
	i, _ := slices.BinarySearchFunc(p.list, page.After, func(u *qianmian.User, id string) int {
		if u.ID <= id {
			return -1
		}
		return 1
	})
	return slices.Clone(p.list[i:min(len(p.list), i+page.Limit)]), nil
}

// listedEvents serves ScanEvents from a list.
type listedEvents struct {
	qianmian.EventService
	list []*qianmian.Event
}

func (l *listedEvents) ScanEvents(context.Context, qianmian.EventFilter) iter.Seq2[*qianmian.Event, error] {
	return func(yield func(*qianmian.Event, error) bool) {
		for _, e := range l.list {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// TestTrainSample_KeepsTheSmallestHashes drives allUsers and histories over 2,500 user
// records (three pages), every other one consenting, each with three item events, and 500
// ids that events name without a user record. With a bound of 1,000 the users kept are
// exactly the 1,000 with the smallest (hash, id), spread over the whole id range; histories
// hold only consenting kept users and record-less ids under the same threshold (about 40%
// of them); two passes choose the same sample. With a bound of 2,500 nothing is sampled.
func TestTrainSample_KeepsTheSmallestHashes(t *testing.T) {
	const records, ghosts, bound = 2500, 500, 1000
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	users := &pagedUsers{}
	events := &listedEvents{}
	consents := map[string]bool{}
	addEvents := func(id string) {
		for k := range 3 {
			events.list = append(events.list, &qianmian.Event{Type: qianmian.EventView, UserID: id,
				ItemID: fmt.Sprintf("item-%d", k), OccurredAt: at.Add(time.Duration(k) * time.Minute)})
		}
		// Events training never reads: an impression, and one without an item.
		events.list = append(events.list, &qianmian.Event{Type: qianmian.EventImpression, UserID: id, ItemID: "item-0", OccurredAt: at},
			&qianmian.Event{Type: qianmian.EventSearch, UserID: id, OccurredAt: at})
	}
	for i := range records {
		id := fmt.Sprintf("user-%05d", i)
		consents[id] = i%2 == 0
		users.list = append(users.list, &qianmian.User{ID: id, Consent: qianmian.Consent{Personalization: i%2 == 0}})
		addEvents(id)
	}
	for i := range ghosts {
		addEvents(fmt.Sprintf("ghost-%04d", i))
	}

	// The sample, worked out apart: the bound smallest keys of the user records.
	keys := make([]sampleKey, records)
	for i, u := range users.list {
		keys[i] = sampleKey{SampleHash(u.ID), u.ID}
	}
	slices.SortFunc(keys, func(a, b sampleKey) int {
		if a.hash != b.hash {
			if a.hash < b.hash {
				return -1
			}
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	threshold := keys[bound-1]
	wantUsers := map[string]bool{}
	for _, k := range keys[:bound] {
		wantUsers[k.id] = true
	}
	below := func(id string) bool {
		h := SampleHash(id)
		return h < threshold.hash || h == threshold.hash && id <= threshold.id
	}

	ctx := t.Context()
	s := &Service{Users: users, Events: events, Now: func() time.Time { return at }}
	s.cfg = Config{MaxTrainConsumers: bound}.withDefaults()
	got, total, sample, err := s.allUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if total != records || sample == nil || users.pages != 3 {
		t.Fatalf("allUsers counted %d users over %d pages, sample %v; want %d over 3, sampled", total, users.pages, sample, records)
	}
	if !maps.Equal(wantUsers, keysSet(got)) {
		t.Fatalf("allUsers kept %d users, not the %d with the smallest hashes", len(got), bound)
	}
	firstHalf := 0
	for id := range got {
		if id < fmt.Sprintf("user-%05d", records/2) {
			firstHalf++
		}
	}
	if firstHalf < bound/2-75 || firstHalf > bound/2+75 { // binomial sd ≈ 16
		t.Errorf("%d of %d sampled users in the first half of the ids: the sample is not uniform", firstHalf, bound)
	}
	ids, hs, err := s.histories(ctx, got, sample)
	if err != nil {
		t.Fatal(err)
	}
	var wantIDs []string
	sampledGhosts := 0
	for id, ok := range consents {
		if ok && wantUsers[id] {
			wantIDs = append(wantIDs, id)
		}
	}
	for i := range ghosts {
		if id := fmt.Sprintf("ghost-%04d", i); below(id) {
			wantIDs = append(wantIDs, id)
			sampledGhosts++
		}
	}
	slices.Sort(wantIDs)
	if !slices.Equal(ids, wantIDs) {
		t.Fatalf("histories of %d consumers, want the %d consenting sampled users and sampled record-less ids", len(ids), len(wantIDs))
	}
	for i, h := range hs {
		if len(h) != 3 {
			t.Fatalf("%s: history of %d events, want 3", ids[i], len(h))
		}
	}
	if want := ghosts * bound / records; sampledGhosts < want-50 || sampledGhosts > want+50 { // binomial sd ≈ 11
		t.Errorf("%d of %d record-less ids sampled, want about %d", sampledGhosts, ghosts, want)
	}
	t.Logf("sampled %d of %d users; histories of %d consumers, %d of them without a user record", len(got), total, len(ids), sampledGhosts)

	again, _, sample2, err := s.allUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(keysSet(again), keysSet(got)) || *sample2 != *sample {
		t.Fatal("a second pass chose another sample")
	}

	// At the bound, nothing is sampled: every user, every consenting history.
	s.cfg.MaxTrainConsumers = records
	all, total, sample, err := s.allUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if total != records || len(all) != records || sample != nil {
		t.Fatalf("bound %d: kept %d of %d users, sample %v; want all, unsampled", records, len(all), total, sample)
	}
	ids, _, err = s.histories(ctx, all, sample)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != records/2+ghosts {
		t.Fatalf("bound %d: histories of %d consumers, want %d", records, len(ids), records/2+ghosts)
	}
}

func keysSet[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}
