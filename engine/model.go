package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/sweep"
	"github.com/govene/govene/trace"
)

// Model is govene.Model over a loaded model of any family (models.Model):
// one lm.Runner and one
// sweep.Sweeper per model, so compiled graphs are reused across calls. It
// is safe for concurrent use.
type Model struct {
	e    *Engine
	name string
	// shared holds the pv models of weightless configs by their JSON, so
	// that New with a config seen before reuses its compiled graphs (a
	// notebook cell run again compiles nothing); all holds every pv model
	// made, for Compiles.
	mu       sync.Mutex
	shared   map[string]*pv.Model
	all      []*pv.Model
	released int64 // compiles of released pv models
	m        models.Model
	runner   *lm.Runner
	sw       *sweep.Sweeper
}

// newModel wraps m, loaded by name, for e.
func newModel(e *Engine, name string, m models.Model) *Model {
	return &Model{e: e, name: name, m: m, runner: lm.NewRunner(m, m.PadID()), sw: sweep.New(m)}
}

// Model returns the model the engine runs (a *gpt2.Model for GPT-2), for
// what the govene.Model interface does not offer (plots of attention, say).
func (m *Model) Model() models.Model { return m.m }

// Name returns the name the model was loaded by ("shipped" for the shipped
// model, else the folder or Hub id).
func (m *Model) Name() string { return m.name }

// Describe says what the model is: family, size, source and backend.
func (m *Model) Describe() string { return m.m.String() }

// Dims returns the model's sizes.
func (m *Model) Dims() govene.Dims { return m.m.Dims() }

// Encode tokenizes text (no special tokens added). It never fails in
// process (empty text gives an empty prompt, which running refuses).
func (m *Model) Encode(text string) (govene.Prompt, error) { return m.m.Encode(text), nil }

// TokenID returns the id of token, which must be exactly one token of the
// vocabulary (e.g. " Paris"); otherwise an error naming it and the tokens
// it encodes to.
func (m *Model) TokenID(token string) (int, error) {
	id, err := models.TokenID(m.m, token)
	if err != nil {
		return 0, fmt.Errorf("engine: token id: %w", err)
	}
	return id, nil
}

// Tokens returns the text of each id; an id outside the tokenizer's
// vocabulary is an error naming it and the valid range.
func (m *Model) Tokens(ids []int) ([]string, error) {
	tok := m.m.Tokenizer()
	if tok == nil {
		return nil, fmt.Errorf("engine: tokens: %s has no tokenizer (its checkpoint has no tokenizer.json)", m.m.Source())
	}
	n := tok.VocabSize()
	out := make([]string, len(ids))
	for i, id := range ids {
		if id < 0 || id >= n {
			return nil, fmt.Errorf("engine: tokens: ids[%d] = %d is outside the vocabulary [0, %d)", i, id, n)
		}
		out[i] = m.m.TokenString(id)
	}
	return out, nil
}

// Run runs prompts (left-padded into one batch) and returns the logits and
// the values of sites, as lm.Runner.Run. It returns Run's errors (an empty
// or too long prompt, an id outside the vocabulary, an unknown site).
func (m *Model) Run(prompts []govene.Prompt, sites ...govene.Site) (*govene.Output, error) {
	r, err := m.runner.Run(prompts, sites...)
	if err != nil {
		return nil, fmt.Errorf("engine: run: %w", err)
	}
	return resultData(r)
}

// resultData copies a run's logits and sites into a govene.Output, as
// pv.Output.Data does.
func resultData(r *lm.Result) (*govene.Output, error) {
	out, err := (&pv.Output{Base: r.Batch, Logits: r.Logits, Sites: r.Sites}).Data()
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	return out, nil
}

// RunWithCache runs prompts once (lm.Runner.RunWithCache) and keeps every
// site's value in the engine under a fresh ID, for SourceCacheIDs and
// Cache.Site; Run's errors otherwise.
func (m *Model) RunWithCache(prompts []govene.Prompt) (govene.Cache, error) {
	r, err := m.runner.RunWithCache(prompts)
	if err != nil {
		return nil, fmt.Errorf("engine: run with cache: %w", err)
	}
	return &Cache{e: m.e, id: m.e.keep(m, r)}, nil
}

// New returns an intervenable model with cfg (pv.New): cfg's validation
// errors name the representation, the field and the valid choices.
// Configs with a Go function as Intervention work in process.
//
// Configs whose interventions have no weights (and no Go function) share
// one pv model per config, with its compiled graphs: a cell that makes the
// same config again compiles nothing. Weighted configs get a new pv model
// each time (their weights are their own).
func (m *Model) New(cfg govene.Config) (govene.Intervenable, error) {
	key, share := m.shareKey(cfg)
	m.mu.Lock()
	defer m.mu.Unlock()
	if iv, ok := m.shared[key]; share && ok {
		return &Intervenable{model: m, iv: iv}, nil
	}
	iv, err := pv.New(m.m, pv.Config(cfg))
	if err != nil {
		return nil, fmt.Errorf("engine: new: %w", err)
	}
	if share {
		if m.shared == nil {
			m.shared = map[string]*pv.Model{}
		}
		m.shared[key] = iv
	}
	m.all = append(m.all, iv)
	return &Intervenable{model: m, iv: iv}, nil
}

