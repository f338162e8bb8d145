package govene

import (
	"fmt"
	"slices"
)

// Dims are a model's sizes.
type Dims struct {
	Layers int `json:"layers"`
	Heads  int `json:"heads"` // query heads
	// KVHeads is the number of key/value heads: Heads for multi-head
	// attention, fewer for grouped-query attention; 0 means Heads.
	KVHeads int `json:"kv_heads,omitempty"`
	Hidden  int `json:"hidden"`
	// HeadDim is the size of one head, which need not be Hidden/Heads.
	HeadDim int `json:"head_dim"`
	Inner   int `json:"inner"` // MLP hidden width
	Vocab   int `json:"vocab"`
	// InputVocab is the number of valid input ids when it differs from
	// Vocab (the logits' width); 0 means Vocab.
	InputVocab int `json:"input_vocab,omitempty"`
	Positions  int `json:"positions"` // longest sequence the model accepts
	// Absent lists the components the model does not have: pos_embed for
	// rotary families, resid_mid for GPT-NeoX's parallel residual. CheckSite
	// refuses them and lm.AllSites leaves them out. Empty for GPT-2.
	Absent []Component `json:"absent,omitempty"`
}

// Has reports whether the model has component c: false when c is listed in
// Absent (whether c is a known component is CheckSite's business).
func (d Dims) Has(c Component) bool { return !slices.Contains(d.Absent, c) }

// Equal reports whether d and e describe the same model shape: the same
// sizes and the same absent components, in any order (Dims holds a slice,
// so == does not compile).
func (d Dims) Equal(e Dims) bool {
	same := d.Layers == e.Layers && d.Heads == e.Heads && d.KVHeads == e.KVHeads && d.Hidden == e.Hidden &&
		d.HeadDim == e.HeadDim && d.Inner == e.Inner && d.Vocab == e.Vocab && d.InputVocab == e.InputVocab &&
		d.Positions == e.Positions
	a, b := d.Absent, e.Absent
	if !same || len(a) != len(b) {
		return false
	}
	for _, c := range a {
		if !slices.Contains(b, c) {
			return false
		}
	}
	for _, c := range b {
		if !slices.Contains(a, c) {
			return false
		}
	}
	return true
}

// Width returns the last-axis size of component c's value: the head size
// for head components, Heads*HeadDim for queries and the merged heads,
// KVHeads*HeadDim for keys and values, the MLP width for mlp_activation
// and mlp_post, 1 for ln_final_scale, the vocabulary for logits, the hidden size otherwise (for
// GPT-2 Heads*HeadDim and KVHeads*HeadDim are the hidden size). With HeadDim 0 the attention
// widths are the hidden size. For attention_weight and attention_scores the
// last axis is the key position, whose size depends on the sequence; Width
// returns -1 for them.
func (d Dims) Width(c Component) int {
	switch c {
	case AttentionWeight, AttentionScores:
		return -1
	case HeadQueryOutput, HeadKeyOutput, HeadValueOutput, HeadAttentionValueOutput:
		return d.HeadDim
	case QueryOutput, AttentionValueOutput:
		if d.HeadDim > 0 {
			return d.Heads * d.HeadDim
		}
	case KeyOutput, ValueOutput:
		if d.HeadDim > 0 {
			return d.KVHeadCount() * d.HeadDim
		}
	case MLPActivation, MLPPost:
		return d.Inner
	case LNFinalScale:
		return 1
	case Logits:
		return d.Vocab
	}
	return d.Hidden
}

// KVHeadCount returns KVHeads, or Heads when KVHeads is 0.
func (d Dims) KVHeadCount() int {
	if d.KVHeads > 0 {
		return d.KVHeads
	}
	return d.Heads
}

// HeadCount returns the size of component c's head axis: KVHeadCount() for
// head_key_output and head_value_output, Heads for the other head
// components, and 0 for components with no head axis.
func (d Dims) HeadCount(c Component) int {
	switch {
	case c == HeadKeyOutput || c == HeadValueOutput:
		return d.KVHeadCount()
	case c.IsHead():
		return d.Heads
	}
	return 0
}

// CheckSite returns an error when s is not a site of a model with these
// dimensions, naming the valid components or layer range, or, for a
// component listed in Absent, saying the model has no such site.
func (d Dims) CheckSite(s Site) error {
	if !s.Component.Valid() {
		return fmt.Errorf("lm: unknown component %q; valid components: %v", s.Component, ComponentNames())
	}
	if !d.Has(s.Component) {
		return fmt.Errorf("lm: site %s: this model has no %s site (its absent components: %v)", s, s.Component, d.Absent)
	}
	if s.Component.IsGlobal() {
		return nil
	}
	if s.Layer < 0 || s.Layer >= d.Layers {
		return fmt.Errorf("lm: site %s: layer %d out of range [0, %d)", s, s.Layer, d.Layers)
	}
	return nil
}
