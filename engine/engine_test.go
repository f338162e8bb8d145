package engine

import (
	"io"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/sweep"
	"github.com/govene/govene/trace"
)

// The model's methods return what the gpt2 model and lm.Runner return.
func TestModelMatchesDirectCalls(t *testing.T) {
	m, gm := shipped(t)
	if m.Name() != "shipped" || m.Describe() != gm.String() || !m.Dims().Equal(gm.Dims()) {
		t.Errorf("Name %q, Describe %q, Dims %+v; want shipped, %q, %+v", m.Name(), m.Describe(), m.Dims(), gm.String(), gm.Dims())
	}
	text := "The Eiffel Tower is in the city of"
	p, err := m.Encode(text)
	if err != nil || !reflect.DeepEqual(p, gm.Encode(text)) {
		t.Errorf("Encode = %v, %v; want %v", p, err, gm.Encode(text))
	}
	id, err := m.TokenID(" Paris")
	want, _ := gm.TokenID(" Paris")
	if err != nil || id != want {
		t.Errorf("TokenID(\" Paris\") = %d, %v; want %d", id, err, want)
	}
	toks, err := m.Tokens(p.IDs)
	if err != nil || !reflect.DeepEqual(toks, p.Tokens) {
		t.Errorf("Tokens = %q, %v; want %q", toks, err, p.Tokens)
	}
	site := govene.Site{Layer: 2, Component: lm.MLPOutput}
	short := gm.Encode("Hello")
	out, err := m.Run([]govene.Prompt{p, short}, site)
	if err != nil {
		t.Fatal(err)
	}
	r, err := lm.NewRunner(gm, gm.PadID()).Run([]govene.Prompt{p, short}, site)
	if err != nil {
		t.Fatal(err)
	}
	wantOut, err := (&pv.Output{Base: r.Batch, Logits: r.Logits, Sites: r.Sites}).Data()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, wantOut) {
		t.Error("Run differs from lm.Runner.Run")
	}
	// NextTokenProbs on the data is pv's on the tensors.
	got, err := out.NextTokenProbs(1, false)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := (&pv.Output{Base: r.Batch, Logits: r.Logits}).NextTokenProbs(1, false)
	if err != nil || !reflect.DeepEqual(got, direct) {
		t.Errorf("NextTokenProbs differs from pv's (err %v)", err)
	}
}

// Models are loaded once per name; "" is the shipped model unless
// $GOVENE_MODEL says otherwise, and concurrent first calls load once.
func TestModelLoadsOnce(t *testing.T) {
	t.Setenv("GOVENE_MODEL", "")
	e, err := New(Options{Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]govene.Model, 4)
	errs := make([]error, len(got))
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			name := "shipped"
			if i%2 == 1 {
				name = ""
			}
			got[i], errs[i] = e.Model(name)
		})
	}
	wg.Wait()
	for i, m := range got {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if m == nil || m != got[0] {
			t.Fatalf("call %d returned %v, want the same model as call 0 (%v)", i, m, got[0])
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Model("shipped"); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Model after Close: %v; want an error saying the engine is closed", err)
	}
}

