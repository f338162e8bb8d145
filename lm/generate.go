package lm

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// StepHooks splices code into decoding graphs: given the extra input nodes a
// Decoder was asked to pass and whether the graph is the prompt pass, it
// returns the hook for the forward pass and the values that graph returns
// besides the logits and the caches (the zero StepHook: none).
type StepHooks func(extra []*graph.Node, prompt bool) StepHook

// StepHook is what StepHooks splices into one decoding graph.
type StepHook struct {
	// Hook is the forward pass's hook (nil: none).
	Hook Hook
	// Outputs, when set, is called once the forward pass is built and
	// returns nodes the graph returns besides the logits and the caches
	// (what Hook saw, say; none may be nil); Generate returns their values
	// per pass in Generation.Outputs. Without it (or with no nodes) the
	// graph returns nothing more.
	Outputs func() []*graph.Node
}

// Decoder generates tokens with a KV cache: one compiled graph for the
// prompt pass and one for each single-token step, reused across calls with
// the same shapes.
type Decoder struct {
	Model Model
	// Hooks, when set, splices interventions into the decoding graphs.
	Hooks StepHooks
	// EOS is the end-of-text token, for Sampling.StopAtEOS.
	EOS int

	mu    sync.Mutex
	execs map[bool]*graph.Exec
}

// Generation is the output of Generate.
type Generation struct {
	Prompts *Batch
	// Tokens holds each example's generated ids.
	Tokens [][]int
	// Outputs holds, per forward pass, the values of StepHook.Outputs:
	// entry 0 is the prompt pass, entry j >= 1 the pass that fed the new
	// tokens Tokens[e][j-1] (MaxNewTokens entries: the last new token is
	// never fed). Examples that stopped at EOS are fed padding in later
	// passes. Nil when the graphs return no extra values.
	Outputs [][]*tensors.Tensor
}

// Generate continues each prompt. extra(step) returns the extra inputs for
// the hooks at a step (step -1 is the prompt pass); it may be nil when there
// are no hooks. onToken, when set, is called after each step with the new
// token of every example, for streaming. It returns an error for bad
// sampling settings, prompts that with the new tokens exceed the model's
// positions, and graph failures.
func (d *Decoder) Generate(prompts *Batch, s Sampling, extra func(step int) []any, onToken func(step int, ids []int)) (*Generation, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if s.MaxNewTokens == 0 {
		s.MaxNewTokens = 20
	}
	dims := d.Model.Dims()
	// Compared as a difference, so that a huge max_new_tokens cannot
	// overflow the sum.
	if s.MaxNewTokens > dims.Positions-prompts.Len {
		return nil, fmt.Errorf("lm: generate: %d prompt tokens + %d new tokens exceed the model's %d positions; valid max_new_tokens: [0, %d]", prompts.Len, s.MaxNewTokens, dims.Positions, max(0, dims.Positions-prompts.Len))
	}
	L := prompts.Len + s.MaxNewTokens
	b := prompts.Size
	// Cache slots: the padded prompt, then the new tokens.
	cacheMask := make([]float32, b*L)
	for e := range b {
		copy(cacheMask[e*L:e*L+prompts.Len], prompts.Mask[e*prompts.Len:(e+1)*prompts.Len])
	}
	cacheShape := shapes.Make(dtypes.Float32, b, dims.KVHeadCount(), L, dims.HeadDim)
	var caches []*tensors.Tensor
	for range 2 * dims.Layers {
		caches = append(caches, tensors.FromShape(cacheShape))
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x5eed))
	gen := &Generation{Prompts: prompts, Tokens: make([][]int, b)}
	done := make([]bool, b)
	ids, pos, start := prompts.IDs, prompts.Positions, 0
	n := prompts.Len
	nextPos := make([]int32, b)
	for e := range b {
		nextPos[e] = int32(prompts.Lengths[e])
	}
	for step := -1; step < s.MaxNewTokens-1; step++ {
		if step >= 0 {
			for e := range b {
				cacheMask[e*L+prompts.Len+step] = 1
			}
		}
		var ex []any
		if extra != nil {
			ex = extra(step)
		}
		logits, newCaches, values, err := d.step(step < 0, ids, pos, n, start, cacheMask, L, caches, ex)
		if err != nil {
			return nil, err
		}
		caches = newCaches
		if len(values) > 0 {
			gen.Outputs = append(gen.Outputs, values)
		}
		next := make([]int, b)
		v := len(logits) / b
		for e := range b {
			if done[e] {
				next[e] = d.Model.PadID()
				continue
			}
			next[e] = pick(logits[e*v:(e+1)*v], s, rng)
			gen.Tokens[e] = append(gen.Tokens[e], next[e])
			if s.StopAtEOS && next[e] == d.EOS {
				done[e] = true
			}
		}
		if onToken != nil {
			onToken(step+1, next)
		}
		ids, pos = make([]int32, b), make([]int32, b)
		for e := range b {
			ids[e], pos[e] = int32(next[e]), nextPos[e]
			nextPos[e]++
		}
		start, n = prompts.Len+step+1, 1
	}
	return gen, nil
}

