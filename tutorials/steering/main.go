// Tutorial 6, generation with interventions (steering): a happy-minus-sad
// direction is taken from the MLP output of block 6 (of GPT-2 small; the
// same depth in other models), averaged over happy and sad sentences, and
// added to that site at every position of the prompt and of every new
// token while sampling.
//
// Its effect is measured rather than shown on a few continuations: ten
// neutral prompts are each continued five times (50 continuations) without
// steering, steered towards happy (+scale) and towards sad (-scale). Each
// continuation is scored by the mood words it contains (the happy and sad
// adjectives of the shipped model's corpus, facts.HappyWords and
// facts.SadWords): happy words minus sad words. A table gives, for each
// setting, how many continuations lean happy or sad and the mean score; the
// first sample of three prompts is shown as an example.
//
//	go run ./tutorials/steering [-scale 4] [-model gpt2] [-out folder]
package main

import (
	"flag"
	"fmt"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/plots"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/shipped/facts"
	"github.com/govene/govene/tutorials/internal/tut"
)

var (
	// happy and sad are the sentences the direction is averaged over.
	happy = []string{"I am so happy and joyful today", "What a wonderful and delightful day", "I feel great, cheerful and glad"}
	sad   = []string{"I am so sad and miserable today", "What a terrible and gloomy day", "I feel awful, unhappy and down"}
	// prompts are neutral beginnings: no mood word, no polarity.
	prompts = []string{"Today I feel", "I feel", "I am", "My day was", "This morning I was",
		"She is", "My heart feels", "Life is", "Everyone says I look", "The news made me"}
)

// samples is how many continuations each prompt gets per setting (a
// variable so that tests on random checkpoints can sample fewer).
var samples = 5

// setting is one way of generating: its name, the multiple of the
// direction added, and its continuations (prompt i's sample k at
// i*samples+k) with their mood scores.
type setting struct {
	Name  string
	Scale float64
	tut.Moods
}

// lean counts the continuations whose score has the sign of sign.
func (s *setting) lean(sign int) int { return s.Lean(sign) }

type result struct {
	Site                lm.Site
	Unsteered, Up, Down *setting
}

// meanSite averages the site's value over every token of the prompts.
func meanSite(m models.Model, texts []string, site lm.Site) ([]float32, error) {
	var ps []lm.Prompt
	for _, t := range texts {
		ps = append(ps, m.Encode(t))
	}
	r, err := m.Run(ps, site)
	if err != nil {
		return nil, err
	}
	d := m.Dims().Hidden
	mean := make([]float32, d)
	n := 0
	for e := range ps {
		v, _, err := r.Row(r.Sites[site], e, false)
		if err != nil {
			return nil, err
		}
		for i, x := range v {
			mean[i%d] += x
		}
		n += len(v) / d
	}
	for i := range mean {
		mean[i] /= float32(n)
	}
	return mean, nil
}

// steer samples every prompt's continuations with scale x dir added at
// site, all in one batch; with original it also returns the unsteered
// ones (same sampling seed).
func steer(m models.Model, site lm.Site, dir []float32, scale float64, original bool) (steered, unsteered [][]int, err error) {
	add := make([]float32, len(dir))
	for i, v := range dir {
		add[i] = float32(scale) * v
	}
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
		{Layer: site.Layer, Component: site.Component, InterventionType: pv.Addition, SourceRepresentation: add},
	}})
	if err != nil {
		return nil, nil, err
	}
	var ps []lm.Prompt
	for _, p := range prompts {
		for range samples {
			ps = append(ps, m.Encode(p))
		}
	}
	var opts []pv.Option
	if original {
		opts = append(opts, pv.WithOriginal())
	}
	gen, err := iv.Generate(ps, pv.GenerateOptions{
		Sampling:          lm.Sampling{MaxNewTokens: 12, Temperature: 0.8, TopK: 40, Seed: 7, StopAtEOS: true},
		InterveneOnPrompt: true, EveryStep: true,
	}, opts...)
	if err != nil {
		return nil, nil, err
	}
	return gen.NewTokens, gen.OriginalNewTokens, nil
}

