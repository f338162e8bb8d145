package sae

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// Feature is one feature's activation.
type Feature struct {
	Index int     // the feature, in [0, d_sae)
	Value float32 // its activation
}

// Activations are an SAE's feature activations on prompts, per token.
type Activations struct {
	DSAE int
	// Values[i] holds prompt i's activations: one row of d_sae per token,
	// [len(prompt), d_sae] row-major (no padding).
	Values [][]float32
	// Inputs[i] holds prompt i's values at the SAE's site, [len, d_in].
	Inputs [][]float32
}

// Top returns the k features with the largest activations at token pos
// of prompt i (fewer when fewer are positive), largest first; nil for i
// or pos out of range.
func (a *Activations) Top(i, pos, k int) []Feature {
	if a == nil || i < 0 || i >= len(a.Values) || pos < 0 || (pos+1)*a.DSAE > len(a.Values[i]) {
		return nil
	}
	row := a.Values[i][pos*a.DSAE : (pos+1)*a.DSAE]
	var out []Feature
	for j, v := range row {
		if v > 0 {
			out = append(out, Feature{j, v})
		}
	}
	slices.SortStableFunc(out, func(x, y Feature) int { return cmp.Compare(y.Value, x.Value) })
	return out[:min(k, len(out))]
}

// Feature returns feature f's activation at every token of prompt i; nil
// for i or f out of range.
func (a *Activations) Feature(i, f int) []float32 {
	if a == nil || i < 0 || i >= len(a.Values) || f < 0 || f >= a.DSAE {
		return nil
	}
	n := len(a.Values[i]) / a.DSAE
	out := make([]float32, n)
	for p := range out {
		out[p] = a.Values[i][p*a.DSAE+f]
	}
	return out
}

// FeatureActivations runs prompts through m up to s's site and returns
// s's feature activations at every token (encoded in a graph on m's
// backend). Errors: s's site missing in m or of a width other than d_in,
// no prompts, and the model's errors for prompts it cannot run.
func FeatureActivations(m lm.Model, s *SAE, prompts []lm.Prompt) (*Activations, error) {
	site, err := s.checkModel(m)
	if err != nil {
		return nil, err
	}
	if len(prompts) == 0 {
		return nil, fmt.Errorf("sae: feature activations: no prompts")
	}
	res, err := lm.NewRunner(m, m.PadID()).RunSites(prompts, site)
	if err != nil {
		return nil, fmt.Errorf("sae: feature activations: %w", err)
	}
	x, err := tensors.CopyFlatData[float32](res.Sites[site])
	if err != nil {
		return nil, err
	}
	f, _, err := s.run(m.Backend(), x, false)
	if err != nil {
		return nil, err
	}
	a := &Activations{DSAE: s.DSAE}
	b := res.Batch
	for i := range prompts {
		first := i*b.Len + b.Offset(i)
		n := b.Lengths[i]
		a.Values = append(a.Values, slices.Clone(f[first*s.DSAE:(first+n)*s.DSAE]))
		a.Inputs = append(a.Inputs, slices.Clone(x[first*s.DIn:(first+n)*s.DIn]))
	}
	return a, nil
}

// run encodes rows x ([rows, d_in]) in a graph on backend, and with
// recon also reconstructs them; it returns activations and
// reconstructions (nil without recon).
func (s *SAE) run(backend compute.Backend, x []float32, recon bool) (f, xHat []float32, err error) {
	d, n := s.DIn, s.DSAE
	rows := len(x) / d
	if rows == 0 || len(x)%d != 0 {
		return nil, nil, fmt.Errorf("sae: %d values are not rows of d_in %d", len(x), d)
	}
	thr := s.Threshold
	if thr == nil {
		thr = make([]float32, n)
	}
	topk := s.Architecture == ArchTopK
	e, err := graph.NewExec(backend, func(in []*graph.Node) []*graph.Node {
		p := newParams(in[1], in[2], in[3], in[4], in[5], in[6], topk)
		f, nm := p.encode(in[0])
		if !recon {
			return []*graph.Node{f}
		}
		return []*graph.Node{f, p.decode(f, &nm)}
	})
	if err != nil {
		return nil, nil, fmt.Errorf("sae: build encoder: %w", err)
	}
	defer e.Finalize()
	t := func(v []float32, dims ...int) *tensors.Tensor { return tensors.FromFlatDataAndDimensions(v, dims...) }
	outs, err := callExec(e, t(x, rows, d), t(s.WEnc, d, n), t(s.BEnc, n), t(s.WDec, n, d), t(s.BDec, d), t(thr, n), t(s.options(false), numOpts))
	if err != nil {
		return nil, nil, fmt.Errorf("sae: encode: %w", err)
	}
	if f, err = tensors.CopyFlatData[float32](outs[0]); err != nil {
		return nil, nil, err
	}
	if recon {
		if xHat, err = tensors.CopyFlatData[float32](outs[1]); err != nil {
			return nil, nil, err
		}
	}
	return f, xHat, nil
}

// callExec runs e, returning a panic as an error.
func callExec(e *graph.Exec, args ...any) (outs []*tensors.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("graph: %v", r)
		}
	}()
	return e.Call(args...)
}

// Activation is one token's activation of a feature.
type Activation struct {
	Prompt int     // index of the prompt
	Pos    int     // token position in the prompt
	Token  int     // the token id there
	Value  float32 // the feature's activation
}

// TopActivating returns the k tokens of prompts where feature is most
// active (positive activations only, largest first; ties in prompt then
// position order). Errors: feature out of [0, d_sae), k < 1, and
// FeatureActivations'.
func TopActivating(m lm.Model, s *SAE, feature int, prompts []lm.Prompt, k int) ([]Activation, error) {
	if s == nil {
		return nil, fmt.Errorf("sae: nil SAE")
	}
	if feature < 0 || feature >= s.DSAE {
		return nil, fmt.Errorf("sae: top activating: feature %d out of range [0, %d)", feature, s.DSAE)
	}
	if k < 1 {
		return nil, fmt.Errorf("sae: top activating: k %d; want k >= 1", k)
	}
	a, err := FeatureActivations(m, s, prompts)
	if err != nil {
		return nil, err
	}
	var out []Activation
	for i, p := range prompts {
		for pos, v := range a.Feature(i, feature) {
			if v > 0 {
				out = append(out, Activation{Prompt: i, Pos: pos, Token: p.IDs[pos], Value: v})
			}
		}
	}
	slices.SortStableFunc(out, func(x, y Activation) int { return cmp.Compare(y.Value, x.Value) })
	return out[:min(k, len(out))], nil
}
