package sae

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// hookNameFor returns TransformerLens' hook name for a govene site, as
// SAELens writes it in cfg.json: the inverse of HookSite (block_output at
// layer 4 is "blocks.4.hook_resid_post", embed "hook_embed"). A site
// HookSite does not map back to is an error naming the supported hooks.
func hookNameFor(site lm.Site) (string, error) {
	if site.Component == lm.Embed {
		return "hook_embed", nil
	}
	for name, c := range hookComponents {
		if c == site.Component && site.Layer >= 0 && !site.Component.IsGlobal() {
			return "blocks." + strconv.Itoa(site.Layer) + "." + name, nil
		}
	}
	return "", fmt.Errorf("sae: site %s has no TransformerLens hook name govene maps; supported hooks: %q", site, SupportedHooks)
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
