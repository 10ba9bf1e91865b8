package eval

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/qianmian/qianmian"
)

// Demographics are the attributes consumers declared, for persona inference: for each
// target its class names, and each consumer's class where declared.
type Demographics struct {
	// Targets names the attributes in report order; Classes lists each one's classes.
	Targets []string
	Classes map[string][]string
	// Labels maps a consumer id to its declared class per target; an undeclared target is
	// absent.
	Labels map[string]map[string]string
}

// AgeBands are the age bands persona inference uses on every dataset.
var AgeBands = []string{"under 25", "25-34", "35-44", "45-54", "55+"}

// AgeBand returns the band of an age in years.
func AgeBand(age int) string {
	switch {
	case age < 25:
		return AgeBands[0]
	case age < 35:
		return AgeBands[1]
	case age < 45:
		return AgeBands[2]
	case age < 55:
		return AgeBands[3]
	}
	return AgeBands[4]
}

// IncomeBands are the household income bands of dunnhumby's persona tasks: its twelve
// bands merged into three of about a quarter, a half and a quarter of the households.
var IncomeBands = []string{"under 35K", "35-74K", "75K+"}

func (d *Demographics) set(user, target, class string) {
	if d.Labels == nil {
		d.Labels = map[string]map[string]string{}
	}
	if d.Labels[user] == nil {
		d.Labels[user] = map[string]string{}
	}
	d.Labels[user][target] = class
}

// ReadMovieLensUsers reads MovieLens u.user (user | age | gender | occupation | zip): the
// targets gender (F, M) and age band.
func ReadMovieLensUsers(r io.Reader) (*Demographics, error) {
	d := &Demographics{Targets: []string{"gender", "age"},
		Classes: map[string][]string{"gender": {"F", "M"}, "age": AgeBands}}
	err := eachLine(r, func(line int, s string) error {
		f := strings.Split(s, "|")
		if len(f) != 5 {
			return qianmian.Invalid("u.user", "line %d: want 5 '|'-separated fields, got %d", line, len(f))
		}
		age, err := strconv.Atoi(f[1])
		if err != nil || age <= 0 {
			return qianmian.Invalid("age", "line %d: not a positive integer: %q", line, f[1])
		}
		if f[2] != "F" && f[2] != "M" {
			return qianmian.Invalid("gender", "line %d: want F or M, not %q", line, f[2])
		}
		d.set(f[0], "gender", f[2])
		d.set(f[0], "age", AgeBand(age))
		return nil
	})
	return d, err
}

// ReadMovieLensRatings reads u.data like ReadMovieLens but keeps the rating (1–5) as the
// weight: what a consumer liked or disliked says more about them than what they rated.
func ReadMovieLensRatings(r io.Reader) ([]Interaction, error) {
	var out []Interaction
	err := eachLine(r, func(line int, s string) error {
		f := strings.Split(s, "\t")
		if len(f) != 4 {
			return qianmian.Invalid("u.data", "line %d: want 4 tab-separated fields, got %d", line, len(f))
		}
		rating, err := strconv.Atoi(f[2])
		if err != nil || rating < 1 || rating > 5 {
			return qianmian.Invalid("rating", "line %d: want 1 to 5, not %q", line, f[2])
		}
		at, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			return qianmian.Invalid("timestamp", "line %d: not an integer: %q", line, f[3])
		}
		out = append(out, Interaction{User: f[0], Item: f[1], Time: at, Weight: float32(rating)})
		return nil
	})
	return out, err
}

