// Tutorial 8, a sparse autoencoder (SAE): a TopK SAE is trained on the
// residual stream after the middle block (block 4 of the shipped model)
// over sentences built from the facts the model was taught (landmarks,
// capitals, languages, moods), and its reconstruction is measured as
// SAELens does: the explained variance and L0 of the features, and the
// increase in next-token cross-entropy and the KL divergence when the
// SAE's reconstruction replaces the residual stream.
//
// One of the model's facts, the mood of a sentence, is then looked up
// among the features: for "<name> felt <mood word> today" with a happy
// and with a sad word, the feature whose largest activation in the
// sentence is highest on the happy sentences relative to the sad ones is
// the happy feature, and the other way round the sad feature. Its
// top-activating tokens over all the sentences are listed, and the
// sentences shown with their tokens shaded by it.
//
// Last, generation is steered with each feature's decoder direction
// (sae.Steer): ten neutral prompts ("Today I feel") are each continued
// five times without steering and with the happy and the sad feature
// added at every position, and the continuations scored by their mood
// words (happy words minus sad words), as the steering tutorial does.
//
//	go run ./tutorials/sae [-steps 200] [-scale 1] [-samples 5] [-model gpt2] [-out folder]
package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/plots"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/sae"
	"github.com/govene/govene/shipped/facts"
	"github.com/govene/govene/train"
	"github.com/govene/govene/tutorials/internal/tut"
	"github.com/govene/govene/views"
)

// prompts are the neutral beginnings that steering continues.
var prompts = []string{"Today I feel", "I feel", "I am", "My day was", "This morning I was",
	"She is", "My heart feels", "Life is", "Everyone says I look", "The news made me"}

// samples is how many continuations each prompt gets per setting, steps
// how many steps the SAE trains (variables so that the tests on random
// checkpoints do less).
var (
	samples = 5
	steps   = 200
	// every keeps every so many corpus sentences (1: all).
	every = 1
)

// Config is what the tutorial does: the SAE's training steps and the
// steering scale, a multiple of the feature's largest activation on the
// mood sentences.
type Config struct {
	Steps int
	Scale float64
}

// corpus returns the training sentences: each landmark in its city, each
// country's capital and language, and each name with a happy and a sad
// word.
func corpus() []string {
	var texts []string
	add := func(format string, args ...any) { texts = append(texts, fmt.Sprintf(format, args...)) }
	for _, f := range facts.Landmarks {
		add("%s is in the city of %s", f.Name, f.City)
		add("%s is a famous place", f.Name)
	}
	for _, c := range facts.Countries {
		add("The capital of %s is %s", c.Country, c.Capital)
		add("%s is the capital of %s", c.Capital, c.Country)
		if c.Language != "" {
			add("People in %s speak %s", c.Country, c.Language)
		}
	}
	for i, n := range facts.Names {
		add("%s felt %s today", n, facts.HappyWords[i%len(facts.HappyWords)])
		add("%s was %s all day", n, facts.SadWords[i%len(facts.SadWords)])
	}
	var kept []string
	for i := 0; i < len(texts); i += every {
		kept = append(kept, texts[i])
	}
	return kept
}

// moodSentences returns "<name> felt <word> today" for every mood word of
// one polarity, each with a different name (names from offset on).
func moodSentences(words []string, offset int) []string {
	var out []string
	for i, w := range words {
		out = append(out, fmt.Sprintf("%s felt %s today", facts.Names[(offset+i)%len(facts.Names)], w))
	}
	return out
}

// found is a feature that tells one class of sentences from another by
// its activation at the mood word: the activations per sentence, their
// mean per class and the margin (the lowest in the class minus the highest
// outside it; positive: every sentence is told apart), and the feature's
// top-activating tokens over every sentence.
type found struct {
	Feature         int
	Name            string
	In, Out         []float32
	MeanIn, MeanOut float64
	Margin          float64
	// Largest is the largest activation at a mood word: the unit of the
	// steering scale.
	Largest float32
	Top     []sae.Activation
}

