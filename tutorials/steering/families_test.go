package main

import (
	"slices"
	"testing"

	"github.com/govene/govene/models"

	"github.com/govene/govene/tutorials/internal/tut"
)

// The tutorial runs on a random checkpoint of every family: each setting
// has a continuation per prompt and sample, and steering changes them.
func TestSteeringOnEveryFamily(t *testing.T) {
	fewer(t, 3, 1)
	tut.OnFamilies(t, func(m models.Model, o tut.Out) (*result, error) { return run(m, o, 4) }, func(t *testing.T, f tut.Family[*result]) {
		tut.Wrote(t, f.Dir, "steering.html")
		r, n := f.Result, len(prompts)*samples
		for _, s := range []*setting{r.Unsteered, r.Up, r.Down} {
			if len(s.Texts) != n || len(s.Scores) != n {
				t.Fatalf("%s: %d continuations, %d scores; want %d", s.Name, len(s.Texts), len(s.Scores), n)
			}
		}
		if slices.Equal(r.Up.Texts, r.Unsteered.Texts) || slices.Equal(r.Down.Texts, r.Unsteered.Texts) {
			t.Errorf("steering left every continuation as it was")
		}
	})
}

// fewer has the tutorial continue only the first n prompts, k times each,
// until the test ends: a random checkpoint's next-token distributions are
// near uniform over GPT-2's 50257 tokens, and sampling each token sorts
// them all (lm.pick), which makes the tutorial's 150 continuations take
// 30 to 70 s per family on the pure-Go backend.
func fewer(t *testing.T, n, k int) {
	p, s := prompts, samples
	prompts, samples = prompts[:n], k
	t.Cleanup(func() { prompts, samples = p, s })
}
