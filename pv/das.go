package pv

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/internal/progress"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/train"
)

// TrainConfig configures DAS training. Zero fields take the defaults in
// brackets, which follow pyvene's train_alignment; negative sizes, sizes
// over MaxEpochs and MaxBatchSize, and negative, NaN or infinite
// temperatures or weights are errors (Train checks them before anything
// runs).
type TrainConfig struct {
	Adam      train.Adam `json:"adam"`       // [lr 1e-3, 10% linear warm-up, linear decay]
	Epochs    int        `json:"epochs"`     // [3]
	BatchSize int        `json:"batch_size"` // [16]
	// Steps, when positive, trains exactly this many steps (batches),
	// reshuffling and starting the data again as often as needed; Epochs is
	// then not used [0: Epochs passes over the data].
	Steps int `json:"steps,omitempty"`
	// TemperatureStart and TemperatureEnd anneal Boundless and sigmoid-mask
	// temperatures geometrically over training [50 -> 0.1].
	TemperatureStart float64 `json:"temperature_start"`
	TemperatureEnd   float64 `json:"temperature_end"`
	// BoundaryL1 weighs an L1 penalty on Boundless boundaries and on
	// sigmoid masks, to keep the aligned subspace small [0].
	BoundaryL1 float64 `json:"boundary_l1"`
	// TrainModel also trains the language model's weights (frozen by
	// default).
	TrainModel bool `json:"train_model"`
	// Patience stops training when the evaluation IIA has not improved for
	// this many evaluations (0: never stop early).
	Patience int `json:"patience"`
	// EvalEvery evaluates every so many steps (default: once per epoch).
	EvalEvery int    `json:"eval_every"`
	Seed      uint64 `json:"seed"`
	// Progress receives the progress (default os.Stderr): a bar on a
	// terminal, one updating line in a notebook, a few lines in a log
	// (internal/progress); io.Discard silences it.
	Progress io.Writer `json:"-"`
	// OnStep, when set, is called after every step (for live charts in a
	// notebook); evalIIA is NaN on steps without evaluation.
	OnStep func(step int, loss, evalIIA float64) `json:"-"`
}

// TotalSteps returns how many steps Train takes on n examples with cfg
// (defaults filled): Steps when set, else Epochs passes of batches; an
// error for an invalid config, as Train's.
func (cfg TrainConfig) TotalSteps(n int) (int, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return 0, err
	}
	return cfg.totalSteps(n), nil
}

// totalSteps is TotalSteps for a validated config.
func (cfg TrainConfig) totalSteps(n int) int {
	if cfg.Steps > 0 {
		return cfg.Steps
	}
	return (n + cfg.BatchSize - 1) / cfg.BatchSize * cfg.Epochs
}

// TrainableParameters returns the number of trainable weights, counting
// linked interventions once (pyvene's count_parameters).
func (iv *Model) TrainableParameters() int {
	iv.wmu.RLock()
	defer iv.wmu.RUnlock()
	n := 0
	for i := range iv.cfg.Representations {
		for j, t := range iv.weights[i] {
			if iv.trains(i, j) {
				n += t.Shape().Size()
			}
		}
	}
	return n
}

// trains reports whether Train updates weight j of representation i: a
// weight marked Trainable of a Trainable kind.
func (iv *Model) trains(i, j int) bool { return iv.infos[i].Trainable && iv.specs[i][j].trainable }

// trainableTypes lists the registered types whose kind is trainable.
func trainableTypes() []Type {
	var ts []Type
	for _, t := range Registered() {
		if Trainable(t) {
			ts = append(ts, t)
		}
	}
	return ts
}