// ReadDunnhumbyDemographics reads the Complete Journey demographics (household_id, age,
// income, kids_count, among others): the targets age band (its 55-64 and 65+ merged into
// 55+), income band (IncomeBands) and kids (yes when kids_count is not 0). Empty cells are
// undeclared.
func ReadDunnhumbyDemographics(r io.Reader) (*Demographics, error) {
	cr := newCSVReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, headerError(err)
	}
	col := map[string]int{}
	for k, h := range header {
		col[strings.TrimSpace(h)] = k
	}
	for _, need := range []string{"household_id", "age", "income", "kids_count"} {
		if _, ok := col[need]; !ok {
			return nil, qianmian.Invalid(need, "line 1: required column missing from the header")
		}
	}
	d := &Demographics{Targets: []string{"age", "income", "kids"},
		Classes: map[string][]string{"age": AgeBands, "income": IncomeBands, "kids": {"no", "yes"}}}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return d, nil
		}
		if err != nil {
			return nil, rowError(err, 0)
		}
		line, _ := cr.FieldPos(0)
		get := func(name string) string {
			if k := col[name]; k < len(rec) {
				return strings.TrimSpace(rec[k])
			}
			return ""
		}
		hh := get("household_id")
		if hh == "" {
			return nil, qianmian.Invalid("household_id", "line %d: required", line)
		}
		if v := get("age"); v != "" {
			band, err := dunnhumbyAge(v)
			if err != nil {
				return nil, qianmian.Invalid("age", "line %d: %s", line, err.Error())
			}
			d.set(hh, "age", band)
		}
		if v := get("income"); v != "" {
			band, err := dunnhumbyIncome(v)
			if err != nil {
				return nil, qianmian.Invalid("income", "line %d: %s", line, err.Error())
			}
			d.set(hh, "income", band)
		}
		switch v := get("kids_count"); v {
		case "":
		case "0":
			d.set(hh, "kids", "no")
		default:
			if n, err := strconv.Atoi(strings.TrimSuffix(v, "+")); err != nil || n < 0 {
				return nil, qianmian.Invalid("kids_count", "line %d: not a count: %q", line, v)
			}
			d.set(hh, "kids", "yes")
		}
	}
}

// dunnhumbyAge maps an age band of the Complete Journey ("19-24", …, "65+") to AgeBands.
func dunnhumbyAge(v string) (string, error) {
	lo, _, _ := strings.Cut(strings.TrimSuffix(v, "+"), "-")
	age, err := strconv.Atoi(lo)
	if err != nil {
		return "", fmt.Errorf("not an age band: %q", v)
	}
	return AgeBand(age), nil
}

// dunnhumbyIncome maps an income band ("Under 15K", "35-49K", "250K+") to IncomeBands by its
// lower bound.
func dunnhumbyIncome(v string) (string, error) {
	if strings.HasPrefix(v, "Under ") {
		return IncomeBands[0], nil
	}
	lo, _, _ := strings.Cut(strings.TrimSuffix(strings.TrimSuffix(v, "+"), "K"), "-")
	k, err := strconv.Atoi(strings.TrimSuffix(lo, "K"))
	if err != nil {
		return "", fmt.Errorf("not an income band: %q", v)
	}
	switch {
	case k < 35:
		return IncomeBands[0], nil
	case k < 75:
		return IncomeBands[1], nil
	}
	return IncomeBands[2], nil
}

// PersonaSource is a dataset ready for persona inference: the interactions, each item's
// attribute tokens, and the declared demographics.
type PersonaSource struct {
	Name string
	Log  []Interaction
	// Context holds each interaction's own tokens ("store=309"), parallel to Log; nil when
	// the dataset has none.
	Context [][]string
	// Amount holds the money spent in each interaction, parallel to Log; nil when unknown.
	Amount []float64
	// Tokens maps an item id to its attribute tokens ("genre=Comedy", "dept=PRODUCE",
	// "price=high").
	Tokens       map[string][]string
	Demographics *Demographics
}

// PersonaDatasetNames lists the datasets with declared demographics LoadPersonaDataset reads.
func PersonaDatasetNames() []string { return []string{"movielens-100k", "dunnhumby"} }

