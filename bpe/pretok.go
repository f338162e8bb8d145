package bpe

import (
	"unicode"
	"unicode/utf8"
)

// Character classes of the GPT-2 pre-tokenization regex
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
const (
	classOther  = iota // [^\s\p{L}\p{N}]
	classLetter        // \p{L}
	classNumber        // \p{N}
	classSpace         // \s (Unicode White_Space)
)

// asciiClass holds the class of every ASCII byte.
var asciiClass [utf8.RuneSelf]uint8

func init() {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			asciiClass[c] = classLetter
		case c >= '0' && c <= '9':
			asciiClass[c] = classNumber
		case c == ' ', c >= '\t' && c <= '\r':
			asciiClass[c] = classSpace
		default:
			asciiClass[c] = classOther
		}
	}
}

// runeClass returns the regex class of r. Invalid UTF-8 bytes (decoded as
// utf8.RuneError) count as classOther, like U+FFFD itself.
func runeClass(r rune) uint8 {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	switch {
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	case unicode.IsSpace(r): // the White_Space property, like Oniguruma's \s
		return classSpace
	case r < extraClasses[0].lo:
		return classOther
	}
	return lookupExtraClass(r)
}

// extraClass is a range of code points [lo, hi] of class cls.
type extraClass struct {
	lo, hi rune
	cls    uint8
}

// lookupExtraClass returns the class extraClasses gives r, or classOther.
func lookupExtraClass(r rune) uint8 {
	i, j := 0, len(extraClasses)
	for i < j {
		h := int(uint(i+j) >> 1)
		if extraClasses[h].hi < r {
			i = h + 1
		} else {
			j = h
		}
	}
	if i < len(extraClasses) && extraClasses[i].lo <= r {
		return extraClasses[i].cls
	}
	return classOther
}

// decodeAt returns the rune at s[i], its size and its class.
func decodeAt(s string, i int) (rune, int, uint8) {
	c := s[i]
	if c < utf8.RuneSelf {
		return rune(c), 1, asciiClass[c]
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	return r, size, runeClass(r)
}

// runEnd returns the end of the run of class cls that starts at i.
func runEnd(s string, i int, cls uint8) int {
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if asciiClass[c] != cls {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if runeClass(r) != cls {
			return i
		}
		i += size
	}
	return i
}

// nextPiece returns the end of the pre-token that starts at s[i] (i <
// len(s)), reproducing GPT-2's regex with leftmost-first alternation:
//
//   - 's 't 're 've 'm 'll 'd (lowercase only);
//   - an optional single ' ' followed by a run of letters, of numbers, or of
//     other characters (neither space, letter nor number);
//   - a run of whitespace; when it is followed by a non-space character its
//     last character is left out (\s+(?!\S)), unless the run is a single
//     character (\s+).
func nextPiece(s string, i int) int {
	c := s[i]
	if c == '\'' && i+1 < len(s) {
		switch s[i+1] {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v':
			if i+2 < len(s) && s[i+2] == 'e' {
				return i + 3
			}
		case 'l':
			if i+2 < len(s) && s[i+2] == 'l' {
				return i + 3
			}
		}
	}
	_, size, cls := decodeAt(s, i)
	if c == ' ' && i+1 < len(s) {
		if _, size2, cls2 := decodeAt(s, i+1); cls2 != classSpace {
			return runEnd(s, i+1+size2, cls2)
		}
	}
	if cls != classSpace {
		return runEnd(s, i+size, cls)
	}
	// Whitespace run; remember where its last character starts.
	last, j, _ := spaceRun(s, i, size)
	if j == len(s) || last == i {
		return j
	}
	return last
}
