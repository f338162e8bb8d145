package session

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/govene/govene"
	"github.com/govene/govene/internal/progress"
)

// Client is a govene.Engine: its models, intervenable models and caches
// live in the session, and each of their methods is one call.
var _ govene.Engine = (*Client)(nil)

// Model asks the session for the model called name (loading it there the
// first time; see govene.Engine.Model) and returns it. Errors are the
// session's (an unknown name names it) or the call's (ErrGone...).
func (c *Client) Model(name string) (govene.Model, error) {
	var info ModelInfo
	if err := c.Call(context.Background(), MethodModel, ModelRequest{Name: name}, &info); err != nil {
		return nil, err
	}
	return &remoteModel{c: c, info: info}, nil
}

// remoteModel is a model held by the session.
type remoteModel struct {
	c    *Client
	info ModelInfo
}

func (m *remoteModel) Name() string      { return m.info.Name }
func (m *remoteModel) Describe() string  { return m.info.Describe }
func (m *remoteModel) Dims() govene.Dims { return m.info.Dims }

// call calls method with the background context.
func (c *Client) call(method string, req, resp any) error {
	return c.Call(context.Background(), method, req, resp)
}

// stream calls a streaming method, decoding each event as an Event for
// onEvent.
func (c *Client) stream(method string, req, resp any, onEvent func(Event)) error {
	return c.Stream(context.Background(), method, req, resp, func(raw json.RawMessage) error {
		var ev Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("session: %s: a malformed event %.80s: %w", method, raw, err)
		}
		onEvent(ev)
		return nil
	})
}

func (m *remoteModel) Encode(text string) (govene.Prompt, error) {
	var p govene.Prompt
	err := m.c.call(MethodEncode, EncodeRequest{Model: m.info.ID, Text: text}, &p)
	return p, err
}

func (m *remoteModel) TokenID(token string) (int, error) {
	var r TokenIDResult
	err := m.c.call(MethodTokenID, TokenIDRequest{Model: m.info.ID, Token: token}, &r)
	return r.ID, err
}

func (m *remoteModel) Tokens(ids []int) ([]string, error) {
	var r TokensResult
	if err := m.c.call(MethodTokens, TokensRequest{Model: m.info.ID, IDs: ids}, &r); err != nil {
		return nil, err
	}
	return r.Tokens, nil
}

