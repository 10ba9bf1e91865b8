package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/qianmian/qianmian"
)

// csvColumn says how a CSV column becomes a field of the record's JSON form.
type csvColumn struct {
	path []string // where the value goes: ["context","geo","lat"]
	kind byte     // 's' string, 'n' number, 'i' integer, 'b' boolean, 'p' category path, 't' tag list
}

// csvSchemas maps each kind's known columns. An items file's other columns are attributes.
var csvSchemas = map[string]map[string]csvColumn{
	"suppliers": {"id": {nil, 's'}, "name": {nil, 's'}, "region": {nil, 's'}},
	"stores": {"id": {nil, 's'}, "name": {nil, 's'}, "region": {nil, 's'}, "city": {nil, 's'},
		"channel": {nil, 's'}, "lat": {[]string{"geo", "lat"}, 'n'}, "lon": {[]string{"geo", "lon"}, 'n'}},
	"items": {"id": {nil, 's'}, "supplier_id": {nil, 's'}, "title": {nil, 's'}, "category": {nil, 'p'},
		"brand": {nil, 's'}, "price": {nil, 'n'}, "tags": {nil, 't'}, "status": {nil, 's'}, "launched_at": {nil, 's'}},
	"assortments": {"store_id": {nil, 's'}, "item_id": {nil, 's'}, "price": {nil, 'n'},
		"in_stock": {nil, 'b'}, "commission_rate": {nil, 'n'}},
	"users": {"id": {nil, 's'}, "gender": {nil, 's'}, "birth_year": {nil, 'i'}, "city": {nil, 's'},
		"name": {nil, 's'}, "phone": {nil, 's'}, "address": {nil, 's'},
		"consent_personalization": {[]string{"consent", "personalization"}, 'b'},
		"consent_marketing":       {[]string{"consent", "marketing"}, 'b'},
		"consent_analytics":       {[]string{"consent", "analytics"}, 'b'}},
	"events": {"id": {nil, 's'}, "type": {nil, 's'}, "user_id": {nil, 's'}, "item_id": {nil, 's'},
		"store_id": {nil, 's'}, "channel": {nil, 's'}, "query": {nil, 's'}, "quantity": {nil, 'i'},
		"amount": {nil, 'n'}, "rating": {nil, 'i'}, "text": {nil, 's'}, "rec_id": {nil, 's'},
		"occurred_at":      {nil, 's'},
		"location_type":    {[]string{"context", "location_type"}, 's'},
		"device":           {[]string{"context", "device"}, 's'},
		"lat":              {[]string{"context", "geo", "lat"}, 'n'},
		"lon":              {[]string{"context", "geo", "lon"}, 'n'},
		"identity_channel": {[]string{"identity", "channel"}, 's'},
		"identity_type":    {[]string{"identity", "type"}, 's'},
		"identity_value":   {[]string{"identity", "value"}, 's'}},
}

type csvRecords struct {
	r      *csv.Reader
	header []string
	cols   []csvColumn
	attr   []bool // column is an item attribute
}

func newCSVRecords(r io.Reader, kind string) (*csvRecords, error) {
	schema, ok := csvSchemas[kind]
	if !ok {
		return nil, fmt.Errorf("no CSV schema for %q", kind)
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read CSV header: %w", err)
	}
	c := &csvRecords{r: cr, header: make([]string, len(header))}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		c.header[i] = h
		col, known := schema[h]
		switch {
		case known:
			if col.path == nil {
				col.path = []string{h}
			}
		case kind == "items":
			col = csvColumn{path: []string{"attributes", h}, kind: 's'}
		default:
			return nil, usagef("%s CSV: unknown column %q (known: %s)", kind, h, strings.Join(sortedKeys(schema), ", "))
		}
		c.cols = append(c.cols, col)
	}
	return c, nil
}

func sortedKeys(m map[string]csvColumn) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// next turns the next row into the JSON object the NDJSON form of the same record would be.
func (c *csvRecords) next() ([]byte, error) {
	row, err := c.r.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, qianmian.Invalid("line", "%v", err)
	}
	obj := map[string]any{}
	for i, cell := range row {
		if i >= len(c.cols) {
			return nil, qianmian.Invalid("line", "more cells than header columns")
		}
		cell = strings.TrimSpace(cell)
		if cell == "" {
			continue
		}
		col, name := c.cols[i], c.header[i]
		v, err := csvValue(cell, col.kind)
		if err != nil {
			return nil, qianmian.Invalid(name, "%v", err)
		}
		setPath(obj, col.path, v)
	}
	return json.Marshal(obj)
}

func csvValue(cell string, kind byte) (any, error) {
	switch kind {
	case 'n':
		f, err := strconv.ParseFloat(cell, 64)
		if err != nil {
			return nil, fmt.Errorf("not a number: %q", cell)
		}
		return f, nil
	case 'i':
		n, err := strconv.Atoi(cell)
		if err != nil {
			return nil, fmt.Errorf("not an integer: %q", cell)
		}
		return n, nil
	case 'b':
		b, err := strconv.ParseBool(cell)
		if err != nil {
			return nil, fmt.Errorf("not true or false: %q", cell)
		}
		return b, nil
	case 'p':
		sep := "/"
		if strings.Contains(cell, ">") {
			sep = ">"
		}
		parts := strings.Split(cell, sep)
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts, nil
	case 't':
		parts := strings.Split(cell, "|")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts, nil
	}
	return cell, nil
}

func setPath(obj map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		next, ok := obj[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[p] = next
		}
		obj = next
	}
	obj[path[len(path)-1]] = v
}
