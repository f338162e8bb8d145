package engine

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
)

// Intervenable is govene.Intervenable over a pv.Model. It is safe for
// concurrent use (pv.Model is); after Release every method returns an
// error.
type Intervenable struct {
	model *Model

	mu sync.RWMutex
	iv *pv.Model // nil once released
}

// errReleased is what an Intervenable's methods return after Release.
var errReleased = errors.New("engine: intervenable model released; make a new one with Model.New or Model.Load")

// pv returns the pv.Model, or errReleased.
func (x *Intervenable) pv() (*pv.Model, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.iv == nil {
		return nil, errReleased
	}
	return x.iv, nil
}

// PV returns the pv.Model behind x, for what the govene.Intervenable
// interface does not offer, or an error after Release.
func (x *Intervenable) PV() (*pv.Model, error) { return x.pv() }

// Keys returns the intervention keys, as pyvene names them; nil after
// Release.
func (x *Intervenable) Keys() []string {
	iv, err := x.pv()
	if err != nil {
		return nil
	}
	return iv.Keys()
}

// Config returns the validated config, with defaults filled; the zero
// Config after Release.
func (x *Intervenable) Config() govene.Config {
	iv, err := x.pv()
	if err != nil {
		return govene.Config{}
	}
	return govene.Config(iv.Config())
}

// Forward runs base prompts with the interventions (pv.Model.Forward with
// pv.WithCall of the options' Call). SourceCacheIDs are resolved against
// the engine's caches (pv.SourceCaches); an unknown or released ID, or one
// kept for another model, is an error naming it. pv's errors and the
// released model's are returned too.
func (x *Intervenable) Forward(base []govene.Prompt, opts ...govene.CallOption) (*govene.Output, error) {
	iv, pvOpts, err := x.withCall(opts)
	if err != nil {
		return nil, err
	}
	out, err := iv.Forward(base, pvOpts...)
	if err != nil {
		return nil, fmt.Errorf("engine: forward: %w", err)
	}
	return out.Data()
}

// withCall returns the pv model and the pv options of a call given by
// opts: pv.WithCall of its Call, and its SourceCacheIDs resolved against
// the engine's caches (pv.SourceCaches).
func (x *Intervenable) withCall(opts []govene.CallOption) (*pv.Model, []pv.Option, error) {
	iv, err := x.pv()
	if err != nil {
		return nil, nil, err
	}
	call := govene.NewCall(opts...)
	caches, err := x.resolveCaches(&call)
	if err != nil {
		return nil, nil, err
	}
	return iv, append([]pv.Option{pv.WithCall(call)}, caches...), nil
}

// resolveCaches turns call's SourceCacheIDs into a pv.SourceCaches option
// (none without IDs) and clears them from call.
func (x *Intervenable) resolveCaches(call *govene.Call) ([]pv.Option, error) {
	if len(call.SourceCacheIDs) == 0 {
		return nil, nil
	}
	rs := make([]*lm.Result, len(call.SourceCacheIDs))
	for i, id := range call.SourceCacheIDs {
		ce, err := x.model.e.cache(id)
		if err != nil {
			return nil, fmt.Errorf("engine: source_cache_ids[%d]: %w", i, err)
		}
		if ce.model != x.model {
			return nil, fmt.Errorf("engine: source_cache_ids[%d]: cache %q was run on model %q, not on this intervenable's model %q",
				i, id, ce.model.name, x.model.name)
		}
		rs[i] = ce.result
	}
	call.SourceCacheIDs = nil
	return []pv.Option{pv.SourceCaches(rs...)}, nil
}

// Generate decodes from prompts with the interventions (pv.Model.Generate
// with pv.GenerateOptionsFrom(opts) and the call's sources, locations and
// source representations, SourceCacheIDs resolved as Forward resolves
// them); onToken, when not nil, receives each step's new token per prompt.
// pv's errors and the released model's are returned.
func (x *Intervenable) Generate(prompts []govene.Prompt, opts govene.GenerateOptions, onToken func(step int, ids []int), callOpts ...govene.CallOption) (*govene.Generation, error) {
	iv, pvOpts, err := x.withCall(callOpts)
	if err != nil {
		return nil, err
	}
	g := pv.GenerateOptionsFrom(opts)
	g.OnToken = onToken
	gen, err := iv.Generate(prompts, g, pvOpts...)
	if err != nil {
		return nil, fmt.Errorf("engine: generate: %w", err)
	}
	return gen.Data(), nil
}

