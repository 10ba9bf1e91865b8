package model_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian/model"
)

// The tests in this file measure content and hybrid models on the public datasets of
// ../shared/data (read in place, never copied). They take minutes, so they run only when
// QIANMIAN_EVAL is set (to "1", or to a data directory) and the data is there:
//
//	QIANMIAN_EVAL=1 go test ./model -run Data -v -timeout 30m

func dataDir(t *testing.T, sub string) string {
	t.Helper()
	env := os.Getenv("QIANMIAN_EVAL")
	if env == "" {
		t.Skip("set QIANMIAN_EVAL=1 (or a data directory) to measure on the shared datasets")
	}
	root := filepath.Join("..", "..", "shared", "data")
	if env != "1" {
		root = env
	}
	dir := filepath.Join(root, sub)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("dataset not available: %v", err)
	}
	return dir
}

// split is a train dataset and each user's test items.
type split struct {
	train *model.Dataset
	test  [][]int32
}

type event struct {
	user, item string
	at         int64
}

// splitEvents orders each user's events by (time, numeric item id) and holds out the last
// hold(n) of their n events.
func splitEvents(events []event, hold func(n int) int) split {
	byUser := map[string][]event{}
	var users []string
	for _, e := range events {
		if _, ok := byUser[e.user]; !ok {
			users = append(users, e.user)
		}
		byUser[e.user] = append(byUser[e.user], e)
	}
	b := model.NewDatasetBuilder()
	for _, e := range events {
		b.Items.Add(e.item)
	}
	type held struct{ user, item string }
	var test []held
	for _, u := range users {
		es := byUser[u]
		slices.SortStableFunc(es, func(a, b event) int {
			if a.at != b.at {
				return int(a.at - b.at)
			}
			x, _ := strconv.Atoi(a.item)
			y, _ := strconv.Atoi(b.item)
			return x - y
		})
		cut := len(es) - hold(len(es))
		for k, e := range es {
			if k < cut {
				b.Add(e.user, e.item, 1, e.at)
			} else {
				test = append(test, held{e.user, e.item})
			}
		}
	}
	s := split{train: b.Build()}
	s.test = make([][]int32, s.train.NumUsers())
	for _, h := range test {
		u, ok := s.train.Users.Index(h.user)
		if !ok {
			continue
		}
		i, _ := s.train.Items.Index(h.item)
		seen, _, _ := s.train.Row(u)
		if !slices.Contains(seen, i) && !slices.Contains(s.test[u], i) {
			s.test[u] = append(s.test[u], i)
		}
	}
	return s
}