// LoadPersonaDataset reads the named dataset from dir (the shared data folder) for persona
// inference:
//
//	movielens-100k  u.data with the rating as weight; genres and release decade; u.user
//	dunnhumby       transactions_sample, a receipt line weighing 1, with its store as
//	                context and its sales value as amount; department, product category,
//	                product type, national or private label and price tercile within the
//	                category; demographics.csv
//
// An unknown name is an EINVALID error; a missing file is reported with its path.
func LoadPersonaDataset(dir, name string) (*PersonaSource, error) {
	if !slices.Contains(PersonaDatasetNames(), name) {
		return nil, qianmian.Invalid("dataset", "unknown dataset %q: want one of %s", name, strings.Join(PersonaDatasetNames(), ", "))
	}
	dir = filepath.Join(dir, datasetDirs[name])
	src := &PersonaSource{Name: name, Tokens: map[string][]string{}}
	var err error
	var items *Items
	switch name {
	case "movielens-100k":
		if src.Log, err = readFile(filepath.Join(dir, "u.data"), ReadMovieLensRatings); err != nil {
			return nil, err
		}
		if items, err = readFile(filepath.Join(dir, "u.item"), ReadMovieLensItems); err != nil {
			return nil, err
		}
		for _, it := range items.List {
			src.Tokens[it.ID] = movieLensTokens(it)
		}
		src.Demographics, err = readFile(filepath.Join(dir, "u.user"), ReadMovieLensUsers)
	case "dunnhumby":
		if src.Log, err = readFile(filepath.Join(dir, "transactions_sample.csv.gz"), func(r io.Reader) ([]Interaction, error) {
			log, _, err := ReadDunnhumby(r)
			return log, err
		}); err != nil {
			return nil, err
		}
		var lines *dunnhumbyLines
		if lines, err = readFile(filepath.Join(dir, "transactions_sample.csv.gz"), readDunnhumbyLines); err != nil {
			return nil, err
		}
		if len(lines.store) != len(src.Log) {
			return nil, fmt.Errorf("dunnhumby: %d receipt lines read again as %d", len(src.Log), len(lines.store))
		}
		for k, x := range src.Log {
			if lines.product[k] != x.Item {
				return nil, fmt.Errorf("dunnhumby: receipt line %d read again as product %q, not %q", k+2, lines.product[k], x.Item)
			}
		}
		src.Context, src.Amount = make([][]string, len(src.Log)), lines.amount
		for k, st := range lines.store {
			if st != "" {
				src.Context[k] = []string{"store=" + st}
			}
		}
		prices := lines.unitPrices()
		if items, err = readFile(filepath.Join(dir, "products.csv.gz"), ReadDunnhumbyProducts); err != nil {
			return nil, err
		}
		src.Tokens = dunnhumbyTokens(items, prices)
		src.Demographics, err = readFile(filepath.Join(dir, "demographics.csv"), ReadDunnhumbyDemographics)
	}
	if err != nil {
		return nil, err
	}
	return src, nil
}

// movieLensTokens returns a film's genres and release decade.
func movieLensTokens(it Item) []string {
	var toks []string
	for _, a := range it.Attrs {
		switch {
		case strings.HasPrefix(a, "genre="):
			toks = append(toks, a)
		case strings.HasPrefix(a, "year="):
			if y, err := strconv.Atoi(strings.TrimPrefix(a, "year=")); err == nil {
				toks = append(toks, "decade="+strconv.Itoa(y/10*10))
			}
		}
	}
	return toks
}

// dunnhumbyLines are the columns of the Complete Journey transactions that ReadDunnhumby
// leaves out, one entry per receipt line in file order (as ReadDunnhumby returns them).
type dunnhumbyLines struct {
	store   []string
	amount  []float64 // sales_value; 0 when unreadable
	product []string
	unit    []float64 // sales_value / quantity; 0 when either is not positive
}

