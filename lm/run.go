package lm

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// runExec is a compiled forward pass returning the logits and the values at
// a fixed list of sites.
type runExec struct {
	exec  *graph.Exec
	sites []Site
}

// Runner runs a Model's forward pass and returns the values at chosen sites,
// compiling one graph per set of sites (and per input shape) and reusing it.
// A batch is split across the model's devices (DevicesOf), each running its
// part, and put back together in the one-device layout. It is safe for
// concurrent use.
type Runner struct {
	Model Model
	// PadID is the token id placed in padded slots.
	PadID int
	// Buckets, when set (DefaultBuckets, say), pads every batch to the
	// smallest of these lengths that fits (capped at the model's positions),
	// so one compiled graph serves prompts of many lengths: worth it where
	// compiling is slow (XLA on a GPU). Results then carry the padded length
	// (Batch.Len). Off by default, so outputs have the prompts' own length
	// on every backend.
	Buckets []int

	mu    sync.Mutex
	execs map[string]*runExec
}

// NewRunner returns a Runner for m, padding with padID.
func NewRunner(m Model, padID int) *Runner {
	return &Runner{Model: m, PadID: padID, execs: map[string]*runExec{}}
}

// DefaultBuckets are the padded lengths used when compiling is slow.
var DefaultBuckets = []int{16, 32, 64, 128, 256, 512, 1024, 2048}

// SlowCompile reports whether a backend (by name) compiles slowly enough
// that batches should be padded to length buckets: XLA does, the pure-Go
// backend does not.
func SlowCompile(backendName string) bool {
	return strings.Contains(strings.ToLower(backendName), "xla")
}

// BucketLength returns the smallest bucket >= n, capped at limit; n itself
// when there are no buckets or none fits.
func BucketLength(n, limit int, buckets []int) int {
	for _, b := range buckets {
		if b >= n {
			return min(b, limit)
		}
	}
	return n
}

// Result holds one forward pass: the padded batch, the logits and the values
// at the requested sites, each as a tensor on the host with its padded batch
// layout (example i's token j at column Batch.Offset(i)+j).
type Result struct {
	Batch  *Batch
	Logits *tensors.Tensor // [b,s,vocab] float32
	Sites  map[Site]*tensors.Tensor
}

// Run runs prompts through the model, left-padded into one batch, and
// returns the logits and the values at sites (none: logits only). It returns
// an error for an empty prompt or one longer than the model takes, a token id
// outside the vocabulary, or an unknown site.
func (r *Runner) Run(prompts []Prompt, sites ...Site) (*Result, error) {
	b, err := r.NewBatch(prompts, 0)
	if err != nil {
		return nil, err
	}
	return r.RunBatch(b, sites...)
}

// NewBatch left-pads prompts to length (0: the longest prompt) with PadID,
// checking ids and lengths against the model.
func (r *Runner) NewBatch(prompts []Prompt, length int) (*Batch, error) {
	d := r.Model.Dims()
	for i, p := range prompts {
		if p.Len() > d.Positions {
			return nil, fmt.Errorf("lm: prompt %d has %d tokens; the model takes at most %d (n_positions)", i, p.Len(), d.Positions)
		}
	}
	if length > d.Positions {
		return nil, fmt.Errorf("lm: batch length %d exceeds the model's %d positions", length, d.Positions)
	}
	vocab := d.Vocab
	if d.InputVocab > 0 {
		vocab = d.InputVocab
	}
	if length == 0 && len(r.Buckets) > 0 {
		longest := 0
		for _, p := range prompts {
			longest = max(longest, p.Len())
		}
		length = BucketLength(longest, d.Positions, r.Buckets)
	}
	return NewBatch(prompts, length, r.PadID, vocab)
}

// RunBatch runs an already padded batch; see Run.
func (r *Runner) RunBatch(b *Batch, sites ...Site) (*Result, error) {
	dims := r.Model.Dims()
	for _, s := range sites {
		if err := dims.CheckSite(s); err != nil {
			return nil, err
		}
	}
	return r.run(b, sites, 0)
}

// RunSites runs prompts only as deep as the deepest of sites needs and
// returns their values without logits (Result.Logits is nil): a source run
// for interventions compiles and runs the blocks up to its sites, not the
// whole model and its unembedding. With a global site (embed, pos_embed,
// ln_final, logits) or no site it is Run. Errors are Run's.
func (r *Runner) RunSites(prompts []Prompt, sites ...Site) (*Result, error) {
	b, err := r.NewBatch(prompts, 0)
	if err != nil {
		return nil, err
	}
	dims := r.Model.Dims()
	end := 0
	for _, s := range sites {
		if err := dims.CheckSite(s); err != nil {
			return nil, err
		}
		if s.Component.IsGlobal() {
			return r.run(b, sites, 0)
		}
		end = max(end, s.Layer+1)
	}
	if end == 0 || end >= dims.Layers {
		return r.run(b, sites, 0)
	}
	res, err := r.run(b, sites, end)
	if err != nil {
		return nil, err
	}
	res.Logits = nil // the graph's first output is the residual after block end-1
	return res, nil
}

