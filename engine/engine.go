// Package engine is govene.Engine in this process: it loads models with
// GoMLX and runs lm, pv, sweep and trace on them. Everything it returns is
// safe for concurrent use, so a session server can keep its models,
// caches and intervenable models in tables and serve several requests at
// once.
//
//	e, err := engine.New(engine.Options{})
//	m, err := e.Model("")                // $GOVENE_MODEL, else the shipped model
//	iv, err := m.New(govene.Config{...}) // an intervenable model
//	out, err := iv.Forward(base, govene.Sources(src), govene.At(4, 4))
//	probs, err := out.NextTokenProbs(0, false)
package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gomlx/compute"

	"github.com/govene/govene"
	"github.com/govene/govene/backend"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
)

var (
	_ govene.Engine       = (*Engine)(nil)
	_ govene.Model        = (*Model)(nil)
	_ govene.Cache        = (*Cache)(nil)
	_ govene.Intervenable = (*Intervenable)(nil)
)

// Options configure New.
type Options struct {
	// Backend is a GoMLX backend configuration string ("go", "xla:cpu",
	// "xla:/abs/pjrt_plugin.so") that every model is placed on; "" is the
	// process's default choice (backend.For: $GOMLX_BACKEND, else the
	// pure-Go backend).
	Backend string
	// Progress receives training progress (Intervenable.Train); nil means
	// os.Stderr, io.Discard silences it.
	Progress io.Writer
	// Devices lists the backend's devices that every model splits its
	// batched work across (models.Options.Devices); nil means the default,
	// lm.DefaultDevices: all of them, except on a CPU, where it is the
	// first.
	Devices []int
}

// Engine is govene.Engine in this process. It is safe for concurrent use.
type Engine struct {
	backend  compute.Backend // nil: backend.For's choice per model
	progress io.Writer
	devices  []int // nil: the default

	mu     sync.Mutex
	closed bool
	models map[string]*loading
	caches map[string]*cacheEntry
	nextID atomic.Int64
}

// loading is one model's load, which concurrent callers wait for.
type loading struct {
	done chan struct{}
	m    *Model
	err  error
}

// cacheEntry is a run kept by RunWithCache.
type cacheEntry struct {
	model  *Model
	result *lm.Result
}

// New returns an engine with opts. An unknown backend or one that fails to
// start is an error naming the configuration and the registered backends;
// a device that the backend (when given) does not have is an error naming
// options.devices and the valid range (without a backend, loading a model
// checks it).
func New(opts Options) (*Engine, error) {
	e := &Engine{progress: opts.Progress, devices: slices.Clone(opts.Devices), models: map[string]*loading{}, caches: map[string]*cacheEntry{}}
	if e.progress == nil {
		e.progress = os.Stderr
	}
	if opts.Backend != "" {
		b, err := backend.New(opts.Backend)
		if err != nil {
			return nil, fmt.Errorf("engine: options.backend: %w", err)
		}
		e.backend = b
		if _, err := lm.ModelDevices(b, e.devices); err != nil {
			return nil, fmt.Errorf("engine: options.devices %v: %w", e.devices, err)
		}
	}
	return e, nil
}

// Model loads the model called name once and returns it; later (and
// concurrent) calls with the same name return the same model. "" means
// $GOVENE_MODEL, else the shipped model; "shipped" is the shipped model;
// otherwise a checkpoint folder or a Hugging Face Hub id (from the HF
// cache, or downloaded) of any family models.Load supports. A model that cannot be found or read is an error
// naming it (a failed load is tried again by the next call); a closed
// engine is an error.
func (e *Engine) Model(name string) (govene.Model, error) {
	m, err := e.model(name)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// model is Model returning the concrete type.
func (e *Engine) model(name string) (*Model, error) {
	name = models.Resolve(name)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, errors.New("engine: closed")
	}
	l, ok := e.models[name]
	if !ok {
		l = &loading{done: make(chan struct{})}
		e.models[name] = l
	}
	e.mu.Unlock()
	if ok {
		<-l.done
		return l.m, l.err
	}
	gm, err := models.Load(name, models.Options{Backend: e.backend, Devices: e.devices})
	if err != nil {
		l.err = fmt.Errorf("engine: model %q: %w", name, err)
		e.mu.Lock()
		if e.models[name] == l {
			delete(e.models, name)
		}
		e.mu.Unlock()
	} else {
		l.m = newModel(e, name, gm)
	}
	close(l.done)
	return l.m, l.err
}

// Close drops the engine's models and caches; later calls to Model are an
// error, and the models already returned keep working until dropped. It
// always returns nil.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	e.models = map[string]*loading{}
	e.caches = map[string]*cacheEntry{}
	return nil
}

// keep stores a run under a fresh ID and returns the ID.
func (e *Engine) keep(m *Model, r *lm.Result) string {
	id := fmt.Sprintf("cache-%d", e.nextID.Add(1))
	e.mu.Lock()
	defer e.mu.Unlock()
	e.caches[id] = &cacheEntry{model: m, result: r}
	return id
}

// Compiles counts the graphs compiled for every model the engine loaded
// (session/service.Compiler: `govene session ls` shows it).
func (e *Engine) Compiles() int64 {
	e.mu.Lock()
	var ms []*Model
	for _, l := range e.models {
		select {
		case <-l.done:
			if l.m != nil {
				ms = append(ms, l.m)
			}
		default:
		}
	}
	e.mu.Unlock()
	var n int64
	for _, m := range ms {
		n += m.Compiles()
	}
	return n
}

// cache returns the run kept under id, or an error naming the ID.
func (e *Engine) cache(id string) (*cacheEntry, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.caches[id]
	if !ok {
		return nil, fmt.Errorf("engine: cache %q: no such cache (never made, or released); make one with Model.RunWithCache", id)
	}
	return c, nil
}

// release drops the run kept under id, or returns an error naming the ID.
func (e *Engine) release(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.caches[id]; !ok {
		return fmt.Errorf("engine: cache %q: no such cache (never made, or already released)", id)
	}
	delete(e.caches, id)
	return nil
}