// atWord returns, per prompt from on, feature f's activation at the mood
// word (the token before the last, " today").
func atWord(a *sae.Activations, from, n, f int) []float32 {
	out := make([]float32, n)
	for i := range n {
		if v := a.Feature(from+i, f); len(v) >= 2 {
			out[i] = v[len(v)-2]
		}
	}
	return out
}

func mean(v []float32) float64 {
	t := 0.0
	for _, x := range v {
		t += float64(x)
	}
	return t / float64(len(v))
}

// bestFeature returns the feature of a whose activation at the mood word
// is highest on the nIn prompts of one class relative to the nOut of the
// other (the largest difference of the class means); the class is
// prompts [0, nIn), or with flip the nOut prompts after them.
func bestFeature(a *sae.Activations, nIn, nOut int, flip bool) found {
	in0, out0 := 0, nIn
	if flip {
		in0, out0 = nIn, 0
		nIn, nOut = nOut, nIn
	}
	var best found
	for f := range a.DSAE {
		in, out := atWord(a, in0, nIn, f), atWord(a, out0, nOut, f)
		mi, mo := mean(in), mean(out)
		if f == 0 || mi-mo > best.MeanIn-best.MeanOut {
			best = found{Feature: f, In: in, Out: out, MeanIn: mi, MeanOut: mo,
				Margin: float64(slices.Min(in) - slices.Max(out)), Largest: max(slices.Max(in), slices.Max(out))}
		}
	}
	return best
}

// setting is one way of generating: its name, the feature steered with
// (-1: none) and scale, and the continuations (prompt i's sample k at
// i*samples+k) with their mood scores.
type setting struct {
	Name    string
	Feature int
	Scale   float64
	tut.Moods
}

type result struct {
	Site                lm.Site
	Train               *sae.TrainReport
	Metrics             *sae.Metrics
	Happy, Sad          found
	Unsteered, ToH, ToS *setting
}

// steer fills st with the continuations of every prompt steered with
// st.Feature at st.Scale (no steering for feature -1: scale 0 on feature
// 0, the same sampling).
func steer(m models.Model, s *sae.SAE, st *setting) error {
	var ps []lm.Prompt
	for _, p := range prompts {
		for range samples {
			ps = append(ps, m.Encode(p))
		}
	}
	f, scale := st.Feature, float32(st.Scale)
	if f < 0 {
		f, scale = 0, 0
	}
	gen, err := sae.Steer(m, s, f, scale, ps, pv.GenerateOptions{
		Sampling:  lm.Sampling{MaxNewTokens: 12, Temperature: 0.8, TopK: 40, Seed: 7, StopAtEOS: true},
		EveryStep: true,
	})
	if err != nil {
		return err
	}
	return st.AddTokens(m.Tokenizer(), gen.NewTokens)
}

func encode(m models.Model, texts []string) []lm.Prompt {
	var ps []lm.Prompt
	for _, t := range texts {
		ps = append(ps, m.Encode(t))
	}
	return ps
}

