package causal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"

	"github.com/govene/govene/internal/fsx"
)

// RopeParameters are rotary settings as config.json writes them: under
// rope_parameters (transformers 5) or rope_scaling (transformers 4, with
// rope_theta beside it).
type RopeParameters struct {
	RopeType string `json:"rope_type,omitempty"`
	// Type is the older spelling of RopeType.
	Type                          string  `json:"type,omitempty"`
	RopeTheta                     float64 `json:"rope_theta,omitempty"`
	Factor                        float64 `json:"factor,omitempty"`
	LowFreqFactor                 float64 `json:"low_freq_factor,omitempty"`
	HighFreqFactor                float64 `json:"high_freq_factor,omitempty"`
	OriginalMaxPositionEmbeddings int     `json:"original_max_position_embeddings,omitempty"`
	PartialRotaryFactor           float64 `json:"partial_rotary_factor,omitempty"`
}

// RopeScaling is how the rotary frequencies are stretched (the fields of
// the shared transformer core's scaling, which a family converts to).
type RopeScaling struct {
	Type                          string
	Factor                        float64
	LowFreqFactor, HighFreqFactor float64
	OriginalMaxPositions          int
}

// Rope is a family's resolved rotary settings.
type Rope struct {
	Theta   float64
	Scaling RopeScaling
	// Partial is the fraction of each head's dimensions that rotate (1 for
	// every family but GPT-NeoX).
	Partial float64
}

// RopeTypes are the rope types govene implements.
var RopeTypes = []string{"default", "linear", "llama3"}

// ResolveRope merges config.json's rotary fields: params (rope_parameters)
// wins over scaling (rope_scaling), whose theta and partial factor default
// to theta and partial. It returns an error naming an unsupported rope type
// and the supported ones.
func ResolveRope(theta, partial float64, scaling, params *RopeParameters) (Rope, error) {
	r := Rope{Theta: theta, Partial: partial}
	for _, p := range []*RopeParameters{scaling, params} {
		if p == nil {
			continue
		}
		if p.RopeTheta != 0 {
			r.Theta = p.RopeTheta
		}
		if p.PartialRotaryFactor != 0 {
			r.Partial = p.PartialRotaryFactor
		}
		typ := p.RopeType
		if typ == "" {
			typ = p.Type
		}
		if typ == "" {
			typ = "default"
		}
		if !slices.Contains(RopeTypes, typ) {
			return Rope{}, fmt.Errorf("rope_type %q is not supported; valid: %v", typ, RopeTypes)
		}
		r.Scaling = RopeScaling{Type: typ, Factor: p.Factor, LowFreqFactor: p.LowFreqFactor,
			HighFreqFactor: p.HighFreqFactor, OriginalMaxPositions: p.OriginalMaxPositionEmbeddings}
	}
	if r.Partial == 0 {
		r.Partial = 1
	}
	if !(r.Partial > 0 && r.Partial <= 1) {
		return Rope{}, fmt.Errorf("partial_rotary_factor %g; valid: (0, 1]", r.Partial)
	}
	return r, nil
}

// TokenID is a token id field of config.json, which may be a number, a
// list of numbers (the first is used) or null (-1).
type TokenID int

// UnmarshalJSON reads a number, a list of numbers or null.
func (t *TokenID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*t = -1
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		var ids []int
		if err := json.Unmarshal(b, &ids); err != nil {
			return badTokenID(b)
		}
		*t = -1
		if len(ids) > 0 {
			*t = TokenID(ids[0])
		}
		return nil
	}
	var id int
	if err := json.Unmarshal(b, &id); err != nil {
		return badTokenID(b)
	}
	*t = TokenID(id)
	return nil
}

// Limits bound a config's sizes before anything is allocated from them.
const (
	MaxLayers    = 1024
	MaxHeads     = 1024
	MaxWidth     = 1 << 16
	MaxInner     = 1 << 18
	MaxVocab     = 1 << 21
	MaxPositions = 1 << 24
	MaxWeights   = 1 << 36
)

// Size is one size field of a config, for CheckSizes.
type Size struct {
	Field    string
	Value    int
	Min, Max int
}

// CheckSizes returns an error naming every size outside its range, and
// the valid range.
func CheckSizes(family string, sizes ...Size) error {
	var errs []error
	for _, s := range sizes {
		if s.Value < s.Min || s.Value > s.Max {
			errs = append(errs, fmt.Errorf("%s: config %s = %d; valid: [%d, %d]", family, s.Field, s.Value, s.Min, s.Max))
		}
	}
	return errors.Join(errs...)
}

// CoreSizes are the transformer sizes every family's config has, for
// CheckCore.
type CoreSizes struct {
	Vocab, Hidden, Inner, Layers, Heads, Positions int
	// Grouped says the config has num_key_value_heads and head_dim
	// (grouped-query attention): KVHeads and HeadDim are then checked too.
	Grouped          bool
	KVHeads, HeadDim int
}

