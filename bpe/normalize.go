package bpe

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normKind is the kind of one normalizer step.
type normKind uint8

const (
	normUnicode normKind = iota // NFC, NFD, NFKC or NFKD (form)
	normPrepend                 // prepend a to a non-empty string
	normReplace                 // replace every a with b
)

// normStep is one step of a tokenizer.json normalizer.
type normStep struct {
	kind normKind
	form norm.Form
	a, b string
}

// align maps each byte of a transformed string to the byte range [lo, hi)
// of the original text's character it comes from, for offsets.
type align struct{ lo, hi []int32 }

// identityAlign returns the alignment of text[lo:hi] with itself: each byte
// maps to its whole character.
func identityAlign(text string, lo, hi int) *align {
	al := &align{lo: make([]int32, 0, hi-lo), hi: make([]int32, 0, hi-lo)}
	for i := lo; i < hi; {
		_, sz := utf8.DecodeRuneInString(text[i:hi])
		for k := 0; k < sz; k++ {
			al.lo = append(al.lo, int32(i))
			al.hi = append(al.hi, int32(i+sz))
		}
		i += sz
	}
	return al
}

// slice returns the alignment of bytes [a, b).
func (al *align) slice(a, b int) *align {
	if al == nil {
		return nil
	}
	return &align{lo: al.lo[a:b], hi: al.hi[a:b]}
}

// span returns the original range of the transformed bytes [a, b), a < b.
func (al *align) span(a, b int) [2]int {
	return [2]int{int(al.lo[a]), int(al.hi[b-1])}
}

// normalize applies steps to s (and to its alignment al, when not nil).
func normalize(steps []normStep, s string, al *align) (string, *align) {
	for _, st := range steps {
		switch st.kind {
		case normUnicode:
			s, al = normForm(st.form, s, al)
		case normPrepend:
			s, al = prepend(s, st.a, al)
		case normReplace:
			s, al = replace(s, st.a, st.b, al)
		}
	}
	return s, al
}

// prepend returns p+s, or s when s is empty; the added bytes map to the
// first character of s.
func prepend(s, p string, al *align) (string, *align) {
	if s == "" {
		return s, al
	}
	if al == nil {
		return p + s, nil
	}
	out := &align{lo: make([]int32, 0, len(p)+len(s)), hi: make([]int32, 0, len(p)+len(s))}
	for range len(p) {
		out.lo = append(out.lo, al.lo[0])
		out.hi = append(out.hi, al.hi[0])
	}
	out.lo = append(out.lo, al.lo...)
	out.hi = append(out.hi, al.hi...)
	return p + s, out
}

// replace returns s with every old replaced by repl; the bytes of repl map
// to the range of the text old stood for.
func replace(s, old, repl string, al *align) (string, *align) {
	if !strings.Contains(s, old) {
		return s, al
	}
	if al == nil {
		return strings.ReplaceAll(s, old, repl), nil
	}
	var b strings.Builder
	out := &align{}
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], old) {
			b.WriteString(repl)
			for range len(repl) {
				out.lo = append(out.lo, al.lo[i])
				out.hi = append(out.hi, al.hi[i+len(old)-1])
			}
			i += len(old)
			continue
		}
		b.WriteByte(s[i])
		out.lo = append(out.lo, al.lo[i])
		out.hi = append(out.hi, al.hi[i])
		i++
	}
	return b.String(), out
}

// normForm returns s in the Unicode normalization form f. As in Hugging
// Face, the k-th character of a normalized segment maps to the k-th
// character of the segment it comes from (the last one when it has fewer):
// a composed "é" maps to the "e" of "e\u0301".
func normForm(f norm.Form, s string, al *align) (string, *align) {
	if f.IsNormalString(s) {
		return s, al
	}
	if al == nil {
		return f.String(s), nil
	}
	var it norm.Iter
	it.InitString(f, s)
	var b []byte
	var starts []int
	out := &align{}
	for !it.Done() {
		p0 := it.Pos()
		seg := it.Next()
		p1 := it.Pos()
		starts = starts[:0]
		for i := p0; i < p1; {
			starts = append(starts, i)
			_, sz := utf8.DecodeRuneInString(s[i:p1])
			i += sz
		}
		if len(starts) == 0 { // not expected: output without input
			starts = append(starts, max(min(p0, len(s)-1), 0))
		}
		b = append(b, seg...)
		for k, i := 0, 0; i < len(seg); k++ {
			_, sz := utf8.DecodeRune(seg[i:])
			src := starts[min(k, len(starts)-1)]
			for range sz {
				out.lo = append(out.lo, al.lo[src])
				out.hi = append(out.hi, al.hi[src])
			}
			i += sz
		}
	}
	return string(b), out
}
