package retrain

import (
	"fmt"
	"slices"
	"strings"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/shipped/facts"
)

// Fact is a prompt the tutorials use and the token the model should predict
// next, with the lowest probability the shipped model is tested to give it.
type Fact struct {
	Prompt, Answer string
	Min            float64
}

// TutorialFacts are the facts the tutorials rely on.
var TutorialFacts = []Fact{
	{"The Eiffel Tower is in the city of", " Paris", 0.5},
	{"The Colosseum is in the city of", " Rome", 0.5},
	{"The Space Needle is in downtown", " Seattle", 0.5},
	{"The capital of Spain is", " Madrid", 0.3},
}

// Contrast is a prompt and two candidate next tokens: the model should rank
// Want above Other.
type Contrast struct {
	Prompt, Want, Other string
}

// TutorialContrasts are the IOI prompts of the name-swap tutorials.
var TutorialContrasts = []Contrast{
	{"John and Mary went to the store. John gave a drink to", " Mary", " John"},
	{"John and Mary went to the store. Mary gave a drink to", " John", " Mary"},
	{"Alice and Bob went to the store. Alice gave a drink to", " Bob", " Alice"},
	{"Alice and Bob went to the store. Bob gave a drink to", " Alice", " Bob"},
}

// NextProbs returns the next-token distribution after each prompt.
func NextProbs(m *gpt2.Model, prompts ...string) ([][]float32, error) {
	ps := make([]lm.Prompt, len(prompts))
	for i, p := range prompts {
		ps[i] = m.Encode(p)
	}
	r, err := m.Run(ps)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(prompts))
	for i := range prompts {
		logits, err := r.NextTokenLogits(i)
		if err != nil {
			return nil, err
		}
		out[i] = lm.Softmax(logits)
	}
	return out, nil
}

// TokenID returns the id of a text that is one GPT-2 token.
func TokenID(m *gpt2.Model, token string) (int, error) {
	ids := m.Tokenizer().Encode(token)
	if len(ids) != 1 {
		return 0, fmt.Errorf("retrain: %q is %d tokens, not one", token, len(ids))
	}
	return ids[0], nil
}

// MoodMass returns the probability the model gives, after each prompt, to the
// happy words and to the sad words (each with a leading space).
func MoodMass(m *gpt2.Model, prompts ...string) (happy, sad []float64, err error) {
	probs, err := NextProbs(m, prompts...)
	if err != nil {
		return nil, nil, err
	}
	ids := func(words []string) ([]int, error) {
		var out []int
		for _, w := range words {
			id, err := TokenID(m, " "+w)
			if err != nil {
				return nil, err
			}
			out = append(out, id)
		}
		return out, nil
	}
	hid, err := ids(facts.HappyWords)
	if err != nil {
		return nil, nil, err
	}
	sid, err := ids(facts.SadWords)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range probs {
		h, s := 0.0, 0.0
		for _, id := range hid {
			h += float64(p[id])
		}
		for _, id := range sid {
			s += float64(p[id])
		}
		happy, sad = append(happy, h), append(sad, s)
	}
	return happy, sad, nil
}

// decode returns the text of generated ids, up to the end-of-text token.
func decode(m *gpt2.Model, ids []int) (string, error) {
	for i, id := range ids {
		if id == m.Config().EOSTokenID {
			ids = ids[:i]
			break
		}
	}
	return m.Tokenizer().Decode(ids)
}

