//go:build hftokenizers

package bpe

import (
	"fmt"

	hf "github.com/daulet/tokenizers"
)

// HFTokenizer is Hugging Face's Rust tokenizers library (0.20.x, through
// cgo and github.com/daulet/tokenizers v1.22.2), used as an independent
// oracle to cross-check Tokenizer. It exists only in builds with
// -tags hftokenizers, which need the Rust static library libtokenizers.a:
// build it with bpe/testdata/build_hftokenizers.sh and pass
// CGO_LDFLAGS=-L<its folder>. Later daulet/tokenizers versions (v1.23.0 and
// up) depend on a git checkout of tiktoken-rs and cannot be built from
// crates.io alone. Texts with NUL bytes are cut at the first NUL by the C
// interface.
type HFTokenizer struct {
	tk *hf.Tokenizer
}

// LoadHF loads a Hugging Face tokenizer.json file; it returns an error
// naming the file when the Rust library rejects it.
func LoadHF(tokenizerJSON string) (*HFTokenizer, error) {
	tk, err := hf.FromFile(tokenizerJSON)
	if err != nil {
		return nil, fmt.Errorf("bpe: load %s with HF tokenizers: %w", tokenizerJSON, err)
	}
	return &HFTokenizer{tk: tk}, nil
}

// LoadHFBytes is LoadHF for the contents of a tokenizer.json file.
func LoadHFBytes(tokenizerJSON []byte) (*HFTokenizer, error) {
	tk, err := hf.FromBytes(tokenizerJSON)
	if err != nil {
		return nil, fmt.Errorf("bpe: load tokenizer.json with HF tokenizers: %w", err)
	}
	return &HFTokenizer{tk: tk}, nil
}

// EncodeWithOffsets returns the ids of text and the byte offsets of each
// token, without the post-processor's added special tokens (like
// Tokenizer.EncodeWithOffsets).
func (h *HFTokenizer) EncodeWithOffsets(text string) (ids []int, offsets [][2]int) {
	enc := h.tk.EncodeWithOptions(text, false, hf.WithReturnOffsets())
	for i, id := range enc.IDs {
		ids = append(ids, int(id))
		offsets = append(offsets, [2]int{int(enc.Offsets[i][0]), int(enc.Offsets[i][1])})
	}
	return ids, offsets
}

// Decode returns the text of ids, special tokens kept. Ids out of range are
// skipped by the Rust library.
func (h *HFTokenizer) Decode(ids []int) string {
	u := make([]uint32, len(ids))
	for i, id := range ids {
		u[i] = uint32(id)
	}
	return h.tk.Decode(u, false)
}

// Close frees the Rust tokenizer; h must not be used afterwards.
func (h *HFTokenizer) Close() error { return h.tk.Close() }
