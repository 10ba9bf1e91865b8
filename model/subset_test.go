package model_test

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/qianmian/qianmian/model"
)

// blendHybrid fits the hybrid over iALS and content on blendWorld, with its ranker, and
// returns it with its iALS base.
func blendHybrid(t *testing.T) (*model.Dataset, *model.Hybrid, *model.IALS) {
	t.Helper()
	d, f := blendWorld()
	h := fastHybrid([]model.Model{&model.IALS{Config: model.DefaultIALSConfig()},
		&model.Content{Config: model.DefaultContentConfig(), Features: f}})
	h.Features = f
	if err := h.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if c := h.Report().Chosen; c != "lambdamart" {
		t.Fatalf("chose %s, want lambdamart: the test needs the ranker", c)
	}
	return d, h, h.Bases[len(h.Bases)-2].(*model.IALS)
}

// TestSubsetScorers checks ScoreHistorySubset against ScoreHistory: iALS gives the same
// scores on the subset; the hybrid, given every item, ranks exactly as ScoreHistory and,
// given half of them, ranks only those, finite scores on candidates of the subset only.
func TestSubsetScorers(t *testing.T) {
	t.Parallel()
	d, h, ials := blendHybrid(t)
	n := d.NumItems()
	all := make([]int32, n)
	var half []int32
	for i := range all {
		all[i] = int32(i)
		if i%2 == 1 {
			half = append(half, int32(i))
		}
	}
	full, sub := make([]float32, n), make([]float32, n)
	for u := int32(0); u < 40; u++ {
		items, weights, times := d.Sequence(u)
		ials.ScoreHistory(items, weights, times, full)
		for i := range sub {
			sub[i] = -7
		}
		ials.ScoreHistorySubset(items, weights, times, half, sub)
		for i := range n {
			if i%2 == 1 && sub[i] != full[i] || i%2 == 0 && sub[i] != -7 {
				t.Fatalf("user %d item %d: iALS subset score %v, full %v", u, i, sub[i], full[i])
			}
		}

		h.ScoreHistory(items, weights, times, full)
		h.ScoreHistorySubset(items, weights, times, all, sub)
		if !slices.Equal(full, sub) {
			t.Fatalf("user %d: the hybrid over every item differs from ScoreHistory", u)
		}
		for i := range sub {
			sub[i] = float32(math.NaN())
		}
		h.ScoreHistorySubset(items, weights, times, half, sub)
		finite := 0
		for i, v := range sub {
			switch {
			case i%2 == 0 && v == v:
				t.Fatalf("user %d: item %d outside the subset was scored %v", u, i, v)
			case i%2 == 1 && v != v:
				t.Fatalf("user %d: item %d of the subset was not scored", u, i)
			case i%2 == 1 && !math.IsInf(float64(v), -1):
				finite++
			}
		}
		if finite < 10 {
			t.Fatalf("user %d: %d candidates in the subset, want at least 10", u, finite)
		}
	}
}

