package service_test

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/govene/govene"
)

// fakeEngine is a deterministic govene.Engine: a 5-token vocabulary
// ('a'..'e'), logits that depend on the prompts only, a panicking Encode
// ("panic"), a slow TokenID ("slow"), and a compile counter that counts
// each new batch shape Run sees.
type fakeEngine struct {
	mu       sync.Mutex
	shapes   map[[2]int]bool
	compiles atomic.Int64
	ivs      []*fakeIV
	caches   []*fakeCache
}

func newFake() *fakeEngine { return &fakeEngine{shapes: map[[2]int]bool{}} }

func (e *fakeEngine) Compiles() int64 { return e.compiles.Load() }

func (e *fakeEngine) Model(name string) (govene.Model, error) {
	switch name {
	case "", "fake":
		return &fakeModel{e: e}, nil
	case "panic":
		panic("fake: Model panics")
	}
	return nil, fmt.Errorf("fake: unknown model %q", name)
}

func (e *fakeEngine) Close() error { return nil }

// fakeDims lists an absent component (as a rotary model's), so that the
// round trips check Dims.Absent crosses the wire.
var fakeDims = govene.Dims{Layers: 2, Heads: 2, Hidden: 4, HeadDim: 2, Inner: 8, Vocab: 5, Positions: 16,
	Absent: []govene.Component{govene.PosEmbed}}

type fakeModel struct{ e *fakeEngine }

func (m *fakeModel) Name() string      { return "fake" }
func (m *fakeModel) Describe() string  { return "fake 2-layer model on no backend" }
func (m *fakeModel) Dims() govene.Dims { return fakeDims }

func (m *fakeModel) Encode(text string) (govene.Prompt, error) {
	if text == "panic" {
		panic("fake: Encode panics")
	}
	p := govene.Prompt{Text: text, IDs: []int{}}
	for _, r := range text {
		if r < 'a' || r > 'e' {
			return govene.Prompt{}, fmt.Errorf("fake: %q is not a token", r)
		}
		p.IDs = append(p.IDs, int(r-'a'))
		p.Tokens = append(p.Tokens, string(r))
	}
	return p, nil
}

func (m *fakeModel) TokenID(token string) (int, error) {
	if token == "slow" {
		time.Sleep(300 * time.Millisecond)
		return 4, nil
	}
	if len(token) != 1 || token[0] < 'a' || token[0] > 'e' {
		return 0, fmt.Errorf("fake: %q is not one token", token)
	}
	return int(token[0] - 'a'), nil
}

func (m *fakeModel) Tokens(ids []int) ([]string, error) {
	out := make([]string, len(ids))
	for i, id := range ids {
		if id < 0 || id >= 5 {
			return nil, fmt.Errorf("fake: id %d is outside the vocabulary [0, 5)", id)
		}
		out[i] = string(rune('a' + id))
	}
	return out, nil
}

// tensorOf returns a deterministic tensor of shape with a NaN and an
// infinity among its values.
func tensorOf(seed float32, shape ...int) govene.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	t := govene.Tensor{Shape: shape, Data: make([]float32, n)}
	for i := range t.Data {
		t.Data[i] = seed + float32(i)*0.25
	}
	if n > 2 {
		t.Data[1], t.Data[2] = float32(math.NaN()), float32(math.Inf(-1))
	}
	return t
}

func longest(prompts []govene.Prompt) int {
	s := 0
	for _, p := range prompts {
		s = max(s, len(p.IDs))
	}
	return s
}

func (m *fakeModel) Run(prompts []govene.Prompt, sites ...govene.Site) (*govene.Output, error) {
	if len(prompts) == 0 {
		return nil, errors.New("fake: no prompts")
	}
	b, s := len(prompts), longest(prompts)
	m.e.mu.Lock()
	if !m.e.shapes[[2]int{b, s}] {
		m.e.shapes[[2]int{b, s}] = true
		m.e.compiles.Add(1)
	}
	m.e.mu.Unlock()
	out := &govene.Output{Logits: tensorOf(float32(prompts[0].IDs[0]), b, s, 5), Sites: map[string]govene.Tensor{}}
	for _, p := range prompts {
		out.Lengths = append(out.Lengths, len(p.IDs))
	}
	for i, site := range sites {
		if err := fakeDims.CheckSite(site); err != nil {
			return nil, err
		}
		out.Sites[site.String()] = tensorOf(float32(i), b, s, 4)
	}
	return out, nil
}

