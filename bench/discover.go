package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Subjects are the users, stores and items a run picks from, listed through the API
// before the run.
type Subjects struct {
	Users  []string
	Stores []string
	Items  []string // only for scenarios that post events
	// Stock holds a sample of in-stock items of some stores (keyed by store id), so that
	// synthetic events name items the store carries. Stores without an entry use Items.
	Stock map[string][]string
}

// discoverPage is the largest page the listing endpoints answer.
const discoverPage = 500

// stockSample is how many stores' assortments are sampled for events.
const stockSample = 50

// discover lists the subjects of a run with the operator key: users, stores and, when
// events are to be posted, items and a sample of store assortments.
func discover(ctx context.Context, c *http.Client, cfg *Config, withItems bool) (*Subjects, error) {
	s := &Subjects{Stock: map[string][]string{}}
	var err error
	if s.Stores, err = listIDs(ctx, c, cfg, "/v1/stores", "stores", cfg.MaxStores); err != nil {
		return nil, err
	}
	if s.Users, err = listIDs(ctx, c, cfg, "/v1/users", "users", cfg.MaxUsers); err != nil {
		return nil, err
	}
	if len(s.Stores) == 0 {
		return nil, fmt.Errorf("discovery: the server lists no stores")
	}
	if len(s.Users) == 0 {
		return nil, fmt.Errorf("discovery: the server lists no users")
	}
	if !withItems {
		return s, nil
	}
	if s.Items, err = listIDs(ctx, c, cfg, "/v1/items", "items", cfg.MaxItems); err != nil {
		return nil, err
	}
	if len(s.Items) == 0 {
		return nil, fmt.Errorf("discovery: the server lists no items")
	}
	// Spread the sample over the store list.
	step := max(1, len(s.Stores)/stockSample)
	for k := 0; k < len(s.Stores) && len(s.Stock) < stockSample; k += step {
		store := s.Stores[k]
		var page struct {
			Items []struct {
				ItemID string `json:"item_id"`
			} `json:"items"`
		}
		path := "/v1/stores/" + url.PathEscape(store) + "/assortment?in_stock=true&limit=" + fmt.Sprint(discoverPage)
		if err := getJSON(ctx, c, cfg, path, &page); err != nil {
			return nil, err
		}
		if len(page.Items) == 0 {
			continue
		}
		ids := make([]string, len(page.Items))
		for i, it := range page.Items {
			ids[i] = it.ItemID
		}
		s.Stock[store] = ids
	}
	return s, nil
}

// listIDs pages through a listing ({"<field>":[{"id":…}],"next":"…"}) up to limit ids.
func listIDs(ctx context.Context, c *http.Client, cfg *Config, path, field string, limit int) ([]string, error) {
	var ids []string
	after := ""
	for len(ids) < limit {
		var page map[string]json.RawMessage
		q := fmt.Sprintf("%s?limit=%d", path, min(discoverPage, limit-len(ids)))
		if after != "" {
			q += "&after=" + url.QueryEscape(after)
		}
		if err := getJSON(ctx, c, cfg, q, &page); err != nil {
			return nil, err
		}
		var list []struct {
			ID string `json:"id"`
		}
		if raw, ok := page[field]; ok {
			if err := json.Unmarshal(raw, &list); err != nil {
				return nil, fmt.Errorf("discovery: GET %s: %q is not a list of objects with ids: %w", q, field, err)
			}
		}
		for _, v := range list {
			ids = append(ids, v.ID)
		}
		var next string
		if raw, ok := page["next"]; ok {
			_ = json.Unmarshal(raw, &next)
		}
		if next == "" || len(list) == 0 {
			break
		}
		after = next
	}
	return ids[:min(len(ids), limit)], nil
}

// getJSON GETs path with the key and decodes the JSON answer into out.
func getJSON(ctx context.Context, c *http.Client, cfg *Config, path string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.BaseURL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+cfg.Key)
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("discovery: GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("discovery: GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		hint := ""
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
			hint = " (bench lists users, stores and items, which needs an operator key)"
		}
		return fmt.Errorf("discovery: GET %s: status %d: %s%s", path, resp.StatusCode, bytes.TrimSpace(body[:min(len(body), 300)]), hint)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("discovery: GET %s: %w", path, err)
	}
	return nil
}
