package govene

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Component names a kind of hook site. The per-layer names are pyvene's GPT-2
// component names; the rest follow TransformerLens.
type Component string

// Per-layer components, with pyvene's names and meaning.
const (
	BlockInput               Component = "block_input"                 // residual stream entering block l [b,s,d]
	BlockOutput              Component = "block_output"                // residual stream leaving block l [b,s,d]
	AttentionInput           Component = "attention_input"             // ln_1 output [b,s,d]
	QueryOutput              Component = "query_output"                // queries [b,s,d]
	KeyOutput                Component = "key_output"                  // keys [b,s,d]
	ValueOutput              Component = "value_output"                // values [b,s,d]
	HeadQueryOutput          Component = "head_query_output"           // queries per head [b,h,s,d/h]
	HeadKeyOutput            Component = "head_key_output"             // keys per head [b,h,s,d/h]
	HeadValueOutput          Component = "head_value_output"           // values per head [b,h,s,d/h]
	AttentionWeight          Component = "attention_weight"            // softmax probabilities [b,h,s,s]
	AttentionValueOutput     Component = "attention_value_output"      // merged heads before c_proj [b,s,d]
	HeadAttentionValueOutput Component = "head_attention_value_output" // per head before merge [b,h,s,d/h]
	AttentionOutput          Component = "attention_output"            // after c_proj, before the residual add [b,s,d]
	MLPInput                 Component = "mlp_input"                   // ln_2 output [b,s,d]
	MLPActivation            Component = "mlp_activation"              // activation output [b,s,inner]
	MLPOutput                Component = "mlp_output"                  // MLP output before the residual add [b,s,d]

	// Beyond pyvene (TransformerLens has them).
	ResidMid        Component = "resid_mid"        // residual after the attention add, before ln_2 [b,s,d]
	AttentionScores Component = "attention_scores" // scaled q·k before masking and softmax [b,h,s,s]
	// MLPPost is the down projection's input [b,s,inner] (TransformerLens'
	// hook_post): act(gate(x))*up(x) for gated MLPs, the same value as
	// mlp_activation for plain ones.
	MLPPost Component = "mlp_post"
	// HeadResult is each head's output through its slice of the output
	// projection, without the bias [b,h,s,d] (TransformerLens' hook_result,
	// head axis second): summed over heads, plus the bias, it is
	// attention_output.
	HeadResult Component = "head_result"
)

// Global (not per-layer) components.
const (
	Embed    Component = "embed"     // token embeddings [b,s,d]
	PosEmbed Component = "pos_embed" // position embeddings [b,s,d]
	LNFinal  Component = "ln_final"  // final layer norm output [b,s,d]
	Logits   Component = "logits"    // unembedded logits [b,s,vocab]
	// LNFinalScale is the final norm's scale [b,s,1] (TransformerLens'
	// ln_final.hook_scale): sqrt(var+eps) for LayerNorm, sqrt(mean(x²)+eps)
	// for RMSNorm. Replacing it makes the final norm divide by the given
	// scale.
	LNFinalScale Component = "ln_final_scale"
)

// LayerComponents lists the per-layer components in the order a forward pass
// reaches them.
var LayerComponents = []Component{
	BlockInput, AttentionInput,
	QueryOutput, KeyOutput, ValueOutput,
	HeadQueryOutput, HeadKeyOutput, HeadValueOutput,
	AttentionScores, AttentionWeight,
	HeadAttentionValueOutput, AttentionValueOutput, HeadResult, AttentionOutput,
	ResidMid, MLPInput, MLPActivation, MLPPost, MLPOutput, BlockOutput,
}

// GlobalComponents lists the components that exist once per model.
var GlobalComponents = []Component{Embed, PosEmbed, LNFinalScale, LNFinal, Logits}

// IsGlobal reports whether c exists once per model rather than per layer.
func (c Component) IsGlobal() bool { return slices.Contains(GlobalComponents, c) }

// IsHead reports whether c is laid out per head, [b,h,s,...].
func (c Component) IsHead() bool {
	switch c {
	case HeadQueryOutput, HeadKeyOutput, HeadValueOutput, HeadAttentionValueOutput,
		AttentionWeight, AttentionScores, HeadResult:
		return true
	}
	return false
}

// Valid reports whether c is a known component.
func (c Component) Valid() bool {
	return slices.Contains(LayerComponents, c) || slices.Contains(GlobalComponents, c)
}

// ComponentNames returns every valid component name, for error messages.
func ComponentNames() []string {
	var names []string
	for _, c := range LayerComponents {
		names = append(names, string(c))
	}
	for _, c := range GlobalComponents {
		names = append(names, string(c))
	}
	return names
}

// Site is one hook point: a component at a layer. Global components have
// Layer -1.
type Site struct {
	Layer     int
	Component Component
}

// String returns the site's name: "blocks.3.block_output" for per-layer sites,
// the component name for global ones.
func (s Site) String() string {
	if s.Component.IsGlobal() {
		return string(s.Component)
	}
	return "blocks." + strconv.Itoa(s.Layer) + "." + string(s.Component)
}

// ParseSite parses a site name as String writes it ("blocks.3.block_output",
// "embed"). An unknown component or a malformed layer is an error that names
// the valid forms.
func ParseSite(name string) (Site, error) {
	if c := Component(name); c.IsGlobal() {
		return Site{Layer: -1, Component: c}, nil
	}
	rest, ok := strings.CutPrefix(name, "blocks.")
	if !ok {
		return Site{}, fmt.Errorf("lm: site %q: want \"blocks.LAYER.COMPONENT\" or one of %v", name, GlobalComponents)
	}
	layerStr, comp, ok := strings.Cut(rest, ".")
	layer, err := strconv.Atoi(layerStr)
	if !ok || err != nil || layer < 0 {
		return Site{}, fmt.Errorf("lm: site %q: layer %q is not a non-negative integer", name, layerStr)
	}
	c := Component(comp)
	if !slices.Contains(LayerComponents, c) {
		return Site{}, fmt.Errorf("lm: site %q: unknown component %q; valid per-layer components: %v", name, comp, LayerComponents)
	}
	return Site{Layer: layer, Component: c}, nil
}
