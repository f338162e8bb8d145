package gpt2

import (
	"fmt"
	"slices"
	"strings"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// runExec is a compiled forward pass returning the logits and the values at
// a fixed list of sites.
type runExec struct {
	exec  *Exec
	sites []lm.Site
}

// Result holds one forward pass: the padded batch, the logits and the values
// at the requested sites, each as a tensor on the host with its padded batch
// layout (example i's token j at column Batch.Offset(i)+j).
type Result struct {
	Batch  *lm.Batch
	Logits *tensors.Tensor // [b,s,vocab] float32
	Sites  map[lm.Site]*tensors.Tensor
}

// Run runs prompts through the model, left-padded into one batch, and
// returns the logits and the values at sites (none: logits only). It returns
// an error for an empty or over-long prompt (more than n_positions tokens), a
// token id outside the vocabulary, or an unknown site.
func (m *Model) Run(prompts []lm.Prompt, sites ...lm.Site) (*Result, error) {
	b, err := m.NewBatch(prompts, 0)
	if err != nil {
		return nil, err
	}
	return m.RunBatch(b, sites...)
}

// NewBatch left-pads prompts to length (0: the longest prompt) with the
// end-of-text token, checking ids and lengths against the model.
func (m *Model) NewBatch(prompts []lm.Prompt, length int) (*lm.Batch, error) {
	for i, p := range prompts {
		if p.Len() > m.cfg.NPositions {
			return nil, fmt.Errorf("gpt2: prompt %d has %d tokens; the model takes at most n_positions=%d", i, p.Len(), m.cfg.NPositions)
		}
	}
	if length > m.cfg.NPositions {
		return nil, fmt.Errorf("gpt2: batch length %d exceeds n_positions=%d", length, m.cfg.NPositions)
	}
	b, err := lm.NewBatch(prompts, length, m.padID(), m.cfg.VocabSize)
	if err != nil {
		return nil, fmt.Errorf("gpt2: %w", err)
	}
	return b, nil
}

func (m *Model) padID() int {
	if m.cfg.EOSTokenID >= 0 && m.cfg.EOSTokenID < m.cfg.VocabSize {
		return m.cfg.EOSTokenID
	}
	return 0
}

// RunBatch runs an already padded batch; see Run.
func (m *Model) RunBatch(b *lm.Batch, sites ...lm.Site) (*Result, error) {
	dims := m.Dims()
	for _, s := range sites {
		if err := dims.CheckSite(s); err != nil {
			return nil, fmt.Errorf("gpt2: %w", err)
		}
	}
	re, err := m.runExec(sites)
	if err != nil {
		return nil, err
	}
	args := make([]any, 0, len(m.params)+3)
	for _, p := range m.params {
		args = append(args, p)
	}
	args = append(args,
		tensors.FromFlatDataAndDimensions(b.IDs, b.Size, b.Len),
		tensors.FromFlatDataAndDimensions(b.Mask, b.Size, b.Len),
		tensors.FromFlatDataAndDimensions(b.Positions, b.Size, b.Len))
	outs, err := re.exec.Exec(args...)
	if err != nil {
		return nil, fmt.Errorf("gpt2: forward: %w", err)
	}
	r := &Result{Batch: b, Logits: outs[0], Sites: map[lm.Site]*tensors.Tensor{}}
	for i, s := range re.sites {
		r.Sites[s] = outs[1+i]
	}
	return r, nil
}

// runExec returns the compiled forward pass for this set of sites, creating
// it on first use.
func (m *Model) runExec(sites []lm.Site) (*runExec, error) {
	sites = slices.Clone(sites)
	slices.SortFunc(sites, func(a, b lm.Site) int { return strings.Compare(a.String(), b.String()) })
	sites = slices.Compact(sites)
	var key strings.Builder
	for _, s := range sites {
		key.WriteString(s.String())
		key.WriteByte(';')
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if re, ok := m.execs[key.String()]; ok {
		return re, nil
	}
	nParams := len(m.params)
	want := map[lm.Site]int{}
	for i, s := range sites {
		want[s] = i
	}
	exec, err := NewExec(m.backend, func(inputs []*Node) []*Node {
		outs := make([]*Node, 1+len(sites))
		hook := func(s lm.Site, x *Node) *Node {
			if i, ok := want[s]; ok {
				outs[1+i] = x
			}
			return x
		}
		in := lm.Inputs{IDs: inputs[nParams], Mask: inputs[nParams+1], Positions: inputs[nParams+2]}
		outs[0] = m.cfg.buildForward(inputs[:nParams], in, hook)
		return outs
	})
	if err != nil {
		return nil, fmt.Errorf("gpt2: compile forward: %w", err)
	}
	re := &runExec{exec: exec.WithName("gpt2.forward"), sites: sites}
	m.execs[key.String()] = re
	return re, nil
}

// Row returns example i's values of t (a [b,s,...] or [b,h,s,...] tensor from
// this result, head axis given by headAxis: true for head components),
// without the padding, as a flat slice with the shape [len_i, ...] or
// [h, len_i, ...].
func (r *Result) Row(t *tensors.Tensor, i int, perHead bool) ([]float32, []int, error) {
	if i < 0 || i >= r.Batch.Size {
		return nil, nil, fmt.Errorf("gpt2: example %d out of range [0, %d)", i, r.Batch.Size)
	}
	flat, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return nil, nil, err
	}
	dims := t.Shape().Dimensions
	off, n := r.Batch.Offset(i), r.Batch.Lengths[i]
	seqAxis := 1
	if perHead {
		seqAxis = 2
	}
	outer := 1 // product of the axes between batch and seq
	for _, d := range dims[1:seqAxis] {
		outer *= d
	}
	inner := 1 // product of the axes after seq
	for _, d := range dims[seqAxis+1:] {
		inner *= d
	}
	s := dims[seqAxis]
	out := make([]float32, 0, outer*n*inner)
	base := i * outer * s * inner
	for o := range outer {
		start := base + (o*s+off)*inner
		out = append(out, flat[start:start+n*inner]...)
	}
	shape := append(append(slices.Clone(dims[1:seqAxis]), n), dims[seqAxis+1:]...)
	return out, shape, nil
}

// NextTokenLogits returns the logits after example i's last token.
func (r *Result) NextTokenLogits(i int) ([]float32, error) {
	if i < 0 || i >= r.Batch.Size {
		return nil, fmt.Errorf("gpt2: example %d out of range [0, %d)", i, r.Batch.Size)
	}
	v := r.Logits.Shape().Dimensions[2]
	start := (i*r.Batch.Len + r.Batch.Len - 1) * v
	out := make([]float32, v)
	err := tensors.ConstFlatData(r.Logits, func(flat []float32) { copy(out, flat[start:start+v]) })
	return out, err
}
