package persona

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// The artefacts follow the house style of package model: an 8-byte magic, a version, then
// little-endian fields; lengths are bounded and slices grown as data arrives, so a corrupt
// stream cannot ask for an absurd allocation; a reader consumes exactly one artefact's
// bytes, so artefacts can be concatenated.
const (
	featurizerMagic   = "QMPFEAT\x00"
	featurizerVersion = 1
	classifierMagic   = "QMPCLSF\x00"
	classifierVersion = 1
	modelMagic        = "QMPERSN\x00"
	modelVersion      = 1

	maxLen = 1<<31 - 1
)

type encoder struct {
	w   *bufio.Writer
	n   int64
	err error
	buf [8]byte
}

func newEncoder(w io.Writer) *encoder { return &encoder{w: bufio.NewWriterSize(w, 64<<10)} }

func (e *encoder) write(p []byte) {
	if e.err == nil {
		var k int
		k, e.err = e.w.Write(p)
		e.n += int64(k)
	}
}

func (e *encoder) header(magic string, version uint32) {
	e.write([]byte(magic))
	e.u32(version)
}

func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:4], v)
	e.write(e.buf[:4])
}

func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:8], v)
	e.write(e.buf[:8])
}

func (e *encoder) f64(v float64) { e.u64(math.Float64bits(v)) }

func (e *encoder) i64(v int64) { e.u64(uint64(v)) }

func (e *encoder) boolean(v bool) {
	if v {
		e.u32(1)
	} else {
		e.u32(0)
	}
}

func (e *encoder) length(n int) {
	if n > maxLen && e.err == nil {
		e.err = fmt.Errorf("persona: length %d too large to encode", n)
	}
	e.u32(uint32(n))
}

func (e *encoder) f64s(v []float64) {
	e.length(len(v))
	for _, x := range v {
		e.f64(x)
	}
}

func (e *encoder) i32s(v []int32) {
	e.length(len(v))
	for _, x := range v {
		e.u32(uint32(x))
	}
}

func (e *encoder) strs(v []string) {
	e.length(len(v))
	for _, s := range v {
		e.length(len(s))
		e.write([]byte(s))
	}
}

func (e *encoder) finish() (int64, error) {
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.n, e.err
}

type decoder struct {
	r   io.Reader
	n   int64
	err error
	buf [8]byte
}

func (d *decoder) read(p []byte) {
	if d.err != nil {
		return
	}
	k, err := io.ReadFull(d.r, p)
	d.n += int64(k)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	d.err = err
}

func (d *decoder) header(magic string, version uint32) {
	got := make([]byte, len(magic))
	d.read(got)
	if d.err == nil && string(got) != magic {
		d.err = fmt.Errorf("persona: bad magic %q, want %q", got, magic)
		return
	}
	if v := d.u32(); d.err == nil && v != version {
		d.err = fmt.Errorf("persona: %s version %d, this build reads version %d", magic[:7], v, version)
	}
}

func (d *decoder) u32() uint32 {
	d.read(d.buf[:4])
	if d.err != nil {
		return 0
	}
	return binary.LittleEndian.Uint32(d.buf[:4])
}

func (d *decoder) u64() uint64 {
	d.read(d.buf[:8])
	if d.err != nil {
		return 0
	}
	return binary.LittleEndian.Uint64(d.buf[:8])
}

func (d *decoder) f64() float64 { return math.Float64frombits(d.u64()) }

func (d *decoder) i64() int64 { return int64(d.u64()) }

func (d *decoder) boolean() bool { return d.u32() != 0 }

func (d *decoder) length() int {
	n := d.u32()
	if d.err == nil && n > maxLen {
		d.err = fmt.Errorf("persona: corrupt length %d", n)
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}

// words reads n words of size bytes in chunks, calling put with each one's bytes.
func (d *decoder) words(n, size int, put func([]byte)) {
	const chunk = 8 << 10
	b := make([]byte, size*min(n, chunk))
	for n > 0 && d.err == nil {
		k := min(n, chunk)
		d.read(b[:size*k])
		if d.err != nil {
			return
		}
		for i := 0; i < k; i++ {
			put(b[size*i : size*i+size])
		}
		n -= k
	}
}

func (d *decoder) f64s() []float64 {
	n := d.length()
	v := make([]float64, 0, min(n, 1<<16))
	d.words(n, 8, func(b []byte) { v = append(v, math.Float64frombits(binary.LittleEndian.Uint64(b))) })
	return v
}

func (d *decoder) i32s() []int32 {
	n := d.length()
	v := make([]int32, 0, min(n, 1<<16))
	d.words(n, 4, func(b []byte) { v = append(v, int32(binary.LittleEndian.Uint32(b))) })
	return v
}

func (d *decoder) strs() []string {
	n := d.length()
	v := make([]string, 0, min(n, 1<<16))
	for i := 0; i < n && d.err == nil; i++ {
		k := d.length()
		if k > 1<<20 {
			d.err = fmt.Errorf("persona: corrupt string length %d", k)
			return nil
		}
		b := make([]byte, k)
		d.read(b)
		v = append(v, string(b))
	}
	return v
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("persona: "+format, args...)
	}
}

// WriteTo writes the fitted featurizer as a versioned artefact.
func (f *Featurizer) WriteTo(w io.Writer) (int64, error) {
	e := newEncoder(w)
	f.encode(e)
	return e.finish()
}

