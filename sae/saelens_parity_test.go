package sae

import (
	"path/filepath"
	"testing"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/pv"
)

// TestSAELensParity: govene's Load of sae-lens' saved SAEs encodes,
// decodes and splices (on gpt2/testdata/odd) as sae-lens does, within
// saelensTolerance: host and in-graph encode and decode, the site's
// activations through FeatureActivations, and the logits with the SAE
// spliced in, with and without the error term.
func TestSAELensParity(t *testing.T) {
	m, err := models.Load(filepath.Join("..", "gpt2", "testdata", "odd"), models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range saelensNames {
		t.Run(name, func(t *testing.T) {
			fx := openSAELens(t, name)
			s, err := Load(fx.Dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			x := fx.Tensors["x"].Data
			check := func(what string, got []float32, want string) {
				t.Helper()
				if d := saelensMaxDiff(got, fx.Tensors[want].Data); d > saelensTolerance {
					t.Errorf("%s: differs from sae-lens' %s by %.3g (> %g)", what, want, d, saelensTolerance)
				}
			}
			f, err := s.Encode(x)
			if err != nil {
				t.Fatal(err)
			}
			check("host encode", f, "feature_acts")
			dec, _ := s.Decode(fx.Tensors["feature_acts"].Data)
			check("host decode", dec, "decoded")
			rec, _ := s.Reconstruct(x)
			check("host reconstruct", rec, "reconstruction")
			gf, gr, err := s.run(m.Backend(), x, true)
			if err != nil {
				t.Fatal(err)
			}
			check("graph encode", gf, "feature_acts")
			check("graph reconstruct", gr, "reconstruction")
			if sc, ok := fx.scalingFactor(); ok {
				scaled, err := Load(fx.Dir, Options{Scale: sc})
				if err != nil {
					t.Fatal(err)
				}
				f, _ := scaled.Encode(x)
				check("encode with Scale", f, "feature_acts_folded")
				d, _ := scaled.Decode(f)
				check("decode with Scale", d, "decoded_folded")
			}

			var ps []lm.Prompt
			for _, p := range fx.Ref.Prompts {
				ps = append(ps, lm.Prompt{IDs: p})
			}
			acts, err := FeatureActivations(m, s, ps)
			if err != nil {
				t.Fatal(err)
			}
			check("site activations", append(acts.Inputs[0], acts.Inputs[1]...), "x")
			check("feature activations", append(acts.Values[0], acts.Values[1]...), "feature_acts")
			for _, tc := range []struct {
				edit Edit
				want string
			}{{Edit{}, "logits_spliced"}, {Edit{ErrorTerm: true}, "logits_spliced_error"}} {
				iv, err := Splice(m, s, tc.edit)
				if err != nil {
					t.Fatal(err)
				}
				out, err := iv.Forward(ps, pv.WithOriginal())
				if err != nil {
					t.Fatal(err)
				}
				check("spliced logits", flatLogits(t, out, len(ps), false), tc.want)
				check("plain logits", flatLogits(t, out, len(ps), true), "logits")
			}
		})
	}
}

func flatLogits(t *testing.T, out *pv.Output, n int, original bool) []float32 {
	t.Helper()
	var all []float32
	for i := range n {
		rows, err := out.TokenLogits(i, original)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			all = append(all, r...)
		}
	}
	return all
}