// CheckCore returns an error naming every size of s outside its range (see
// the Max* limits), then each of more outside its own, and, with Grouped, a
// num_key_value_heads that does not divide num_attention_heads; nil when
// all are valid.
func CheckCore(family string, s CoreSizes, more ...Size) error {
	sizes := []Size{
		{Field: "vocab_size", Value: s.Vocab, Min: 1, Max: MaxVocab},
		{Field: "hidden_size", Value: s.Hidden, Min: 1, Max: MaxWidth},
		{Field: "intermediate_size", Value: s.Inner, Min: 1, Max: MaxInner},
		{Field: "num_hidden_layers", Value: s.Layers, Min: 1, Max: MaxLayers},
		{Field: "num_attention_heads", Value: s.Heads, Min: 1, Max: MaxHeads},
	}
	if s.Grouped {
		sizes = append(sizes,
			Size{Field: "num_key_value_heads", Value: s.KVHeads, Min: 1, Max: max(1, s.Heads)},
			Size{Field: "head_dim", Value: s.HeadDim, Min: 2, Max: MaxWidth})
	}
	sizes = append(sizes, Size{Field: "max_position_embeddings", Value: s.Positions, Min: 1, Max: MaxPositions})
	errs := []error{CheckSizes(family, append(sizes, more...)...)}
	if s.Grouped && s.Heads > 0 && s.KVHeads > 0 && s.Heads%s.KVHeads != 0 {
		errs = append(errs, fmt.Errorf("%s: config num_key_value_heads = %d; valid: a divisor of num_attention_heads (%d)", family, s.KVHeads, s.Heads))
	}
	return errors.Join(errs...)
}

// CheckLayerTypes returns an error naming every entry of layer_types that
// is not "sliding_attention" or "full_attention", and a list that is set
// but not one entry per layer; nil when types is valid or empty.
func CheckLayerTypes(family string, types []string, layers int) error {
	var errs []error
	for i, t := range types {
		if t != "sliding_attention" && t != "full_attention" {
			errs = append(errs, fmt.Errorf("%s: config layer_types[%d] = %q; valid: \"sliding_attention\", \"full_attention\"", family, i, t))
		}
	}
	if n := len(types); n > 0 && n != layers {
		errs = append(errs, fmt.Errorf("%s: config layer_types has %d entries; valid: one per layer (%d)", family, n, layers))
	}
	return errors.Join(errs...)
}

// CheckWeights returns an error when a config describes more than
// MaxWeights weights (n, counted in float64 so that it cannot overflow).
func CheckWeights(family string, n float64) error {
	if n > MaxWeights {
		return fmt.Errorf("%s: config describes %.3g weights; valid: at most %d", family, n, int64(MaxWeights))
	}
	return nil
}

// CountWeights returns the number of weights of a stack of layers
// blocks of perLayer weights each: the token embedding [vocab,hidden], the
// blocks, final weights after them (the final norm) and, unless tied, the
// output weight [vocab,hidden]. It counts in float64, which cannot
// overflow for the sizes CheckCore refuses.
func CountWeights(vocab, hidden, layers int, perLayer, final float64, tied bool) float64 {
	v, d := float64(vocab), float64(hidden)
	n := v*d + float64(layers)*perLayer + final
	if !tied {
		n += v * d
	}
	return n
}

// CheckEps returns an error when a norm epsilon is not in (0, 1).
func CheckEps(family, field string, eps float64) error {
	if !(eps > 0 && eps < 1) || math.IsNaN(eps) {
		return fmt.Errorf("%s: config %s = %g; valid: (0, 1)", family, field, eps)
	}
	return nil
}

// ParseJSON unmarshals config.json data into cfg (which holds the family's
// defaults), refusing what is not a JSON object.
func ParseJSON(family string, data []byte, cfg any) error {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("%s: parse config: want a JSON object", family)
	}
	if err := json.Unmarshal(data, cfg); err != nil {
		return fmt.Errorf("%s: parse config: %w", family, err)
	}
	return nil
}

// MaxConfigBytes bounds config.json.
const MaxConfigBytes = 16 << 20

// ReadConfigFile reads a config.json of at most MaxConfigBytes; the path
// must be a regular file (or a link to one): a directory, a named pipe or
// a device is refused without being read.
func ReadConfigFile(path string) ([]byte, error) {
	return fsx.ReadFile(path, "config.json", MaxConfigBytes)
}

// badTokenID is the error for a token id field holding b; encoding/json
// adds the field's name.
func badTokenID(b []byte) error {
	v := string(b)
	if len(v) > 20 {
		v = v[:20] + "..."
	}
	return &json.UnmarshalTypeError{Value: v + " (want a token id, a list of them or null)", Type: reflect.TypeFor[TokenID]()}
}

// MarshalJSON writes the id, or null for -1.
func (t TokenID) MarshalJSON() ([]byte, error) {
	if t < 0 {
		return []byte("null"), nil
	}
	return json.Marshal(int(t))
}
