package model

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// FeatureKind says where an item feature token comes from; each kind gets its own weight in
// content similarity.
type FeatureKind uint8

// The kinds of item feature tokens.
const (
	FeatureCategory FeatureKind = iota // a node of the category path ("beauty/skin")
	FeatureBrand                       // the brand
	FeaturePrice                       // a log-price band and, at half weight, its neighbours
	FeatureAttr                        // an attribute key=value pair or a tag
	FeatureTitle                       // a title word, or a character bigram of CJK text
	numFeatureKinds
)

// PriceBandRatio is the width of a price band: prices within a factor of 1.5 of each other
// share a band or sit in neighbouring ones.
const PriceBandRatio = 1.5

// PriceBand returns the log-price band of a positive price: floor(log(price)/log(1.5)).
func PriceBand(price float64) int32 {
	return int32(math.Floor(math.Log(price) / math.Log(PriceBandRatio)))
}

// NoFeature marks a missing category, brand or price band in ItemFeatures.
const NoFeature = math.MinInt32

// ItemFeatures holds the catalogue attributes of items by the dense index of an item IDMap,
// as sparse bags of tokens ("c:beauty/skin", "b:acme", "p:7", "a:colour=red", "t:serum")
// with term frequencies. It is the input of content similarity and of the hybrid's
// category/brand/price affinity features. Build it with an ItemFeaturesBuilder; it is
// read-only afterwards and safe for concurrent use.
type ItemFeatures struct {
	// Items is the item id space, shared with the Dataset the features go with.
	Items *IDMap
	// Tokens is the token vocabulary; Categories holds full category paths ("beauty/skin")
	// and Brands brand names, both lower-cased.
	Tokens     *IDMap
	Categories *IDMap
	Brands     *IDMap

	kinds    []FeatureKind // per token
	ptr      []int32       // item i's tokens are tok[ptr[i]:ptr[i+1]], sorted by id
	tok      []int32
	tf       []float32
	category []int32 // leaf category per item, NoFeature if unknown
	brand    []int32
	band     []int32
}

// NumItems returns the number of items the features were built for. Items of the id map
// added later have no features.
func (f *ItemFeatures) NumItems() int { return len(f.category) }

// Row returns item i's token ids, sorted, and their term frequencies. The slices alias f.
func (f *ItemFeatures) Row(i int32) (tokens []int32, tf []float32) {
	if i < 0 || int(i) >= f.NumItems() {
		return nil, nil
	}
	lo, hi := f.ptr[i], f.ptr[i+1]
	return f.tok[lo:hi], f.tf[lo:hi]
}

// Kind returns the kind of token t.
func (f *ItemFeatures) Kind(t int32) FeatureKind { return f.kinds[t] }

// Category returns the index in Categories of item i's full category path, or NoFeature.
func (f *ItemFeatures) Category(i int32) int32 { return f.at(f.category, i) }

// Brand returns the index in Brands of item i's brand, or NoFeature.
func (f *ItemFeatures) Brand(i int32) int32 { return f.at(f.brand, i) }

// PriceBand returns item i's price band (see PriceBand), or NoFeature.
func (f *ItemFeatures) PriceBand(i int32) int32 { return f.at(f.band, i) }

func (f *ItemFeatures) at(v []int32, i int32) int32 {
	if i < 0 || int(i) >= len(v) {
		return NoFeature
	}
	return v[i]
}

// Align returns the features re-indexed by items, matching ids: f itself when items is
// f.Items, else a copy sharing the vocabularies in which items f does not know have no
// features. Content and Hybrid align to the dataset they are fitted on, so features built
// once over a catalogue serve every split of it.
func (f *ItemFeatures) Align(items *IDMap) *ItemFeatures {
	if items == f.Items {
		return f
	}
	n := items.Len()
	g := &ItemFeatures{Items: items, Tokens: f.Tokens, Categories: f.Categories, Brands: f.Brands,
		kinds: f.kinds, ptr: make([]int32, n+1), category: make([]int32, n), brand: make([]int32, n),
		band: make([]int32, n)}
	for i := 0; i < n; i++ {
		g.category[i], g.brand[i], g.band[i] = NoFeature, NoFeature, NoFeature
		if j, ok := f.Items.Index(items.ID(int32(i))); ok && int(j) < f.NumItems() {
			toks, tf := f.Row(j)
			g.tok = append(g.tok, toks...)
			g.tf = append(g.tf, tf...)
			g.category[i], g.brand[i], g.band[i] = f.category[j], f.brand[j], f.band[j]
		}
		g.ptr[i+1] = int32(len(g.tok))
	}
	return g
}

// ItemFeaturesBuilder collects item attributes. The eval harness fills it from an items
// CSV (category_id, brand, price, other columns as attributes) and the serving engine from
// its catalogue (qianmian.Item: Category, Brand, Price, Attributes, Tags, Title).
type ItemFeaturesBuilder struct {
	items      *IDMap
	tokens     *IDMap
	categories *IDMap
	brands     *IDMap
	kinds      []FeatureKind
	rows       []featureRow
}

type featureRow struct {
	tok                   []int32
	tf                    []float32
	category, brand, band int32
}

// NewItemFeaturesBuilder returns a builder over items, which should be the item map of the
// Dataset the features go with. Items not yet in the map are added to it, so catalogue items
// nobody interacted with yet become columns every model scores.
func NewItemFeaturesBuilder(items *IDMap) *ItemFeaturesBuilder {
	return &ItemFeaturesBuilder{items: items, tokens: NewIDMap(0), categories: NewIDMap(0), brands: NewIDMap(0)}
}

