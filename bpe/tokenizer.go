package bpe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Encode returns the token ids of text, as Hugging Face's
// tokenizer(text)["input_ids"] does: the special tokens the tokenizer adds
// by default (BOS for Llama 2, Llama 3, Mistral and Gemma, nothing for
// GPT-2, GPT-NeoX and Qwen2; see EncodeWith) around the text, whose
// added/special tokens such as <|endoftext|> are split out first and get
// their own id (like tiktoken with allowed_special="all"; OpenAI's original
// encoder.py, which knows no special tokens, spells that string out as 7
// ordinary tokens instead); the rest is normalized, pre-tokenized (for
// GPT-2 with the GPT-2 regex) and BPE-merged. The empty string gives only
// the added special tokens (an empty, nil slice for GPT-2). Invalid UTF-8
// is accepted: for byte-level tokenizers each invalid byte is treated like
// a punctuation character and encoded as its byte, so Decode(Encode(s))
// gives s back with its ill-formed sequences replaced by U+FFFD.
func (t *Tokenizer) Encode(text string) []int {
	return t.EncodeWith(text, true)
}

// EncodeWith is Encode with Hugging Face's add_special_tokens: with
// addSpecialTokens false no BOS/EOS (post-processor template) is added;
// special tokens written in text are still recognized.
func (t *Tokenizer) EncodeWith(text string, addSpecialTokens bool) []int {
	e := encoder{t: t, text: text, special: addSpecialTokens}
	e.run()
	return e.ids
}

// EncodeWithOffsets is Encode that also returns, for each token, the byte
// range [start, end) of text it comes from, like Hugging Face's
// return_offsets_mapping (which counts characters instead of bytes). Added
// BOS/EOS tokens get the range [0, 0).
//
// As in Hugging Face, a token that holds only part of the bytes of a
// multi-byte character (common with emoji and CJK) gets the range of the
// whole character, so consecutive tokens can share or repeat a range: in
// " 😀" the two tokens " \xf0\x9f\x98" and "\x80" get [0,5) and [1,5).
// A token's range includes its leading space unless the tokenizer's
// post-processor trims offsets (GPT-2's does not). The prefix space that a
// tokenizer with add_prefix_space inserts (or the "▁" a SentencePiece-style
// tokenizer prepends) counts as part of the first character of its
// segment; a character changed by the normalizer maps to the characters it
// comes from.
func (t *Tokenizer) EncodeWithOffsets(text string) (ids []int, offsets [][2]int) {
	e := encoder{t: t, text: text, withOffsets: true, special: true}
	e.run()
	return e.ids, e.offs
}

// Decode returns the text of ids as Hugging Face's decode(ids,
// skip_special_tokens=False) does. For byte-level tokenizers (GPT-2,
// GPT-NeoX, Llama 3, Qwen2) that is the concatenated bytes of the tokens,
// with ill-formed UTF-8 (from tokens holding part of a character) replaced
// by U+FFFD per maximal ill-formed subsequence (errors="replace"); for
// SentencePiece-style ones (Llama 2, Mistral, Gemma) the tokenizer.json
// decoder chain runs: "▁" back to spaces, "<0xNN>" byte tokens back to
// UTF-8 (one U+FFFD per byte of an invalid run), the prepended space
// stripped. Special tokens are kept as text. An id outside
// [0, VocabSize()) or not used by the vocabulary gives an error naming the
// id, its index in ids and the valid range.
func (t *Tokenizer) Decode(ids []int) (string, error) {
	n := 0
	for i, id := range ids {
		if id < 0 || id >= len(t.tokBytes) {
			return "", fmt.Errorf("bpe: decode: id %d at index %d is out of range [0, %d)", id, i, len(t.tokBytes))
		}
		if t.tokBytes[id] == nil {
			return "", fmt.Errorf("bpe: decode: id %d at index %d is not in the vocabulary (valid range [0, %d))", id, i, len(t.tokBytes))
		}
		n += len(t.tokBytes[id])
	}
	if t.dec != nil {
		forms := make([]string, len(ids))
		for i, id := range ids {
			forms[i] = t.tokForm[id]
		}
		return runDecoders(t.dec, forms), nil
	}
	buf := make([]byte, 0, n)
	for _, id := range ids {
		buf = append(buf, t.tokBytes[id]...)
	}
	return lossyString(buf), nil
}

