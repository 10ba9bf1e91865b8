package model

import (
	"io"
	"maps"
)

// IDMap maps string ids to dense int32 indexes 0..Len()-1 in the order they were added.
// The zero value is empty and ready to use. An IDMap is not safe for concurrent writes;
// concurrent readers are fine once writing has stopped.
type IDMap struct {
	ids   []string
	index map[string]int32
}

// NewIDMap returns an empty map with room for n ids.
func NewIDMap(n int) *IDMap {
	return &IDMap{ids: make([]string, 0, n), index: make(map[string]int32, n)}
}

// Add returns the index of id, adding it if it is new.
func (m *IDMap) Add(id string) int32 {
	if i, ok := m.index[id]; ok {
		return i
	}
	if m.index == nil {
		m.index = make(map[string]int32)
	}
	i := int32(len(m.ids))
	m.ids = append(m.ids, id)
	m.index[id] = i
	return i
}

// Index returns the index of id and whether it is known.
func (m *IDMap) Index(id string) (int32, bool) {
	i, ok := m.index[id]
	return i, ok
}

// ID returns the id at index i; i must be in [0, Len()).
func (m *IDMap) ID(i int32) string { return m.ids[i] }

// Len returns the number of ids.
func (m *IDMap) Len() int { return len(m.ids) }

// Clone returns an independent copy, so a writer can keep adding while readers use the copy.
func (m *IDMap) Clone() *IDMap {
	return &IDMap{ids: append([]string(nil), m.ids...), index: maps.Clone(m.index)}
}

const (
	idMapMagic   = "QMIDMAP\x00"
	idMapVersion = 1
)

// WriteTo writes the map as a versioned artefact.
func (m *IDMap) WriteTo(w io.Writer) (int64, error) {
	e := newEncoder(w)
	e.header(idMapMagic, idMapVersion)
	e.strings(m.ids)
	return e.finish()
}

// ReadFrom replaces m with a map written by WriteTo, reading exactly its bytes.
func (m *IDMap) ReadFrom(r io.Reader) (int64, error) {
	d := newDecoder(r)
	d.header(idMapMagic, idMapVersion)
	ids := d.strings()
	if n, err := d.finish(); err != nil {
		return n, err
	}
	fresh := NewIDMap(len(ids))
	for _, id := range ids {
		fresh.Add(id)
	}
	*m = *fresh
	return d.n, nil
}
