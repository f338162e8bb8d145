package sae

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Architectures lists the architectures Load accepts.
var Architectures = []string{ArchStandard, ArchTopK, ArchJumpReLU}

// Normalizations lists the normalize_activations values Load accepts.
// "expected_average_only_in" is applied as Scale (1 unless set: SAELens
// folds the factor into the weights when it saves, and ignores it when it
// loads from disk); "constant_norm_rescale" and "layer_norm" rescale each
// input at run time as SAELens does.
var Normalizations = []string{NormNone, NormExpectedAverage, NormConstantRescale, NormLayerNorm}

// MaxDim caps d_in and d_sae (each) and MaxWeights the values of one weight
// matrix, so that a hostile cfg.json cannot ask for a huge allocation.
const (
	MaxDim     = 1 << 22
	MaxWeights = 1 << 31
)

// metadataKeys are the cfg.json fields SAELens 6 keeps under "metadata".
var metadataKeys = []string{"hook_name", "hook_layer", "hook_head_index", "model_name", "context_size", "prepend_bos"}

// parseConfig reads cfg.json in SAELens 6's layout (hook fields under
// "metadata") or older ones (at the top level, "hook_point" for
// hook_name, "activation_fn": "topk" with activation_fn_kwargs.k), keeping
// unknown fields in Extra.
func parseConfig(data []byte) (Config, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Config{}, fmt.Errorf("cfg.json: %w", err)
	}
	if raw == nil {
		return Config{}, fmt.Errorf("cfg.json: want a JSON object, got null")
	}
	flat := map[string]json.RawMessage{}
	for k, v := range raw {
		flat[k] = v
	}
	if md, ok := raw["metadata"]; ok && string(md) != "null" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(md, &m); err != nil {
			return Config{}, fmt.Errorf("cfg.json: field metadata: %w", err)
		}
		for _, k := range metadataKeys {
			if v, ok := m[k]; ok {
				flat[k] = v
				delete(m, k)
			}
		}
		if len(m) > 0 {
			b, _ := json.Marshal(m)
			flat["metadata"] = b
		} else {
			delete(flat, "metadata")
		}
	}
	if v, ok := flat["hook_point"]; ok {
		if _, has := flat["hook_name"]; !has {
			flat["hook_name"] = v
		}
		delete(flat, "hook_point")
	}
	var c Config
	// normalize_activations was a bool before SAELens 3.
	if v, ok := flat["normalize_activations"]; ok {
		var b bool
		if json.Unmarshal(v, &b) == nil {
			flat["normalize_activations"], _ = json.Marshal(map[bool]string{false: NormNone, true: NormExpectedAverage}[b])
		} else if string(v) == "null" {
			delete(flat, "normalize_activations")
		}
	}
	c.ApplyBDecToInput = true // SAELens' default
	fields := map[string]any{
		"architecture": &c.Architecture, "d_in": &c.DIn, "d_sae": &c.DSAE, "hook_name": &c.HookName,
		"hook_layer": &c.HookLayer, "hook_head_index": &c.HookHeadIndex, "apply_b_dec_to_input": &c.ApplyBDecToInput,
		"normalize_activations": &c.NormalizeActivations, "k": &c.K, "dtype": &c.Dtype, "model_name": &c.ModelName,
		"context_size": &c.ContextSize, "prepend_bos": &c.PrependBOS,
		"rescale_acts_by_decoder_norm": &c.RescaleActsByDecoderNorm,
	}
	for name, dst := range fields {
		v, ok := flat[name]
		if !ok {
			continue
		}
		delete(flat, name)
		if string(v) == "null" {
			continue
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return Config{}, fmt.Errorf("cfg.json: field %s: value %s: %w", name, clip(v), err)
		}
	}
	if c.Architecture == "" {
		c.Architecture = ArchStandard
		var fn string
		if v, ok := flat["activation_fn"]; ok && json.Unmarshal(v, &fn) == nil && fn == "topk" {
			var kw struct {
				K int `json:"k"`
			}
			if v, ok := flat["activation_fn_kwargs"]; ok && json.Unmarshal(v, &kw) == nil && kw.K > 0 {
				c.Architecture, c.K = ArchTopK, kw.K
			}
		}
	}
	if c.HookLayer == 0 { // absent in SAELens 6 files: the hook name's layer

		if site, err := HookSite(c.HookName); err == nil && site.Layer > 0 {
			c.HookLayer = site.Layer
		}
	}
	if c.NormalizeActivations == "" {
		c.NormalizeActivations = NormNone
	}
	if len(flat) > 0 {
		c.Extra = map[string][]byte{}
		for k, v := range flat {
			c.Extra[k] = v
		}
	}
	return c, c.Validate()
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// Validate returns an error naming the first field of c that Load cannot
// use, its value and the valid choices; nil when c is usable.
func (c Config) Validate() error {
	if !slices.Contains(Architectures, c.Architecture) {
		return fmt.Errorf("cfg.json: architecture %q is not supported; valid: %q", c.Architecture, Architectures)
	}
	if c.DIn < 1 || c.DIn > MaxDim {
		return fmt.Errorf("cfg.json: d_in %d is out of range; valid: 1..%d", c.DIn, MaxDim)
	}
	if c.DSAE < 1 || c.DSAE > MaxDim {
		return fmt.Errorf("cfg.json: d_sae %d is out of range; valid: 1..%d", c.DSAE, MaxDim)
	}
	if int64(c.DIn)*int64(c.DSAE) > MaxWeights {
		return fmt.Errorf("cfg.json: d_in %d × d_sae %d = %d weights per matrix, over the limit %d", c.DIn, c.DSAE, int64(c.DIn)*int64(c.DSAE), int64(MaxWeights))
	}
	if !slices.Contains(Normalizations, c.NormalizeActivations) {
		return fmt.Errorf("cfg.json: normalize_activations %q is not supported; valid: %q", c.NormalizeActivations, Normalizations)
	}
	if c.Architecture == ArchTopK && (c.K < 1 || c.K > c.DSAE) {
		return fmt.Errorf("cfg.json: k %d is out of range for a topk SAE; valid: 1..d_sae (%d)", c.K, c.DSAE)
	}
	if c.RescaleActsByDecoderNorm && c.Architecture != ArchTopK {
		return fmt.Errorf("cfg.json: rescale_acts_by_decoder_norm is true for architecture %q; it is valid for %q only", c.Architecture, ArchTopK)
	}
	switch strings.TrimPrefix(c.Dtype, "torch.") {
	case "", "float32", "float16", "bfloat16", "float64":
	default:
		return fmt.Errorf("cfg.json: dtype %q is not supported; valid: float32, float16, bfloat16, float64", c.Dtype)
	}
	return nil
}

