package retrain

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/shipped"
	"github.com/govene/govene/train"
)

// TrainConfig configures Train. Zero fields take the defaults in brackets
// (DefaultTrainConfig's values).
type TrainConfig struct {
	// Model is the architecture; its vocab_size must be GPT-2's 50257.
	Model gpt2.Config
	// Seed seeds the corpus, the initial weights and the batch order [1].
	Seed uint64
	// CorpusSize is the number of corpus sentences [40000].
	CorpusSize int
	// Steps is the number of Adam updates [2500].
	Steps int
	// Rows is the most sentences in one batch [32].
	Rows int
	// SeqLen is the padded length of a batch's rows; longer sentences are
	// dropped [16].
	SeqLen int
	// Targets is the number of predicted tokens in one batch: sentences are
	// added to a batch until their next-token targets would exceed it [256].
	Targets int
	// Negatives, when positive, trains with a sampled softmax: the
	// partition function is summed over every token of the corpus and
	// Negatives other tokens drawn uniformly at each step (their terms
	// weighted by how many tokens each stands for), instead of over all
	// 50257 tokens. A negative value computes the exact full-vocabulary
	// cross-entropy, about twice as costly per step on the pure-Go backend
	// [2048].
	Negatives int
	// Adam configures the optimizer [LR 3e-3, 100 warm-up steps, linear
	// decay to 0 at Steps, clip norm 1, weight decay 0.01].
	Adam train.Adam
	// Backend trains on this backend; nil means backend.Default().
	Backend compute.Backend
	// Out, when set, is the folder the checkpoint is written to (see
	// SaveF16), and Train returns the model loaded back from it.
	Out string
	// LocalLayers is how many of the first layers are trained to attend
	// locally: an auxiliary loss penalises their attention probability on
	// keys more than LocalWindow positions before the query, so that a
	// subject's information can reach the last position only from the
	// middle layers on, as in GPT-2 small (nothing masks attention at
	// inference; the model learns it). Zero means n_layer/2, a negative
	// value turns the penalty off [n_layer/2].
	LocalLayers int
	// LocalWindow is how many previous positions a local layer may attend
	// to besides the query's own [1].
	LocalWindow int
	// LocalWeight multiplies the auxiliary loss, the mean attention
	// probability (over local layers, heads and real query tokens) on keys
	// outside the window [1].
	LocalWeight float64
	// RecencyWeight, when positive, adds to the loss RecencyWeight times
	// the other layers' mean attention distance (query minus key position,
	// divided by SeqLen, averaged over heads and real query tokens): a
	// preference for the nearest source of a piece of information [0].
	RecencyWeight float64
	// SubjectWeight, when positive, adds to the loss SubjectWeight times
	// the mean attention probability that the layers after the local ones
	// (LocalLayers to n_layer-1) put, from the positions after a landmark
	// fact's subject, on the subject's tokens other than its last: the
	// later layers then read the subject only at its last token, which
	// the local layers have filled with the whole subject (as ROME's causal
	// traces show in GPT-2). Sentences without a subject add nothing. Zero
	// means the default, a negative value turns it off [2].
	SubjectWeight float64
	// SubjectStrict extends the subject penalty (with SubjectWeight) to
	// two more routes around the subject's last token: the later layers'
	// attention from the last subject token itself to the subject's other
	// tokens (so the local layers must gather the subject there), and the
	// local layers' attention from the positions after the subject to any
	// subject token (so the subject reaches them only through the later
	// layers) [false].
	SubjectStrict bool
	// SubjectLocal adds only SubjectStrict's second part: the local layers
	// pay for attention from the positions after the subject to any subject
	// token [false].
	SubjectLocal bool
	// SubjectReadLayers, when positive, is how many layers after the local
	// ones may read the subject from the positions after it (at its last
	// token); with SubjectWeight, the layers after those are penalised for
	// attention from those positions to any subject token, so the subject
	// has reached them by then [0: every layer may].
	SubjectReadLayers int
	// Progress, when set, is called after every step with the next-token
	// loss, the local layers' mean attention probability outside their
	// window (0 without local layers) and the later layers' mean attention
	// on a subject's tokens other than its last (0 without SubjectWeight).
	Progress func(step int, loss, far, subject float64)
	// Check, when set, is called every CheckEvery steps with the model
	// holding the current weights (to watch what it has learned).
	Check      func(step int, m *gpt2.Model)
	CheckEvery int
}

