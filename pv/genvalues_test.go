package pv

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/causal"
	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/llama"
	"github.com/govene/govene/lm"
)

// genValuesCase is one generation whose collected and captured values are
// checked against a Forward over the sequences it generated.
type genValuesCase struct {
	name string
	// reps are the interventions; a Collect at block_output of layer 1 is
	// appended, and the sites of genCapture are captured.
	reps []RepresentationConfig
	base []lm.Prompt
	g    GenerateOptions
	// opts go to Generate and to the reference Forward.
	opts []Option
	// units are the Collect's prompt units in the prompt pass (nil: the
	// whole prompt).
	units []int
	// changes says the interventions change the generated tokens.
	changes bool
	// stops says some examples stop at EOS before the last pass.
	stops bool
}

var genCapture = []lm.Site{{Layer: 1, Component: lm.BlockOutput}, {Layer: 0, Component: lm.MLPOutput}}

// steering returns a vector of width w that changes what the test models
// generate.
func steering(w int) []float32 {
	v := make([]float32, w)
	for i := range v {
		v[i] = 4 * (float32(i%5) - 2)
	}
	return v
}

func genValuesCases(m lm.Model) []genValuesCase {
	d := m.Dims()
	return []genValuesCase{
		{name: "no interventions", base: []lm.Prompt{prompt(5, 9, 2, 7)}, g: GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 5}}},
		{name: "left-padded batch", base: []lm.Prompt{prompt(5, 9, 2), prompt(1, 8, 3, 6, 4, 11), prompt(7, 7, 30, 2)},
			g: GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 4}}},
		{name: "steering every pass changes the tokens", reps: []RepresentationConfig{{Layer: 0, Component: lm.MLPOutput, InterventionType: Addition, SourceRepresentation: steering(d.Hidden)}},
			base: []lm.Prompt{prompt(5, 9, 2, 7), prompt(3, 12)}, g: GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 6}, InterveneOnPrompt: true, EveryStep: true}, changes: true},
		{name: "patch on the prompt, collect located", reps: []RepresentationConfig{{Layer: 0, Component: lm.BlockOutput, InterventionType: Vanilla}},
			base: []lm.Prompt{prompt(5, 9, 2, 7)}, g: GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 4}, InterveneOnPrompt: true},
			opts: []Option{Sources(prompt(40, 41, 42)), At(2, 1)}, units: []int{1}},
	}
}

// TestGenerateValuesMatchForward checks that what a Collect intervention
// and CaptureSites read during generation (KV cache, left padding,
// interventions that change the tokens, examples stopping at EOS) equals a
// Forward over the generated sequences at the positions each pass fed.
func TestGenerateValuesMatchForward(t *testing.T) {
	m, err := oddModel()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range append(genValuesCases(m), eosCase(m)) {
		t.Run(c.name, func(t *testing.T) { checkGenValues(t, m, c) })
	}
}

// eosCase pushes example 0 of two towards the decoder's EOS (the pad
// token) from the prompt pass on, by adding the token's (tied) embedding
// to the last block's output; example 1 gets one dimension of it.
func eosCase(m *gpt2.Model) genValuesCase {
	d := m.Dims()
	wte := tensors.MustCopyFlatData[float32](m.Params()[0]) // wte.weight [vocab, d]
	push := make([]float32, d.Hidden)
	all := make([]int, d.Hidden)
	for i := range push {
		push[i], all[i] = 100*wte[m.PadID()*d.Hidden+i], i
	}
	return genValuesCase{name: "stop at EOS", reps: []RepresentationConfig{{Layer: d.Layers - 1, Component: lm.BlockOutput, InterventionType: Addition, SourceRepresentation: push}},
		base: []lm.Prompt{prompt(5, 9, 2, 7), prompt(3, 12, 8)}, g: GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 4, StopAtEOS: true}, InterveneOnPrompt: true, EveryStep: true},
		opts: []Option{SubspacesPer([][][]int{{all, {0}}, {all, all}})}, changes: true, stops: true}
}

