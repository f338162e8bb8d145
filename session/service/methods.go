package service

import (
	"context"
	"fmt"
	"slices"

	"github.com/govene/govene"
	"github.com/govene/govene/session"
	"github.com/govene/govene/session/server"
)

// methods lists the service's methods.
func (s *Service) methods() []method {
	return []method{
		handle(session.MethodModel, s.loadModel),
		onModel(s, session.MethodEncode, func(m govene.Model, r *session.EncodeRequest, _ server.Emitter) (any, error) {
			return m.Encode(r.Text)
		}),
		onModel(s, session.MethodTokenID, func(m govene.Model, r *session.TokenIDRequest, _ server.Emitter) (any, error) {
			id, err := m.TokenID(r.Token)
			return session.TokenIDResult{ID: id}, err
		}),
		onModel(s, session.MethodTokens, func(m govene.Model, r *session.TokensRequest, _ server.Emitter) (any, error) {
			toks, err := m.Tokens(r.IDs)
			return session.TokensResult{Tokens: toks}, err
		}),
		onModel(s, session.MethodRun, func(m govene.Model, r *session.RunRequest, _ server.Emitter) (any, error) {
			return m.Run(r.Prompts, r.Sites...)
		}),
		handle(session.MethodRunWithCache, s.runWithCache),
		handle(session.MethodCacheSite, func(_ context.Context, r *session.CacheSiteRequest, _ server.Emitter) (any, error) {
			c, err := s.h.cache("cache", r.Cache, false)
			if err != nil {
				return nil, err
			}
			t, err := c.Site(r.Site)
			return t, wrap(session.MethodCacheSite, err)
		}),
		handle(session.MethodCacheRelease, func(_ context.Context, r *session.IDRequest, _ server.Emitter) (any, error) {
			c, err := s.h.cache("id", r.ID, true)
			if err != nil {
				return nil, err
			}
			return nil, wrap(session.MethodCacheRelease, c.Release())
		}),
		onModel(s, session.MethodNew, func(m govene.Model, r *session.NewRequest, _ server.Emitter) (any, error) {
			iv, err := m.New(r.Config)
			if err != nil {
				return nil, err
			}
			return s.ivInfo(r.Model, iv), nil
		}),
		onModel(s, session.MethodLoad, func(m govene.Model, r *session.LoadRequest, _ server.Emitter) (any, error) {
			iv, err := m.Load(r.Dir)
			if err != nil {
				return nil, err
			}
			return s.ivInfo(r.Model, iv), nil
		}),
		onModel(s, session.MethodPatch, func(m govene.Model, r *session.PatchRequest, emit server.Emitter) (any, error) {
			res, err := m.Patch(r.Base, r.Source, r.Config, progressEmitter(emit))
			return session.SweepDataOf(res), err
		}),
		onModel(s, session.MethodTrace, func(m govene.Model, r *session.TraceRequest, emit server.Emitter) (any, error) {
			res, err := m.Trace(r.Prompt, r.Corrupt, r.Config, progressEmitter(emit))
			return session.SweepDataOf(res), err
		}),
		onModel(s, session.MethodCausalTrace, func(m govene.Model, r *session.CausalTraceRequest, emit server.Emitter) (any, error) {
			res, err := m.CausalTrace(r.Config, func(c govene.Component, done, total int) {
				_ = emit(session.Event{Kind: session.EventProgress, Component: c, Done: done, Total: total})
			})
			return session.TraceDataOf(res), err
		}),
		onIV(s, session.MethodForward, "iv", false, s.forward),
		onIV(s, session.MethodGenerate, "iv", false, func(iv govene.Intervenable, r *session.GenerateRequest, emit server.Emitter) (any, error) {
			call, err := s.engineCall(r.Call)
			if err != nil {
				return nil, err
			}
			return iv.Generate(r.Prompts, r.Options, func(step int, ids []int) {
				_ = emit(session.Event{Kind: session.EventToken, Step: step, IDs: slices.Clone(ids)})
			}, func(c *govene.Call) { *c = call })
		}),
		onIV(s, session.MethodTrain, "iv", false, s.train),
		onIV(s, session.MethodIIA, "iv", false, func(iv govene.Intervenable, r *session.IIARequest, _ server.Emitter) (any, error) {
			v, err := iv.IIA(r.Examples, r.BatchSize)
			return session.ValueResult{Value: session.F64(v)}, err
		}),
		onIV(s, session.MethodTrainableParameters, "id", false, func(iv govene.Intervenable, _ *session.IDRequest, _ server.Emitter) (any, error) {
			n, err := iv.TrainableParameters()
			return session.CountResult{N: n}, err
		}),
		onIV(s, session.MethodSave, "iv", false, func(iv govene.Intervenable, r *session.SaveRequest, _ server.Emitter) (any, error) {
			return nil, iv.Save(r.Dir)
		}),
		onIV(s, session.MethodRelease, "id", true, func(iv govene.Intervenable, _ *session.IDRequest, _ server.Emitter) (any, error) {
			return nil, iv.Release()
		}),
	}
}

// modelRequest is a request naming a model by its ID.
type modelRequest interface{ ModelID() string }

// ivRequest is a request naming an intervenable model by its ID.
type ivRequest interface{ IntervenableID() string }

