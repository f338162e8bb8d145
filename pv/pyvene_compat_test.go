package pv

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// What a pyvene user translating working code would trip on: one test per
// point, each asserting govene does what pyvene does or says why not.

// steerVec is a steering vector for the tiny model's 16-wide sites.
func steerVec() []float32 {
	v := make([]float32, 16)
	for i := range v {
		v[i] = float32(i%5) - 2
	}
	return v
}

// greedyRerun decodes n tokens greedily by re-running Forward on the growing
// sequence, with the interventions at the positions at(seqLen) returns (nil:
// the whole sequence; empty: none).
func greedyRerun(t *testing.T, iv *Model, base lm.Prompt, n int, at func(seqLen int) []int) []int {
	t.Helper()
	return greedy(t, base, n, func(p lm.Prompt) ([]float32, error) {
		var opts []Option
		units := at(p.Len())
		switch {
		case units == nil:
		case len(units) == 0:
			opts = append(opts, Subspaces()) // an empty subspace: no change
		default:
			opts = append(opts, AtBase(units...))
		}
		o, err := iv.Forward([]lm.Prompt{p}, opts...)
		if err != nil {
			return nil, err
		}
		return o.LastLogits(0, false)
	})
}

func span(from, to int) []int {
	u := []int{}
	for i := from; i < to; i++ {
		u = append(u, i)
	}
	return u
}

// (a) With no locations and InterveneOnPrompt, pyvene's generate intervenes
// on every forward pass (prompt and each new token); govene now does the
// same without EveryStep. Each case is checked against re-running Forward
// on the growing sequence with the interventions where pyvene puts them.
func TestPyveneGenerateWithoutLocationsSteersEveryStep(t *testing.T) {
	m := tiny(t)
	base := prompt(4, 8, 15, 16, 23)
	p, n := base.Len(), 6
	iv, err := New(m, Config{Representations: []RepresentationConfig{
		{Layer: 1, Component: lm.MLPOutput, InterventionType: Addition, SourceRepresentation: steerVec()}}})
	if err != nil {
		t.Fatal(err)
	}
	every := func(int) []int { return nil }
	promptOnly := func(int) []int { return span(0, p) }
	newOnly := func(l int) []int { return span(p, l) } // the fed new tokens
	cases := []struct {
		name string
		g    GenerateOptions
		opts []Option
		want func(int) []int
	}{
		{"intervene_on_prompt, no locations: every forward (pyvene)", GenerateOptions{InterveneOnPrompt: true}, nil, every},
		{"EveryStep as well: the same", GenerateOptions{InterveneOnPrompt: true, EveryStep: true}, nil, every},
		{"empty Steps: the prompt only", GenerateOptions{InterveneOnPrompt: true, Steps: []int{}}, nil, promptOnly},
		{"located on the prompt: the prompt only", GenerateOptions{InterveneOnPrompt: true}, []Option{AtBase(span(0, p)...)}, promptOnly},
		{"not on the prompt, no locations: new tokens only (pyvene's {\"base\": 0})", GenerateOptions{}, nil, newOnly},
	}
	var tokens [][]int
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.g.Sampling = lm.Sampling{MaxNewTokens: n}
			gen, err := iv.Generate([]lm.Prompt{base}, c.g, c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			want := greedyRerun(t, iv, base, n, c.want)
			if !slices.Equal(gen.NewTokens[0], want) {
				t.Errorf("generated %v, re-run with pyvene's placement %v", gen.NewTokens[0], want)
			}
			tokens = append(tokens, gen.NewTokens[0])
		})
	}
	if len(tokens) == len(cases) && slices.Equal(tokens[0], tokens[2]) {
		t.Errorf("steering every step and the prompt only gave the same tokens %v: the test cannot tell them apart", tokens[0])
	}
}

