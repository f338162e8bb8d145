//go:build hftokenizers

package bpe

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func loadHFGPT2(t testing.TB) *HFTokenizer {
	h, err := LoadHFBytes(gpt2TokenizerJSON(t, false, gpt2Pre, gpt2Post))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func checkAgainstHF(t *testing.T, h *HFTokenizer, s string) {
	t.Helper()
	if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
		return // cut at NUL by the C interface; Rust strings are valid UTF-8
	}
	wantIDs, wantOffs := h.EncodeWithOffsets(s)
	ids, offs := GPT2().EncodeWithOffsets(s)
	if !same(ids, wantIDs) {
		t.Fatalf("Encode(%q):\n got %v\nwant %v", s, ids, wantIDs)
	}
	if !same(offs, wantOffs) {
		t.Fatalf("offsets(%q):\n got %v\nwant %v", s, offs, wantOffs)
	}
	if got, err := GPT2().Decode(ids); err != nil || got != h.Decode(ids) {
		t.Fatalf("Decode(%v) = %q, %v; want %q", ids, got, err, h.Decode(ids))
	}
}

// TestHFDifferential compares with the Rust library on the fixtures and on
// random strings drawn from a tricky alphabet.
func TestHFDifferential(t *testing.T) {
	h := loadHFGPT2(t)
	for _, c := range loadFixtures(t).Cases {
		checkAgainstHF(t, h, c.Text)
	}
	alphabet := []string{
		"a", "Z", "é", "e\u0301", "ß", "中", "文", "😀", "👨\u200d👩", "🇫🇷", "1", "٣", "½", "Ⅻ",
		" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2028", "\u0085", "\x1c", "'", "'s", "'S",
		"'ll", "n't", ",", ".", "!", "?", "-", "$", "<|endoftext|>", "<|", "|>", "\u200b", "\ufeff", "\U00010d40",
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for j, n := 0, rng.IntN(30); j < n; j++ {
			if rng.IntN(4) == 0 { // any assigned or unassigned code point
				r := rune(0x80 + rng.IntN(0x32000))
				if utf8.ValidRune(r) {
					b.WriteRune(r)
				}
				continue
			}
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		checkAgainstHF(t, h, b.String())
	}
}

func FuzzHFDifferential(f *testing.F) {
	for _, s := range []string{"", "Hello, world!", "  \n\n\t x", "I'm here'S", "<|endoftext|>", "😀👨\u200d👩", "e\u0301"} {
		f.Add(s)
	}
	h := loadHFGPT2(f)
	f.Fuzz(func(t *testing.T, s string) {
		checkAgainstHF(t, h, s)
	})
}