// GenerateTokens left-pads prompts into one batch with r (see
// Runner.NewBatch) and continues them as Generate does, with no extra
// inputs. It returns the new tokens of each prompt, or NewBatch's or
// Generate's error.
func (d *Decoder) GenerateTokens(r *Runner, prompts []Prompt, s Sampling, onToken func(step int, ids []int)) ([][]int, error) {
	b, err := r.NewBatch(prompts, 0)
	if err != nil {
		return nil, err
	}
	g, err := d.Generate(b, s, nil, onToken)
	if err != nil {
		return nil, err
	}
	return g.Tokens, nil
}

// step runs one decoding graph and returns the last position's logits
// [b*vocab], the updated caches and the hooks' extra outputs.
func (d *Decoder) step(prompt bool, ids, pos []int32, n, start int, cacheMask []float32, L int, caches []*tensors.Tensor, extra []any) ([]float32, []*tensors.Tensor, []*tensors.Tensor, error) {
	exec, err := d.exec(prompt, len(extra))
	if err != nil {
		return nil, nil, nil, err
	}
	b := len(ids) / n
	mask := make([]float32, b*n)
	for i := range mask {
		mask[i] = 1
	}
	cache := cacheArgs{start: start, mask: cacheMask, size: b, slots: L, caches: caches}
	args := ForwardArgs{Params: d.Model.Params(), Batch: &Batch{Size: b, Len: n, IDs: ids, Mask: mask, Positions: pos},
		Extra: append(cache.list(), extra...)}.List()
	outs, err := d.call(exec, prompt, args)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("lm: generate: %w", err)
	}
	logits, err := tensors.CopyFlatData[float32](outs[0])
	if err != nil {
		return nil, nil, nil, err
	}
	for _, c := range caches {
		c.FinalizeAll()
	}
	nc := 2 * d.Model.Dims().Layers
	return logits, outs[1 : 1+nc], outs[1+nc:], nil
}

// call runs exec, returning a panic raised while its graph is built or
// run (a hook's, say) as an error; the executable is then dropped, since
// GoMLX's Exec would wait on that compilation forever, and the next call
// builds a new one.
func (d *Decoder) call(exec *graph.Exec, prompt bool, args []any) (outs []*tensors.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("graph: %v", r)
			d.mu.Lock()
			if d.execs[prompt] == exec {
				delete(d.execs, prompt)
			}
			d.mu.Unlock()
		}
	}()
	return exec.Call(args...)
}

func (d *Decoder) exec(prompt bool, nExtra int) (*graph.Exec, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.execs[prompt]; ok {
		return e, nil
	}
	if d.execs == nil {
		d.execs = map[bool]*graph.Exec{}
	}
	nParams := len(d.Model.Params())
	layers := d.Model.Dims().Layers
	e, err := graph.NewExec(d.Model.Backend(), func(in []*graph.Node) []*graph.Node {
		fn := SplitForward(in, nParams)
		kv, hookExtra := readCache(fn.Extra, layers)
		var sh StepHook
		if d.Hooks != nil {
			sh = d.Hooks(hookExtra, prompt)
		}
		fn.Inputs.Cache, fn.Inputs.LastOnly = kv, true
		logits := d.Model.BuildForward(fn.Params, fn.Inputs, sh.Hook)
		dims := logits.Shape().Dimensions
		outs := []*graph.Node{graph.Reshape(logits, dims[0], dims[2])}
		outs = append(outs, kv.Keys...)
		outs = append(outs, kv.Values...)
		if sh.Outputs != nil {
			for i, o := range sh.Outputs() {
				if o == nil {
					// Raised while the graph is built: Generate reports it as an error.
					panic(fmt.Sprintf("lm: generate: extra output %d was never set (a site the model does not hook?)", i))
				}
				outs = append(outs, o)
			}
		}
		return outs
	})
	if err != nil {
		return nil, err
	}
	d.execs[prompt] = e
	return e, nil
}

