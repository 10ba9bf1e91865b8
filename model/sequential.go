package model

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"
)

// SequentialConfig holds the hyperparameters of Sequential. Start from
// DefaultSequentialConfig. A weight of 0 switches its score off (and skips fitting it).
type SequentialConfig struct {
	// Window is how far ahead a transition reaches: the item at step p of a history links to
	// the items at steps p+1 … p+Window, a gap of g steps counting GapDecay^(g−1).
	Window   int
	GapDecay float32
	// History is how many of a user's latest items the transition scores start from; the
	// k-th latest (k = 0 for the last) counts HistoryDecay^k.
	History      int
	HistoryDecay float32
	// TwoStep weighs the two-step transition score (i → k → j through transitions
	// normalised per item), which reaches items nobody has yet gone to straight from the
	// history. Transitions themselves weigh 1.
	TwoStep float32
	// Similarity weighs the item-similarity score: a linear item–item model in the manner of
	// EASE and SLIS, solved for each item over its Neighbours most co-occurring items with
	// the L2 penalty Lambda × the mean number of histories an item appears in.
	Similarity float32
	Neighbours int
	Lambda     float32
	// SimilarityHistory and SimilarityDecay shape the profile the similarity score starts
	// from, like History and HistoryDecay: longer, for what a person likes in general.
	SimilarityHistory int
	SimilarityDecay   float32
	// Repeat weighs the user's own latest items, the k-th latest counting HistoryDecay^k,
	// for catalogues where people come back to what they just viewed or bought. It only
	// matters where seen items are not filtered out.
	Repeat float32
	// Popularity weighs how often each item occurs, a prior for short histories; a user
	// with no history always gets popularity.
	Popularity float32
	// MaxTransitions keeps each item's strongest MaxTransitions successors; 0 keeps all.
	MaxTransitions int
	// MaxUserItems caps how many of a user's latest distinct items enter the co-occurrence
	// counts, which bounds the quadratic cost of very active users (and crawlers).
	MaxUserItems int
	// Workers is the number of goroutines; 0 means GOMAXPROCS. The result does not depend on it.
	Workers int
}

// DefaultSequentialConfig returns the defaults, tuned on Amazon Beauty (leave-one-out,
// validation carved from train): transitions up to 5 steps ahead decaying by 0.6 a step,
// the last 8 items decaying by 0.35, two-step transitions at 0.3, item similarity at 1.2
// over 100 neighbours with λ = 3 × the mean item count, profile decay 0.8 over 50 items,
// a repeat weight of 1 (on the Diginetica sample, where a quarter of next views are
// re-views, validation rose from 0.152 at 0 to 0.188 at 1) and a faint popularity prior.
func DefaultSequentialConfig() SequentialConfig {
	return SequentialConfig{
		Window: 5, GapDecay: 0.6, History: 8, HistoryDecay: 0.35, TwoStep: 0.3,
		Similarity: 1.2, Neighbours: 100, Lambda: 3, SimilarityHistory: 50, SimilarityDecay: 0.8,
		Repeat: 1, Popularity: 0.01, MaxTransitions: 200, MaxUserItems: 200,
	}
}

// Sequential scores next items from the order in which a person met items. It blends, each
// scaled to a maximum of 1 per user: directed item transitions from the latest items
// (what people pick right after what this person just picked), two-step transitions, a
// neighbourhood-restricted linear item–item model over a recency-weighted profile (the
// similarity half of SLIST, Choi et al., WWW 2021), and a popularity prior. Everything is
// counted or solved in closed form, so fitting takes seconds. Interactions with a
// non-positive weight are ignored; repeated consecutive events on one item count once.
type Sequential struct {
	Config SequentialConfig

	n      int
	trans  seqCSR    // trans.row(i): successors of item i and their decayed counts
	two    seqCSR    // two.row(i): item i's strongest two-step successors (see seqTwoSteps)
	scale  []float32 // 1/(occurrences of i + 1): turns a transition row into probabilities
	sim    seqCSR    // sim.row(i): what item i adds to each item's similarity score
	pop    []float32 // occurrences, scaled to a maximum of 1
	users  seqCSR    // each fitted user's latest items, oldest first (values unused)
	lambda float32   // the absolute penalty used

	pool sync.Pool // *seqAcc
}

