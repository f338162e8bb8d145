package session

import (
	"github.com/govene/govene"
)

// The methods of the engine service (package session/service serves them
// over a govene.Engine; Client's Model, Intervenable and Cache call them).
const (
	MethodModel               = "model"
	MethodEncode              = "model.encode"
	MethodTokenID             = "model.token_id"
	MethodTokens              = "model.tokens"
	MethodRun                 = "model.run"
	MethodRunWithCache        = "model.run_with_cache"
	MethodNew                 = "model.new"
	MethodLoad                = "model.load"
	MethodPatch               = "model.patch"
	MethodTrace               = "model.trace"
	MethodCausalTrace         = "model.causal_trace"
	MethodCacheSite           = "cache.site"
	MethodCacheRelease        = "cache.release"
	MethodForward             = "iv.forward"
	MethodGenerate            = "iv.generate"
	MethodTrain               = "iv.train"
	MethodIIA                 = "iv.iia"
	MethodTrainableParameters = "iv.trainable_parameters"
	MethodSave                = "iv.save"
	MethodRelease             = "iv.release"
)

// ModelRequest asks for the model called Name (see govene.Engine.Model).
type ModelRequest struct {
	Name string `json:"name"`
}

// ModelInfo describes a model the session holds; ID names it in later
// requests.
type ModelInfo struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	Describe string      `json:"describe"`
	Dims     govene.Dims `json:"dims"`
}

// IDRequest names one handle: a cache or an intervenable model.
type IDRequest struct {
	ID string `json:"id"`
}

// HandleInfo is a new handle's ID.
type HandleInfo struct {
	ID string `json:"id"`
}

// EncodeRequest asks model Model to tokenize Text.
type EncodeRequest struct {
	Model string `json:"model"`
	Text  string `json:"text"`
}

// TokenIDRequest asks model Model for the id of Token.
type TokenIDRequest struct {
	Model string `json:"model"`
	Token string `json:"token"`
}

// TokenIDResult is a token's id.
type TokenIDResult struct {
	ID int `json:"id"`
}

// TokensRequest asks model Model for the text of IDs.
type TokensRequest struct {
	Model string `json:"model"`
	IDs   []int  `json:"ids"`
}

// TokensResult is the text of each id.
type TokensResult struct {
	Tokens []string `json:"tokens"`
}

// RunRequest runs Prompts on model Model, returning Sites' values too
// (Model.Run); RunWithCache uses Model and Prompts only.
type RunRequest struct {
	Model   string          `json:"model"`
	Prompts []govene.Prompt `json:"prompts"`
	Sites   []govene.Site   `json:"sites,omitempty"`
}

// CacheSiteRequest asks cache Cache for Site's value.
type CacheSiteRequest struct {
	Cache string      `json:"cache"`
	Site  govene.Site `json:"site"`
}

// NewRequest makes an intervenable model of model Model with Config.
type NewRequest struct {
	Model  string        `json:"model"`
	Config govene.Config `json:"config"`
}

// LoadRequest loads an intervenable model of model Model from Dir, an
// absolute path on the session's machine.
type LoadRequest struct {
	Model string `json:"model"`
	Dir   string `json:"dir"`
}

// IntervenableInfo describes an intervenable model the session holds.
type IntervenableInfo struct {
	ID     string        `json:"id"`
	Keys   []string      `json:"keys"`
	Config govene.Config `json:"config"`
}

// PatchRequest is Model.Patch's arguments.
type PatchRequest struct {
	Model  string             `json:"model"`
	Base   govene.Prompt      `json:"base"`
	Source govene.Prompt      `json:"source"`
	Config govene.SweepConfig `json:"config"`
}

// TraceRequest is Model.Trace's arguments.
type TraceRequest struct {
	Model   string             `json:"model"`
	Prompt  govene.Prompt      `json:"prompt"`
	Corrupt govene.Corruption  `json:"corrupt"`
	Config  govene.SweepConfig `json:"config"`
}

// CausalTraceRequest is Model.CausalTrace's arguments.
type CausalTraceRequest struct {
	Model  string             `json:"model"`
	Config govene.TraceConfig `json:"config"`
}

// ForwardRequest is Intervenable.Forward's arguments, the options as a
// govene.Call.
type ForwardRequest struct {
	IV   string          `json:"iv"`
	Base []govene.Prompt `json:"base"`
	Call govene.Call     `json:"call"`
}

// GenerateRequest is Intervenable.Generate's arguments.
type GenerateRequest struct {
	IV      string                 `json:"iv"`
	Prompts []govene.Prompt        `json:"prompts"`
	Options govene.GenerateOptions `json:"options"`
	Call    govene.Call            `json:"call"`
}

// TrainRequest is Intervenable.Train's arguments.
type TrainRequest struct {
	IV     string             `json:"iv"`
	Data   []govene.Example   `json:"data"`
	Eval   []govene.Example   `json:"eval,omitempty"`
	Config govene.TrainConfig `json:"config"`
}

// IIARequest is Intervenable.IIA's arguments.
type IIARequest struct {
	IV        string           `json:"iv"`
	Examples  []govene.Example `json:"examples"`
	BatchSize int              `json:"batch_size"`
}

// ValueResult is one number (an IIA).
type ValueResult struct {
	Value F64 `json:"value"`
}

// CountResult is one count (trainable parameters).
type CountResult struct {
	N int `json:"n"`
}

// SaveRequest saves intervenable model IV to Dir, an absolute path on the
// session's machine.
type SaveRequest struct {
	IV  string `json:"iv"`
	Dir string `json:"dir"`
}

// The kinds of Event.
const (
	EventProgress = "progress" // Done of Total settings or steps (Component: which trace grid)
	EventToken    = "token"    // a generation step's new token per prompt
	EventStep     = "step"     // a training step's loss and evaluation IIA
)

// Event is one event of a streaming engine method: Kind says which fields
// it sets.
type Event struct {
	Kind      string           `json:"kind"`
	Component govene.Component `json:"component,omitempty"`
	Done      int              `json:"done,omitempty"`
	Total     int              `json:"total,omitempty"`
	Step      int              `json:"step,omitempty"`
	IDs       []int            `json:"ids,omitempty"`
	Loss      F64              `json:"loss,omitempty"`
	EvalIIA   F64              `json:"eval_iia,omitempty"`
}

// ModelID returns the ID of the model a request names (the session
// service looks it up).
func (r *EncodeRequest) ModelID() string      { return r.Model }
func (r *TokenIDRequest) ModelID() string     { return r.Model }
func (r *TokensRequest) ModelID() string      { return r.Model }
func (r *RunRequest) ModelID() string         { return r.Model }
func (r *NewRequest) ModelID() string         { return r.Model }
func (r *LoadRequest) ModelID() string        { return r.Model }
func (r *PatchRequest) ModelID() string       { return r.Model }
func (r *TraceRequest) ModelID() string       { return r.Model }
func (r *CausalTraceRequest) ModelID() string { return r.Model }

// IntervenableID returns the ID of the intervenable model a request names
// (the session service looks it up).
func (r *IDRequest) IntervenableID() string       { return r.ID }
func (r *ForwardRequest) IntervenableID() string  { return r.IV }
func (r *GenerateRequest) IntervenableID() string { return r.IV }
func (r *TrainRequest) IntervenableID() string    { return r.IV }
func (r *IIARequest) IntervenableID() string      { return r.IV }
func (r *SaveRequest) IntervenableID() string     { return r.IV }
