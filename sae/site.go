package sae

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/govene/govene/lm"
)

// hookComponents maps TransformerLens' per-block hook names (after
// "blocks.L.") to govene's components.
var hookComponents = map[string]lm.Component{
	"hook_resid_pre":  lm.BlockInput,
	"hook_resid_mid":  lm.ResidMid,
	"hook_resid_post": lm.BlockOutput,
	"hook_attn_out":   lm.AttentionOutput,
	"hook_mlp_out":    lm.MLPOutput,
	"attn.hook_z":     lm.AttentionValueOutput,
	"mlp.hook_post":   lm.MLPPost,
}

// SupportedHooks lists the hook names Site maps ("L" stands for a layer).
var SupportedHooks = []string{
	"hook_embed",
	"blocks.L.hook_resid_pre", "blocks.L.hook_resid_mid", "blocks.L.hook_resid_post",
	"blocks.L.hook_attn_out", "blocks.L.hook_mlp_out", "blocks.L.attn.hook_z", "blocks.L.mlp.hook_post",
}

// HookSite maps a TransformerLens hook name to govene's site:
// blocks.L.hook_resid_pre -> block_input, hook_resid_mid -> resid_mid,
// hook_resid_post -> block_output, hook_attn_out -> attention_output,
// hook_mlp_out -> mlp_output, attn.hook_z -> attention_value_output (TL's
// z with heads flattened), mlp.hook_post -> mlp_post, hook_embed -> embed.
// Any other name is an error naming it and the supported ones.
func HookSite(hook string) (lm.Site, error) {
	if hook == "hook_embed" {
		return lm.Site{Layer: -1, Component: lm.Embed}, nil
	}
	bad := fmt.Errorf("sae: hook_name %q is not supported; supported: %q", hook, SupportedHooks)
	rest, ok := strings.CutPrefix(hook, "blocks.")
	if !ok {
		return lm.Site{}, bad
	}
	num, name, ok := strings.Cut(rest, ".")
	if !ok {
		return lm.Site{}, bad
	}
	l, err := strconv.Atoi(num)
	if err != nil || l < 0 || strconv.Itoa(l) != num {
		return lm.Site{}, bad
	}
	c, ok := hookComponents[name]
	if !ok {
		return lm.Site{}, bad
	}
	return lm.Site{Layer: l, Component: c}, nil
}

// Site returns the govene site of s's hook_name (see HookSite). An SAE on
// one head (hook_head_index set) is an error: govene splices SAEs on whole
// sites.
func (s *SAE) Site() (lm.Site, error) {
	if s == nil {
		return lm.Site{}, fmt.Errorf("sae: nil SAE")
	}
	if s.HookHeadIndex != nil {
		return lm.Site{}, fmt.Errorf("sae: hook_head_index %d: SAEs on one head are not supported; want hook_head_index null", *s.HookHeadIndex)
	}
	return HookSite(s.HookName)
}

// checkModel returns s's site after checking it exists in m with width
// d_in.
func (s *SAE) checkModel(m lm.Model) (lm.Site, error) {
	if err := s.Check(); err != nil {
		return lm.Site{}, err
	}
	site, err := s.Site()
	if err != nil {
		return lm.Site{}, err
	}
	if m == nil {
		return lm.Site{}, fmt.Errorf("sae: nil model")
	}
	d := m.Dims()
	if err := d.CheckSite(site); err != nil {
		return lm.Site{}, fmt.Errorf("sae: hook_name %q: %w", s.HookName, err)
	}
	if w := d.Width(site.Component); w != s.DIn {
		return lm.Site{}, fmt.Errorf("sae: d_in %d does not match the model's width %d at %s (hook_name %q)", s.DIn, w, site, s.HookName)
	}
	return site, nil
}