// (a, mixed) With intervene_on_prompt, pyvene gates only located
// interventions to the prompt: one without locations among located ones
// still acts on every forward.
func TestPyveneGenerateMixedLocations(t *testing.T) {
	m := tiny(t)
	iv, err := New(m, Config{Representations: []RepresentationConfig{
		{Layer: 1, Component: lm.MLPOutput, InterventionType: Addition, SourceRepresentation: steerVec()},
		{Layer: 2, Component: lm.BlockOutput}}})
	if err != nil {
		t.Fatal(err)
	}
	base, src := prompt(4, 8, 15, 16, 23), prompt(9, 10, 11)
	locs := Locations([][][]int{nil, {{1}}}, [][][]int{nil, {{2}}})
	gen, err := iv.Generate([]lm.Prompt{base}, GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 5}, InterveneOnPrompt: true}, Sources(src), locs)
	if err != nil {
		t.Fatal(err)
	}
	// Re-run: the steering everywhere, the patch at prompt position 2.
	want := greedy(t, base, 5, func(p lm.Prompt) ([]float32, error) {
		out, err := iv.Forward([]lm.Prompt{p}, Sources(src), locs)
		if err != nil {
			return nil, err
		}
		return out.LastLogits(0, false)
	})
	if !slices.Equal(gen.NewTokens[0], want) {
		t.Errorf("generated %v, re-run with the steering on every position %v", gen.NewTokens[0], want)
	}
	promptOnly, err := iv.Generate([]lm.Prompt{base}, GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 5}, InterveneOnPrompt: true, Steps: []int{}}, Sources(src), locs)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(promptOnly.NewTokens[0], gen.NewTokens[0]) {
		t.Errorf("prompt-only and every-step steering gave the same tokens %v: the test cannot tell them apart", gen.NewTokens[0])
	}
}

// (b) Generation.Tokens is prompt + new tokens, as transformers' and
// pyvene's generate return; NewTokens the new ones.
func TestPyveneGenerateReturnsPromptAndNewTokens(t *testing.T) {
	m := tiny(t)
	iv, err := New(m, Config{Representations: []RepresentationConfig{
		{Layer: 1, Component: lm.MLPOutput, InterventionType: Addition, SourceRepresentation: steerVec()}}})
	if err != nil {
		t.Fatal(err)
	}
	base := []lm.Prompt{prompt(4, 8, 15), prompt(1, 2, 3, 4, 5)} // different lengths: no padding in the result
	s := lm.Sampling{MaxNewTokens: 4}
	gen, err := iv.Generate(base, GenerateOptions{Sampling: s, InterveneOnPrompt: true}, WithOriginal())
	if err != nil {
		t.Fatal(err)
	}
	plain, err := m.Generate(base, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	for e, p := range base {
		if len(gen.NewTokens[e]) != 4 {
			t.Errorf("example %d: %d new tokens, want 4", e, len(gen.NewTokens[e]))
		}
		if want := append(slices.Clone(p.IDs), gen.NewTokens[e]...); !slices.Equal(gen.Tokens[e], want) {
			t.Errorf("example %d: Tokens %v, want prompt + new %v", e, gen.Tokens[e], want)
		}
		if want := append(slices.Clone(p.IDs), plain[e]...); !slices.Equal(gen.Original[e], want) {
			t.Errorf("example %d: Original %v, want prompt + the model's own generation %v", e, gen.Original[e], want)
		}
		if !slices.Equal(gen.OriginalNewTokens[e], plain[e]) {
			t.Errorf("example %d: OriginalNewTokens %v, model's own %v", e, gen.OriginalNewTokens[e], plain[e])
		}
	}
}

// (c) One unkeyed source representation feeds every intervention (pyvene's
// single tensor); a key the config does not have is an error listing the
// valid keys, in Forward and Generate.
func TestPyveneSourceRepresentations(t *testing.T) {
	m := tiny(t)
	iv, err := New(m, Config{Representations: []RepresentationConfig{
		{Layer: 0, Component: lm.MLPOutput}, {Layer: 2, Component: lm.BlockOutput}}})
	if err != nil {
		t.Fatal(err)
	}
	k := iv.Keys()
	vec := steerVec()
	base := []lm.Prompt{prompt(1, 2, 3, 4)}
	keyed, err := iv.Forward(base, AtBase(2), SourceRepresentations(map[string][][]float32{k[0]: {vec}, k[1]: {vec}}))
	if err != nil {
		t.Fatal(err)
	}
	one, err := iv.Forward(base, AtBase(2), SourceRepresentation(vec))
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(tensors.MustCopyFlatData[float32](one.Logits), tensors.MustCopyFlatData[float32](keyed.Logits)); d != 0 {
		t.Errorf("one source representation for all differs from the same one by key: max |diff| %g", d)
	}
	valid := `valid keys: ["layer_0_comp_mlp_output_unit_pos_nunit_1#0" "layer_2_comp_block_output_unit_pos_nunit_1#0"]`
	cases := []struct {
		name string
		opts []Option
		want string
	}{
		{"misspelled key", []Option{AtBase(2), SourceRepresentations(map[string][][]float32{"layer_0_comp_mlp_output_unit_pos_nunit_1": {vec}})},
			`pv: SourceRepresentations: unknown intervention key(s) ["layer_0_comp_mlp_output_unit_pos_nunit_1"]; ` + valid + ` (or use SourceRepresentation for one value for all)`},
		{"pyvene's old key format", []Option{AtBase(2), SourceRepresentations(map[string][][]float32{k[0]: {vec}, "layer.2.comp.block_output.unit.pos.nunit.1#0": {vec}})},
			`pv: SourceRepresentations: unknown intervention key(s) ["layer.2.comp.block_output.unit.pos.nunit.1#0"]; ` + valid},
		{"both forms", []Option{AtBase(2), SourceRepresentation(vec), SourceRepresentations(map[string][][]float32{k[0]: {vec}})},
			"pv: SourceRepresentation (one for all interventions) and SourceRepresentations (by key) both given; give one"},
		{"no rows", []Option{SourceRepresentation()}, "pv: SourceRepresentation: no rows given; give at least one row as wide as the unit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := iv.Forward(base, c.opts...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Forward: error %v, want %q", err, c.want)
			}
			_, err = iv.Generate(base, GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 2}, InterveneOnPrompt: true}, c.opts...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Generate: error %v, want %q", err, c.want)
			}
		})
	}
}