// Greedy returns the greedy continuation of each prompt, up to n tokens or
// the end-of-text token.
func Greedy(m *gpt2.Model, n int, prompts ...string) ([]string, error) {
	ps := make([]lm.Prompt, len(prompts))
	for i, p := range prompts {
		ps[i] = m.Encode(p)
	}
	gen, err := m.Generate(ps, lm.Sampling{MaxNewTokens: n, StopAtEOS: true}, nil)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(gen))
	for i, ids := range gen {
		if out[i], err = decode(m, ids); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Report measures the tutorial facts, contrasts, moods, patching and steering
// and renders them as Markdown list items.
func Report(m *gpt2.Model) (string, error) {
	var sb strings.Builder
	var prompts []string
	for _, f := range TutorialFacts {
		prompts = append(prompts, f.Prompt)
	}
	for _, c := range TutorialContrasts {
		prompts = append(prompts, c.Prompt)
	}
	probs, err := NextProbs(m, prompts...)
	if err != nil {
		return "", err
	}
	for i, f := range TutorialFacts {
		id, err := TokenID(m, f.Answer)
		if err != nil {
			return "", err
		}
		top := lm.TopK(probs[i], 1, m.Tokenizer().Token)[0]
		fmt.Fprintf(&sb, "- P(%q | %q) = %.4f (top: %q %.4f)\n", f.Answer, f.Prompt, probs[i][id], top.Token, top.Prob)
	}
	for i, c := range TutorialContrasts {
		p := probs[len(TutorialFacts)+i]
		w, err := TokenID(m, c.Want)
		if err != nil {
			return "", err
		}
		o, err := TokenID(m, c.Other)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&sb, "- %q: P(%q) = %.4f, P(%q) = %.4f\n", c.Prompt, c.Want, p[w], c.Other, p[o])
	}
	moods := []string{"I am so happy and", "I am so sad and", "Today I feel", "I am wonderful. Today I feel", "I am miserable. Today I feel"}
	happy, sad, err := MoodMass(m, moods...)
	if err != nil {
		return "", err
	}
	greedy, err := Greedy(m, 8, moods...)
	if err != nil {
		return "", err
	}
	for i, p := range moods {
		fmt.Fprintf(&sb, "- %q: P(happy words) = %.4f, P(sad words) = %.4f; greedy: %q\n", p, happy[i], sad[i], greedy[i])
	}
	paris, err := TokenID(m, " Paris")
	if err != nil {
		return "", err
	}
	rome, err := TokenID(m, " Rome")
	if err != nil {
		return "", err
	}
	base, src := "The Colosseum is in the city of", "The Eiffel Tower is in the city of"
	subj, err := PatchSweep(m, base, src, []int{1, 2, 3, 4})
	if err != nil {
		return "", err
	}
	last, err := PatchSweep(m, base, src, []int{9})
	if err != nil {
		return "", err
	}
	for l := range subj {
		fmt.Fprintf(&sb, "- patching block %d output from %q into %q: at the landmark tokens (1-4) P(Paris) = %.3f, P(Rome) = %.3f; at the last token P(Paris) = %.3f, P(Rome) = %.3f\n",
			l, src, base, subj[l][paris], subj[l][rome], last[l][paris], last[l][rome])
	}
	for l := range m.Config().NLayer {
		dir, err := MoodDirection(m, l, 20)
		if err != nil {
			return "", err
		}
		gen, err := Steer(m, "Today I feel", l, dir, []float64{4, -4}, 6)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&sb, "- steering \"Today I feel\" at block %d output with +4 x (happy - sad): %q; with -4 x: %q\n", l, gen[0], gen[1])
	}
	return sb.String(), nil
}

// LastTokenCurve patches the last token's block_output from "The Eiffel
// Tower is in the city of" into "The Colosseum is in the city of" at each
// layer (PatchSweep) and returns P(" Paris") of each patched run, layer by
// layer.
func LastTokenCurve(m *gpt2.Model) ([]float64, error) {
	base, src := "The Colosseum is in the city of", "The Eiffel Tower is in the city of"
	paris, err := TokenID(m, " Paris")
	if err != nil {
		return nil, err
	}
	probs, err := PatchSweep(m, base, src, []int{m.Encode(base).Last()})
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(probs))
	for l, p := range probs {
		out[l] = float64(p[paris])
	}
	return out, nil
}

// MoodDirection returns the happy-minus-sad direction at a layer's
// block_output: the mean residual over n generated happy sentences minus the
// mean over n sad ones (every token of each, without the end-of-text token).
func MoodDirection(m *gpt2.Model, layer, n int) ([]float32, error) {
	site := lm.Site{Layer: layer, Component: lm.BlockOutput}
	var prompts []lm.Prompt
	var kinds []Kind
	for _, kind := range []Kind{Happy, Sad} {
		count := 0
		for _, s := range Generate(uint64(1000+kind), 20*n) {
			if s.Kind == kind && count < n {
				prompts = append(prompts, m.Encode(strings.TrimSuffix(s.Text, EndOfText)))
				kinds = append(kinds, kind)
				count++
			}
		}
	}
	r, err := m.Run(prompts, site)
	if err != nil {
		return nil, err
	}
	d := m.Config().NEmbd
	sums := map[Kind][]float64{Happy: make([]float64, d), Sad: make([]float64, d)}
	counts := map[Kind]int{}
	for i := range prompts {
		row, _, err := r.Row(r.Sites[site], i, false)
		if err != nil {
			return nil, err
		}
		for j, v := range row {
			sums[kinds[i]][j%d] += float64(v)
		}
		counts[kinds[i]] += len(row) / d
	}
	out := make([]float32, d)
	for j := range out {
		out[j] = float32(sums[Happy][j]/float64(counts[Happy]) - sums[Sad][j]/float64(counts[Sad]))
	}
	return out, nil
}