func run(m models.Model, o tut.Out, c Config) (*result, error) {
	w := o.W
	site := lm.Site{Layer: m.Dims().Layers / 2, Component: lm.BlockOutput}
	r := &result{Site: site}
	texts := corpus()
	train := encode(m, texts)
	fmt.Fprintf(w, "model: %s\ntraining a TopK SAE (d_sae 256, k 16) at %s on %d sentences of the model's facts, %d steps\n", m, site, len(texts), c.Steps)
	s, rep, err := sae.Train(m, site, train, sae.TrainConfig{
		Architecture: sae.ArchTopK, DSAE: 256, K: 16, Steps: c.Steps, BatchSize: 512,
		NormalizeActivations: sae.NormExpectedAverage, SkipFirstToken: true,
		Adam: trainAdam, Seed: 1, ModelName: m.String(), Progress: progressTo(w),
	})
	if err != nil {
		return nil, err
	}
	r.Train = rep
	fmt.Fprintf(w, "trained on %d tokens in %v: explained variance %.3f, L0 %.1f of %d features\n",
		rep.Tokens, rep.Duration.Round(1e7), rep.Final.ExplainedVariance, rep.Final.L0, s.DSAE)
	if r.Metrics, err = sae.Reconstruction(m, s, train); err != nil {
		return nil, err
	}
	mt := r.Metrics
	fmt.Fprintf(w, "spliced in for the residual stream: cross-entropy %.3f -> %.3f nats (%+.3f; zero-ablating the site: %.3f), KL %.4f; explained variance %.3f, L0 %.1f\n",
		mt.CEWithoutSAE, mt.CEWithSAE, mt.CEIncrease, mt.CEWithAblation, mt.KLWithSAE, mt.ExplainedVariance, mt.L0)

	happy, sad := moodSentences(facts.HappyWords, 0), moodSentences(facts.SadWords, len(facts.HappyWords))
	moods := encode(m, append(slices.Clone(happy), sad...))
	a, err := sae.FeatureActivations(m, s, moods)
	if err != nil {
		return nil, err
	}
	r.Happy, r.Sad = bestFeature(a, len(happy), len(sad), false), bestFeature(a, len(happy), len(sad), true)
	r.Happy.Name, r.Sad.Name = "happy", "sad"
	features := &plots.TextTable{
		Title:  fmt.Sprintf("The features that best tell %d happy from %d sad sentences (activation at the mood word)", len(happy), len(sad)),
		Header: []string{"feature", "for", "mean in class", "mean in the other", "margin (lowest in - highest out)", "top-activating tokens"},
	}
	tok := m.Tokenizer()
	all := append(slices.Clone(moods), train...)
	allTexts := append(append(slices.Clone(happy), sad...), texts...)
	for _, fd := range []*found{&r.Happy, &r.Sad} {
		if fd.Top, err = sae.TopActivating(m, s, fd.Feature, all, 8); err != nil {
			return nil, err
		}
		var tops []string
		for _, t := range fd.Top {
			tops = append(tops, fmt.Sprintf("%q %.2f", tok.Token(t.Token), t.Value))
		}
		row := []string{fmt.Sprint(fd.Feature), fd.Name, fmt.Sprintf("%.2f", fd.MeanIn), fmt.Sprintf("%.2f", fd.MeanOut), fmt.Sprintf("%+.2f", fd.Margin), strings.Join(tops, ", ")}
		features.Rows = append(features.Rows, row)
		fmt.Fprintf(w, "%s feature %d: mean activation at the mood word %.2f on %s sentences, %.2f on the others, margin %+.2f\n  top-activating tokens (over %d sentences): %s\n",
			fd.Name, fd.Feature, fd.MeanIn, fd.Name, fd.MeanOut, fd.Margin, len(all), strings.Join(tops, ", "))
		for _, t := range fd.Top[:min(3, len(fd.Top))] {
			fmt.Fprintf(w, "    %.2f at %q in %q\n", t.Value, tok.Token(t.Token), allTexts[t.Prompt])
		}
	}
	view := &views.FeatureView{Title: "Happy feature of the SAE at " + site.String(), Feature: r.Happy.Feature}
	for i, p := range moods {
		var toks []string
		for _, id := range p.IDs {
			toks = append(toks, tok.Token(id))
		}
		view.Prompts, view.Acts = append(view.Prompts, toks), append(view.Acts, a.Feature(i, r.Happy.Feature))
	}

	scale := c.Scale * float64(r.Happy.Largest)
	r.Unsteered = &setting{Name: "unsteered", Feature: -1}
	r.ToH = &setting{Name: fmt.Sprintf("happy feature %d x %.1f", r.Happy.Feature, scale), Feature: r.Happy.Feature, Scale: scale}
	scaleSad := c.Scale * float64(r.Sad.Largest)
	r.ToS = &setting{Name: fmt.Sprintf("sad feature %d x %.1f", r.Sad.Feature, scaleSad), Feature: r.Sad.Feature, Scale: scaleSad}
	for _, st := range []*setting{r.Unsteered, r.ToH, r.ToS} {
		if err := steer(m, s, st); err != nil {
			return nil, err
		}
	}
	n := len(prompts) * samples
	fmt.Fprintf(w, "steering: %d neutral prompts x %d samples = %d continuations per setting (12 tokens, temperature 0.8, top-k 40); the feature's decoder direction x %g x its largest activation, added at every position\n", len(prompts), samples, n, c.Scale)
	summary := tut.MoodTable(w, fmt.Sprintf("Steering with the features at %s, %d continuations per setting, scored by mood words", site, n),
		[]string{r.Unsteered.Name, r.ToH.Name, r.ToS.Name}, []*tut.Moods{&r.Unsteered.Moods, &r.ToH.Moods, &r.ToS.Moods})
	examples := &plots.TextTable{
		Title:  "Examples: the first sample of the first three prompts (not picked)",
		Header: []string{"prompt", "unsteered", r.ToH.Name, r.ToS.Name},
	}
	fmt.Fprintln(w, "examples (the first sample of the first three prompts, not picked):")
	for i, p := range prompts[:min(3, len(prompts))] {
		k := i * samples
		examples.Rows = append(examples.Rows, []string{p, r.Unsteered.Texts[k], r.ToH.Texts[k], r.ToS.Texts[k]})
		fmt.Fprintf(w, "%q\n  %-26s %q\n  %-26s %q\n  %-26s %q\n", p, "unsteered:", r.Unsteered.Texts[k], r.ToH.Name+":", r.ToH.Texts[k], r.ToS.Name+":", r.ToS.Texts[k])
	}
	recon := &plots.TextTable{
		Title:  fmt.Sprintf("The SAE at %s (TopK, d_sae %d, k %d, %d steps on %d tokens)", site, s.DSAE, s.K, rep.Config.Steps, rep.Tokens),
		Header: []string{"explained variance", "L0", "cross-entropy", "with the SAE", "zero-ablated", "KL with the SAE"},
		Rows: [][]string{{fmt.Sprintf("%.3f", mt.ExplainedVariance), fmt.Sprintf("%.1f", mt.L0), fmt.Sprintf("%.3f", mt.CEWithoutSAE),
			fmt.Sprintf("%.3f (%+.3f)", mt.CEWithSAE, mt.CEIncrease), fmt.Sprintf("%.3f", mt.CEWithAblation), fmt.Sprintf("%.4f", mt.KLWithSAE)}},
	}
	report := plots.NewReport("A sparse autoencoder: a mood feature, and steering with it").Add(recon, features, view, summary, examples)
	return r, o.Show(report, "sae.html")
}