func run(m models.Model, o tut.Out, scale float64) (*result, error) {
	w := o.W
	site := lm.Site{Layer: tut.Layer(m, 6), Component: lm.MLPOutput}
	h, err := meanSite(m, happy, site)
	if err != nil {
		return nil, err
	}
	s, err := meanSite(m, sad, site)
	if err != nil {
		return nil, err
	}
	dir := make([]float32, len(h))
	for i := range dir {
		dir[i] = h[i] - s[i]
	}
	up, un, err := steer(m, site, dir, scale, true)
	if err != nil {
		return nil, err
	}
	down, _, err := steer(m, site, dir, -scale, false)
	if err != nil {
		return nil, err
	}
	r := &result{Site: site,
		Unsteered: &setting{Name: "unsteered"},
		Up:        &setting{Name: fmt.Sprintf("steered %+.1f", scale), Scale: scale},
		Down:      &setting{Name: fmt.Sprintf("steered %+.1f", -scale), Scale: -scale}}
	for _, c := range []struct {
		s   *setting
		ids [][]int
	}{{r.Unsteered, un}, {r.Up, up}, {r.Down, down}} {
		if err := c.s.AddTokens(m.Tokenizer(), c.ids); err != nil {
			return nil, err
		}
	}

	n := len(prompts) * samples
	fmt.Fprintf(w, "model: %s\nsteering: %s + scale x (happy - sad), scale %+.1f and %+.1f\n", m, site, scale, -scale)
	fmt.Fprintf(w, "%d neutral prompts x %d samples = %d continuations per setting (12 tokens, temperature 0.8, top-k 40)\n", len(prompts), samples, n)
	fmt.Fprintf(w, "score: happy words %v minus sad words %v in the continuation\n", facts.HappyWords, facts.SadWords)
	summary := tut.MoodTable(w, fmt.Sprintf("Steering %s, %d continuations per setting, scored by mood words", site, n),
		[]string{r.Unsteered.Name, r.Up.Name, r.Down.Name}, []*tut.Moods{&r.Unsteered.Moods, &r.Up.Moods, &r.Down.Moods})
	fmt.Fprintf(w, "success: %s leans happy in %s of continuations (unsteered %s); %s leans sad in %s (unsteered %s)\n",
		r.Up.Name, tut.Share(r.Up.lean(1), n), tut.Share(r.Unsteered.lean(1), n), r.Down.Name, tut.Share(r.Down.lean(-1), n), tut.Share(r.Unsteered.lean(-1), n))

	examples := &plots.TextTable{
		Title:  "Examples: the first sample of the first three prompts (not picked)",
		Header: []string{"prompt", "unsteered", r.Up.Name, r.Down.Name},
	}
	fmt.Fprintln(w, "examples (the first sample of the first three prompts, not picked):")
	for i, p := range prompts[:3] {
		k := i * samples
		examples.Rows = append(examples.Rows, []string{p, r.Unsteered.Texts[k], r.Up.Texts[k], r.Down.Texts[k]})
		fmt.Fprintf(w, "%q\n  %-14s %q\n  %-14s %q\n  %-14s %q\n", p, r.Unsteered.Name+":", r.Unsteered.Texts[k], r.Up.Name+":", r.Up.Texts[k], r.Down.Name+":", r.Down.Texts[k])
	}
	report := plots.NewReport("Steering with a happy-minus-sad direction").Add(summary, examples)
	return r, o.Show(report, "steering.html")
}

func main() {
	scale := flag.Float64("scale", 4, "how many times the happy-minus-sad difference to add (and subtract)")
	tut.Main("steering", func(m models.Model, o tut.Out) error {
		_, err := run(m, o, *scale)
		return err
	})
}
