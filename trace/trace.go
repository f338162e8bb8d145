// Package trace is causal tracing as ROME does it (Meng et al. 2022): run a
// prompt with noise added to the subject's token embeddings, then restore
// the clean value of one site at a time and see how much of the correct
// prediction comes back. It returns layers x positions grids for the
// residual stream, the MLPs and the attention layers (the latter two over a
// window of layers), and renders them as a report.
package trace

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/plots"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/sweep"
)

// Config says what to trace: govene.TraceConfig (the prompt, the subject,
// the target token, the noise scale, the window and the seed). Run
// validates it before anything runs: a negative, NaN or infinite
// NoiseScale, a negative Window or an empty Prompt is an error.
type Config = govene.TraceConfig

// Option sets how Run reports on its work.
type Option func(*options)

// options holds what the Options set.
type options struct {
	onProgress func(component lm.Component, done, total int)
}

// OnProgress has Run call f with (done, total) settings of each grid as
// they are done; a nil f reports nothing.
func OnProgress(f func(component lm.Component, done, total int)) Option {
	return func(o *options) { o.onProgress = f }
}

// validate checks the fields Run cannot check through the sweeps.
func validate(c Config) error {
	switch {
	case math.IsNaN(c.NoiseScale) || math.IsInf(c.NoiseScale, 0) || c.NoiseScale < 0:
		return fmt.Errorf("trace: noise_scale: %g must be a finite number >= 0 (0: ROME's 3)", c.NoiseScale)
	case c.Window < 0:
		return fmt.Errorf("trace: window: %d must not be negative (0: scaled from ROME's)", c.Window)
	case c.Prompt == "":
		return errors.New("trace: prompt: empty")
	}
	return nil
}

// Grid is one traced component.
type Grid struct {
	Component lm.Component
	Window    int
	Result    *sweep.Result
}

// Result is a causal trace.
type Result struct {
	Config
	Tokens      []string
	SubjectFrom int // first subject token
	SubjectTo   int // one past the last subject token
	NoiseLevel  float64
	Clean       float64 // P(target) clean
	Corrupted   float64 // P(target) with the subject corrupted
	Grids       []Grid  // block_output, mlp_output, attention_output
	// CleanProbs and CorruptedProbs are the next-token distributions.
	CleanProbs, CorruptedProbs []float32
	label                      func(int) string
}

// Run traces cfg.Prompt on m with sw (reuse one Sweeper across traces to
// reuse its compiled graphs). It returns an error when the subject is not
// in the prompt or the target is not one token, for an invalid Config
// (see its fields), and for the sweeps' errors (a prompt longer than the
// model takes, for example). OnProgress reports on the sweeps.
func Run(m lm.TextModel, sw *sweep.Sweeper, cfg Config, opts ...Option) (*Result, error) {
	if m == nil || sw == nil {
		return nil, errors.New("trace: nil model or Sweeper")
	}
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if err := validate(cfg); err != nil {
		return nil, err
	}
	if cfg.NoiseScale == 0 {
		cfg.NoiseScale = 3
	}
	p := m.Encode(cfg.Prompt)
	from, to, err := Span(m, cfg.Prompt, cfg.Subject)
	if err != nil {
		return nil, err
	}
	target, ok := m.TokenID(cfg.Target)
	if !ok {
		return nil, fmt.Errorf("trace: target %q is not a single token", cfg.Target)
	}
	layers := m.Dims().Layers
	if cfg.Window <= 0 {
		cfg.Window = max(1, int(math.Round(10*float64(layers)/48)))
	}
	level, err := embeddingStd(m, p)
	if err != nil {
		return nil, err
	}
	level *= cfg.NoiseScale
	res := &Result{Config: cfg, Tokens: p.Tokens, SubjectFrom: from, SubjectTo: to, NoiseLevel: level}
	var subject []int
	for i := from; i < to; i++ {
		subject = append(subject, i)
	}
	for _, g := range []struct {
		c lm.Component
		w int
	}{{lm.BlockOutput, 1}, {lm.MLPOutput, cfg.Window}, {lm.AttentionOutput, cfg.Window}} {
		sc := sweep.Config{Component: g.c, Window: g.w, Metric: sweep.TokenProb(target)}
		if o.onProgress != nil {
			c := g.c
			sc.OnProgress = func(done, total int) { o.onProgress(c, done, total) }
		}
		r, err := sw.Trace(p, sweep.Corruption{Positions: subject, Level: level, Seed: cfg.Seed}, sc)
		if err != nil {
			return nil, fmt.Errorf("trace: %s: %w", g.c, err)
		}
		res.Clean, res.Corrupted = r.Source, r.Base
		res.Grids = append(res.Grids, Grid{Component: g.c, Window: g.w, Result: r})
	}
	// The two next-token distributions, for the probability table.
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
		{Layer: 0, Component: lm.BlockInput, InterventionType: pv.Addition, MaxNumberOfUnits: len(subject)}}})
	if err != nil {
		return nil, err
	}
	c := sweep.Corruption{Positions: subject, Level: level, Seed: cfg.Seed}
	out, err := iv.Forward([]lm.Prompt{p}, pv.AtBase(subject...), pv.WithOriginal(),
		pv.SourceRepresentations(map[string][][]float32{iv.Keys()[0]: {c.Noise(m.Dims().Hidden)}}))
	if err != nil {
		return nil, fmt.Errorf("trace: corrupted run: %w", err)
	}
	if res.CleanProbs, err = out.NextTokenProbs(0, true); err != nil {
		return nil, err
	}
	if res.CorruptedProbs, err = out.NextTokenProbs(0, false); err != nil {
		return nil, err
	}
	res.label = m.TokenString
	return res, nil
}

