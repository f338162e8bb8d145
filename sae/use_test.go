package sae_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/sae"
)

// TestEncodeNodeMatchesHost: the in-graph encode, decode and
// reconstruction equal the host's, for every architecture and
// normalisation.
func TestEncodeNodeMatchesHost(t *testing.T) {
	m := loadModel(t, testModels[0].path...)
	const d, n, rows = 24, 40, 5
	x := make([]float32, rows*d)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)*0.7)) * 2
	}
	for _, tc := range []struct {
		name string
		make func() *sae.SAE
	}{
		{"standard", func() *sae.SAE { return randomSAE(sae.ArchStandard, d, n, "blocks.0.hook_resid_pre", 1) }},
		{"topk", func() *sae.SAE { return randomSAE(sae.ArchTopK, d, n, "blocks.0.hook_resid_pre", 2) }},
		{"topk rescaled", func() *sae.SAE {
			s := randomSAE(sae.ArchTopK, d, n, "blocks.0.hook_resid_pre", 2)
			s.RescaleActsByDecoderNorm = true
			return s
		}},
		{"jumprelu", func() *sae.SAE { return randomSAE(sae.ArchJumpReLU, d, n, "blocks.0.hook_resid_pre", 3) }},
		{"constant norm", func() *sae.SAE {
			s := randomSAE(sae.ArchStandard, d, n, "blocks.0.hook_resid_pre", 4)
			s.NormalizeActivations = sae.NormConstantRescale
			return s
		}},
		{"layer norm", func() *sae.SAE {
			s := randomSAE(sae.ArchStandard, d, n, "blocks.0.hook_resid_pre", 5)
			s.NormalizeActivations = sae.NormLayerNorm
			return s
		}},
		{"scaled", func() *sae.SAE {
			s := randomSAE(sae.ArchStandard, d, n, "blocks.0.hook_resid_pre", 6)
			s.NormalizeActivations, s.Scale = sae.NormExpectedAverage, 0.5
			return s
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.make()
			e, err := graph.NewExec(m.Backend(), func(in []*graph.Node) []*graph.Node {
				f := s.EncodeNode(in[0])
				return []*graph.Node{f, s.DecodeNode(f), s.ReconstructNode(in[0])}
			})
			if err != nil {
				t.Fatal(err)
			}
			outs, err := e.Call(tensors.FromFlatDataAndDimensions(x, rows, d))
			if err != nil {
				t.Fatal(err)
			}
			gf, _ := tensors.CopyFlatData[float32](outs[0])
			gd, _ := tensors.CopyFlatData[float32](outs[1])
			gr, _ := tensors.CopyFlatData[float32](outs[2])
			hf, err := s.Encode(x)
			if err != nil {
				t.Fatal(err)
			}
			hd, _ := s.Decode(hf)
			hr, _ := s.Reconstruct(x)
			active := 0
			for _, v := range hf {
				if v != 0 {
					active++
				}
			}
			if active == 0 || active == len(hf) {
				t.Fatalf("%d of %d activations are non-zero: the test SAE should be sparse but not dead", active, len(hf))
			}
			if s.Architecture == sae.ArchTopK && active > rows*s.K {
				t.Errorf("%d active features over %d rows, more than k=%d per row", active, rows, s.K)
			}
			for _, c := range []struct {
				what string
				g, h []float32
			}{{"encode", gf, hf}, {"decode", gd, hd}, {"reconstruct", gr, hr}} {
				if dd := maxAbsDiff(c.g, c.h); dd > 1e-5 {
					t.Errorf("%s: graph and host differ by %g", c.what, dd)
				}
			}
		})
	}
}