// DefaultTrainConfig returns the configuration the shipped model was trained
// with.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{
		Model: shipped.DefaultModel(), Seed: 1, CorpusSize: 40000, Steps: 2500,
		Rows: 32, SeqLen: 16, Targets: 256, Negatives: 2048,
		Adam:        train.Adam{LR: 3e-3, WarmupSteps: 100, ClipNorm: 1, WeightDecay: 0.01},
		LocalLayers: 4, LocalWindow: 1, LocalWeight: 1, SubjectWeight: 2,
	}
}

func (c TrainConfig) withDefaults() TrainConfig {
	d := DefaultTrainConfig()
	if c.Model.NLayer == 0 {
		c.Model = d.Model
	}
	c.Seed, c.CorpusSize, c.Steps = cmp.Or(c.Seed, d.Seed), cmp.Or(c.CorpusSize, d.CorpusSize), cmp.Or(c.Steps, d.Steps)
	c.Rows, c.SeqLen, c.Targets = cmp.Or(c.Rows, d.Rows), cmp.Or(c.SeqLen, d.SeqLen), cmp.Or(c.Targets, d.Targets)
	c.LocalWindow, c.LocalWeight = cmp.Or(c.LocalWindow, d.LocalWindow), cmp.Or(c.LocalWeight, d.LocalWeight)
	if c.Negatives < 0 {
		c.Negatives = 0
	} else if c.Negatives == 0 {
		c.Negatives = d.Negatives
	}
	if c.LocalLayers == 0 {
		c.LocalLayers = c.Model.NLayer / 2
	} else if c.LocalLayers < 0 {
		c.LocalLayers = 0
	}
	if c.SubjectWeight < 0 {
		c.SubjectWeight = 0
	} else if c.SubjectWeight == 0 {
		c.SubjectWeight = d.SubjectWeight
	}
	if c.Adam == (train.Adam{}) {
		c.Adam = d.Adam
	}
	if c.Adam.TotalSteps == 0 {
		c.Adam.TotalSteps = c.Steps
	}
	return c
}

// batch is one training batch: rows of left-padded sentences and the flat
// positions, targets and weights of the next-token predictions.
type batch struct {
	rows, seqLen   int
	ids, positions []int32   // [rows*seqLen]
	mask           []float32 // [rows*seqLen]
	// subjKey marks a subject's tokens other than its last, subjLast its
	// last token and after the positions after the subject.
	subjKey, subjLast, after []float32 // [rows*seqLen]
	at, target               []int32   // [targets]: flat position predicting target
	weight                   []float32 // [targets]: 1 for a real target, 0 for filling
	// The sampled softmax's candidates and their log-weights.
	cand []int32
	corr []float32
}

// inputs returns the batch's graph inputs without parameters, as Train's
// loss reads them.
func (b *batch) inputs() []any { return b.args(nil) }

// args returns params (may be nil) followed by the batch's inputs, as
// readTrainInputs reads them.
func (b *batch) args(params []*tensors.Tensor) []any {
	k := len(b.at)
	extra := []any{
		tensors.FromFlatDataAndDimensions(b.at, k),
		tensors.FromFlatDataAndDimensions(b.target, k),
		tensors.FromFlatDataAndDimensions(b.weight, k),
		tensors.FromFlatDataAndDimensions(b.subjKey, b.rows, b.seqLen),
		tensors.FromFlatDataAndDimensions(b.after, b.rows, b.seqLen),
		tensors.FromFlatDataAndDimensions(b.subjLast, b.rows, b.seqLen),
	}
	if b.cand != nil {
		extra = append(extra,
			tensors.FromFlatDataAndDimensions(b.cand, len(b.cand)),
			tensors.FromFlatDataAndDimensions(b.corr, len(b.corr)))
	}
	tokens := &lm.Batch{Size: b.rows, Len: b.seqLen, IDs: b.ids, Mask: b.mask, Positions: b.positions}
	return lm.ForwardArgs{Params: params, Batch: tokens, Extra: extra}.List()
}