// Token returns the text of a single token, e.g. " Paris" for GPT-2's id
// 6342, for use as a label. A token holding part of a multi-byte character
// is shown with U+FFFD for the partial bytes. It returns "" for an id
// outside [0, VocabSize()) or unused by the vocabulary.
func (t *Tokenizer) Token(id int) string {
	if id < 0 || id >= len(t.tokText) {
		return ""
	}
	return t.tokText[id]
}

// Tokens returns Token(id) for each of ids ("" for invalid ids).
func (t *Tokenizer) Tokens(ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = t.Token(id)
	}
	return out
}

// ID returns the id of the single token whose text (as Decode gives it for
// that id alone, without U+FFFD substitution) is token, e.g. 6342 for
// " Paris" in GPT-2, or 50256 for "<|endoftext|>"; when several ids have
// the same text, the lowest. It returns (0, false) when no token has
// exactly that text; it does not tokenize (use Encode for that).
func (t *Tokenizer) ID(token string) (int, bool) {
	id, ok := t.byDecoded[token]
	return id, ok
}

// VocabSize returns the number of ids: one more than the largest id of the
// vocabulary and added tokens (50257 for GPT-2). Valid ids are
// [0, VocabSize()).
func (t *Tokenizer) VocabSize() int { return len(t.tokBytes) }

// EOT returns the id of the end-of-text token "<|endoftext|>" (50256 for
// GPT-2), or -1 when the vocabulary has none.
func (t *Tokenizer) EOT() int { return t.eot }

// BOS returns the id of the beginning-of-sequence token, or -1 when there
// is none: tokenizer_config.json's bos_token (-1 when it is null or not in
// the vocabulary), else the first token the post-processor adds before the
// text, else "<|endoftext|>" (GPT-2's and GPT-NeoX's default). Whether
// Encode adds it is a separate matter (see Encode).
func (t *Tokenizer) BOS() int { return t.bos }

// EOS returns the id of the end-of-sequence token, or -1 when there is
// none: tokenizer_config.json's eos_token (-1 when it is null or not in
// the vocabulary), else the last token the post-processor adds after the
// text, else EOT().
func (t *Tokenizer) EOS() int { return t.eos }

// SpecialTokens returns copies of the ids Encode adds before and after the
// text (the post-processor's template; both empty for GPT-2).
func (t *Tokenizer) SpecialTokens() (prefix, suffix []int) {
	return append([]int(nil), t.prefix...), append([]int(nil), t.suffix...)
}

// encoder holds the state of one Encode call.
type encoder struct {
	t           *Tokenizer
	text        string
	withOffsets bool
	special     bool // add the template's special tokens
	ids         []int
	offs        [][2]int
	buf         []int32
}

func (e *encoder) run() {
	t := e.t
	if !e.special || len(t.prefix)+len(t.suffix) == 0 {
		e.runText()
		return
	}
	e.runText()
	ids := make([]int, 0, len(t.prefix)+len(e.ids)+len(t.suffix))
	ids = append(append(append(ids, t.prefix...), e.ids...), t.suffix...)
	e.ids = ids
	if e.withOffsets {
		offs := make([][2]int, len(t.prefix), len(ids))
		offs = append(offs, e.offs...)
		e.offs = append(offs, make([][2]int, len(t.suffix))...)
	}
}

// runText encodes the text, without template tokens.
func (e *encoder) runText() {
	if len(e.text) == 0 {
		return
	}
	e.ids = make([]int, 0, len(e.text)/4+1)
	if e.withOffsets {
		e.offs = make([][2]int, 0, len(e.text)/4+1)
	}
	t := e.t
	if t.general {
		e.general()
	} else if len(t.addedNorm) == 0 {
		t.splitAdded(e.text, 0, len(e.text), t.addedRaw, e.segment, e.added)
	} else {
		t.splitAdded(e.text, 0, len(e.text), t.addedRaw, func(lo, hi int) {
			t.splitAdded(e.text, lo, hi, t.addedNorm, e.segment, e.added)
		}, e.added)
	}
	if e.withOffsets && t.trimOffsets {
		e.trim()
	}
}

// added emits added token id found at text[lo:hi].
func (e *encoder) added(lo, hi, id int) {
	e.ids = append(e.ids, id)
	if e.withOffsets {
		e.offs = append(e.offs, [2]int{lo, hi})
	}
}

