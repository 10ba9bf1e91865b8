package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qianmian/qianmian/eval"
)

// TestEval_TrainTestJSON runs popularity on a log small enough to rank by hand.
//
// Train (popularity by users): a 5, b 2, c 2, d 1; e appears only in the test. Items are
// indexed in order of appearance (a b c d e), which breaks the b–c tie. With seen items
// excluded and k = 2:
//
//	u1 met a b:   ranks c d  test d     hit at 2   NDCG 1/log2(3)  recall 1    HR 1  MRR 1/2
//	u2 met a c:   ranks b d  test e     miss       0               0           0     0
//	u3 met a b c: ranks d e  test d e   hits 1, 2  1               1           1     1
//	u4 met a d:   ranks b c  test b c e hits 1, 2  1               2/3         1     1
//	u5 met a:     no test items (skipped); u6 is only in the test (skipped).
func TestEval_TrainTestJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	train := writeFile(t, dir, "train.csv", "user_id,item_id,timestamp,event\n"+
		"u1,a,1700000000,view\nu1,b,2023-11-14T22:13:21Z,purchase\n"+
		"u2,a,1700000000,view\nu2,c,1700000001,cart\n"+
		"u3,a,1700000000,view\nu3,b,1700000001,view\nu3,c,1700000002,view\n"+
		"u4,a,1700000000,click\nu4,d,1700000001,view\n"+
		"u5,a,1700000000,view\n")
	test := writeFile(t, dir, "test.csv", "user_id,item_id,timestamp\n"+
		"u1,d,1700001000\nu2,e,1700001000\nu3,d,1700001000\nu3,e,1700001001\n"+
		"u4,b,1700001000\nu4,c,1700001000\nu4,e,1700001000\nu6,a,1700001000\n")
	code, out, errOut := run(t, "eval", "--train", train, "--test", test, "--k", "2", "--models", "pop", "--budget", "0", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Models []map[string]any `json:"models"`
		Best   string           `json:"best"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got.Models) != 1 || got.Best != "pop" {
		t.Fatalf("got %s", out)
	}
	m := got.Models[0]
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := "config coverage hr@2 mrr@2 name ndcg@2 peak_mb recall@2 train_seconds"; strings.Join(keys, " ") != want {
		t.Fatalf("keys %v, want %s", keys, want)
	}
	l2 := 1 / math.Log2(3)
	for key, want := range map[string]float64{
		"ndcg@2":   (l2 + 0 + 1 + 1) / 4,
		"recall@2": (1 + 0 + 1 + 2.0/3) / 4,
		"hr@2":     3.0 / 4,
		"mrr@2":    (0.5 + 0 + 1 + 1) / 4,
		"coverage": 4.0 / 5, // b c d e
	} {
		if v, _ := m[key].(float64); math.Abs(v-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", key, m[key], want)
		}
	}
	if m["name"] != "pop" || m["config"] != "half_life=off weighted=false" {
		t.Errorf("name %v config %v", m["name"], m["config"])
	}
	if !strings.Contains(errOut, "users_without_test=1") || !strings.Contains(errOut, "users_without_train=1") {
		t.Errorf("progress does not count the skipped users: %s", errOut)
	}

	// The table form names the same figures.
	code, out, errOut = run(t, "eval", "--train", train, "--test", test, "--k", "2", "--budget", "0", "--quiet")
	if code != 0 || !strings.Contains(out, "NDCG@2") || !strings.Contains(out, "itemknn") || errOut != "" {
		t.Fatalf("table run: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestEval_BadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := writeFile(t, dir, "good.csv", "user_id,item_id,timestamp\nu1,a,1\nu1,b,2\n")
	bad := writeFile(t, dir, "bad.csv", "user_id,item_id,timestamp,event\nu1,a,1,view\nu1,b,soon,view\n")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"BadRow", []string{"--train", bad, "--test", good}, "--train " + bad + ": column timestamp: line 3"},
		{"MissingFile", []string{"--train", filepath.Join(dir, "nope.csv"), "--test", good}, "--train"},
		{"NoInput", nil, "--train and --test"},
		{"BadK", []string{"--train", good, "--test", good, "--k", "0"}, "--k"},
		{"BadModel", []string{"--train", good, "--test", good, "--models", "pop,nope"}, "--models"},
		{"BadSplit", []string{"--dataset", "movielens-100k", "--split", "random"}, "--split"},
		{"BadDataset", []string{"--dataset", "netflix"}, "--dataset"},
		{"BadBudget", []string{"--train", good, "--test", good, "--budget", "-1s"}, "--budget"},
		{"BothModes", []string{"--train", good, "--test", good, "--dataset", "diginetica"}, "either --dataset"},
		{"UnknownFlag", []string{"--nope"}, "nope"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, append([]string{"eval"}, tt.args...)...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
		})
	}
}

func TestEval_ReportRewritesTheTable(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every public dataset")
	}
	dataDir := os.Getenv("QIANMIAN_DATA_DIR")
	if dataDir == "" {
		dataDir = filepath.Join("..", "..", "..", "shared", "data")
	}
	if _, err := os.Stat(dataDir); err != nil {
		t.Skipf("no shared data folder (%v): set QIANMIAN_DATA_DIR to run", err)
	}
	t.Parallel()
	doc := writeFile(t, t.TempDir(), "quality.md", "# Quality\n\n"+eval.ResultsMarkers.Begin+"\nold\n"+eval.ResultsMarkers.End+"\n\nafter\n")
	code, out, errOut := run(t, "eval", "--report", doc, "--data-dir", dataDir, "--models", "pop", "--budget", "0", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range append(eval.DatasetNames(), "| movielens-100k | temporal | **pop** | 0.1109", "\nafter\n", "# Quality") {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "\nold\n") || !strings.Contains(out, "amazon-beauty") {
		t.Errorf("old table kept or nothing printed:\n%s\n%s", got, out)
	}
}