func (f *Featurizer) encode(e *encoder) {
	e.header(featurizerMagic, featurizerVersion)
	c := f.Config
	for _, v := range []float64{c.Items, c.IDFPower, c.Signed, c.Attrs, c.SVD, c.Activity, c.Time} {
		e.f64(v)
	}
	e.boolean(c.ItemWeights)
	e.boolean(c.SignedAttrs)
	e.i64(int64(c.SVDDims))
	e.i64(int64(c.TZOffset))
	e.i64(int64(c.MinUsers))
	e.u64(c.Seed)
	e.strs(f.items)
	e.f64s(f.idf)
	e.strs(f.attrs)
	ids := make([]string, 0, len(f.itemAttrs))
	for id := range f.itemAttrs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	e.strs(ids)
	for _, id := range ids {
		e.i32s(f.itemAttrs[id])
	}
	e.i64(int64(f.svdDims))
	e.f64s(f.svd)
	e.f64s(f.mean)
	e.f64s(f.scale)
}

// ReadFrom replaces f with a featurizer written by WriteTo, reading exactly its bytes.
func (f *Featurizer) ReadFrom(r io.Reader) (int64, error) {
	d := &decoder{r: r}
	g := decodeFeaturizer(d)
	if d.err != nil {
		return d.n, d.err
	}
	*f = *g
	return d.n, nil
}

func decodeFeaturizer(d *decoder) *Featurizer {
	d.header(featurizerMagic, featurizerVersion)
	var c FeatureConfig
	for _, p := range []*float64{&c.Items, &c.IDFPower, &c.Signed, &c.Attrs, &c.SVD, &c.Activity, &c.Time} {
		*p = d.f64()
	}
	c.ItemWeights = d.boolean()
	c.SignedAttrs = d.boolean()
	c.SVDDims, c.TZOffset, c.MinUsers = int(d.i64()), int(d.i64()), int(d.i64())
	c.Seed = d.u64()
	f := &Featurizer{Config: c}
	f.items = d.strs()
	f.idf = d.f64s()
	f.attrs = d.strs()
	ids := d.strs()
	f.itemAttrs = make(map[string][]int32, len(ids))
	for _, id := range ids {
		if d.err != nil {
			break
		}
		ks := d.i32s()
		for _, k := range ks {
			if k < 0 || int(k) >= len(f.attrs) {
				d.fail("featurizer: attribute index %d out of range", k)
			}
		}
		f.itemAttrs[id] = ks
	}
	f.svdDims = int(d.i64())
	f.svd = d.f64s()
	f.mean = d.f64s()
	f.scale = d.f64s()
	if d.err != nil {
		return nil
	}
	switch {
	case len(f.idf) != len(f.items):
		d.fail("featurizer: %d IDF values for %d items", len(f.idf), len(f.items))
	case f.svdDims < 0 || len(f.svd) != f.svdDims*len(f.items):
		d.fail("featurizer: SVD of %d values for %d items × %d", len(f.svd), len(f.items), f.svdDims)
	case len(f.mean) != f.denseDims() || len(f.scale) != f.denseDims():
		d.fail("featurizer: %d standardised columns, want %d", len(f.scale), f.denseDims())
	}
	f.itemIndex = indexOf(f.items)
	f.attrIndex = indexOf(f.attrs)
	return f
}

func indexOf(ids []string) map[string]int32 {
	m := make(map[string]int32, len(ids))
	for k, id := range ids {
		m[id] = int32(k)
	}
	return m
}

// WriteTo writes the fitted classifier as a versioned artefact.
func (c *Classifier) WriteTo(w io.Writer) (int64, error) {
	if c.m == nil {
		return 0, errors.New("persona: classifier not fitted")
	}
	e := newEncoder(w)
	c.encode(e)
	return e.finish()
}

func (c *Classifier) encode(e *encoder) {
	e.header(classifierMagic, classifierVersion)
	e.f64s(c.Config.Lambdas)
	e.i64(int64(c.Config.InnerFolds))
	e.i64(int64(c.Config.MaxIter))
	e.u64(c.Config.Seed)
	e.strs(c.Classes)
	e.f64(c.Lambda)
	e.f64(c.InnerLogLoss)
	e.f64(c.Scale)
	e.f64s(c.Shift)
	e.i64(int64(c.m.d))
	e.f64s(c.m.w)
}

// ReadFrom replaces c with a classifier written by WriteTo, reading exactly its bytes.
// c.Config.Workers is kept.
func (c *Classifier) ReadFrom(r io.Reader) (int64, error) {
	d := &decoder{r: r}
	g := decodeClassifier(d)
	if d.err != nil {
		return d.n, d.err
	}
	g.Config.Workers = c.Config.Workers
	*c = *g
	return d.n, nil
}

func decodeClassifier(d *decoder) *Classifier {
	d.header(classifierMagic, classifierVersion)
	c := &Classifier{}
	c.Config.Lambdas = d.f64s()
	c.Config.InnerFolds = int(d.i64())
	c.Config.MaxIter = int(d.i64())
	c.Config.Seed = d.u64()
	c.Classes = d.strs()
	c.Lambda = d.f64()
	c.InnerLogLoss = d.f64()
	c.Scale = d.f64()
	c.Shift = d.f64s()
	dims := d.i64()
	w := d.f64s()
	if d.err != nil {
		return nil
	}
	k := len(c.Classes)
	switch {
	case k < 2 || len(c.Shift) != k:
		d.fail("classifier: %d classes, %d offsets", k, len(c.Shift))
	case dims < 0 || int64(len(w)) != dims*int64(k)+int64(k):
		d.fail("classifier: %d weights for %d features × %d classes", len(w), dims, k)
	}
	c.m = &softmax{d: int(dims), k: k, w: w}
	return c
}
