package model_test

import (
	"math"
	"testing"

	"github.com/qianmian/qianmian/model"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	l2 := func(x float64) float64 { return 1 / math.Log2(x) }
	for _, tt := range []struct {
		name                  string
		ranked, relevant      []int32
		k                     int
		ndcg, recall, hr, mrr float64
	}{
		{"HitFirst", []int32{7, 3}, []int32{7}, 2, 1, 1, 1, 1},
		{"HitSecond", []int32{3, 7}, []int32{7}, 2, l2(3), 1, 1, 0.5},
		{"Miss", []int32{1, 2}, []int32{9}, 2, 0, 0, 0, 0},
		{"HitBeyondK", []int32{1, 2, 9}, []int32{9}, 2, 0, 0, 0, 0},
		{"TwoOfThree", []int32{5, 1, 6, 2}, []int32{5, 6, 8}, 4,
			(1 + l2(4)) / (1 + l2(3) + l2(4)), 2.0 / 3, 1, 1},
		{"IdealCappedAtK", []int32{4, 5}, []int32{1, 2, 3, 5}, 2, l2(3) / (1 + l2(3)), 0.25, 1, 0.5},
		{"EmptyRelevant", []int32{1}, nil, 1, 0, 0, 0, 0},
		{"ShortRanking", []int32{2}, []int32{2, 3}, 10, 1 / (1 + l2(3)), 0.5, 1, 1},
		{"ZeroK", []int32{2}, []int32{2}, 0, 0, 0, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, m := range []struct {
				name      string
				got, want float64
			}{
				{"NDCG", model.NDCG(tt.ranked, tt.relevant, tt.k), tt.ndcg},
				{"Recall", model.Recall(tt.ranked, tt.relevant, tt.k), tt.recall},
				{"HitRate", model.HitRate(tt.ranked, tt.relevant, tt.k), tt.hr},
				{"MRR", model.MRR(tt.ranked, tt.relevant, tt.k), tt.mrr},
			} {
				if math.Abs(m.got-m.want) > 1e-9 {
					t.Errorf("%s()=%v, want %v", m.name, m.got, m.want)
				}
			}
		})
	}
}

func TestMetrics_LargeRelevantSet(t *testing.T) {
	t.Parallel()
	relevant := make([]int32, 40)
	for i := range relevant {
		relevant[i] = int32(100 + i)
	}
	ranked := []int32{1, 139, 2}
	if got := model.Recall(ranked, relevant, 3); math.Abs(got-1.0/40) > 1e-12 {
		t.Fatalf("Recall()=%v, want 1/40", got)
	}
	if got := model.MRR(ranked, relevant, 3); got != 0.5 {
		t.Fatalf("MRR()=%v, want 0.5", got)
	}
}