func TestSite(t *testing.T) {
	for _, tc := range []struct {
		hook string
		want lm.Site
		err  string
	}{
		{"blocks.3.hook_resid_pre", lm.Site{Layer: 3, Component: lm.BlockInput}, ""},
		{"blocks.0.hook_resid_mid", lm.Site{Layer: 0, Component: lm.ResidMid}, ""},
		{"blocks.11.hook_resid_post", lm.Site{Layer: 11, Component: lm.BlockOutput}, ""},
		{"blocks.2.hook_attn_out", lm.Site{Layer: 2, Component: lm.AttentionOutput}, ""},
		{"blocks.2.hook_mlp_out", lm.Site{Layer: 2, Component: lm.MLPOutput}, ""},
		{"blocks.1.attn.hook_z", lm.Site{Layer: 1, Component: lm.AttentionValueOutput}, ""},
		{"blocks.1.mlp.hook_post", lm.Site{Layer: 1, Component: lm.MLPPost}, ""},
		{"hook_embed", lm.Site{Layer: -1, Component: lm.Embed}, ""},
		{"blocks.1.attn.hook_q", lm.Site{}, "hook_q"},
		{"blocks.x.hook_resid_pre", lm.Site{}, "blocks.x"},
		{"blocks.01.hook_resid_pre", lm.Site{}, "blocks.01"},
		{"ln_final.hook_normalized", lm.Site{}, "supported"},
	} {
		s := randomSAE(sae.ArchStandard, 2, 2, tc.hook, 1)
		got, err := s.Site()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "blocks.L.hook_resid_pre") {
				t.Errorf("%s: error %v, want one mentioning %q and the supported hooks", tc.hook, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %v, %v; want %v", tc.hook, got, err, tc.want)
		}
	}
	h := 1
	s := randomSAE(sae.ArchStandard, 2, 2, "blocks.0.attn.hook_z", 1)
	s.HookHeadIndex = &h
	if _, err := s.Site(); err == nil || !strings.Contains(err.Error(), "hook_head_index") {
		t.Errorf("an SAE on one head: error %v, want one naming hook_head_index", err)
	}
}

// modelSAE returns a random SAE of arch at layer 1's residual stream of m.
func modelSAE(m lm.Model, arch string, seed uint64) *sae.SAE {
	return randomSAE(arch, m.Dims().Hidden, 2*m.Dims().Hidden, "blocks.1.hook_resid_pre", seed)
}

// TestSplice: with the error term the spliced model's logits are the
// model's; without it they change; ablating a feature equals replacing
// the site by x - f_j·W_dec[j] (computed on the host).
func TestSplice(t *testing.T) {
	for _, tm := range testModels {
		for _, arch := range sae.Architectures {
			t.Run(tm.name+"/"+arch, func(t *testing.T) {
				m := loadModel(t, tm.path...)
				s := modelSAE(m, arch, 11)
				ps := prompts(m.Dims().Vocab)
				iv, err := sae.Splice(m, s, sae.Edit{ErrorTerm: true})
				if err != nil {
					t.Fatal(err)
				}
				out, err := iv.Forward(ps, pv.WithOriginal())
				if err != nil {
					t.Fatal(err)
				}
				orig := sae.FlatLogits(t, out, len(ps), true)
				if d := maxAbsDiff(sae.FlatLogits(t, out, len(ps), false), orig); d > 1e-5 {
					t.Errorf("with the error term: logits differ by %g", d)
				}
				iv, err = sae.Splice(m, s, sae.Edit{})
				if err != nil {
					t.Fatal(err)
				}
				out, err = iv.Forward(ps)
				if err != nil {
					t.Fatal(err)
				}
				if d := maxAbsDiff(sae.FlatLogits(t, out, len(ps), false), orig); d < 1e-3 {
					t.Errorf("without the error term: logits differ by only %g", d)
				}
				checkAblation(t, m, s, ps[:1])
			})
		}
	}
}

// checkAblation compares Ablate with a vanilla patch of the site by
// x - f_j(x)·W_dec[j] for the most active feature j of the prompt.
func checkAblation(t *testing.T, m lm.Model, s *sae.SAE, ps []lm.Prompt) {
	t.Helper()
	acts, err := sae.FeatureActivations(m, s, ps)
	if err != nil {
		t.Fatal(err)
	}
	best, bestSum := -1, float32(0)
	for j := range s.DSAE {
		var sum float32
		for _, v := range acts.Feature(0, j) {
			sum += v
		}
		if sum > bestSum {
			best, bestSum = j, sum
		}
	}
	if best < 0 {
		t.Fatal("no feature fires on the prompt")
	}
	out, err := sae.Ablate(m, s, ps, best)
	if err != nil {
		t.Fatal(err)
	}
	got := sae.FlatLogits(t, out, 1, false)
	if d := maxAbsDiff(got, sae.FlatLogits(t, out, 1, true)); d < 1e-4 {
		t.Errorf("ablating feature %d changed the logits by only %g", best, d)
	}
	// The patch: x - f_j·W_dec[j]/scale at every position.
	x, f := acts.Inputs[0], acts.Feature(0, best)
	d, n := s.DIn, len(f)
	rows := make([][]float32, n)
	units := make([]int, n)
	for p := range n {
		units[p] = p
		rows[p] = make([]float32, d)
		for i := range d {
			rows[p][i] = x[p*d+i] - f[p]*s.WDec[best*d+i]
		}
	}
	site, _ := s.Site()
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{{Layer: site.Layer, Component: site.Component,
		InterventionType: pv.Vanilla, MaxNumberOfUnits: n}}})
	if err != nil {
		t.Fatal(err)
	}
	want, err := iv.Forward(ps, pv.AtBase(units...), pv.SourceRepresentations(map[string][][]float32{iv.Keys()[0]: rows}))
	if err != nil {
		t.Fatal(err)
	}
	if dd := maxAbsDiff(got, sae.FlatLogits(t, want, 1, false)); dd > 1e-4 {
		t.Errorf("ablating feature %d: logits differ from the patched run by %g", best, dd)
	}
}

