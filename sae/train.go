package sae

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/internal/progress"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/train"
)

// TrainConfig configures Train. Zero fields take the defaults in brackets,
// which are SAELens 6's (LanguageModelSAERunnerConfig and the architectures'
// training configs) unless said otherwise.
type TrainConfig struct {
	// Architecture is "standard" (ReLU with an L1 penalty), "topk" or
	// "jumprelu" [standard].
	Architecture string `json:"architecture"`
	// DSAE is the number of features [8 * d_in].
	DSAE int `json:"d_sae"`
	// K is how many features a topk SAE keeps active [min(100, d_sae)].
	K int `json:"k,omitempty"`
	// L1Coefficient weighs the standard SAE's sparsity penalty, the mean
	// over tokens of sum_i f_i * ||W_dec row i|| [1], warmed up linearly
	// over L1WarmUpSteps steps [0].
	L1Coefficient float64 `json:"l1_coefficient,omitempty"`
	L1WarmUpSteps int     `json:"l1_warm_up_steps,omitempty"`
	// L0Coefficient weighs the jumprelu SAE's L0 penalty [1], warmed up over
	// L0WarmUpSteps [0]; JumpReLUInitThreshold [0.01] and JumpReLUBandwidth
	// [0.05] set its threshold and the straight-through estimator's width.
	L0Coefficient         float64 `json:"l0_coefficient,omitempty"`
	L0WarmUpSteps         int     `json:"l0_warm_up_steps,omitempty"`
	JumpReLUInitThreshold float64 `json:"jumprelu_init_threshold,omitempty"`
	JumpReLUBandwidth     float64 `json:"jumprelu_bandwidth,omitempty"`
	// AuxLossCoefficient weighs the topk SAE's aux-k loss on dead features
	// [1]; a negative value turns it off. A feature is dead when it has not
	// fired for DeadFeatureWindow steps [1000]; the aux loss is built into
	// the step only when training is longer than that window.
	AuxLossCoefficient float64 `json:"aux_loss_coefficient,omitempty"`
	DeadFeatureWindow  int     `json:"dead_feature_window,omitempty"`
	// DecoderInitNorm is the norm of each W_dec row at initialization
	// [0.1]; negative keeps Kaiming-uniform rows.
	DecoderInitNorm float64 `json:"decoder_init_norm,omitempty"`
	// NormalizeActivations is "none" [none] or "expected_average_only_in":
	// train on activations scaled to a mean norm of sqrt(d_in), and fold
	// the scale into the weights at the end (the saved SAE takes raw
	// activations, with normalize_activations "none", as SAELens saves it).
	NormalizeActivations string `json:"normalize_activations,omitempty"`
	// Adam is the optimizer [lr 3e-4, betas 0.9/0.999, gradient norm
	// clipped at 1, constant learning rate]; its WarmupSteps and TotalSteps
	// give a linear warm-up and a linear decay to 0 (train.Adam.Rate).
	Adam train.Adam `json:"adam"`
	// Steps is how many training steps to take [500].
	Steps int `json:"steps,omitempty"`
	// BatchSize is the number of activations (tokens) per step [4096,
	// at most the number of activations].
	BatchSize int `json:"batch_size,omitempty"`
	// PromptBatch is how many prompts one forward pass of the model takes
	// while collecting activations [32].
	PromptBatch int `json:"prompt_batch,omitempty"`
	// SkipFirstToken drops each prompt's first token from the activations
	// (the BOS token where the tokenizer prepends one; its activations are
	// outliers that dominate the reconstruction loss).
	SkipFirstToken bool `json:"skip_first_token,omitempty"`
	// LogEvery records a TrainLog every so many steps [steps/100, at least
	// 1]; the last step is always recorded.
	LogEvery int `json:"log_every,omitempty"`
	// ModelName is written to the SAE's config (model_name).
	ModelName string `json:"model_name,omitempty"`
	// Seed seeds the initialization and the shuffling.
	Seed uint64 `json:"seed"`
	// Progress is where the progress bar goes [os.Stderr]; package
	// internal/progress draws a bar on a terminal, updates one line in a
	// notebook and writes a few lines to a log. io.Discard silences it.
	Progress io.Writer `json:"-"`
	// OnLog, when set, is called with each recorded TrainLog (for live
	// charts in a notebook).
	OnLog func(TrainLog) `json:"-"`
}