// trainInputs names the training graph's inputs (after the parameters) as
// batch.inputs lays them out.
type trainInputs struct {
	lm.Inputs                      // ids, mask, positions [rows,seqLen]
	at, target, weight       *Node // [targets]
	subjKey, after, subjLast *Node // [rows,seqLen]
	cand, corr               *Node // [candidates]; nil without sampling
}

// readTrainInputs names in, a graph's inputs laid out by batch.args with
// nParams parameters first; sampled says whether the batch has candidates.
// It returns the parameter nodes and the batch's.
func readTrainInputs(in []*Node, nParams int, sampled bool) ([]*Node, trainInputs) {
	fn := lm.SplitForward(in, nParams)
	e := fn.Extra
	t := trainInputs{Inputs: fn.Inputs, at: e[0], target: e[1], weight: e[2], subjKey: e[3], after: e[4], subjLast: e[5]}
	if sampled {
		t.cand, t.corr = e[6], e[7]
	}
	return fn.Params, t
}

// batcher cuts shuffled sentences into batches of at most rows sentences and
// at most targets predictions, epoch after epoch.
type batcher struct {
	seqs                  [][]int
	spans                 [][2]int // each sentence's subject tokens [from, to); nil or {0, 0}: none
	rows, seqLen, targets int
	pad                   int
	rng                   *rand.Rand
	order                 []int
	next                  int
	// Sampled softmax: the corpus's tokens, the others, and how many of the
	// others to draw per batch (0: exact softmax).
	known, rest []int32
	negatives   int
	// once stops at the end of the sentences, in order, instead of
	// shuffling them again.
	once bool
}

func newBatcher(seqs [][]int, cfg TrainConfig, pad int, rngSeq uint64) *batcher {
	bt := &batcher{seqs: seqs, rows: cfg.Rows, seqLen: cfg.SeqLen, targets: cfg.Targets, pad: pad,
		rng: rand.New(rand.NewPCG(cfg.Seed, rngSeq)), order: make([]int, len(seqs)), negatives: cfg.Negatives}
	for i := range bt.order {
		bt.order[i] = i
	}
	bt.next = len(bt.order) // shuffle first
	if cfg.Negatives > 0 {
		seen := make([]bool, cfg.Model.VocabSize)
		seen[pad] = true
		for _, s := range seqs {
			for _, id := range s {
				seen[id] = true
			}
		}
		for id, ok := range seen {
			if ok {
				bt.known = append(bt.known, int32(id))
			} else {
				bt.rest = append(bt.rest, int32(id))
			}
		}
	}
	return bt
}

func (bt *batcher) nextBatch() *batch {
	b := &batch{rows: bt.rows, seqLen: bt.seqLen,
		ids: make([]int32, bt.rows*bt.seqLen), positions: make([]int32, bt.rows*bt.seqLen),
		mask:    make([]float32, bt.rows*bt.seqLen),
		subjKey: make([]float32, bt.rows*bt.seqLen), after: make([]float32, bt.rows*bt.seqLen),
		subjLast: make([]float32, bt.rows*bt.seqLen),
		at:       make([]int32, bt.targets), target: make([]int32, bt.targets), weight: make([]float32, bt.targets),
	}
	for i := range b.ids {
		b.ids[i] = int32(bt.pad)
		b.positions[i] = 1
	}
	row, k := 0, 0
	for row < bt.rows {
		if bt.next >= len(bt.order) {
			if bt.once {
				break
			}
			bt.rng.Shuffle(len(bt.order), func(i, j int) { bt.order[i], bt.order[j] = bt.order[j], bt.order[i] })
			bt.next = 0
		}
		s := bt.seqs[bt.order[bt.next]]
		var span [2]int
		if bt.spans != nil {
			span = bt.spans[bt.order[bt.next]]
		}
		if k+len(s)-1 > bt.targets {
			break
		}
		bt.next++
		off := row*bt.seqLen + bt.seqLen - len(s) // left padding, as inference does
		for j, id := range s {
			b.ids[off+j] = int32(id)
			b.mask[off+j] = 1
			b.positions[off+j] = int32(j)
			if j+1 < len(s) {
				b.at[k], b.target[k], b.weight[k] = int32(off+j), int32(s[j+1]), 1
				k++
			}
			if span[1] > span[0] {
				if j >= span[0] && j < span[1]-1 {
					b.subjKey[off+j] = 1
				}
				if j == span[1]-1 {
					b.subjLast[off+j] = 1
				}
				if j >= span[1] {
					b.after[off+j] = 1
				}
			}
		}
		row++
	}
	if bt.negatives > 0 {
		b.cand = append(make([]int32, 0, len(bt.known)+bt.negatives), bt.known...)
		b.corr = make([]float32, len(bt.known), len(bt.known)+bt.negatives)
		w := float32(math.Log(float64(len(bt.rest)) / float64(bt.negatives)))
		for range bt.negatives {
			b.cand = append(b.cand, bt.rest[bt.rng.IntN(len(bt.rest))])
			b.corr = append(b.corr, w)
		}
	}
	return b
}