// TestSubsetScorers_SparseBases checks that the sequential and content models score a
// subset with exactly the floats ScoreHistory gives it, and leave nothing unset.
func TestSubsetScorers_SparseBases(t *testing.T) {
	t.Parallel()
	d, f := blendWorld()
	bases := []interface {
		model.Model
		model.HistoryScorer
		model.SubsetScorer
	}{
		&model.Sequential{Config: model.DefaultSequentialConfig()},
		&model.Content{Config: model.DefaultContentConfig(), Features: f},
	}
	n := d.NumItems()
	var third []int32
	for i := 0; i < n; i += 3 {
		third = append(third, int32(i))
	}
	full, sub := make([]float32, n), make([]float32, n)
	for _, m := range bases {
		if err := m.Fit(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		nonzero := 0
		for u := int32(0); u < 60; u++ {
			items, weights, times := d.Sequence(u)
			m.ScoreHistory(items, weights, times, full)
			for i := range sub {
				sub[i] = float32(math.NaN()) // garbage the subset scorer must overwrite
			}
			m.ScoreHistorySubset(items, weights, times, third, sub)
			for _, i := range third {
				if sub[i] != full[i] {
					t.Fatalf("%T user %d item %d: subset score %v, ScoreHistory %v", m, u, i, sub[i], full[i])
				}
				if full[i] != 0 {
					nonzero++
				}
			}
			// As the hybrid asks: the stock, then the history, which may repeat stock items
			// and itself; each entry must still be scored once.
			list := append(append(append([]int32{}, third...), items...), third[:5]...)
			for i := range sub {
				sub[i] = float32(math.NaN())
			}
			m.ScoreHistorySubset(items, weights, times, list, sub)
			for _, i := range list {
				if sub[i] != full[i] {
					t.Fatalf("%T user %d item %d of a list with repeats: subset score %v, ScoreHistory %v", m, u, i, sub[i], full[i])
				}
			}
		}
		if nonzero == 0 {
			t.Fatalf("%T: every subset score is 0; the comparison proves nothing", m)
		}
	}
}

// TestPreparedScorers checks ScorePrepared against ScoreHistorySubset: iALS gives the same
// floats on the prepared subset and on the extra items (an index outside the model among
// them scores 0 either way), and the hybrid, whose iALS base is prepared, the same scores
// on every item of the subset, the non-candidates' −Inf included.
func TestPreparedScorers(t *testing.T) {
	t.Parallel()
	d, h, ials := blendHybrid(t)
	n := d.NumItems()
	var third, rest []int32
	for i := range n {
		if i%3 == 1 {
			third = append(third, int32(i))
		} else if i%5 == 0 {
			rest = append(rest, int32(i))
		}
	}
	withOutside := append(slices.Clone(third), int32(n)) // an index the model does not have
	ip, bytes := ials.PrepareSubset(withOutside)
	if ip == nil || bytes < 4*len(withOutside) {
		t.Fatalf("iALS prepared %v (%d bytes) for %d items", ip, bytes, len(withOutside))
	}
	hp, _ := h.PrepareSubset(third)
	if hp == nil {
		t.Fatal("the hybrid prepared nothing although its iALS base can")
	}
	want, got := make([]float32, n+1), make([]float32, n+1)
	for u := int32(0); u < 40; u++ {
		items, weights, times := d.Sequence(u)
		for i := range want {
			want[i], got[i] = -7, -7
		}
		ials.ScoreHistorySubset(items, weights, times, append(slices.Clone(withOutside), rest...), want)
		ials.ScorePrepared(items, weights, times, withOutside, ip, rest, got)
		if !slices.Equal(want[:n], got[:n]) || got[n] != 0 {
			t.Fatalf("user %d: iALS prepared scores differ from ScoreHistorySubset", u)
		}
		for i := range want {
			want[i], got[i] = -7, -7
		}
		h.ScoreHistorySubset(items, weights, times, third, want)
		h.ScorePrepared(items, weights, times, third, hp, nil, got)
		finite := 0
		for _, i := range third {
			if got[i] != want[i] {
				t.Fatalf("user %d item %d: hybrid prepared score %v, ScoreHistorySubset %v", u, i, got[i], want[i])
			}
			if !math.IsInf(float64(got[i]), -1) {
				finite++
			}
		}
		if finite < 10 {
			t.Fatalf("user %d: %d candidates, want at least 10", u, finite)
		}
	}
	// A prep of another model is not trusted: the scores are still right.
	other, _ := fastHybrid(nil).PrepareSubset(third)
	if other != nil {
		t.Fatal("an unfitted hybrid prepared a subset")
	}
	items, weights, times := d.Sequence(3)
	h.ScoreHistorySubset(items, weights, times, third, want)
	h.ScorePrepared(items, weights, times, third, ip, nil, got) // iALS's prep, not the hybrid's
	for _, i := range third {
		if got[i] != want[i] {
			t.Fatalf("item %d with a foreign prep: %v, want %v", i, got[i], want[i])
		}
	}
}