// TrainLog is one logged training step: SAELens' training metrics on that
// step's batch.
type TrainLog struct {
	Step              int     `json:"step"`
	Loss              float64 `json:"loss"`
	MSELoss           float64 `json:"mse_loss"`
	SparsityLoss      float64 `json:"sparsity_loss"` // l1_loss (standard) or l0_loss (jumprelu)
	AuxLoss           float64 `json:"aux_loss"`      // topk's auxiliary_reconstruction_loss
	L0                float64 `json:"l0"`
	ExplainedVariance float64 `json:"explained_variance"`
	LR                float64 `json:"lr"`
	DeadFeatures      int     `json:"dead_features"`
}

// TrainReport is what Train did: the config with its defaults filled, the
// logged steps and the metrics of the final SAE over every activation.
type TrainReport struct {
	Config TrainConfig `json:"config"`
	// HookName is the site's TransformerLens name, as in the SAE's config.
	HookName string `json:"hook_name"`
	// Tokens is how many activations training drew from.
	Tokens int `json:"tokens"`
	// ScalingFactor is the expected_average_only_in scale (1 without).
	ScalingFactor float64    `json:"scaling_factor"`
	Logs          []TrainLog `json:"logs"`
	// Final holds the trained SAE's loss, MSE, L0 and explained variance
	// over all activations (in the scaled units it trained on).
	Final    TrainLog      `json:"final"`
	Duration time.Duration `json:"duration_ns"`
}

// withDefaults checks the config and fills zero fields; with dIn 0 it only
// checks (and fills PromptBatch).
func (cfg TrainConfig) withDefaults(dIn int) (TrainConfig, error) {
	if cfg.Architecture == "" {
		cfg.Architecture = ArchStandard
	}
	if !slices.Contains([]string{ArchStandard, ArchTopK, ArchJumpReLU}, cfg.Architecture) {
		return cfg, fmt.Errorf("sae: train: architecture %q; valid: %q, %q, %q", cfg.Architecture, ArchStandard, ArchTopK, ArchJumpReLU)
	}
	if cfg.NormalizeActivations == "" {
		cfg.NormalizeActivations = NormNone
	}
	if cfg.NormalizeActivations != NormNone && cfg.NormalizeActivations != NormExpectedAverage {
		return cfg, fmt.Errorf("sae: train: normalize_activations %q; valid: %q, %q", cfg.NormalizeActivations, NormNone, NormExpectedAverage)
	}
	ints := []struct {
		name string
		v    int
	}{{"d_sae", cfg.DSAE}, {"k", cfg.K}, {"l1_warm_up_steps", cfg.L1WarmUpSteps}, {"l0_warm_up_steps", cfg.L0WarmUpSteps},
		{"dead_feature_window", cfg.DeadFeatureWindow}, {"steps", cfg.Steps}, {"batch_size", cfg.BatchSize},
		{"prompt_batch", cfg.PromptBatch}, {"log_every", cfg.LogEvery}}
	for _, f := range ints {
		if f.v < 0 {
			return cfg, fmt.Errorf("sae: train: %s %d must not be negative (0: the default)", f.name, f.v)
		}
	}
	floats := []struct {
		name string
		v    float64
	}{{"l1_coefficient", cfg.L1Coefficient}, {"l0_coefficient", cfg.L0Coefficient},
		{"jumprelu_init_threshold", cfg.JumpReLUInitThreshold}, {"jumprelu_bandwidth", cfg.JumpReLUBandwidth}}
	for _, f := range floats {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return cfg, fmt.Errorf("sae: train: %s %g must be a finite number >= 0 (0: the default)", f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"aux_loss_coefficient", cfg.AuxLossCoefficient}, {"decoder_init_norm", cfg.DecoderInitNorm}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return cfg, fmt.Errorf("sae: train: %s %g must be finite (0: the default; negative: off)", f.name, f.v)
		}
	}
	if err := cfg.Adam.Validate(); err != nil {
		return cfg, fmt.Errorf("sae: train: %w", err)
	}
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	deff := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	def(&cfg.PromptBatch, 32)
	if dIn == 0 { // validation only: d_in is not known yet
		return cfg, nil
	}
	def(&cfg.DSAE, 8*dIn)
	def(&cfg.K, min(100, cfg.DSAE))
	def(&cfg.DeadFeatureWindow, 1000)
	def(&cfg.Steps, 500)
	def(&cfg.BatchSize, 4096)
	def(&cfg.LogEvery, max(1, cfg.Steps/100))
	deff(&cfg.L1Coefficient, 1)
	deff(&cfg.L0Coefficient, 1)
	deff(&cfg.JumpReLUInitThreshold, 0.01)
	deff(&cfg.JumpReLUBandwidth, 0.05)
	deff(&cfg.AuxLossCoefficient, 1)
	deff(&cfg.DecoderInitNorm, 0.1)
	deff(&cfg.Adam.LR, 3e-4)
	deff(&cfg.Adam.ClipNorm, 1)
	if cfg.Architecture == ArchTopK && cfg.K > cfg.DSAE {
		return cfg, fmt.Errorf("sae: train: k %d must be at most d_sae %d", cfg.K, cfg.DSAE)
	}
	return cfg, nil
}

