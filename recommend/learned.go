package recommend

import (
	"math"
	"strings"

	"github.com/qianmian/qianmian/model"
)

// learned proposes the items the learned model scores highest for the visitor's live
// history (the ring of recent events, with their weights and times), among the store's
// in-stock items, so a ranking follows new behaviour at once without retraining. Items of
// the history itself are left to the other sources and the rebuy rule.
func (q *query) learned() {
	s, sc := q.snap, q.sc
	if s.learned == nil {
		return
	}
	sc.hItems, sc.hW, sc.hT = sc.hItems[:0], sc.hW[:0], sc.hT[:0]
	for _, ev := range sc.view.events {
		if m := lookup(s.toModel, ev.item); m >= 0 {
			sc.hItems, sc.hW, sc.hT = append(sc.hItems, m), append(sc.hW, ev.w), append(sc.hT, ev.at)
		}
	}
	if len(sc.hItems) == 0 {
		return
	}
	n := len(s.fromModel)
	if cap(sc.mScores) < n {
		sc.mScores = make([]float32, n)
	}
	scores := sc.mScores[:n]
	nan := float32(math.NaN())
	if ss, ok := s.learned.(model.SubsetScorer); ok && q.st.modelStock != nil {
		// Score the store's stock only, and take the top of it without a catalogue pass.
		stock := q.st.modelStock
		if ps, ok := ss.(model.PreparedScorer); ok && q.st.modelPrep != nil {
			ps.ScorePrepared(sc.hItems, sc.hW, sc.hT, stock, q.st.modelPrep, nil, scores)
		} else {
			ss.ScoreHistorySubset(sc.hItems, sc.hW, sc.hT, stock, scores)
		}
		for _, m := range sc.hItems {
			scores[m] = nan
		}
		sc.mSub = sc.mSub[:0]
		for _, m := range stock {
			sc.mSub = append(sc.mSub, scores[m])
		}
		sc.mTop = model.TopK(sc.mTop[:0], sc.mSub, 2*q.n+10)
		for k, j := range sc.mTop {
			sc.mTop[k] = stock[j]
		}
	} else {
		s.learned.ScoreHistory(sc.hItems, sc.hW, sc.hT, scores)
		for m, r := range s.fromModel {
			if r < 0 || !q.st.stock.has(r) {
				scores[m] = nan
			}
		}
		for _, m := range sc.hItems {
			scores[m] = nan
		}
		sc.mTop = model.TopK(sc.mTop[:0], scores, 2*q.n+10)
	}
	if len(sc.mTop) == 0 || math.IsInf(float64(scores[sc.mTop[0]]), 0) {
		return
	}
	best := scores[sc.mTop[0]]
	if s.learnedName == hybridName {
		// The ranker's scores are relative (any sign): map the list onto (0, 1] by rank of
		// score, the best 1 and the last ranked finite item just above 0.
		lo := best
		for _, m := range sc.mTop {
			if v := scores[m]; !math.IsInf(float64(v), -1) && v == v {
				lo = v
			}
		}
		span := best - lo
		for _, m := range sc.mTop {
			v := scores[m]
			if math.IsInf(float64(v), -1) || v != v {
				break
			}
			w := float32(1)
			if span > 0 {
				w = 0.05 + 0.95*(v-lo)/span
			}
			sc.cands[sc.cand(s.fromModel[m])].src[srcModel] = w
		}
		return
	}
	if !(best > 0) {
		return
	}
	for _, m := range sc.mTop {
		v := scores[m] / best
		if !(v > 0) {
			break
		}
		sc.cands[sc.cand(s.fromModel[m])].src[srcModel] = v
	}
}

// modelReason names the visitor's latest item of the candidate's leaf category (else of
// its parent) that the model scored from, or says in general what it learned from.
func (q *query) modelReason(c *candidate) string {
	info := q.snap.items[c.item]
	events := q.sc.view.events
	for _, sameParent := range []bool{false, true} {
		for k := len(events) - 1; k >= 0; k-- {
			ev := events[k]
			if ev.w <= 0 || ev.item == c.item {
				continue
			}
			h := q.snap.items[ev.item]
			if h.cat == info.cat && info.cat >= 0 || sameParent && h.parent == info.parent && info.parent >= 0 {
				return "picked for you " + afterItem(ev.kind, h.title)
			}
		}
	}
	var did []string
	var seen [kindReturn + 1]bool
	for _, ev := range events {
		if ev.w > 0 && !seen[ev.kind] {
			seen[ev.kind] = true
		}
	}
	for _, k := range []kind{kindView, kindFavorite, kindCart, kindPurchase} {
		if seen[k] || k == kindView && seen[kindClick] {
			did = append(did, verbOf(k))
		}
	}
	if len(did) == 0 {
		return "picked for you"
	}
	return "picked for you from what you " + strings.Join(did, " and ")
}

// afterItem says what the visitor did with an item, to end "picked for you …".
func afterItem(k kind, title string) string {
	switch k {
	case kindPurchase:
		return "after you bought " + title
	case kindCart:
		return "with " + title + " in your cart"
	case kindFavorite:
		return "after you saved " + title
	}
	return "after you viewed " + title
}

func verbOf(k kind) string {
	switch k {
	case kindPurchase:
		return "bought"
	case kindCart:
		return "put in your cart"
	case kindFavorite:
		return "saved"
	case kindReview:
		return "reviewed"
	}
	return "viewed"
}
