package eval_test

import (
	"context"
	"math"
	"testing"

	"github.com/qianmian/qianmian/eval"
	"github.com/qianmian/qianmian/model"
)

// fixedModel scores every item the same for everyone: scores[i].
type fixedModel struct{ scores []float32 }

func (m *fixedModel) Name() string                              { return "fixed" }
func (m *fixedModel) Describe() string                          { return "" }
func (m *fixedModel) Fit(context.Context, *model.Dataset) error { return nil }
func (m *fixedModel) ScoreUser(_ int32, dst []float32)          { copy(dst, m.scores) }

// log builds interactions from "user item time" triples with weight 1.
func log(rows ...any) []eval.Interaction {
	var out []eval.Interaction
	for k := 0; k < len(rows); k += 3 {
		out = append(out, eval.Interaction{User: rows[k].(string), Item: rows[k+1].(string), Time: int64(rows[k+2].(int)), Weight: 1})
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestEvaluate_KnownRanking(t *testing.T) {
	t.Parallel()
	l2 := func(x float64) float64 { return 1 / math.Log2(x) }
	// Items get indexes in order of appearance, train first: a f b c d e. The model ranks
	// them by fixed scores: b and c tie (b, the lower index, first), then a, d, e, f.
	train := log("u1", "a", 1, "u2", "a", 1, "u3", "a", 1, "u4", "f", 1)
	test := log(
		"u1", "b", 2, // ranking b c a d …: hit at 1
		"u2", "c", 2, // hit at 2, behind its tie partner b
		"u3", "d", 2, "u3", "e", 2, "u3", "b", 2, // |relevant| = 3 > k = 2: b hit at 1, c miss
		"u4", "f", 2, // f is last: miss
	)
	s := eval.NewSplit(train, test)
	m := &fixedModel{scores: scoresByID(s, map[string]float32{"a": 5, "b": 9, "c": 9, "d": 4, "e": 3, "f": 1})}
	e := &eval.Evaluator{K: 2, Workers: 2}
	got, err := e.Evaluate(context.Background(), m, s)
	if err != nil {
		t.Fatal(err)
	}
	// Per user: NDCG, Recall, HR, MRR.
	u1 := [4]float64{1, 1, 1, 1}
	u2 := [4]float64{l2(3), 1, 1, 0.5}
	u3 := [4]float64{1 / (1 + l2(3)), 1.0 / 3, 1, 1} // IDCG over min(k, 3) = 2 hits
	u4 := [4]float64{0, 0, 0, 0}
	want := eval.Metrics{K: 2, Users: 4,
		NDCG:     (u1[0] + u2[0] + u3[0] + u4[0]) / 4,
		Recall:   (u1[1] + u2[1] + u3[1] + u4[1]) / 4,
		HR:       (u1[2] + u2[2] + u3[2] + u4[2]) / 4,
		MRR:      (u1[3] + u2[3] + u3[3] + u4[3]) / 4,
		Coverage: 2.0 / 6, // every list is [b c]
	}
	if !near(got.NDCG, want.NDCG) || !near(got.Recall, want.Recall) || !near(got.HR, want.HR) ||
		!near(got.MRR, want.MRR) || !near(got.Coverage, want.Coverage) || got.Users != want.Users {
		t.Fatalf("Evaluate()=%+v, want %+v", got, want)
	}
}

func TestEvaluate_ExcludeSeen(t *testing.T) {
	t.Parallel()
	// u1 met a, the top item, in train and meets it again in test, then b.
	train := log("u1", "a", 1, "u2", "b", 1, "u2", "c", 1)
	test := log("u1", "a", 2, "u1", "b", 3)
	s := eval.NewSplit(train, test)
	if s.SeenInTest != 1 {
		t.Fatalf("SeenInTest=%d, want 1", s.SeenInTest)
	}
	m := &fixedModel{scores: scoresByID(s, map[string]float32{"a": 3, "b": 2, "c": 1})}
	for _, tt := range []struct {
		exclude      bool
		ndcg, recall float64
	}{
		{false, 1, 1},                         // [a b]: both hits
		{true, 1 / (1 + 1/math.Log2(3)), 0.5}, // [b c]: a can no longer be hit
	} {
		e := &eval.Evaluator{K: 2, ExcludeSeen: tt.exclude}
		got, err := e.Evaluate(context.Background(), m, s)
		if err != nil {
			t.Fatal(err)
		}
		if !near(got.NDCG, tt.ndcg) || !near(got.Recall, tt.recall) {
			t.Errorf("exclude=%t: NDCG=%v Recall=%v, want %v %v", tt.exclude, got.NDCG, got.Recall, tt.ndcg, tt.recall)
		}
	}
}

// scoresByID returns a score per item of s from scores by item id (0 for the rest).
func scoresByID(s *eval.Split, byID map[string]float32) []float32 {
	out := make([]float32, s.Train.NumItems())
	for id, v := range byID {
		i, ok := s.Train.Items.Index(id)
		if !ok {
			panic("unknown item " + id)
		}
		out[i] = v
	}
	return out
}

func TestNewSplit_SkipsAndCounts(t *testing.T) {
	t.Parallel()
	train := log("u1", "a", 1, "u2", "b", 1, "u3", "c", 1)
	test := log("u1", "b", 2, "u4", "a", 2, "u5", "c", 2, "u5", "a", 3)
	test = append(test, eval.Interaction{User: "u2", Item: "a", Time: 2, Weight: -8}) // a return: not relevant
	s := eval.NewSplit(train, test)
	if s.Users() != 1 || s.UsersNoTest != 2 || s.UsersNoTrain != 2 {
		t.Fatalf("Users=%d UsersNoTest=%d UsersNoTrain=%d, want 1 2 2", s.Users(), s.UsersNoTest, s.UsersNoTrain)
	}
	if s.Train.NumItems() != 3 || s.TestItems() != 1 {
		t.Fatalf("NumItems=%d TestItems=%d, want 3 1", s.Train.NumItems(), s.TestItems())
	}
	e := &eval.Evaluator{K: 1}
	got, err := e.Evaluate(context.Background(), &fixedModel{scores: scoresByID(s, map[string]float32{"b": 1})}, s)
	if err != nil {
		t.Fatal(err)
	}
	if got.Users != 1 || got.NDCG != 1 {
		t.Fatalf("Evaluate()=%+v, want one user with NDCG 1", got)
	}
}

func TestEvaluate_WorkersDoNotChangeResult(t *testing.T) {
	t.Parallel()
	var train, test []eval.Interaction
	for u := 0; u < 300; u++ {
		for k := 0; k < 6; k++ {
			it := eval.Interaction{User: string(rune('A'+u%26)) + string(rune('a'+u/26)), Item: string(rune('a' + (u*7+k*3)%26)), Time: int64(k), Weight: 1}
			if k < 4 {
				train = append(train, it)
			} else {
				test = append(test, it)
			}
		}
	}
	s := eval.NewSplit(train, test)
	scores := make([]float32, s.Train.NumItems())
	for i := range scores {
		scores[i] = float32((i * 37) % 11)
	}
	var first eval.Metrics
	for w := 1; w <= 4; w++ {
		e := &eval.Evaluator{K: 5, ExcludeSeen: true, Workers: w}
		got, err := e.Evaluate(context.Background(), &fixedModel{scores: scores}, s)
		if err != nil {
			t.Fatal(err)
		}
		if w == 1 {
			first = got
		} else if got != first {
			t.Fatalf("workers=%d: %+v, want %+v", w, got, first)
		}
	}
}

func TestNewSplitOver_KeepsTheUniverse(t *testing.T) {
	t.Parallel()
	full := eval.NewSplit(log("u1", "a", 1, "u2", "b", 1), log("u1", "c", 2))
	val := eval.NewSplitOver(full.Train.Items, log("u1", "b", 1, "u3", "d", 1), log("u1", "a", 2))
	for k, id := range []string{"a", "b", "c", "d"} {
		if i, ok := val.Train.Items.Index(id); !ok || int(i) != k {
			t.Fatalf("item %s at %d (%t), want %d", id, i, ok, k)
		}
	}
	if full.Train.Items.Len() != 3 || val.Train.NumItems() != 4 {
		t.Fatalf("universe changed: %d, %d items", full.Train.Items.Len(), val.Train.NumItems())
	}
}