// Train fits the interventions' weights so that the intervened model
// predicts each example's label (cross-entropy at the base's last token),
// with Adam, and evaluates interchange-intervention accuracy (IIA) on eval.
// It returns an error for a config without trainable interventions, empty
// data, an invalid TrainConfig (negative sizes or Steps; negative, NaN or infinite
// temperatures and weights; see train.Adam.Validate), a serial-mode config,
// or examples with a label outside the vocabulary or units, subspaces or
// sources that do not match the config's interventions and groups.
// Training runs on one device, the backend's default: its batches are not
// split across the model's devices (its evaluation, IIA, is).
func (iv *Model) Train(data, eval []Example, cfg TrainConfig) (*TrainReport, error) {
	if len(data) == 0 {
		return nil, errors.New("pv: train: no training examples")
	}
	if iv.TrainableParameters() == 0 && !cfg.TrainModel {
		return nil, fmt.Errorf("pv: train: no trainable intervention in the config; use one of %v", trainableTypes())
	}
	if iv.stages != nil {
		return nil, fmt.Errorf("pv: train: mode %q is not supported; train in %q mode", iv.cfg.Mode, Parallel)
	}
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if err := iv.checkExamples("data", data); err != nil {
		return nil, err
	}
	if err := iv.checkExamples("eval", eval); err != nil {
		return nil, err
	}
	if cfg.Progress == nil {
		cfg.Progress = os.Stderr
	}
	perEpoch := (len(data) + cfg.BatchSize - 1) / cfg.BatchSize
	total := cfg.totalSteps(len(data))
	if cfg.Adam.TotalSteps == 0 {
		cfg.Adam.TotalSteps = total
	}
	if cfg.Adam.WarmupSteps == 0 {
		cfg.Adam.WarmupSteps = total / 10
	}
	if cfg.EvalEvery == 0 {
		cfg.EvalEvery = perEpoch
	}

	// Trained parameters: the trainable intervention weights (owners only),
	// then the model's when asked. Other weights (PCA's) are inputs.
	var params []*tensors.Tensor
	var orth []bool
	nFixed := 0
	for i := range iv.cfg.Representations {
		for j, t := range iv.weights[i] {
			if !iv.trains(i, j) {
				nFixed++
				continue
			}
			params = append(params, t)
			orth = append(orth, iv.specs[i][j].orth)
		}
	}
	nw := len(params)
	if cfg.TrainModel {
		params = append(params, iv.model.Params()...)
		orth = append(orth, make([]bool, len(iv.model.Params()))...)
	}
	nModel := len(iv.model.Params())
	var plans []plan
	l1 := cfg.BoundaryL1
	loss := func(p, batch []*graph.Node) (*graph.Node, []*graph.Node) {
		// batch: [model params (frozen) | ids, mask, pos | intervention inputs... | fixed weights... | temps... | labels]
		k := 0
		if !cfg.TrainModel {
			k = nModel
		}
		fn := lm.SplitForward(batch, k)
		modelP := p[nw:]
		if !cfg.TrainModel {
			modelP = fn.Params
		}
		in := fn.Inputs
		in.LastOnly = true
		extra := fn.Extra[:len(fn.Extra)-1]
		labels := fn.Extra[len(fn.Extra)-1]
		nTemps := 0
		for i := range iv.cfg.Representations {
			if iv.weighted(i) {
				nTemps++
			}
		}
		runtime := extra[:len(extra)-nFixed-nTemps]
		fixed := extra[len(extra)-nFixed-nTemps : len(extra)-nTemps]
		// Every owner's weights in order: trained ones from p, fixed ones
		// from the batch.
		var ws []*graph.Node
		for i := range iv.cfg.Representations {
			for j := range iv.weights[i] {
				if iv.trains(i, j) {
					ws, p = append(ws, p[0]), p[1:]
				} else {
					ws, fixed = append(ws, fixed[0]), fixed[1:]
				}
			}
		}
		hook, _ := iv.hook(plans, append(append(append([]*graph.Node{}, runtime...), ws...), extra[len(extra)-nTemps:]...))
		logits := iv.model.BuildForward(modelP, in, hook)
		dims := logits.Shape().Dimensions
		last := graph.Reshape(graph.Slice(logits, graph.AxisRange(), graph.AxisElem(dims[1]-1), graph.AxisRange()), dims[0], dims[2])
		logp := graph.LogSoftmax(last, -1)
		onehot := graph.OneHot(labels, dims[2], dtypes.Float32)
		ce := graph.Neg(graph.ReduceAllMean(graph.ReduceSum(graph.Mul(onehot, logp), -1)))
		if l1 > 0 { // each weight's L1 size (Boundless boundaries, sigmoid masks)
			k := 0
			for i := range iv.cfg.Representations {
				for j := range iv.weights[i] {
					if f := iv.specs[i][j].l1; f != nil {
						ce = graph.Add(ce, graph.MulScalar(f(ws[k]), l1))
					}
					k++
				}
			}
		}
		pred := graph.ArgMax(last, -1)
		correct := graph.ReduceAllSum(graph.ConvertDType(graph.Equal(graph.ConvertDType(pred, dtypes.Int32), labels), dtypes.Float32))
		return ce, []*graph.Node{correct}
	}
	post := func(p []*graph.Node) []*graph.Node {
		for i := range p {
			if orth[i] {
				p[i] = orthonormal(p[i])
			}
		}
		return p
	}
	tr, err := train.New(iv.model.Backend(), params, loss, cfg.Adam, post)
	if err != nil {
		return nil, fmt.Errorf("pv: train: %w", err)
	}
	rep := &TrainReport{BestIIA: math.Inf(-1)}
	start := time.Now()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7a1))
	bar := progress.New(cfg.Progress, "DAS", int64(total), progress.Options{Clear: true})
	defer bar.Finish()
	sinceBest := 0
	order := make([]int, len(data))
	for i := range order {
		order[i] = i
	}
	step := 0
	for step < total && rep.Stopped == "" {
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for s := 0; s < len(order) && step < total && rep.Stopped == ""; s += cfg.BatchSize {
			var batch []Example
			for _, j := range order[s:min(s+cfg.BatchSize, len(order))] {
				batch = append(batch, data[j])
			}
			temp := cfg.TemperatureStart * math.Pow(cfg.TemperatureEnd/cfg.TemperatureStart, float64(step)/float64(max(1, total-1)))
			if err := iv.SetTemperature(temp); err != nil {
				return nil, fmt.Errorf("pv: train: step %d: %w", step, err)
			}
			args, p, err := iv.trainArgs(batch, !cfg.TrainModel)
			if err != nil {
				return nil, err
			}
			plans = p
			l, err := safeStep(tr, args)
			if err != nil {
				return nil, fmt.Errorf("pv: train: %w", err)
			}
			step++
			rep.Losses = append(rep.Losses, l)
			iv.adopt(tr.Params()[:nw])
			evalIIA := math.NaN()
			if len(eval) > 0 && (step%cfg.EvalEvery == 0 || step == total) {
				acc, err := iv.IIA(eval, cfg.BatchSize)
				if err != nil {
					return nil, err
				}
				evalIIA = acc
				rep.EvalSteps, rep.EvalIIA = append(rep.EvalSteps, step), append(rep.EvalIIA, acc)
				if acc > rep.BestIIA {
					rep.BestIIA, sinceBest = acc, 0
				} else if sinceBest++; cfg.Patience > 0 && sinceBest >= cfg.Patience {
					rep.Stopped = fmt.Sprintf("early stop at step %d: IIA did not improve for %d evaluations", step, cfg.Patience)
				}
			}
			bar.Describe(fmt.Sprintf("DAS loss %.4f", l))
			bar.Add(1)
			if cfg.OnStep != nil {
				cfg.OnStep(step, l, evalIIA)
			}
		}
	}
	if rep.Stopped == "" {
		rep.Stopped = "completed"
	}
	rep.Steps, rep.Duration = step, time.Since(start)
	if math.IsInf(rep.BestIIA, -1) {
		rep.BestIIA = math.NaN()
	}
	return rep, nil
}

