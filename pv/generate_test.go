package pv

import (
	"slices"
	"testing"

	"github.com/govene/govene/lm"
)

// greedy extends base greedily by n tokens, each step re-running the
// whole sequence through scores (next-token logits or probabilities) and
// appending their argmax; it returns the new tokens, or fails t.
func greedy(t *testing.T, base lm.Prompt, n int, scores func(p lm.Prompt) ([]float32, error)) []int {
	t.Helper()
	ids := slices.Clone(base.IDs)
	for range n {
		s, err := scores(prompt(ids...))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, lm.Argmax(s))
	}
	return ids[base.Len():]
}

// Steering on every step with the KV cache equals re-running the steered
// forward pass on the growing sequence.
func TestGenerateSteeringMatchesRerun(t *testing.T) {
	m := tiny(t)
	vec := make([]float32, 16)
	for i := range vec {
		vec[i] = float32(i%5) - 2
	}
	iv, err := New(m, Config{Representations: []RepresentationConfig{
		{Layer: 1, Component: lm.MLPOutput, InterventionType: Addition, SourceRepresentation: vec}}})
	if err != nil {
		t.Fatal(err)
	}
	base := prompt(4, 8, 15, 16, 23)
	gen, err := iv.Generate([]lm.Prompt{base}, GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 6}, InterveneOnPrompt: true, EveryStep: true}, WithOriginal())
	if err != nil {
		t.Fatal(err)
	}
	want := greedy(t, base, 6, func(p lm.Prompt) ([]float32, error) {
		out, err := iv.Forward([]lm.Prompt{p})
		if err != nil {
			return nil, err
		}
		return out.NextTokenProbs(0, false)
	})
	if !slices.Equal(gen.NewTokens[0], want) {
		t.Errorf("steered generation %v, steered re-run %v", gen.NewTokens[0], want)
	}
	if slices.Equal(gen.NewTokens[0], gen.OriginalNewTokens[0]) {
		t.Errorf("steering did not change the generation %v", gen.NewTokens[0])
	}
	plain, err := m.Generate([]lm.Prompt{base}, lm.Sampling{MaxNewTokens: 6}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(plain[0], gen.OriginalNewTokens[0]) {
		t.Errorf("original generation %v, model's own %v", gen.OriginalNewTokens[0], plain[0])
	}
	// An empty schedule steers the prompt only: the first token is steered
	// (it comes from the prompt pass), later tokens see no new steering.
	sched, err := iv.Generate([]lm.Prompt{base}, GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 6}, InterveneOnPrompt: true, EveryStep: true, Steps: []int{}})
	if err != nil {
		t.Fatal(err)
	}
	if sched.NewTokens[0][0] != want[0] {
		t.Errorf("first token with a prompt-only schedule %d, want the steered %d", sched.NewTokens[0][0], want[0])
	}
}

// Intervening on the prompt gives as first token the argmax of Forward's
// intervened logits.
func TestGenerateInterveneOnPrompt(t *testing.T) {
	m := tiny(t)
	iv, err := New(m, Config{Representations: []RepresentationConfig{{Layer: 2, Component: lm.BlockOutput}}})
	if err != nil {
		t.Fatal(err)
	}
	base, src := prompt(1, 2, 3, 4), prompt(50, 60, 70)
	out, err := iv.Forward([]lm.Prompt{base}, Sources(src), At(2, 3))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := out.NextTokenProbs(0, false)
	gen, err := iv.Generate([]lm.Prompt{base}, GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 3}, InterveneOnPrompt: true}, Sources(src), At(2, 3))
	if err != nil {
		t.Fatal(err)
	}
	if gen.NewTokens[0][0] != lm.Argmax(p) {
		t.Errorf("first generated token %d, Forward's argmax %d", gen.NewTokens[0][0], lm.Argmax(p))
	}
	// Without InterveneOnPrompt the source unit lands on each new token.
	if _, err := iv.Generate([]lm.Prompt{base}, GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 3}}, Sources(src), At(2, 0)); err != nil {
		t.Fatal(err)
	}
}

func TestGenerateNewTokenUnitsMustBeZero(t *testing.T) {
	m := tiny(t)
	iv, _ := New(m, Config{Representations: []RepresentationConfig{{Layer: 2, Component: lm.BlockOutput}}})
	_, err := iv.Generate([]lm.Prompt{prompt(1, 2, 3)}, GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 2}}, Sources(prompt(4, 5, 6)), At(2, 1))
	if err == nil {
		t.Error("base unit 1 on new tokens should be an error")
	}
}
