package lm

import (
	"fmt"
)

// Batch is prompts left-padded to a common length, flattened row-major, as a
// forward pass takes them. Example i's token j sits at column Offset(i)+j.
type Batch struct {
	Size, Len int
	IDs       []int32   // [Size*Len]; padding holds PadID
	Mask      []float32 // [Size*Len]; 1 for tokens, 0 for padding
	Positions []int32   // [Size*Len]; 0.. for tokens, 1 for padding (as transformers' generate)
	Lengths   []int     // each prompt's length
}

// Offset returns the column of example i's first token.
func (b *Batch) Offset(i int) int { return b.Len - b.Lengths[i] }

// NewBatch left-pads prompts to length (0 means the longest prompt's
// length), with padID in padded slots. Position ids count tokens from 0 and
// padded slots get 1, as transformers' generate does for left padding. It
// returns an error for no prompts, an empty prompt, a prompt longer than
// length, or an id outside [0, vocab) when vocab > 0.
func NewBatch(prompts []Prompt, length, padID, vocab int) (*Batch, error) {
	if len(prompts) == 0 {
		return nil, fmt.Errorf("lm: batch: no prompts")
	}
	longest := 0
	for i, p := range prompts {
		if p.Len() == 0 {
			return nil, fmt.Errorf("lm: batch: prompt %d is empty", i)
		}
		for j, id := range p.IDs {
			if vocab > 0 && (id < 0 || id >= vocab) {
				return nil, fmt.Errorf("lm: batch: prompt %d token %d: id %d out of range [0, %d)", i, j, id, vocab)
			}
		}
		longest = max(longest, p.Len())
	}
	if length == 0 {
		length = longest
	}
	if longest > length {
		return nil, fmt.Errorf("lm: batch: prompt of %d tokens is longer than the batch length %d", longest, length)
	}
	b := &Batch{Size: len(prompts), Len: length,
		IDs: make([]int32, len(prompts)*length), Mask: make([]float32, len(prompts)*length),
		Positions: make([]int32, len(prompts)*length), Lengths: make([]int, len(prompts))}
	for i, p := range prompts {
		b.Lengths[i] = p.Len()
		off := length - p.Len()
		row := i * length
		for j := range length {
			if j < off {
				b.IDs[row+j] = int32(padID)
				b.Positions[row+j] = 1
				continue
			}
			b.IDs[row+j] = int32(p.IDs[j-off])
			b.Mask[row+j] = 1
			b.Positions[row+j] = int32(j - off)
		}
	}
	return b, nil
}
