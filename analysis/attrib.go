package analysis

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
)

// DefaultAttribComponents are the sites attribution patching covers when
// AttribConfig.Components is empty: the residual stream entering each
// block (TransformerLens' resid_pre), each attention layer's and each
// MLP's output per position, and each head's result per position. Those a
// model lacks (its Dims.Absent) are left out.
var DefaultAttribComponents = []lm.Component{lm.BlockInput, lm.AttentionOutput, lm.MLPOutput, lm.HeadResult}

// DefaultTopK is AttribConfig.TopK's default.
const DefaultTopK = 10

// AttribConfig says what attribution patching scores and where.
type AttribConfig struct {
	// Metric is scored after the last token: logit_diff (logit(a) -
	// logit(b)) or token_prob (required).
	Metric govene.MetricSpec `json:"metric"`
	// Components are the per-layer sites attributed at every layer and
	// position (and head, for per-head components); empty: the
	// DefaultAttribComponents the model has. Attention patterns
	// (attention_weight, attention_scores) are not allowed.
	Components []lm.Component `json:"components,omitempty"`
	// Exact also runs exact activation patching on the same grid (each
	// cell's clean value patched into the corrupted run, one run per cell,
	// batched by package sweep) and reports the agreement.
	Exact bool `json:"exact,omitempty"`
	// TopK is the k of the top-k overlap in the agreement (0: DefaultTopK).
	TopK int `json:"top_k,omitempty"`
}

// AttribResult is attribution patching's answer for one clean/corrupted
// pair.
type AttribResult struct {
	Metric govene.MetricSpec `json:"metric"`
	// Tokens label the positions: the corrupted prompt's tokens (or ids).
	Tokens []string `json:"tokens"`
	// Clean and Corrupt are the metric on the clean and the corrupted run.
	Clean   float64 `json:"clean"`
	Corrupt float64 `json:"corrupt"`
	// Sites holds one grid per component, in the config's order.
	Sites []SiteAttribution `json:"sites"`
}

// SiteAttribution is one component's grid: a row per layer (per layer and
// head, layer-major, for per-head components), a column per position.
type SiteAttribution struct {
	Component lm.Component `json:"component"`
	// Rows label the rows: "3" for layer 3, "L3H1" for its head 1.
	Rows []string `json:"rows"`
	// Layers and Heads give each row's layer and head (Heads is empty for
	// per-position components).
	Layers []int `json:"layers"`
	Heads  []int `json:"heads,omitempty"`
	// Attribution[row][pos] = sum over the site's last axis of
	// (clean - corrupted activation) x d metric / d activation, the
	// gradient taken on the corrupted run: the first-order estimate of
	// how much patching that cell's clean value into the corrupted run
	// moves the metric.
	Attribution [][]float64 `json:"attribution"`
	// Exact[row][pos] is the metric of the corrupted run with that cell's
	// clean value patched in, minus the corrupted run's metric (only with
	// AttribConfig.Exact).
	Exact [][]float64 `json:"exact,omitempty"`
	// Agreement compares Attribution with Exact (only with Exact).
	Agreement *Agreement `json:"agreement,omitempty"`
}

// Attributor runs attribution patching (Patch) and edge attribution
// patching (Edges) on one model, keeping one compiled graph per prompt
// length, metric kind and list of components: every pair of prompts of
// that length is served by the same executable. It is safe for concurrent
// use.
type Attributor struct {
	model    lm.Model
	runner   *lm.Runner
	mu       sync.Mutex
	execs    map[string]*graph.Exec
	compiles atomic.Int64
	exact    exactPatcher
}

// NewAttributor returns an Attributor for m; with a nil m its Patch
// returns an error.
func NewAttributor(m lm.Model) *Attributor {
	a := &Attributor{model: m, execs: map[string]*graph.Exec{}}
	if m != nil {
		a.runner = lm.NewRunner(m, m.PadID())
		a.exact = newExactPatcher(m)
	}
	return a
}

// Compiles returns how many graphs the Attributor's Patch and Edges have
// compiled (one per prompt length, metric kind and component list; exact
// patching's graphs, compiled by package sweep, are not counted); 0 for a
// nil Attributor.
func (a *Attributor) Compiles() int64 {
	if a == nil {
		return 0
	}
	return a.compiles.Load()
}

// AttributionPatch is NewAttributor(m).Patch(clean, corrupt, cfg): for
// one-off calls; keep an Attributor to reuse its compiled graph.
func AttributionPatch(m lm.Model, clean, corrupt lm.Prompt, cfg AttribConfig) (*AttribResult, error) {
	return NewAttributor(m).Patch(clean, corrupt, cfg)
}

