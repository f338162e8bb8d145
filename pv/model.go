// Package pv is govene's intervention API, after Stanford's pyvene: configure
// interventions at a model's hook sites, then run a base input with sources
// and locations, reading the intervened outputs and collected activations.
//
// Interventions are nodes spliced into the model's graph. Which positions or
// heads they act on, which subspace, and the source activations are runtime
// inputs, not graph constants, so changing them between calls of the same
// shapes reuses one compiled executable.
//
// Coming from pyvene: configs take pyvene's field names and class names
// (ParseType), unit_locations can be given as pyvene writes them
// (PyveneLocations), Generate places interventions as pyvene's generate and
// returns prompt plus new tokens, SourceRepresentation is pyvene's single
// source_representations tensor, and Weight/SetWeight take pyvene's weight
// names. Differences kept on purpose: sources are given per group with
// Sources (one base prompt) or SourceBatches (a batch); every example keeps
// its own locations (pyvene's fast path uses the first example's); weighted
// interventions act on each unit separately, not on the concatenation of
// max_number_of_units units; generation always uses a KV cache.
//
// # Adding an intervention type
//
// Each intervention type is one implementation of [Intervention], kept in
// one registry keyed by [Type]: its [Info] (name, pyvene class name, where
// its source comes from, trainable, temperature), its [Weight]s (shapes,
// trainable, orthonormal, initialisation), the width its subspaces index,
// its own config checks, and Apply, the graph function from base, source,
// subspace mask, weights and temperature to the new base units. To add
// one, implement the five methods on a type of your own and call
// [Register] (from an init function) before a config names it; configs,
// Train, Save and Load then handle it as a built-in (Load needs the type
// registered). Copy iv_basic.go for a type without weights, iv_rotated.go
// or iv_masks.go for a trainable one; ExampleRegister shows a learned gate
// trained with DAS, saved and loaded. A stateless [Func] needs no
// registration: set RepresentationConfig.Intervention.
package pv

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// Func is an intervention written as a graph function: given the base's
// selected units and the source's (nil for interventions without a source),
// it returns the new units, in the shape of base. Units are [b,k,w] for
// "pos", [b,k,s,w] for "h", [b,kh,kp,w] for "h.pos", or the whole site.
// Like Intervention.Apply, it must compute each example (the first axis)
// on its own.
type Func func(base, source *graph.Node) *graph.Node

// Model is an intervenable model: a language model and a validated Config.
// It is safe for concurrent use.
type Model struct {
	model  lm.Model
	cfg    Config
	keys   []string
	group  []int // representation -> source group
	groups int
	runner *lm.Runner
	// devices are the model's devices (lm.DevicesOf): a forward call's
	// batch is split across them.
	devices *lm.Devices

	mu    sync.Mutex
	execs map[string]*graph.Exec
	// precompiled holds the executables and input shapes precompile has
	// handled, so that it builds and compiles each at most once.
	precompiled sync.Map
	decoders    map[string]*lm.Decoder
	stages      []*Model // serial mode: one parallel model per group

	wmu      sync.RWMutex
	weights  [][]*tensors.Tensor // per representation; nil for unweighted and linked ones
	temps    []float64
	kinds    []Intervention // per representation, resolved from the registry by New
	infos    []Info         // kinds[i].Info()
	specs    [][]weightSpec // per representation (linked ones too): its kind's weights
	members  [][]int        // serial mode: the representations of each group
	compiles atomic.Int64
}

// New returns an intervenable model for m with cfg's interventions. It
// returns cfg's validation errors (each naming the representation, field and
// valid choices).
func New(m lm.Model, cfg Config) (*Model, error) {
	if m == nil {
		return nil, errors.New("pv: New: nil model")
	}
	if err := cfg.Validate(m.Dims()); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	iv := &Model{model: m, cfg: cfg, runner: lm.NewRunner(m, m.PadID()), devices: lm.DevicesOf(m), execs: map[string]*graph.Exec{}}
	for i, r := range cfg.Representations {
		iv.keys = append(iv.keys, cfg.Key(i))
		if r.Unit == Pos && (r.Component == lm.AttentionWeight || r.Component == lm.AttentionScores) {
			// As in pyvene, "pos" on an attention pattern [b,h,s,s] indexes its
			// second axis: heads. The key keeps "pos".
			iv.cfg.Representations[i].Unit = Head
		}
	}
	if err := iv.initWeights(1); err != nil {
		return nil, err
	}
	// Groups: by group_key when any is set (in sorted key order), else one per
	// representation.
	iv.group = make([]int, len(cfg.Representations))
	var gkeys []int
	for _, r := range cfg.Representations {
		if r.GroupKey != nil && !slices.Contains(gkeys, *r.GroupKey) {
			gkeys = append(gkeys, *r.GroupKey)
		}
	}
	if len(gkeys) > 0 {
		sort.Ints(gkeys)
		for i, r := range cfg.Representations { // Validate made sure every one has a key
			iv.group[i] = slices.Index(gkeys, *r.GroupKey)
		}
		iv.groups = len(gkeys)
	} else {
		for i := range iv.group {
			iv.group[i] = i
		}
		iv.groups = len(cfg.Representations)
	}
	if cfg.Mode == Serial {
		if err := iv.buildStages(); err != nil {
			return nil, err
		}
	}
	return iv, nil
}

// Keys returns the intervention keys, in config order.
func (iv *Model) Keys() []string { return slices.Clone(iv.keys) }

// Config returns the config with defaults filled in.
// The copy shares nothing with the Model: changing it changes nothing.
func (iv *Model) Config() Config { return iv.cfg.clone() }

// Compiles returns how many times a forward graph was built and compiled.
func (iv *Model) Compiles() int64 { return iv.compiles.Load() }

