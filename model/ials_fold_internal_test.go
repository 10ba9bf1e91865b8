package model

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The Woodbury fold-in solves the same system as the direct one: for histories short
// enough to take it (with repeats, returns, zero weights and unknown items), both give the
// same vector to rounding, and a long history takes the direct solve.
func TestIALS_WoodburyFoldInMatchesTheDirectSolve(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(4, 4))
	const items = 400
	c := DefaultIALSConfig()
	c.Factors, c.Epochs, c.HistoryHalfLife, c.HistoryAlpha = 16, 4, 86400, 3
	m := fitRandomIALS(t, c, items, 600, 12, func() int32 { return int32(rng.IntN(items) * rng.IntN(items) / items) }, rng)
	if m.basis == nil {
		t.Fatal("no eigenbasis after Fit")
	}
	direct := *m
	direct.basis = nil
	k := m.k
	woodbury := 0
	for trial := range 300 {
		h := 1 + trial%(k+4)
		hi := make([]int32, h)
		hw := make([]float32, h)
		ht := make([]int64, h)
		for q := range h {
			hi[q], hw[q], ht[q] = int32(rng.IntN(items)), float32(1+rng.IntN(4)), int64(1_000_000+rng.IntN(30)*3600)
			switch rng.IntN(10) {
			case 0:
				hw[q] = -2 // a return
			case 1:
				hw[q] = 0
			case 2:
				hi[q] = int32(items + rng.IntN(5)) // unknown to the model
			case 3:
				if q > 0 {
					hi[q] = hi[q-1] // a repeat
				}
			}
		}
		s := &ialsFold{}
		s.decay = HistoryDecay(nil, hi, ht, float64(c.HistoryHalfLife))
		want := direct.FoldIn(hi, hw, ht)
		got := m.FoldIn(hi, hw, ht)
		var norm, diff float64
		for j := range want {
			norm += float64(want[j]) * float64(want[j])
			diff += float64(got[j]-want[j]) * float64(got[j]-want[j])
		}
		if norm == 0 {
			continue
		}
		if math.Sqrt(diff/norm) > 1e-4 {
			t.Fatalf("trial %d (history %d): Woodbury %v, direct %v", trial, h, got, want)
		}
		cm1 := make([]float32, h)
		cp := make([]float32, h)
		var mass float64
		for q, i := range hi {
			if int(i) < m.numItems {
				cm1[q], cp[q] = ialsConfidence(hw[q]*s.decay[q], c.HistoryAlpha)
				mass += float64(cm1[q])
			}
		}
		if m.foldWoodbury(make([]float32, k), hi, cm1, cp, float64(ialsReg(c, mass, m.numItems)), s) {
			woodbury++
		}
	}
	if woodbury < 50 || woodbury > 290 {
		t.Fatalf("Woodbury took %d of 300 histories: want both paths exercised", woodbury)
	}
}

// fitRandomIALS fits iALS with config c on users who each interact with per items drawn by
// pick (of items), with weights 1–3 drawn from rng, an hour apart.
func fitRandomIALS(t *testing.T, c IALSConfig, items, users, per int, pick func() int32, rng *rand.Rand) *IALS {
	t.Helper()
	b := NewDatasetBuilder()
	for i := range items {
		b.Items.Add(fmt.Sprint("i", i))
	}
	for u := range users {
		uid := b.Users.Add(fmt.Sprint("u", u))
		for k := range per {
			b.AddIndex(uid, pick(), float32(1+rng.IntN(3)), int64(1_000_000+k*3600))
		}
	}
	m := &IALS{Config: c}
	if err := m.Fit(context.Background(), b.Build()); err != nil {
		t.Fatal(err)
	}
	return m
}
