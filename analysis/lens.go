package analysis

import (
	"fmt"

	"github.com/govene/govene/lm"
)

// LensConfig configures LogitLens. The zero value reads every block's
// input and the final residual, each at its own final-norm scale, with no target
// and no top tokens.
type LensConfig struct {
	// Targets are the tokens whose rank and probability are reported:
	// none (nil), one for every example, or one per example.
	Targets []int `json:"targets,omitempty"`
	// Top is how many of the most probable tokens each cell lists.
	Top int `json:"top,omitempty"`
	// InclMid adds each block's resid_mid (AccumulatedResid's inclMid).
	InclMid bool `json:"incl_mid,omitempty"`
	// CachedScale normalizes every residual by the cached final-norm
	// scale of the last residual (TransformerLens 2 and 3, and
	// apply_ln_to_stack(recompute_ln=False)) instead of by its own scale,
	// as the final norm would if the model stopped there (the default: the
	// classic logit lens, and TransformerLens 4's
	// accumulated_resid(apply_ln=True)).
	CachedScale bool `json:"cached_scale,omitempty"`
}

// LensCell is the logit lens at one residual, example and position.
type LensCell struct {
	// Top are the most probable tokens, most probable first.
	Top []lm.TokenProb `json:"top,omitempty"`
	// TargetRank is the number of tokens with a larger logit than the
	// example's target (0: the target is the top token); -1 without a
	// target.
	TargetRank int `json:"target_rank"`
	// TargetProb is the target's probability (0 without a target).
	TargetProb float32 `json:"target_prob"`
}

// Lens is a logit lens: each accumulated residual read out as next-token
// probabilities.
type Lens struct {
	// Labels name the residuals: "0_pre", ("0_mid",) "1_pre", ...,
	// "final_post".
	Labels []string `json:"labels"`
	// Targets holds each example's target (nil without targets).
	Targets []int `json:"targets,omitempty"`
	// Cells[k][i][j] is residual k at example i's token j (without the
	// padding: j counts the example's own tokens from 0).
	Cells [][][]LensCell `json:"cells"`
}

// LogitLens reads each residual stream of the cache (AccumulatedResid(-1,
// cfg.InclMid, false): every block's input and the final output) through
// m's own final norm and unembedding (TransformerLens' logit lens:
// accumulated_resid(apply_ln=True) @ W_U + b_U), each at its own final-norm
// scale or with cfg.CachedScale at the cached final one, and returns, per residual,
// example and position, the cfg.Top most probable tokens (labelled when m
// is an lm.Tokenizer) and the target's rank and probability. The last
// residual's probabilities are the model's own. It returns an error for
// a number of targets other than 0, 1 or the batch size, a target outside
// the vocabulary, or a failing readout.
func LogitLens(m lm.Model, c *Cache, cfg LensConfig) (*Lens, error) {
	b, s, v := c.Batch.Size, c.Batch.Len, c.Dims.Vocab
	var targets []int
	switch len(cfg.Targets) {
	case 0:
	case 1:
		for range b {
			targets = append(targets, cfg.Targets[0])
		}
	case b:
		targets = append(targets, cfg.Targets...)
	default:
		return nil, fmt.Errorf("analysis: logit lens: %d targets for %d examples; want 0, 1 or %d", len(cfg.Targets), b, b)
	}
	for _, t := range targets {
		if t < 0 || t >= v {
			return nil, fmt.Errorf("analysis: logit lens target %d outside the vocabulary [0, %d)", t, v)
		}
	}
	st, err := c.AccumulatedResid(-1, cfg.InclMid, false)
	if err != nil {
		return nil, err
	}
	logits, err := c.readoutStack(m, st, nil, !cfg.CachedScale)
	if err != nil {
		return nil, err
	}
	var label func(int) string
	if tok, ok := m.(lm.Tokenizer); ok {
		label = tok.TokenString
	}
	lens := &Lens{Labels: st.Labels, Targets: targets, Cells: make([][][]LensCell, len(st.Labels))}
	for k := range st.Labels {
		lens.Cells[k] = make([][]LensCell, b)
		for i := range b {
			off := c.Batch.Offset(i)
			cells := make([]LensCell, c.Batch.Lengths[i])
			for j := range cells {
				row := logits.Values[((k*b+i)*s+off+j)*v:][:v]
				probs := lm.Softmax(row)
				cell := LensCell{Top: topTokens(probs, cfg.Top, label), TargetRank: -1}
				if targets != nil {
					t := targets[i]
					cell.TargetProb, cell.TargetRank = probs[t], 0
					for _, x := range row {
						if x > row[t] {
							cell.TargetRank++
						}
					}
				}
				cells[j] = cell
			}
			lens.Cells[k][i] = cells
		}
	}
	return lens, nil
}

// topTokens returns the k most probable tokens of probs, most probable
// first, ties by id (as lm.TopK), labelled by label (nil: no labels), in
// O(len(probs)·k) rather than sorting the vocabulary.
func topTokens(probs []float32, k int, label func(int) string) []lm.TokenProb {
	k = min(max(k, 0), len(probs))
	top := make([]lm.TokenProb, 0, k+1)
	for id, p := range probs {
		if len(top) == k && (k == 0 || p <= top[k-1].Prob) {
			continue
		}
		at := len(top)
		for at > 0 && top[at-1].Prob < p {
			at--
		}
		top = append(top, lm.TokenProb{})
		copy(top[at+1:], top[at:])
		top[at] = lm.TokenProb{ID: id, Prob: p}
		top = top[:min(len(top), k)]
	}
	if label != nil {
		for i := range top {
			top[i].Token = label(top[i].ID)
		}
	}
	return top
}