// Output is the result of Forward.
type Output struct {
	// Base is the padded base batch (example i's token j at column
	// Base.Offset(i)+j).
	Base *lm.Batch
	// Original holds the logits without interventions [b,s,vocab]; nil
	// unless WithOriginal was given.
	Original *tensors.Tensor
	// Logits holds the intervened logits [b,s,vocab].
	Logits *tensors.Tensor
	// Collected holds, by intervention key, what Collect interventions read:
	// [b,k,w] for "pos", [b,k,s,w] for "h", [b,kh,kp,w] for "h.pos", the
	// whole site without locations.
	Collected map[string]*tensors.Tensor
	// Sites holds, for sites asked with CaptureSites, their values in the
	// intervened run (after the interventions at that site).
	Sites map[lm.Site]*tensors.Tensor
}

// Result returns the intervened run as an lm.Result (logits and captured
// sites), for example to feed it as a source cache.
func (o *Output) Result() *lm.Result {
	return &lm.Result{Batch: o.Base, Logits: o.Logits, Sites: o.Sites}
}

// NextTokenProbs returns example i's next-token probabilities after its last
// token, intervened or (when original is true and WithOriginal was given)
// not.
func (o *Output) NextTokenProbs(i int, original bool) ([]float32, error) {
	if o == nil || o.Base == nil || o.Logits == nil {
		return nil, errors.New("pv: next-token probabilities: empty output; use the Output of Forward")
	}
	r := &lm.Result{Batch: o.Base, Logits: o.Logits}
	if original {
		if o.Original == nil {
			return nil, errors.New("pv: no original output; pass pv.WithOriginal()")
		}
		r.Logits = o.Original
	}
	l, err := r.NextTokenLogits(i)
	if err != nil {
		return nil, err
	}
	return lm.Softmax(l), nil
}

// logitsOf returns the intervened or (original, with WithOriginal) logits
// as an lm.Result.
func (o *Output) logitsOf(original bool) (*lm.Result, error) {
	r := &lm.Result{Batch: o.Base, Logits: o.Logits}
	if original {
		if o.Original == nil {
			return nil, errors.New("pv: no original output; pass pv.WithOriginal()")
		}
		r.Logits = o.Original
	}
	if r.Logits == nil || r.Batch == nil {
		return nil, errors.New("pv: output holds no logits")
	}
	return r, nil
}

// TokenLogits returns example i's logits, one row of vocabulary size per
// token of its prompt (padding left out; one row, the last token's, after
// LastLogitsOnly): intervened, or without interventions when original is
// true (needs WithOriginal). It returns an error for i out of range or a
// missing original.
func (o *Output) TokenLogits(i int, original bool) ([][]float32, error) {
	r, err := o.logitsOf(original)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= r.Batch.Size {
		return nil, fmt.Errorf("pv: logits: example %d out of range [0, %d)", i, r.Batch.Size)
	}
	dims := r.Logits.Shape().Dimensions
	s, v := dims[1], dims[2]
	first, n := s-r.Batch.Lengths[i], r.Batch.Lengths[i]
	if s == 1 { // LastLogitsOnly
		first, n = 0, 1
	}
	rows := make([][]float32, n)
	err = tensors.ConstFlatData(r.Logits, func(flat []float32) {
		for j := range rows {
			start := (i*s + first + j) * v
			rows[j] = slices.Clone(flat[start : start+v])
		}
	})
	return rows, err
}

// LastLogits returns example i's logits after its last token (the
// next-token prediction): intervened, or without interventions when
// original is true (needs WithOriginal). It returns an error for i out of
// range or a missing original.
func (o *Output) LastLogits(i int, original bool) ([]float32, error) {
	r, err := o.logitsOf(original)
	if err != nil {
		return nil, err
	}
	return r.NextTokenLogits(i)
}

// CollectedValues returns what the Collect intervention with key key read,
// as a flat slice with its shape (see Collected). An unknown key is an
// error listing the keys that collected.
func (o *Output) CollectedValues(key string) ([]float32, []int, error) {
	t, ok := o.Collected[key]
	if !ok {
		keys := slices.Sorted(maps.Keys(o.Collected))
		return nil, nil, fmt.Errorf("pv: collected: no value for key %q; collected keys: %q", key, keys)
	}
	v, err := tensors.CopyFlatData[float32](t)
	return v, t.Shape().Dimensions, err
}

// SiteValues returns the intervened run's values at site s (asked with
// CaptureSites) as a flat slice with its shape ([b,s,w], or [b,h,s,w] for
// head components, padded as Base). A site not captured is an error.
func (o *Output) SiteValues(s lm.Site) ([]float32, []int, error) {
	t, ok := o.Sites[s]
	if !ok {
		return nil, nil, fmt.Errorf("pv: site %s was not captured; ask for it with pv.CaptureSites", s)
	}
	v, err := tensors.CopyFlatData[float32](t)
	return v, t.Shape().Dimensions, err
}

// plan is the fixed structure of one intervention in a call: it decides the
// graph's inputs, so calls with equal plans and shapes share an executable.
type plan struct {
	whole     bool // no locations: the whole site
	hasSource bool // a source-values input
	skip      bool // no source given (pyvene's None): the intervention does nothing
	maskArg   int  // the index of its subspace mask among the extra inputs
	off       bool // not spliced into the graph, and without inputs (generation steps that only read values)
}

func shapeOf(dims []int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }

// Forward runs the base prompts (one batch, left-padded) with the
// interventions, and returns the intervened logits, the original ones when
// asked, and collected activations. Positions in locations count from each
// prompt's first token, not from the padding. It returns an error, never a
// wrong result, for too many or too few sources, empty source prompts (use
// SkipGroups for pyvene's None source), locations past a prompt, heads out
// of range, duplicate units, batch-size mismatches, nil source caches,
// source values of the wrong shape, NaN or infinite source values, unknown
// intervention keys and unknown capture sites. The batch is split across
// the model's devices (lm.DevicesOf; models.Options.Devices), each running
// a contiguous part of it, and the result is the one one device gives.
func (iv *Model) Forward(base []lm.Prompt, opts ...Option) (*Output, error) {
	c := &call{noiseSeed: 1}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if err := iv.checkCapture(c); err != nil {
		return nil, err
	}
	if err := iv.resolveSourceReps(c); err != nil {
		return nil, err
	}
	if iv.stages != nil {
		return iv.forwardSerial(base, c)
	}
	compiled := iv.precompile(base, c)
	bb, inputs, plans, err := iv.setup(base, c)
	<-compiled
	if err != nil {
		return nil, err
	}
	exec, err := iv.exec(plans, c.capture, c.lastOnly)
	if err != nil {
		return nil, err
	}
	outs, err := iv.run(exec, bb, inputs)
	if err != nil {
		// A panic while the graph was built leaves GoMLX's Exec waiting on
		// that compilation forever: the next call builds a new one.
		iv.dropExec(exec)
		return nil, fmt.Errorf("pv: forward: %w", err)
	}
	out := &Output{Base: bb, Logits: outs[0], Collected: map[string]*tensors.Tensor{}}
	k := 1
	for i, info := range iv.infos {
		if info.Collects {
			out.Collected[iv.keys[i]] = outs[k]
			k++
		}
	}
	if len(c.capture) > 0 {
		out.Sites = map[lm.Site]*tensors.Tensor{}
		for j, s := range c.capture {
			out.Sites[s] = outs[k+j]
		}
	}
	if c.original {
		if out.Original, err = iv.original(exec, bb, inputs, plans, c.lastOnly); err != nil {
			return nil, fmt.Errorf("pv: original: %w", err)
		}
	}
	return out, nil
}

// checkCapture checks the call's capture sites against the model and
// leaves each once, global ones with layer -1 (as they are hooked and
// keyed); an error names a site the model does not have.
func (iv *Model) checkCapture(c *call) error {
	var capture []lm.Site
	for _, s := range c.capture {
		if err := iv.model.Dims().CheckSite(s); err != nil {
			return fmt.Errorf("pv: capture: %w", err)
		}
		if s.Component.IsGlobal() {
			s.Layer = -1 // global sites are hooked (and keyed) with layer -1, as lm.ParseSite gives them
		}
		if !slices.Contains(capture, s) {
			capture = append(capture, s)
		}
	}
	c.capture = capture
	return nil
}

// precompile starts compiling the call's executable in the background when
// the call runs sources, so that it compiles while the source runs compile
// and run; the returned channel is closed when that compilation ended (at
// once when none started). It builds the graph in the foreground first, from
// the shapes of the call's inputs: GoMLX's Exec never finishes a
// compilation whose graph building panicked, so only a graph known to build
// is compiled in the background. Every error is left to the call itself.
func (iv *Model) precompile(base []lm.Prompt, c *call) <-chan struct{} {
	done := make(chan struct{})
	if len(c.sources) == 0 || len(c.caches) > 0 {
		close(done)
		return done
	}
	dry := *c
	dry.dry = true
	bb, inputs, plans, err := iv.setup(base, &dry)
	if err != nil {
		close(done)
		return done
	}
	exec, err := iv.exec(plans, dry.capture, dry.lastOnly)
	if err != nil {
		close(done)
		return done
	}
	args, err := iv.forwardArgs(bb, inputs)
	if err != nil {
		close(done)
		return done
	}
	// The shapes each device's part of the batch has.
	argShapes := partShapes(iv.devices, args)
	// Once per executable and shapes: later calls find it compiled (or
	// compile it themselves, when it did not build).
	if _, seen := iv.precompiled.LoadOrStore(fmt.Sprintf("%p %v", exec, argShapes), true); seen {
		close(done)
		return done
	}
	if !iv.builtIn() && !iv.builds(plans, dry.capture, dry.lastOnly, argShapes) {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		defer func() {
			if recover() != nil {
				// GoMLX's Exec never finishes this compilation: drop it, so
				// that the call builds a new one (and reports the panic).
				iv.dropExec(exec)
			}
		}()
		_, _ = exec.Compile(argShapes...)
	}()
	return done
}

// dropExec removes e from the compiled executables.
func (iv *Model) dropExec(e *graph.Exec) {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	maps.DeleteFunc(iv.execs, func(_ string, x *graph.Exec) bool { return x == e })
}

// builtIn reports whether every intervention is a built-in kind, whose
// graphs build for any inputs that passed the call's checks (a user's kind
// or Go function might panic while its graph is built).
func (iv *Model) builtIn() bool {
	for i, r := range iv.cfg.Representations {
		if r.Intervention != nil || !slices.Contains(Types, iv.infos[i].Type) {
			return false
		}
	}
	return true
}

// builds reports whether the graph of plans builds for inputs of these
// shapes without panicking, in a throwaway graph that is never compiled.
func (iv *Model) builds(plans []plan, capture []lm.Site, lastOnly bool, argShapes []shapes.Shape) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	g := graph.NewGraph(iv.model.Backend(), "pv.check")
	defer g.Finalize()
	in := make([]*graph.Node, len(argShapes))
	for i, s := range argShapes {
		in[i] = graph.Parameter(g, fmt.Sprintf("in%d", i), s)
	}
	fn := lm.SplitForward(in, len(iv.model.Params()))
	fn.Inputs.LastOnly = lastOnly
	iv.buildGraph(plans, capture, fn.Params, fn.Inputs, fn.Extra)
	return true
}

// maskedKinds are the built-in kinds that change a unit only through its
// subspace mask (Interchange): with every mask zero they return the base
// exactly (base + 0·(x - base)).
var maskedKinds = []Type{Vanilla, Addition, Subtraction, Zero, Collect, Noise, Skip}

