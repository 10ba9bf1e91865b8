package persona

import "math/rand/v2"

// StratifiedFolds assigns each of the rows labelled y (class indexes in [0, k)) to one of
// folds folds, deterministically for seed: every class is shuffled and dealt round-robin,
// continuing from one class to the next, so every fold holds each class's rows within one
// of their share and every fold's size is within one of n/folds. Rows labelled −1 (or any
// index outside [0, k)) get fold −1.
func StratifiedFolds(y []int, k, folds int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	byClass := make([][]int, k)
	for i, c := range y {
		if c >= 0 && c < k {
			byClass[c] = append(byClass[c], i)
		}
	}
	out := make([]int, len(y))
	for i := range out {
		out[i] = -1
	}
	next := 0
	for _, rows := range byClass {
		rng.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] })
		for _, i := range rows {
			out[i] = next
			next = (next + 1) % folds
		}
	}
	return out
}

// foldRows splits the rows with a fold into those in fold f (test) and the others (train).
func foldRows(fold []int, f int) (train, test []int) {
	for i, g := range fold {
		switch {
		case g == f:
			test = append(test, i)
		case g >= 0:
			train = append(train, i)
		}
	}
	return train, test
}