// segment pre-tokenizes and BPE-encodes text[lo:hi], a stretch without
// added tokens.
func (e *encoder) segment(lo, hi int) {
	if lo >= hi {
		return
	}
	s, base := e.text[lo:hi], lo
	if e.t.addPrefixSpace && s[0] != ' ' {
		s, base = " "+s, lo-1
	}
	rs := lo // a rune boundary of text at or before the next token's start
	for i := 0; i < len(s); {
		j := nextPiece(s, i)
		e.buf = e.t.wordTokens(s[i:j], e.buf[:0])
		if !e.withOffsets {
			for k := 0; k < len(e.buf); k += 2 {
				e.ids = append(e.ids, int(e.buf[k]))
			}
			i = j
			continue
		}
		for k := 0; k < len(e.buf); k += 2 {
			a, b := base+i+int(e.buf[k+1]), base+j
			if k+2 < len(e.buf) {
				b = base + i + int(e.buf[k+3])
			}
			// The inserted prefix space stands for the segment's first character.
			a = max(a, lo)
			if b <= lo {
				b = lo + 1
			}
			// Widen [a, b) to whole characters.
			for {
				_, sz := utf8.DecodeRuneInString(e.text[rs:])
				if rs+sz > a {
					break
				}
				rs += sz
			}
			start := rs
			for {
				_, sz := utf8.DecodeRuneInString(e.text[rs:])
				if rs+sz >= b {
					b = rs + sz
					break
				}
				rs += sz
			}
			e.ids = append(e.ids, int(e.buf[k]))
			e.offs = append(e.offs, [2]int{start, b})
		}
		i = j
	}
}

// trim applies the ByteLevel post-processor's trim_offsets: leading and
// trailing spaces of a token are taken out of its range.
func (e *encoder) trim() {
	for i, id := range e.ids {
		tok := e.t.tokForm[id]
		lead, trail := 0, 0
		for _, r := range tok {
			if r != byteToRune[' '] && !unicode.IsSpace(r) {
				break
			}
			lead++
		}
		for j := len(tok); j > 0; {
			r, sz := utf8.DecodeLastRuneInString(tok[:j])
			if r != byteToRune[' '] && !unicode.IsSpace(r) {
				break
			}
			trail++
			j -= sz
		}
		o := &e.offs[i]
		if lead > 0 {
			if (i == 0 || o[0] == 0) && e.t.trimPrefix && lead == 1 {
				lead = 0
			}
			o[0] = min(o[0]+lead, o[1])
		}
		if trail > 0 && o[1] >= trail {
			o[1] = max(o[1]-trail, o[0])
		}
	}
}

// splitAdded finds the added tokens toks in text[lo:hi] like Hugging Face's
// AddedVocabulary (leftmost-longest, non-overlapping, honoring single_word,
// lstrip and rstrip) and calls seg for the stretches between them and
// added for each of them, in order.
func (t *Tokenizer) splitAdded(text string, lo, hi int, toks []addedToken, seg func(lo, hi int), added func(lo, hi, id int)) {
	if len(toks) == 0 {
		seg(lo, hi)
		return
	}
	var nextBuf [4]int
	next := nextBuf[:0]
	for range toks {
		next = append(next, -2) // -2: not searched yet, -1: none left
	}
	pos, done := lo, lo
	for {
		best := -1
		for k := range toks {
			if next[k] != -1 && next[k] < pos {
				if i := strings.Index(text[pos:hi], toks[k].content); i >= 0 {
					next[k] = pos + i
				} else {
					next[k] = -1
				}
			}
			if next[k] < 0 {
				continue
			}
			if best < 0 || next[k] < next[best] || (next[k] == next[best] && len(toks[k].content) > len(toks[best].content)) {
				best = k
			}
		}
		if best < 0 {
			break
		}
		tok := &toks[best]
		start, stop := next[best], next[best]+len(tok.content)
		pos = stop
		if tok.singleWord && (endsWithWordChar(text[lo:start]) || startsWithWordChar(text[stop:hi])) {
			continue
		}
		if tok.lstrip {
			start = max(lo+len(strings.TrimRightFunc(text[lo:start], unicode.IsSpace)), done)
		}
		if tok.rstrip {
			stop = hi - len(strings.TrimLeftFunc(text[stop:hi], unicode.IsSpace))
		}
		start = max(start, done)
		if done < start {
			seg(done, start)
		}
		added(start, stop, tok.id)
		done = stop
	}
	if done < hi {
		seg(done, hi)
	}
}

func isWordChar(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

func endsWithWordChar(s string) bool {
	r, sz := utf8.DecodeLastRuneInString(s)
	return sz > 0 && isWordChar(r)
}

func startsWithWordChar(s string) bool {
	r, sz := utf8.DecodeRuneInString(s)
	return sz > 0 && isWordChar(r)
}
