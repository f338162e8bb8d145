package govene

import "time"

// Example is one training or evaluation example for DAS (pv.Train): a
// base, one source per source group, the units, and the expected token.
type Example struct {
	Base    Prompt   `json:"base"`
	Sources []Prompt `json:"sources"`
	// SourceUnits and BaseUnits give the units of every intervention
	// ([intervention][units]); nil means each prompt's last position.
	SourceUnits [][]int `json:"source_units,omitempty"`
	BaseUnits   [][]int `json:"base_units,omitempty"`
	// Subspaces, when set, restricts every intervention to these dimensions
	// (or partitions).
	Subspaces [][]int `json:"subspaces,omitempty"`
	// Label is the token id expected after the base's last token.
	Label int `json:"label"`
}

// Adam configures train's Adam optimizer (train.Adam is this type with
// train's methods). Zero fields take the defaults in brackets.
type Adam struct {
	LR          float64 `json:"lr"`           // [1e-3]
	Beta1       float64 `json:"beta1"`        // [0.9]
	Beta2       float64 `json:"beta2"`        // [0.999]
	Eps         float64 `json:"eps"`          // [1e-8]
	WeightDecay float64 `json:"weight_decay"` // decoupled (AdamW) [0]
	// WarmupSteps ramps the learning rate linearly from 0; then, when
	// TotalSteps > 0, it decays linearly to 0 at TotalSteps (transformers'
	// get_linear_schedule_with_warmup, which pyvene's tutorials use).
	WarmupSteps int `json:"warmup_steps"`
	TotalSteps  int `json:"total_steps"`
	// ClipNorm clips the global gradient norm when positive.
	ClipNorm float64 `json:"clip_norm"`
}

// TrainConfig is the data of pv.TrainConfig, without its Progress writer
// and OnStep callback; see pv.TrainConfig for the defaults and the valid
// ranges (pv checks them). pv.TrainConfigFrom converts it.
type TrainConfig struct {
	Adam             Adam    `json:"adam"`
	Epochs           int     `json:"epochs"`
	BatchSize        int     `json:"batch_size"`
	Steps            int     `json:"steps,omitempty"`
	TemperatureStart float64 `json:"temperature_start"`
	TemperatureEnd   float64 `json:"temperature_end"`
	BoundaryL1       float64 `json:"boundary_l1"`
	TrainModel       bool    `json:"train_model"`
	Patience         int     `json:"patience"`
	EvalEvery        int     `json:"eval_every"`
	Seed             uint64  `json:"seed"`
}

// TrainReport summarizes a training run: the steps run, the loss of each,
// the evaluation steps and their interchange intervention accuracy, the
// best of them, why training stopped, and how long it took.
type TrainReport struct {
	Steps     int       `json:"steps"`
	Losses    []float64 `json:"losses"`
	EvalSteps []int     `json:"eval_steps"`
	EvalIIA   []float64 `json:"eval_iia"`
	BestIIA   float64   `json:"best_iia"`
	Stopped   string    `json:"stopped"`
	Duration  time.Duration
}