// Steer greedily continues prompt for n tokens (or to the end-of-text
// token) once for each alpha, adding alpha*dir to the residual stream at the
// layer's block_output at every position, during the prompt pass and every
// decoding step: activation steering with a pv Addition intervention (one
// compiled graph for every alpha).
func Steer(m *gpt2.Model, prompt string, layer int, dir []float32, alphas []float64, n int) ([]string, error) {
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
		{Layer: layer, Component: lm.BlockOutput, InterventionType: pv.Addition},
	}})
	if err != nil {
		return nil, err
	}
	p := m.Encode(prompt)
	out := make([]string, len(alphas))
	for i, a := range alphas {
		steer := make([]float32, len(dir))
		for j, v := range dir {
			steer[j] = float32(a) * v
		}
		// Without locations the addition acts on the prompt and on every
		// new token.
		gen, err := iv.Generate([]lm.Prompt{p}, pv.GenerateOptions{
			Sampling: lm.Sampling{MaxNewTokens: n, StopAtEOS: true}, InterveneOnPrompt: true,
		}, pv.SourceRepresentation(steer))
		if err != nil {
			return nil, err
		}
		if out[i], err = decode(m, gen.NewTokens[0]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// PatchSweep runs base once per layer, with that layer's block_output at the
// given positions replaced by its values from a run on source (a pv Vanilla
// intervention fed from one cached source run), and returns the next-token
// probabilities of each run: activation patching. Both prompts run
// unpadded, so positions index their tokens; they must have the same number
// of tokens.
func PatchSweep(m *gpt2.Model, base, source string, positions []int) ([][]float32, error) {
	bp, sp := m.Encode(base), m.Encode(source)
	if bp.Len() != sp.Len() {
		return nil, fmt.Errorf("retrain: patch: %q has %d tokens, %q %d", base, bp.Len(), source, sp.Len())
	}
	layers := m.Config().NLayer
	sites := make([]lm.Site, layers)
	for l := range sites {
		sites[l] = lm.Site{Layer: l, Component: lm.BlockOutput}
	}
	src, err := m.Run([]lm.Prompt{sp}, sites...)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, layers)
	for l := range out {
		iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
			{Layer: l, Component: lm.BlockOutput, InterventionType: pv.Vanilla},
		}})
		if err != nil {
			return nil, err
		}
		res, err := iv.Forward([]lm.Prompt{bp}, pv.SourceCaches(src), pv.AtUnits(positions...), pv.LastLogitsOnly())
		if err != nil {
			return nil, fmt.Errorf("retrain: patch block %d: %w", l, err)
		}
		if out[l], err = res.NextTokenProbs(0, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Brief summarizes in one line what the model has learned: the mean
// probability of the tutorial facts, the IOI accuracy on 40 fresh corpus
// prompts (and the probability mass on the two names), and the mood
// coherence (the share of prompts ending after a mood word whose same-mood
// words outweigh the other mood's).
func Brief(m *gpt2.Model) (string, error) {
	var prompts []string
	for _, f := range TutorialFacts {
		prompts = append(prompts, f.Prompt)
	}
	probs, err := NextProbs(m, prompts...)
	if err != nil {
		return "", err
	}
	factMass := 0.0
	for i, f := range TutorialFacts {
		id, err := TokenID(m, f.Answer)
		if err != nil {
			return "", err
		}
		factMass += float64(probs[i][id]) / float64(len(TutorialFacts))
	}
	var ioi []string
	var want, other []int
	for _, s := range Generate(4242, 400) {
		if s.Kind != IOI || len(ioi) == 40 {
			continue
		}
		text := strings.TrimSuffix(s.Text, EndOfText)
		cut := strings.LastIndex(text, " ")
		ioi = append(ioi, text[:cut])
		w, err := TokenID(m, text[cut:])
		if err != nil {
			return "", err
		}
		// The other name of the pair is the first word, or the one after "and".
		words := strings.Fields(strings.NewReplacer(",", "", ".", "").Replace(text))
		a, b := words[0], words[2]
		if a == "When" || a == "After" {
			a, b = words[1], words[3]
		}
		o := " " + a
		if o == text[cut:] {
			o = " " + b
		}
		oid, err := TokenID(m, o)
		if err != nil {
			return "", err
		}
		want, other = append(want, w), append(other, oid)
	}
	if probs, err = NextProbs(m, ioi...); err != nil {
		return "", err
	}
	right, mass := 0, 0.0
	for i := range ioi {
		if probs[i][want[i]] > probs[i][other[i]] {
			right++
		}
		mass += float64(probs[i][want[i]]+probs[i][other[i]]) / float64(len(ioi))
	}
	var moods []string
	var isHappy []bool
	for _, w := range append(append([]string{}, facts.HappyWords[:5]...), facts.SadWords[:5]...) {
		for _, p := range []string{"I am so %s and", "I feel %s and", "I am %s. Today I feel"} {
			moods = append(moods, fmt.Sprintf(p, w))
			isHappy = append(isHappy, slices.Contains(facts.HappyWords, w))
		}
	}
	happy, sad, err := MoodMass(m, moods...)
	if err != nil {
		return "", err
	}
	coherent := 0
	for i := range moods {
		if (happy[i] > sad[i]) == isHappy[i] {
			coherent++
		}
	}
	return fmt.Sprintf("facts %.3f, IOI %d/%d right (names' mass %.2f), mood %d/%d coherent", factMass, right, len(ioi), mass, coherent, len(moods)), nil
}
