package gpt2

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/safetensors"
)

// Checkpoints made by oracle/make_gpt2_fixtures.py with transformers, and
// the values it recorded at every hook site.
var fixtureCheckpoints = []string{"tiny-vocab", "odd", "bf16"}

// Tolerance of the parity tests: |got-want| <= parityRTol*max|want| of the
// tensor (element-wise relative error is meaningless for values near zero,
// so the scale is the tensor's largest magnitude), plus parityATol.
const (
	parityRTol = 1e-5
	parityATol = 1e-6
)

// refCase is one case of a reference file: its batch and its tensors by
// site name ("0/block_output", "embed", "logits_last", ...).
type refCase struct {
	ids, mask, pos []int64
	b, s           int
	values         map[string]string // site name -> tensor name in the file
}

func readReference(t *testing.T, f *safetensors.File) map[string]*refCase {
	t.Helper()
	cases := map[string]*refCase{}
	for _, name := range f.Names() {
		c, site, ok := strings.Cut(name, "/")
		if !ok {
			t.Fatalf("reference tensor %q is not CASE/SITE", name)
		}
		rc := cases[c]
		if rc == nil {
			rc = &refCase{values: map[string]string{}}
			cases[c] = rc
		}
		rc.values[site] = name
	}
	for c, rc := range cases {
		var shape []int
		var err error
		if rc.ids, shape, err = f.Int64(c + "/input_ids"); err != nil {
			t.Fatal(err)
		}
		rc.b, rc.s = shape[0], shape[1]
		if rc.mask, _, err = f.Int64(c + "/attention_mask"); err != nil {
			t.Fatal(err)
		}
		if rc.pos, _, err = f.Int64(c + "/position_ids"); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"input_ids", "attention_mask", "position_ids"} {
			delete(rc.values, k)
		}
	}
	return cases
}

// prompts returns the unpadded prompts of a case.
func (rc *refCase) prompts() []lm.Prompt {
	ps := make([]lm.Prompt, rc.b)
	for i := range rc.b {
		for j := range rc.s {
			if rc.mask[i*rc.s+j] != 0 {
				ps[i].IDs = append(ps[i].IDs, int(rc.ids[i*rc.s+j]))
			}
		}
	}
	return ps
}

// parseRefSite maps a reference site name to a govene site.
func parseRefSite(name string) (lm.Site, bool) {
	if l, comp, ok := strings.Cut(name, "/"); ok {
		layer, err := strconv.Atoi(l)
		if err != nil {
			return lm.Site{}, false
		}
		return lm.Site{Layer: layer, Component: lm.Component(comp)}, true
	}
	switch name {
	case "logits", "logits_last", "logits_head":
		return lm.Site{Layer: -1, Component: lm.Logits}, true
	}
	c := lm.Component(name)
	return lm.Site{Layer: -1, Component: c}, c.IsGlobal()
}