// Train trains a sparse autoencoder on m's activations at site over the
// prompts, as SAELens 6 does: activations are collected (padding dropped,
// and each prompt's first token when cfg.SkipFirstToken), shuffled with
// cfg.Seed and drawn in batches; W_dec's rows start Kaiming-uniform scaled
// to decoder_init_norm, W_enc = W_dec^T, the biases at 0; each step is one
// compiled graph (the loss, its gradient and Adam's update, package train)
// with SAELens' losses: MSE plus the l1 penalty weighted by decoder norms
// (standard), MSE plus the aux-k loss with rescale_acts_by_decoder_norm
// (topk), MSE plus the L0 penalty with straight-through estimators on the
// threshold (jumprelu). The returned SAE takes raw activations (any
// activation scale and topk's decoder norms are folded into the weights,
// as SAELens saves its inference SAE); s.Save writes it in SAELens' format.
//
// It returns an error for no prompts, a site without a TransformerLens
// hook name (see the Config's hook_name) or one laid out per head, an
// invalid config (an unknown architecture or normalisation, negative sizes,
// negative or non-finite coefficients, k over d_sae, a bad Adam), a failing
// forward pass, or a training step whose loss is not finite.
func Train(m lm.Model, site lm.Site, prompts []lm.Prompt, cfg TrainConfig) (*SAE, *TrainReport, error) {
	start := time.Now()
	if m == nil {
		return nil, nil, errors.New("sae: train: no model")
	}
	if len(prompts) == 0 {
		return nil, nil, errors.New("sae: train: no prompts")
	}
	hook, err := hookNameFor(site)
	if err != nil {
		return nil, nil, fmt.Errorf("sae: train: %w", err)
	}
	checked, err := cfg.withDefaults(0) // reject a bad config before any forward pass
	if err != nil {
		return nil, nil, err
	}
	acts, err := collectActivations(m, site, prompts, checked.PromptBatch, cfg.SkipFirstToken)
	if err != nil {
		return nil, nil, err
	}
	dIn := acts.d
	if cfg, err = cfg.withDefaults(dIn); err != nil {
		return nil, nil, err
	}
	if cfg.Progress == nil {
		cfg.Progress = os.Stderr
	}
	batch := min(cfg.BatchSize, acts.rows)
	rep := &TrainReport{Config: cfg, HookName: hook, Tokens: acts.rows, ScalingFactor: 1}
	if cfg.NormalizeActivations == NormExpectedAverage {
		if n := acts.meanNorm(); n > 0 {
			rep.ScalingFactor = math.Sqrt(float64(dIn)) / n
		}
	}

	lg := lossGraph{arch: cfg.Architecture, k: cfg.K, bandwidth: cfg.JumpReLUBandwidth,
		auxLoss: cfg.Architecture == ArchTopK && cfg.AuxLossCoefficient > 0 && cfg.Steps > cfg.DeadFeatureWindow}
	tr, err := train.New(m.Backend(), initParams(cfg, dIn), lg.loss, cfg.Adam, lg.post)
	if err != nil {
		return nil, nil, fmt.Errorf("sae: train: %w", err)
	}
	coefFinal, warm := cfg.L1Coefficient, cfg.L1WarmUpSteps
	if cfg.Architecture == ArchJumpReLU {
		coefFinal, warm = cfg.L0Coefficient, cfg.L0WarmUpSteps
	}
	smp := newSampler(acts, float32(rep.ScalingFactor), cfg.Seed)
	sinceFired := make([]int, cfg.DSAE)
	kAux := dIn / 2
	bar := progress.New(cfg.Progress, "SAE", int64(cfg.Steps), progress.Options{Clear: true})
	defer bar.Finish()
	for s := range cfg.Steps {
		coef := coefFinal
		if warm > 0 && s < warm {
			coef = coefFinal * float64(s) / float64(warm)
		}
		dead := make([]float32, cfg.DSAE)
		nDead := 0
		for i, n := range sinceFired {
			if n > cfg.DeadFeatureWindow {
				dead[i], nDead = 1, nDead+1
			}
		}
		auxScale, auxK := 0.0, 1
		if nDead > 0 {
			auxScale, auxK = cfg.AuxLossCoefficient*min(float64(nDead)/float64(kAux), 1), min(kAux, nDead)
		}
		loss, extra, err := tr.Step(smp.batch(batch), tensors.FromScalar(float32(coef)),
			tensors.FromFlatDataAndDimensions(dead, cfg.DSAE), tensors.FromScalar(float32(auxScale)), tensors.FromScalar(float32(auxK)))
		if err != nil {
			return nil, nil, fmt.Errorf("sae: train: step %d: %w", s+1, err)
		}
		fired := tensors.MustCopyFlatData[float32](extra[outFired])
		for i, c := range fired {
			if c > 0 {
				sinceFired[i] = 0
			} else {
				sinceFired[i]++
			}
		}
		if (s+1)%cfg.LogEvery == 0 || s+1 == cfg.Steps {
			l := logOf(s+1, loss, extra)
			l.LR, l.DeadFeatures = cfg.Adam.Rate(s+1), nDead
			rep.Logs = append(rep.Logs, l)
			if cfg.OnLog != nil {
				cfg.OnLog(l)
			}
			bar.Describe(fmt.Sprintf("SAE loss %.4g L0 %.1f EV %.3f", l.Loss, l.L0, l.ExplainedVariance))
		}
		bar.Add(1)
	}
	final, err := evaluate(tr, acts, batch, float32(rep.ScalingFactor), coefFinal, cfg.DSAE)
	if err != nil {
		return nil, nil, err
	}
	final.Step = cfg.Steps
	rep.Final = final
	s, err := export(tr.Params(), cfg, dIn, site, hook, rep.ScalingFactor)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range prompts {
		s.ContextSize = max(s.ContextSize, p.Len())
	}
	rep.Duration = time.Since(start)
	return s, rep, nil
}

