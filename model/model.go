package model

import "context"

// Model is a recommender fit on a Dataset that scores every item for a user of that dataset.
// Implementations are deterministic for a seed and use every core they are given.
type Model interface {
	// Name is the model family's short name ("pop", "itemknn", "ials", "ease").
	Name() string
	// Describe tells the configuration in a line, for reports ("factors=64 reg=0.05").
	Describe() string
	// Fit trains on d, checking ctx between passes.
	Fit(ctx context.Context, d *Dataset) error
	// ScoreUser writes the score of every item for user u of the dataset Fit saw into dst,
	// which has d.NumItems() entries; higher is better. Items the user already met may get
	// any score: callers that exclude them do so themselves. Safe for concurrent use after
	// Fit.
	ScoreUser(u int32, dst []float32)
}

// Family is a kind of model and the configurations worth trying on a new dataset.
type Family struct {
	Name string
	// Configs returns up to n unfitted models to try, the recommended default first and the
	// rest in the order most likely to pay off, drawn deterministically from seed. A tuner
	// fits them in order until its time budget runs out and keeps the best on validation.
	Configs func(n int, seed uint64) []Model
}

// HistoryScorer is implemented by models that can score for any history: a user they were
// not fit on, or one whose newest events came after the fit. Serving uses it so rankings
// follow behaviour within a second, without retraining.
type HistoryScorer interface {
	// ScoreHistory writes into dst (NumItems entries) the score of every item for a user
	// whose history is items, oldest first, with their weights and Unix-second times.
	ScoreHistory(items []int32, weights []float32, times []int64, dst []float32)
}

// SubsetScorer is implemented by history scorers that can score some items only — a
// store's stock — at a cost that grows with the subset rather than the catalogue.
type SubsetScorer interface {
	// ScoreHistorySubset writes into dst[i], for every i of subset (indexes of the model's
	// items; others are ignored), the score ScoreHistory would give item i, or a score that
	// orders the subset the same way. Entries of dst outside subset are left unspecified.
	ScoreHistorySubset(items []int32, weights []float32, times []int64, subset []int32, dst []float32)
}

// PreparedScorer is a SubsetScorer that can lay out data for a subset it will score again
// and again (a store's stock, on every visit), such as the subset's item vectors packed in
// its order: a score then reads memory in sequence instead of gathering rows from all over
// the catalogue, which at 100,000 items is several times slower than the arithmetic.
type PreparedScorer interface {
	SubsetScorer
	// PrepareSubset returns what ScorePrepared needs for subset (sorted, distinct indexes
	// of the model's items) and the bytes it holds; nil when there is nothing to prepare.
	// The result is read-only and may serve any number of concurrent scores.
	PrepareSubset(subset []int32) (prep any, bytes int)
	// ScorePrepared is ScoreHistorySubset over the items of subset and of extra, where
	// prep came from PrepareSubset(subset) on this model.
	ScorePrepared(items []int32, weights []float32, times []int64, subset []int32, prep any, extra []int32, dst []float32)
}