func (m *remoteModel) Run(prompts []govene.Prompt, sites ...govene.Site) (*govene.Output, error) {
	var out govene.Output
	if err := m.c.call(MethodRun, RunRequest{Model: m.info.ID, Prompts: prompts, Sites: sites}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (m *remoteModel) RunWithCache(prompts []govene.Prompt) (govene.Cache, error) {
	var h HandleInfo
	if err := m.c.call(MethodRunWithCache, RunRequest{Model: m.info.ID, Prompts: prompts}, &h); err != nil {
		return nil, err
	}
	return &remoteCache{c: m.c, id: h.ID}, nil
}

func (m *remoteModel) New(cfg govene.Config) (govene.Intervenable, error) {
	if err := CheckData(cfg); err != nil {
		return nil, fmt.Errorf("session: %s: %w", MethodNew, err)
	}
	var info IntervenableInfo
	if err := m.c.call(MethodNew, NewRequest{Model: m.info.ID, Config: cfg}, &info); err != nil {
		return nil, err
	}
	return &remoteIntervenable{c: m.c, info: info}, nil
}

// CheckData returns nil when cfg is all data, else an error wrapping
// ErrNotData that names the representation whose Intervention holds a Go
// value (a function), which cannot travel to a session.
func CheckData(cfg govene.Config) error {
	for i, r := range cfg.Representations {
		if r.Intervention != nil {
			return fmt.Errorf("config.representations[%d].Intervention holds a %T: %w (pv.Register it as a named kind in the session's program, then set intervention_type)", i, r.Intervention, ErrNotData)
		}
	}
	return nil
}

// absPath resolves a relative path against this process's working
// folder, so that the session (whose folder differs) gets the user's.
func absPath(what, dir string) (string, error) {
	if dir == "" {
		return "", fmt.Errorf("session: %s: the folder is empty", what)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("session: %s: folder %q: %w", what, dir, err)
	}
	return abs, nil
}

func (m *remoteModel) Load(dir string) (govene.Intervenable, error) {
	abs, err := absPath(MethodLoad, dir)
	if err != nil {
		return nil, err
	}
	var info IntervenableInfo
	if err := m.c.call(MethodLoad, LoadRequest{Model: m.info.ID, Dir: abs}, &info); err != nil {
		return nil, err
	}
	return &remoteIntervenable{c: m.c, info: info}, nil
}

// progressEvents returns an event handler that passes progress events to
// onProgress (nil: drops them).
func progressEvents(onProgress func(done, total int)) func(Event) {
	return func(ev Event) {
		if ev.Kind == EventProgress && onProgress != nil {
			onProgress(ev.Done, ev.Total)
		}
	}
}

func (m *remoteModel) Patch(base, source govene.Prompt, cfg govene.SweepConfig, onProgress func(done, total int)) (*govene.SweepResult, error) {
	var d SweepData
	if err := m.c.stream(MethodPatch, PatchRequest{Model: m.info.ID, Base: base, Source: source, Config: cfg}, &d, progressEvents(onProgress)); err != nil {
		return nil, err
	}
	return d.Result(), nil
}

func (m *remoteModel) Trace(prompt govene.Prompt, corrupt govene.Corruption, cfg govene.SweepConfig, onProgress func(done, total int)) (*govene.SweepResult, error) {
	var d SweepData
	if err := m.c.stream(MethodTrace, TraceRequest{Model: m.info.ID, Prompt: prompt, Corrupt: corrupt, Config: cfg}, &d, progressEvents(onProgress)); err != nil {
		return nil, err
	}
	return d.Result(), nil
}

func (m *remoteModel) CausalTrace(cfg govene.TraceConfig, onProgress func(c govene.Component, done, total int)) (*govene.TraceResult, error) {
	var d TraceData
	err := m.c.stream(MethodCausalTrace, CausalTraceRequest{Model: m.info.ID, Config: cfg}, &d, func(ev Event) {
		if ev.Kind == EventProgress && onProgress != nil {
			onProgress(ev.Component, ev.Done, ev.Total)
		}
	})
	if err != nil {
		return nil, err
	}
	return d.Result(), nil
}

// remoteCache is a run's values held by the session.
type remoteCache struct {
	c  *Client
	id string
}

func (k *remoteCache) ID() string { return k.id }

func (k *remoteCache) Site(s govene.Site) (govene.Tensor, error) {
	var t govene.Tensor
	err := k.c.call(MethodCacheSite, CacheSiteRequest{Cache: k.id, Site: s}, &t)
	return t, err
}

func (k *remoteCache) Release() error {
	return k.c.call(MethodCacheRelease, IDRequest{ID: k.id}, nil)
}

// remoteIntervenable is an intervenable model held by the session.
type remoteIntervenable struct {
	c    *Client
	info IntervenableInfo
}

func (v *remoteIntervenable) Keys() []string        { return v.info.Keys }
func (v *remoteIntervenable) Config() govene.Config { return v.info.Config }

func (v *remoteIntervenable) Forward(base []govene.Prompt, opts ...govene.CallOption) (*govene.Output, error) {
	var out govene.Output
	if err := v.c.call(MethodForward, ForwardRequest{IV: v.info.ID, Base: base, Call: govene.NewCall(opts...)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (v *remoteIntervenable) Generate(prompts []govene.Prompt, opts govene.GenerateOptions, onToken func(step int, ids []int), call ...govene.CallOption) (*govene.Generation, error) {
	var g govene.Generation
	req := GenerateRequest{IV: v.info.ID, Prompts: prompts, Options: opts, Call: govene.NewCall(call...)}
	err := v.c.stream(MethodGenerate, req, &g, func(ev Event) {
		if ev.Kind == EventToken && onToken != nil {
			onToken(ev.Step, ev.IDs)
		}
	})
	if err != nil {
		return nil, err
	}
	return &g, nil
}

func (v *remoteIntervenable) Train(data, eval []govene.Example, cfg govene.TrainConfig, onStep func(step int, loss, evalIIA float64)) (*govene.TrainReport, error) {
	var bar *progress.Bar
	var d TrainReportData
	err := v.c.stream(MethodTrain, TrainRequest{IV: v.info.ID, Data: data, Eval: eval, Config: cfg}, &d, func(ev Event) {
		switch ev.Kind {
		case EventStep:
			if onStep != nil {
				onStep(ev.Step, float64(ev.Loss), float64(ev.EvalIIA))
			}
		case EventProgress:
			if bar == nil {
				bar = progress.New(v.c.progress, "DAS", int64(ev.Total), progress.Options{Clear: true})
			}
			bar.Set(int64(ev.Done))
		}
	})
	if err != nil {
		bar.Abandon()
		return nil, err
	}
	bar.Finish()
	return d.Report(), nil
}

func (v *remoteIntervenable) IIA(examples []govene.Example, batchSize int) (float64, error) {
	var r ValueResult
	err := v.c.call(MethodIIA, IIARequest{IV: v.info.ID, Examples: examples, BatchSize: batchSize}, &r)
	return float64(r.Value), err
}

func (v *remoteIntervenable) TrainableParameters() (int, error) {
	var r CountResult
	err := v.c.call(MethodTrainableParameters, IDRequest{ID: v.info.ID}, &r)
	return r.N, err
}

func (v *remoteIntervenable) Save(dir string) error {
	abs, err := absPath(MethodSave, dir)
	if err != nil {
		return err
	}
	return v.c.call(MethodSave, SaveRequest{IV: v.info.ID, Dir: abs}, nil)
}

func (v *remoteIntervenable) Release() error {
	return v.c.call(MethodRelease, IDRequest{ID: v.info.ID}, nil)
}
