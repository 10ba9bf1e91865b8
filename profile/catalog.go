package profile

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/qianmian/qianmian"
)

// itemInfo is what profiles need of an item.
type itemInfo struct {
	cats   []string // every level of the category path: "beauty", "beauty/fragrance", …
	brand  string
	price  float64
	tokens []string // the classifier's attribute tokens
}

// top returns the item's top-level category.
func (it *itemInfo) top() string {
	if len(it.cats) == 0 {
		return ""
	}
	return it.cats[0]
}

func newItemInfo(it *qianmian.Item) *itemInfo {
	info := &itemInfo{brand: it.Brand, price: it.Price}
	var path strings.Builder
	for i, c := range it.Category {
		if i > 0 {
			path.WriteByte('/')
		}
		path.WriteString(c)
		info.cats = append(info.cats, path.String())
	}
	for i, c := range info.cats {
		info.tokens = append(info.tokens, "cat"+strconv.Itoa(i+1)+"="+c)
	}
	if it.Brand != "" {
		info.tokens = append(info.tokens, "brand="+it.Brand)
	}
	if it.Price > 0 {
		// Price bands a factor of two wide: what a consumer pays says who they are.
		info.tokens = append(info.tokens, "price="+strconv.Itoa(int(math.Floor(math.Log2(it.Price)))))
	}
	return info
}

// catalog is the items profiles have met, loaded at Open and refreshed with the
// statistics; an item it does not hold is read on first use.
type catalog struct {
	items qianmian.ItemService
	mu    sync.RWMutex
	byID  map[string]*itemInfo // nil value: an item the catalogue does not have
}

func newCatalog(items qianmian.ItemService) *catalog {
	return &catalog{items: items, byID: map[string]*itemInfo{}}
}

// load reads the whole catalogue.
func (c *catalog) load(ctx context.Context) error {
	byID := map[string]*itemInfo{}
	page := qianmian.Page{Limit: 1000}
	for {
		list, err := c.items.FindItems(ctx, qianmian.ItemFilter{Page: page})
		if err != nil {
			return fmt.Errorf("load catalogue: %w", err)
		}
		for _, it := range list {
			byID[it.ID] = newItemInfo(it)
		}
		if len(list) < page.Limit {
			break
		}
		page.After = list[len(list)-1].ID
	}
	c.mu.Lock()
	c.byID = byID
	c.mu.Unlock()
	return nil
}

// item returns what is known of an item, nil for an item the catalogue does not have.
func (c *catalog) item(ctx context.Context, id string) *itemInfo {
	if id == "" {
		return nil
	}
	c.mu.RLock()
	info, ok := c.byID[id]
	c.mu.RUnlock()
	if ok {
		return info
	}
	it, err := c.items.FindItemByID(ctx, id)
	if err == nil {
		info = newItemInfo(it)
	} else if qianmian.ErrorCode(err) != qianmian.ENOTFOUND {
		return nil // try again next time
	}
	c.mu.Lock()
	c.byID[id] = info
	c.mu.Unlock()
	return info
}