// run runs batch b through the blocks below end (0: the whole model, with
// the logits as the first output) and collects sites.
func (r *Runner) run(b *Batch, sites []Site, end int) (*Result, error) {
	re, err := r.runExec(sites, end)
	if err != nil {
		return nil, err
	}
	args, err := ForwardArgs{Params: r.Model.Params(), Batch: b}.Args()
	if err != nil {
		return nil, fmt.Errorf("lm: forward: %w", err)
	}
	// Every output (logits or residual, site values) is batch-first.
	outs, err := DevicesOf(r.Model).Call(re.exec, args, AllBatched)
	if err != nil {
		return nil, fmt.Errorf("lm: forward: %w", err)
	}
	res := &Result{Batch: b, Logits: outs[0], Sites: map[Site]*tensors.Tensor{}}
	for i, s := range re.sites {
		res.Sites[s] = outs[1+i]
	}
	return res, nil
}

// runExec returns the compiled forward pass for this set of sites through
// the blocks below end (0: all, with the logits), creating it on first use.
func (r *Runner) runExec(sites []Site, end int) (*runExec, error) {
	sites = slices.Clone(sites)
	slices.SortFunc(sites, func(a, b Site) int { return strings.Compare(a.String(), b.String()) })
	sites = slices.Compact(sites)
	var key strings.Builder
	for _, s := range sites {
		key.WriteString(s.String())
		key.WriteByte(';')
	}
	fmt.Fprintf(&key, "end=%d", end)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.execs == nil {
		r.execs = map[string]*runExec{}
	}
	if re, ok := r.execs[key.String()]; ok {
		return re, nil
	}
	nParams := len(r.Model.Params())
	want := map[Site]int{}
	for i, s := range sites {
		want[s] = i
	}
	exec, err := graph.NewExec(r.Model.Backend(), func(inputs []*graph.Node) []*graph.Node {
		outs := make([]*graph.Node, 1+len(sites))
		hook := func(s Site, x *graph.Node) *graph.Node {
			if i, ok := want[s]; ok {
				outs[1+i] = x
			}
			return x
		}
		fn := SplitForward(inputs, nParams)
		fn.Inputs.EndLayer = end
		outs[0] = r.Model.BuildForward(fn.Params, fn.Inputs, hook)
		return outs
	})
	if err != nil {
		return nil, fmt.Errorf("lm: compile forward: %w", err)
	}
	re := &runExec{exec: exec.WithName("lm.forward"), sites: sites}
	r.execs[key.String()] = re
	return re, nil
}

// Row returns example i's values of t (a [b,s,...] or [b,h,s,...] tensor from
// this result, head axis given by headAxis: true for head components),
// without the padding, as a flat slice with the shape [len_i, ...] or
// [h, len_i, ...].
func (r *Result) Row(t *tensors.Tensor, i int, perHead bool) ([]float32, []int, error) {
	if i < 0 || i >= r.Batch.Size {
		return nil, nil, fmt.Errorf("lm: example %d out of range [0, %d)", i, r.Batch.Size)
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

// NextTokenLogits returns the logits after example i's last token (the
// logits may cover every position or, from a LastOnly pass, the last one).
func (r *Result) NextTokenLogits(i int) ([]float32, error) {
	if i < 0 || i >= r.Batch.Size {
		return nil, fmt.Errorf("lm: example %d out of range [0, %d)", i, r.Batch.Size)
	}
	dims := r.Logits.Shape().Dimensions
	s, v := dims[1], dims[2] // s is 1 for logits of the last position only
	start := (i*s + s - 1) * v
	out := make([]float32, v)
	err := tensors.ConstFlatData(r.Logits, func(flat []float32) { copy(out, flat[start:start+v]) })
	return out, err
}

// AllSites returns every site of a model with dims d: each per-layer
// component at each layer, then the global ones, leaving out the
// components d.Absent lists.
func AllSites(d Dims) []Site {
	var sites []Site
	for l := range d.Layers {
		for _, c := range LayerComponents {
			if d.Has(c) {
				sites = append(sites, Site{Layer: l, Component: c})
			}
		}
	}
	for _, c := range GlobalComponents {
		if d.Has(c) {
			sites = append(sites, Site{Layer: -1, Component: c})
		}
	}
	return sites
}

// RunWithCache runs prompts once and keeps the value at every site
// (TransformerLens' run_with_cache).
func (r *Runner) RunWithCache(prompts []Prompt) (*Result, error) {
	return r.Run(prompts, AllSites(r.Model.Dims())...)
}
