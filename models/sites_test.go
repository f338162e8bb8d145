package models

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
)

// siteModels are the checkpoints the site tests run on: GPT-2 and every
// family.
var siteModels = append([]string{filepath.Join("..", "gpt2", "testdata", "odd")}, familyCheckpoints...)

func loadAny(t *testing.T, ckpt string) Model {
	t.Helper()
	dir := ckpt
	if !strings.ContainsRune(ckpt, filepath.Separator) {
		dir = filepath.Join("testdata", ckpt)
	}
	m, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestHeadResult checks head_result on every model: summed over heads it
// is attention_output less a bias that is the same at every position, and
// zeroing one head's result equals zeroing that head's value output (the
// head's input to the output projection).
func TestHeadResult(t *testing.T) {
	for _, ckpt := range siteModels {
		t.Run(filepath.Base(ckpt), func(t *testing.T) {
			m := loadAny(t, ckpt)
			d := m.Dims()
			l := d.Layers - 1
			hr, ao := lm.Site{Layer: l, Component: lm.HeadResult}, lm.Site{Layer: l, Component: lm.AttentionOutput}
			r, err := m.Run(featBase[:1], hr, ao)
			if err != nil {
				t.Fatal(err)
			}
			per, out := flat(t, r.Sites[hr]), flat(t, r.Sites[ao])
			if got := r.Sites[hr].Shape().Dimensions; !slices.Equal(got, []int{1, d.Heads, len(featBase[0].IDs), d.Hidden}) {
				t.Fatalf("head_result shape %v", got)
			}
			s, w := len(featBase[0].IDs), d.Hidden
			bias := make([]float64, w)
			for p := range s {
				for o := range w {
					sum := 0.0
					for h := range d.Heads {
						sum += float64(per[(h*s+p)*w+o])
					}
					diff := float64(out[p*w+o]) - sum
					if p == 0 {
						bias[o] = diff
					} else if math.Abs(diff-bias[o]) > 1e-5 {
						t.Fatalf("position %d dim %d: attention_output - sum of head results = %g, at position 0 %g", p, o, diff, bias[o])
					}
				}
			}
			zero := func(c lm.Component) []float32 {
				iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{{
					Layer: l, Component: c, Unit: pv.Head, InterventionType: pv.Zero}}})
				if err != nil {
					t.Fatal(err)
				}
				o, err := iv.Forward(featBase[:1], pv.AtBase(1))
				if err != nil {
					t.Fatal(err)
				}
				return flat(t, o.Logits)
			}
			a, b := zero(lm.HeadResult), zero(lm.HeadAttentionValueOutput)
			if dd := maxAbsDiff(a, b); dd > 1e-5 {
				t.Errorf("zeroing head 1's result and its value output differ by %g", dd)
			}
			plain := flat(t, r.Logits)
			if dd := maxAbsDiff(a, plain); dd < 1e-4 {
				t.Errorf("zeroing head 1's result moved the logits by only %g", dd)
			}
		})
	}
}

// TestLNFinalScale checks ln_final_scale on every model: it is the final
// norm's scale of the last block's output (sqrt(var+eps) for LayerNorm,
// sqrt(mean(x²)+eps) for RMSNorm), and replacing it makes the norm divide
// by the new scale: twice the scale halves an RMSNorm's output.
func TestLNFinalScale(t *testing.T) {
	for _, ckpt := range siteModels {
		t.Run(filepath.Base(ckpt), func(t *testing.T) {
			m := loadAny(t, ckpt)
			d := m.Dims()
			sc, last := lm.Site{Layer: -1, Component: lm.LNFinalScale}, lm.Site{Layer: d.Layers - 1, Component: lm.BlockOutput}
			r, err := m.Run(featBase[:1], sc, last)
			if err != nil {
				t.Fatal(err)
			}
			got, x := flat(t, r.Sites[sc]), flat(t, r.Sites[last])
			layerNorm := m.Family() == "gpt2" || m.Family() == "gpt_neox"
			eps := map[bool]float64{true: 1e-5, false: 1e-6}[layerNorm]
			if m.Family() == "gpt2" {
				eps = 1e-4 // the odd checkpoint's layer_norm_epsilon
			}
			w := d.Hidden
			for p := range len(x) / w {
				row := x[p*w : (p+1)*w]
				mean := 0.0
				if layerNorm {
					for _, v := range row {
						mean += float64(v)
					}
					mean /= float64(w)
				}
				ss := 0.0
				for _, v := range row {
					ss += (float64(v) - mean) * (float64(v) - mean)
				}
				want := math.Sqrt(ss/float64(w) + eps)
				if math.Abs(float64(got[p])-want) > 1e-5*want {
					t.Errorf("position %d: scale %g, want %g", p, got[p], want)
				}
			}
			// Replace the scale by twice itself: the final norm's output
			// halves (RMSNorm) or at least moves (LayerNorm, whose bias
			// stays).
			exec, err := graph.NewExec(m.Backend(), func(in []*graph.Node) []*graph.Node {
				fn := lm.SplitForward(in, len(m.Params()))
				var lnf *graph.Node
				m.BuildForward(fn.Params, fn.Inputs, func(s lm.Site, x *graph.Node) *graph.Node {
					switch s.Component {
					case lm.LNFinalScale:
						return graph.MulScalar(x, 2)
					case lm.LNFinal:
						lnf = x
					}
					return x
				})
				return []*graph.Node{lnf}
			})
			if err != nil {
				t.Fatal(err)
			}
			batch, err := lm.NewBatch(featBase[:1], 0, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			outs, err := exec.Call(lm.ForwardArgs{Params: m.Params(), Batch: batch}.List()...)
			if err != nil {
				t.Fatal(err)
			}
			lnf := lm.Site{Layer: -1, Component: lm.LNFinal}
			plain, err := m.Run(featBase[:1], lnf)
			if err != nil {
				t.Fatal(err)
			}
			a, b := flat(t, outs[0]), flat(t, plain.Sites[lnf])
			if !layerNorm {
				for k := range b {
					if x, y := a[k], b[k]/2; math.Abs(float64(x-y)) > 1e-6*max(1, math.Abs(float64(y))) {
						t.Fatalf("index %d: %g with twice the scale, want half of %g", k, x, b[k])
					}
				}
			} else if dd := maxAbsDiff(a, b); dd < 1e-3 {
				t.Errorf("twice the scale moved ln_final by only %g", dd)
			}
		})
	}
}

// TestCheckText checks that a checkpoint without tokenizer files is
// refused by name for text, and one with them is not.
func TestCheckText(t *testing.T) {
	m := loadAny(t, "llama")
	if err := CheckText(m); err == nil || !strings.Contains(err.Error(), "has no tokenizer") || !strings.Contains(err.Error(), m.Source()) {
		t.Errorf("CheckText on a checkpoint without tokenizer.json: %v", err)
	}
	s, err := Load("", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckText(s); err != nil {
		t.Errorf("CheckText on the shipped model: %v", err)
	}
}
