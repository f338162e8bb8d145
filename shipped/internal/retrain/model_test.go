package retrain

import (
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/internal/testx"
	"github.com/govene/govene/shipped/facts"
	"github.com/govene/govene/sweep"
	"github.com/govene/govene/trace"
)

// The facts the patching, causal-tracing and DAS tutorials use.
func TestFacts(t *testing.T) {
	m := shippedModel(t)
	var prompts []string
	for _, f := range TutorialFacts {
		prompts = append(prompts, f.Prompt)
	}
	probs, err := NextProbs(m, prompts...)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range TutorialFacts {
		id, err := TokenID(m, f.Answer)
		if err != nil {
			t.Fatal(err)
		}
		p := float64(probs[i][id])
		t.Logf("P(%q | %q) = %.4f", f.Answer, f.Prompt, p)
		if p <= f.Min {
			t.Errorf("P(%q | %q) = %.4f, want > %g", f.Answer, f.Prompt, p, f.Min)
		}
	}
}

// The IOI prompts: the indirect object beats the repeated subject.
func TestIOI(t *testing.T) {
	m := shippedModel(t)
	var prompts []string
	for _, c := range TutorialContrasts {
		prompts = append(prompts, c.Prompt)
	}
	probs, err := NextProbs(m, prompts...)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range TutorialContrasts {
		w, _ := TokenID(m, c.Want)
		o, _ := TokenID(m, c.Other)
		t.Logf("%q: P(%q) = %.4f, P(%q) = %.4f", c.Prompt, c.Want, probs[i][w], c.Other, probs[i][o])
		if probs[i][w] <= probs[i][o] {
			t.Errorf("%q: P(%q) = %.4f is not above P(%q) = %.4f", c.Prompt, c.Want, probs[i][w], c.Other, probs[i][o])
		}
	}
}

// Mood is coherent within a sentence: after a happy word the model expects
// happy words, after a sad one sad words; a neutral prompt is open to both.
func TestMood(t *testing.T) {
	m := shippedModel(t)
	prompts := []string{"I am so happy and", "I am wonderful. Today I feel", "I am so sad and", "I am miserable. Today I feel", "Today I feel"}
	happy, sad, err := MoodMass(m, prompts...)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range prompts {
		t.Logf("%q: P(happy words) = %.3f, P(sad words) = %.3f", p, happy[i], sad[i])
		switch {
		case i < 2 && happy[i] < 2*sad[i]:
			t.Errorf("%q: P(happy words) = %.3f, P(sad words) = %.3f; want the happy words well ahead", p, happy[i], sad[i])
		case i >= 2 && i < 4 && sad[i] < 2*happy[i]:
			t.Errorf("%q: P(happy words) = %.3f, P(sad words) = %.3f; want the sad words well ahead", p, happy[i], sad[i])
		case i == 4 && (happy[i] < 0.05 || sad[i] < 0.05):
			t.Errorf("%q: P(happy words) = %.3f, P(sad words) = %.3f; want both moods possible", p, happy[i], sad[i])
		}
	}
}

// Tutorial 6: adding the happy-minus-sad direction (at the block the
// steering tutorial uses) while generating from a neutral prompt gives a
// happy continuation, subtracting it a sad one.
func TestSteering(t *testing.T) {
	m := shippedModel(t)
	layer := facts.Layer(6) // the steering tutorial's depth
	dir, err := MoodDirection(m, layer, 20)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := Steer(m, "Today I feel", layer, dir, []float64{4, -4}, 6)
	if err != nil {
		t.Fatal(err)
	}
	hasWord := func(text string, words []string) bool {
		for _, w := range strings.Fields(strings.NewReplacer(",", " ", ".", " ").Replace(text)) {
			if slices.Contains(words, w) {
				return true
			}
		}
		return false
	}
	t.Logf("steered +: %q, steered -: %q", gen[0], gen[1])
	if !hasWord(gen[0], facts.HappyWords) || hasWord(gen[0], facts.SadWords) {
		t.Errorf("steered toward happy, the model wrote %q", gen[0])
	}
	if !hasWord(gen[1], facts.SadWords) || hasWord(gen[1], facts.HappyWords) {
		t.Errorf("steered toward sad, the model wrote %q", gen[1])
	}
}

