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
	"strings"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/plots"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/sweep"
)

// Config says what to trace. Run validates it before anything runs.
type Config struct {
	// Prompt and Subject: the subject must occur in the prompt.
	Prompt  string `json:"prompt"`
	Subject string `json:"subject"`
	// Target is the token whose probability is measured (e.g. " Seattle").
	Target string `json:"target"`
	// NoiseScale multiplies the standard deviation of the prompt's token
	// embeddings to give the noise level (0: ROME's 3; negative, NaN or
	// infinite is an error).
	NoiseScale float64 `json:"noise_scale"`
	// Window is how many layers the MLP and attention restorations span
	// (ROME: 10 of GPT-2 XL's 48); 0 scales ROME's to the model; negative is
	// an error.
	Window int `json:"window"`
	// Seed fixes the noise.
	Seed uint64 `json:"seed"`
	// OnProgress receives (done, total) settings of each grid.
	OnProgress func(component lm.Component, done, total int) `json:"-"`
}

// validate checks the fields Run cannot check through the sweeps.
func (c Config) validate() error {
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
// model takes, for example).
func Run(m lm.TextModel, sw *sweep.Sweeper, cfg Config) (*Result, error) {
	if m == nil || sw == nil {
		return nil, errors.New("trace: nil model or Sweeper")
	}
	if err := cfg.validate(); err != nil {
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
		if cfg.OnProgress != nil {
			c := g.c
			sc.OnProgress = func(done, total int) { cfg.OnProgress(c, done, total) }
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

// HeatMaps renders the three grids, subject tokens marked with "*".
func (r *Result) HeatMaps() []*plots.HeatMap {
	cols := make([]string, len(r.Tokens))
	for i, t := range r.Tokens {
		cols[i] = t
		if i >= r.SubjectFrom && i < r.SubjectTo {
			cols[i] = t + "*"
		}
	}
	var out []*plots.HeatMap
	for _, g := range r.Grids {
		title := fmt.Sprintf("restoring %s", g.Component)
		if g.Window > 1 {
			title += fmt.Sprintf(" (window of %d layers)", g.Window)
		}
		// Tokens down and layers across, as in ROME's figures; the color
		// bar marks the corrupted run (the baseline) and the clean one.
		out = append(out, &plots.HeatMap{Title: title, Rows: g.Result.Rows, Cols: cols, Values: g.Result.Values,
			ColorLabel: fmt.Sprintf("P(%q)", r.Target), Min: plots.Float(0), Max: plots.Float(1),
			Transpose: true, RowTitle: "layer", ColTitle: "token (* = subject)",
			Marks: []plots.Mark{{Label: "corrupted", Value: r.Corrupted}, {Label: "clean", Value: r.Clean}}})
	}
	return out
}

// Report is a standalone page: the probabilities and the three heat maps.
func (r *Result) Report() *plots.Report {
	rep := plots.NewReport(fmt.Sprintf("Causal trace: %q -> %q", r.Prompt, r.Target))
	rep.Paragraph(fmt.Sprintf("Subject %q (tokens %d..%d) corrupted with Gaussian noise of level %.3g (%.0fx the embeddings' standard deviation). P(%q): clean %.4f, corrupted %.4f. Each cell restores the clean value at one layer and position.",
		r.Subject, r.SubjectFrom, r.SubjectTo-1, r.NoiseLevel, r.NoiseScale, r.Target, r.Clean, r.Corrupted))
	if r.label != nil && r.CleanProbs != nil {
		if t, err := plots.CompareVectors("next token, clean and with the subject corrupted", r.CleanProbs, r.CorruptedProbs, r.label, 8,
			plots.CompareOptions{BeforeLabel: "clean", AfterLabel: "corrupted"}, r.Target); err == nil {
			rep.Add(t)
		}
	}
	for _, h := range r.HeatMaps() {
		rep.Add(h)
	}
	return rep
}