func TestParityWithTransformers(t *testing.T) {
	for _, ckpt := range fixtureCheckpoints {
		t.Run(ckpt, func(t *testing.T) {
			dir := filepath.Join("testdata", ckpt)
			m, err := LoadDir(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			ref, err := safetensors.Open(filepath.Join(dir, "reference.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Close()
			cases := readReference(t, ref)
			if len(cases) == 0 {
				t.Fatal("no cases in the reference file")
			}
			for cname, rc := range cases {
				t.Run(cname, func(t *testing.T) { checkCase(t, m, ref, rc) })
			}
		})
	}
}

func checkCase(t *testing.T, m *Model, ref *safetensors.File, rc *refCase) {
	// Our left padding must reproduce transformers' mask and position ids.
	b, err := m.NewBatch(rc.prompts(), rc.s)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rc.mask {
		if b.Mask[i] != float32(rc.mask[i]) || (rc.mask[i] != 0 && (int64(b.Positions[i]) != rc.pos[i] || int64(b.IDs[i]) != rc.ids[i])) {
			t.Fatalf("batch differs from transformers' at flat index %d: mask %v/%d pos %d/%d id %d/%d",
				i, b.Mask[i], rc.mask[i], b.Positions[i], rc.pos[i], b.IDs[i], rc.ids[i])
		}
	}
	var sites []lm.Site
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range rc.values {
			if !yield(k) {
				return
			}
		}
	})
	// refKeys[i] is the reference entry names[i] is compared with: its
	// own, or for mlp_post (which transformers' GPT-2 has no hook for, and
	// which is the down projection's input, mlp_activation's value for
	// GPT-2's plain MLP) the layer's mlp_activation.
	refKeys := slices.Clone(names)
	for _, n := range refKeys {
		s, ok := parseRefSite(n)
		if !ok {
			t.Fatalf("unknown reference site %q", n)
		}
		sites = append(sites, s)
	}
	for i, s := range sites[:len(refKeys)] {
		if s.Component == lm.MLPActivation {
			sites = append(sites, lm.Site{Layer: s.Layer, Component: lm.MLPPost})
			names = append(names, fmt.Sprintf("%d/%s", s.Layer, lm.MLPPost))
			refKeys = append(refKeys, refKeys[i])
		}
	}
	derived := derivedRefs(t, m, ref, rc)
	for _, d := range derived {
		sites = append(sites, d.site)
	}
	res, err := m.RunBatch(b, sites...)
	if err != nil {
		t.Fatal(err)
	}
	covered := map[lm.Component]bool{}
	for _, d := range derived {
		if err := compareSite(d.site.String(), res.Sites[d.site], d.want, d.shape, rc); err != nil {
			t.Error(err)
		}
		covered[d.site.Component] = true
	}
	for i, n := range names {
		want, wshape, err := ref.Float32(rc.values[refKeys[i]])
		if err != nil {
			t.Fatal(err)
		}
		got := res.Sites[sites[i]]
		if sites[i].Component == lm.Logits {
			got = res.Logits
		}
		if err := compareSite(n, got, want, wshape, rc); err != nil {
			t.Error(err)
		}
		covered[sites[i].Component] = true
	}
	for _, c := range append(slices.Clone(lm.LayerComponents), lm.GlobalComponents...) {
		if !covered[c] {
			t.Errorf("the reference has no values for component %s", c)
		}
	}
}

// derivedRef is a reference value computed (in float64) from the
// reference's own values, for sites transformers has no hook for.
type derivedRef struct {
	site  lm.Site
	want  []float32
	shape []int
}

// derivedRefs returns head_result at every layer (the reference's
// head_attention_value_output times the head's rows of c_proj) and
// ln_final_scale (sqrt(var+eps) of the last block's output).
func derivedRefs(t *testing.T, m *Model, ref *safetensors.File, rc *refCase) []derivedRef {
	t.Helper()
	c := m.Config()
	d, nh, hd := c.NEmbd, c.NHead, c.HeadDim()
	var out []derivedRef
	for l := range c.NLayer {
		z, zshape, err := ref.Float32(rc.values[fmt.Sprintf("%d/%s", l, lm.HeadAttentionValueOutput)])
		if err != nil {
			t.Fatal(err)
		}
		w, err := tensors.CopyFlatData[float32](m.Params()[pLayers+l*pPerLayer+pProjW]) // [d_in, d]
		if err != nil {
			t.Fatal(err)
		}
		b, s := zshape[0], zshape[2]
		want := make([]float32, b*nh*s*d)
		for i := range b * nh * s {
			h := (i / s) % nh
			for o := range d {
				var acc float64
				for e := range hd {
					acc += float64(z[i*hd+e]) * float64(w[(h*hd+e)*d+o])
				}
				want[i*d+o] = float32(acc)
			}
		}
		out = append(out, derivedRef{lm.Site{Layer: l, Component: lm.HeadResult}, want, []int{b, nh, s, d}})
	}
	x, xshape, err := ref.Float32(rc.values[fmt.Sprintf("%d/%s", c.NLayer-1, lm.BlockOutput)])
	if err != nil {
		t.Fatal(err)
	}
	rows := len(x) / d
	scale := make([]float32, rows)
	for r := range rows {
		var mean, v float64
		for _, f := range x[r*d : (r+1)*d] {
			mean += float64(f)
		}
		mean /= float64(d)
		for _, f := range x[r*d : (r+1)*d] {
			v += (float64(f) - mean) * (float64(f) - mean)
		}
		scale[r] = float32(math.Sqrt(v/float64(d) + c.LayerNormEpsilon))
	}
	out = append(out, derivedRef{lm.Site{Layer: -1, Component: lm.LNFinalScale}, scale, []int{xshape[0], xshape[1], 1}})
	return out
}

// compareSite compares got (govene's padded tensor) with want (the
// reference) at the positions that are not padding.
func compareSite(name string, gotT *tensors.Tensor, want []float32, wshape []int, rc *refCase) error {
	got, err := tensors.CopyFlatData[float32](gotT)
	if err != nil {
		return err
	}
	gshape := gotT.Shape().Dimensions
	switch {
	case strings.HasSuffix(name, "logits_last"): // [b,V]: the last position's logits
		v := gshape[2]
		sel := make([]float32, 0, rc.b*v)
		for i := range rc.b {
			sel = append(sel, got[(i*rc.s+rc.s-1)*v:(i*rc.s+rc.s)*v]...)
		}
		got, gshape = sel, []int{rc.b, v}
	case strings.HasSuffix(name, "logits_head"): // [b,s,k]: the first k vocabulary ids
		v, k := gshape[2], wshape[2]
		sel := make([]float32, 0, rc.b*rc.s*k)
		for r := range rc.b * rc.s {
			sel = append(sel, got[r*v:r*v+k]...)
		}
		got, gshape = sel, []int{rc.b, rc.s, k}
	}
	if !slices.Equal(gshape, wshape) {
		return fmt.Errorf("%s: shape %v, reference %v", name, gshape, wshape)
	}
	// Which axis is the query/sequence axis, and is there a key axis?
	seqAxis, keyAxis := 1, -1
	comp := name[strings.LastIndex(name, "/")+1:]
	if lm.Component(comp).IsHead() {
		seqAxis = 2
	}
	if comp == string(lm.AttentionScores) || comp == string(lm.AttentionWeight) {
		keyAxis = 3
	}
	if len(wshape) == 2 { // logits_last
		seqAxis = -1
	}
	scale := 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	tol := parityRTol*scale + parityATol
	strides := make([]int, len(wshape))
	st := 1
	for a := len(wshape) - 1; a >= 0; a-- {
		strides[a] = st
		st *= wshape[a]
	}
	worst, worstAt, n := 0.0, -1, 0
	for i := range want {
		bi := i / strides[0]
		if seqAxis >= 0 && rc.mask[bi*rc.s+(i/strides[seqAxis])%wshape[seqAxis]] == 0 {
			continue // a padded query position: not compared
		}
		if keyAxis >= 0 {
			k := (i / strides[keyAxis]) % wshape[keyAxis]
			q := (i / strides[seqAxis]) % wshape[seqAxis]
			if k > q || rc.mask[bi*rc.s+k] == 0 {
				if comp == string(lm.AttentionWeight) && got[i] != 0 {
					return fmt.Errorf("%s: masked attention weight at flat index %d is %g, want 0", name, i, got[i])
				}
				continue
			}
		}
		n++
		if d := math.Abs(float64(got[i] - want[i])); d > worst || math.IsNaN(d) {
			worst, worstAt = d, i
		}
	}
	if n == 0 {
		return fmt.Errorf("%s: nothing compared", name)
	}
	if worst > tol || math.IsNaN(worst) {
		return fmt.Errorf("%s: max |diff| %.3g at flat index %d (got %g, want %g) exceeds %.3g (scale %.3g)",
			name, worst, worstAt, got[worstAt], want[worstAt], tol, scale)
	}
	return nil
}

func TestFixturesPresent(t *testing.T) {
	for _, c := range fixtureCheckpoints {
		if _, err := os.Stat(filepath.Join("testdata", c, "reference.safetensors")); err != nil {
			t.Errorf("fixture missing: %v (run oracle/check_fixtures.sh)", err)
		}
	}
}