// original returns the logits without interventions. When every
// intervention is a masked built-in kind, it runs the call's own
// executable again with every subspace mask zero, which gives the base's
// values exactly and compiles nothing more (a notebook's first patched
// forward then compiles one graph, not two); otherwise, and for
// last-position logits, it runs the plain model.
func (iv *Model) original(exec *graph.Exec, bb *lm.Batch, inputs []any, plans []plan, lastOnly bool) (*tensors.Tensor, error) {
	masked := !lastOnly
	for i := range plans {
		masked = masked && iv.cfg.Representations[i].Intervention == nil && slices.Contains(maskedKinds, iv.infos[i].Type)
	}
	if !masked {
		res, err := iv.runner.RunBatch(bb)
		if err != nil {
			return nil, err
		}
		return res.Logits, nil
	}
	zeroed := slices.Clone(inputs)
	for _, p := range plans {
		zeroed[p.maskArg] = tensors.FromShape(zeroed[p.maskArg].(*tensors.Tensor).Shape())
	}
	outs, err := iv.run(exec, bb, zeroed)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// setup pads the base, normalizes the call's locations and subspaces and
// builds the interventions' runtime inputs.
func (iv *Model) setup(base []lm.Prompt, c *call) (*lm.Batch, []any, []plan, error) {
	bb, err := iv.runner.NewBatch(base, 0)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pv: base: %w", err)
	}
	n, b := len(iv.cfg.Representations), bb.Size
	if c.pyveneSerial != nil {
		return nil, nil, nil, fmt.Errorf("pv: unit_locations: serial keys given, but the config's mode is %q", iv.cfg.Mode)
	}
	if c.pyvene != nil {
		if err := iv.resolvePyvene(c); err != nil {
			return nil, nil, nil, err
		}
	}
	if err := c.broadcastAll(n, b, true); err != nil {
		return nil, nil, nil, err
	}
	inputs, plans, err := iv.prepare(c, bb)
	if err != nil {
		return nil, nil, nil, err
	}
	return bb, inputs, plans, nil
}

// broadcastAll expands the call's locations (when given; with heads, the
// heads of "h.pos" units too) and subspaces to n interventions and b
// examples (broadcast), returning the first error, which names the argument.
func (c *call) broadcastAll(n, b int, heads bool) error {
	norm := []struct {
		what string
		p    *[][][]int
		use  bool
	}{
		{"source locations", &c.srcLocs, c.haveLocs}, {"base locations", &c.baseLocs, c.haveLocs},
		{"source heads", &c.srcHeads, c.haveLocs && heads}, {"base heads", &c.baseHeads, c.haveLocs && heads},
		{"subspaces", &c.subspaces, true},
	}
	for _, x := range norm {
		if !x.use {
			continue
		}
		var err error
		if *x.p, err = broadcast(x.what, *x.p, n, b); err != nil {
			return err
		}
	}
	return nil
}

// sourceSite is the site representation i reads in the source run: its
// own, or for kinds reading FromModuleInput (Skip) the input of the module
// whose output it replaces.
func (iv *Model) sourceSite(i int) lm.Site {
	r := iv.cfg.Representations[i]
	if iv.infos[i].Source == FromModuleInput {
		return lm.Site{Layer: r.Layer, Component: moduleInputs[r.Component]}
	}
	return lm.Site{Layer: r.Layer, Component: r.Component}
}

// moduleInputs maps the components whose module has an input site (where
// FromModuleInput kinds read) to that input.
var moduleInputs = map[lm.Component]lm.Component{
	lm.BlockOutput: lm.BlockInput,
	lm.MLPOutput:   lm.MLPInput,
	lm.QueryOutput: lm.AttentionInput,
	lm.KeyOutput:   lm.AttentionInput,
	lm.ValueOutput: lm.AttentionInput,
}

// sourceless reports whether representation i takes no source run: its
// kind takes noise or nothing, or it has a constant source.
func (iv *Model) sourceless(i int) bool {
	switch iv.infos[i].Source {
	case FromNoise, NoSource:
		return true
	}
	return iv.cfg.Representations[i].SourceRepresentation != nil
}

// unitsOf returns the unit axis size of r's site: positions s, or heads.
func unitWidth(d lm.Dims, r RepresentationConfig, seq int) int {
	if w := d.Width(r.Component); w > 0 {
		return w
	}
	return seq // attention weights and scores: one value per key position
}

