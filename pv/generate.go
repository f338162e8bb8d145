package pv

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// GenerateOptions say when interventions act during generation.
type GenerateOptions struct {
	lm.Sampling
	// InterveneOnPrompt applies located interventions in the prompt pass
	// only (their effect reaches later tokens through the KV cache), as
	// pyvene's intervene_on_prompt=True. Interventions without locations
	// then act on every forward pass, the prompt and each new token, as in
	// pyvene (the steering recipe); to steer the prompt only, give them
	// locations (AtBase over the prompt) or set Steps to an empty list.
	// Without InterveneOnPrompt every intervention acts on each new token
	// only, at its own position (pyvene's default {"base": 0}).
	InterveneOnPrompt bool `json:"intervene_on_prompt"`
	// EveryStep applies every intervention in the prompt pass and at every
	// new token. Interventions without locations already do so under
	// InterveneOnPrompt; EveryStep adds located ones (on new tokens at the
	// new token, with their source units).
	EveryStep bool `json:"every_step"`
	// Steps, when set, restricts the interventions on new tokens to these
	// generation steps (0 is the first new token; an empty, non-nil list:
	// none), something pyvene users asked for and never got.
	Steps []int `json:"steps,omitempty"`
	// OnToken, when set, receives each step's new tokens as they come.
	OnToken func(step int, ids []int) `json:"-"`
}

// Generation is the result of Generate.
//
// Collected and Sites hold the intervened run's activations in every
// forward pass of the generation, as nnsight's generate gives them: entry 0
// is the prompt pass, over the left-padded prompts (example e's token j at
// column Base.Offset(e)+j, [b,s,w], or [b,k,w] at located units); entry
// j >= 1 is the pass that fed each example's new token j-1 at its
// position ([b,1,w]; [b,h,1,w] for head components) and predicted new
// token j. There are MaxNewTokens entries: the last new token is never
// fed. With StopAtEOS, an example that stopped (len(NewTokens[e]) < j) is
// fed padding, and its values in entry j are zero. In the prompt pass
// ln_final and logits hold the last position only ([b,1,w]), as the
// decoder computes no other.
type Generation struct {
	// Tokens holds, per example, its prompt's ids followed by the generated
	// ones, as transformers' and pyvene's generate return them (without the
	// padding of shorter prompts). NewTokens holds the generated ids only.
	Tokens    [][]int
	NewTokens [][]int
	// Original and OriginalNewTokens hold the same, when asked with
	// WithOriginal, for the generation without interventions (same
	// sampling seed).
	Original          [][]int
	OriginalNewTokens [][]int
	// Base is the padded prompt batch of the prompt pass; nil unless the
	// generation returns values.
	Base *lm.Batch
	// Collected holds, by key, what each Collect intervention read in each
	// pass (see above): at its base locations in the prompt pass when
	// those are prompt positions (InterveneOnPrompt or EveryStep), else the
	// whole prompt, and at the new token in every later pass. Nil without
	// Collect interventions.
	Collected map[string][]*tensors.Tensor
	// Sites holds, for the sites asked with CaptureSites, their values in
	// each pass of the intervened run (after the interventions at that
	// site). Nil without CaptureSites.
	Sites map[lm.Site][]*tensors.Tensor
}

// withPrompts returns each prompt's ids followed by its new tokens.
func withPrompts(base []lm.Prompt, gen [][]int) [][]int {
	out := make([][]int, len(gen))
	for e, ids := range gen {
		out[e] = append(slices.Clone(base[e].IDs), ids...)
	}
	return out
}