// readDunnhumbyLines reads the store, sales value and unit price of every receipt line.
func readDunnhumbyLines(r io.Reader) (*dunnhumbyLines, error) {
	cr := newCSVReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, headerError(err)
	}
	col := map[string]int{}
	for k, h := range header {
		col[strings.TrimSpace(h)] = k
	}
	for _, need := range []string{"product_id", "store_id", "quantity", "sales_value"} {
		if _, ok := col[need]; !ok {
			return nil, qianmian.Invalid(need, "line 1: required column missing from the header")
		}
	}
	out := &dunnhumbyLines{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, rowError(err, 0)
		}
		cell := func(name string) string {
			if k := col[name]; k < len(rec) {
				return strings.TrimSpace(rec[k])
			}
			return ""
		}
		q, errQ := strconv.ParseFloat(cell("quantity"), 64)
		v, errV := strconv.ParseFloat(cell("sales_value"), 64)
		if errV != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			v = 0
		}
		unit := 0.0
		if errQ == nil && q > 0 && v > 0 {
			unit = v / q // returns, free items and fuel litres aside, the shelf price
		}
		out.store = append(out.store, cell("store_id"))
		out.amount = append(out.amount, v)
		out.product = append(out.product, cell("product_id"))
		out.unit = append(out.unit, unit)
	}
}

// unitPrices returns each product's median unit price over its lines with one.
func (l *dunnhumbyLines) unitPrices() map[string]float64 {
	unit := map[string][]float64{}
	for k, p := range l.product {
		if l.unit[k] > 0 {
			unit[p] = append(unit[p], l.unit[k])
		}
	}
	out := make(map[string]float64, len(unit))
	for id, ps := range unit {
		slices.Sort(ps)
		out[id] = ps[len(ps)/2]
	}
	return out
}

// dunnhumbyTokens returns each product's tokens: department, product category, product
// type, label
// (National or Private) and, for products sold in the sample, the tercile of its unit price
// among the sold products of its category ("price=low", "price=mid", "price=high").
func dunnhumbyTokens(items *Items, prices map[string]float64) map[string][]string {
	byCat := map[string][]float64{}
	catOf := func(it Item) string {
		if len(it.Category) >= 2 {
			return it.Category[0] + "/" + it.Category[1]
		}
		if len(it.Category) == 1 {
			return it.Category[0]
		}
		return ""
	}
	for _, it := range items.List {
		if p, ok := prices[it.ID]; ok {
			byCat[catOf(it)] = append(byCat[catOf(it)], p)
		}
	}
	for _, ps := range byCat {
		slices.Sort(ps)
	}
	out := make(map[string][]string, items.Len())
	for _, it := range items.List {
		var toks []string
		if len(it.Category) > 0 {
			toks = append(toks, "dept="+it.Category[0])
		}
		if len(it.Category) > 1 {
			toks = append(toks, "cat="+it.Category[1])
		}
		if len(it.Category) > 2 {
			toks = append(toks, "type="+it.Category[2])
		}
		for _, a := range it.Attrs {
			if strings.HasPrefix(a, "label=") {
				toks = append(toks, a)
			}
		}
		if p, ok := prices[it.ID]; ok {
			if ps := byCat[catOf(it)]; len(ps) >= 3 {
				rank := float64(sortSearch(ps, p)) / float64(len(ps))
				switch {
				case rank < 1.0/3:
					toks = append(toks, "price=low")
				case rank < 2.0/3:
					toks = append(toks, "price=mid")
				default:
					toks = append(toks, "price=high")
				}
			}
		}
		if len(toks) > 0 {
			out[it.ID] = toks
		}
	}
	return out
}

// sortSearch returns the mid rank of p in the sorted ps: the number of values below it plus
// half of those equal to it.
func sortSearch(ps []float64, p float64) int {
	lo, _ := slices.BinarySearch(ps, p)
	hi := lo
	for hi < len(ps) && ps[hi] == p {
		hi++
	}
	return (lo + hi) / 2
}