// Tutorial 1: as in GPT-2 small, the landmark's city reaches the last token
// only in the middle layers. Patching the last token's residual stream after
// block l from the Eiffel Tower run into the Colosseum run leaves Rome for
// the first half of the blocks and flips the answer to Paris from a middle
// block on (before the last one); patching the landmark's tokens instead
// flips it in the first half and no longer does after the last block.
func TestPatchingFlipsCityFromTheMiddle(t *testing.T) {
	m := shippedModel(t)
	paris, _ := TokenID(m, " Paris")
	rome, _ := TokenID(m, " Rome")
	base, src := "The Colosseum is in the city of", "The Eiffel Tower is in the city of"
	last, err := PatchSweep(m, base, src, []int{9})
	if err != nil {
		t.Fatal(err)
	}
	subject, err := PatchSweep(m, base, src, []int{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	n := len(last)
	flip := -1
	for l := range last {
		t.Logf("block %d patched: last token P(Paris) = %.3f, P(Rome) = %.3f; landmark tokens P(Paris) = %.3f, P(Rome) = %.3f",
			l, last[l][paris], last[l][rome], subject[l][paris], subject[l][rome])
		if flip < 0 && last[l][paris] > 0.5 && last[l][paris] > 4*last[l][rome] {
			flip = l
		}
	}
	if flip < n/2 || flip > n-2 || flip != facts.MoveLayer {
		t.Fatalf("patching the last token first flips Rome to Paris at block %d (-1: never); want a middle block in [%d, %d], MoveLayer (%d)", flip, n/2, n-2, facts.MoveLayer)
	}
	for l := range n {
		switch {
		case l < n/2 && (last[l][rome] < 0.5 || last[l][paris] > 0.1):
			t.Errorf("block %d, last token patched: P(Paris) = %.3f, P(Rome) = %.3f; want Rome kept (> 0.5) this early", l, last[l][paris], last[l][rome])
		case l >= flip && (last[l][paris] < 0.5 || last[l][paris] < 4*last[l][rome]):
			t.Errorf("block %d, last token patched: P(Paris) = %.3f, P(Rome) = %.3f; want Paris > 0.5 and over 4 x Rome from block %d on", l, last[l][paris], last[l][rome], flip)
		}
		if l < n/2 && (subject[l][paris] < 0.5 || subject[l][rome] > 0.1) {
			t.Errorf("block %d, landmark tokens patched: P(Paris) = %.3f, P(Rome) = %.3f; want Paris > 0.5, Rome < 0.1 while the subject holds the fact", l, subject[l][paris], subject[l][rome])
		}
	}
	if subject[n-1][rome] < 0.5 {
		t.Errorf("last block, landmark tokens patched: P(Rome) = %.3f; want it unchanged (> 0.5) once the city has moved", subject[n-1][rome])
	}
}

// Tutorial 2: the causal trace of "The Space Needle is in downtown" (ROME's
// figure): with the subject's embeddings corrupted, restoring the subject's
// tokens brings " Seattle" back in the first half of the blocks and the last
// token does not; the subject's last token ("le") is the one that does, as
// in GPT-2; restoring the last token does from a middle block on, and at the
// last block only the last token matters.
func TestTraceSubjectThenLastToken(t *testing.T) {
	m := shippedModel(t)
	r, err := trace.Run(m, sweep.New(m), trace.Config{
		Prompt: "The Space Needle is in downtown", Subject: "Space Needle", Target: " Seattle", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Clean < 0.5 || r.Corrupted > 0.1*r.Clean {
		t.Fatalf("clean %.4f, corrupted %.4f: the corruption should hide the answer", r.Clean, r.Corrupted)
	}
	g := r.Grids[0].Result.Values
	n, lastPos := len(g), len(r.Tokens)-1
	lit := func(v float64) bool { return v > r.Corrupted+0.3*(r.Clean-r.Corrupted) }
	dark := func(v float64) bool { return v < r.Corrupted+0.1*(r.Clean-r.Corrupted) }
	subjectMax := func(l int) (float64, string) {
		best, tok := -1.0, ""
		for p := r.SubjectFrom; p < r.SubjectTo; p++ {
			if g[l][p] > best {
				best, tok = g[l][p], r.Tokens[p]
			}
		}
		return best, tok
	}
	for l := range n {
		s, tok := subjectMax(l)
		t.Logf("block %d restored: best subject token %q %.3f, last token %.3f", l, tok, s, g[l][lastPos])
		if l < n/2 && (!lit(s) || !dark(g[l][lastPos])) {
			t.Errorf("block %d: restoring the subject gives %.3f (%q), the last token %.3f; want the subject lit and the last token dark (clean %.3f, corrupted %.3f)",
				l, s, tok, g[l][lastPos], r.Clean, r.Corrupted)
		}
	}
	subjLast, best, bestAt := r.SubjectTo-1, -1.0, -1
	for l := 0; l <= n/2; l++ {
		if g[l][subjLast] > best {
			best, bestAt = g[l][subjLast], l
		}
	}
	if !lit(best) {
		t.Errorf("the last subject token %q restored gives at most %.3f (block %d) in blocks 0-%d; want it lit (clean %.3f, corrupted %.3f)",
			r.Tokens[subjLast], best, bestAt, n/2, r.Clean, r.Corrupted)
	}
	if s, tok := subjectMax(n - 1); !lit(g[n-1][lastPos]) || !dark(s) {
		t.Errorf("last block: restoring the last token gives %.3f, the subject %.3f (%q); want only the last token lit", g[n-1][lastPos], s, tok)
	}
}

// shippedModel loads the shipped checkpoint from the source tree (the files
// package shipped embeds), once per test binary.
var shippedModel = testx.Must(sync.OnceValues(func() (*gpt2.Model, error) {
	return gpt2.LoadDir(filepath.Join("..", "..", "model"), gpt2.Options{})
}))
