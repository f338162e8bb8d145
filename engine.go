package govene

// Engine runs language models and interventions on them. Two
// implementations share this interface, so that a program or a notebook
// switches between them in one line:
//
//	e, err := engine.New(engine.Options{})        // in this process (links GoMLX)
//	e, err := session.Connect(session.Options{})  // in a session that outlives the cell
//
// Everything that crosses it is plain data (this package's types), so it
// travels to a session unchanged. What cannot travel is refused with an
// error that says so: Go functions given as RepresentationConfig.Intervention
// (register a named kind with pv.Register in the session's program, or use a
// built-in type). Callbacks (token streaming, progress) run in the caller's
// process.
type Engine interface {
	// Model loads the model called name once and returns it; later calls
	// with the same name return the same model without loading it again.
	// "" means $GOVENE_MODEL, else the shipped model; "shipped" is the
	// shipped model; otherwise a checkpoint folder or a Hugging Face Hub id
	// (from the HF cache, or downloaded). An unknown name is an error that
	// names it.
	Model(name string) (Model, error)
	// Close releases what the engine holds in this process (for a session:
	// the connection; the session keeps serving other cells until it stops).
	Close() error
}

// Model is a loaded language model with its tokenizer.
type Model interface {
	// Name is the name the model was loaded by; Describe says what it is
	// (family, size, source, backend).
	Name() string
	Describe() string
	// Dims are the model's sizes.
	Dims() Dims
	// Encode tokenizes text (no special tokens added).
	Encode(text string) (Prompt, error)
	// TokenID returns the id of token, which must be exactly one token of
	// the vocabulary (e.g. " Paris"); otherwise an error naming it.
	TokenID(token string) (int, error)
	// Tokens returns the text of each id; an id outside the vocabulary is an
	// error naming it.
	Tokens(ids []int) ([]string, error)
	// Run runs prompts (left-padded into one batch) and returns the logits
	// and the values of the given sites.
	Run(prompts []Prompt, sites ...Site) (*Output, error)
	// RunWithCache runs prompts once and keeps every site's value in the
	// engine, for SourceCacheIDs and for reading sites later.
	RunWithCache(prompts []Prompt) (Cache, error)
	// New returns an intervenable model with config cfg (validated as
	// pv.New validates it).
	New(cfg Config) (Intervenable, error)
	// Load reads an intervenable model saved by Intervenable.Save (or
	// pv.Model.Save) from dir.
	Load(dir string) (Intervenable, error)
	// Patch and Trace are sweep.Sweeper's: layers x positions (or heads)
	// grids of a metric. onProgress, when not nil, receives the settings
	// done and their total.
	Patch(base, source Prompt, cfg SweepConfig, onProgress func(done, total int)) (*SweepResult, error)
	Trace(prompt Prompt, corrupt Corruption, cfg SweepConfig, onProgress func(done, total int)) (*SweepResult, error)
	// CausalTrace is trace.Run: ROME's causal tracing of cfg.Subject in
	// cfg.Prompt, three grids (block, MLP, attention outputs). onProgress,
	// when not nil, receives each grid's settings done and their total.
	CausalTrace(cfg TraceConfig, onProgress func(c Component, done, total int)) (*TraceResult, error)
}

// Cache is one run's values at every site, held by the engine.
type Cache interface {
	// ID names the cache in Call.SourceCacheIDs.
	ID() string
	// Site returns the value at site s ([b, ...] as Run returns it).
	Site(s Site) (Tensor, error)
	// Release frees the cache in the engine; using it afterwards is an
	// error.
	Release() error
}

// Intervenable is a model with interventions: pv.Model behind the Engine
// interface.
type Intervenable interface {
	// Keys are the intervention keys, as pyvene names them.
	Keys() []string
	// Config is the validated config, with defaults filled.
	Config() Config
	// Forward runs base prompts with the interventions (pv.Model.Forward).
	Forward(base []Prompt, opts ...CallOption) (*Output, error)
	// Generate decodes from prompts with the interventions
	// (pv.Model.Generate) as opts says; call gives the sources, locations
	// and source representations as for Forward. onToken, when not nil,
	// receives each step's new token per prompt as it is made.
	Generate(prompts []Prompt, opts GenerateOptions, onToken func(step int, ids []int), call ...CallOption) (*Generation, error)
	// Train trains the trainable interventions with DAS (pv.Model.Train);
	// onStep, when not nil, receives every step's loss and evaluation IIA
	// (NaN on steps without evaluation). Progress is shown in the caller's
	// process.
	Train(data, eval []Example, cfg TrainConfig, onStep func(step int, loss, evalIIA float64)) (*TrainReport, error)
	// IIA is the interchange-intervention accuracy on examples.
	IIA(examples []Example, batchSize int) (float64, error)
	// TrainableParameters counts the trainable interventions' weights.
	TrainableParameters() (int, error)
	// Save writes the config and weights to dir atomically, as
	// pv.Model.Save.
	Save(dir string) error
	// Release frees the intervenable model and its compiled graphs in the
	// engine; using it afterwards is an error.
	Release() error
}
