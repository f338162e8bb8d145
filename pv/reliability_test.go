package pv

import (
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/train"
)

// Hostile inputs to every public entry point of pv must give an error that
// names the field and the bad value, never a panic, a hang, an
// out-of-memory allocation or a silent wrong result. Each table row is one
// hostile case; want lists substrings the error must contain.

var (
	nan  = float32(math.NaN())
	inf  = float32(math.Inf(1))
	nan6 = math.NaN()
)

// wantErr fails unless err contains every substring of want.
func wantErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error %q\nwant it to contain %q", err, w)
		}
	}
}

func intp(i int) *int { return &i }

func TestReliabilityConfig(t *testing.T) {
	m := tiny(t) // 3 layers, 4 heads, width 16, head width 4, inner 64, vocab 97, 32 positions
	rep := func(r RepresentationConfig) Config { return Config{Representations: []RepresentationConfig{r}} }
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"autoencoder latent 2^34 (would allocate 1 TiB)", rep(RepresentationConfig{InterventionType: Autoencoder, LowRankDimension: 1 << 34}), []string{"low_rank_dimension", "17179869184", "exceeds the limit 1048576"}},
		{"jumprelu latent 2^21", rep(RepresentationConfig{InterventionType: JumpReLUAutoencoder, LowRankDimension: 1 << 21}), []string{"low_rank_dimension", "2097152", "[1, 1048576]"}},
		{"PCA rank above the width", rep(RepresentationConfig{InterventionType: PCARotatedSpace, LowRankDimension: 17}), []string{"low_rank_dimension", "17 exceeds the width 16", "[1, 16]"}},
		{"low-rank rotation above the width", rep(RepresentationConfig{InterventionType: LowRankRotatedSpace, LowRankDimension: 1 << 40}), []string{"low_rank_dimension", "1099511627776 exceeds the width 16"}},
		{"negative low_rank_dimension", rep(RepresentationConfig{LowRankDimension: -1}), []string{"low_rank_dimension", "-1 must not be negative"}},
		{"zero latent autoencoder", rep(RepresentationConfig{InterventionType: Autoencoder}), []string{"low_rank_dimension", "0:", "positive"}},
		{"max_number_of_units 2^34", rep(RepresentationConfig{MaxNumberOfUnits: 1 << 34}), []string{"max_number_of_units", "17179869184", "[1, 32]"}},
		{"max_number_of_units negative", rep(RepresentationConfig{MaxNumberOfUnits: -3}), []string{"max_number_of_units", "-3 must be at least 1"}},
		{"more heads than the model has", rep(RepresentationConfig{Component: lm.HeadValueOutput, Unit: Head, MaxNumberOfUnits: 5}), []string{"max_number_of_units", "5", "[1, 4]"}},
		{"reversed partition", rep(RepresentationConfig{SubspacePartition: [][]int{{0, 8}, {12, 4}}}), []string{"subspace_partition", "partition 1: [12, 4] is empty or reversed"}},
		{"empty range partition", rep(RepresentationConfig{SubspacePartition: [][]int{{3, 3}}}), []string{"subspace_partition", "[3, 3] is empty"}},
		{"empty partition", rep(RepresentationConfig{SubspacePartition: [][]int{{0, 8}, {}}}), []string{"subspace_partition", "partition 1 is empty"}},
		{"partition past the width", rep(RepresentationConfig{SubspacePartition: [][]int{{0, 17}}}), []string{"subspace_partition", "dimension 17 out of range [0, 16)"}},
		{"partition dimension list past the width", rep(RepresentationConfig{SubspacePartition: [][]int{{1, 2, 16}}}), []string{"subspace_partition", "dimension 16 out of range [0, 16)"}},
		{"negative partition dimension", rep(RepresentationConfig{SubspacePartition: [][]int{{-1, 4}}}), []string{"subspace_partition", "dimension -1"}},
		{"partition past a low-rank subspace", rep(RepresentationConfig{InterventionType: LowRankRotatedSpace, LowRankDimension: 4, SubspacePartition: [][]int{{0, 8}}}), []string{"subspace_partition", "dimension 8 out of range [0, 4)"}},
		{"NaN in a constant source", rep(RepresentationConfig{InterventionType: Addition, SourceRepresentation: append(append(make([]float32, 3), nan), make([]float32, 12)...)}), []string{"source_representation", "value 3 is NaN"}},
		{"Inf in a steering vector", rep(RepresentationConfig{InterventionType: Addition, SourceRepresentation: append(make([]float32, 15), inf)}), []string{"source_representation", "value 15 is +Inf"}},
		{"NaN noise level", rep(RepresentationConfig{InterventionType: Noise, NoiseLevel: nan6}), []string{"noise_level", "NaN"}},
		{"negative noise level", rep(RepresentationConfig{InterventionType: Noise, NoiseLevel: -1}), []string{"noise_level", "-1"}},
		{"noise level infinite in float32", rep(RepresentationConfig{InterventionType: Noise, NoiseLevel: 1e300}), []string{"noise_level", "1e+300 must be a finite float32"}},
		{"negative layer", rep(RepresentationConfig{Layer: -1}), []string{"layer", "-1 out of range [0, 3)"}},
		{"huge layer", rep(RepresentationConfig{Layer: 1 << 40}), []string{"layer", "1099511627776 out of range [0, 3)"}},
		{"group_key on some only", Config{Representations: []RepresentationConfig{{GroupKey: intp(0)}, {Layer: 1}}}, []string{"representations[1].group_key", "set it on all or none"}},
		{"linked interventions of different types", Config{Representations: []RepresentationConfig{
			{InterventionType: LowRankRotatedSpace, LowRankDimension: 2, InterventionLinkKey: intp(7)},
			{Layer: 1, InterventionType: RotatedSpace, InterventionLinkKey: intp(7)}}}, []string{"representations[1].intervention_link_key", "7 links it to representations[0]"}},
		{"linked interventions of different widths", Config{Representations: []RepresentationConfig{
			{InterventionType: RotatedSpace, InterventionLinkKey: intp(1)},
			{Layer: 1, Component: lm.MLPActivation, InterventionType: RotatedSpace, InterventionLinkKey: intp(1)}}}, []string{"intervention_link_key", "width"}},
		{"bad mode", Config{Representations: []RepresentationConfig{{}}, Mode: "sideways"}, []string{"mode", `"sideways"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(m, tt.cfg)
			wantErr(t, err, tt.want...)
		})
	}
	// Sizes bounded by the total weight size, on a wider model's dims.
	wide := lm.Dims{Layers: 1, Heads: 32, Hidden: 4096, HeadDim: 128, Inner: 16384, Vocab: 1000, Positions: 2048}
	wantErr(t, rep(RepresentationConfig{InterventionType: Autoencoder, LowRankDimension: 1 << 17}).Validate(wide),
		"low_rank_dimension", "131072 latents of width 4096", "over the limit 268435456", "[1, 65536]")
	if k := (Config{}).Key(0); k != "" {
		t.Errorf("Key of a missing representation: %q, want \"\"", k)
	}
}

func TestReliabilityForward(t *testing.T) {
	m := tiny(t)
	iv := mustNew(t, m, Config{Representations: []RepresentationConfig{{Layer: 0}, {Layer: 1}}})
	hp := mustNew(t, m, Config{Representations: []RepresentationConfig{{Layer: 1, Component: lm.HeadValueOutput, Unit: HeadPos}}})
	heads := mustNew(t, m, Config{Representations: []RepresentationConfig{{Layer: 1, Component: lm.HeadValueOutput, Unit: Head}}})
	add := mustNew(t, m, Config{Representations: []RepresentationConfig{{Layer: 1, InterventionType: Addition}}})
	k0 := iv.Keys()[0]
	src := prompt(4, 5, 6)
	base := []lm.Prompt{prompt(1, 2, 3)}
	vec := func(bad int, v float32) []float32 {
		x := make([]float32, 16)
		x[bad] = v
		return x
	}
	tests := []struct {
		name string
		iv   *Model
		base []lm.Prompt
		opts []Option
		want []string
	}{
		{"nil source cache", iv, base, []Option{SourceCaches(nil), At(0, 0)}, []string{"source caches[0]", "nil cache"}},
		{"source cache without a batch", iv, base, []Option{SourceCaches(&lm.Result{}), At(0, 0)}, []string{"source caches[0]", "nil cache or batch"}},
		{"second source cache nil", iv, base, []Option{SourceCaches(&lm.Result{Batch: &lm.Batch{}}, nil)}, []string{"source caches[1]"}},
		{"empty source prompt with explicit locations", iv, base, []Option{Sources(lm.Prompt{}), At(0, 0)}, []string{"sources[0][0]: empty prompt", "pv.SkipGroups(0)"}},
		{"empty source prompt, whole site", iv, base, []Option{Sources(lm.Prompt{}, src)}, []string{"sources[0][0]: empty prompt"}},
		{"one empty source among two examples", iv, []lm.Prompt{prompt(1, 2, 3), prompt(1, 2)}, []Option{SourceBatches([]lm.Prompt{src, {}}), At(0, 0)}, []string{"sources[0][1]: empty prompt"}},
		{"skip group out of range", iv, base, []Option{Sources(src), At(0, 0), SkipGroups(2)}, []string{"skip groups", "group 2 out of range [0, 2)"}},
		{"negative skip group", iv, base, []Option{Sources(src), At(0, 0), SkipGroups(-1)}, []string{"group -1 out of range"}},
		{"NaN source vector", iv, base, []Option{At(0, 0), SourceRepresentations(map[string][][]float32{k0: {vec(2, nan)}})}, []string{"source representations", k0, "[0]: value 2 is NaN"}},
		{"-Inf source vector in the second row", iv, base, []Option{At(0, 0), SourceRepresentations(map[string][][]float32{k0: {vec(0, 1), vec(9, -inf)}})}, []string{"[1]: value 9 is -Inf"}},
		{"unknown source representation key", iv, base, []Option{Sources(src), At(0, 0), SourceRepresentations(map[string][][]float32{"layer_9": {vec(0, 1)}})}, []string{"unknown intervention key(s) [\"layer_9\"]", k0}},
		{"half-width source rows", iv, base, []Option{Sources(src), At(0, 0), SourceRepresentations(map[string][][]float32{k0: {make([]float32, 8)}})}, []string{"row 0 has 8 values, not a whole number of units of width 16"}},
		{"negative base position", iv, base, []Option{Sources(src), At(0, -1)}, []string{"position -1 out of range [0, 3)"}},
		{"huge base position", iv, base, []Option{Sources(src), At(0, 1<<40)}, []string{"position 1099511627776 out of range [0, 3)"}},
		{"head out of range", heads, base, []Option{Sources(src), At(4, 0)}, []string{"head 4 out of range [0, 4)"}},
		{"negative head", heads, base, []Option{Sources(src), At(0, -2)}, []string{"head -2 out of range [0, 4)"}},
		{"h.pos without heads for the intervention", hp, base, []Option{Sources(src), HeadPositions([][][]int{nil}, [][][]int{{{0}}}, [][][]int{nil}, [][][]int{{{0}}})}, []string{"needs base heads"}},
		{"h.pos without source heads", hp, base, []Option{Sources(src), HeadPositions([][][]int{nil}, [][][]int{{{0}}}, [][][]int{{{1}}}, [][][]int{{{0}}})}, []string{"needs source heads"}},
		{"h.pos head out of range", hp, base, []Option{Sources(src), HeadPositions([][][]int{{{0}}}, [][][]int{{{0}}}, [][][]int{{{9}}}, [][][]int{{{0}}})}, []string{"head 9 out of range [0, 4)"}},
		{"locations for more examples than the batch", iv, base, []Option{Sources(src), Locations([][][]int{{{0}, {0}, {0}}}, [][][]int{{{0}, {0}, {0}}})}, []string{"3 examples' worth given, the batch has 1"}},
		{"sources for fewer examples than the batch", iv, []lm.Prompt{prompt(1, 2), prompt(3, 4)}, []Option{SourceBatches([]lm.Prompt{src}), At(0, 0)}, []string{"sources[0]: 1 prompts for a base batch of 2"}},
		{"different unit counts per example", iv, []lm.Prompt{prompt(1, 2), prompt(3, 4)}, []Option{SourceBatches([]lm.Prompt{src, src}), Locations([][][]int{{{0}, {0, 1}}}, [][][]int{{{0}, {0, 1}}})}, []string{"example 1 has 2 units, example 0 has 1"}},
		{"empty unit list", iv, base, []Option{Sources(src), AtUnits()}, []string{"example 0: no units"}},
		{"subspace dimension negative", iv, base, []Option{Sources(src), At(0, 0), Subspaces(-1)}, []string{"subspace dimension -1 out of range [0, 16)"}},
		{"capture unknown site", iv, base, []Option{Sources(src), At(0, 0), CaptureSites(lm.Site{Layer: 7, Component: lm.BlockOutput})}, []string{"capture", "layer 7 out of range [0, 3)"}},
		{"no base prompts", iv, nil, []Option{Sources(src), At(0, 0)}, []string{"no prompts"}},
		{"base token outside the vocabulary", iv, []lm.Prompt{prompt(1, 97)}, []Option{Sources(src), At(0, 0)}, []string{"id 97 out of range [0, 97)"}},
		{"base longer than the model's positions", iv, []lm.Prompt{prompt(make([]int, 33)...)}, []Option{Sources(src), At(0, 0)}, []string{"33 tokens; the model takes at most 32"}},
		{"serial keys on a parallel config", iv, base, []Option{Sources(src), PyveneLocations([]byte(`{"source_0->base": 1}`))}, []string{"serial keys given", "parallel"}},
		{"addition with a NaN steering vector", add, base, []Option{AtBase(0), SourceRepresentations(map[string][][]float32{add.Keys()[0]: {vec(5, nan)}})}, []string{"value 5 is NaN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.iv.Forward(tt.base, tt.opts...)
			wantErr(t, err, tt.want...)
		})
	}
	// SkipGroups is the way to give pyvene's None source: the intervention
	// then changes nothing.
	out, err := iv.Forward(base, Sources(lm.Prompt{}, src), SkipGroups(0), At(0, 0), Locations([][][]int{{{0}}, {{1}}}, [][][]int{{{0}}, {{1}}}), WithOriginal())
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(logitsAt(t, out.Logits, out.Base, 0, 0), logitsAt(t, out.Original, out.Base, 0, 0)); d != 0 {
		t.Errorf("a skipped group's intervention changed position 0 by %g", d)
	}
	// Weights: NaN is refused.
	lr := mustNew(t, m, Config{Representations: []RepresentationConfig{{Layer: 1, InterventionType: SigmoidMask}}})
	wantErr(t, lr.SetWeight(lr.Keys()[0], "mask", vec(7, nan)), "set weight mask", "value 7 is NaN")
	for _, temp := range []float64{0, -1, nan6, math.Inf(1), 1e39} {
		wantErr(t, lr.SetTemperature(temp), "set temperature", "must be a finite number > 0")
	}
}

func TestReliabilityPyveneLocations(t *testing.T) {
	m := tiny(t)
	iv := mustNew(t, m, Config{Representations: []RepresentationConfig{{Layer: 0}, {Layer: 1}}})
	hp := mustNew(t, m, Config{Representations: []RepresentationConfig{{Layer: 1, Component: lm.HeadValueOutput, Unit: HeadPos}}})
	base := []lm.Prompt{prompt(1, 2, 3)}
	tests := []struct {
		name string
		iv   *Model
		json string
		want []string
	}{
		{"not JSON", iv, `{"sources->base": [1,`, []string{"unit_locations"}},
		{"a list, not an object", iv, `[1, 2]`, []string{"unit_locations", "cannot unmarshal array"}},
		{"two keys", iv, `{"sources->base": 1, "base": 1}`, []string{"want one key", "got 2 keys"}},
		{"unknown key", iv, `{"source->base": 1}`, []string{`key "source->base" is not supported`}},
		{"source without base", iv, `{"sources->base": [1, null]}`, []string{"[1, null]", "not supported"}},
		{"fractional unit", iv, `{"sources->base": 1.5}`, []string{"unreadable value 1.5"}},
		{"huge unit", iv, `{"sources->base": 1e30}`, []string{"unreadable value 1e+30"}},
		{"string unit", iv, `{"sources->base": "1"}`, []string{"unreadable value 1"}},
		{"position past the prompt", iv, `{"sources->base": [0, 3]}`, []string{"position 3 out of range [0, 3)"}},
		{"negative flat unit", iv, `{"sources->base": [0, 1, -1]}`, []string{"position -1 out of range [0, 3)"}},
		{"wrong number of interventions", iv, `{"sources->base": [[[[0]]], [[[0]]]]}`, []string{"want one entry per intervention (2)"}},
		{"wrong depth", iv, `{"sources->base": [[[0], [0]], [[0], [0]]]}`, []string{"want [example][units] of ints"}},
		{"list of three", iv, `{"sources->base": [[[[0]]], [[[0]]], [[[0]]]]}`, []string{"want [source, base], got a list of 3"}},
		{"examples beyond the batch", iv, `{"sources->base": [[[[0], [0]], [[0], [0]]], [[[0], [0]], [[0], [0]]]]}`, []string{"2 examples' worth given, the batch has 1"}},
		{"h.pos without the pair", hp, `{"sources->base": [[[[0]]], [[[0]]]]}`, []string{"h.pos wants [heads, positions]"}},
		{"h.pos head out of range", hp, `{"sources->base": [[[[[0]], [[0]]]], [[[[4]], [[0]]]]]}`, []string{"head 4 out of range [0, 4)"}},
		{"serial keys on a parallel config", iv, `{"source_0->source_1": 0, "source_1->base": 0}`, []string{"serial keys given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.iv.Forward(base, Sources(prompt(4, 5, 6)), PyveneLocations([]byte(tt.json)))
			wantErr(t, err, tt.want...)
		})
	}
}

func TestReliabilityTrain(t *testing.T) {
	m := tiny(t)
	iv, err := New(m, Config{Representations: []RepresentationConfig{
		{Layer: 2, InterventionType: LowRankRotatedSpace, LowRankDimension: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	good := Example{Base: prompt(1, 2, 3), Sources: []lm.Prompt{prompt(4, 5, 6)}, Label: 3}
	ex := func(f func(*Example)) []Example { e := good; f(&e); return []Example{good, e} }
	quiet := func(c TrainConfig) TrainConfig { c.Progress = io.Discard; return c }
	tests := []struct {
		name string
		data []Example
		eval []Example
		cfg  TrainConfig
		want []string
	}{
		{"negative label", ex(func(e *Example) { e.Label = -1 }), nil, TrainConfig{}, []string{"data[1].label: -1 out of range [0, 97)"}},
		{"label past the vocabulary", ex(func(e *Example) { e.Label = 97 }), nil, TrainConfig{}, []string{"data[1].label: 97 out of range [0, 97)"}},
		{"eval label past the vocabulary", []Example{good}, ex(func(e *Example) { e.Label = 1 << 40 }), TrainConfig{}, []string{"eval[1].label: 1099511627776"}},
		{"source units for two interventions", ex(func(e *Example) { e.SourceUnits = [][]int{{0}, {1}} }), nil, TrainConfig{}, []string{"data[1].source_units: 2 interventions' worth given, the config has 1"}},
		{"base units for none", ex(func(e *Example) { e.BaseUnits = [][]int{} }), nil, TrainConfig{}, []string{"base_units: 0 interventions' worth"}},
		{"subspaces for two", ex(func(e *Example) { e.Subspaces = [][]int{{0}, {1}} }), nil, TrainConfig{}, []string{"subspaces: 2 interventions' worth"}},
		{"subspaces on some examples only", ex(func(e *Example) { e.Subspaces = [][]int{{0}} }), nil, TrainConfig{}, []string{"data[1].subspaces: given for some examples but not others"}},
		{"two sources for one group", ex(func(e *Example) { e.Sources = append(e.Sources, prompt(1)) }), nil, TrainConfig{}, []string{"data[1].sources: 2 given, the config has 1"}},
		{"no sources", ex(func(e *Example) { e.Sources = nil }), nil, TrainConfig{}, []string{"data[1].sources: 0 given"}},
		{"empty source prompt", ex(func(e *Example) { e.Sources = []lm.Prompt{{}} }), nil, TrainConfig{}, []string{"empty prompt"}},
		{"base unit past the prompt", ex(func(e *Example) { e.BaseUnits = [][]int{{3}} }), nil, TrainConfig{}, []string{"position 3 out of range [0, 3)"}},
		{"negative epochs", []Example{good}, nil, TrainConfig{Epochs: -1}, []string{"epochs: -1 out of range [0, 1000000]"}},
		{"huge epochs", []Example{good}, nil, TrainConfig{Epochs: 1 << 40}, []string{"epochs: 1099511627776 out of range"}},
		{"negative batch size", []Example{good}, nil, TrainConfig{BatchSize: -16}, []string{"batch_size: -16 out of range [0, 65536]"}},
		{"huge batch size", []Example{good}, nil, TrainConfig{BatchSize: math.MaxInt}, []string{"batch_size: 9223372036854775807 out of range"}},
		{"negative patience", []Example{good}, nil, TrainConfig{Patience: -1}, []string{"patience: -1 must not be negative"}},
		{"negative eval_every", []Example{good}, nil, TrainConfig{EvalEvery: -4}, []string{"eval_every: -4 must not be negative"}},
		{"NaN start temperature", []Example{good}, nil, TrainConfig{TemperatureStart: nan6}, []string{"temperature_start: NaN"}},
		{"negative end temperature", []Example{good}, nil, TrainConfig{TemperatureEnd: -0.1}, []string{"temperature_end: -0.1"}},
		{"infinite end temperature", []Example{good}, nil, TrainConfig{TemperatureEnd: math.Inf(1)}, []string{"temperature_end: +Inf"}},
		{"negative L1", []Example{good}, nil, TrainConfig{BoundaryL1: -1}, []string{"boundary_l1: -1"}},
		{"NaN L1", []Example{good}, nil, TrainConfig{BoundaryL1: nan6}, []string{"boundary_l1: NaN"}},
		{"NaN learning rate", []Example{good}, nil, TrainConfig{Adam: train.Adam{LR: nan6}}, []string{"adam: lr NaN"}},
		{"infinite learning rate", []Example{good}, nil, TrainConfig{Adam: train.Adam{LR: math.Inf(1)}}, []string{"adam: lr +Inf"}},
		{"NaN beta1", []Example{good}, nil, TrainConfig{Adam: train.Adam{Beta1: nan6}}, []string{"adam: beta1 NaN must be in [0, 1)"}},
		{"beta2 of 1", []Example{good}, nil, TrainConfig{Adam: train.Adam{Beta2: 1}}, []string{"adam: beta2 1 must be in [0, 1)"}},
		{"negative eps", []Example{good}, nil, TrainConfig{Adam: train.Adam{Eps: -1e-8}}, []string{"adam: eps -1e-08"}},
		{"NaN weight decay", []Example{good}, nil, TrainConfig{Adam: train.Adam{WeightDecay: nan6}}, []string{"adam: weight_decay NaN"}},
		{"negative clip norm", []Example{good}, nil, TrainConfig{Adam: train.Adam{ClipNorm: -1}}, []string{"adam: clip_norm -1"}},
		{"negative warm-up", []Example{good}, nil, TrainConfig{Adam: train.Adam{WarmupSteps: -1}}, []string{"adam: warmup_steps -1"}},
		{"no data", nil, nil, TrainConfig{}, []string{"no training examples"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := iv.Train(tt.data, tt.eval, quiet(tt.cfg))
			wantErr(t, err, tt.want...)
		})
	}
	_, err = iv.IIA([]Example{good}, -1)
	wantErr(t, err, "IIA: batch size -1 out of range [0, 65536]")
	_, err = iv.IIA(ex(func(e *Example) { e.Label = 500 }), 0)
	wantErr(t, err, "examples[1].label: 500 out of range [0, 97)")
	ser, err := New(m, Config{Mode: Serial, Representations: []RepresentationConfig{
		{Layer: 0, InterventionType: RotatedSpace}, {Layer: 1, InterventionType: RotatedSpace}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ser.Train([]Example{good}, nil, quiet(TrainConfig{}))
	wantErr(t, err, `train: mode "serial" is not supported`)
}

func TestReliabilityGenerate(t *testing.T) {
	m := tiny(t)
	vec := make([]float32, 16)
	steer := mustNew(t, m, Config{Representations: []RepresentationConfig{{Layer: 1, Component: lm.MLPOutput, InterventionType: Addition}}})
	feed := func(v []float32) Option {
		return SourceRepresentations(map[string][][]float32{steer.Keys()[0]: {v}})
	}
	bad := append(make([]float32, 11), nan, 0, 0, 0, 0)
	ser := mustNew(t, m, Config{Mode: Serial, Representations: []RepresentationConfig{{Layer: 0}, {Layer: 1}}})
	base := []lm.Prompt{prompt(4, 8, 15)}
	tests := []struct {
		name string
		iv   *Model
		g    GenerateOptions
		opts []Option
		want []string
	}{
		{"step past max_new_tokens", steer, GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 3}, EveryStep: true, Steps: []int{0, 5}}, []Option{feed(vec)}, []string{"steps: 5 out of range [0, 3) (max_new_tokens)"}},
		{"step past the default 20", steer, GenerateOptions{EveryStep: true, Steps: []int{20}}, []Option{feed(vec)}, []string{"steps: 20 out of range [0, 20)"}},
		{"negative step", steer, GenerateOptions{EveryStep: true, Steps: []int{-1}}, []Option{feed(vec)}, []string{"steps: -1 out of range"}},
		{"repeated step", steer, GenerateOptions{EveryStep: true, Steps: []int{2, 2}}, []Option{feed(vec)}, []string{"steps: 2 given twice"}},
		{"steps with prompt-only interventions", steer, GenerateOptions{InterveneOnPrompt: true, Steps: []int{1}}, []Option{feed(vec), AtBase(0)}, []string{"steps [1] given, but no intervention acts on new tokens"}},
		{"negative max_new_tokens", steer, GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: -1}, EveryStep: true}, []Option{feed(vec)}, []string{"max_new_tokens -1 must not be negative"}},
		{"max_new_tokens overflowing the cache size", steer, GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: math.MaxInt}, EveryStep: true}, []Option{feed(vec)}, []string{"max_new_tokens 9223372036854775807 exceeds the model's 32 positions"}},
		{"NaN temperature", steer, GenerateOptions{Sampling: lm.Sampling{Temperature: nan6}, EveryStep: true}, []Option{feed(vec)}, []string{"temperature NaN"}},
		{"NaN steering vector", steer, GenerateOptions{EveryStep: true, InterveneOnPrompt: true}, []Option{feed(bad)}, []string{"source representations", "value 11 is NaN"}},
		{"Inf steering vector", steer, GenerateOptions{EveryStep: true, InterveneOnPrompt: true}, []Option{feed(append(make([]float32, 15), -inf))}, []string{"value 15 is -Inf"}},
		{"serial mode", ser, GenerateOptions{}, []Option{Sources(prompt(1), prompt(2))}, []string{`generate: mode "serial" is not supported`}},
		{"serial keys on a parallel config", steer, GenerateOptions{EveryStep: true}, []Option{feed(vec), PyveneLocations([]byte(`{"source_0->base": 0}`))}, []string{"serial keys given"}},
		{"last logits only during generation", steer, GenerateOptions{EveryStep: true}, []Option{feed(vec), LastLogitsOnly()}, []string{"LastLogitsOnly applies to Forward only"}},
		{"capture site past the layers", steer, GenerateOptions{EveryStep: true}, []Option{feed(vec), CaptureSites(lm.Site{Layer: 9, Component: lm.BlockOutput})}, []string{"pv: capture: ", "layer 9 out of range [0, 3)"}},
		{"new-token unit other than 0", steer, GenerateOptions{}, []Option{feed(vec), AtBase(2)}, []string{"the only base unit is 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.iv.Generate(base, tt.g, tt.opts...)
			wantErr(t, err, tt.want...)
		})
	}
}

func TestReliabilitySerial(t *testing.T) {
	m := tiny(t)
	ser := mustNew(t, m, Config{Mode: Serial, Representations: []RepresentationConfig{{Layer: 0}, {Layer: 1}}})
	base := []lm.Prompt{prompt(1, 2, 3)}
	src := prompt(4, 5, 6)
	for _, tt := range []struct {
		name string
		opts []Option
		want []string
	}{
		{"skip groups in serial mode", []Option{Sources(src, src), SkipGroups(0), At(0, 0)}, []string{"serial mode: SkipGroups and SourceCaches are not supported"}},
		{"one source for two serial groups", []Option{Sources(src), At(0, 0)}, []string{"serial mode: sources: 1 given, the config has 2 groups"}},
		{"missing serial key", []Option{Sources(src, src), PyveneLocations([]byte(`{"source_0->source_1": 0}`))}, []string{`serial mode needs key "source_1->base"`}},
		{"serial key of the wrong shape", []Option{Sources(src, src), PyveneLocations([]byte(`{"source_0->source_1": [0, 1, 2], "source_1->base": 0}`))}, []string{`"source_0->source_1": want an int or [source, base]`}},
		{"serial location past the source", []Option{Sources(src, src), PyveneLocations([]byte(`{"source_0->source_1": [0, 9], "source_1->base": 0}`))}, []string{"position 9 out of range [0, 3)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ser.Forward(base, tt.opts...)
			wantErr(t, err, tt.want...)
		})
	}
}

// Capture sites that used to panic while the graph was built: global sites
// given with a layer other than -1, and a site given twice.
func TestReliabilityCapture(t *testing.T) {
	m := tiny(t)
	iv := mustNew(t, m, Config{Representations: []RepresentationConfig{{Layer: 0}}})
	for _, tt := range []struct {
		name  string
		sites []lm.Site
		key   lm.Site
		dims  []int
	}{
		{"logits at layer 0", []lm.Site{{Component: lm.Logits}}, lm.Site{Layer: -1, Component: lm.Logits}, []int{1, 3, 97}},
		{"embeddings at layer 2", []lm.Site{{Layer: 2, Component: lm.Embed}}, lm.Site{Layer: -1, Component: lm.Embed}, []int{1, 3, 16}},
		{"a site twice", []lm.Site{{Layer: 1, Component: lm.BlockOutput}, {Layer: 1, Component: lm.BlockOutput}}, lm.Site{Layer: 1, Component: lm.BlockOutput}, []int{1, 3, 16}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := iv.Forward([]lm.Prompt{prompt(1, 2, 3)}, Sources(prompt(4, 5, 6)), At(0, 0), CaptureSites(tt.sites...))
			if err != nil {
				t.Fatal(err)
			}
			v, ok := out.Sites[tt.key]
			if !ok || len(out.Sites) != 1 {
				t.Fatalf("captured %v, want only %v", out.Sites, tt.key)
			}
			if got := v.Shape().Dimensions; !slices.Equal(got, tt.dims) {
				t.Errorf("%v captured as %v, want %v", tt.key, got, tt.dims)
			}
		})
	}
	var empty *Output
	_, err := empty.NextTokenProbs(0, false)
	wantErr(t, err, "empty output")
}

// A Model's config is its own: changing the caller's config, or the copy
// Config returns, after New changes nothing (it would otherwise race with
// concurrent calls and silently change results).
func TestReliabilityConfigIsCopied(t *testing.T) {
	m := tiny(t)
	vec := make([]float32, 16)
	vec[0] = 1
	cfg := Config{Representations: []RepresentationConfig{{Layer: 1, InterventionType: Addition, SourceRepresentation: vec, SubspacePartition: [][]int{{0, 8}, {8, 16}}}}}
	iv, err := New(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	base := []lm.Prompt{prompt(1, 2, 3)}
	before, err := iv.Forward(base, AtBase(1))
	if err != nil {
		t.Fatal(err)
	}
	vec[0] = 1000
	cfg.Representations[0].SubspacePartition[0][1] = 1
	got := iv.Config()
	got.Representations[0].SourceRepresentation[0] = -1000
	got.Representations[0].Layer = 2
	after, err := iv.Forward(base, AtBase(1))
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(flat(t, before.Logits), flat(t, after.Logits)); d != 0 {
		t.Errorf("changing configs after New changed the output by %g", d)
	}
	if p := iv.Config().Representations[0]; p.SubspacePartition[0][1] != 8 || p.Layer != 1 {
		t.Errorf("the Model's config changed: %+v", p)
	}
}