// safeStep runs one training step, returning a panic raised while its
// graph is built (say, by an intervention kind's Apply) as an error.
func safeStep(tr *train.Trainer, args []any) (loss float64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("graph: %v", r)
		}
	}()
	loss, _, err = tr.Step(args...)
	return loss, err
}

// adopt makes trained tensors the interventions' weights.
func (iv *Model) adopt(ts []*tensors.Tensor) {
	iv.wmu.Lock()
	defer iv.wmu.Unlock()
	k := 0
	for i := range iv.weights {
		for j := range iv.weights[i] {
			if iv.trains(i, j) {
				iv.weights[i][j] = ts[k]
				k++
			}
		}
	}
}

// exampleCall turns examples into Forward options.
func (iv *Model) exampleCall(batch []Example) (*call, []lm.Prompt, error) {
	n := len(iv.cfg.Representations)
	c := &call{noiseSeed: 1, haveLocs: true}
	var bases []lm.Prompt
	groups := make([][]lm.Prompt, iv.groups)
	c.srcLocs, c.baseLocs = make([][][]int, n), make([][][]int, n)
	for e, ex := range batch {
		bases = append(bases, ex.Base)
		srcs := ex.Sources
		if len(srcs) == 1 && iv.groups > 1 {
			srcs = repeat(srcs[0], iv.groups)
		}
		if len(srcs) != iv.groups {
			return nil, nil, fmt.Errorf("pv: example %d: %d sources, the config has %d source groups", e, len(ex.Sources), iv.groups)
		}
		for g := range groups {
			groups[g] = append(groups[g], srcs[g])
		}
		for i := range n {
			su, bu := []int{srcs[iv.group[i]].Last()}, []int{ex.Base.Last()}
			if ex.SourceUnits != nil {
				su = ex.SourceUnits[i]
			}
			if ex.BaseUnits != nil {
				bu = ex.BaseUnits[i]
			}
			c.srcLocs[i] = append(c.srcLocs[i], su)
			c.baseLocs[i] = append(c.baseLocs[i], bu)
		}
		if ex.Subspaces != nil {
			if c.subspaces == nil {
				c.subspaces = make([][][]int, n)
			}
			for i := range n {
				c.subspaces[i] = append(c.subspaces[i], ex.Subspaces[i])
			}
		}
	}
	c.sources = groups
	return c, bases, nil
}