// seqCSR is a sparse matrix in compressed rows.
type seqCSR struct {
	ptr []int32
	idx []int32
	val []float32
}

func (c *seqCSR) row(i int32) ([]int32, []float32) {
	if i < 0 || int(i)+1 >= len(c.ptr) {
		return nil, nil
	}
	lo, hi := c.ptr[i], c.ptr[i+1]
	if c.val == nil {
		return c.idx[lo:hi], nil
	}
	return c.idx[lo:hi], c.val[lo:hi]
}

// Name returns "seq".
func (m *Sequential) Name() string { return "seq" }

// Describe returns the configuration in a line.
func (m *Sequential) Describe() string {
	c := m.Config
	s := fmt.Sprintf("window=%d gap=%g history=%d×%g twostep=%g", c.Window, c.GapDecay, c.History, c.HistoryDecay, c.TwoStep)
	if c.Similarity > 0 {
		s += fmt.Sprintf(" sim=%g(k=%d λ=%g×mean", c.Similarity, c.Neighbours, c.Lambda)
		if m.lambda > 0 {
			s += fmt.Sprintf("=%.4g", m.lambda)
		}
		s += fmt.Sprintf(" history=%d×%g)", c.SimilarityHistory, c.SimilarityDecay)
	}
	if c.Repeat > 0 {
		s += fmt.Sprintf(" repeat=%g", c.Repeat)
	}
	return s + fmt.Sprintf(" pop=%g", c.Popularity)
}

// NumItems returns the number of items the model was fitted on.
func (m *Sequential) NumItems() int { return m.n }

// Successors returns item i's strongest successors by index and their decayed transition
// counts, or nil for an item outside the model. The slices alias the model and must not be
// modified.
func (m *Sequential) Successors(i int32) ([]int32, []float32) { return m.trans.row(i) }

// ScoreUser writes into dst the scores of every item for user u of the fitted dataset,
// from their latest items; a user outside the model gets popularity. Safe for concurrent
// use after Fit.
func (m *Sequential) ScoreUser(u int32, dst []float32) {
	items, _ := m.users.row(u)
	m.score(items, dst, nil)
}

// ScoreHistory writes into dst the scores of a user whose history is items with their
// weights and Unix-second times, whether or not they were in the fitted dataset: the way
// to serve a history that changed after Fit. Items are ordered by time (stably, so equal
// times keep their order); non-positive weights and items outside the model are ignored.
func (m *Sequential) ScoreHistory(items []int32, weights []float32, times []int64, dst []float32) {
	m.score(m.history(items, weights, times), dst, nil)
}

// ScoreHistorySubset is ScoreHistory for the items of subset: the transitions from the
// history are sparse, so only the popularity prior, added to the subset alone, would
// cost the catalogue.
func (m *Sequential) ScoreHistorySubset(items []int32, weights []float32, times []int64, subset []int32, dst []float32) {
	if subset == nil {
		subset = []int32{}
	}
	m.score(m.history(items, weights, times), dst, subset)
}

// history returns the positive steps of a history, oldest first, without immediate repeats.
func (m *Sequential) history(items []int32, weights []float32, times []int64) []int32 {
	order := make([]int, 0, len(items))
	for q := range items {
		if weights[q] > 0 && items[q] >= 0 && int(items[q]) < m.n {
			order = append(order, q)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(times[a], times[b]) })
	hist := make([]int32, 0, len(order))
	for _, q := range order {
		hist = appendStep(hist, items[q])
	}
	return hist
}