func readLines(t *testing.T, path string, f func(string)) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f(sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// movieLens returns the temporal split of MovieLens 100K (the last floor(0.2·n) of each
// user's ratings) and the movies' genres, year and title as features.
func movieLens(t *testing.T) (split, *model.ItemFeatures) {
	dir := dataDir(t, "movielens-100k")
	var events []event
	readLines(t, filepath.Join(dir, "u.data"), func(s string) {
		f := strings.Split(s, "\t")
		at, _ := strconv.ParseInt(f[3], 10, 64)
		events = append(events, event{f[0], f[1], at})
	})
	sp := splitEvents(events, func(n int) int { return int(0.2*float64(n) + 1e-9) })
	genres := []string{"unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
		"Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
		"Sci-Fi", "Thriller", "War", "Western"}
	fb := model.NewItemFeaturesBuilder(model.NewIDMap(0))
	readLines(t, filepath.Join(dir, "u.item"), func(s string) {
		f := strings.Split(s, "|")
		var attrs []string
		cat := ""
		for g, flag := range f[5:] {
			if flag == "1" {
				attrs = append(attrs, "genre="+genres[g])
				if cat == "" {
					cat = genres[g]
				}
			}
		}
		if len(f[2]) >= 4 {
			attrs = append(attrs, "year="+f[2][len(f[2])-4:])
		}
		fb.Add(f[0], []string{cat}, "", 0, nil, f[1])
		fb.AddTokens(f[0], model.FeatureAttr, attrs)
	})
	return sp, fb.Build()
}

// beauty returns the leave-one-out split of Amazon Beauty (positions as times) and the
// anonymised attribute ids as features.
func beauty(t *testing.T) (split, *model.ItemFeatures) {
	dir := dataDir(t, "amazon-s3rec-seq")
	var events []event
	readLines(t, filepath.Join(dir, "Beauty.txt"), func(s string) {
		f := strings.Fields(s)
		for k, item := range f[1:] {
			events = append(events, event{f[0], item, int64(k + 1)})
		}
	})
	sp := splitEvents(events, func(n int) int { return min(1, n-1) })
	raw, err := os.ReadFile(filepath.Join(dir, "Beauty_item2attributes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var attrs map[string][]int
	if err := json.Unmarshal(raw, &attrs); err != nil {
		t.Fatal(err)
	}
	fb := model.NewItemFeaturesBuilder(model.NewIDMap(0))
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range attrs {
			if !yield(id) {
				return
			}
		}
	})
	for _, id := range ids {
		var toks []string
		for _, a := range attrs[id] {
			toks = append(toks, "attr="+strconv.Itoa(a))
		}
		fb.AddTokens(id, model.FeatureAttr, toks)
	}
	return sp, fb.Build()
}

// evaluate returns m's NDCG@10 and HR@10 over the users with test items, ranking every item
// they did not meet in train.
func evaluate(m model.Model, s split) (ndcg, hr float64) {
	scores := make([]float32, s.train.NumItems())
	users := 0
	for u, rel := range s.test {
		if len(rel) == 0 {
			continue
		}
		m.ScoreUser(int32(u), scores)
		seen, _, _ := s.train.Row(int32(u))
		for _, i := range seen {
			scores[i] = float32(nan32())
		}
		top := model.TopK(nil, scores, 10)
		ndcg += model.NDCG(top, rel, 10)
		hr += model.HitRate(top, rel, 10)
		users++
	}
	return ndcg / float64(users), hr / float64(users)
}

func nan32() float64 { var z float64; return z / z }

func fitAndReport(t *testing.T, name string, m model.Model, s split) {
	t.Helper()
	start := time.Now()
	if err := m.Fit(context.Background(), s.train); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	secs := time.Since(start).Seconds()
	ndcg, hr := evaluate(m, s)
	t.Logf("%-10s ndcg@10=%.4f hr@10=%.4f fit=%.1fs  %s", name, ndcg, hr, secs, m.Describe())
}

// dataBases returns the base families named in QIANMIAN_EVAL_BASES (comma-separated), by
// default def.
func dataBases(def string) []model.Family {
	all := []model.Family{model.PopularityFamily(), model.ItemKNNFamily(), model.IALSFamily(), model.EASEFamily(), model.SequentialFamily()}
	names := os.Getenv("QIANMIAN_EVAL_BASES")
	if names == "" {
		names = def
	}
	var out []model.Family
	for _, f := range all {
		if slices.Contains(strings.Split(names, ","), f.Name) {
			out = append(out, f)
		}
	}
	return out
}

func TestData_MovieLens(t *testing.T) {
	s, f := movieLens(t)
	bases := dataBases("pop,itemknn,ials,ease,seq")
	for _, fam := range append(bases, model.ContentFamily(f)) {
		fitAndReport(t, fam.Name, fam.Configs(1, 1)[0], s)
	}
	fitAndReport(t, "hybrid", model.HybridFamily(bases, f).Configs(1, 1)[0], s)
}

func TestData_Beauty(t *testing.T) {
	s, f := beauty(t)
	bases := dataBases("pop,itemknn,ials,seq") // EASE on 12k items takes minutes on 2 cores
	for _, fam := range append(bases, model.ContentFamily(f)) {
		fitAndReport(t, fam.Name, fam.Configs(1, 1)[0], s)
	}
	h := model.HybridFamily(bases, f).Configs(1, 1)[0].(*model.Hybrid)
	h.Config.ValidLast = 1
	fitAndReport(t, "hybrid", h, s)
}