// locality configures the auxiliary loss on the first layers' attention.
type locality struct {
	layers, window int
	weight         float64
	recency        float64
	subject        float64
	strict, local  bool
	readUntil      int // layers from readUntil on may not read any subject token after it; 0: none
}

// subjectAttention returns the mean attention probability, over the heads
// and the queries marked in after [b,s], that weights [b,h,s,s] puts on the
// keys marked in keys [b,s].
func subjectAttention(weights, keys, after *Node) *Node {
	g := weights.Graph()
	heads := weights.Shape().Dimensions[1]
	perQuery := ReduceSum(Mul(weights, ExpandAxes(keys, 1, 2)), -1) // [b,h,s]
	masked := Mul(perQuery, ExpandAxes(after, 1))
	count := MulScalar(ReduceAllSum(after), float64(heads))
	return Div(ReduceAllSum(masked), Max(count, ScalarOne(g, dtypes.Float32)))
}

// farAttention returns the mean attention probability, over the heads and
// the real query tokens (mask [b,s]), that weights [b,h,s,s] puts on keys
// more than window positions before the query.
func farAttention(weights, mask *Node, window int) *Node {
	g := weights.Graph()
	dims := weights.Shape().Dimensions
	s := dims[2]
	far := make([]float32, s*s)
	for q := range s {
		for k := range q - window {
			far[q*s+k] = 1
		}
	}
	f := Reshape(Const(g, far), 1, 1, s, s)
	perQuery := ReduceSum(Mul(weights, f), -1)               // [b,h,s]
	masked := Mul(perQuery, ExpandAxes(mask, 1))             // [b,h,s]
	count := MulScalar(ReduceAllSum(mask), float64(dims[1])) // real queries x heads
	return Div(ReduceAllSum(masked), Max(count, ScalarOne(g, dtypes.Float32)))
}

// attentionDistance returns the mean distance, over the heads and the real
// query tokens (mask [b,s]), from a query to the keys weights [b,h,s,s]
// attends to, divided by the sequence length.
func attentionDistance(weights, mask *Node) *Node {
	g := weights.Graph()
	dims := weights.Shape().Dimensions
	s := dims[2]
	dist := make([]float32, s*s)
	for q := range s {
		for k := range q {
			dist[q*s+k] = float32(q-k) / float32(s)
		}
	}
	d := Reshape(Const(g, dist), 1, 1, s, s)
	perQuery := ReduceSum(Mul(weights, d), -1)
	masked := Mul(perQuery, ExpandAxes(mask, 1))
	count := MulScalar(ReduceAllSum(mask), float64(dims[1]))
	return Div(ReduceAllSum(masked), Max(count, ScalarOne(g, dtypes.Float32)))
}

// nextTokenLoss returns the loss function of Train: the mean next-token
// cross-entropy over the real targets, from model's forward pass, plus
// loc.weight times the local layers' attention outside their window
// (farAttention, averaged over loc.layers layers; extra outputs: the number
// of targets, the next-token loss and that far attention). The final
// hidden state is read at the ln_final site and only the target positions
// are unembedded (with the tied wte), so the forward pass's own logits are
// unused and never computed. With sampled false the softmax runs over the
// whole vocabulary; with sampled true over the batch's candidates
// (trainInputs' cand and corr: ids and log-weights).
func nextTokenLoss(m *gpt2.Model, sampled bool, loc locality) train.LossFn {
	loss := trainLoss(m, loc)
	return func(params, in []*Node) (*Node, []*Node) {
		_, t := readTrainInputs(in, 0, sampled)
		return loss(params, t)
	}
}

