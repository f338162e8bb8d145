package analysis

import (
	"fmt"

	"github.com/govene/govene/lm"
)

// LensCell is the logit lens at one residual, example and position.
type LensCell struct {
	// Top are the most probable tokens, most probable first.
	Top []lm.TokenProb `json:"top"`
	// TargetRank is the number of tokens more probable than the target
	// (0: the target is the top token); -1 without a target.
	TargetRank int `json:"target_rank"`
	// TargetProb is the target's probability (0 without a target).
	TargetProb float32 `json:"target_prob"`
}

// Lens is a logit lens: each accumulated residual read out as next-token
// probabilities.
type Lens struct {
	// Labels name the residuals: "0_pre", "1_pre", ..., "final_post".
	Labels []string `json:"labels"`
	// Target is the token whose rank and probability are reported (-1:
	// none).
	Target int `json:"target"`
	// Cells[k][i][j] is residual k at example i's token j (without the
	// padding: j counts the example's own tokens from 0).
	Cells [][][]LensCell `json:"cells"`
}

// LogitLens reads each residual stream of the cache (AccumulatedResid(-1,
// false, false): every block's input and the final output) through m's own
// final norm, at the cached final scale, and unembedding (TransformerLens'
// logit lens: accumulated_resid(apply_ln=True) @ W_U + b_U), and returns,
// per residual, example and position, the top tokens with their
// probabilities (labelled when m is an lm.Tokenizer) and the target's rank
// and probability. The last residual's probabilities are the model's own.
// target -1 reports no target; top <= 0 lists no tokens. It returns an
// error for a target outside -1..vocab-1 or a failing readout.
func LogitLens(m lm.Model, c *Cache, target, top int) (*Lens, error) {
	if target < -1 || target >= c.Dims.Vocab {
		return nil, fmt.Errorf("analysis: logit lens target %d outside the vocabulary [0, %d) (or -1 for none)", target, c.Dims.Vocab)
	}
	st, err := c.AccumulatedResid(-1, false, false)
	if err != nil {
		return nil, err
	}
	logits, err := Readout(m, c, st)
	if err != nil {
		return nil, err
	}
	var label func(int) string
	if tok, ok := m.(lm.Tokenizer); ok {
		label = tok.TokenString
	}
	b, s, v := c.Batch.Size, c.Batch.Len, c.Dims.Vocab
	lens := &Lens{Labels: st.Labels, Target: target, Cells: make([][][]LensCell, len(st.Labels))}
	for k := range st.Labels {
		lens.Cells[k] = make([][]LensCell, b)
		for i := range b {
			off := c.Batch.Offset(i)
			cells := make([]LensCell, c.Batch.Lengths[i])
			for j := range cells {
				row := logits.Values[((k*b+i)*s+off+j)*v:][:v]
				probs := lm.Softmax(row)
				cell := LensCell{Top: lm.TopK(probs, top, label), TargetRank: -1}
				if target >= 0 {
					cell.TargetProb, cell.TargetRank = probs[target], 0
					for _, p := range probs {
						if p > probs[target] {
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
