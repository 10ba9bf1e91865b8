package eval

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qianmian/qianmian"
)

// Source is an interaction log ready to evaluate: its name, catalogue, the protocol it is
// judged by, and whether its domain excludes what a user already met.
type Source struct {
	Name        string
	Log         []Interaction
	Items       *Items // nil when the dataset has no item attributes
	Protocol    Protocol
	ExcludeSeen bool
}

// DunnhumbyTestWeeks is how many of the last weeks of the dunnhumby year are the test (and,
// carved from train, the validation): eight weeks, about 15% of the receipts, enough for
// most sampled households to have a test basket.
const DunnhumbyTestWeeks = 8

// DatasetNames lists the datasets LoadDataset reads, in the order reports show them.
func DatasetNames() []string {
	return []string{"movielens-100k", "amazon-beauty", "dunnhumby", "diginetica"}
}

// datasetDirs names each dataset's folder inside the shared data directory.
var datasetDirs = map[string]string{
	"movielens-100k": "movielens-100k",
	"amazon-beauty":  "amazon-s3rec-seq",
	"dunnhumby":      "dunnhumby-completejourney-sample",
	"diginetica":     "diginetica-srgnn-sample",
}

// LoadDataset reads the named dataset from dir (the shared data folder) in its own format
// and returns it with the protocol it is judged by:
//
//	movielens-100k  u.data; every rating an interaction of weight 1; Temporal{0.2}; seen excluded
//	amazon-beauty   Beauty.txt; position as time; LeaveOneOut; seen excluded
//	dunnhumby       transactions_sample; a receipt line weighs 1; the last 8 weeks; repeats allowed
//	diginetica      sessions as users; LeaveOneOut; re-views allowed
//
// An unknown name is an EINVALID error; a missing file is reported with its path.
func LoadDataset(dir, name string) (*Source, error) {
	sub, ok := datasetDirs[name]
	if !ok {
		return nil, qianmian.Invalid("dataset", "unknown dataset %q: want one of %s", name, strings.Join(DatasetNames(), ", "))
	}
	dir = filepath.Join(dir, sub)
	src := &Source{Name: name, ExcludeSeen: true}
	var err error
	switch name {
	case "movielens-100k":
		src.Protocol = Temporal{Frac: 0.2}
		if src.Log, err = readFile(filepath.Join(dir, "u.data"), ReadMovieLens); err == nil {
			src.Items, err = readFile(filepath.Join(dir, "u.item"), ReadMovieLensItems)
		}
	case "amazon-beauty":
		src.Protocol = LeaveOneOut{}
		if src.Log, err = readFile(filepath.Join(dir, "Beauty.txt"), ReadBeauty); err == nil {
			src.Items, err = readFile(filepath.Join(dir, "Beauty_item2attributes.json"), ReadBeautyAttributes)
		}
	case "dunnhumby":
		src.ExcludeSeen = false
		var starts []int64
		src.Log, err = readFile(filepath.Join(dir, "transactions_sample.csv.gz"), func(r io.Reader) ([]Interaction, error) {
			log, s, err := ReadDunnhumby(r)
			starts = s
			return log, err
		})
		src.Protocol = LastWeeks{Weeks: DunnhumbyTestWeeks, Starts: starts}
		if err == nil {
			src.Items, err = readFile(filepath.Join(dir, "products.csv.gz"), ReadDunnhumbyProducts)
		}
	case "diginetica":
		// Session-based work ranks every item, re-viewed ones included: 19% of the sessions'
		// last views here repeat an earlier view.
		src.ExcludeSeen = false
		src.Protocol = LeaveOneOut{}
		src.Log, err = readFile(filepath.Join(dir, "sample_train-item-views.csv"), ReadDiginetica)
	}
	if err != nil {
		return nil, err
	}
	return src, nil
}

