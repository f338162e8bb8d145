package govene

// TraceConfig says what a causal trace traces: the data of trace.Config
// (trace.Run validates it).
type TraceConfig struct {
	// Prompt and Subject: the subject must occur in the prompt.
	Prompt  string `json:"prompt"`
	Subject string `json:"subject"`
	// Target is the token whose probability is measured (e.g. " Seattle").
	Target string `json:"target"`
	// NoiseScale multiplies the standard deviation of the prompt's token
	// embeddings to give the noise level (0: ROME's 3).
	NoiseScale float64 `json:"noise_scale"`
	// Window is how many layers the MLP and attention restorations span (0:
	// ROME's scaled to the model).
	Window int `json:"window"`
	// Seed fixes the noise.
	Seed uint64 `json:"seed"`
}

// TraceGrid is one traced component's grid.
type TraceGrid struct {
	Component Component   `json:"component"`
	Window    int         `json:"window"`
	Result    SweepResult `json:"result"`
}

// TraceResult is a causal trace as data: the data of trace.Result.
type TraceResult struct {
	Config      TraceConfig `json:"config"`
	Tokens      []string    `json:"tokens"`
	SubjectFrom int         `json:"subject_from"` // first subject token
	SubjectTo   int         `json:"subject_to"`   // one past the last subject token
	NoiseLevel  float64     `json:"noise_level"`
	Clean       float64     `json:"clean"`     // P(target) clean
	Corrupted   float64     `json:"corrupted"` // P(target) with the subject corrupted
	Grids       []TraceGrid `json:"grids"`     // block_output, mlp_output, attention_output
	// CleanProbs and CorruptedProbs are the next-token distributions.
	CleanProbs     []float32 `json:"clean_probs"`
	CorruptedProbs []float32 `json:"corrupted_probs"`
}