func TestFeatureActivationsAndTop(t *testing.T) {
	for _, tm := range testModels {
		t.Run(tm.name, func(t *testing.T) {
			m := loadModel(t, tm.path...)
			s := modelSAE(m, sae.ArchStandard, 5)
			ps := prompts(m.Dims().Vocab)
			a, err := sae.FeatureActivations(m, s, ps)
			if err != nil {
				t.Fatal(err)
			}
			// Each prompt's activations are the host encode of its site values.
			site, _ := s.Site()
			for i, p := range ps {
				res, err := lm.NewRunner(m, m.PadID()).Run([]lm.Prompt{p}, site)
				if err != nil {
					t.Fatal(err)
				}
				x, _ := tensors.CopyFlatData[float32](res.Sites[site])
				want, _ := s.Encode(x)
				if d := maxAbsDiff(a.Values[i], want); d > 1e-4 {
					t.Errorf("prompt %d: activations differ from a run of the prompt alone by %g", i, d)
				}
			}
			top := a.Top(0, 2, 3)
			if len(top) == 0 || len(top) > 3 {
				t.Fatalf("Top(0, 2, 3) = %v", top)
			}
			for j := 1; j < len(top); j++ {
				if top[j].Value > top[j-1].Value {
					t.Errorf("Top not sorted: %v", top)
				}
			}
			feature := top[0].Index
			got, err := sae.TopActivating(m, s, feature, ps, 4)
			if err != nil {
				t.Fatal(err)
			}
			// Brute force: every (prompt, position) of the feature, sorted.
			var all []sae.Activation
			for i, p := range ps {
				for pos, v := range a.Feature(i, feature) {
					if v > 0 {
						all = append(all, sae.Activation{Prompt: i, Pos: pos, Token: p.IDs[pos], Value: v})
					}
				}
			}
			slices.SortStableFunc(all, func(x, y sae.Activation) int {
				if x.Value > y.Value {
					return -1
				} else if x.Value < y.Value {
					return 1
				}
				return 0
			})
			if !slices.Equal(got, all[:min(4, len(all))]) {
				t.Errorf("TopActivating = %v, want %v", got, all[:min(4, len(all))])
			}
			if _, err := sae.TopActivating(m, s, s.DSAE, ps, 4); err == nil {
				t.Errorf("feature d_sae accepted")
			}
		})
	}
}

// identitySAE reconstructs exactly: relu(x) - relu(-x) = x.
func identitySAE(d int, hook string) *sae.SAE {
	n := 2 * d
	s := &sae.SAE{Config: sae.Config{Architecture: sae.ArchStandard, DIn: d, DSAE: n, HookName: hook, NormalizeActivations: sae.NormNone},
		WEnc: make([]float32, d*n), BEnc: make([]float32, n), WDec: make([]float32, n*d), BDec: make([]float32, d), Scale: 1}
	for i := range d {
		s.WEnc[i*n+i], s.WEnc[i*n+d+i] = 1, -1
		s.WDec[i*d+i], s.WDec[(d+i)*d+i] = 1, -1
	}
	return s
}

