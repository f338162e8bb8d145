package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/govene/govene/models"
	"github.com/govene/govene/tutorials/internal/tut"
)

// The tutorial runs on a random checkpoint of every family (fewer steps,
// training sentences, prompts and samples): the SAE trains at the middle block, two features
// are found and every setting has its continuations.
func TestSAEOnEveryFamily(t *testing.T) {
	p, s, e := prompts, samples, every
	prompts, samples, every = prompts[:2], 1, 5
	t.Cleanup(func() { prompts, samples, every = p, s, e })
	cps := tut.OnFamilies(t, func(m models.Model, o tut.Out) (*result, error) { return run(m, o, Config{Steps: 20, Scale: 1}) }, func(t *testing.T, f tut.Family[*result]) {
		tut.Wrote(t, f.Dir, "sae.html")
		r := f.Result
		if r.Site.Layer != f.Model.Dims().Layers/2 || r.Train.Tokens == 0 || len(r.Train.Logs) == 0 {
			t.Errorf("site %v, %d tokens, %d logs; want the middle block, tokens and logs", r.Site, r.Train.Tokens, len(r.Train.Logs))
		}
		if r.Metrics == nil || r.Metrics.L0 < 1 {
			t.Errorf("metrics %+v; want an L0 of at least 1", r.Metrics)
		}
		n := len(prompts) * samples
		for _, s := range []*setting{r.Unsteered, r.ToH, r.ToS} {
			if len(s.Texts) != n || len(s.Scores) != n {
				t.Fatalf("%s: %d continuations, %d scores; want %d", s.Name, len(s.Texts), len(s.Scores), n)
			}
		}
		if slices.Equal(r.ToH.Texts, r.Unsteered.Texts) && slices.Equal(r.ToS.Texts, r.Unsteered.Texts) {
			t.Errorf("steering left every continuation as it was")
		}
	})
	// The program, on the first family: its flags, its text and its file.
	t.Run("program/"+cps[0].Name, func(t *testing.T) {
		out := t.TempDir()
		text := tut.Program(t, "-model", cps[0].Dir, "-out", out, "-steps", "10", "-samples", "1")
		if !strings.Contains(text, cps[0].Dir) || !strings.Contains(text, "unsteered") || !strings.Contains(text, "wrote "+filepath.Join(out, "sae.html")) {
			t.Errorf("the program's output names neither the checkpoint %s, the settings nor its file:\n%s", cps[0].Dir, text)
		}
		tut.Wrote(t, out, "sae.html")
	})
}

// TestMain runs the tutorial's main when tut.Program starts the test
// binary as the program.
func TestMain(m *testing.M) { tut.TestMain(m, main) }