// readFile opens path, gunzips it when it ends in .gz, and reads it with read.
func readFile[T any](path string, read func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 1<<16)
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return zero, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	v, err := read(r)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// ReadMovieLens reads MovieLens u.data (user, item, rating, Unix time, tab-separated). Every
// rating is an interaction of weight 1, whatever its value: the implicit-feedback view the
// top-N literature takes.
func ReadMovieLens(r io.Reader) ([]Interaction, error) {
	var out []Interaction
	err := eachLine(r, func(line int, s string) error {
		f := strings.Split(s, "\t")
		if len(f) != 4 {
			return qianmian.Invalid("u.data", "line %d: want 4 tab-separated fields, got %d", line, len(f))
		}
		at, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			return qianmian.Invalid("timestamp", "line %d: not an integer: %q", line, f[3])
		}
		out = append(out, Interaction{User: f[0], Item: f[1], Time: at, Weight: 1})
		return nil
	})
	return out, err
}

// movieLensGenres are the genre flags of u.item, in u.genre's order.
var movieLensGenres = []string{"unknown", "Action", "Adventure", "Animation", "Children's",
	"Comedy", "Crime", "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical",
	"Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"}

// ReadMovieLensItems reads u.item (Latin-1, '|'-separated): the title, the first genre as
// the category, every genre as "genre=…" and the release year as "year=…".
func ReadMovieLensItems(r io.Reader) (*Items, error) {
	items := &Items{}
	err := eachLine(r, func(line int, s string) error {
		f := strings.Split(latin1(s), "|")
		if len(f) != 5+len(movieLensGenres) {
			return qianmian.Invalid("u.item", "line %d: want %d fields, got %d", line, 5+len(movieLensGenres), len(f))
		}
		it := Item{ID: f[0], Title: f[1], Price: math.NaN()}
		for g, flag := range f[5:] {
			if flag == "1" {
				if it.Category == nil {
					it.Category = []string{movieLensGenres[g]}
				}
				it.Attrs = append(it.Attrs, "genre="+movieLensGenres[g])
			}
		}
		if t, err := time.Parse("02-Jan-2006", f[2]); err == nil {
			it.Attrs = append(it.Attrs, "year="+strconv.Itoa(t.Year()))
		}
		items.Add(it)
		return nil
	})
	return items, err
}

// ReadBeauty reads the S3-Rec Amazon sequences: "user item item …" per line, oldest first.
// Each item's position (1, 2, …) stands in for its time.
func ReadBeauty(r io.Reader) ([]Interaction, error) {
	var out []Interaction
	err := eachLine(r, func(line int, s string) error {
		f := strings.Fields(s)
		if len(f) < 2 {
			return qianmian.Invalid("Beauty.txt", "line %d: want a user and at least one item", line)
		}
		for k, item := range f[1:] {
			out = append(out, Interaction{User: f[0], Item: item, Time: int64(k + 1), Weight: 1})
		}
		return nil
	})
	return out, err
}

// ReadBeautyAttributes reads Beauty_item2attributes.json ({item: [attribute ids]}) into
// items whose attributes are "attr=ID" tokens (brand and category-path nodes, anonymised).
func ReadBeautyAttributes(r io.Reader) (*Items, error) {
	var m map[string][]int
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return nil, qianmian.Invalid("Beauty_item2attributes.json", "%s", err.Error())
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, CompareIDs)
	items := &Items{}
	for _, id := range ids {
		it := Item{ID: id, Price: math.NaN()}
		for _, a := range m[id] {
			it.Attrs = append(it.Attrs, "attr="+strconv.Itoa(a))
		}
		items.Add(it)
	}
	return items, nil
}

// ReadDunnhumby reads the Complete Journey transactions (household_id, product_id, week,
// transaction_timestamp, among others): every receipt line is a purchase of weight 1 (the
// quantity column counts litres of fuel too, so it is not a preference). It also returns
// the start of each week (the earliest line in it), for LastWeeks.
func ReadDunnhumby(r io.Reader) ([]Interaction, []int64, error) {
	cr := newCSVReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, nil, headerError(err)
	}
	col := map[string]int{}
	for k, h := range header {
		col[strings.TrimSpace(h)] = k
	}
	for _, need := range []string{"household_id", "product_id", "week", "transaction_timestamp"} {
		if _, ok := col[need]; !ok {
			return nil, nil, qianmian.Invalid(need, "line 1: required column missing from the header")
		}
	}
	var out []Interaction
	weekStart := map[int]int64{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, rowError(err, 0)
		}
		line, _ := cr.FieldPos(0)
		at, err := ParseTime(rec[col["transaction_timestamp"]])
		if err != nil {
			return nil, nil, qianmian.Invalid("transaction_timestamp", "line %d: %s", line, err.Error())
		}
		week, err := strconv.Atoi(rec[col["week"]])
		if err != nil {
			return nil, nil, qianmian.Invalid("week", "line %d: not an integer: %q", line, rec[col["week"]])
		}
		if s, ok := weekStart[week]; !ok || at < s {
			weekStart[week] = at
		}
		out = append(out, Interaction{User: rec[col["household_id"]], Item: rec[col["product_id"]], Time: at, Weight: 1})
	}
	weeks := make([]int, 0, len(weekStart))
	for w := range weekStart {
		weeks = append(weeks, w)
	}
	slices.Sort(weeks)
	starts := make([]int64, len(weeks))
	for k, w := range weeks {
		starts[k] = weekStart[w]
	}
	if !slices.IsSorted(starts) {
		return nil, nil, qianmian.Invalid("week", "weeks and transaction times disagree")
	}
	return out, starts, nil
}

