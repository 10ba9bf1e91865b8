package eval

import (
	"encoding/csv"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/model"
)

// Item is one catalogue entry's attributes: what a content model learns similarity from.
type Item struct {
	ID    string
	Title string
	// Category is the category path from the root ("GROCERY", "FRZN ICE"); an items CSV's
	// category_id is a path of one.
	Category []string
	Brand    string
	Price    float64 // NaN when unknown
	// Attrs are the other attributes as "name=value" tokens ("department=GROCERY",
	// "genre=Comedy", "attr=17"); an item may have several values of one name.
	Attrs []string
}

// Items is a catalogue, in the order it was read.
type Items struct {
	List  []Item
	index map[string]int
}

// Add appends it, replacing an earlier item with the same id.
func (c *Items) Add(it Item) {
	if c.index == nil {
		c.index = make(map[string]int)
	}
	if k, ok := c.index[it.ID]; ok {
		c.List[k] = it
		return
	}
	c.index[it.ID] = len(c.List)
	c.List = append(c.List, it)
}

// Find returns the item with id, if any. The pointer aliases c.
func (c *Items) Find(id string) (*Item, bool) {
	if c == nil {
		return nil, false
	}
	k, ok := c.index[id]
	if !ok {
		return nil, false
	}
	return &c.List[k], true
}

// Len returns the number of items.
func (c *Items) Len() int {
	if c == nil {
		return 0
	}
	return len(c.List)
}

// Features returns the items' attributes as model.ItemFeatures over an id map of their own,
// the input of content-aware families (content similarity, the hybrid); models align them
// to the dataset they are fitted on by item id. A nil or empty catalogue gives features
// with no items.
func (c *Items) Features() *model.ItemFeatures {
	b := model.NewItemFeaturesBuilder(model.NewIDMap(c.Len()))
	if c == nil {
		return b.Build()
	}
	for _, it := range c.List {
		b.Add(it.ID, it.Category, it.Brand, it.Price, nil, it.Title)
		if len(it.Attrs) > 0 {
			b.AddTokens(it.ID, model.FeatureAttr, it.Attrs)
		}
	}
	return b.Build()
}

// ReadItems reads an items CSV: a header with item_id and any of title, category_id (or
// category), brand, price and other columns, which become "column=value" attributes. Empty
// cells are unknown. A bad row is an EINVALID error naming the column and the line.
func ReadItems(r io.Reader) (*Items, error) {
	cr := newCSVReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, headerError(err)
	}
	names := make([]string, len(header))
	for k, h := range header {
		names[k] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	}
	if !slices.Contains(names, "item_id") {
		return nil, qianmian.Invalid("item_id", "line 1: required column missing from the header")
	}
	return readItemRows(cr, names, nil)
}

// readItemRows reads the rows after the header; names are the columns' lower-case names
// ("" to skip a column). extra, if set, completes each item from its raw record.
func readItemRows(cr *csv.Reader, names []string, extra func(it *Item, rec []string)) (*Items, error) {
	items := &Items{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return items, nil
		}
		if err != nil {
			return nil, rowError(err, 0)
		}
		line, _ := cr.FieldPos(0)
		it := Item{Price: math.NaN()}
		for k, v := range rec {
			if k >= len(names) {
				break
			}
			if v = strings.TrimSpace(v); v == "" || names[k] == "" {
				continue
			}
			if err := it.set(names[k], v, line); err != nil {
				return nil, err
			}
		}
		if it.ID == "" {
			return nil, qianmian.Invalid("item_id", "line %d: required", line)
		}
		if extra != nil {
			extra(&it, rec)
		}
		items.Add(it)
	}
}

// set stores the value v of column name.
func (it *Item) set(name, v string, line int) error {
	switch name {
	case "item_id":
		it.ID = v
	case "title", "name":
		it.Title = v
	case "category_id", "category":
		it.Category = []string{v}
	case "brand":
		it.Brand = v
	case "price":
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
			return qianmian.Invalid("price", "line %d: not a non-negative number: %q", line, v)
		}
		it.Price = p
	default:
		it.Attrs = append(it.Attrs, name+"="+v)
	}
	return nil
}
