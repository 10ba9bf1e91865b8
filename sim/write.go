package sim

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/qianmian/qianmian"
)

// Files lists what WriteFiles wrote: one NDJSON file per kind of object, in the root
// types' JSON encoding, and truth.json; and how many events of each type.
type Files struct {
	Dir         string
	Suppliers   string
	Stores      string
	Items       string
	Assortments string
	Users       string
	Events      string // time-ordered
	Truth       string

	EventCount   int
	EventsByType map[qianmian.EventType]int
}

// Paths returns the NDJSON files in the order they load: referenced objects first. Events
// is left out when WriteReferenceFiles did not write it.
func (f Files) Paths() []string {
	paths := []string{f.Suppliers, f.Stores, f.Items, f.Assortments, f.Users}
	if f.Events != "" {
		paths = append(paths, f.Events)
	}
	return paths
}

// WriteFiles writes the world into dir, creating it if needed.
func WriteFiles(w *World, dir string) (Files, error) { return writeFiles(w, dir, true) }

// WriteReferenceFiles writes everything but the events — suppliers, stores, items,
// assortments, users and the truth — for a world whose events are streamed from
// World.Events into storage instead of going through a file (the large world's 20M events
// would take several gigabytes of NDJSON).
func WriteReferenceFiles(w *World, dir string) (Files, error) { return writeFiles(w, dir, false) }

func writeFiles(w *World, dir string, events bool) (Files, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Files{}, fmt.Errorf("sim: create %s: %w", dir, err)
	}
	f := Files{Dir: dir, EventsByType: map[qianmian.EventType]int{}}
	path := func(name string) string { return filepath.Join(dir, name) }
	f.Suppliers, f.Stores, f.Items = path("suppliers.ndjson"), path("stores.ndjson"), path("items.ndjson")
	f.Assortments, f.Users, f.Events = path("assortments.ndjson"), path("users.ndjson"), path("events.ndjson")
	f.Truth = path("truth.json")
	if !events {
		f.Events = ""
	}
	for _, x := range []struct {
		path string
		each func(enc *json.Encoder) error
	}{
		{f.Suppliers, encodeAll(w.Suppliers)},
		{f.Stores, encodeAll(w.Stores)},
		{f.Items, encodeAll(w.Items)},
		{f.Assortments, encodeAll(w.Assortments)},
		{f.Users, encodeAll(w.Users)},
		{f.Events, func(enc *json.Encoder) error {
			for e := range w.Events() {
				if err := enc.Encode(e); err != nil {
					return err
				}
				f.EventCount++
				f.EventsByType[e.Type]++
			}
			return nil
		}},
		{f.Truth, func(enc *json.Encoder) error {
			enc.SetIndent("", "  ")
			return enc.Encode(w.Truth)
		}},
	} {
		if x.path == "" {
			continue
		}
		if err := writeFile(x.path, x.each); err != nil {
			return Files{}, err
		}
	}
	return f, nil
}

func encodeAll[T any](xs []T) func(enc *json.Encoder) error {
	return func(enc *json.Encoder) error {
		for _, x := range xs {
			if err := enc.Encode(x); err != nil {
				return err
			}
		}
		return nil
	}
}

// writeFile creates path and writes it through a buffered JSON encoder.
func writeFile(path string, each func(enc *json.Encoder) error) (err error) {
	file, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	defer func() {
		if cerr := file.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("sim: close %s: %w", path, cerr))
		}
	}()
	bw := bufio.NewWriterSize(file, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := each(enc); err != nil {
		return fmt.Errorf("sim: write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("sim: write %s: %w", path, err)
	}
	return nil
}