// ReadDunnhumbyProducts reads the Complete Journey products (product_id, manufacturer_id,
// department, brand, product_category, product_type, package_size): department › product
// category › product type is the category path, the manufacturer the brand, and the rest
// ("brand" there is National or Private label) are attributes.
func ReadDunnhumbyProducts(r io.Reader) (*Items, error) {
	cr := newCSVReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, headerError(err)
	}
	names := slices.Clone(header)
	if k := slices.Index(names, "product_id"); k >= 0 {
		names[k] = "item_id"
	} else {
		return nil, qianmian.Invalid("product_id", "line 1: required column missing from the header")
	}
	rename := map[string]string{"manufacturer_id": "brand", "brand": "label"}
	for k, n := range names {
		if to, ok := rename[n]; ok {
			names[k] = to
		}
	}
	path := []int{slices.Index(names, "department"), slices.Index(names, "product_category"), slices.Index(names, "product_type")}
	if slices.Contains(path, -1) {
		return nil, qianmian.Invalid("department", "line 1: want department, product_category and product_type columns")
	}
	for _, k := range path {
		names[k] = "" // read below, as the path
	}
	items, err := readItemRows(cr, names, func(it *Item, rec []string) {
		for _, k := range path {
			if k < len(rec) && strings.TrimSpace(rec[k]) != "" {
				it.Category = append(it.Category, strings.TrimSpace(rec[k]))
			}
		}
	})
	return items, err
}

// ReadDiginetica reads the DIGINETICA item views (session_id;user_id;item_id;timeframe;
// eventdate): each session is a user, and a view's time is its date plus the milliseconds
// since the session started, in whole seconds.
func ReadDiginetica(r io.Reader) ([]Interaction, error) {
	cr := newCSVReader(r)
	cr.Comma = ';'
	header, err := cr.Read()
	if err != nil {
		return nil, headerError(err)
	}
	want := []string{"session_id", "user_id", "item_id", "timeframe", "eventdate"}
	if len(header) < len(want) || !slices.Equal(header[:len(want)], want) {
		return nil, qianmian.Invalid("header", "line 1: want %s", strings.Join(want, ";"))
	}
	var out []Interaction
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, rowError(err, 0)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) < len(want) {
			return nil, qianmian.Invalid("eventdate", "line %d: missing", line)
		}
		ms, err := strconv.ParseInt(rec[3], 10, 64)
		if err != nil {
			return nil, qianmian.Invalid("timeframe", "line %d: not an integer: %q", line, rec[3])
		}
		day, err := time.Parse(time.DateOnly, rec[4])
		if err != nil {
			return nil, qianmian.Invalid("eventdate", "line %d: not a date: %q", line, rec[4])
		}
		out = append(out, Interaction{User: rec[0], Item: rec[2], Time: day.Unix() + ms/1000, Weight: 1})
	}
}

// eachLine calls f with every non-empty line (1-based numbers), stopping at its first error.
func eachLine(r io.Reader, f func(line int, s string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	for n := 1; sc.Scan(); n++ {
		s := strings.TrimRight(sc.Text(), "\r")
		if s == "" {
			continue
		}
		if err := f(n, s); err != nil {
			return err
		}
	}
	return sc.Err()
}

// latin1 decodes ISO 8859-1, whose bytes are the first 256 code points.
func latin1(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}
