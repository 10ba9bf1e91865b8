package persona

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// truncatedSVD returns the top rank right singular vectors of the sparse m×n matrix A (n
// columns) as an n×rank row-major matrix, by randomised subspace iteration (Halko,
// Martinsson & Tropp 2011: rank+10 Gaussian test vectors, four power iterations), and the
// matching singular values. It is deterministic for seed. Fewer vectors are returned when A
// has a lower rank.
func truncatedSVD(A *Matrix, rank int, seed uint64) (v []float64, sigma []float64) {
	n := A.Cols
	l := min(rank+10, n, A.Rows())
	if l <= 0 {
		return nil, nil
	}
	rng := rand.New(rand.NewPCG(seed, 0x5851f42d4c957f2d))
	z := make([]float64, n*l) // n×l, row-major
	for i := range z {
		z[i] = rng.NormFloat64()
	}
	q := make([]float64, A.Rows()*l)
	for it := 0; it < 5; it++ {
		mulA(A, z, q, l) // q = A z
		orthonormalise(q, A.Rows(), l)
		mulAT(A, q, z, l) // z = Aᵀ q
		if it < 4 {
			orthonormalise(z, n, l)
		}
	}
	// Now z = Aᵀ Q = Bᵀ with B = Qᵀ A; B Bᵀ = zᵀ z = U Σ² Uᵀ and V = z U Σ⁻¹.
	gram := mat.NewSymDense(l, nil)
	for a := 0; a < l; a++ {
		for b := a; b < l; b++ {
			var s float64
			for j := 0; j < n; j++ {
				s += z[j*l+a] * z[j*l+b]
			}
			gram.SetSym(a, b, s)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(gram, true) {
		return nil, nil
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	order := make([]int, l)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmpFloat(vals[b], vals[a]) })
	for _, c := range order {
		if len(sigma) == rank || vals[c] <= 1e-12*max(vals[order[0]], 1e-300) {
			break
		}
		sigma = append(sigma, math.Sqrt(vals[c]))
	}
	r := len(sigma)
	v = make([]float64, n*r)
	for t := 0; t < r; t++ {
		c := order[t]
		for j := 0; j < n; j++ {
			var s float64
			for a := 0; a < l; a++ {
				s += z[j*l+a] * vecs.At(a, c)
			}
			v[j*r+t] = s / sigma[t]
		}
	}
	return v, sigma
}

// mulA sets out (rows×l) to A·z for z n×l, both row-major.
func mulA(A *Matrix, z, out []float64, l int) {
	clear(out)
	for i := 0; i < A.Rows(); i++ {
		o := out[i*l : i*l+l]
		x := A.Row(i)
		for t, j := range x.Index {
			axpy(x.Value[t], z[int(j)*l:int(j)*l+l], o)
		}
	}
}

// mulAT sets out (n×l) to Aᵀ·q for q rows×l, both row-major.
func mulAT(A *Matrix, q, out []float64, l int) {
	clear(out)
	for i := 0; i < A.Rows(); i++ {
		qi := q[i*l : i*l+l]
		x := A.Row(i)
		for t, j := range x.Index {
			axpy(x.Value[t], qi, out[int(j)*l:int(j)*l+l])
		}
	}
}

// orthonormalise makes the l columns of the r×l row-major matrix a orthonormal by modified
// Gram–Schmidt, applied twice for stability; a column that vanishes becomes zero.
func orthonormalise(a []float64, r, l int) {
	for pass := 0; pass < 2; pass++ {
		for c := 0; c < l; c++ {
			for p := 0; p < c; p++ {
				var s float64
				for i := 0; i < r; i++ {
					s += a[i*l+c] * a[i*l+p]
				}
				for i := 0; i < r; i++ {
					a[i*l+c] -= s * a[i*l+p]
				}
			}
			var nrm float64
			for i := 0; i < r; i++ {
				nrm += a[i*l+c] * a[i*l+c]
			}
			nrm = math.Sqrt(nrm)
			inv := 0.0
			if nrm > 1e-10 {
				inv = 1 / nrm
			}
			for i := 0; i < r; i++ {
				a[i*l+c] *= inv
			}
		}
	}
}