// logOf reads a step's metrics from the graph's outputs.
func logOf(step int, loss float64, extra []*tensors.Tensor) TrainLog {
	scalar := func(i int) float64 { return float64(tensors.MustCopyFlatData[float32](extra[i])[0]) }
	return TrainLog{Step: step, Loss: loss, MSELoss: scalar(outMSE), SparsityLoss: scalar(outSparsity),
		AuxLoss: scalar(outAux), L0: scalar(outL0), ExplainedVariance: scalar(outEV)}
}

// post keeps a JumpReLU threshold non-negative after each update (SAELens
// projects it before each forward).
func (lg lossGraph) post(p []*graph.Node) []*graph.Node {
	if lg.arch == ArchJumpReLU {
		p[pThreshold] = relu(p[pThreshold])
	}
	return p
}

// initParams returns SAELens' initial weights: W_dec [d_sae, d_in] Kaiming
// uniform (bound sqrt(6/d_in)) with rows rescaled to decoder_init_norm,
// W_enc its transpose, zero biases, and for jumprelu the threshold at
// jumprelu_init_threshold.
func initParams(cfg TrainConfig, dIn int) []*tensors.Tensor {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x1417))
	n := cfg.DSAE
	bound := math.Sqrt(6 / float64(dIn))
	wDec := make([]float32, n*dIn)
	for i := range wDec {
		wDec[i] = float32((2*rng.Float64() - 1) * bound)
	}
	if cfg.DecoderInitNorm > 0 {
		for i := range n {
			row := wDec[i*dIn : (i+1)*dIn]
			norm := 0.0
			for _, x := range row {
				norm += float64(x) * float64(x)
			}
			norm = math.Sqrt(norm)
			for j := range row {
				row[j] = float32(float64(row[j]) / norm * cfg.DecoderInitNorm)
			}
		}
	}
	wEnc := transpose(wDec, n, dIn)
	ps := []*tensors.Tensor{
		tensors.FromFlatDataAndDimensions(wEnc, dIn, n),
		tensors.FromFlatDataAndDimensions(make([]float32, n), n),
		tensors.FromFlatDataAndDimensions(wDec, n, dIn),
		tensors.FromFlatDataAndDimensions(make([]float32, dIn), dIn),
	}
	if cfg.Architecture == ArchJumpReLU {
		thr := make([]float32, n)
		for i := range thr {
			thr[i] = float32(cfg.JumpReLUInitThreshold)
		}
		ps = append(ps, tensors.FromFlatDataAndDimensions(thr, n))
	}
	return ps
}

