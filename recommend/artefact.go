package recommend

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/qianmian/qianmian/model"
)

// artefact is everything one training run publishes, in one versioned blob. Item, store,
// region and category indexes are the artefact's own; the engine remaps them onto its
// catalogue when it loads the artefact.
type artefact struct {
	TrainedAt int64 // Unix seconds

	Items      *model.IDMap
	Stores     *model.IDMap
	Regions    *model.IDMap
	Categories *model.IDMap // category keys ("food/dairy/milk")

	Neighbors *model.ItemKNN    // nil in the popularity fallback
	StorePop  *model.Popularity // group = store index
	RegionPop *model.Popularity // group = region index
	GlobalPop *model.Popularity // group 0

	RebuyRates []float32 // per category
	Rebuy      []int32   // the categories people rebuy

	// Learned scores live histories in the Items index space; nil in the fast artefact
	// and the popularity fallback. LearnedName is its family ("seq", "ials", …).
	Learned     learnedModel
	LearnedName string
}

// learnedModel is a model the artefact can carry and the engine can score histories with.
type learnedModel interface {
	model.HistoryScorer
	io.WriterTo
	io.ReaderFrom
}

// newLearned returns an empty model of the named family, to read a saved one into.
func newLearned(name string) (learnedModel, error) {
	switch name {
	case "seq":
		return new(model.Sequential), nil
	case "ials":
		return new(model.IALS), nil
	case "content":
		return new(model.Content), nil
	case "ease":
		return new(model.EASE), nil
	case hybridName:
		return servedHybrid{new(model.Hybrid)}, nil
	}
	return nil, fmt.Errorf("unknown learned model %q", name)
}

// servedHybrid carries the hybrid in the artefact whole: ranker, the summary of the
// training data its features read, and its bases.
type servedHybrid struct{ *model.Hybrid }

func (h servedHybrid) WriteTo(w io.Writer) (int64, error)  { return h.WriteServing(w) }
func (h servedHybrid) ReadFrom(r io.Reader) (int64, error) { return h.ReadServing(r) }

const (
	artefactMagic   = "QMHYBRID"
	artefactVersion = 2 // 2 adds the learned model; 1 is still read
	maxRebuyEntries = 1 << 24
)

// encode returns the artefact's bytes: a magic and version header, the trained-at time,
// then each part's own versioned stream. It writes the artefact twice, first only counting
// the bytes, so the result is allocated once at its size: a growing buffer would hold the
// old and the new copy at once, on top of the training data (hundreds of MB in the large
// world).
func (a *artefact) encode() ([]byte, error) {
	var n countingWriter
	if err := a.writeTo(&n); err != nil {
		return nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, n))
	if err := a.writeTo(buf); err != nil {
		return nil, err
	}
	if buf.Len() != int(n) {
		return nil, fmt.Errorf("artefact: %d bytes written, %d counted", buf.Len(), n)
	}
	return buf.Bytes(), nil
}

// countingWriter counts what is written to it.
type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

func (c *countingWriter) WriteString(s string) (int, error) {
	*c += countingWriter(len(s))
	return len(s), nil
}

// writeTo writes the artefact to buf.
func (a *artefact) writeTo(buf interface {
	io.Writer
	io.StringWriter
}) error {
	buf.WriteString(artefactMagic)
	le := binary.LittleEndian
	buf.Write(le.AppendUint32(nil, artefactVersion))
	buf.Write(le.AppendUint64(nil, uint64(a.TrainedAt)))
	hasNeighbors := uint32(0)
	if a.Neighbors != nil {
		hasNeighbors = 1
	}
	buf.Write(le.AppendUint32(nil, hasNeighbors))
	parts := []io.WriterTo{a.Items, a.Stores, a.Regions, a.Categories, a.StorePop, a.RegionPop, a.GlobalPop}
	if a.Neighbors != nil {
		parts = append(parts, a.Neighbors)
	}
	for _, p := range parts {
		if _, err := p.WriteTo(buf); err != nil {
			return err
		}
	}
	if err := writeVector(buf, a.RebuyRates); err != nil {
		return err
	}
	if err := writeVector(buf, a.Rebuy); err != nil {
		return err
	}
	if a.Learned == nil {
		buf.Write(le.AppendUint32(nil, 0))
		return nil
	}
	buf.Write(le.AppendUint32(nil, uint32(len(a.LearnedName))))
	buf.WriteString(a.LearnedName)
	if _, err := model.ServingWriter(a.Learned).WriteTo(buf); err != nil {
		return fmt.Errorf("write %s: %w", a.LearnedName, err)
	}
	return nil
}

