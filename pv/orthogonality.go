package pv

import (
	"fmt"
	"math"
)

// OrthogonalityError returns max |WᵀW − I| over W's column pairs, for w an
// n×k matrix stored row-major with shape [n, k] (as Model.Weight returns a
// rotate_layer): 0 for orthonormal columns. It returns an error when shape
// is not two non-negative sizes whose product is len(w).
func OrthogonalityError(w []float32, shape []int) (float64, error) {
	if len(shape) != 2 || shape[0] < 0 || shape[1] < 0 || shape[0]*shape[1] != len(w) {
		return 0, fmt.Errorf("pv: orthogonality: shape %v does not fit %d values; want [n, k] with n*k values", shape, len(w))
	}
	n, k := shape[0], shape[1]
	worst := 0.0
	for a := range k {
		for b := range k {
			dot := 0.0
			for i := range n {
				dot += float64(w[i*k+a]) * float64(w[i*k+b])
			}
			if a == b {
				dot--
			}
			worst = math.Max(worst, math.Abs(dot))
		}
	}
	return worst, nil
}