// prepare validates the call's locations against the batch and builds each
// intervention's runtime inputs, in the order buildGraph reads them.
func (iv *Model) prepare(c *call, bb *lm.Batch) ([]any, []plan, error) {
	d := iv.model.Dims()
	n, b := len(iv.cfg.Representations), bb.Size
	// Sources per group.
	for _, g := range c.skipGroups {
		if g < 0 || g >= iv.groups {
			return nil, nil, fmt.Errorf("pv: skip groups: group %d out of range [0, %d)", g, iv.groups)
		}
	}
	needSource := false
	for i := range iv.cfg.Representations {
		if c.collectOnly && !iv.infos[i].Collects {
			continue
		}
		_, fed := c.srcReps[iv.keys[i]]
		needSource = needSource || (!iv.sourceless(i) && !fed && !slices.Contains(c.skipGroups, iv.group[i]))
	}
	srcGroups := c.sources
	if len(c.caches) > 0 {
		if len(c.caches) != 1 && len(c.caches) != iv.groups {
			return nil, nil, fmt.Errorf("pv: source caches: %d given, the config has %d source groups (give one per group, or one for all)", len(c.caches), iv.groups)
		}
		srcGroups = make([][]lm.Prompt, iv.groups) // unused: caches stand in for runs
	}
	if needSource && len(c.caches) == 0 {
		switch {
		case len(srcGroups) == 1 && iv.groups > 1:
			srcGroups = repeat(srcGroups[0], iv.groups)
		case len(srcGroups) != iv.groups:
			return nil, nil, fmt.Errorf("pv: sources: %d given, the config has %d source groups (give one per group, or one for all)%s", len(srcGroups), iv.groups, batchHint(srcGroups, b))
		}
	}
	var inputs []any
	plans := make([]plan, n)
	srcResults := map[int]*lm.Result{}
	for i, r := range iv.cfg.Representations {
		if c.collectOnly && !iv.infos[i].Collects {
			plans[i] = plan{off: true}
			continue
		}
		whole := !c.haveLocs || c.baseLocs == nil || c.baseLocs[i] == nil
		p := plan{whole: whole}
		fed, isFed := c.srcReps[iv.keys[i]]
		var baseUnits, baseHeads [][]int
		if !whole {
			baseUnits = c.baseLocs[i]
			if r.Unit == HeadPos {
				if c.baseHeads == nil {
					return nil, nil, fmt.Errorf("pv: %s: unit h.pos needs heads and positions; use pv.HeadPositions", iv.keys[i])
				}
				baseHeads = c.baseHeads[i]
				if baseHeads == nil {
					return nil, nil, fmt.Errorf("pv: %s: unit h.pos needs base heads for this intervention; HeadPositions gave none", iv.keys[i])
				}
			}
			if err := iv.checkUnits(i, "base", r, bb, baseUnits, baseHeads); err != nil {
				return nil, nil, err
			}
			if err := iv.checkMaxUnits(i, r, baseUnits, baseHeads); err != nil {
				return nil, nil, err
			}
		}
		// Index inputs.
		if !whole {
			switch r.Unit {
			case Pos:
				inputs = append(inputs, indexTensor(baseUnits, func(e, u int) int { return bb.Offset(e) + u }))
			case Head:
				inputs = append(inputs, indexTensor(baseUnits, func(_, u int) int { return u }))
			case HeadPos:
				inputs = append(inputs, indexTensor(baseHeads, func(_, u int) int { return u }),
					indexTensor(baseUnits, func(e, u int) int { return bb.Offset(e) + u }))
			}
		}
		// The unit shape [b, k..., w] of this intervention.
		w := unitWidth(d, r, bb.Len)
		var shape []int
		switch {
		case whole && r.Component.IsHead():
			shape = []int{b, headCount(d, r.Component), bb.Len, w}
		case whole:
			shape = []int{b, bb.Len, w}
		case r.Unit == Pos:
			shape = []int{b, len(baseUnits[0]), w}
		case r.Unit == Head:
			shape = []int{b, len(baseUnits[0]), bb.Len, w}
		case r.Unit == HeadPos:
			shape = []int{b, len(baseHeads[0]), len(baseUnits[0]), w}
		}
		size := 1
		for _, x := range shape {
			size *= x
		}
		// Source values.
		switch {
		case iv.infos[i].Source == FromNoise:
			rng := rand.New(rand.NewPCG(c.noiseSeed, uint64(i)))
			vals := make([]float32, size)
			for j := range vals {
				vals[j] = float32(rng.NormFloat64())
			}
			inputs = append(inputs, tensors.FromFlatDataAndDimensions(vals, shape...))
			p.hasSource = true
		case iv.infos[i].Source == NoSource:
		case isFed || r.SourceRepresentation != nil:
			vals, err := constantSource(iv.keys[i], fed, r.SourceRepresentation, size, w)
			if err != nil {
				return nil, nil, err
			}
			inputs = append(inputs, tensors.FromFlatDataAndDimensions(vals, shape...))
			p.hasSource = true
		case slices.Contains(c.skipGroups, iv.group[i]):
			// pyvene's None source (SkipGroups): this intervention does nothing.
			inputs = append(inputs, tensors.FromShape(shapeOf(shape)))
			p.hasSource, p.skip = true, true
		case c.dry:
			// Shapes only (precompile): no source run.
			inputs = append(inputs, tensors.FromShape(shapeOf(shape)))
			p.hasSource = true
		default:
			g := iv.group[i]
			res, ok := srcResults[g]
			if !ok && len(c.caches) > 0 {
				res = c.caches[min(g, len(c.caches)-1)]
				if _, has := res.Sites[iv.sourceSite(i)]; !has {
					return nil, nil, fmt.Errorf("pv: %s: the source cache has no value at %s; cache it with RunWithCache", iv.keys[i], iv.sourceSite(i))
				}
				if res.Batch.Size != b {
					return nil, nil, fmt.Errorf("pv: %s: the source cache holds %d examples, the base batch %d", iv.keys[i], res.Batch.Size, b)
				}
			} else if !ok {
				if len(srcGroups[g]) != b {
					return nil, nil, fmt.Errorf("pv: sources[%d]: %d prompts for a base batch of %d%s", g, len(srcGroups[g]), b, batchHint(srcGroups, b))
				}
				for e, p := range srcGroups[g] {
					if p.Len() == 0 {
						return nil, nil, fmt.Errorf("pv: sources[%d][%d]: empty prompt; give a source, or pv.SkipGroups(%d) for pyvene's None source", g, e, g)
					}
				}
				var err error
				if res, err = iv.runSources(srcGroups[g], g); err != nil {
					return nil, nil, err
				}
				srcResults[g] = res
			}
			vals, err := iv.gatherSource(c, i, r, res, iv.sourceSite(i), shape, bb)
			if err != nil {
				return nil, nil, err
			}
			inputs = append(inputs, tensors.FromFlatDataAndDimensions(vals, shape...))
			p.hasSource = true
		}
		// Subspace mask [b, w].
		mw := maskWidth(iv.kinds[i], r, w)
		mask, err := iv.subspaceMask(c, i, r, b, mw)
		if err != nil {
			return nil, nil, err
		}
		if p.skip {
			clear(mask)
		}
		p.maskArg = len(inputs)
		inputs = append(inputs, tensors.FromFlatDataAndDimensions(mask, b, mw))
		plans[i] = p
	}
	return inputs, plans, nil
}

// batchHint explains, when sources were given as groups of one prompt for a
// batch of several base prompts, that pv.Sources takes groups and
// pv.SourceBatches examples.
func batchHint(groups [][]lm.Prompt, b int) string {
	if b < 2 {
		return ""
	}
	for _, g := range groups {
		if len(g) != 1 {
			return ""
		}
	}
	return fmt.Sprintf("; pv.Sources(a, b, ...) gives one prompt per source group, for one base prompt: for a batch of %d base prompts with one source each, use pv.SourceBatches([]lm.Prompt{...%d source prompts})", b, b)
}