// Generate continues the base prompts with the interventions active as g
// says, and returns prompt plus new tokens (Generation.Tokens, as pyvene)
// and the new tokens alone (Generation.NewTokens), and what Collect
// interventions and CaptureSites read in every forward pass
// (Generation.Collected, Generation.Sites). Source activations are
// computed once, before generation. With InterveneOnPrompt, locations are
// prompt positions; otherwise each intervention acts at the new token
// (locations, if given, name source units). It returns the errors Forward
// does, and an error for settings that cannot apply to single new tokens,
// for invalid sampling, for Steps outside [0, MaxNewTokens) or repeated, for
// Steps when no intervention acts on new tokens, for LastLogitsOnly, for
// unknown capture sites, and for serial-mode configs.
func (iv *Model) Generate(base []lm.Prompt, g GenerateOptions, opts ...Option) (*Generation, error) {
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
	if err := iv.checkGenerate(g, c); err != nil {
		return nil, err
	}
	bb, err := iv.runner.NewBatch(base, 0)
	if err != nil {
		return nil, fmt.Errorf("pv: base: %w", err)
	}
	n, b := len(iv.cfg.Representations), bb.Size
	if c.pyvene != nil {
		if err := iv.resolvePyvene(c); err != nil {
			return nil, err
		}
	}
	if err := c.broadcastAll(n, b, false); err != nil {
		return nil, err
	}
	for _, r := range iv.cfg.Representations {
		if r.Unit != Pos {
			return nil, fmt.Errorf("pv: generate: unit %q is not supported during generation; use \"pos\"", r.Unit)
		}
	}
	collects := slices.ContainsFunc(iv.infos, func(in Info) bool { return in.Collects })
	// Prompt pass inputs. Located Collect interventions whose locations are
	// new-token units read the whole prompt.
	promptCall := c
	if collects && c.haveLocs && c.baseLocs != nil && !g.InterveneOnPrompt && !g.EveryStep {
		pc := *c
		pc.baseLocs = slices.Clone(c.baseLocs)
		for i, info := range iv.infos {
			if info.Collects {
				pc.baseLocs[i] = nil
			}
		}
		promptCall = &pc
	}
	promptInputs, promptPlans, err := iv.prepare(promptCall, bb)
	if err != nil {
		return nil, err
	}
	// Step inputs: one token, at unit 0 (or the whole one-token site).
	stepCall := *c
	one := &lm.Batch{Size: b, Len: 1, Lengths: repeat(1, b)}
	if c.haveLocs && c.baseLocs != nil {
		if !g.InterveneOnPrompt {
			for i, per := range c.baseLocs {
				for e, us := range per {
					if !slices.Equal(us, []int{0}) {
						return nil, fmt.Errorf("pv: generate: %s: example %d: base units %v: on new tokens the only base unit is 0 (the token being fed); intervene on prompt positions with InterveneOnPrompt", iv.keys[i], e, us)
					}
				}
			}
		}
		stepCall.baseLocs = make([][][]int, n)
		for i := range n {
			if c.baseLocs[i] != nil {
				stepCall.baseLocs[i] = repeat([]int{0}, b)
			}
		}
		if c.srcLocs != nil {
			stepCall.srcLocs = c.srcLocs
		}
	}
	// When each intervention acts, as pyvene's generate: located ones on the
	// prompt (InterveneOnPrompt) or on new tokens; ones without locations on
	// every forward, except that without InterveneOnPrompt and without any
	// locations pyvene's default {"base": 0} puts them on new tokens only.
	promptOn, stepOn := make([]bool, n), make([]bool, n)
	needStep := false
	for i := range n {
		located := c.haveLocs && c.baseLocs != nil && c.baseLocs[i] != nil
		switch {
		case g.EveryStep:
			promptOn[i], stepOn[i] = true, true
		case located:
			promptOn[i], stepOn[i] = g.InterveneOnPrompt, !g.InterveneOnPrompt
		case !c.haveLocs:
			promptOn[i], stepOn[i] = g.InterveneOnPrompt, true
		default: // no locations for this one among located ones
			promptOn[i], stepOn[i] = true, true
		}
		needStep = needStep || stepOn[i]
	}
	if g.Steps != nil && len(g.Steps) == 0 {
		needStep = false // an empty schedule: no interventions on new tokens
	}
	if len(g.Steps) > 0 && !needStep {
		return nil, fmt.Errorf("pv: generate: steps %v given, but no intervention acts on new tokens (every one has prompt locations and InterveneOnPrompt is set, without EveryStep)", g.Steps)
	}
	var stepInputs []any
	var stepPlans []plan
	switch {
	case needStep:
		if stepInputs, stepPlans, err = iv.prepareStep(&stepCall, one); err != nil {
			return nil, err
		}
	case collects:
		// No intervention acts on new tokens: the step graphs splice in
		// the Collect interventions only.
		stepCall.collectOnly = true
		if stepInputs, stepPlans, err = iv.prepare(&stepCall, one); err != nil {
			return nil, err
		}
	}
	off := func(on []bool) func(int) bool { return func(i int) bool { return !on[i] } }
	stepActive := func(step int) bool {
		return g.Steps == nil || slices.Contains(g.Steps, step)
	}
	// The interventions' weights (rotations, learned masks) follow their
	// inputs, as in Forward.
	weights := iv.weightArgs()
	extra := func(step int) []any {
		if step < 0 {
			return append(zeroMasks(promptInputs, promptPlans, off(promptOn)), weights...)
		}
		if stepInputs == nil {
			return nil
		}
		if needStep && stepActive(step) {
			return append(zeroMasks(stepInputs, stepPlans, off(stepOn)), weights...)
		}
		return append(zeroMasks(stepInputs, stepPlans, func(int) bool { return true }), weights...)
	}
	dec := iv.decoder(promptPlans, stepPlans, c.capture)
	out, err := dec.Generate(bb, g.Sampling, extra, g.OnToken)
	if err != nil {
		return nil, fmt.Errorf("pv: generate: %w", err)
	}
	res := &Generation{Tokens: withPrompts(base, out.Tokens), NewTokens: out.Tokens}
	if err := iv.passValues(res, out, bb, c.capture); err != nil {
		return nil, err
	}
	if c.original {
		d := &lm.Decoder{Model: iv.model, EOS: iv.model.PadID()}
		orig, err := d.Generate(bb, g.Sampling, nil, nil)
		if err != nil {
			return nil, err
		}
		res.Original, res.OriginalNewTokens = withPrompts(base, orig.Tokens), orig.Tokens
	}
	return res, nil
}