// The intervenable model's methods return what pv's return.
func TestIntervenableMatchesPV(t *testing.T) {
	m, gm := shipped(t)
	base, src := gm.Encode("The Colosseum is in the city of"), gm.Encode("The Eiffel Tower is in the city of")
	x, err := m.New(patchConfig)
	if err != nil {
		t.Fatal(err)
	}
	iv, err := pv.New(gm, pv.Config(patchConfig))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(x.Keys(), iv.Keys()) || !reflect.DeepEqual(x.Config(), govene.Config(iv.Config())) {
		t.Errorf("Keys %q, Config %+v; want %q, %+v", x.Keys(), x.Config(), iv.Keys(), iv.Config())
	}
	out, err := x.Forward([]govene.Prompt{base}, govene.Sources(src), govene.At(src.Last(), base.Last()), govene.WithOriginal())
	if err != nil {
		t.Fatal(err)
	}
	po, err := iv.Forward([]govene.Prompt{base}, pv.Sources(src), pv.At(src.Last(), base.Last()), pv.WithOriginal())
	if err != nil {
		t.Fatal(err)
	}
	want, err := po.Data()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, want) {
		t.Error("Forward differs from pv.Model.Forward")
	}
	for _, original := range []bool{false, true} {
		got, err := out.NextTokenProbs(0, original)
		direct, err2 := po.NextTokenProbs(0, original)
		if err != nil || err2 != nil || !reflect.DeepEqual(got, direct) {
			t.Errorf("NextTokenProbs(0, %v) differs from pv's (errors %v, %v)", original, err, err2)
		}
	}

	// Generate with a sourceless config, then with a source on the prompt.
	if x, err = m.New(zeroConfig); err != nil {
		t.Fatal(err)
	}
	if iv, err = pv.New(gm, pv.Config(zeroConfig)); err != nil {
		t.Fatal(err)
	}
	var steps []int
	opts := govene.GenerateOptions{Sampling: govene.Sampling{MaxNewTokens: 3}}
	gen, err := x.Generate([]govene.Prompt{base}, opts, func(step int, _ []int) { steps = append(steps, step) })
	if err != nil {
		t.Fatal(err)
	}
	pg, err := iv.Generate([]govene.Prompt{base}, pv.GenerateOptionsFrom(opts))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gen, pg.Data()) || !reflect.DeepEqual(steps, []int{0, 1, 2}) {
		t.Errorf("Generate = %+v (steps %v), want %+v (steps 0..2)", gen, steps, pg.Data())
	}
	// Block 6 is past the shipped model's MoveLayer: patching the last
	// token there turns Rome into Paris.
	lateConfig := govene.Config{Representations: []govene.RepresentationConfig{
		{Layer: 6, Component: lm.BlockOutput, InterventionType: govene.Vanilla}}}
	if x, err = m.New(lateConfig); err != nil {
		t.Fatal(err)
	}
	if iv, err = pv.New(gm, pv.Config(lateConfig)); err != nil {
		t.Fatal(err)
	}
	opts.InterveneOnPrompt = true
	gen, err = x.Generate([]govene.Prompt{base}, opts, nil, govene.Sources(src), govene.At(src.Last(), base.Last()), govene.WithOriginal())
	if err != nil {
		t.Fatal(err)
	}
	if pg, err = iv.Generate([]govene.Prompt{base}, pv.GenerateOptionsFrom(opts), pv.Sources(src), pv.At(src.Last(), base.Last()), pv.WithOriginal()); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gen, pg.Data()) {
		t.Errorf("Generate with a source = %+v, want %+v", gen, pg.Data())
	}
	if reflect.DeepEqual(gen.NewTokens, gen.OriginalNewTokens) {
		t.Errorf("the patch changed nothing: %v", gen.NewTokens)
	}
}

// Training, IIA, the parameter count, and saving and loading match pv's.
func TestTrainingMatchesPV(t *testing.T) {
	m, gm := shipped(t)
	data := dasExamples(t, gm)
	cfg := govene.TrainConfig{Steps: 2, BatchSize: 2, EvalEvery: 1, Seed: 3}
	x, err := m.New(dasConfig)
	if err != nil {
		t.Fatal(err)
	}
	iv, err := pv.New(gm, pv.Config(dasConfig))
	if err != nil {
		t.Fatal(err)
	}
	var losses []float64
	rep, err := x.Train(data, data, cfg, func(_ int, loss, _ float64) { losses = append(losses, loss) })
	if err != nil {
		t.Fatal(err)
	}
	tc := pv.TrainConfigFrom(cfg)
	tc.Progress = io.Discard
	want, err := iv.Train(data, data, tc)
	if err != nil {
		t.Fatal(err)
	}
	rep.Duration, want.Duration = 0, 0
	if !reflect.DeepEqual(rep, want) || !reflect.DeepEqual(losses, want.Losses) {
		t.Errorf("Train = %+v (losses %v), want %+v", rep, losses, want)
	}
	// TrainProgress trains as Train does and reports the steps done of
	// their total instead of showing a bar.
	xp, err := m.New(dasConfig)
	if err != nil {
		t.Fatal(err)
	}
	var done [][2]int
	prep, err := xp.(*Intervenable).TrainProgress(data, data, cfg, nil, func(d, total int) { done = append(done, [2]int{d, total}) })
	if err != nil {
		t.Fatal(err)
	}
	prep.Duration = 0
	if !reflect.DeepEqual(prep, want) || !reflect.DeepEqual(done, [][2]int{{1, 2}, {2, 2}}) {
		t.Errorf("TrainProgress = %+v (progress %v), want %+v (progress [[1 2] [2 2]])", prep, done, want)
	}
	acc, err := x.IIA(data, 2)
	wantAcc, err2 := iv.IIA(data, 2)
	if err != nil || err2 != nil || acc != wantAcc {
		t.Errorf("IIA = %g, %v; want %g, %v", acc, err, wantAcc, err2)
	}
	n, err := x.TrainableParameters()
	if err != nil || n != iv.TrainableParameters() || n == 0 {
		t.Errorf("TrainableParameters = %d, %v; want %d > 0", n, err, iv.TrainableParameters())
	}
	dir := filepath.Join(t.TempDir(), "das")
	if err := x.Save(dir); err != nil {
		t.Fatal(err)
	}
	loaded, err := m.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := pv.Load(dir, gm)
	if err != nil {
		t.Fatal(err)
	}
	acc, err = loaded.IIA(data, 2)
	wantAcc, err2 = direct.IIA(data, 2)
	if err != nil || err2 != nil || acc != wantAcc {
		t.Errorf("loaded IIA = %g, %v; want %g, %v", acc, err, wantAcc, err2)
	}
}