// shareKey returns cfg's JSON and whether pv models of cfg may be shared:
// no Go function and no intervention with weights.
func (m *Model) shareKey(cfg govene.Config) (string, bool) {
	for _, r := range cfg.Representations {
		if r.Intervention != nil {
			return "", false
		}
		kind, ok := pv.Lookup(r.InterventionType)
		if r.InterventionType != "" && (!ok || len(kind.Weights(r, m.m.Dims().Width(r.Component))) > 0) {
			return "", false
		}
	}
	data, err := json.Marshal(cfg)
	return string(data), err == nil
}

// forget drops iv from the models Compiles counts (keeping its count),
// unless a shared config holds it.
func (m *Model) forget(iv *pv.Model) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.shared {
		if s == iv {
			return
		}
	}
	if i := slices.Index(m.all, iv); i >= 0 {
		m.released += iv.Compiles()
		m.all = slices.Delete(m.all, i, i+1)
	}
}

// Compiles counts the graphs this model's runner, sweeps and intervenable
// models compiled.
func (m *Model) Compiles() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.sw.Compiles() + m.released
	for _, iv := range m.all {
		n += iv.Compiles()
	}
	return n
}

// Load reads an intervenable model saved by Intervenable.Save (or
// pv.Model.Save) from dir (pv.Load); pv.Load's errors (a missing or bad
// file, a config that does not fit this model) otherwise.
func (m *Model) Load(dir string) (govene.Intervenable, error) {
	iv, err := pv.Load(dir, m.m)
	if err != nil {
		return nil, fmt.Errorf("engine: load: %w", err)
	}
	m.mu.Lock()
	m.all = append(m.all, iv)
	m.mu.Unlock()
	return &Intervenable{model: m, iv: iv}, nil
}

// Patch is sweep.Sweeper.Patch with cfg converted by sweep.ConfigFrom:
// the grid of cfg's metric with the source's values patched into the base
// at each setting. onProgress, when not nil, receives the settings done and
// their total. A bad metric and the sweep's errors are returned.
func (m *Model) Patch(base, source govene.Prompt, cfg govene.SweepConfig, onProgress func(done, total int)) (*govene.SweepResult, error) {
	sc, err := sweep.ConfigFrom(cfg)
	if err != nil {
		return nil, fmt.Errorf("engine: patch: %w", err)
	}
	sc.OnProgress = onProgress
	return m.sw.Patch(base, source, sc)
}

// Trace is sweep.Sweeper.Trace with cfg converted by sweep.ConfigFrom:
// the grid of cfg's metric with the clean values restored into the
// corrupted run at each setting. onProgress as in Patch; a bad metric and
// the sweep's errors are returned.
func (m *Model) Trace(prompt govene.Prompt, corrupt govene.Corruption, cfg govene.SweepConfig, onProgress func(done, total int)) (*govene.SweepResult, error) {
	sc, err := sweep.ConfigFrom(cfg)
	if err != nil {
		return nil, fmt.Errorf("engine: trace: %w", err)
	}
	sc.OnProgress = onProgress
	return m.sw.Trace(prompt, corrupt, sc)
}

// CausalTrace is trace.Run on the model's Sweeper, returned as data
// (trace.Result.Data; plots.TraceReport renders it). onProgress, when not
// nil, receives each grid's settings done and their total. trace.Run's
// errors (an invalid config, a subject not in the prompt, a target that is
// not one token) are returned.
func (m *Model) CausalTrace(cfg govene.TraceConfig, onProgress func(c govene.Component, done, total int)) (*govene.TraceResult, error) {
	r, err := trace.Run(m.m, m.sw, cfg, trace.OnProgress(onProgress))
	if err != nil {
		return nil, fmt.Errorf("engine: causal trace: %w", err)
	}
	return r.Data(), nil
}

// Cache is govene.Cache: a run the engine keeps (Model.RunWithCache).
type Cache struct {
	e  *Engine
	id string
}

// ID names the cache in govene.SourceCacheIDs.
func (c *Cache) ID() string { return c.id }

// Site returns the value at site s ([b, ...] as Run returns it). A
// released cache, or a site the model does not have, is an error naming it.
func (c *Cache) Site(s govene.Site) (govene.Tensor, error) {
	ce, err := c.e.cache(c.id)
	if err != nil {
		return govene.Tensor{}, err
	}
	t, ok := ce.result.Sites[s]
	if !ok {
		if err := ce.model.m.Dims().CheckSite(s); err != nil {
			return govene.Tensor{}, fmt.Errorf("engine: cache %q: %w", c.id, err)
		}
		return govene.Tensor{}, fmt.Errorf("engine: cache %q: site %s not kept", c.id, s)
	}
	d, err := lm.TensorData(t)
	if err != nil {
		return govene.Tensor{}, fmt.Errorf("engine: cache %q: site %s: %w", c.id, s, err)
	}
	return d, nil
}

// Release frees the cache in the engine; using or releasing it afterwards
// is an error naming its ID.
func (c *Cache) Release() error { return c.e.release(c.id) }
