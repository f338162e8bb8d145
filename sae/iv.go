package sae

import (
	"fmt"
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
)

// The pv intervention types that splice an SAE into the forward pass:
// the site's value x becomes decode(edit(encode(x))), plus the error term
// x - decode(encode(x)) when the "options" weight says so. Weights (set
// from an SAE by SetWeights): W_enc, b_enc, W_dec, b_dec, threshold,
// options, feature_scale (1: keep) and feature_add (0), the latter two
// editing the activations of the features the subspace mask selects (all,
// unless pv.Subspaces names some). low_rank_dimension is d_sae.
const (
	// InterventionType is the type of standard and jumprelu SAEs.
	InterventionType pv.Type = "sae"
	// TopKInterventionType is the type of topk SAEs.
	TopKInterventionType pv.Type = "sae_topk"
)

// kind is the sae intervention; topk selects the k largest
// pre-activations.
type kind struct{ topk bool }

func (k kind) Info() pv.Info {
	if k.topk {
		return pv.Info{Type: TopKInterventionType, Source: pv.NoSource}
	}
	return pv.Info{Type: InterventionType, Source: pv.NoSource}
}

func (kind) Weights(r pv.RepresentationConfig, w int) []pv.Weight {
	n := r.LowRankDimension
	w = max(w, 1)
	return []pv.Weight{
		{Name: "W_enc", Shape: []int{w, n}},
		{Name: "b_enc", Shape: []int{n}},
		{Name: "W_dec", Shape: []int{n, w}},
		{Name: "b_dec", Shape: []int{w}},
		{Name: "threshold", Shape: []int{n}},
		{Name: "options", Shape: []int{numOpts}, Init: defaultOptions},
		{Name: "feature_scale", Shape: []int{n}, Init: pv.InitConstant(1)},
		{Name: "feature_add", Shape: []int{n}},
	}
}

// defaultOptions are the options of an sae intervention whose weights
// were not set: scale 1, nothing else on (it then decodes to b_dec, 0).
func defaultOptions([]int, *rand.Rand) []float32 {
	o := make([]float32, numOpts)
	o[optScale] = 1
	return o
}

func (kind) SubspaceWidth(r pv.RepresentationConfig, _ int) int { return r.LowRankDimension }

func (kind) Check(r pv.RepresentationConfig, w int) error {
	n := r.LowRankDimension
	switch {
	case n < 1 || n > MaxDim:
		return &pv.FieldError{Field: "low_rank_dimension", Msg: fmt.Sprintf("%d: an sae intervention needs d_sae in [1, %d]", n, MaxDim)}
	case r.Component.IsHead():
		return &pv.FieldError{Field: "component", Msg: fmt.Sprintf("%s is laid out per head; an sae intervention takes a [b,s,d] site (attention_value_output for hook_z)", r.Component)}
	case w > 0 && int64(w)*int64(n) > pv.MaxWeightElements:
		return &pv.FieldError{Field: "low_rank_dimension", Msg: fmt.Sprintf("%d latents of width %d make %d weights per matrix, over pv's limit %d", n, w, int64(n)*int64(w), pv.MaxWeightElements)}
	}
	return nil
}

func (k kind) Apply(a pv.Args) *graph.Node {
	ws := a.Weights
	p := newParams(ws[0], ws[1], ws[2], ws[3], ws[4], ws[5], k.topk)
	x := a.Base
	f, nm := p.encode(x)
	clean := p.decode(f, &nm)
	rank := f.Rank()
	edited := graph.Add(graph.Mul(f, graph.ExpandLeftToRank(ws[6], rank)), graph.ExpandLeftToRank(ws[7], rank))
	f = graph.Add(f, graph.Mul(a.Mask, graph.Sub(edited, f)))
	out := p.decode(f, &nm)
	// With the error term: x + (out - clean), exactly x when nothing is
	// edited.
	e := p.opt[optError]
	withErr := graph.Add(x, graph.Sub(out, clean))
	return graph.Add(graph.Mul(e, withErr), graph.Mul(graph.Sub(one(e), e), out))
}

