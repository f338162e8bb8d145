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
						if tp.ID != want[r].ID || lensAbs(tp.Prob-want[r].Prob) > 1e-5 {
							t.Errorf("example %d token %d top %d: %+v, want %+v", i, j, r, tp, want[r])
						}
					}
					rank := 0
					for _, x := range c.Logits[(i*c.Batch.Len+col)*v:][:v] {
						if x > c.Logits[(i*c.Batch.Len+col)*v+target] {
							rank++
						}
					}
					if cell.TargetRank != rank || lensAbs(cell.TargetProb-probs[target]) > 1e-5 {
						t.Errorf("example %d token %d: target rank %d prob %g, want %d %g", i, j, cell.TargetRank, cell.TargetProb, rank, probs[target])
					}
					if lensAbs(lens.Cells[0][i][j].TargetProb-cell.TargetProb) > 1e-4 {
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

func lensAbs(x float32) float32 { return max(x, -x) }

// TestLensOwnScale checks that the own-scale lens agrees with the
// cached-scale one on the final residual (whose own scale is the cached
// one) and differs on the embeddings.
func TestLensOwnScale(t *testing.T) {
	for _, ckpt := range lensCheckpoints {
		t.Run(filepath.Base(ckpt), func(t *testing.T) {
			m, c := lensLoad(t, ckpt)
			cfg := analysis.LensConfig{Targets: []int{5, 9}, Top: 2, CachedScale: true}
			cached, err := analysis.LogitLens(m, c, cfg)
			if err != nil {
				t.Fatal(err)
			}
			cfg.CachedScale = false
			own, err := analysis.LogitLens(m, c, cfg)
			if err != nil {
				t.Fatal(err)
			}
			last, moved := len(own.Labels)-1, false
			for i := range c.Batch.Size {
				if own.Targets[i] != cfg.Targets[i] {
					t.Errorf("example %d target %d, want %d", i, own.Targets[i], cfg.Targets[i])
				}
				for j := range own.Cells[last][i] {
					a, b := own.Cells[last][i][j], cached.Cells[last][i][j]
					if a.TargetRank != b.TargetRank || lensAbs(a.TargetProb-b.TargetProb) > 1e-6 || a.Top[0].ID != b.Top[0].ID {
						t.Errorf("example %d token %d: final residual's own-scale cell %+v, cached-scale %+v", i, j, a, b)
					}
					if lensAbs(own.Cells[0][i][j].TargetProb-cached.Cells[0][i][j].TargetProb) > 1e-6 {
						moved = true
					}
				}
			}
			if !moved {
				t.Error("the embeddings read at their own scale and at the final scale give the same probabilities")
			}
		})
	}
}
