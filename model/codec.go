package model

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// maxLen bounds every length read from a stream, so a corrupt header cannot ask for an
// absurd allocation; slices are also read in chunks and grown only as data arrives.
const maxLen = 1<<31 - 1

// encoder writes little-endian values to a buffered stream and keeps the first error.
type encoder struct {
	cw  countingWriter
	w   *bufio.Writer
	err error
	buf [8]byte
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newEncoder(w io.Writer) *encoder {
	e := &encoder{cw: countingWriter{w: w}}
	e.w = bufio.NewWriterSize(&e.cw, 64<<10)
	return e
}

func (e *encoder) write(p []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(p)
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

func (e *encoder) i64(v int64) {
	binary.LittleEndian.PutUint64(e.buf[:8], uint64(v))
	e.write(e.buf[:8])
}

func (e *encoder) f32(v float32) { e.u32(math.Float32bits(v)) }

func (e *encoder) length(n int) {
	if n > maxLen {
		if e.err == nil {
			e.err = fmt.Errorf("model: length %d too large to encode", n)
		}
		return
	}
	e.u32(uint32(n))
}

func (e *encoder) int32s(v []int32) {
	e.length(len(v))
	for _, x := range v {
		e.u32(uint32(x))
	}
}

func (e *encoder) float32s(v []float32) {
	e.length(len(v))
	for _, x := range v {
		e.u32(math.Float32bits(x))
	}
}

func (e *encoder) strings(v []string) {
	e.length(len(v))
	for _, s := range v {
		e.length(len(s))
		if e.err == nil {
			_, e.err = e.w.WriteString(s)
		}
	}
}

// finish flushes and returns the bytes written and the first error.
func (e *encoder) finish() (int64, error) {
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.cw.n, e.err
}

// decoder reads what encoder wrote. It reads exactly the bytes of one artefact and no more
// (no read-ahead buffer), so artefacts can be concatenated in one stream.
type decoder struct {
	r   io.Reader
	n   int64
	err error
	buf []byte
}

func newDecoder(r io.Reader) *decoder { return &decoder{r: r, buf: make([]byte, 8)} }

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
	d.headerOf(magic, version, version)
}

// headerOf reads a header of any version from oldest to newest and returns it (0 on error).
func (d *decoder) headerOf(magic string, oldest, newest uint32) uint32 {
	got := make([]byte, len(magic))
	d.read(got)
	if d.err == nil && string(got) != magic {
		d.err = fmt.Errorf("model: bad magic %q, want %q", got, magic)
		return 0
	}
	v := d.u32()
	if d.err == nil && (v < oldest || v > newest) {
		if oldest == newest {
			d.err = fmt.Errorf("model: %s version %d, this build reads version %d", magic, v, newest)
		} else {
			d.err = fmt.Errorf("model: %s version %d, this build reads versions %d to %d", magic, v, oldest, newest)
		}
	}
	if d.err != nil {
		return 0
	}
	return v
}

func (d *decoder) u32() uint32 {
	d.read(d.buf[:4])
	if d.err != nil {
		return 0
	}
	return binary.LittleEndian.Uint32(d.buf[:4])
}

func (d *decoder) i64() int64 {
	d.read(d.buf[:8])
	if d.err != nil {
		return 0
	}
	return int64(binary.LittleEndian.Uint64(d.buf[:8]))
}

func (d *decoder) f32() float32 { return math.Float32frombits(d.u32()) }

func (d *decoder) length() int {
	n := d.u32()
	if d.err == nil && n > maxLen {
		d.err = fmt.Errorf("model: corrupt length %d", n)
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}

// words reads n 4-byte words in chunks, calling put for each.
func (d *decoder) words(n int, put func(uint32)) {
	const chunk = 16 << 10
	if cap(d.buf) < 4*chunk {
		d.buf = make([]byte, 4*chunk)
	}
	for n > 0 && d.err == nil {
		k := min(n, chunk)
		b := d.buf[:4*k]
		d.read(b)
		if d.err != nil {
			return
		}
		for i := 0; i < k; i++ {
			put(binary.LittleEndian.Uint32(b[4*i:]))
		}
		n -= k
	}
}

// capFor returns the capacity to allocate for n words: all of them when the reader says
// that many bytes remain (an artefact read from memory), else at most 65,536, so a corrupt
// length cannot allocate gigabytes before the read fails; the slice then grows as it reads.
func (d *decoder) capFor(n int) int {
	if l, ok := d.r.(interface{ Len() int }); ok && 4*n <= l.Len() {
		return n
	}
	return min(n, 1<<16)
}

func (d *decoder) int32s() []int32 {
	n := d.length()
	v := make([]int32, 0, d.capFor(n))
	d.words(n, func(x uint32) { v = append(v, int32(x)) })
	return v
}

func (d *decoder) float32s() []float32 {
	n := d.length()
	v := make([]float32, 0, d.capFor(n))
	d.words(n, func(x uint32) { v = append(v, math.Float32frombits(x)) })
	return v
}

func (d *decoder) strings() []string {
	n := d.length()
	v := make([]string, 0, min(n, 1<<16))
	for i := 0; i < n && d.err == nil; i++ {
		k := d.length()
		if k > 1<<20 {
			d.err = fmt.Errorf("model: corrupt string length %d", k)
			return nil
		}
		b := make([]byte, k)
		d.read(b)
		v = append(v, string(b))
	}
	return v
}

func (d *decoder) finish() (int64, error) { return d.n, d.err }

// checkCSR verifies that ptr describes rows over n entries (and m parallel values) whose
// column indexes, when given, lie in [0, cols).
func checkCSR(ptr []int32, n, m int) error {
	if len(ptr) == 0 || ptr[0] != 0 || int(ptr[len(ptr)-1]) != n || n != m {
		return errors.New("model: corrupt row pointers")
	}
	for k := 1; k < len(ptr); k++ {
		if ptr[k] < ptr[k-1] {
			return errors.New("model: corrupt row pointers")
		}
	}
	return nil
}

// checkSparse verifies a sparse matrix read from an artefact: ptr describes rows over idx
// and nvals parallel values, and every index in idx lies in [0, ncols).
func checkSparse(ptr, idx []int32, nvals, ncols int) error {
	if err := checkCSR(ptr, len(idx), nvals); err != nil {
		return err
	}
	return checkIndexes(idx, ncols)
}

// checkIndexes verifies that every index lies in [0, n).
func checkIndexes(idx []int32, n int) error {
	for _, i := range idx {
		if i < 0 || int(i) >= n {
			return fmt.Errorf("model: index %d out of range [0, %d)", i, n)
		}
	}
	return nil
}