// runSources runs group g's source prompts, collecting every site the
// group's interventions read.
func (iv *Model) runSources(prompts []lm.Prompt, g int) (*lm.Result, error) {
	var sites []lm.Site
	for i := range iv.cfg.Representations {
		if iv.group[i] == g {
			sites = append(sites, iv.sourceSite(i))
		}
	}
	res, err := iv.runner.RunSites(prompts, sites...)
	if err != nil {
		return nil, fmt.Errorf("pv: sources[%d]: %w", g, err)
	}
	return res, nil
}

// checkUnits validates one side's units of intervention i.
func (iv *Model) checkUnits(i int, side string, r RepresentationConfig, bb *lm.Batch, units, heads [][]int) error {
	d := iv.model.Dims()
	key := iv.keys[i]
	if len(units) != bb.Size {
		return fmt.Errorf("pv: %s: %s locations for %d examples, the batch has %d", key, side, len(units), bb.Size)
	}
	for e, us := range units {
		if len(us) == 0 {
			return fmt.Errorf("pv: %s: %s example %d: no units", key, side, e)
		}
		if len(us) != len(units[0]) {
			return fmt.Errorf("pv: %s: %s example %d has %d units, example 0 has %d; every example needs the same number", key, side, e, len(us), len(units[0]))
		}
		limit, what := bb.Lengths[e], "position"
		if r.Unit == Head {
			limit, what = headCount(d, r.Component), "head"
		}
		for j, u := range us {
			if u < 0 || u >= limit {
				return fmt.Errorf("pv: %s: %s example %d: %s %d out of range [0, %d)", key, side, e, what, u, limit)
			}
			if slices.Contains(us[:j], u) {
				return fmt.Errorf("pv: %s: %s example %d: %s %d given twice", key, side, e, what, u)
			}
		}
		if heads != nil {
			if len(heads[e]) == 0 || len(heads[e]) != len(heads[0]) {
				return fmt.Errorf("pv: %s: %s example %d: heads %v: every example needs the same, non-zero number of heads", key, side, e, heads[e])
			}
			for j, h := range heads[e] {
				if n := headCount(d, r.Component); h < 0 || h >= n {
					return fmt.Errorf("pv: %s: %s example %d: head %d out of range [0, %d)", key, side, e, h, n)
				}
				if slices.Contains(heads[e][:j], h) {
					return fmt.Errorf("pv: %s: %s example %d: head %d given twice", key, side, e, h)
				}
			}
		}
	}
	return nil
}

// checkMaxUnits enforces max_number_of_units where pyvene does: weighted
// interventions (rotations, masks, PCA, autoencoders), whose weights pyvene
// sizes by width × max_number_of_units, so that any other number of units
// fails there. Other types take any number of units, as in pyvene (whose own
// tutorials patch four positions with the default of one).
func (iv *Model) checkMaxUnits(i int, r RepresentationConfig, units, heads [][]int) error {
	if !iv.weighted(i) || len(units) == 0 {
		return nil
	}
	k, what := len(units[0]), "positions"
	switch {
	case r.Unit == Head:
		what = "heads"
	case r.Unit == HeadPos && len(heads) > 0:
		k, what = len(heads[0]), "heads"
	}
	if k > r.MaxNumberOfUnits {
		return fmt.Errorf("pv: %s: %d units (%s) per example given, more than max_number_of_units %d; %s weights are sized by max_number_of_units (pyvene fails here too): set MaxNumberOfUnits to %d (govene applies the weights to each unit separately)", iv.keys[i], k, what, r.MaxNumberOfUnits, r.InterventionType, k)
	}
	return nil
}

// indexTensor turns [example][units] into an int32 [b,k] tensor, mapping each
// unit through f.
func indexTensor(units [][]int, f func(e, u int) int) *tensors.Tensor {
	b, k := len(units), len(units[0])
	flat := make([]int32, 0, b*k)
	for e, us := range units {
		for _, u := range us {
			flat = append(flat, int32(f(e, u)))
		}
	}
	return tensors.FromFlatDataAndDimensions(flat, b, k)
}

// constantSource builds source values from a fed representation or a
// constant one, broadcast over examples and units.
func constantSource(key string, fed [][]float32, constant []float32, size, w int) ([]float32, error) {
	if fed == nil {
		fed = [][]float32{constant}
	}
	var flat []float32
	for j, row := range fed {
		if w > 0 && len(row)%w != 0 {
			return nil, fmt.Errorf("pv: %s: source representation row %d has %d values, not a whole number of units of width %d", key, j, len(row), w)
		}
		flat = append(flat, row...)
	}
	if len(flat) == 0 || size%len(flat) != 0 {
		return nil, fmt.Errorf("pv: %s: source representation has %d values, which does not tile the %d the intervention needs (units of width %d)", key, len(flat), size, w)
	}
	out := make([]float32, size)
	for j := range out {
		out[j] = flat[j%len(flat)]
	}
	return out, nil
}