// appendStep appends item to a history unless it repeats the latest step.
func appendStep(hist []int32, item int32) []int32 {
	if len(hist) > 0 && hist[len(hist)-1] == item {
		return hist
	}
	return append(hist, item)
}

// seqAcc is a dense accumulator that remembers which entries it touched. A scorer takes one
// from the pool for a request, and it serves the transition, two-step and similarity
// scores in turn (each is flushed, leaving it clear, before the next starts) and then marks
// the subset's items for popularity: its dense array is the one array of the catalogue's
// size a request reads and writes at random (400 KB at 100,000 items), where two
// accumulators and a mark array were three, and the less of that, the more of it stays in
// cache.
//
// It also keeps its largest value as it goes, so that flush need not read every touched
// entry again. An entry that grows can only raise the maximum, and one that shrinks
// leaves it be unless it held the maximum; only then (similarity weights can be negative)
// or when a value is NaN is the running maximum stale, and flush takes it the long way.
type seqAcc struct {
	val     []float32
	touched []int32
	top     float32 // max(0, every touched value), unless stale
	stale   bool
}

// add adds w × val[k] to entry idx[k] for every k, in order: each entry's sum is rounded
// the same way, whatever else the accumulator holds. An entry is touched when it first
// becomes non-zero; a sum that cancels to exactly zero is nudged to the smallest positive
// float32 so that it stays marked and is not listed twice.
func (a *seqAcc) add(idx []int32, val []float32, w float32) {
	acc := a.val
	val = val[:len(idx)]
	t := slices.Grow(a.touched, len(idx))
	n := len(t)
	t = t[:n+len(idx)] // room for every entry: each is written, and kept only if new
	top, stale := a.top, a.stale
	for k, j := range idx {
		old := acc[j]
		v := old + w*val[k]
		if v == 0 {
			v = math.SmallestNonzeroFloat32
		}
		acc[j] = v
		t[n] = j
		if old == 0 {
			n++ // branch-free: whether an entry is new is hard to predict
		}
		// Both tests are rarely true, so the branches cost next to nothing, where a
		// branch-free max would chain every step to the one before.
		if !(v <= top) { // a new maximum, or NaN
			top = v
			stale = stale || v != v
		} else if old >= top && old > 0 && v < old {
			stale = true // the maximum shrank: some other entry may now hold it
		}
	}
	a.touched, a.top, a.stale = t[:n], top, stale
}

// flush adds weight × val / max(val) to dst, the maximum taken over every touched entry,
// and clears the accumulator. With only (any order, repeats and out-of-range entries
// allowed) just those entries are written, each once: a store's stock of a few hundred
// items, of the thousands a history touches; nil writes every touched entry. Nothing is
// added when no entry is positive.
func (a *seqAcc) flush(dst []float32, weight float32, only []int32) {
	acc := a.val
	top := a.top
	if a.stale {
		top = a.max()
	}
	if top > 0 && weight != 0 {
		f := weight / top
		dst = dst[:len(acc)]
		if only == nil {
			// Every touched entry is non-zero and listed once: consumed here, it is
			// cleared here too.
			for _, j := range a.touched {
				dst[j] += f * acc[j]
				acc[j] = 0
			}
			a.touched, a.top, a.stale = a.touched[:0], 0, false
			return
		}
		for _, j := range only {
			if j < 0 || int(j) >= len(acc) {
				continue
			}
			if v := acc[j]; v != 0 {
				dst[j] += f * v
				acc[j] = 0 // consumed: a repeat of j in only adds nothing more
			}
		}
	}
	a.reset()
}

// max returns max(0, every touched value) as the builtin max would fold them: NaN if any
// is NaN. It tests rather than folds, since a new maximum is rare and a fold would chain
// every step to the one before.
func (a *seqAcc) max() float32 {
	acc := a.val
	var top float32
	for _, j := range a.touched {
		if v := acc[j]; !(v <= top) {
			if v != v {
				return v
			}
			top = v
		}
	}
	return top
}