// Patch runs attribution patching (Nanda's recipe, as in TransformerLens'
// demo): one compiled graph runs the clean and the corrupted prompt,
// scores the metric on the corrupted run, takes its gradient with respect
// to the corrupted run's value at every requested site, and returns
// (clean - corrupted) x gradient summed over each site's last axis, for
// every layer, position and head. With cfg.Exact it also runs exact
// activation patching on the same grid and reports their agreement.
//
// The prompts must be non-empty, of the same length, within the model's
// positions and vocabulary. An invalid metric (unknown kind, wrong number
// of tokens, an id outside the vocabulary), an unknown, repeated, global,
// absent or attention-pattern component, or a negative TopK is an error
// naming the field and the valid choices, returned before anything runs.
func (a *Attributor) Patch(clean, corrupt lm.Prompt, cfg AttribConfig) (*AttribResult, error) {
	cfg, err := a.check(clean, corrupt, cfg)
	if err != nil {
		return nil, err
	}
	res, err := a.attribute(clean, corrupt, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Exact {
		if err := a.exact.patch(clean, corrupt, cfg, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// check validates a call and fills in cfg's defaults.
func (a *Attributor) check(clean, corrupt lm.Prompt, cfg AttribConfig) (AttribConfig, error) {
	if a == nil || a.model == nil {
		return cfg, fmt.Errorf("analysis: no model; make the Attributor with analysis.NewAttributor(model)")
	}
	d := a.model.Dims()
	for _, p := range []struct {
		what string
		p    lm.Prompt
	}{{"clean", clean}, {"corrupt", corrupt}} {
		if p.p.Len() == 0 {
			return cfg, fmt.Errorf("analysis: %s prompt is empty", p.what)
		}
		if _, err := a.runner.NewBatch([]lm.Prompt{p.p}, 0); err != nil {
			return cfg, fmt.Errorf("analysis: %s prompt: %w", p.what, err)
		}
	}
	if clean.Len() != corrupt.Len() {
		return cfg, fmt.Errorf("analysis: clean prompt has %d tokens and corrupt %d; attribution patching compares them position by position, so they need the same length", clean.Len(), corrupt.Len())
	}
	if err := cfg.Metric.Validate(); err != nil {
		return cfg, fmt.Errorf("analysis: %w", err)
	}
	for i, id := range cfg.Metric.Tokens {
		if id >= d.Vocab {
			return cfg, fmt.Errorf("analysis: metric.tokens[%d]: token id %d out of range [0, %d) (the vocabulary)", i, id, d.Vocab)
		}
	}
	if cfg.TopK < 0 {
		return cfg, fmt.Errorf("analysis: top_k: %d must not be negative (0: the default, %d)", cfg.TopK, DefaultTopK)
	}
	if cfg.TopK == 0 {
		cfg.TopK = DefaultTopK
	}
	if len(cfg.Components) == 0 {
		for _, c := range DefaultAttribComponents {
			if d.Has(c) {
				cfg.Components = append(cfg.Components, c)
			}
		}
		return cfg, nil
	}
	for j, c := range cfg.Components {
		switch {
		case !slices.Contains(lm.LayerComponents, c):
			return cfg, fmt.Errorf("analysis: components[%d]: %q is not a per-layer component; valid: %v", j, c, lm.LayerComponents)
		case c == lm.AttentionWeight || c == lm.AttentionScores:
			return cfg, fmt.Errorf("analysis: components[%d]: %s is an attention pattern, which exact patching cannot sweep per head and position; use a component with a fixed width such as %v", j, c, DefaultAttribComponents)
		case !d.Has(c):
			return cfg, fmt.Errorf("analysis: components[%d]: this model has no %s site (its absent components: %v)", j, c, d.Absent)
		case slices.Contains(cfg.Components[:j], c):
			return cfg, fmt.Errorf("analysis: components[%d]: %s given twice", j, c)
		}
	}
	return cfg, nil
}

// rowLabels returns the rows of component c's grid on a model of dims d:
// their labels, layers and heads (nil heads for per-position components).
func rowLabels(d lm.Dims, c lm.Component) (labels []string, layers, heads []int) {
	if !c.IsHead() {
		for l := range d.Layers {
			labels = append(labels, strconv.Itoa(l))
			layers = append(layers, l)
		}
		return labels, layers, nil
	}
	for l := range d.Layers {
		for h := range d.HeadCount(c) {
			labels = append(labels, "L"+strconv.Itoa(l)+"H"+strconv.Itoa(h))
			layers = append(layers, l)
			heads = append(heads, h)
		}
	}
	return labels, layers, heads
}

// positionLabels labels p's positions with its tokens, or its ids when it
// has no token strings.
func positionLabels(p lm.Prompt) []string {
	if len(p.Tokens) == p.Len() {
		return slices.Clone(p.Tokens)
	}
	out := make([]string, p.Len())
	for i, id := range p.IDs {
		out[i] = strconv.Itoa(id)
	}
	return out
}