// gatherSource reads intervention i's source units from a source run.
func (iv *Model) gatherSource(c *call, i int, r RepresentationConfig, res *lm.Result, site lm.Site, shape []int, bb *lm.Batch) ([]float32, error) {
	key := iv.keys[i]
	t := res.Sites[site]
	flat, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return nil, err
	}
	sb := res.Batch
	dims := t.Shape().Dimensions
	if !c.haveLocs || c.baseLocs == nil || c.baseLocs[i] == nil { // whole site: shapes must agree
		if !slices.Equal(dims, shape) || !slices.Equal(sb.Lengths, bb.Lengths) {
			return nil, fmt.Errorf("pv: %s: intervening on the whole site needs sources of the same lengths as the base (source %v, base %v tokens)", key, sb.Lengths, bb.Lengths)
		}
		return flat, nil
	}
	if c.srcLocs == nil || c.srcLocs[i] == nil {
		return nil, fmt.Errorf("pv: %s: locations give only base units, but this %s intervention needs source units; use pv.At, pv.AtUnits or pv.Locations", key, r.InterventionType)
	}
	srcUnits := c.srcLocs[i]
	var srcHeads [][]int
	if r.Unit == HeadPos {
		if c.srcHeads == nil {
			return nil, fmt.Errorf("pv: %s: unit h.pos needs source heads; use pv.HeadPositions", key)
		}
		srcHeads = c.srcHeads[i]
		if srcHeads == nil {
			return nil, fmt.Errorf("pv: %s: unit h.pos needs source heads for this intervention; HeadPositions gave none", key)
		}
	}
	if err := iv.checkUnits(i, "source", r, sb, srcUnits, srcHeads); err != nil {
		return nil, err
	}
	if len(srcUnits[0]) != shape[1] && r.Unit != HeadPos || r.Unit == HeadPos && (len(srcHeads[0]) != shape[1] || len(srcUnits[0]) != shape[2]) {
		return nil, fmt.Errorf("pv: %s: source and base locations name different numbers of units", key)
	}
	w := shape[len(shape)-1]
	out := make([]float32, 0, len(flat))
	switch r.Unit {
	case Pos: // site [b,s,w]
		s := dims[1]
		for e := range shape[0] {
			for _, u := range srcUnits[e] {
				start := (e*s + sb.Offset(e) + u) * w
				out = append(out, flat[start:start+w]...)
			}
		}
	case Head: // site [b,h,s,w]: whole heads; the source's sequence must match the base's
		h, s := dims[1], dims[2]
		if s != bb.Len || sb.Lengths[0] != bb.Lengths[0] {
			return nil, fmt.Errorf("pv: %s: unit h moves whole heads, so sources need the base's lengths (source %v, base %v tokens)", key, sb.Lengths, bb.Lengths)
		}
		for e := range shape[0] {
			for _, hd := range srcUnits[e] {
				start := ((e*h + hd) * s) * w
				out = append(out, flat[start:start+s*w]...)
			}
		}
	case HeadPos: // site [b,h,s,w]
		h, s := dims[1], dims[2]
		for e := range shape[0] {
			for _, hd := range srcHeads[e] {
				for _, u := range srcUnits[e] {
					start := ((e*h+hd)*s + sb.Offset(e) + u) * w
					out = append(out, flat[start:start+w]...)
				}
			}
		}
	}
	return out, nil
}

// subspaceMask builds intervention i's [b,w] mask: 1 where it acts.
func (iv *Model) subspaceMask(c *call, i int, r RepresentationConfig, b, w int) ([]float32, error) {
	mask := make([]float32, b*w)
	if c.subspaces == nil || c.subspaces[i] == nil {
		for j := range mask {
			mask[j] = 1
		}
		return mask, nil
	}
	for e, subs := range c.subspaces[i] {
		var dims []int
		if r.SubspacePartition != nil {
			for _, p := range subs {
				if p < 0 || p >= len(r.SubspacePartition) {
					return nil, fmt.Errorf("pv: %s: subspace %d out of range: the partition has %d parts", iv.keys[i], p, len(r.SubspacePartition))
				}
				part := r.SubspacePartition[p]
				if len(part) == 2 {
					for x := part[0]; x < part[1]; x++ {
						dims = append(dims, x)
					}
				} else {
					dims = append(dims, part...)
				}
			}
		} else {
			dims = subs
		}
		for _, x := range dims {
			if x < 0 || x >= w {
				return nil, fmt.Errorf("pv: %s: example %d: subspace dimension %d out of range [0, %d)", iv.keys[i], e, x, w)
			}
			mask[e*w+x] = 1
		}
	}
	return mask, nil
}

// exec returns the compiled intervened forward pass for these plans.
func (iv *Model) exec(plans []plan, capture []lm.Site, lastOnly bool) (*graph.Exec, error) {
	var key strings.Builder
	for _, p := range plans {
		fmt.Fprintf(&key, "%v%v;", p.whole, p.hasSource)
	}
	fmt.Fprint(&key, capture, lastOnly)
	iv.mu.Lock()
	defer iv.mu.Unlock()
	if e, ok := iv.execs[key.String()]; ok {
		return e, nil
	}
	nParams := len(iv.model.Params())
	e, err := graph.NewExec(iv.model.Backend(), func(in []*graph.Node) []*graph.Node {
		iv.compiles.Add(1)
		fn := lm.SplitForward(in, nParams)
		fn.Inputs.LastOnly = lastOnly
		return iv.buildGraph(plans, capture, fn.Params, fn.Inputs, fn.Extra)
	})
	if err != nil {
		return nil, fmt.Errorf("pv: compile: %w", err)
	}
	e = e.WithName("pv.forward")
	iv.execs[key.String()] = e
	return e, nil
}

// buildGraph builds the model's forward pass with every intervention spliced
// in at its site, returning the logits and then what Collect interventions
// read. extra holds the interventions' runtime inputs in the order prepare
// makes them.
func (iv *Model) buildGraph(plans []plan, capture []lm.Site, params []*graph.Node, in lm.Inputs, extra []*graph.Node) []*graph.Node {
	hook, values := iv.valueHook(plans, capture, extra)
	outs := []*graph.Node{iv.model.BuildForward(params, in, hook)}
	return append(outs, values()...)
}

// valueHook returns the hook that splices the interventions of plans in
// (none for nil plans) and captures the sites capture, and a function
// that, once the forward pass is built, returns what the Collect
// interventions read (in key order, those of plans that are not off) and
// then the captured values.
func (iv *Model) valueHook(plans []plan, capture []lm.Site, extra []*graph.Node) (lm.Hook, func() []*graph.Node) {
	var hook lm.Hook
	var collected []*graph.Node
	if plans != nil {
		hook, collected = iv.hook(plans, extra)
	}
	captured := make([]*graph.Node, len(capture))
	if len(capture) > 0 {
		inner := hook
		hook = func(s lm.Site, x *graph.Node) *graph.Node {
			if inner != nil {
				x = inner(s, x)
			}
			if i := slices.Index(capture, s); i >= 0 {
				captured[i] = x
			}
			return x
		}
	}
	values := func() []*graph.Node {
		var outs []*graph.Node
		for i, info := range iv.infos {
			if info.Collects && plans != nil && !plans[i].off {
				outs = append(outs, collected[i])
			}
		}
		return append(outs, captured...)
	}
	return hook, values
}

