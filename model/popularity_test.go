package model_test

import (
	"bytes"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/qianmian/qianmian/model"
)

func TestPopularity_DecayGroupsTopK(t *testing.T) {
	t.Parallel()
	const day = 86400
	now := int64(100 * day)
	c := model.NewPopularityCounter(model.PopularityConfig{HalfLife: 7 * 24 * time.Hour, Now: now, TopK: 2})
	// Group 0: item 1 sold 3 times two weeks ago (3 × 0.25 = 0.75) loses to item 2 sold once
	// today (1); item 3 returned more than it sold is dropped; item 4 once a week ago (0.5).
	for range 3 {
		c.Add(0, 1, 1, now-14*day)
	}
	c.Add(0, 2, 1, now)
	c.Add(0, 3, 1, now)
	c.Add(0, 3, -2, now)
	c.Add(0, 4, 1, now-7*day)
	c.Add(2, 9, 1, now+day) // in the future: counts fully
	p := c.Popularity()
	if p.NumGroups() != 3 {
		t.Fatalf("NumGroups()=%d, want 3", p.NumGroups())
	}
	items, scores := p.Top(0)
	if want := []int32{2, 1}; !slices.Equal(items, want) {
		t.Fatalf("Top(0)=%v, want %v", items, want)
	}
	if math.Abs(float64(scores[1])-0.75) > 1e-6 {
		t.Fatalf("decayed score=%v, want 0.75", scores[1])
	}
	if items, _ := p.Top(1); len(items) != 0 {
		t.Fatalf("Top(1)=%v, want none", items)
	}
	if items, scores := p.Top(2); !slices.Equal(items, []int32{9}) || scores[0] != 1 {
		t.Fatalf("Top(2)=%v %v, want [9] [1]", items, scores)
	}
	if items, _ := p.Top(7); items != nil {
		t.Fatalf("Top(7)=%v, want nil", items)
	}

	var buf bytes.Buffer
	if _, err := p.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	var got model.Popularity
	if _, err := got.ReadFrom(&buf); err != nil {
		t.Fatal(err)
	}
	gi, gs := got.Top(0)
	if !slices.Equal(gi, []int32{2, 1}) || !slices.Equal(gs, scores) {
		t.Fatalf("round trip Top(0)=%v %v", gi, gs)
	}
	if got.Config != p.Config {
		t.Fatalf("round trip config %+v, want %+v", got.Config, p.Config)
	}
}

func TestRepurchaseRates(t *testing.T) {
	t.Parallel()
	const day = 86400
	ps := []model.Purchase{
		// Category 0 (milk): users 1 and 2 buy again a week later, user 3 once.
		{1, 0, 0}, {1, 0, 7 * day}, {2, 0, day}, {2, 0, 9 * day}, {3, 0, 0},
		// Category 1 (sofas): user 1 buys two in one basket, user 2 one.
		{1, 1, 5 * day}, {1, 1, 5*day + 60}, {2, 1, 0},
		// Out of range: ignored.
		{1, 5, 0},
	}
	rates, buyers := model.RepurchaseRates(ps, 3, day)
	if want := []int32{3, 2, 0}; !slices.Equal(buyers, want) {
		t.Fatalf("buyers=%v, want %v", buyers, want)
	}
	if math.Abs(float64(rates[0])-2.0/3) > 1e-6 || rates[1] != 0 || rates[2] != 0 {
		t.Fatalf("rates=%v, want [0.667 0 0]", rates)
	}
}
