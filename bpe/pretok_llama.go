package bpe

import "unicode/utf8"

// Split patterns of the Llama 3 and Qwen2 pre-tokenizers (a Split
// pre-tokenizer with behavior Isolated, followed by ByteLevel without its
// regex). They differ only in how many digits a number piece holds.
const (
	llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	qwen2Pattern  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

func isCRLF(c byte) bool { return c == '\r' || c == '\n' }

// lower returns the ASCII lowercase of c.
func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// contraction returns the length of a case-insensitive 's 't 're 've 'm 'll
// 'd at s[i] (s[i] == '\”), or 0. Only ASCII letters match, as in
// Oniguruma (ſ does not fold to s here).
func contraction(s string, i int) int {
	if i+1 >= len(s) {
		return 0
	}
	switch lower(s[i+1]) {
	case 's', 't', 'm', 'd':
		return 2
	case 'r', 'v':
		if i+2 < len(s) && lower(s[i+2]) == 'e' {
			return 3
		}
	case 'l':
		if i+2 < len(s) && lower(s[i+2]) == 'l' {
			return 3
		}
	}
	return 0
}

// nextPieceLlama returns the end of the pre-token that starts at s[i] (i <
// len(s)) under the Llama 3 regex (maxDigits 3) or the Qwen2 one (maxDigits
// 1), with leftmost-first alternation:
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//	 ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func nextPieceLlama(s string, i, maxDigits int) int {
	c := s[i]
	if c == '\'' {
		if n := contraction(s, i); n > 0 {
			return i + n
		}
	}
	_, size, cls := decodeAt(s, i)
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if cls == classLetter {
		return runEnd(s, i+size, classLetter)
	}
	if cls != classNumber && !isCRLF(c) && i+size < len(s) {
		if _, size2, cls2 := decodeAt(s, i+size); cls2 == classLetter {
			return runEnd(s, i+size+size2, classLetter)
		}
	}
	// \p{N}{1,maxDigits}
	if cls == classNumber {
		j := i + size
		for n := 1; n < maxDigits && j < len(s); n++ {
			_, sz, cl := decodeAt(s, j)
			if cl != classNumber {
				break
			}
			j += sz
		}
		return j
	}
	// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
	start := -1
	if cls == classOther {
		start = i
	} else if c == ' ' && i+1 < len(s) {
		if _, _, cls2 := decodeAt(s, i+1); cls2 == classOther {
			start = i + 1
		}
	}
	if start >= 0 {
		j := runEnd(s, start, classOther)
		for j < len(s) && isCRLF(s[j]) {
			j++
		}
		return j
	}
	// Whitespace (cls == classSpace): \s*[\r\n]+ ends after the run's last
	// \r or \n; else \s+(?!\S) leaves out the run's last character when a
	// non-space follows, unless the run is one character (\s+).
	last, j, nl := spaceRun(s, i, size)
	if nl >= 0 {
		return nl
	}
	if j == len(s) || last == i {
		return j
	}
	return last
}

// spaceRun scans the whitespace run that starts at s[i] (whose first
// character is size bytes long) and returns where its last character
// starts, where the run ends, and the end of its last \r or \n (-1 when
// it has none).
func spaceRun(s string, i, size int) (last, end, nl int) {
	last, end, nl = i, i+size, -1
	if isCRLF(s[i]) {
		nl = end
	}
	for end < len(s) {
		c := s[end]
		_, sz, cl := decodeAt(s, end)
		if cl != classSpace {
			break
		}
		last = end
		end += sz
		if isCRLF(c) {
			nl = end
		}
	}
	return last, end, nl
}

// nextMetaspace returns the end of the piece that starts at s[i] when a
// Metaspace pre-tokenizer with split=true cuts s before every replacement
// character repl (MergedWithNext).
func nextMetaspace(s string, i int, repl string) int {
	j := i
	if len(s)-j >= len(repl) && s[j:j+len(repl)] == repl {
		j += len(repl)
	}
	for j < len(s) {
		if len(s)-j >= len(repl) && s[j:j+len(repl)] == repl {
			return j
		}
		_, sz := utf8.DecodeRuneInString(s[j:])
		j += sz
	}
	return j
}
