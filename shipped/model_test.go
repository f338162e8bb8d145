package shipped

import (
	"slices"
	"strings"
	"testing"
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

// Tutorial 6: adding the happy-minus-sad direction while generating from a
// neutral prompt gives a happy continuation, subtracting it a sad one.
func TestSteering(t *testing.T) {
	m := shippedModel(t)
	const layer = 2
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
	if !hasWord(gen[0], HappyWords) || hasWord(gen[0], SadWords) {
		t.Errorf("steered toward happy, the model wrote %q", gen[0])
	}
	if !hasWord(gen[1], SadWords) || hasWord(gen[1], HappyWords) {
		t.Errorf("steered toward sad, the model wrote %q", gen[1])
	}
}

// Tutorial 1: the model moves the landmark's city to the last token (in its
// first block already), so patching the last token's residual stream after
// any block from the Eiffel Tower run into the Colosseum run flips the
// prediction from Rome to Paris, while patching the shared first token ("The")
// changes nothing.
func TestPatchingFlipsCity(t *testing.T) {
	m := shippedModel(t)
	paris, _ := TokenID(m, " Paris")
	rome, _ := TokenID(m, " Rome")
	base, src := "The Colosseum is in the city of", "The Eiffel Tower is in the city of"
	last, err := PatchSweep(m, base, src, []int{9})
	if err != nil {
		t.Fatal(err)
	}
	first, err := PatchSweep(m, base, src, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	for l := range last {
		t.Logf("block %d, last token patched: P(Paris) = %.3f, P(Rome) = %.3f", l, last[l][paris], last[l][rome])
		if last[l][paris] < 0.5 || last[l][rome] > 0.1 {
			t.Errorf("block %d, last token patched: P(Paris) = %.3f, P(Rome) = %.3f; want Paris > 0.5, Rome < 0.1", l, last[l][paris], last[l][rome])
		}
		if first[l][rome] < 0.5 {
			t.Errorf("block %d, first token patched: P(Rome) = %.3f, want it unchanged (> 0.5)", l, first[l][rome])
		}
	}
}