// decodeArtefact parses what encode wrote.
func decodeArtefact(data []byte) (*artefact, error) {
	r := bytes.NewReader(data)
	magic := make([]byte, len(artefactMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != artefactMagic {
		return nil, fmt.Errorf("not a %s model artefact", artefactMagic)
	}
	var head struct {
		Version      uint32
		TrainedAt    int64
		HasNeighbors uint32
	}
	if err := binary.Read(r, binary.LittleEndian, &head); err != nil {
		return nil, fmt.Errorf("read artefact header: %w", err)
	}
	if head.Version != artefactVersion && head.Version != 1 {
		return nil, fmt.Errorf("artefact version %d, this build reads %d", head.Version, artefactVersion)
	}
	a := &artefact{
		TrainedAt: head.TrainedAt,
		Items:     new(model.IDMap), Stores: new(model.IDMap), Regions: new(model.IDMap), Categories: new(model.IDMap),
		StorePop: new(model.Popularity), RegionPop: new(model.Popularity), GlobalPop: new(model.Popularity),
	}
	parts := []io.ReaderFrom{a.Items, a.Stores, a.Regions, a.Categories, a.StorePop, a.RegionPop, a.GlobalPop}
	if head.HasNeighbors == 1 {
		a.Neighbors = new(model.ItemKNN)
		parts = append(parts, a.Neighbors)
	}
	for _, p := range parts {
		if _, err := p.ReadFrom(r); err != nil {
			return nil, fmt.Errorf("read artefact: %w", err)
		}
	}
	var err error
	if a.RebuyRates, err = readVector[float32](r); err != nil {
		return nil, err
	}
	if a.Rebuy, err = readVector[int32](r); err != nil {
		return nil, err
	}
	if head.Version >= 2 {
		if err := a.readLearned(r); err != nil {
			return nil, err
		}
	}
	if a.Neighbors != nil && a.Neighbors.NumItems() > a.Items.Len() {
		return nil, fmt.Errorf("artefact has neighbours for %d items but names %d", a.Neighbors.NumItems(), a.Items.Len())
	}
	return a, nil
}

func writeVector[T float32 | int32](w io.Writer, v []T) error {
	if err := binary.Write(w, binary.LittleEndian, uint32(len(v))); err != nil {
		return err
	}
	return binary.Write(w, binary.LittleEndian, v)
}

func readVector[T float32 | int32](r io.Reader) ([]T, error) {
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return nil, fmt.Errorf("read artefact vector: %w", err)
	}
	if n > maxRebuyEntries {
		return nil, fmt.Errorf("artefact vector of %d entries is corrupt", n)
	}
	v := make([]T, n)
	if err := binary.Read(r, binary.LittleEndian, v); err != nil {
		return nil, fmt.Errorf("read artefact vector: %w", err)
	}
	return v, nil
}

// readLearned reads the learned section: a length-prefixed family name (0: none), then the
// model's own versioned stream.
func (a *artefact) readLearned(r io.Reader) error {
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return fmt.Errorf("read learned model: %w", err)
	}
	if n == 0 {
		return nil
	}
	if n > 64 {
		return fmt.Errorf("learned model name of %d bytes is corrupt", n)
	}
	name := make([]byte, n)
	if _, err := io.ReadFull(r, name); err != nil {
		return fmt.Errorf("read learned model: %w", err)
	}
	m, err := newLearned(string(name))
	if err != nil {
		return err
	}
	if _, err := m.ReadFrom(r); err != nil {
		return fmt.Errorf("read learned model %s: %w", name, err)
	}
	a.Learned, a.LearnedName = m, string(name)
	return nil
}