// trainLoss is nextTokenLoss on named inputs (sampled when t has
// candidates).
func trainLoss(m *gpt2.Model, loc locality) func(params []*Node, t trainInputs) (*Node, []*Node) {
	return func(params []*Node, t trainInputs) (*Node, []*Node) {
		sampled := t.cand != nil
		mask, at, target, weight := t.Mask, t.at, t.target, t.weight
		var hidden *Node
		var far, dist, subj []*Node
		m.BuildForward(params, t.Inputs, func(s lm.Site, x *Node) *Node {
			switch {
			case s.Component == lm.LNFinal:
				hidden = x
			case s.Component == lm.AttentionWeight && s.Layer < loc.layers:
				far = append(far, farAttention(x, mask, loc.window))
				if loc.subject > 0 && (loc.strict || loc.local) {
					subj = append(subj, subjectAttention(x, Add(t.subjKey, t.subjLast), t.after))
				}
			case s.Component == lm.AttentionWeight:
				if loc.recency > 0 {
					dist = append(dist, attentionDistance(x, mask))
				}
				if loc.subject > 0 {
					queries := t.after
					if loc.strict {
						queries = Add(queries, t.subjLast)
					}
					keys := t.subjKey
					if loc.readUntil > 0 && s.Layer >= loc.readUntil {
						keys = Add(keys, t.subjLast)
					}
					subj = append(subj, subjectAttention(x, keys, queries))
				}
			}
			return x
		})
		dims := hidden.Shape().Dimensions
		h := Reshape(hidden, dims[0]*dims[1], dims[2])
		hs := Gather(h, ExpandAxes(at, -1)) // [k,d]
		wte := params[0]                    // [vocab,d]
		var logits *Node
		if sampled {
			wc := Gather(wte, ExpandAxes(t.cand, -1))                        // [m,d]
			logits = Add(Einsum("kd,md->km", hs, wc), ExpandAxes(t.corr, 0)) // [k,m]
		} else {
			logits = Einsum("kd,vd->kv", hs, wte) // [k,vocab]
		}
		mx := StopGradient(ReduceAndKeep(logits, ReduceMax, -1)) // [k,1]
		logZ := Add(Log(ReduceSum(Exp(Sub(logits, mx)), -1)), Reshape(mx, -1))
		tgt := ReduceSum(Mul(hs, Gather(wte, ExpandAxes(target, -1))), -1) // [k]
		nll := Sub(logZ, tgt)
		total := ReduceAllSum(weight)
		loss := Div(ReduceAllSum(Mul(nll, weight)), Max(total, ScalarOne(total.Graph(), dtypes.Float32)))
		farMean := ScalarZero(loss.Graph(), dtypes.Float32)
		for _, f := range far {
			farMean = Add(farMean, DivScalar(f, float64(len(far))))
		}
		full := loss
		if len(far) > 0 {
			full = Add(full, MulScalar(farMean, loc.weight))
		}
		for _, d := range dist {
			full = Add(full, MulScalar(d, loc.recency/float64(len(dist))))
		}
		subjMean := ScalarZero(loss.Graph(), dtypes.Float32)
		for _, a := range subj {
			subjMean = Add(subjMean, DivScalar(a, float64(len(subj))))
		}
		if len(subj) > 0 {
			full = Add(full, MulScalar(subjMean, loc.subject))
		}
		return full, []*Node{total, loss, farMean, subjMean}
	}
}

// ExactLoss returns m's mean next-token cross-entropy over the whole
// vocabulary on n sentences generated from seed (batched as Train batches
// them).
func ExactLoss(m *gpt2.Model, seed uint64, n int) (float64, error) {
	cfg := DefaultTrainConfig()
	cfg.Seed, cfg.Negatives = seed, 0
	var seqs [][]int
	for _, s := range Tokenize(Generate(seed, n)) {
		if len(s) <= cfg.SeqLen {
			seqs = append(seqs, s)
		}
	}
	nParams := len(m.Params())
	exec, err := NewExec(m.Backend(), func(in []*Node) []*Node {
		params, t := readTrainInputs(in, nParams, false)
		loss, extra := trainLoss(m, locality{})(params, t)
		return []*Node{Mul(loss, extra[0]), extra[0]}
	})
	if err != nil {
		return 0, err
	}
	bt := newBatcher(seqs, cfg, m.PadID(), 0xe7a1)
	bt.next, bt.once = 0, true // each sentence once, in order
	sum, count := 0.0, 0.0
	for bt.next < len(seqs) {
		b := bt.nextBatch()
		outs, err := exec.Call(b.args(m.Params())...)
		if err != nil {
			return 0, err
		}
		sum += float64(tensors.MustCopyFlatData[float32](outs[0])[0])
		count += float64(tensors.MustCopyFlatData[float32](outs[1])[0])
	}
	return sum / count, nil
}

