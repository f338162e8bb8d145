package analysis_test

import (
	"path/filepath"
	"testing"

	"github.com/govene/govene/analysis"
	"github.com/govene/govene/lm"
)

// TestLogitLens checks on every model that the readout of the last
// residual is the model's logits and that the logit lens's last layer
// reports the model's own top tokens, target probability and rank, while
// earlier layers report other distributions.
func TestLogitLens(t *testing.T) {
	for _, ckpt := range lensCheckpoints {
		t.Run(filepath.Base(ckpt), func(t *testing.T) {
			m, c := lensLoad(t, ckpt)
			acc, err := c.AccumulatedResid(-1, false, false)
			if err != nil {
				t.Fatal(err)
			}
			logits, err := analysis.Readout(m, c, acc)
			if err != nil {
				t.Fatal(err)
			}
			n, per := acc.Shape[0], len(c.Logits)
			if msg := lensClose(logits.Values[(n-1)*per:], c.Logits, 1e-5); msg != "" {
				t.Fatalf("readout of final_post differs from the model's logits: %s", msg)
			}
			target := 7
			lens, err := analysis.LogitLens(m, c, analysis.LensConfig{Targets: []int{target}, Top: 3})
			if err != nil {
				t.Fatal(err)
			}
			if len(lens.Labels) != c.Dims.Layers+1 || lens.Labels[n-1] != "final_post" || lens.Labels[0] != "0_pre" {
				t.Fatalf("labels %v", lens.Labels)
			}
			v := c.Dims.Vocab
			moved := false
			for i := range c.Batch.Size {
				if got, want := len(lens.Cells[n-1][i]), c.Batch.Lengths[i]; got != want {
					t.Fatalf("example %d: %d positions, want %d", i, got, want)
				}
				for j, cell := range lens.Cells[n-1][i] {
					col := c.Batch.Offset(i) + j
					probs := lm.Softmax(c.Logits[(i*c.Batch.Len+col)*v:][:v])
					want := lm.TopK(probs, 3, nil)
					for r, tp := range cell.Top {
						if tp.ID != want[r].ID || abs32(tp.Prob-want[r].Prob) > 1e-5 {
							t.Errorf("example %d token %d top %d: %+v, want %+v", i, j, r, tp, want[r])
						}
					}
					rank := 0
					for _, x := range c.Logits[(i*c.Batch.Len+col)*v:][:v] {
						if x > c.Logits[(i*c.Batch.Len+col)*v+target] {
							rank++
						}
					}
					if cell.TargetRank != rank || abs32(cell.TargetProb-probs[target]) > 1e-5 {
						t.Errorf("example %d token %d: target rank %d prob %g, want %d %g", i, j, cell.TargetRank, cell.TargetProb, rank, probs[target])
					}
					if abs32(lens.Cells[0][i][j].TargetProb-cell.TargetProb) > 1e-4 {
						moved = true
					}
				}
			}
			if !moved {
				t.Errorf("the embeddings' lens gives the target the final layer's probability everywhere")
			}
			none, err := analysis.LogitLens(m, c, analysis.LensConfig{})
			if err != nil {
				t.Fatal(err)
			}
			if cell := none.Cells[0][0][0]; cell.TargetRank != -1 || len(cell.Top) != 0 {
				t.Errorf("no target, no top: got %+v", cell)
			}
		})
	}
}

func abs32(x float32) float32 { return max(x, -x) }
