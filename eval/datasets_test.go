package eval_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/qianmian/qianmian/eval"
	"github.com/qianmian/qianmian/model"
)

// dataDir returns the shared data folder ($QIANMIAN_DATA_DIR, or ../shared/data beside the
// repository) or skips the test when it is absent.
func dataDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("QIANMIAN_DATA_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "data")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no shared data folder (%v): set QIANMIAN_DATA_DIR to run", err)
	}
	return dir
}

func loadDataset(t *testing.T, name string) *eval.Source {
	t.Helper()
	src, err := eval.LoadDataset(dataDir(t), name)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestMovieLens100K_TemporalSplit(t *testing.T) {
	t.Parallel()
	src := loadDataset(t, "movielens-100k")
	if len(src.Log) != 100_000 || src.Items.Len() != 1682 || !src.ExcludeSeen {
		t.Fatalf("read %d ratings, %d items, exclude seen %t; want 100000, 1682, true", len(src.Log), src.Items.Len(), src.ExcludeSeen)
	}
	perUser := map[string]int{}
	for _, x := range src.Log {
		perUser[x.User]++
	}
	wantTest := 0
	for _, n := range perUser {
		wantTest += n / 5 // floor(0.2·n)
	}
	train, test := src.Protocol.Split(src.Log)
	if len(test) != wantTest || len(train) != 100_000-wantTest {
		t.Fatalf("split %d train / %d test, want %d / %d", len(train), len(test), 100_000-wantTest, wantTest)
	}
	if wantTest != 19633 {
		t.Fatalf("Σ floor(0.2·n_u) = %d, want 19633", wantTest)
	}
	s := eval.NewSplit(train, test)
	if s.Users() != 943 || s.UsersNoTest != 0 || s.UsersNoTrain != 0 || s.Train.NumItems() != 1682 {
		t.Fatalf("split users %d (no test %d, no train %d), items %d", s.Users(), s.UsersNoTest, s.UsersNoTrain, s.Train.NumItems())
	}
	// Popularity on this split is the reference the issue quotes for Gorse: 0.111.
	m := &model.PopularityModel{}
	if err := m.Fit(context.Background(), s.Train); err != nil {
		t.Fatal(err)
	}
	got, err := (&eval.Evaluator{K: 10, ExcludeSeen: true}).Evaluate(context.Background(), m, s)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.NDCG-0.1109) > 0.0005 {
		t.Fatalf("popularity NDCG@10 = %.4f, want 0.1109", got.NDCG)
	}
}

func TestAmazonBeauty_LeaveOneOut(t *testing.T) {
	t.Parallel()
	src := loadDataset(t, "amazon-beauty")
	train, test := src.Protocol.Split(src.Log)
	if len(src.Log) != 198_502 || len(test) != 22_363 || len(train) != 198_502-22_363 {
		t.Fatalf("%d interactions split %d / %d, want 198502 split 176139 / 22363", len(src.Log), len(train), len(test))
	}
	if src.Items.Len() != 12_101 {
		t.Fatalf("%d items with attributes, want 12101", src.Items.Len())
	}
	_, val := src.Protocol.Split(train)
	if len(val) != 22_363 {
		t.Fatalf("validation has %d interactions, want one per user", len(val))
	}
}

func TestDunnhumby_LastWeeks(t *testing.T) {
	t.Parallel()
	src := loadDataset(t, "dunnhumby")
	p, ok := src.Protocol.(eval.LastWeeks)
	if !ok || len(src.Log) != 75_000 || len(p.Starts) != 53 || src.ExcludeSeen {
		t.Fatalf("read %d lines, protocol %T with %d weeks, exclude seen %t", len(src.Log), src.Protocol, len(p.Starts), src.ExcludeSeen)
	}
	train, test := src.Protocol.Split(src.Log)
	cut := p.Starts[len(p.Starts)-eval.DunnhumbyTestWeeks]
	for _, x := range test {
		if x.Time < cut {
			t.Fatalf("test line at %d before the cut %d", x.Time, cut)
		}
	}
	for _, x := range train {
		if x.Time >= cut {
			t.Fatalf("train line at %d after the cut %d", x.Time, cut)
		}
	}
	if it, ok := src.Items.Find(src.Log[0].Item); !ok || len(it.Category) == 0 && len(it.Attrs) == 0 {
		t.Fatalf("product %s: %+v, %t", src.Log[0].Item, it, ok)
	}
}

func TestDiginetica_Sessions(t *testing.T) {
	t.Parallel()
	src := loadDataset(t, "diginetica")
	sessions := map[string]int{}
	for _, x := range src.Log {
		sessions[x.User]++
	}
	long := 0
	for _, n := range sessions {
		if n > 1 {
			long++
		}
	}
	_, test := src.Protocol.Split(src.Log)
	// PROVENANCE.md says 12,390 views, but the file holds 12,391 rows after its header (the
	// last line has no newline, which wc -l does not count).
	if len(src.Log) != 12_391 || len(sessions) != 2_986 || len(test) != long {
		t.Fatalf("%d views, %d sessions, %d test; want 12391, 2986, %d (sessions with two views or more)", len(src.Log), len(sessions), len(test), long)
	}
}