func init() {
	for _, k := range []kind{{}, {topk: true}} {
		if err := pv.Register(k); err != nil {
			panic(err) // a second registration of the same name: a bug here
		}
	}
}

// Edit says how a splice changes the SAE's feature activations before
// decoding: each feature in Scale has its activation multiplied by the
// value (0 ablates it), each in Add has the value added.
type Edit struct {
	ErrorTerm bool            // keep the error term x - x_hat (the identity when nothing is edited)
	Scale     map[int]float32 // feature -> factor
	Add       map[int]float32 // feature -> addend
}

// Representation returns the pv representation that splices s at its
// site: its layer and component, the sae (or sae_topk) type and
// low_rank_dimension d_sae. Errors are Site's, and one for an SAE on a
// global site (pv intervenes on per-layer sites only).
func (s *SAE) Representation() (pv.RepresentationConfig, error) {
	if err := s.Check(); err != nil {
		return pv.RepresentationConfig{}, err
	}
	site, err := s.Site()
	if err != nil {
		return pv.RepresentationConfig{}, err
	}
	if site.Component.IsGlobal() {
		return pv.RepresentationConfig{}, fmt.Errorf("sae: hook_name %q maps to the global site %s, which pv does not intervene on; splice SAEs on per-layer sites", s.HookName, site.Component)
	}
	t := InterventionType
	if s.Architecture == ArchTopK {
		t = TopKInterventionType
	}
	return pv.RepresentationConfig{Layer: site.Layer, Component: site.Component, InterventionType: t, LowRankDimension: s.DSAE}, nil
}

// SetWeights sets the weights of the sae intervention key of iv from s
// and the edit e. It returns an error for a feature out of [0, d_sae) or a
// non-finite edit value, and iv's for an unknown key or a width other
// than s's.
func (s *SAE) SetWeights(iv *pv.Model, key string, e Edit) error {
	if err := s.Check(); err != nil {
		return err
	}
	n := s.DSAE
	scale, add := make([]float32, n), make([]float32, n)
	for i := range scale {
		scale[i] = 1
	}
	for _, m := range []struct {
		name string
		src  map[int]float32
		dst  []float32
	}{{"Scale", e.Scale, scale}, {"Add", e.Add, add}} {
		for f, v := range m.src {
			if f < 0 || f >= n {
				return fmt.Errorf("sae: Edit.%s: feature %d out of range [0, %d)", m.name, f, n)
			}
			m.dst[f] = v
		}
	}
	thr := s.Threshold
	if thr == nil {
		thr = make([]float32, n)
	}
	for _, w := range []struct {
		name string
		v    []float32
	}{{"W_enc", s.WEnc}, {"b_enc", s.BEnc}, {"W_dec", s.WDec}, {"b_dec", s.BDec}, {"threshold", thr},
		{"options", s.options(e.ErrorTerm)}, {"feature_scale", scale}, {"feature_add", add}} {
		if err := iv.SetWeight(key, w.name, w.v); err != nil {
			return fmt.Errorf("sae: %w", err)
		}
	}
	return nil
}

// Splice returns a pv model of m with s spliced in at its site over the
// whole sequence, its activations edited by e: Forward and Generate on it
// run the model with the SAE's reconstruction (plus the error term when
// e.ErrorTerm) in place of the site's value. Errors: s's site missing in
// m or of a width other than d_in, and those of Representation and
// SetWeights.
func Splice(m lm.Model, s *SAE, e Edit) (*pv.Model, error) {
	if _, err := s.checkModel(m); err != nil {
		return nil, err
	}
	r, err := s.Representation()
	if err != nil {
		return nil, err
	}
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{r}})
	if err != nil {
		return nil, fmt.Errorf("sae: splice: %w", err)
	}
	if err := s.SetWeights(iv, iv.Keys()[0], e); err != nil {
		return nil, err
	}
	return iv, nil
}