// Span returns the token positions [from, to) of subject in the prompt, by
// tokenizing the text before it and up to its end.
func Span(m lm.Tokenizer, prompt, subject string) (from, to int, err error) {
	i := strings.Index(prompt, subject)
	if subject == "" || i < 0 {
		return 0, 0, fmt.Errorf("trace: subject %q is not in the prompt %q", subject, prompt)
	}
	// A byte-level BPE attaches the space before a word to the word, so the
	// prefix is measured without its trailing spaces.
	from = m.Encode(strings.TrimRight(prompt[:i], " ")).Len()
	to = m.Encode(prompt[:i+len(subject)]).Len()
	if to <= from {
		return 0, 0, errors.New("trace: the subject has no tokens of its own")
	}
	return from, to, nil
}

// embeddingStd is the standard deviation of the prompt's token embeddings.
func embeddingStd(m lm.Model, p lm.Prompt) (float64, error) {
	r, err := lm.NewRunner(m, m.PadID()).Run([]lm.Prompt{p}, lm.Site{Layer: -1, Component: lm.Embed})
	if err != nil {
		return 0, err
	}
	v, err := tensors.CopyFlatData[float32](r.Sites[lm.Site{Layer: -1, Component: lm.Embed}])
	if err != nil {
		return 0, err
	}
	mean, sq := 0.0, 0.0
	for _, x := range v {
		mean += float64(x)
	}
	mean /= float64(len(v))
	for _, x := range v {
		sq += (float64(x) - mean) * (float64(x) - mean)
	}
	return math.Sqrt(sq / float64(len(v))), nil
}

// Data returns the trace as data (govene.TraceResult): the grids' results
// are copies, so changing one changes nothing here. A nil Result gives nil.
func (r *Result) Data() *govene.TraceResult {
	if r == nil {
		return nil
	}
	d := &govene.TraceResult{Config: r.Config, Tokens: slices.Clone(r.Tokens), SubjectFrom: r.SubjectFrom,
		SubjectTo: r.SubjectTo, NoiseLevel: r.NoiseLevel, Clean: r.Clean, Corrupted: r.Corrupted,
		CleanProbs: slices.Clone(r.CleanProbs), CorruptedProbs: slices.Clone(r.CorruptedProbs)}
	for _, g := range r.Grids {
		tg := govene.TraceGrid{Component: g.Component, Window: g.Window}
		if g.Result != nil {
			tg.Result = govene.SweepResult{Rows: slices.Clone(g.Result.Rows), Cols: slices.Clone(g.Result.Cols),
				Base: g.Result.Base, Source: g.Result.Source}
			for _, row := range g.Result.Values {
				tg.Result.Values = append(tg.Result.Values, slices.Clone(row))
			}
		}
		d.Grids = append(d.Grids, tg)
	}
	return d
}

// HeatMaps renders the three grids, subject tokens marked with "*"
// (plots.TraceHeatMaps of Data).
func (r *Result) HeatMaps() []*plots.HeatMap { return plots.TraceHeatMaps(r.Data()) }

// Report is a standalone page: the probabilities and the three heat maps
// (plots.TraceReport of Data, with the model's token labels).
func (r *Result) Report() *plots.Report {
	if r == nil {
		return plots.TraceReport(nil, nil)
	}
	return plots.TraceReport(r.Data(), r.label)
}
