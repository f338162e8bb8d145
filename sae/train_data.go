package sae

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// trainHookNames maps govene's components to TransformerLens' hook names (the
// part after "blocks.L.", or the whole name for a global site).
var trainHookNames = map[lm.Component]string{
	lm.BlockInput:           "hook_resid_pre",
	lm.ResidMid:             "hook_resid_mid",
	lm.BlockOutput:          "hook_resid_post",
	lm.AttentionOutput:      "hook_attn_out",
	lm.MLPOutput:            "hook_mlp_out",
	lm.AttentionValueOutput: "attn.hook_z",
	lm.MLPPost:              "mlp.hook_post",
	lm.Embed:                "hook_embed",
}

// hookNameFor returns TransformerLens' hook name for a govene site, as SAELens
// writes it in cfg.json: block_output at layer 4 is
// "blocks.4.hook_resid_post", block_input "hook_resid_pre", resid_mid
// "hook_resid_mid", attention_output "hook_attn_out", mlp_output
// "hook_mlp_out", attention_value_output "attn.hook_z", mlp_post
// "mlp.hook_post", embed "hook_embed". Other sites are an error naming the
// supported components.
func hookNameFor(site lm.Site) (string, error) {
	name, ok := trainHookNames[site.Component]
	if !ok {
		return "", fmt.Errorf("sae: site %s has no TransformerLens hook name govene maps; supported components: %s",
			site, trainHookComponents())
	}
	if site.Component.IsGlobal() {
		return name, nil
	}
	if site.Layer < 0 {
		return "", fmt.Errorf("sae: site %s: layer %d must not be negative", site, site.Layer)
	}
	return "blocks." + strconv.Itoa(site.Layer) + "." + name, nil
}

// trainHookComponents lists trainHookNames' components in a fixed order.
func trainHookComponents() []lm.Component {
	var cs []lm.Component
	for _, c := range append(append([]lm.Component{}, lm.LayerComponents...), lm.GlobalComponents...) {
		if _, ok := trainHookNames[c]; ok {
			cs = append(cs, c)
		}
	}
	return cs
}

// activations is a matrix of activations, one row per token.
type activations struct {
	rows, d int
	data    []float32 // [rows*d]
}

// row returns row i.
func (a *activations) row(i int) []float32 { return a.data[i*a.d : (i+1)*a.d] }

// collectActivations runs the prompts through m in batches of batchSize and
// keeps the value at site for every real (not padded) token, dropping each
// prompt's first token when skipFirst is set.
func collectActivations(m lm.Model, site lm.Site, prompts []lm.Prompt, batchSize int, skipFirst bool) (*activations, error) {
	r := lm.NewRunner(m, m.PadID())
	acts := &activations{}
	for s := 0; s < len(prompts); s += batchSize {
		chunk := prompts[s:min(s+batchSize, len(prompts))]
		res, err := r.RunSites(chunk, site)
		if err != nil {
			return nil, fmt.Errorf("sae: train: prompts %d-%d: %w", s, s+len(chunk)-1, err)
		}
		t, ok := res.Sites[site]
		if !ok {
			return nil, fmt.Errorf("sae: train: the forward pass returned no value at site %s", site)
		}
		dims := t.Shape().Dimensions
		if len(dims) != 3 {
			return nil, fmt.Errorf("sae: train: site %s has shape %v; want [batch, seq, d] (per-head sites are not supported)", site, dims)
		}
		v, err := tensors.CopyFlatData[float32](t)
		if err != nil {
			return nil, fmt.Errorf("sae: train: site %s: %w", site, err)
		}
		seq, d := dims[1], dims[2]
		acts.d = d
		b := res.Batch
		for i := range chunk {
			off := b.Offset(i)
			for j := range b.Lengths[i] {
				if skipFirst && j == 0 {
					continue
				}
				at := (i*seq + off + j) * d
				acts.data = append(acts.data, v[at:at+d]...)
				acts.rows++
			}
		}
	}
	if acts.rows == 0 {
		return nil, fmt.Errorf("sae: train: the prompts give no activations (%d prompts; skip_first_token drops each prompt's first token)", len(prompts))
	}
	for i, x := range acts.data {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("sae: train: activation %d of row %d at site %s is %g", i%acts.d, i/acts.d, site, x)
		}
	}
	return acts, nil
}

// meanNorm returns the mean L2 norm of the rows.
func (a *activations) meanNorm() float64 {
	total := 0.0
	for i := range a.rows {
		s := 0.0
		for _, x := range a.row(i) {
			s += float64(x) * float64(x)
		}
		total += math.Sqrt(s)
	}
	return total / float64(a.rows)
}

// sampler draws batches of rows in a shuffled order, reshuffling each time
// the rows run out (every batch has the same size, so one compiled step
// serves the whole run).
type sampler struct {
	acts  *activations
	scale float32
	rng   *rand.Rand
	order []int
	next  int
}

// newSampler returns a sampler over acts, multiplying every value by scale.
func newSampler(acts *activations, scale float32, seed uint64) *sampler {
	s := &sampler{acts: acts, scale: scale, rng: rand.New(rand.NewPCG(seed, 0x5ae)), order: make([]int, acts.rows)}
	for i := range s.order {
		s.order[i] = i
	}
	s.next = len(s.order)
	return s
}

// batch returns n rows as a [n, d] tensor.
func (s *sampler) batch(n int) *tensors.Tensor {
	d := s.acts.d
	out := make([]float32, 0, n*d)
	for range n {
		if s.next == len(s.order) {
			s.rng.Shuffle(len(s.order), func(a, b int) { s.order[a], s.order[b] = s.order[b], s.order[a] })
			s.next = 0
		}
		for _, x := range s.acts.row(s.order[s.next]) {
			out = append(out, x*s.scale)
		}
		s.next++
	}
	return tensors.FromFlatDataAndDimensions(out, n, d)
}
