package govene

import (
	"errors"
	"fmt"
	"slices"
)

// Output is the data of a pv.Output: what one intervened call returns.
type Output struct {
	// Lengths holds each base prompt's length. Prompts are left-padded to
	// the longest, so example i's token j sits at position
	// Logits.Shape[1]-Lengths[i]+j (with LastLogitsOnly, position 0 is
	// every example's last token).
	Lengths []int `json:"lengths"`
	// Logits holds the intervened logits [b,s,vocab].
	Logits Tensor `json:"logits"`
	// Original holds the logits without interventions; nil unless the call
	// asked WithOriginal.
	Original *Tensor `json:"original,omitempty"`
	// Collected holds what Collect interventions read, by intervention key.
	Collected map[string]Tensor `json:"collected,omitempty"`
	// Sites holds the captured sites' values, by site name (Site.String).
	Sites map[string]Tensor `json:"sites,omitempty"`
}

// LastLogits returns example i's logits after its last token (the
// next-token prediction): intervened, or without interventions when
// original is true. It returns an error for a nil or empty output, i out
// of range, a missing original (the call did not ask WithOriginal) or
// logits whose shape is not [b,s,vocab].
func (o *Output) LastLogits(i int, original bool) ([]float32, error) {
	if o == nil {
		return nil, errors.New("govene: last logits: nil output")
	}
	t := &o.Logits
	if original {
		if o.Original == nil {
			return nil, errors.New("govene: no original logits; ask for them with WithOriginal()")
		}
		t = o.Original
	}
	if len(t.Shape) != 3 || t.Shape[0]*t.Shape[1]*t.Shape[2] != len(t.Data) {
		return nil, fmt.Errorf("govene: last logits: logits of shape %v with %d values; want [b,s,vocab]", t.Shape, len(t.Data))
	}
	b, s, v := t.Shape[0], t.Shape[1], t.Shape[2]
	if i < 0 || i >= b {
		return nil, fmt.Errorf("govene: last logits: example %d out of range [0, %d)", i, b)
	}
	start := (i*s + s - 1) * v // s is 1 for the logits of the last position only
	return slices.Clone(t.Data[start : start+v]), nil
}

// NextTokenProbs returns example i's next-token probabilities after its
// last token (Softmax of LastLogits), intervened or, when original is
// true, without interventions; LastLogits' errors otherwise.
func (o *Output) NextTokenProbs(i int, original bool) ([]float32, error) {
	l, err := o.LastLogits(i, original)
	if err != nil {
		return nil, err
	}
	return Softmax(l), nil
}