// trainAdam is the SAE's optimizer: Adam at a learning rate that trains
// the small SAE in a few hundred steps.
var trainAdam = train.Adam{LR: 4e-3}

// progressTo is where the training's progress bar goes: nowhere when the
// tutorial's text is discarded (tests), else the default (stderr).
func progressTo(w io.Writer) io.Writer {
	if w == io.Discard {
		return io.Discard
	}
	return nil
}

func main() {
	stepsFlag := flag.Int("steps", steps, "the SAE's training steps")
	flag.IntVar(&samples, "samples", samples, "continuations per prompt and setting")
	scale := flag.Float64("scale", 1, "steering scale: how many times the feature's largest activation at a mood word to add")
	work := func() backend.Workload {
		// The model runs over the corpus (~10 tokens a sentence) twice and
		// generates 3 x 50 continuations of ~16 tokens.
		return backend.Workload{Name: "SAE tutorial", Tokens: int64(len(corpus())*10*2 + 3*len(prompts)*samples*16*16)}
	}
	tut.MainFor("sae", work, func(m models.Model, o tut.Out) error {
		if *stepsFlag <= 0 || samples <= 0 {
			return fmt.Errorf("-steps %d, -samples %d: both must be positive", *stepsFlag, samples)
		}
		_, err := run(m, o, Config{Steps: *stepsFlag, Scale: *scale})
		return err
	})
}