// TestGenerateValuesFamily runs the same checks on a Llama checkpoint:
// nothing in them is GPT-2's.
func TestGenerateValuesFamily(t *testing.T) {
	m, err := llama.LoadDir(filepath.Join("..", "models", "testdata", "llama"), causal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range genValuesCases(m)[1:3] {
		t.Run(c.name, func(t *testing.T) { checkGenValues(t, m, c) })
	}
}

func checkGenValues(t *testing.T, m lm.Model, c genValuesCase) {
	t.Helper()
	reps := append(slices.Clone(c.reps), RepresentationConfig{Layer: 1, Component: lm.BlockOutput, InterventionType: Collect})
	iv := mustNew(t, m, Config{Representations: reps})
	key := iv.Keys()[len(reps)-1]
	opts := append(slices.Clone(c.opts), CaptureSites(genCapture...))
	gen, err := iv.Generate(c.base, c.g, append(slices.Clone(opts), WithOriginal())...)
	if err != nil {
		t.Fatal(err)
	}
	n := c.g.MaxNewTokens
	if changed := !slices.EqualFunc(gen.NewTokens, gen.OriginalNewTokens, slices.Equal); changed != c.changes {
		t.Errorf("tokens %v, without interventions %v: changed %v, want %v", gen.NewTokens, gen.OriginalNewTokens, changed, c.changes)
	}
	// The sequences each pass fed: the prompt, then the new tokens but
	// the last (and none after EOS).
	full := make([]lm.Prompt, len(c.base))
	stopped := false
	for e, p := range c.base {
		fed := min(n-1, len(gen.NewTokens[e]))
		stopped = stopped || len(gen.NewTokens[e]) < n
		full[e] = prompt(append(slices.Clone(p.IDs), gen.NewTokens[e][:fed]...)...)
	}
	if stopped != c.stops {
		t.Fatalf("new tokens %v: some stopped early %v, want %v", gen.NewTokens, stopped, c.stops)
	}
	ref, err := iv.Forward(full, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if gen.Base == nil || len(gen.Base.Lengths) != len(c.base) {
		t.Fatalf("Base %+v, want the prompt batch", gen.Base)
	}
	checkPasses(t, "collected "+key, gen, gen.Collected[key], ref.Sites[genCapture[0]], c.units, n)
	for _, s := range genCapture {
		checkPasses(t, s.String(), gen, gen.Sites[s], ref.Sites[s], nil, n)
	}
	if len(gen.Collected) != 1 || len(gen.Sites) != len(genCapture) {
		t.Errorf("collected keys %d, sites %d; want 1 and %d", len(gen.Collected), len(gen.Sites), len(genCapture))
	}
	// The data form carries the same values.
	d := gen.Data()
	for j, v := range d.Collected[key] {
		if want := tensors.MustCopyFlatData[float32](gen.Collected[key][j]); !slices.Equal(v.Data, want) || !slices.Equal(v.Shape, gen.Collected[key][j].Shape().Dimensions) {
			t.Errorf("Data().Collected[%q][%d] differs from Collected", key, j)
		}
	}
	if len(d.Collected[key]) != n || len(d.Sites[genCapture[1].String()]) != n || !slices.Equal(d.Lengths, gen.Base.Lengths) {
		t.Errorf("Data(): %d collected passes, %d site passes, lengths %v; want %d, %d, %v",
			len(d.Collected[key]), len(d.Sites[genCapture[1].String()]), d.Lengths, n, n, gen.Base.Lengths)
	}
}

// checkPasses compares one value's passes with the reference Forward's
// site values ref [b,S,w] over the fed sequences: the prompt pass at every
// prompt position (or units), pass j >= 1 at new token j-1's position, and
// zero for examples that had stopped.
func checkPasses(t *testing.T, what string, gen *Generation, passes []*tensors.Tensor, ref *tensors.Tensor, units []int, n int) {
	t.Helper()
	if len(passes) != n || ref == nil {
		t.Fatalf("%s: %d passes (reference %v), want %d", what, len(passes), ref != nil, n)
	}
	rd := ref.Shape().Dimensions
	rflat := tensors.MustCopyFlatData[float32](ref)
	S, w := rd[1], rd[2]
	refRow := func(e, pos, fedLen int) []float32 {
		start := (e*S + S - fedLen + pos) * w
		return rflat[start : start+w]
	}
	worst := 0.0
	for j, p := range passes {
		gd := p.Shape().Dimensions
		flat := tensors.MustCopyFlatData[float32](p)
		wantCols := 1
		if j == 0 {
			wantCols = gen.Base.Len
			if units != nil {
				wantCols = len(units)
			}
		}
		if !slices.Equal(gd, []int{len(gen.NewTokens), wantCols, w}) {
			t.Fatalf("%s: pass %d has shape %v, want [%d %d %d]", what, j, gd, len(gen.NewTokens), wantCols, w)
		}
		row := func(e, col int) []float32 { return flat[(e*gd[1]+col)*w : (e*gd[1]+col+1)*w] }
		for e, news := range gen.NewTokens {
			pl := gen.Base.Lengths[e]
			fedLen := pl + min(n-1, len(news))
			switch {
			case j == 0 && units == nil:
				for pos := range pl {
					worst = max(worst, maxDiff(row(e, gen.Base.Offset(e)+pos), refRow(e, pos, fedLen)))
				}
			case j == 0:
				for k, u := range units {
					worst = max(worst, maxDiff(row(e, k), refRow(e, u, fedLen)))
				}
			case j <= len(news):
				worst = max(worst, maxDiff(row(e, 0), refRow(e, pl+j-1, fedLen)))
			default:
				if slices.ContainsFunc(row(e, 0), func(v float32) bool { return v != 0 }) {
					t.Errorf("%s: pass %d, example %d stopped after %d tokens: values %v, want zeros", what, j, e, len(news), row(e, 0)[:min(4, w)])
				}
			}
		}
	}
	if worst > 1e-5 {
		t.Errorf("%s: differs from Forward over the generated sequences by %g (> 1e-5)", what, worst)
	}
	t.Logf("%s: %d passes, max difference %g", what, len(passes), worst)
}

// zeroStopped zeroes exactly the rows of examples with fewer new tokens
// than the pass.
func TestZeroStopped(t *testing.T) {
	for _, tt := range []struct {
		tokens [][]int
		pass   int
		want   []float32
	}{
		{[][]int{{1, 2}, {3}}, 1, []float32{1, 1, 2, 2}},
		{[][]int{{1, 2}, {3}}, 2, []float32{1, 1, 0, 0}},
		{[][]int{{1}, {3}}, 3, []float32{0, 0, 0, 0}},
	} {
		x := tensors.FromFlatDataAndDimensions([]float32{1, 1, 2, 2}, 2, 1, 2)
		if err := zeroStopped(x, tt.tokens, tt.pass); err != nil {
			t.Fatal(err)
		}
		if got := tensors.MustCopyFlatData[float32](x); !slices.Equal(got, tt.want) {
			t.Errorf("tokens %v, pass %d: %v, want %v", tt.tokens, tt.pass, got, tt.want)
		}
	}
}

// Collect interventions read every pass whichever interventions act on new
// tokens (none: a prompt-only schedule; some steps; located ones on new
// tokens, when the Collect reads the whole prompt), and captured sites
// come back per pass too.
func TestGenerateValuesShapes(t *testing.T) {
	m := tiny(t)
	iv := mustNew(t, m, Config{Representations: []RepresentationConfig{
		{Layer: 1, Component: lm.MLPOutput, InterventionType: Addition, SourceRepresentation: steering(16)},
		{Layer: 2, Component: lm.BlockOutput, InterventionType: Collect}}})
	base := []lm.Prompt{prompt(4, 8, 15), prompt(16, 23)}
	embed := lm.Site{Layer: -1, Component: lm.Embed}
	for _, tt := range []struct {
		name string
		g    GenerateOptions
		opts []Option
	}{
		{"prompt-only schedule", GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 3}, InterveneOnPrompt: true, EveryStep: true, Steps: []int{}}, nil},
		{"one step, capturing", GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 3}, InterveneOnPrompt: true, EveryStep: true, Steps: []int{1}}, []Option{CaptureSites(embed)}},
		{"located on new tokens", GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 2}}, []Option{AtBase(0)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gen, err := iv.Generate(base, tt.g, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			passes := map[string][]*tensors.Tensor{"collected": gen.Collected[iv.Keys()[1]]}
			if len(tt.opts) > 0 && tt.g.Steps != nil {
				passes["embed"] = gen.Sites[embed]
			}
			if len(gen.Sites) != len(passes)-1 {
				t.Errorf("%d captured sites, want %d", len(gen.Sites), len(passes)-1)
			}
			for what, got := range passes {
				if len(got) != tt.g.MaxNewTokens {
					t.Fatalf("%s: %d passes, want %d", what, len(got), tt.g.MaxNewTokens)
				}
				for j, x := range got {
					want := []int{2, 1, 16}
					if j == 0 {
						want[1] = 3 // the whole padded prompt
					}
					if !slices.Equal(x.Shape().Dimensions, want) {
						t.Errorf("%s: pass %d: shape %v, want %v", what, j, x.Shape().Dimensions, want)
					}
				}
			}
		})
	}
}