// (d) ParseType reads govene's names and pyvene's class names (also as
// pyvene writes them in a saved config); Go-set pyvene names validate.
func TestParseType(t *testing.T) {
	cases := []struct {
		in      string
		want    Type
		wantErr string
	}{
		{"vanilla", Vanilla, ""},
		{"VanillaIntervention", Vanilla, ""},
		{"LowRankRotatedSpaceIntervention", LowRankRotatedSpace, ""},
		{"pyvene.models.interventions.ZeroIntervention", Zero, ""},
		{"<class 'pyvene.models.interventions.CollectIntervention'>", Collect, ""},
		{"JumpReLUAutoencoderIntervention", JumpReLUAutoencoder, ""},
		{"Vanila", "", `pv: intervention type "Vanila" is not valid; valid: [vanilla addition subtraction zero collect noise skip rotated_space`},
		{"", "", `pv: intervention type "" is not valid`},
	}
	for _, c := range cases {
		got, err := ParseType(c.in)
		switch {
		case c.wantErr != "":
			if err == nil || !strings.HasPrefix(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "or pyvene's [AdditionIntervention ") {
				t.Errorf("ParseType(%q): error %v, want prefix %q and pyvene's names", c.in, err, c.wantErr)
			}
		case err != nil || got != c.want:
			t.Errorf("ParseType(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	// Set in Go, a pyvene class name goes through the same normalisation,
	// and runs as govene's name does.
	m := tiny(t)
	run := func(typ Type) []float32 {
		iv, err := New(m, Config{Representations: []RepresentationConfig{{Layer: 1, Component: lm.MLPOutput, InterventionType: typ}}})
		if err != nil {
			t.Fatalf("New with %q: %v", typ, err)
		}
		if got := iv.Config().Representations[0].InterventionType; got != Addition {
			t.Errorf("config type %q, want %q", got, Addition)
		}
		out, err := iv.Forward([]lm.Prompt{prompt(1, 2, 3)}, AtBase(1), SourceRepresentation(steerVec()))
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float32](out.Logits)
	}
	if d := maxDiff(run("AdditionIntervention"), run(Addition)); d != 0 {
		t.Errorf("AdditionIntervention and addition differ: %g", d)
	}
	var r RepresentationConfig
	if err := json.Unmarshal([]byte(`{"intervention_type": "<class 'pyvene.models.interventions.SubtractionIntervention'>"}`), &r); err != nil || r.InterventionType != Subtraction {
		t.Errorf("JSON: type %q, %v; want %q", r.InterventionType, err, Subtraction)
	}
	err := Config{Representations: []RepresentationConfig{{InterventionType: "VanillaInterventon"}}}.Validate(m.Dims())
	if want := `representations[0].intervention_type: "VanillaInterventon" is not valid; valid: [vanilla`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Validate: error %v, want %q", err, want)
	}
}

// (e) pv.Sources takes source groups; for a batch the error points to
// pv.SourceBatches.
func TestSourcesBatchHint(t *testing.T) {
	m := tiny(t)
	iv, err := New(m, Config{Representations: []RepresentationConfig{{Layer: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	base := []lm.Prompt{prompt(1, 2, 3), prompt(4, 5, 6)}
	a, b := prompt(7, 8, 9), prompt(10, 11, 12)
	hint := "; pv.Sources(a, b, ...) gives one prompt per source group, for one base prompt: for a batch of 2 base prompts with one source each, use pv.SourceBatches([]lm.Prompt{...2 source prompts})"
	cases := []struct {
		name string
		opt  Option
		want string
	}{
		{"two groups for one group", Sources(a, b), "pv: sources: 2 given, the config has 1 source groups (give one per group, or one for all)" + hint},
		{"one source for a batch of two", Sources(a), "pv: sources[0]: 1 prompts for a base batch of 2" + hint},
	}
	for _, c := range cases {
		_, err := iv.Forward(base, c.opt, At(1, 1))
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v\nwant %s", c.name, err, c.want)
		}
	}
	if _, err := iv.Forward(base, SourceBatches([]lm.Prompt{a, b}), At(1, 1)); err != nil {
		t.Errorf("SourceBatches: %v", err)
	}
	// One base prompt: no hint (Sources is right there).
	_, err = iv.Forward(base[:1], Sources(a, b), At(1, 1))
	if want := "pv: sources: 2 given, the config has 1 source groups (give one per group, or one for all)"; err == nil || err.Error() != want {
		t.Errorf("batch of one: error %v, want %q", err, want)
	}
}

// (f) Weight and SetWeight take pyvene's names, and an unknown name lists
// the valid ones.
func TestPyveneWeightNames(t *testing.T) {
	m := tiny(t)
	iv, err := New(m, Config{Representations: []RepresentationConfig{
		{Layer: 1, InterventionType: RotatedSpace},
		{Layer: 2, InterventionType: Autoencoder, LowRankDimension: 4},
		{Layer: 0},
	}})
	if err != nil {
		t.Fatal(err)
	}
	k := iv.Keys()
	ours, shape, err := iv.Weight(k[0], "rotate_layer")
	if err != nil {
		t.Fatal(err)
	}
	theirs, _, err := iv.Weight(k[0], "rotate_layer.weight")
	if err != nil || !slices.Equal(ours, theirs) || !slices.Equal(shape, []int{16, 16}) {
		t.Errorf("rotate_layer.weight: %v (shape %v); want rotate_layer's values", err, shape)
	}
	eye := make([]float32, 16*16)
	for i := range 16 {
		eye[i*16+i] = 1
	}
	if err := iv.SetWeight(k[0], "rotate_layer.weight", eye); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := iv.Weight(k[0], "rotate_layer"); !slices.Equal(got, eye) {
		t.Error("SetWeight(rotate_layer.weight) did not set rotate_layer")
	}
	enc := make([]float32, 4*16)
	enc[3] = 0.5
	if err := iv.SetWeight(k[1], "autoencoder.encoder.0.weight", enc); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := iv.Weight(k[1], "encoder.weight"); !slices.Equal(got, enc) {
		t.Error("SetWeight(autoencoder.encoder.0.weight) did not set encoder.weight")
	}
	rotValid := "valid: rotate_layer (pyvene: rotate_layer.weight)"
	cases := []struct {
		key, name, want string
	}{
		{k[0], "rotate_layr", `pv: set weight "rotate_layr" of ` + k[0] + ": unknown weight name; " + rotValid},
		{k[0], "rotate_layer.parametrizations.weight.original", `pv: set weight "rotate_layer.parametrizations.weight.original" of ` + k[0] + ": unknown weight name; " + rotValid +
			"; that is torch's raw parameter of the orthogonal parametrization, not the rotation: pass the orthonormal matrix itself (pyvene: intervention.rotate_layer.weight) as rotate_layer.weight"},
		{k[0], "temperature", `pv: set weight "temperature" of ` + k[0] + ": unknown weight name; " + rotValid + "; the temperature is not a weight in govene: use Model.SetTemperature"},
		{k[1], "encoder", `pv: set weight "encoder" of ` + k[1] + ": unknown weight name; valid: encoder.weight (pyvene: autoencoder.encoder.0.weight), encoder.bias (pyvene: autoencoder.encoder.0.bias), decoder.weight (pyvene: autoencoder.decoder.0.weight), decoder.bias (pyvene: autoencoder.decoder.0.bias)"},
		{k[2], "rotate_layer", `pv: set weight "rotate_layer" of ` + k[2] + ": this intervention has no weights (only rotations, masks, PCA and autoencoders do)"},
	}
	for _, c := range cases {
		err := iv.SetWeight(c.key, c.name, eye)
		if err == nil || err.Error() != c.want {
			t.Errorf("SetWeight(%q): error %v\nwant %s", c.name, err, c.want)
		}
		_, _, err = iv.Weight(c.key, c.name)
		if want := strings.Replace(c.want, "set weight", "weight", 1); err == nil || err.Error() != want {
			t.Errorf("Weight(%q): error %v\nwant %s", c.name, err, want)
		}
	}
}

// (g) Logits, collected values and captured sites read as Go slices.
func TestOutputSliceAccessors(t *testing.T) {
	m := tiny(t)
	iv, err := New(m, Config{Representations: []RepresentationConfig{
		{Layer: 1, Component: lm.MLPOutput, InterventionType: Addition},
		{Layer: 2, InterventionType: Collect},
	}})
	if err != nil {
		t.Fatal(err)
	}
	base := []lm.Prompt{prompt(1, 2, 3), prompt(4, 5, 6, 7, 8)}
	site := lm.Site{Layer: 0, Component: lm.BlockOutput}
	out, err := iv.Forward(base, AtBase(1), SourceRepresentation(steerVec()), WithOriginal(), CaptureSites(site))
	if err != nil {
		t.Fatal(err)
	}
	for e, p := range base {
		for _, original := range []bool{false, true} {
			x := out.Logits
			if original {
				x = out.Original
			}
			rows, err := out.TokenLogits(e, original)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != p.Len() {
				t.Fatalf("example %d: %d rows, want one per token (%d)", e, len(rows), p.Len())
			}
			for j, row := range rows {
				if !slices.Equal(row, logitsAt(t, x, out.Base, e, j)) {
					t.Errorf("example %d original=%v: row %d differs from the tensor's", e, original, j)
				}
			}
			last, err := out.LastLogits(e, original)
			if err != nil || !slices.Equal(last, rows[len(rows)-1]) {
				t.Errorf("example %d original=%v: LastLogits %v differs from the last row", e, original, err)
			}
		}
	}
	col, shape, err := out.CollectedValues(iv.Keys()[1])
	if err != nil || !slices.Equal(col, tensors.MustCopyFlatData[float32](out.Collected[iv.Keys()[1]])) || !slices.Equal(shape, []int{2, 1, 16}) {
		t.Errorf("CollectedValues: %v, shape %v", err, shape)
	}
	sv, shape, err := out.SiteValues(site)
	if err != nil || !slices.Equal(sv, tensors.MustCopyFlatData[float32](out.Sites[site])) || !slices.Equal(shape, []int{2, 5, 16}) {
		t.Errorf("SiteValues: %v, shape %v", err, shape)
	}
	lastOnly, err := iv.Forward(base, AtBase(1), SourceRepresentation(steerVec()), LastLogitsOnly())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := lastOnly.TokenLogits(1, false)
	want, _ := out.LastLogits(1, false)
	if err != nil || len(rows) != 1 || maxDiff(rows[0], want) > 1e-5 {
		t.Errorf("LastLogitsOnly: %d rows, err %v; want one row, the last token's", len(rows), err)
	}
	noOrig, err := iv.Forward(base, AtBase(1), SourceRepresentation(steerVec()))
	if err != nil {
		t.Fatal(err)
	}
	errs := []struct {
		name string
		err  error
		want string
	}{
		{"example out of range", func() error { _, err := out.TokenLogits(2, false); return err }(), "pv: logits: example 2 out of range [0, 2)"},
		{"last, out of range", func() error { _, err := out.LastLogits(-1, false); return err }(), "lm: example -1 out of range [0, 2)"},
		{"no original", func() error { _, err := noOrig.TokenLogits(0, true); return err }(), "pv: no original output; pass pv.WithOriginal()"},
		{"unknown collect key", func() error { _, _, err := out.CollectedValues("x"); return err }(), `pv: collected: no value for key "x"; collected keys: ["layer_2_comp_block_output_unit_pos_nunit_1#0"]`},
		{"site not captured", func() error { _, _, err := out.SiteValues(lm.Site{Layer: 1, Component: lm.BlockOutput}); return err }(), "pv: site blocks.1.block_output was not captured; ask for it with pv.CaptureSites"},
	}
	for _, c := range errs {
		if c.err == nil || !strings.HasPrefix(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, c.err, c.want)
		}
	}
}

// (h) max_number_of_units: enforced for weighted interventions, whose
// weights pyvene sizes by it; other types take more units, as pyvene's do
// (its Causal_Tracing tutorial corrupts 4 positions with the default of 1).
func TestMaxNumberOfUnits(t *testing.T) {
	m := tiny(t)
	base, src := []lm.Prompt{prompt(1, 2, 3, 4)}, prompt(5, 6, 7, 8)
	cases := []struct {
		name string
		r    RepresentationConfig
		want string
	}{
		{"vanilla, 2 units, max 1: accepted as in pyvene", RepresentationConfig{Layer: 1}, ""},
		{"low rank, 2 units, max 2", RepresentationConfig{Layer: 1, InterventionType: LowRankRotatedSpace, LowRankDimension: 4, MaxNumberOfUnits: 2}, ""},
		{"low rank, 2 units, max 1", RepresentationConfig{Layer: 1, InterventionType: LowRankRotatedSpace, LowRankDimension: 4},
			"pv: layer_1_comp_block_output_unit_pos_nunit_1#0: 2 units (positions) per example given, more than max_number_of_units 1; low_rank_rotated_space weights are sized by max_number_of_units (pyvene fails here too): set MaxNumberOfUnits to 2 (govene applies the weights to each unit separately)"},
		{"sigmoid mask, 2 units, max 1", RepresentationConfig{Layer: 1, InterventionType: SigmoidMask},
			"pv: layer_1_comp_block_output_unit_pos_nunit_1#0: 2 units (positions) per example given, more than max_number_of_units 1; sigmoid_mask weights"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			iv, err := New(m, Config{Representations: []RepresentationConfig{c.r}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = iv.Forward(base, Sources(src), AtUnits(1, 2))
			switch {
			case c.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)):
				t.Errorf("error %v\nwant %s", err, c.want)
			}
		})
	}
}
