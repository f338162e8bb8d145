package analysis_test

import (
	"path/filepath"
	"testing"

	"github.com/govene/govene/analysis"
)

// TestDLA checks on every model without a soft-cap that the direct logit
// attributions of the residual decomposition, and of the heads with the
// remainder, plus the zero residual's logits are the model's logits, and
// that a logit difference's attribution is the difference of the tokens'.
func TestDLA(t *testing.T) {
	for _, ckpt := range lensCheckpoints {
		t.Run(filepath.Base(ckpt), func(t *testing.T) {
			m, c := lensLoad(t, ckpt)
			tokens := []int{3, 17, c.Dims.Vocab - 1}
			dec, err := c.DecomposeResid(-1, false)
			if err != nil {
				t.Fatal(err)
			}
			heads, err := c.StackHeadResults(-1, true, false)
			if err != nil {
				t.Fatal(err)
			}
			b, s, v := c.Batch.Size, c.Batch.Len, c.Dims.Vocab
			want := make([]float32, 0, b*s*len(tokens))
			for r := range b * s {
				for _, tok := range tokens {
					want = append(want, c.Logits[r*v+tok])
				}
			}
			for name, st := range map[string]*analysis.Stack{"decomposition": dec, "heads": heads} {
				a, err := analysis.DLA(m, c, st, tokens...)
				if err != nil {
					t.Fatal(err)
				}
				if got := a.Shape; got[0] != len(st.Labels) || got[3] != len(tokens) {
					t.Fatalf("%s: shape %v", name, got)
				}
				sum := make([]float32, len(a.Base))
				copy(sum, a.Base)
				per := len(a.Base)
				for k := range a.Shape[0] {
					for o := range per {
						sum[o] += a.Values[k*per+o]
					}
				}
				msg := lensClose(sum, want, 1e-4)
				if m.Family() == "gemma2" {
					// The final soft-cap makes the readout non-affine: the
					// attributions must not add up to the logits.
					if msg == "" {
						t.Errorf("%s: attributions add up to the logits despite Gemma 2's soft-cap", name)
					}
					continue
				}
				if msg != "" {
					t.Errorf("%s: attributions + base are not the logits: %s", name, msg)
				}
				diff, err := analysis.LogitDiffDLA(m, c, st, tokens[0], tokens[1])
				if err != nil {
					t.Fatal(err)
				}
				for k := range a.Shape[0] {
					for i := range b {
						for j := range s {
							w := a.At(k, i, j, 0) - a.At(k, i, j, 1)
							if g := diff.At(k, i, j, 0); lensAbs(g-w) > 1e-5*max(1, lensAbs(w)) {
								t.Fatalf("%s %s: logit difference attribution %g, want %g", name, st.Labels[k], g, w)
							}
						}
					}
				}
			}
		})
	}
}
