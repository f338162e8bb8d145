package sae

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// rowNorm is the run-time normalisation of one input row.
type rowNorm struct{ coeff, std, mu float64 }

// Encode returns the feature activations of x, rows of d_in values
// ([rows, d_in] row-major), as rows of d_sae values, computed on the host
// (float64 sums). It returns an error for an SAE whose weights do not
// match its config or a len(x) that is not a multiple of d_in.
func (s *SAE) Encode(x []float32) ([]float32, error) {
	f, _, err := s.encodeHost(x)
	return f, err
}

// Decode returns the reconstruction f·W_dec + b_dec (divided by Scale) of
// activations f ([rows, d_sae]) as [rows, d_in]; run-time normalisations
// are not undone (use Reconstruct). Errors as Encode's.
func (s *SAE) Decode(f []float32) ([]float32, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	if len(f)%s.DSAE != 0 {
		return nil, fmt.Errorf("sae: decode: %d values are not rows of d_sae %d", len(f), s.DSAE)
	}
	return s.decodeHost(f, nil), nil
}

// Reconstruct returns decode(encode(x)) for rows x of d_in values, with
// the input's normalisation undone: SAELens' forward without the error
// term. Errors as Encode's.
func (s *SAE) Reconstruct(x []float32) ([]float32, error) {
	f, nm, err := s.encodeHost(x)
	if err != nil {
		return nil, err
	}
	return s.decodeHost(f, nm), nil
}

func (s *SAE) decNorms() []float64 {
	out := make([]float64, s.DSAE)
	for j := range out {
		out[j] = 1
		if s.RescaleActsByDecoderNorm {
			var sum float64
			for _, w := range s.WDec[j*s.DIn : (j+1)*s.DIn] {
				sum += float64(w) * float64(w)
			}
			out[j] = math.Sqrt(sum)
		}
	}
	return out
}

func (s *SAE) encodeHost(x []float32) ([]float32, []rowNorm, error) {
	if err := s.Check(); err != nil {
		return nil, nil, err
	}
	d, n := s.DIn, s.DSAE
	if len(x)%d != 0 {
		return nil, nil, fmt.Errorf("sae: encode: %d values are not rows of d_in %d", len(x), d)
	}
	rows := len(x) / d
	out := make([]float32, rows*n)
	nms := make([]rowNorm, rows)
	dn := s.decNorms()
	sc := s.scale()
	in := make([]float64, d)
	pre := make([]float64, n)
	for r := range rows {
		nm := rowNorm{coeff: 1, std: 1}
		for i, v := range x[r*d : (r+1)*d] {
			in[i] = float64(v) * sc
		}
		switch s.NormalizeActivations {
		case NormConstantRescale:
			var sum float64
			for _, v := range in {
				sum += v * v
			}
			nm.coeff = math.Sqrt(float64(d)) / math.Max(math.Sqrt(sum), 1e-30)
		case NormLayerNorm:
			var sum, sq float64
			for _, v := range in {
				sum += v
			}
			nm.mu = sum / float64(d)
			for _, v := range in {
				sq += (v - nm.mu) * (v - nm.mu)
			}
			nm.std = math.Sqrt(sq / float64(max(d-1, 1)))
		}
		stdIn := 1.0
		if s.NormalizeActivations == NormLayerNorm {
			stdIn = nm.std + 1e-5
		}
		for i := range in {
			in[i] = (in[i] - nm.mu) / stdIn * nm.coeff
			if s.ApplyBDecToInput {
				in[i] -= float64(s.BDec[i])
			}
		}
		for j := range pre {
			pre[j] = float64(s.BEnc[j])
		}
		for i, v := range in {
			row := s.WEnc[i*n : (i+1)*n]
			for j, w := range row {
				pre[j] += v * float64(w)
			}
		}
		for j := range pre {
			pre[j] = float64(float32(pre[j])) * dn[j]
		}
		kth := math.Inf(-1)
		if s.Architecture == ArchTopK {
			sorted := slices.Clone(pre)
			slices.SortFunc(sorted, func(a, b float64) int { return cmp.Compare(b, a) })
			kth = sorted[s.K-1]
		}
		for j, v := range pre {
			on := v > 0 && v >= kth
			if s.Architecture == ArchJumpReLU {
				on = on && v > float64(s.Threshold[j])
			}
			if on {
				out[r*n+j] = float32(v)
			}
		}
		nms[r] = nm
	}
	return out, nms, nil
}

func (s *SAE) decodeHost(f []float32, nms []rowNorm) []float32 {
	d, n := s.DIn, s.DSAE
	rows := len(f) / n
	out := make([]float32, rows*d)
	dn := s.decNorms()
	sc := s.scale()
	acc := make([]float64, d)
	for r := range rows {
		for i := range acc {
			acc[i] = float64(s.BDec[i])
		}
		for j, v := range f[r*n : (r+1)*n] {
			if v == 0 {
				continue
			}
			a := float64(v) / dn[j]
			for i, w := range s.WDec[j*d : (j+1)*d] {
				acc[i] += a * float64(w)
			}
		}
		for i, v := range acc {
			if nms != nil {
				v = v/nms[r].coeff*nms[r].std + nms[r].mu
			}
			out[r*d+i] = float32(v / sc)
		}
	}
	return out
}
