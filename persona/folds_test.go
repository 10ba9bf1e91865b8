package persona

import (
	"slices"
	"testing"
)

func TestStratifiedFolds_CoverEachRowOnceAndKeepRatios(t *testing.T) {
	t.Parallel()
	// 103 rows: 61 of class 0, 29 of class 1, 7 of class 2 and 6 unlabelled, interleaved
	// by the permutation i ↦ 37·i mod 103.
	var classes []int
	for c, n := range []int{61, 29, 7, 6} {
		for range n {
			classes = append(classes, []int{0, 1, 2, -1}[c])
		}
	}
	y := make([]int, len(classes))
	for i, c := range classes {
		y[37*i%len(classes)] = c
	}
	const k = 5
	folds := StratifiedFolds(y, 3, k, 7)
	sizes := make([]int, k)
	perClass := make([][]int, 3)
	for c := range perClass {
		perClass[c] = make([]int, k)
	}
	for i, f := range folds {
		if y[i] < 0 {
			if f != -1 {
				t.Fatalf("unlabelled row %d in fold %d", i, f)
			}
			continue
		}
		if f < 0 || f >= k {
			t.Fatalf("row %d in fold %d", i, f)
		}
		sizes[f]++
		perClass[y[i]][f]++
	}
	n := len(y) - countOf(y, -1)
	for f, s := range sizes {
		if s < n/k || s > (n+k-1)/k {
			t.Errorf("fold %d has %d rows, want %d or %d", f, s, n/k, (n+k-1)/k)
		}
	}
	for c, counts := range perClass {
		total := countOf(y, c)
		for f, got := range counts {
			if got < total/k || got > (total+k-1)/k {
				t.Errorf("class %d: fold %d has %d of %d rows, want %d or %d", c, f, got, total, total/k, (total+k-1)/k)
			}
		}
	}
	// Each held-out fold and its training rows partition the labelled rows.
	for f := 0; f < k; f++ {
		train, test := foldRows(folds, f)
		all := slices.Sorted(slices.Values(append(slices.Clone(train), test...)))
		if len(all) != n || len(slices.Compact(all)) != n {
			t.Errorf("fold %d: train and test cover %d rows, want %d", f, len(all), n)
		}
	}
	if again := StratifiedFolds(y, 3, k, 7); !slices.Equal(again, folds) {
		t.Error("same seed, different folds")
	}
	if other := StratifiedFolds(y, 3, k, 8); slices.Equal(other, folds) {
		t.Error("another seed gave the same folds")
	}
}

func countOf(y []int, c int) int {
	n := 0
	for _, v := range y {
		if v == c {
			n++
		}
	}
	return n
}