// Add sets item's features, replacing any added before, and returns its index. category is
// the path from the root ("beauty", "skin care"); every prefix of it becomes a token, so
// items in sibling categories are still a little alike. Empty brand, price <= 0, empty
// attribute values and an empty title are ignored. Text is compared case-insensitively.
func (b *ItemFeaturesBuilder) Add(item string, category []string, brand string, price float64, attrs map[string]string, title string) int32 {
	i := b.items.Add(item)
	r := b.row(i)
	*r = featureRow{category: NoFeature, brand: NoFeature, band: NoFeature}
	var path []string
	for _, c := range category {
		if c = normText(c); c == "" {
			continue
		}
		path = append(path, c)
		b.token(r, FeatureCategory, "c:"+strings.Join(path, "/"), 1)
	}
	if len(path) > 0 {
		r.category = b.categories.Add(strings.Join(path, "/"))
	}
	if brand = normText(brand); brand != "" {
		b.token(r, FeatureBrand, "b:"+brand, 1)
		r.brand = b.brands.Add(brand)
	}
	if price > 0 && !math.IsInf(price, 0) {
		band := PriceBand(price)
		r.band = band
		b.token(r, FeaturePrice, "p:"+strconv.Itoa(int(band)), 1)
		b.token(r, FeaturePrice, "p:"+strconv.Itoa(int(band-1)), 0.5)
		b.token(r, FeaturePrice, "p:"+strconv.Itoa(int(band+1)), 0.5)
	}
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		if v := normText(attrs[k]); v != "" {
			b.token(r, FeatureAttr, "a:"+normText(k)+"="+v, 1)
		}
	}
	b.AddTokens(item, FeatureTitle, TitleTokens(title))
	return i
}

// AddTokens adds tokens of one kind to item's features (tags, anonymised attribute ids,
// extra text) and returns its index. A category or brand token added this way takes part
// in similarity but does not set the item's Category or Brand.
func (b *ItemFeaturesBuilder) AddTokens(item string, kind FeatureKind, tokens []string) int32 {
	i := b.items.Add(item)
	r := b.row(i)
	prefix := [numFeatureKinds]string{"c:", "b:", "p:", "a:", "t:"}[min(kind, FeatureTitle)]
	for _, t := range tokens {
		if t = normText(t); t != "" {
			b.token(r, kind, prefix+t, 1)
		}
	}
	return i
}

func (b *ItemFeaturesBuilder) row(i int32) *featureRow {
	for int(i) >= len(b.rows) {
		b.rows = append(b.rows, featureRow{category: NoFeature, brand: NoFeature, band: NoFeature})
	}
	return &b.rows[i]
}

func (b *ItemFeaturesBuilder) token(r *featureRow, kind FeatureKind, s string, tf float32) {
	t := b.tokens.Add(s)
	if int(t) == len(b.kinds) {
		b.kinds = append(b.kinds, min(kind, FeatureTitle))
	}
	r.tok = append(r.tok, t)
	r.tf = append(r.tf, tf)
}

// Build returns the features of every item in the id map. Repeated tokens of an item are
// merged: title words count 1+ln(n) for n occurrences, other tokens their summed weight.
func (b *ItemFeaturesBuilder) Build() *ItemFeatures {
	n := b.items.Len()
	f := &ItemFeatures{
		Items: b.items, Tokens: b.tokens, Categories: b.categories, Brands: b.brands,
		kinds: slices.Clone(b.kinds), ptr: make([]int32, n+1),
		category: make([]int32, n), brand: make([]int32, n), band: make([]int32, n),
	}
	type entry struct {
		t  int32
		tf float32
	}
	var es []entry
	for i := 0; i < n; i++ {
		r := featureRow{category: NoFeature, brand: NoFeature, band: NoFeature}
		if i < len(b.rows) {
			r = b.rows[i]
		}
		f.category[i], f.brand[i], f.band[i] = r.category, r.brand, r.band
		es = es[:0]
		for k, t := range r.tok {
			es = append(es, entry{t, r.tf[k]})
		}
		slices.SortStableFunc(es, func(x, y entry) int { return cmp.Compare(x.t, y.t) })
		for k := 0; k < len(es); {
			t, sum, cnt := es[k].t, float32(0), 0
			for ; k < len(es) && es[k].t == t; k++ {
				sum += es[k].tf
				cnt++
			}
			if f.kinds[t] == FeatureTitle {
				sum = 1 + float32(math.Log(float64(cnt)))
			}
			f.tok = append(f.tok, t)
			f.tf = append(f.tf, sum)
		}
		f.ptr[i+1] = int32(len(f.tok))
	}
	return f
}

// TitleTokens splits text into lower-case tokens: runs of letters and digits of at least two
// characters, and for Chinese, Japanese and Korean runs (written without spaces) their
// character bigrams, or the character itself when it stands alone.
func TitleTokens(s string) []string {
	var out []string
	var run []rune
	cjk := false
	flush := func() {
		switch {
		case len(run) == 0:
		case cjk && len(run) == 1:
			out = append(out, string(run))
		case cjk:
			for k := 0; k+1 < len(run); k++ {
				out = append(out, string(run[k:k+2]))
			}
		case len(run) >= 2:
			out = append(out, string(run))
		}
		run = run[:0]
	}
	for _, c := range strings.ToLower(s) {
		isCJK := unicode.In(c, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
		if !isCJK && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			flush()
			continue
		}
		if len(run) > 0 && isCJK != cjk {
			flush()
		}
		cjk = isCJK
		run = append(run, c)
	}
	flush()
	return out
}

func normText(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