// A cache keeps every site of the run, and feeds Forward by ID as
// pv.SourceCaches does.
func TestCacheMatchesRunWithCache(t *testing.T) {
	m, gm := shipped(t)
	base, src := gm.Encode("The Colosseum is in the city of"), gm.Encode("The Eiffel Tower is in the city of")
	c, err := m.RunWithCache([]govene.Prompt{src})
	if err != nil {
		t.Fatal(err)
	}
	r, err := lm.NewRunner(gm, gm.PadID()).RunWithCache([]govene.Prompt{src})
	if err != nil {
		t.Fatal(err)
	}
	site := govene.Site{Layer: 3, Component: lm.BlockOutput}
	got, err := c.Site(site)
	if err != nil {
		t.Fatal(err)
	}
	want, err := lm.TensorData(r.Sites[site])
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Site(%s) differs from lm.Runner.RunWithCache's (err %v)", site, err)
	}
	x, err := m.New(patchConfig)
	if err != nil {
		t.Fatal(err)
	}
	out, err := x.Forward([]govene.Prompt{base}, govene.SourceCacheIDs(c.ID()), govene.At(src.Last(), base.Last()))
	if err != nil {
		t.Fatal(err)
	}
	iv, _ := pv.New(gm, pv.Config(patchConfig))
	po, err := iv.Forward([]govene.Prompt{base}, pv.SourceCaches(r), pv.At(src.Last(), base.Last()))
	if err != nil {
		t.Fatal(err)
	}
	if wantOut, _ := po.Data(); !reflect.DeepEqual(out, wantOut) {
		t.Error("Forward with SourceCacheIDs differs from pv.SourceCaches")
	}
	if err := c.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Site(site); err == nil || !strings.Contains(err.Error(), c.ID()) {
		t.Errorf("Site after Release: %v; want an error naming %q", err, c.ID())
	}
}