// hook returns the lm.Hook that splices the interventions in, reading their
// runtime inputs from extra, and the slice where Collect interventions leave
// what they read (filled while the graph is built).
func (iv *Model) hook(plans []plan, extra []*graph.Node) (lm.Hook, []*graph.Node) {
	type spliced struct {
		i                  int
		idx, idx2, src, ms *graph.Node
	}
	bySite := map[lm.Site][]spliced{}
	k := 0
	next := func() *graph.Node { k++; return extra[k-1] }
	for i, r := range iv.cfg.Representations {
		if plans[i].off {
			continue // not spliced: no inputs
		}
		sp := spliced{i: i}
		if !plans[i].whole {
			sp.idx = next()
			if r.Unit == HeadPos {
				sp.idx2 = next()
			}
		}
		if plans[i].hasSource {
			sp.src = next()
		}
		sp.ms = next()
		site := lm.Site{Layer: r.Layer, Component: r.Component}
		bySite[site] = append(bySite[site], sp)
	}
	weightNodes, temps := iv.weightNodes(extra[k:])
	collected := make([]*graph.Node, len(iv.cfg.Representations))
	hot := map[int]*graph.Node{} // link key -> last intervened units
	hook := func(site lm.Site, x *graph.Node) *graph.Node {
		for _, sp := range bySite[site] {
			r := iv.cfg.Representations[sp.i]
			u := newUnits(x, r.Unit, sp.idx, sp.idx2)
			base := u.gather(x)
			cur := base
			if r.InterventionLinkKey != nil {
				if h, ok := hot[*r.InterventionLinkKey]; ok && slices.Equal(h.Shape().Dimensions, base.Shape().Dimensions) {
					base = h
				}
			}
			if iv.infos[sp.i].Collects {
				collected[sp.i] = base
				continue
			}
			// The subspace mask [b,mw] broadcast over units: the shape of
			// base, but as wide as the space the subspaces index.
			ms := sp.ms
			for ms.Rank() < base.Rank() {
				ms = graph.InsertAxes(ms, 1)
			}
			dims := slices.Clone(base.Shape().Dimensions)
			dims[len(dims)-1] = ms.Shape().Dimensions[ms.Rank()-1]
			final := iv.kinds[sp.i].Apply(Args{Config: r, Base: base, Source: sp.src, Mask: graph.BroadcastToDims(ms, dims...),
				Weights: iv.applyWeights(sp.i, weightNodes[sp.i]), Temperature: temps[sp.i]})
			if final == nil || !slices.Equal(final.Shape().Dimensions, base.Shape().Dimensions) {
				// Raised while the graph is built: Forward and Train report it as an error.
				panic(fmt.Sprintf("pv: %s: Apply of %q returned %v, want the base's shape %v", iv.keys[sp.i], r.InterventionType, shapeOrNil(final), base.Shape()))
			}
			if r.InterventionLinkKey != nil {
				hot[*r.InterventionLinkKey] = final
			}
			x = u.scatter(x, graph.Sub(final, cur))
		}
		return x
	}
	return hook, collected
}

// shapeOrNil describes n's shape, or says it is nil.
func shapeOrNil(n *graph.Node) string {
	if n == nil {
		return "nil"
	}
	return n.Shape().String()
}

// applyWeights returns the weight nodes Apply receives for representation
// i: the stored ones, orthonormal ones mapped to their orthonormal matrix.
func (iv *Model) applyWeights(i int, ws []*graph.Node) []*graph.Node {
	out := slices.Clone(ws)
	for j, s := range iv.specs[i] {
		if s.orth && j < len(out) {
			out[j] = orthonormal(out[j])
		}
	}
	return out
}

// units selects and writes back an intervention's units with one-hot
// matrices built from runtime indices, so the graph does not depend on which
// units are chosen.
type units struct {
	unit     Unit
	oh, oh2  *graph.Node // one-hot selectors [b,k,n]
	wholeSel bool
}

func newUnits(x *graph.Node, unit Unit, idx, idx2 *graph.Node) units {
	if idx == nil {
		return units{wholeSel: true}
	}
	dims := x.Shape().Dimensions
	u := units{unit: unit}
	switch unit {
	case Pos: // x [b,s,w]
		u.oh = graph.OneHot(idx, dims[1], dtypes.Float32)
	case Head: // x [b,h,s,w]
		u.oh = graph.OneHot(idx, dims[1], dtypes.Float32)
	case HeadPos:
		u.oh = graph.OneHot(idx, dims[1], dtypes.Float32)   // heads [b,kh,h]
		u.oh2 = graph.OneHot(idx2, dims[2], dtypes.Float32) // positions [b,kp,s]
	}
	return u
}

func (u units) gather(x *graph.Node) *graph.Node {
	switch {
	case u.wholeSel:
		return x
	case u.unit == Pos:
		return graph.Einsum("bks,bsw->bkw", u.oh, x)
	case u.unit == Head:
		return graph.Einsum("bkh,bhsw->bksw", u.oh, x)
	default:
		t := graph.Einsum("bkh,bhsw->bksw", u.oh, x)
		return graph.Einsum("bps,bksw->bkpw", u.oh2, t)
	}
}

// scatter adds delta (in unit layout) back at the units of x.
func (u units) scatter(x, delta *graph.Node) *graph.Node {
	switch {
	case u.wholeSel:
		return graph.Add(x, delta)
	case u.unit == Pos:
		return graph.Add(x, graph.Einsum("bks,bkw->bsw", u.oh, delta))
	case u.unit == Head:
		return graph.Add(x, graph.Einsum("bkh,bksw->bhsw", u.oh, delta))
	default:
		t := graph.Einsum("bps,bkpw->bksw", u.oh2, delta)
		return graph.Add(x, graph.Einsum("bkh,bksw->bhsw", u.oh, t))
	}
}