func (m *fakeModel) RunWithCache(prompts []govene.Prompt) (govene.Cache, error) {
	m.e.mu.Lock()
	defer m.e.mu.Unlock()
	c := &fakeCache{id: fmt.Sprintf("engine-cache-%d", len(m.e.caches)), b: len(prompts), s: longest(prompts)}
	m.e.caches = append(m.e.caches, c)
	return c, nil
}

func (m *fakeModel) New(cfg govene.Config) (govene.Intervenable, error) {
	if len(cfg.Representations) == 0 {
		return nil, errors.New("fake: config.representations: none given")
	}
	m.e.mu.Lock()
	defer m.e.mu.Unlock()
	iv := &fakeIV{cfg: cfg}
	m.e.ivs = append(m.e.ivs, iv)
	if cfg.Representations[0].InterventionType == "reports_progress" {
		return progressIV{iv}, nil
	}
	return iv, nil
}

// progressIV is a fakeIV that reports its training progress itself
// (service.ProgressTrainer), against a total of 100 steps.
type progressIV struct{ *fakeIV }

func (v progressIV) TrainProgress(data, eval []govene.Example, cfg govene.TrainConfig,
	onStep func(step int, loss, evalIIA float64), onProgress func(done, total int)) (*govene.TrainReport, error) {
	return v.Train(data, eval, cfg, func(step int, loss, evalIIA float64) {
		onStep(step, loss, evalIIA)
		onProgress(step, 100)
	})
}

func (m *fakeModel) Load(dir string) (govene.Intervenable, error) {
	iv, err := m.New(govene.Config{Representations: []govene.RepresentationConfig{{Layer: 1, Component: govene.BlockOutput, InterventionType: govene.Vanilla}}})
	if err == nil {
		iv.(*fakeIV).loadedFrom = dir
	}
	return iv, err
}

func (m *fakeModel) Patch(base, source govene.Prompt, cfg govene.SweepConfig, onProgress func(done, total int)) (*govene.SweepResult, error) {
	for i := 1; i <= 3; i++ {
		onProgress(i, 3)
	}
	return &govene.SweepResult{Rows: []string{"0", "1"}, Cols: base.Tokens,
		Values: [][]float64{{0.5, math.NaN()}, {math.Inf(1), -1e-300}}, Base: 0.125, Source: float64(len(source.IDs))}, nil
}

func (m *fakeModel) Trace(prompt govene.Prompt, corrupt govene.Corruption, cfg govene.SweepConfig, onProgress func(done, total int)) (*govene.SweepResult, error) {
	onProgress(1, 1)
	return &govene.SweepResult{Rows: []string{"0"}, Cols: prompt.Tokens, Values: [][]float64{{corrupt.Level}}, Base: math.NaN()}, nil
}

func (m *fakeModel) CausalTrace(cfg govene.TraceConfig, onProgress func(c govene.Component, done, total int)) (*govene.TraceResult, error) {
	r := &govene.TraceResult{Config: cfg, Tokens: []string{"a", "b"}, SubjectFrom: 0, SubjectTo: 1, NoiseLevel: 0.3,
		Clean: 0.9, Corrupted: math.NaN(), CleanProbs: []float32{0.5, float32(math.NaN())}, CorruptedProbs: []float32{1}}
	for _, c := range []govene.Component{govene.BlockOutput, govene.MLPOutput, govene.AttentionOutput} {
		onProgress(c, 1, 2)
		onProgress(c, 2, 2)
		r.Grids = append(r.Grids, govene.TraceGrid{Component: c, Window: 1, Result: govene.SweepResult{Rows: []string{"0"}, Cols: []string{"a"}, Values: [][]float64{{math.Inf(-1)}}}})
	}
	return r, nil
}

type fakeCache struct {
	id       string
	b, s     int
	released atomic.Bool
}

func (c *fakeCache) ID() string { return c.id }

func (c *fakeCache) Site(s govene.Site) (govene.Tensor, error) {
	if err := fakeDims.CheckSite(s); err != nil {
		return govene.Tensor{}, err
	}
	return tensorOf(float32(s.Layer), c.b, c.s, 4), nil
}