// Patch, Trace and CausalTrace return what sweep and trace return.
func TestSweepsMatchSweepAndTrace(t *testing.T) {
	m, gm := shipped(t)
	base, src := gm.Encode("The Colosseum is in the city of"), gm.Encode("The Eiffel Tower is in the city of")
	paris, _ := gm.TokenID(" Paris")
	cfg := govene.SweepConfig{Component: lm.BlockOutput, Layers: []int{1, 5}, Positions: []int{4, 5},
		Metric: govene.MetricSpec{Kind: govene.MetricTokenProb, Tokens: []int{paris}}}
	sc, err := sweep.ConfigFrom(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sw := sweep.New(gm)
	var done int
	got, err := m.Patch(base, src, cfg, func(d, _ int) { done = d })
	if err != nil {
		t.Fatal(err)
	}
	if want, err := sw.Patch(base, src, sc); err != nil || !reflect.DeepEqual(got, want) || done != 4 {
		t.Errorf("Patch = %+v (done %d), want %+v, %v (done 4)", got, done, want, err)
	}
	corrupt := govene.Corruption{Positions: []int{1, 2}, Level: 0.5, Seed: 1}
	got, err = m.Trace(src, corrupt, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want, err := sw.Trace(src, corrupt, sc); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Trace = %+v, want %+v, %v", got, want, err)
	}
	tc := govene.TraceConfig{Prompt: "The Space Needle is in downtown", Subject: "Space Needle", Target: " Seattle", Seed: 1, Window: 2}
	var comps []govene.Component
	tr, err := m.CausalTrace(tc, func(c govene.Component, d, total int) {
		if d == total {
			comps = append(comps, c)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want, err := trace.Run(gm, sw, tc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tr, want.Data()) || len(comps) != 3 {
		t.Errorf("CausalTrace differs from trace.Run (grids finished: %v)", comps)
	}
}

// Bad input is an error naming what is wrong.
func TestErrors(t *testing.T) {
	m, gm := shipped(t)
	e, _ := testEngine()
	base := gm.Encode("The Colosseum is in the city of")
	released, err := m.New(patchConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := released.Release(); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "no-model")
	for _, tt := range []struct {
		name string
		run  func() error
		want string
	}{
		{"unknown model", func() error { _, err := e.Model(missing); return err }, missing},
		{"unknown backend", func() error { _, err := New(Options{Backend: "nonesuch"}); return err }, `unknown backend "nonesuch"`},
		{"multi-token TokenID", func() error { _, err := m.TokenID(" Seattle Washington"); return err }, `" Seattle Washington" is not one token`},
		{"id outside the vocabulary", func() error { _, err := m.Tokens([]int{1, -3}); return err }, "ids[1] = -3"},
		{"unknown cache ID", func() error {
			x, _ := m.New(patchConfig)
			_, err := x.Forward([]govene.Prompt{base}, govene.SourceCacheIDs("cache-nonesuch"), govene.At(0, 0))
			return err
		}, `cache "cache-nonesuch"`},
		{"released cache twice", func() error {
			c, err := m.RunWithCache([]govene.Prompt{base})
			if err != nil {
				return err
			}
			c.Release()
			return c.Release()
		}, "already released"},
		{"forward after release", func() error { _, err := released.Forward([]govene.Prompt{base}); return err }, "released"},
		{"train after release", func() error {
			_, err := released.Train(nil, nil, govene.TrainConfig{}, nil)
			return err
		}, "released"},
		{"release twice", released.Release, "released"},
		{"bad config", func() error {
			_, err := m.New(govene.Config{Representations: []govene.RepresentationConfig{{Layer: 99, Component: lm.BlockOutput}}})
			return err
		}, "99"},
		{"bad metric", func() error {
			_, err := m.Patch(base, base, govene.SweepConfig{Component: lm.BlockOutput, Metric: govene.MetricSpec{Kind: "nonesuch"}}, nil)
			return err
		}, `"nonesuch" is not valid`},
		{"bad trace", func() error {
			_, err := m.CausalTrace(govene.TraceConfig{Prompt: "The Space Needle", Subject: "Eiffel", Target: " Seattle"}, nil)
			return err
		}, `subject "Eiffel" is not in the prompt`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v; want one containing %q", err, tt.want)
			}
		})
	}
	if released.Keys() != nil || !reflect.DeepEqual(released.Config(), govene.Config{}) {
		t.Error("a released model still gives its keys or config")
	}
}

// Output.LastLogits refuses bad input.
func TestOutputHelpersErrors(t *testing.T) {
	m, gm := shipped(t)
	out, err := m.Run([]govene.Prompt{gm.Encode("Hello world")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := out.NextTokenProbs(1, false); err == nil || !strings.Contains(err.Error(), "example 1 out of range [0, 1)") {
		t.Errorf("example out of range: %v", err)
	}
	if _, err := out.NextTokenProbs(0, true); err == nil || !strings.Contains(err.Error(), "WithOriginal") {
		t.Errorf("no original: %v", err)
	}
	p, err := out.NextTokenProbs(0, false)
	sum := 0.0
	for _, v := range p {
		sum += float64(v)
	}
	if err != nil || math.Abs(sum-1) > 1e-4 {
		t.Errorf("probabilities sum to %g (err %v)", sum, err)
	}
}
