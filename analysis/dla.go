package analysis

import (
	"fmt"

	"github.com/govene/govene/lm"
)

// Attribution is a direct logit attribution: each component's direct
// effect on some logits through the final norm at its cached scale and the
// unembedding.
type Attribution struct {
	// Labels name the components (the stack's labels).
	Labels []string `json:"labels"`
	// Tokens are the attributed tokens; for a logit difference the pair
	// (a, b).
	Tokens []int `json:"tokens"`
	// Shape is [components, b, s, t]: t is len(Tokens), or 1 for a logit
	// difference.
	Shape []int `json:"shape"`
	// Values [components, b, s, t] are f(component) - f(0), where f reads a
	// residual out through the final norm at the cached scale and the
	// unembedding; in the cache's padded layout.
	Values []float32 `json:"values"`
	// Base [b, s, t] is f(0): the logits of a zero residual (the final
	// norm's bias through the unembedding, plus the unembedding's bias).
	// For models without a soft-cap, Base plus the values of a complete
	// decomposition (DecomposeResid(-1, false), or StackHeadResults with
	// the remainder) is the model's logits.
	Base []float32 `json:"base"`
}

// At returns the attribution of component k to token t (index into
// Tokens; 0 for a logit difference) at example i's padded column j (the
// cache's Batch.Offset(i) plus the token's index; with left padding every
// example's last token is column s-1), or 0 when an index is out of range.
func (a *Attribution) At(k, i, j, t int) float32 {
	n, b, s, w := a.Shape[0], a.Shape[1], a.Shape[2], a.Shape[3]
	if k < 0 || k >= n || i < 0 || i >= b || j < 0 || j >= s || t < 0 || t >= w {
		return 0
	}
	return a.Values[((k*b+i)*s+j)*w+t]
}

// DLA returns the direct logit attribution of each component of st (a
// Stack from DecomposeResid, StackHeadResults or AccumulatedResid, made
// with applyLN false) to each of tokens, at every example and position:
// f(c) - f(0) with f the readout at the cached final scale (Readout). For
// models without a soft-cap on the logits this is TransformerLens'
// logit_attrs (fold_ln=True, center_writing_weights=False,
// center_unembed=False) and it is additive: the attributions of a complete
// decomposition plus Base are the logits. Gemma 2 soft-caps its logits
// (tanh), so f is not affine there and the attributions do not add up
// (TransformerLens' logit_attrs ignores the cap). It returns an error for
// no tokens, a token outside the vocabulary, or Readout's errors.
func DLA(m lm.Model, c *Cache, st *Stack, tokens ...int) (*Attribution, error) {
	if len(tokens) == 0 {
		return nil, fmt.Errorf("analysis: DLA needs at least one token")
	}
	b, s, t := c.Batch.Size, c.Batch.Len, len(tokens)
	if len(st.Shape) != 4 || len(st.Values) != st.Shape[0]*b*s*c.Dims.Hidden {
		return nil, fmt.Errorf("analysis: DLA of a stack of shape %v with %d values; the cache wants [n %d %d %d]", st.Shape, len(st.Values), b, s, c.Dims.Hidden)
	}
	n := st.Shape[0]
	withZero := &Stack{Labels: append(append([]string(nil), st.Labels...), "zero"), Normalized: st.Normalized,
		Shape:  []int{n + 1, b, s, c.Dims.Hidden},
		Values: append(append([]float32(nil), st.Values...), make([]float32, b*s*c.Dims.Hidden)...)}
	f, err := Readout(m, c, withZero, tokens...)
	if err != nil {
		return nil, err
	}
	per := b * s * t
	a := &Attribution{Labels: st.Labels, Tokens: append([]int(nil), tokens...), Shape: []int{n, b, s, t},
		Values: make([]float32, n*per), Base: append([]float32(nil), f.Values[n*per:]...)}
	for k := range n {
		for o := range per {
			a.Values[k*per+o] = f.Values[k*per+o] - a.Base[o]
		}
	}
	return a, nil
}

// LogitDiffDLA returns the direct logit attribution of each component of
// st to the logit difference between tokens a and b (logit a - logit b):
// an Attribution with Tokens [a, b] and one value per component, example
// and position. The errors are DLA's.
func LogitDiffDLA(m lm.Model, c *Cache, st *Stack, a, b int) (*Attribution, error) {
	two, err := DLA(m, c, st, a, b)
	if err != nil {
		return nil, err
	}
	n, bs := two.Shape[0], two.Shape[1]*two.Shape[2]
	out := &Attribution{Labels: two.Labels, Tokens: two.Tokens, Shape: []int{n, two.Shape[1], two.Shape[2], 1},
		Values: make([]float32, n*bs), Base: make([]float32, bs)}
	for r := range n * bs {
		out.Values[r] = two.Values[2*r] - two.Values[2*r+1]
	}
	for r := range bs {
		out.Base[r] = two.Base[2*r] - two.Base[2*r+1]
	}
	return out, nil
}