func (c *fakeCache) Release() error {
	c.released.Store(true)
	return nil
}

type fakeIV struct {
	cfg        govene.Config
	mu         sync.Mutex
	lastCall   govene.Call
	loadedFrom string
	savedTo    string
	released   atomic.Bool
}

func (v *fakeIV) Keys() []string {
	keys := make([]string, len(v.cfg.Representations))
	for i := range keys {
		keys[i] = v.cfg.Key(i)
	}
	return keys
}

func (v *fakeIV) Config() govene.Config { return v.cfg }

func (v *fakeIV) Forward(base []govene.Prompt, opts ...govene.CallOption) (*govene.Output, error) {
	call := govene.NewCall(opts...)
	v.mu.Lock()
	v.lastCall = call
	v.mu.Unlock()
	orig := tensorOf(7, len(base), 1, 5)
	return &govene.Output{Lengths: []int{len(base[0].IDs)}, Logits: tensorOf(3, len(base), longest(base), 5), Original: &orig,
		Collected: map[string]govene.Tensor{v.Keys()[0]: tensorOf(1, 1, 4)}}, nil
}

func (v *fakeIV) Generate(prompts []govene.Prompt, opts govene.GenerateOptions, onToken func(step int, ids []int), call ...govene.CallOption) (*govene.Generation, error) {
	v.mu.Lock()
	v.lastCall = govene.NewCall(call...)
	v.mu.Unlock()
	g := &govene.Generation{}
	for _, p := range prompts {
		g.Tokens = append(g.Tokens, append([]int(nil), p.IDs...))
		g.NewTokens = append(g.NewTokens, []int{})
	}
	for step := range opts.MaxNewTokens {
		ids := make([]int, len(prompts))
		for i := range ids {
			ids[i] = (step + i) % 5
			g.Tokens[i] = append(g.Tokens[i], ids[i])
			g.NewTokens[i] = append(g.NewTokens[i], ids[i])
		}
		onToken(step, ids)
	}
	// Per-pass values: the prompt pass, then one per new token but the last.
	if opts.MaxNewTokens > 0 {
		for _, p := range prompts {
			g.Lengths = append(g.Lengths, len(p.IDs))
		}
		g.Collected = map[string][]govene.Tensor{v.Keys()[0]: {tensorOf(2, len(prompts), longest(prompts), 4)}}
		g.Sites = map[string][]govene.Tensor{"blocks.1.block_output": {tensorOf(4, len(prompts), longest(prompts), 4)}}
		for step := range opts.MaxNewTokens - 1 {
			g.Collected[v.Keys()[0]] = append(g.Collected[v.Keys()[0]], tensorOf(float32(step), len(prompts), 1, 4))
			g.Sites["blocks.1.block_output"] = append(g.Sites["blocks.1.block_output"], tensorOf(-float32(step), len(prompts), 1, 4))
		}
	}
	return g, nil
}

func (v *fakeIV) Train(data, eval []govene.Example, cfg govene.TrainConfig, onStep func(step int, loss, evalIIA float64)) (*govene.TrainReport, error) {
	rep := &govene.TrainReport{Stopped: "steps", Duration: 1500 * time.Millisecond, BestIIA: math.Inf(-1)}
	for step := 1; step <= cfg.Steps; step++ { // 1-based, as pv's OnStep
		loss, iia := 1/float64(step), math.NaN()
		if step%2 == 1 {
			iia = float64(step) / 10
			rep.EvalSteps, rep.EvalIIA = append(rep.EvalSteps, step), append(rep.EvalIIA, iia)
		}
		if step == 1 {
			loss = math.NaN()
		}
		rep.Losses = append(rep.Losses, loss)
		rep.Steps++
		onStep(step, loss, iia)
	}
	return rep, nil
}

func (v *fakeIV) IIA(examples []govene.Example, batchSize int) (float64, error) {
	if batchSize <= 0 {
		return 0, fmt.Errorf("fake: batch size %d must be positive", batchSize)
	}
	return float64(len(examples)) / 8, nil
}

func (v *fakeIV) TrainableParameters() (int, error) { return 42, nil }

func (v *fakeIV) Save(dir string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.savedTo = dir
	return nil
}

func (v *fakeIV) Release() error {
	v.released.Store(true)
	return nil
}
