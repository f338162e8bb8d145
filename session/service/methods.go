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
		handle(session.MethodEncode, func(_ context.Context, r *session.EncodeRequest, _ server.Emitter) (any, error) {
			m, err := s.h.model("model", r.Model)
			if err != nil {
				return nil, err
			}
			p, err := m.Encode(r.Text)
			return p, wrap(session.MethodEncode, err)
		}),
		handle(session.MethodTokenID, func(_ context.Context, r *session.TokenIDRequest, _ server.Emitter) (any, error) {
			m, err := s.h.model("model", r.Model)
			if err != nil {
				return nil, err
			}
			id, err := m.TokenID(r.Token)
			return session.TokenIDResult{ID: id}, wrap(session.MethodTokenID, err)
		}),
		handle(session.MethodTokens, func(_ context.Context, r *session.TokensRequest, _ server.Emitter) (any, error) {
			m, err := s.h.model("model", r.Model)
			if err != nil {
				return nil, err
			}
			toks, err := m.Tokens(r.IDs)
			return session.TokensResult{Tokens: toks}, wrap(session.MethodTokens, err)
		}),
		handle(session.MethodRun, func(_ context.Context, r *session.RunRequest, _ server.Emitter) (any, error) {
			m, err := s.h.model("model", r.Model)
			if err != nil {
				return nil, err
			}
			out, err := m.Run(r.Prompts, r.Sites...)
			return out, wrap(session.MethodRun, err)
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
		handle(session.MethodNew, func(_ context.Context, r *session.NewRequest, _ server.Emitter) (any, error) {
			m, err := s.h.model("model", r.Model)
			if err != nil {
				return nil, err
			}
			iv, err := m.New(r.Config)
			if err != nil {
				return nil, wrap(session.MethodNew, err)
			}
			return s.ivInfo(r.Model, iv), nil
		}),
		handle(session.MethodLoad, func(_ context.Context, r *session.LoadRequest, _ server.Emitter) (any, error) {
			m, err := s.h.model("model", r.Model)
			if err != nil {
				return nil, err
			}
			iv, err := m.Load(r.Dir)
			if err != nil {
				return nil, wrap(session.MethodLoad, err)
			}
			return s.ivInfo(r.Model, iv), nil
		}),
		handle(session.MethodPatch, func(_ context.Context, r *session.PatchRequest, emit server.Emitter) (any, error) {
			m, err := s.h.model("model", r.Model)
			if err != nil {
				return nil, err
			}
			res, err := m.Patch(r.Base, r.Source, r.Config, progressEmitter(emit))
			return session.SweepDataOf(res), wrap(session.MethodPatch, err)
		}),
		handle(session.MethodTrace, func(_ context.Context, r *session.TraceRequest, emit server.Emitter) (any, error) {
			m, err := s.h.model("model", r.Model)
			if err != nil {
				return nil, err
			}
			res, err := m.Trace(r.Prompt, r.Corrupt, r.Config, progressEmitter(emit))
			return session.SweepDataOf(res), wrap(session.MethodTrace, err)
		}),
		handle(session.MethodCausalTrace, func(_ context.Context, r *session.CausalTraceRequest, emit server.Emitter) (any, error) {
			m, err := s.h.model("model", r.Model)
			if err != nil {
				return nil, err
			}
			res, err := m.CausalTrace(r.Config, func(c govene.Component, done, total int) {
				_ = emit(session.Event{Kind: session.EventProgress, Component: c, Done: done, Total: total})
			})
			return session.TraceDataOf(res), wrap(session.MethodCausalTrace, err)
		}),
		handle(session.MethodForward, s.forward),
		handle(session.MethodGenerate, func(_ context.Context, r *session.GenerateRequest, emit server.Emitter) (any, error) {
			iv, err := s.h.iv("iv", r.IV, false)
			if err != nil {
				return nil, err
			}
			call, err := s.engineCall(r.Call)
			if err != nil {
				return nil, err
			}
			g, err := iv.Generate(r.Prompts, r.Options, func(step int, ids []int) {
				_ = emit(session.Event{Kind: session.EventToken, Step: step, IDs: slices.Clone(ids)})
			}, func(c *govene.Call) { *c = call })
			return g, wrap(session.MethodGenerate, err)
		}),
		handle(session.MethodTrain, s.train),
		handle(session.MethodIIA, func(_ context.Context, r *session.IIARequest, _ server.Emitter) (any, error) {
			iv, err := s.h.iv("iv", r.IV, false)
			if err != nil {
				return nil, err
			}
			v, err := iv.IIA(r.Examples, r.BatchSize)
			return session.ValueResult{Value: session.F64(v)}, wrap(session.MethodIIA, err)
		}),
		handle(session.MethodTrainableParameters, func(_ context.Context, r *session.IDRequest, _ server.Emitter) (any, error) {
			iv, err := s.h.iv("id", r.ID, false)
			if err != nil {
				return nil, err
			}
			n, err := iv.TrainableParameters()
			return session.CountResult{N: n}, wrap(session.MethodTrainableParameters, err)
		}),
		handle(session.MethodSave, func(_ context.Context, r *session.SaveRequest, _ server.Emitter) (any, error) {
			iv, err := s.h.iv("iv", r.IV, false)
			if err != nil {
				return nil, err
			}
			return nil, wrap(session.MethodSave, iv.Save(r.Dir))
		}),
		handle(session.MethodRelease, func(_ context.Context, r *session.IDRequest, _ server.Emitter) (any, error) {
			iv, err := s.h.iv("id", r.ID, true)
			if err != nil {
				return nil, err
			}
			return nil, wrap(session.MethodRelease, iv.Release())
		}),
	}
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
func (s *Service) forward(_ context.Context, r *session.ForwardRequest, _ server.Emitter) (any, error) {
	iv, err := s.h.iv("iv", r.IV, false)
	if err != nil {
		return nil, err
	}
	call, err := s.engineCall(r.Call)
	if err != nil {
		return nil, err
	}
	out, err := iv.Forward(r.Base, func(c *govene.Call) { *c = call })
	return out, wrap(session.MethodForward, err)
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
func (s *Service) train(_ context.Context, r *session.TrainRequest, emit server.Emitter) (any, error) {
	iv, err := s.h.iv("iv", r.IV, false)
	if err != nil {
		return nil, err
	}
	onProgress := progressEmitter(emit)
	onStep := func(step int, loss, evalIIA float64) {
		_ = emit(session.Event{Kind: session.EventStep, Step: step, Loss: session.F64(loss), EvalIIA: session.F64(evalIIA)})
	}
	var rep *govene.TrainReport
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
		return nil, wrap(session.MethodTrain, err)
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
