package persona

import (
	"errors"
	"slices"
)

// Vector is a sparse feature vector: parallel column indexes (ascending, distinct) and
// values. The zero Vector has no features.
type Vector struct {
	Index []int32
	Value []float64
}

// Dot returns v·w for a dense w; columns beyond len(w) count as zero.
func (v Vector) Dot(w []float64) float64 {
	var s float64
	for k, j := range v.Index {
		if int(j) < len(w) {
			s += v.Value[k] * w[j]
		}
	}
	return s
}

// Matrix is a sparse matrix in compressed sparse row form: row i's columns are
// Index[Ptr[i]:Ptr[i+1]] (ascending) with values Value[Ptr[i]:Ptr[i+1]].
type Matrix struct {
	Cols  int
	Ptr   []int
	Index []int32
	Value []float64
}

// NewMatrix returns an empty matrix of cols columns, ready for AppendRow.
func NewMatrix(cols int) *Matrix { return &Matrix{Cols: cols, Ptr: []int{0}} }

// Rows returns the number of rows.
func (m *Matrix) Rows() int { return len(m.Ptr) - 1 }

// Row returns row i; the vector aliases m.
func (m *Matrix) Row(i int) Vector {
	lo, hi := m.Ptr[i], m.Ptr[i+1]
	return Vector{Index: m.Index[lo:hi], Value: m.Value[lo:hi]}
}

// AppendRow appends v as a new row. Its indexes must be ascending and below Cols.
func (m *Matrix) AppendRow(v Vector) {
	m.Index = append(m.Index, v.Index...)
	m.Value = append(m.Value, v.Value...)
	m.Ptr = append(m.Ptr, len(m.Index))
}

// Subset returns the rows rows of m, in that order, as a new matrix sharing nothing with m.
func (m *Matrix) Subset(rows []int) *Matrix {
	out := NewMatrix(m.Cols)
	for _, i := range rows {
		out.AppendRow(m.Row(i))
	}
	return out
}

// check verifies the structure of m.
func (m *Matrix) check() error {
	if len(m.Ptr) == 0 || m.Ptr[0] != 0 || m.Ptr[len(m.Ptr)-1] != len(m.Index) || len(m.Index) != len(m.Value) {
		return errors.New("persona: corrupt sparse matrix")
	}
	for i := 0; i+1 < len(m.Ptr); i++ {
		if m.Ptr[i+1] < m.Ptr[i] {
			return errors.New("persona: corrupt sparse matrix rows")
		}
		row := m.Index[m.Ptr[i]:m.Ptr[i+1]]
		for k, j := range row {
			if j < 0 || int(j) >= m.Cols || (k > 0 && row[k-1] >= j) {
				return errors.New("persona: sparse matrix columns out of order or range")
			}
		}
	}
	return nil
}

// vectorBuilder accumulates (column, value) pairs, summing repeats, into a Vector.
type vectorBuilder struct {
	idx []int32
	val []float64
}

func (b *vectorBuilder) add(j int32, v float64) {
	b.idx = append(b.idx, j)
	b.val = append(b.val, v)
}

// vector returns the accumulated entries summed by column, sorted, dropping zeros, and
// resets b.
func (b *vectorBuilder) vector() Vector {
	order := make([]int, len(b.idx))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return int(b.idx[x]) - int(b.idx[y]) })
	var out Vector
	for t := 0; t < len(order); {
		j, sum := b.idx[order[t]], 0.0
		for ; t < len(order) && b.idx[order[t]] == j; t++ {
			sum += b.val[order[t]]
		}
		if sum != 0 {
			out.Index = append(out.Index, j)
			out.Value = append(out.Value, sum)
		}
	}
	b.idx, b.val = b.idx[:0], b.val[:0]
	return out
}
