package bpe

import (
	"unicode/utf8"
)

// byteToRune is GPT-2's bytes_to_unicode table: every byte maps to a
// printable rune so that byte strings can be stored as text in vocab.json.
// Printable Latin-1 bytes map to themselves, the others to U+0100 and up.
var byteToRune [256]rune

// runeToByte is the inverse of byteToRune.
var runeToByte = map[rune]byte{}

func init() {
	n := rune(0)
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = 256 + n
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// bytesToSymbols returns the byte-level text form of b ("Ġ" for a space...),
// as it appears in vocab.json and merges.txt.
func bytesToSymbols(b []byte) string {
	out := make([]rune, len(b))
	for i, c := range b {
		out[i] = byteToRune[c]
	}
	return string(out)
}

// symbolsToBytes maps a vocab.json token back to the bytes it stands for,
// the way the Hugging Face ByteLevel decoder does: when every rune of tok
// is in the byte table the result is those bytes, otherwise (e.g. added
// tokens containing a plain space) it is the UTF-8 of tok itself.
func symbolsToBytes(tok string) []byte {
	out := make([]byte, 0, len(tok))
	for _, r := range tok {
		b, ok := runeToByte[r]
		if !ok {
			return []byte(tok)
		}
		out = append(out, b)
	}
	return out
}

// appendLossy appends b to dst as valid UTF-8, replacing every maximal
// ill-formed subsequence with one U+FFFD, the "substitution of maximal
// subparts" practice of the Unicode standard that Rust's
// String::from_utf8_lossy and Python's bytes.decode(errors="replace") use.
// (Go's strings.ToValidUTF8 instead collapses whole runs of bad bytes.)
func appendLossy(dst []byte, b []byte) []byte {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		if r, size := utf8.DecodeRune(b[i:]); r != utf8.RuneError || size > 1 {
			dst = append(dst, b[i:i+size]...)
			i += size
			continue
		}
		// Ill-formed: consume the longest prefix of a valid sequence.
		need, lo, hi := 0, byte(0x80), byte(0xBF)
		switch {
		case c >= 0xC2 && c <= 0xDF:
			need = 1
		case c == 0xE0:
			need, lo = 2, 0xA0
		case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
			need = 2
		case c == 0xED:
			need, hi = 2, 0x9F
		case c == 0xF0:
			need, lo = 3, 0x90
		case c >= 0xF1 && c <= 0xF3:
			need = 3
		case c == 0xF4:
			need, hi = 3, 0x8F
		}
		j := i + 1
		for k := 0; k < need && j < len(b); k++ {
			if b[j] < lo || b[j] > hi {
				break
			}
			lo, hi = 0x80, 0xBF
			j++
		}
		dst = append(dst, "\uFFFD"...)
		i = j
	}
	return dst
}

// lossyString returns b as a valid UTF-8 string (see appendLossy).
func lossyString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string(appendLossy(make([]byte, 0, len(b)+8), b))
}