// prepareStep builds the inputs for single-token steps. Whole-site
// interventions need constant sources (the steering vector); located ones
// take their source units from the source run over the prompt positions.
func (iv *Model) prepareStep(c *call, one *lm.Batch) ([]any, []plan, error) {
	for i := range iv.cfg.Representations {
		_, fed := c.srcReps[iv.keys[i]]
		whole := !c.haveLocs || c.baseLocs == nil || c.baseLocs[i] == nil
		if whole && !iv.sourceless(i) && !fed {
			return nil, nil, fmt.Errorf("pv: generate: %s has no locations, so (as in pyvene) it acts on every new token too, which needs a constant source (source_representation, SourceRepresentation or SourceRepresentations); to intervene on the prompt only, give it locations over the prompt or set Steps to an empty list", iv.keys[i])
		}
	}
	// Source units are read against the sources' own batch; prepare checks
	// base units against the one-token batch.
	return iv.prepare(c, one)
}

// zeroMasks returns inputs with the subspace masks of the interventions i
// for which off(i) holds zeroed, which makes those leave the model alone
// while keeping the graph's shapes.
func zeroMasks(inputs []any, plans []plan, off func(i int) bool) []any {
	out := slices.Clone(inputs)
	k := 0
	for i, p := range plans {
		if p.off {
			continue // no inputs
		}
		if !p.whole {
			k++ // index (h.pos interventions are not used in generation)
		}
		if p.hasSource {
			k++
		}
		if off(i) {
			m := out[k].(*tensors.Tensor)
			out[k] = tensors.FromShape(m.Shape())
		}
		k++
	}
	return out
}

// decoder returns a Decoder whose graphs splice the interventions in with
// these plans (nil step plans: no interventions on new tokens) and return
// what Collect interventions read and the values of the capture sites.
func (iv *Model) decoder(promptPlans, stepPlans []plan, capture []lm.Site) *lm.Decoder {
	var key strings.Builder
	for _, p := range promptPlans {
		fmt.Fprintf(&key, "%v%v;", p.whole, p.hasSource)
	}
	key.WriteString("|")
	for _, p := range stepPlans {
		fmt.Fprintf(&key, "%v%v%v;", p.whole, p.hasSource, p.off)
	}
	fmt.Fprint(&key, "|", capture)
	iv.mu.Lock()
	defer iv.mu.Unlock()
	if iv.decoders == nil {
		iv.decoders = map[string]*lm.Decoder{}
	}
	if d, ok := iv.decoders[key.String()]; ok {
		return d
	}
	d := &lm.Decoder{Model: iv.model, EOS: iv.model.PadID(), Hooks: func(extra []*graph.Node, prompt bool) lm.StepHook {
		iv.compiles.Add(1)
		plans := promptPlans
		if !prompt {
			plans = stepPlans
		}
		if len(extra) == 0 {
			plans = nil
		}
		h, values := iv.valueHook(plans, capture, extra)
		return lm.StepHook{Hook: h, Outputs: values}
	}}
	iv.decoders[key.String()] = d
	return d
}

// checkGenerate validates Generate's options before anything runs.
func (iv *Model) checkGenerate(g GenerateOptions, c *call) error {
	if err := g.Sampling.Validate(); err != nil {
		return fmt.Errorf("pv: generate: %w", err)
	}
	if iv.stages != nil {
		return fmt.Errorf("pv: generate: mode %q is not supported during generation; use %q", iv.cfg.Mode, Parallel)
	}
	if c.pyveneSerial != nil {
		return fmt.Errorf("pv: unit_locations: serial keys given, but the config's mode is %q", iv.cfg.Mode)
	}
	if c.lastOnly {
		return fmt.Errorf("pv: generate: LastLogitsOnly applies to Forward only; generation returns tokens")
	}
	maxNew := g.MaxNewTokens
	if maxNew == 0 {
		maxNew = 20 // lm.Sampling's default
	}
	if limit := iv.model.Dims().Positions; limit > 0 && maxNew > limit {
		return fmt.Errorf("pv: generate: max_new_tokens %d exceeds the model's %d positions; valid: [0, %d]", maxNew, limit, limit)
	}
	for j, st := range g.Steps {
		if st < 0 || st >= maxNew {
			return fmt.Errorf("pv: generate: steps: %d out of range [0, %d) (max_new_tokens)", st, maxNew)
		}
		if slices.Contains(g.Steps[:j], st) {
			return fmt.Errorf("pv: generate: steps: %d given twice", st)
		}
	}
	return nil
}