// reset clears the accumulator.
func (a *seqAcc) reset() {
	acc := a.val
	for _, j := range a.touched {
		acc[j] = 0
	}
	a.touched, a.top, a.stale = a.touched[:0], 0, false
}

// score writes the blended scores for a history (oldest first) into dst, which has at least
// NumItems entries; any beyond (items added since Fit) score 0. With a subset (not nil),
// only its entries are exact: the others may hold anything.
func (m *Sequential) score(hist []int32, dst []float32, subset []int32) {
	if subset == nil {
		clear(dst)
	} else {
		// The sparse steps below add to the entries they touch, in the same order as for
		// the whole catalogue, so the subset's scores are the same floats.
		for _, i := range subset {
			if i >= 0 && int(i) < len(dst) {
				dst[i] = 0
			}
		}
	}
	dst = dst[:m.n]
	c := m.Config
	s, _ := m.pool.Get().(*seqAcc)
	if s == nil || len(s.val) != m.n {
		s = &seqAcc{val: make([]float32, m.n)}
	}
	// s goes back to the pool on the way out, not deferred: a scratch that a panic left
	// half-filled (entries set that its touched list does not yet hold) must not be reused.

	recent := hist[max(0, len(hist)-c.History):]
	w := float32(1)
	for k := len(recent) - 1; k >= 0; k-- {
		idx, val := m.trans.row(recent[k])
		s.add(idx, val, w)
		w *= c.HistoryDecay
	}
	scored := len(s.touched) > 0
	s.flush(dst, 1, subset)

	if c.TwoStep > 0 && len(m.two.ptr) == m.n+1 {
		m.twoStep(s, recent, dst, subset)
	}
	if c.Similarity > 0 {
		recent = hist[max(0, len(hist)-c.SimilarityHistory):]
		w = 1
		for k := len(recent) - 1; k >= 0; k-- {
			idx, val := m.sim.row(recent[k])
			s.add(idx, val, w)
			w *= c.SimilarityDecay
		}
		scored = scored || len(s.touched) > 0
		s.flush(dst, c.Similarity, subset)
	}
	if c.Repeat > 0 {
		recent = hist[max(0, len(hist)-c.History):]
		w = c.Repeat
		for k := len(recent) - 1; k >= 0; k-- {
			if i := recent[k]; int(i) < len(dst) {
				dst[i] += w
			}
			w *= c.HistoryDecay
		}
	}
	p := c.Popularity
	if !scored {
		p = 1
	}
	if p > 0 && len(m.pop) == m.n {
		if subset == nil {
			for j := range dst {
				dst[j] += p * m.pop[j]
			}
			m.pool.Put(s)
			return
		}
		// Once per item: the hybrid's list repeats history items that are also in stock.
		// The accumulator, clear after the flushes, marks the items done.
		acc := s.val
		pop := m.pop[:len(acc)]
		for _, j := range subset {
			if j >= 0 && int(j) < len(acc) && acc[j] == 0 {
				acc[j] = 1
				dst[j] += p * pop[j]
			}
		}
		for _, j := range subset {
			if j >= 0 && int(j) < len(acc) {
				acc[j] = 0
			}
		}
	}
	m.pool.Put(s)
}

// twoStep adds TwoStep × the two-step transition score, scaled to a maximum of 1: the
// recent items' two-step rows, the k-th latest weighing HistoryDecay^k.
func (m *Sequential) twoStep(s *seqAcc, recent []int32, dst []float32, subset []int32) {
	w := float32(1)
	for k := len(recent) - 1; k >= 0; k-- {
		idx, val := m.two.row(recent[k])
		s.add(idx, val, w)
		w *= m.Config.HistoryDecay
	}
	s.flush(dst, m.Config.TwoStep, subset)
}