// transpose returns the [c, r] transpose of an [r, c] matrix.
func transpose(a []float32, r, c int) []float32 {
	t := make([]float32, len(a))
	for i := range r {
		for j := range c {
			t[j*r+i] = a[i*c+j]
		}
	}
	return t
}

// evaluate computes the loss and metrics over every activation, in chunks
// of batch rows; explained variance is over the whole set.
func evaluate(tr *train.Trainer, acts *activations, batch int, scale float32, coef float64, dSAE int) (TrainLog, error) {
	var sumLoss, sumMSE, sumSparsity, sumL0 float64
	dead := tensors.FromFlatDataAndDimensions(make([]float32, dSAE), dSAE)
	for s := 0; s < acts.rows; s += batch {
		n := min(batch, acts.rows-s)
		x := make([]float32, n*acts.d)
		for i, v := range acts.data[s*acts.d : (s+n)*acts.d] {
			x[i] = v * scale
		}
		loss, extra, err := tr.Eval(tensors.FromFlatDataAndDimensions(x, n, acts.d), tensors.FromScalar(float32(coef)),
			dead, tensors.FromScalar(float32(0)), tensors.FromScalar(float32(1)))
		if err != nil {
			return TrainLog{}, fmt.Errorf("sae: train: final evaluation: %w", err)
		}
		l := logOf(0, loss, extra)
		w := float64(n)
		sumLoss, sumMSE, sumSparsity, sumL0 = sumLoss+w*l.Loss, sumMSE+w*l.MSELoss, sumSparsity+w*l.SparsityLoss, sumL0+w*l.L0
	}
	rowsN := float64(acts.rows)
	mean := make([]float64, acts.d)
	for i := range acts.rows {
		for j, v := range acts.row(i) {
			mean[j] += float64(v*scale) / rowsN
		}
	}
	variance := 0.0
	for i := range acts.rows {
		for j, v := range acts.row(i) {
			d := float64(v*scale) - mean[j]
			variance += d * d
		}
	}
	variance /= rowsN
	out := TrainLog{Loss: sumLoss / rowsN, MSELoss: sumMSE / rowsN, SparsityLoss: sumSparsity / rowsN, L0: sumL0 / rowsN}
	out.ExplainedVariance = 1 - out.MSELoss/variance
	return out, nil
}

// export turns the trained parameters into an inference SAE as SAELens
// saves one: the activation scale folded in (W_enc * s, W_dec / s, b_dec / s),
// then for topk the decoder norms (W_enc and b_enc times the norm, W_dec
// rows to unit norm).
func export(ps []*tensors.Tensor, cfg TrainConfig, dIn int, site lm.Site, hook string, scale float64) (*SAE, error) {
	vals := make([][]float32, len(ps))
	for i, p := range ps {
		v, err := tensors.CopyFlatData[float32](p)
		if err != nil {
			return nil, fmt.Errorf("sae: train: parameter %d: %w", i, err)
		}
		vals[i] = v
	}
	n := cfg.DSAE
	wEnc, bEnc, wDec, bDec := vals[pWEnc], vals[pBEnc], vals[pWDec], vals[pBDec]
	if scale != 1 {
		for i := range wEnc {
			wEnc[i] = float32(float64(wEnc[i]) * scale)
		}
		for i := range wDec {
			wDec[i] = float32(float64(wDec[i]) / scale)
		}
		for i := range bDec {
			bDec[i] = float32(float64(bDec[i]) / scale)
		}
	}
	if cfg.Architecture == ArchTopK {
		for f := range n {
			row := wDec[f*dIn : (f+1)*dIn]
			norm := 0.0
			for _, x := range row {
				norm += float64(x) * float64(x)
			}
			norm = max(math.Sqrt(norm), 1e-8)
			for j := range row {
				row[j] = float32(float64(row[j]) / norm)
			}
			bEnc[f] = float32(float64(bEnc[f]) * norm)
			for j := range dIn {
				wEnc[j*n+f] = float32(float64(wEnc[j*n+f]) * norm)
			}
		}
	}
	s := &SAE{Config: Config{Architecture: cfg.Architecture, DIn: dIn, DSAE: n, HookName: hook, HookLayer: max(site.Layer, 0),
		ApplyBDecToInput: true, NormalizeActivations: NormNone, Dtype: "float32", ModelName: cfg.ModelName},
		WEnc: wEnc, BEnc: bEnc, WDec: wDec, BDec: bDec, Scale: 1}
	if cfg.Architecture == ArchTopK {
		s.K = cfg.K
	}
	if cfg.Architecture == ArchJumpReLU {
		s.Threshold = vals[pThreshold]
	}
	return s, nil
}
