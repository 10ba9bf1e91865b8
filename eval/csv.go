package eval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/qianmian/qianmian"
)

// ReadInteractions reads an interaction CSV with a header naming the columns user_id,
// item_id and timestamp, and optionally event and weight, in any order. A timestamp is
// integer Unix seconds or RFC 3339. An event name (view, click, cart, favorite, purchase,
// rating, …; see EventWeight) gives the weight; a weight column overrides it; with neither
// the weight is 1. A bad header or row is an EINVALID error whose Field names the column and
// whose message gives the line.
func ReadInteractions(r io.Reader) ([]Interaction, error) {
	cr := newCSVReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, headerError(err)
	}
	col := map[string]int{}
	for k, name := range header {
		name = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\ufeff")))
		switch name {
		case "user_id", "item_id", "timestamp", "event", "weight":
		default:
			return nil, qianmian.Invalid(name, "line 1: unknown column: want user_id, item_id, timestamp and optionally event, weight")
		}
		if _, dup := col[name]; dup {
			return nil, qianmian.Invalid(name, "line 1: column given twice")
		}
		col[name] = k
	}
	for _, need := range []string{"user_id", "item_id", "timestamp"} {
		if _, ok := col[need]; !ok {
			return nil, qianmian.Invalid(need, "line 1: required column missing from the header")
		}
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
		x, err := parseInteraction(rec, col, line)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
}

func parseInteraction(rec []string, col map[string]int, line int) (Interaction, error) {
	get := func(name string) string {
		if k, ok := col[name]; ok && k < len(rec) {
			return strings.TrimSpace(rec[k])
		}
		return ""
	}
	x := Interaction{User: get("user_id"), Item: get("item_id"), Weight: 1}
	if x.User == "" {
		return x, qianmian.Invalid("user_id", "line %d: required", line)
	}
	if x.Item == "" {
		return x, qianmian.Invalid("item_id", "line %d: required", line)
	}
	at, err := ParseTime(get("timestamp"))
	if err != nil {
		return x, qianmian.Invalid("timestamp", "line %d: %s", line, err.Error())
	}
	x.Time = at
	if ev := get("event"); ev != "" {
		w, ok := EventWeight(ev)
		if !ok {
			return x, qianmian.Invalid("event", "line %d: unknown event %q: want one of %s", line, ev, strings.Join(EventNames(), ", "))
		}
		x.Weight = w
	}
	if ws := get("weight"); ws != "" {
		w, err := strconv.ParseFloat(ws, 32)
		if err != nil || math.IsNaN(w) || math.IsInf(w, 0) {
			return x, qianmian.Invalid("weight", "line %d: not a number: %q", line, ws)
		}
		x.Weight = float32(w)
	}
	return x, nil
}

// ParseTime parses integer Unix seconds or an RFC 3339 time into Unix seconds.
func ParseTime(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("required")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("not integer Unix seconds or an RFC 3339 time: %q", s)
	}
	return t.Unix(), nil
}

func newCSVReader(r io.Reader) *csv.Reader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // short rows are reported by column, not as a parse error
	cr.ReuseRecord = true
	return cr
}

func headerError(err error) error {
	if err == io.EOF {
		return qianmian.Invalid("header", "empty file: want a header line")
	}
	return rowError(err, 1)
}

// rowError turns a CSV syntax error into an EINVALID error naming its line.
func rowError(err error, line int) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return qianmian.Invalid("csv", "line %d: %s", pe.Line, pe.Err.Error())
	}
	return fmt.Errorf("line %d: %w", line, err)
}