// pick chooses the next token from logits.
func pick(logits []float32, s Sampling, rng *rand.Rand) int {
	if s.Temperature == 0 {
		return Argmax(logits)
	}
	scaled := make([]float32, len(logits))
	for i, v := range logits {
		scaled[i] = float32(float64(v) / s.Temperature)
	}
	probs := Softmax(scaled)
	// Tokens in order of probability, ties by id (a stable sort's order);
	// with TopK only the first TopK are ordered, in O(vocab log k).
	before := func(a, b int) bool { return probs[a] > probs[b] || (probs[a] == probs[b] && a < b) }
	var idx []int
	if s.TopK > 0 && s.TopK < len(probs) {
		idx = topIndices(len(probs), s.TopK, before)
	} else {
		idx = make([]int, len(probs))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return probs[idx[a]] > probs[idx[b]] })
	}
	keep := len(idx)
	if s.TopP > 0 && s.TopP < 1 {
		// Renormalize over the kept tokens, then keep the smallest prefix
		// reaching TopP (always at least one).
		total := 0.0
		for _, i := range idx[:keep] {
			total += float64(probs[i])
		}
		cum := 0.0
		for j, i := range idx[:keep] {
			cum += float64(probs[i]) / total
			if cum >= s.TopP {
				keep = j + 1
				break
			}
		}
	}
	total := 0.0
	for _, i := range idx[:keep] {
		total += float64(probs[i])
	}
	r := rng.Float64() * total
	for _, i := range idx[:keep] {
		r -= float64(probs[i])
		if r <= 0 {
			return i
		}
	}
	return idx[keep-1]
}

// topIndices returns the k of 0..n-1 that come first by before, in that
// order.
func topIndices(n, k int, before func(a, b int) bool) []int {
	top := make([]int, 0, k+1)
	for i := range n {
		if len(top) == k && !before(i, top[k-1]) {
			continue
		}
		j := sort.Search(len(top), func(j int) bool { return before(i, top[j]) })
		top = append(top, 0)
		copy(top[j+1:], top[j:])
		top[j] = i
		if len(top) > k {
			top = top[:k]
		}
	}
	return top
}

// cacheArgs are a decoding graph's KV cache arguments, which follow its
// batch (ForwardArgs.Extra) and precede the hooks' extra inputs: the slot
// of the first new token, the cache mask [size,slots], then every layer's
// keys and every layer's values.
type cacheArgs struct {
	start       int
	mask        []float32
	size, slots int
	caches      []*tensors.Tensor // keys of each layer, then values
}

// list returns the arguments in the order readCache reads them.
func (c cacheArgs) list() []any {
	args := make([]any, 0, 2+len(c.caches))
	args = append(args, tensors.FromScalar(int32(c.start)), tensors.FromFlatDataAndDimensions(c.mask, c.size, c.slots))
	for _, t := range c.caches {
		args = append(args, t)
	}
	return args
}

// readCache names the nodes of cacheArgs at the start of extra for a model
// of layers layers, returning the KV cache and the nodes after it (the
// hooks' inputs).
func readCache(extra []*graph.Node, layers int) (*KVCache, []*graph.Node) {
	kv := &KVCache{Start: extra[0], Mask: extra[1],
		Keys:   append([]*graph.Node(nil), extra[2:2+layers]...),
		Values: append([]*graph.Node(nil), extra[2+layers:2+2*layers]...)}
	return kv, extra[2+2*layers:]
}