func TestReconstruction(t *testing.T) {
	m := loadModel(t, testModels[0].path...)
	ps := prompts(m.Dims().Vocab)
	d := m.Dims().Hidden
	perfect, err := sae.Reconstruction(m, identitySAE(d, "blocks.1.hook_resid_pre"), ps)
	if err != nil {
		t.Fatal(err)
	}
	tokens := 0
	for _, p := range ps {
		tokens += len(p.IDs)
	}
	if perfect.Tokens != tokens || math.Abs(perfect.CEIncrease) > 1e-5 || perfect.KLWithSAE > 1e-6 ||
		math.Abs(perfect.ExplainedVariance-1) > 1e-6 || perfect.MSE > 1e-9 || perfect.L0 < float64(d)-1 || perfect.L0 > float64(d) {
		t.Errorf("identity SAE: %+v", perfect)
	}
	if perfect.CEWithAblation <= perfect.CEWithoutSAE || math.Abs(perfect.CELossScore-1) > 1e-4 || math.Abs(perfect.KLDivScore-1) > 1e-4 {
		t.Errorf("identity SAE scores: %+v", perfect)
	}
	random, err := sae.Reconstruction(m, modelSAE(m, sae.ArchStandard, 3), ps)
	if err != nil {
		t.Fatal(err)
	}
	if random.KLWithSAE <= 1e-4 || random.ExplainedVariance > 0.9 || random.L0 <= 0 || random.L0 >= float64(2*d) {
		t.Errorf("random SAE: %+v", random)
	}
}

func TestSteer(t *testing.T) {
	for _, tm := range testModels {
		t.Run(tm.name, func(t *testing.T) {
			m := loadModel(t, tm.path...)
			s := modelSAE(m, sae.ArchStandard, 8)
			ps := prompts(m.Dims().Vocab)[:1]
			g := pv.GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 6}}
			plain, err := sae.Steer(m, s, 0, 0, ps, g)
			if err != nil {
				t.Fatal(err)
			}
			r, err := lm.NewRunner(m, m.PadID()).Run(ps)
			if err != nil {
				t.Fatal(err)
			}
			l, _ := r.NextTokenLogits(0)
			if plain.NewTokens[0][0] != lm.Argmax(l) {
				t.Errorf("scale 0: first token %d, the model's greedy one is %d", plain.NewTokens[0][0], lm.Argmax(l))
			}
			steered, err := sae.Steer(m, s, 0, 50, ps, g)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(plain.NewTokens[0], steered.NewTokens[0]) {
				t.Errorf("steering with scale 50 left the generation %v unchanged", plain.NewTokens[0])
			}
			if _, err := sae.Steer(m, s, -1, 1, ps, g); err == nil {
				t.Error("feature -1 accepted")
			}
		})
	}
}

// TestSpliceComposes: a splice is an ordinary pv model: saved and loaded
// with pv (the sae type is registered), and combined with another
// intervention in one config (here a steering addition at a later layer).
func TestSpliceComposes(t *testing.T) {
	m := loadModel(t, testModels[0].path...)
	s := modelSAE(m, sae.ArchTopK, 4)
	ps := prompts(m.Dims().Vocab)
	iv, err := sae.Splice(m, s, sae.Edit{Scale: map[int]float32{3: 0}})
	if err != nil {
		t.Fatal(err)
	}
	want, err := iv.Forward(ps)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() + "/splice"
	if err := iv.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := pv.Load(dir, m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := back.Forward(ps)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(sae.FlatLogits(t, got, len(ps), false), sae.FlatLogits(t, want, len(ps), false)); d != 0 {
		t.Errorf("a splice loaded with pv gives logits %g away from the saved one's", d)
	}

	splice, err := s.Representation()
	if err != nil {
		t.Fatal(err)
	}
	steer, err := sae.SteerRepresentation(s, 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	steer.Layer = 2
	both, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{splice, steer}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetWeights(both, both.Keys()[0], sae.Edit{Scale: map[int]float32{3: 0}}); err != nil {
		t.Fatal(err)
	}
	combined, err := both.Forward(ps)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(sae.FlatLogits(t, combined, len(ps), false), sae.FlatLogits(t, want, len(ps), false)); d < 1e-4 {
		t.Errorf("adding a steering vector after the splice changed the logits by only %g", d)
	}
	if err := s.SetWeights(both, both.Keys()[0], sae.Edit{Scale: map[int]float32{s.DSAE: 0}}); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("feature d_sae in an edit: error %v", err)
	}
}