// trainArgs builds a training batch's inputs: [frozen model params] ids,
// mask, positions, intervention inputs, fixed (not trained) weights,
// temperatures, labels.
func (iv *Model) trainArgs(batch []Example, withModel bool) ([]any, []plan, error) {
	c, bases, err := iv.exampleCall(batch)
	if err != nil {
		return nil, nil, err
	}
	bb, inputs, plans, err := iv.setup(bases, c)
	if err != nil {
		return nil, nil, err
	}
	var params []*tensors.Tensor
	if withModel {
		params = iv.model.Params()
	}
	args := lm.ForwardArgs{Params: params, Batch: bb, Extra: inputs}.List()
	iv.wmu.RLock()
	for i := range iv.cfg.Representations {
		for j, t := range iv.weights[i] {
			if !iv.trains(i, j) {
				args = append(args, t)
			}
		}
	}
	for i := range iv.cfg.Representations {
		if iv.weighted(i) {
			args = append(args, tensors.FromScalar(float32(iv.temps[i])))
		}
	}
	iv.wmu.RUnlock()
	labels := make([]int32, len(batch))
	for e, ex := range batch {
		labels[e] = int32(ex.Label)
	}
	return append(args, tensors.FromFlatDataAndDimensions(labels, len(batch))), plans, nil
}

// IIA returns the interchange-intervention accuracy on examples: the share
// whose intervened prediction after the base's last token is the label.
// batchSize 0 means 32; a negative one, or examples that Train would
// reject, are errors. Each batch runs through Forward, split across the
// model's devices.
func (iv *Model) IIA(examples []Example, batchSize int) (float64, error) {
	if len(examples) == 0 {
		return 0, errors.New("pv: IIA: no examples")
	}
	if batchSize < 0 || batchSize > MaxBatchSize {
		return 0, fmt.Errorf("pv: IIA: batch size %d out of range [0, %d] (0: the default, 32)", batchSize, MaxBatchSize)
	}
	if batchSize == 0 {
		batchSize = 32
	}
	if err := iv.checkExamples("examples", examples); err != nil {
		return 0, err
	}
	correct := 0
	for s := 0; s < len(examples); s += batchSize {
		batch := examples[s:min(s+batchSize, len(examples))]
		c, bases, err := iv.exampleCall(batch)
		if err != nil {
			return 0, err
		}
		c.lastOnly = true
		out, err := iv.Forward(bases, func(dst *call) error { *dst = *c; return nil })
		if err != nil {
			return 0, err
		}
		for e, ex := range batch {
			p, err := out.NextTokenProbs(e, false)
			if err != nil {
				return 0, err
			}
			best := 0
			for i, v := range p {
				if v > p[best] {
					best = i
				}
			}
			if best == ex.Label {
				correct++
			}
		}
	}
	return float64(correct) / float64(len(examples)), nil
}