// Train trains a GPT-2 of cfg.Model on the generated corpus (Generate) with
// govene's Adam trainer and returns it. With cfg.Out set it writes the
// checkpoint there (SaveF16) and returns the model loaded back from it, so
// the returned weights are the float16-rounded ones that ship.
func Train(cfg TrainConfig) (*gpt2.Model, error) {
	cfg = cfg.withDefaults()
	if cfg.Model.VocabSize != 50257 {
		return nil, fmt.Errorf("shipped: train: vocab_size %d; the shipped model uses GPT-2's 50257 tokens", cfg.Model.VocabSize)
	}
	if cfg.SeqLen > cfg.Model.NPositions {
		return nil, fmt.Errorf("shipped: train: seq_len %d exceeds n_positions %d", cfg.SeqLen, cfg.Model.NPositions)
	}
	b := cfg.Backend
	if b == nil {
		var err error
		if b, err = backend.Default(); err != nil {
			return nil, err
		}
	}
	m, err := gpt2.Random(cfg.Model, cfg.Seed, gpt2.Options{Backend: b})
	if err != nil {
		return nil, err
	}
	var seqs [][]int
	var spans [][2]int
	all, allSpans := tokenizeSubjects(Generate(cfg.Seed, cfg.CorpusSize))
	for i, s := range all {
		if len(s) <= cfg.SeqLen && len(s)-1 <= cfg.Targets {
			seqs = append(seqs, s)
			spans = append(spans, allSpans[i])
		}
	}
	if len(seqs) == 0 {
		return nil, errors.New("shipped: train: no sentence fits seq_len")
	}
	bt := newBatcher(seqs, cfg, m.PadID(), 0xba7c4)
	bt.spans = spans
	loc := locality{layers: min(cfg.LocalLayers, cfg.Model.NLayer), window: cfg.LocalWindow, weight: cfg.LocalWeight,
		recency: cfg.RecencyWeight, subject: cfg.SubjectWeight, strict: cfg.SubjectStrict, local: cfg.SubjectLocal}
	if cfg.SubjectReadLayers > 0 {
		loc.readUntil = loc.layers + cfg.SubjectReadLayers
	}
	tr, err := train.New(b, m.Params(), nextTokenLoss(m, cfg.Negatives > 0, loc), cfg.Adam, nil)
	if err != nil {
		return nil, err
	}
	for step := 1; step <= cfg.Steps; step++ {
		_, extra, err := tr.Step(bt.nextBatch().inputs()...)
		if err != nil {
			return nil, fmt.Errorf("shipped: train: %w", err)
		}
		if cfg.Progress != nil {
			scalar := func(i int) float64 { return float64(tensors.MustCopyFlatData[float32](extra[i])[0]) }
			cfg.Progress(step, scalar(1), scalar(2), scalar(3))
		}
		if cfg.Check != nil && cfg.CheckEvery > 0 && step%cfg.CheckEvery == 0 && step < cfg.Steps {
			if err := copyParams(m, tr.Params()); err != nil {
				return nil, err
			}
			cfg.Check(step, m)
		}
	}
	if err := copyParams(m, tr.Params()); err != nil {
		return nil, err
	}
	if cfg.Out == "" {
		return m, nil
	}
	if err := SaveF16(m, cfg.Out); err != nil {
		return nil, err
	}
	return gpt2.LoadDir(cfg.Out, gpt2.Options{Backend: b})
}

// copyParams copies trained weights into the model's tensors.
func copyParams(m *gpt2.Model, params []*tensors.Tensor) error {
	for i, p := range params {
		data, err := tensors.CopyFlatData[float32](p)
		if err != nil {
			return err
		}
		if err := tensors.MutableFlatData(m.Params()[i], func(flat []float32) { copy(flat, data) }); err != nil {
			return err
		}
	}
	return nil
}