// Train trains the trainable interventions with DAS (pv.Model.Train with
// pv.TrainConfigFrom(cfg)), writing progress to Options.Progress; onStep,
// when not nil, receives every step's loss and evaluation IIA. pv's errors
// (bad config values, examples that do not fit) and the released model's
// are returned.
func (x *Intervenable) Train(data, eval []govene.Example, cfg govene.TrainConfig, onStep func(step int, loss, evalIIA float64)) (*govene.TrainReport, error) {
	return x.train(data, eval, cfg, func(tc *pv.TrainConfig) error {
		tc.Progress, tc.OnStep = x.model.e.progress, onStep
		return nil
	})
}

// train runs pv.Model.Train with cfg converted by pv.TrainConfigFrom and
// then set by set (the progress and callbacks), wrapping pv's errors.
func (x *Intervenable) train(data, eval []govene.Example, cfg govene.TrainConfig, set func(*pv.TrainConfig) error) (*govene.TrainReport, error) {
	iv, err := x.pv()
	if err != nil {
		return nil, err
	}
	tc := pv.TrainConfigFrom(cfg)
	if err := set(&tc); err != nil {
		return nil, fmt.Errorf("engine: train: %w", err)
	}
	rep, err := iv.Train(data, eval, tc)
	if err != nil {
		return nil, fmt.Errorf("engine: train: %w", err)
	}
	return rep, nil
}

// TrainProgress is Train with the progress given to onProgress (steps done
// and their total) instead of shown in this process: a session forwards it
// to the cell that asked (session/service.ProgressTrainer).
func (x *Intervenable) TrainProgress(data, eval []govene.Example, cfg govene.TrainConfig,
	onStep func(step int, loss, evalIIA float64), onProgress func(done, total int)) (*govene.TrainReport, error) {
	return x.train(data, eval, cfg, func(tc *pv.TrainConfig) error {
		total, err := tc.TotalSteps(len(data))
		if err != nil {
			return err
		}
		tc.Progress = io.Discard
		tc.OnStep = func(step int, loss, evalIIA float64) {
			if onStep != nil {
				onStep(step, loss, evalIIA)
			}
			if onProgress != nil {
				onProgress(step, total)
			}
		}
		return nil
	})
}

// IIA is the interchange-intervention accuracy on examples (pv.Model.IIA);
// pv's errors and the released model's are returned.
func (x *Intervenable) IIA(examples []govene.Example, batchSize int) (float64, error) {
	iv, err := x.pv()
	if err != nil {
		return 0, err
	}
	acc, err := iv.IIA(examples, batchSize)
	if err != nil {
		return 0, fmt.Errorf("engine: iia: %w", err)
	}
	return acc, nil
}

// TrainableParameters counts the trainable interventions' weights
// (pv.Model.TrainableParameters); an error after Release.
func (x *Intervenable) TrainableParameters() (int, error) {
	iv, err := x.pv()
	if err != nil {
		return 0, err
	}
	return iv.TrainableParameters(), nil
}

// Save writes the config and weights to dir atomically (pv.Model.Save);
// pv's errors and the released model's are returned.
func (x *Intervenable) Save(dir string) error {
	iv, err := x.pv()
	if err != nil {
		return err
	}
	if err := iv.Save(dir); err != nil {
		return fmt.Errorf("engine: save: %w", err)
	}
	return nil
}

// Release drops the engine's reference to the pv.Model: pv offers no way
// to free compiled graphs explicitly, so they (and the weights) are freed
// by the garbage collector once calls in flight end. Releasing twice is an
// error; every other method returns an error afterwards.
func (x *Intervenable) Release() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.iv == nil {
		return errReleased
	}
	x.model.forget(x.iv)
	x.iv = nil
	return nil
}