// marshalConfig writes c as SAELens 6 writes cfg.json (hook fields under
// "metadata"), with the hook fields also at the top level so that SAELens'
// loader for configs without a version reads them too, and Extra's fields.
func marshalConfig(c Config) ([]byte, error) {
	out := map[string]any{}
	for k, v := range c.Extra {
		out[k] = json.RawMessage(v)
	}
	md := map[string]any{}
	if v, ok := c.Extra["metadata"]; ok {
		if err := json.Unmarshal(v, &md); err != nil {
			md = map[string]any{}
		}
	}
	dtype := c.Dtype
	if dtype == "" {
		dtype = "float32"
	}
	set := func(k string, v any) { out[k] = v; md[k] = v }
	out["architecture"] = c.Architecture
	out["d_in"] = c.DIn
	out["d_sae"] = c.DSAE
	out["dtype"] = dtype
	if _, ok := out["device"]; !ok {
		out["device"] = "cpu"
	}
	out["apply_b_dec_to_input"] = c.ApplyBDecToInput
	out["normalize_activations"] = c.NormalizeActivations
	if _, ok := out["reshape_activations"]; !ok {
		out["reshape_activations"] = "none"
		if strings.HasSuffix(c.HookName, "hook_z") {
			out["reshape_activations"] = "hook_z"
		}
	}
	if c.Architecture == ArchTopK {
		out["k"] = c.K
		out["rescale_acts_by_decoder_norm"] = c.RescaleActsByDecoderNorm
	}
	set("hook_name", c.HookName)
	set("hook_layer", c.HookLayer)
	set("hook_head_index", c.HookHeadIndex)
	if c.ModelName != "" {
		set("model_name", c.ModelName)
	}
	if c.ContextSize > 0 {
		set("context_size", c.ContextSize)
	}
	if c.PrependBOS != nil {
		set("prepend_bos", *c.PrependBOS)
	}
	out["metadata"] = md
	return json.MarshalIndent(out, "", "  ")
}