// onModel is handle for a request naming a model: it looks the model up
// (an unknown ID is an error naming it), runs f and names the method in
// f's error.
func onModel[Req any, P interface {
	*Req
	modelRequest
}](s *Service, name string, f func(m govene.Model, r P, emit server.Emitter) (any, error)) method {
	return handle(name, func(_ context.Context, r *Req, emit server.Emitter) (any, error) {
		m, err := s.h.model("model", P(r).ModelID())
		if err != nil {
			return nil, err
		}
		out, err := f(m, r, emit)
		return out, wrap(name, err)
	})
}

// onIV is handle for a request naming an intervenable model in field
// (release: the handle is removed): it looks the model up (an unknown or
// released ID is an error naming it), runs f and names the method in f's
// error.
func onIV[Req any, P interface {
	*Req
	ivRequest
}](s *Service, name, field string, release bool, f func(iv govene.Intervenable, r P, emit server.Emitter) (any, error)) method {
	return handle(name, func(_ context.Context, r *Req, emit server.Emitter) (any, error) {
		iv, err := s.h.iv(field, P(r).IntervenableID(), release)
		if err != nil {
			return nil, err
		}
		out, err := f(iv, r, emit)
		return out, wrap(name, err)
	})
}

// loadModel serves session.MethodModel.
func (s *Service) loadModel(_ context.Context, r *session.ModelRequest, _ server.Emitter) (any, error) {
	m, err := s.eng.Model(r.Name)
	if err != nil {
		return nil, wrap(session.MethodModel, err)
	}
	id := modelID(m, r.Name)
	s.h.addModel(id, m)
	return session.ModelInfo{ID: id, Name: m.Name(), Describe: m.Describe(), Dims: m.Dims()}, nil
}

// runWithCache serves session.MethodRunWithCache.
func (s *Service) runWithCache(_ context.Context, r *session.RunRequest, _ server.Emitter) (any, error) {
	if len(r.Sites) > 0 {
		return nil, &session.Error{Field: "sites", Message: "service: model.run_with_cache keeps every site: give no sites"}
	}
	m, err := s.h.model("model", r.Model)
	if err != nil {
		return nil, err
	}
	c, err := m.RunWithCache(r.Prompts)
	if err != nil {
		return nil, wrap(session.MethodRunWithCache, err)
	}
	return session.HandleInfo{ID: s.h.addCache(r.Model, c)}, nil
}

// ivInfo records iv and describes it.
func (s *Service) ivInfo(model string, iv govene.Intervenable) session.IntervenableInfo {
	return session.IntervenableInfo{ID: s.h.addIV(model, iv), Keys: iv.Keys(), Config: iv.Config()}
}

// forward serves session.MethodForward, turning the session's cache IDs
// in the call into the engine's.
func (s *Service) forward(iv govene.Intervenable, r *session.ForwardRequest, _ server.Emitter) (any, error) {
	call, err := s.engineCall(r.Call)
	if err != nil {
		return nil, err
	}
	return iv.Forward(r.Base, func(c *govene.Call) { *c = call })
}

// engineCall returns call with its source cache IDs (the session's) turned
// into the engine's; an unknown or released ID is an error naming it.
func (s *Service) engineCall(call govene.Call) (govene.Call, error) {
	if len(call.SourceCacheIDs) == 0 {
		return call, nil
	}
	ids := make([]string, len(call.SourceCacheIDs))
	for i, id := range call.SourceCacheIDs {
		c, err := s.h.cache(fmt.Sprintf("call.source_cache_ids[%d]", i), id, false)
		if err != nil {
			return call, err
		}
		ids[i] = c.ID()
	}
	call.SourceCacheIDs = ids
	return call, nil
}

// train serves session.MethodTrain: step and progress events.
func (s *Service) train(iv govene.Intervenable, r *session.TrainRequest, emit server.Emitter) (any, error) {
	onProgress := progressEmitter(emit)
	onStep := func(step int, loss, evalIIA float64) {
		_ = emit(session.Event{Kind: session.EventStep, Step: step, Loss: session.F64(loss), EvalIIA: session.F64(evalIIA)})
	}
	var rep *govene.TrainReport
	var err error
	if pt, ok := iv.(ProgressTrainer); ok {
		rep, err = pt.TrainProgress(r.Data, r.Eval, r.Config, onStep, onProgress)
	} else {
		total := trainTotal(len(r.Data), r.Config)
		rep, err = iv.Train(r.Data, r.Eval, r.Config, func(step int, loss, evalIIA float64) {
			onStep(step, loss, evalIIA)
			onProgress(step, total)
		})
	}
	if err != nil {
		return nil, err
	}
	return session.TrainReportDataOf(rep), nil
}

// trainTotal returns the number of training steps cfg gives for n
// examples: Steps, else Epochs times the batches per epoch, else 0
// (unknown: the engine's defaults apply).
func trainTotal(n int, cfg govene.TrainConfig) int {
	switch {
	case cfg.Steps > 0:
		return cfg.Steps
	case cfg.Epochs > 0 && cfg.BatchSize > 0:
		return cfg.Epochs * ((n + cfg.BatchSize - 1) / cfg.BatchSize)
	}
	return 0
}
