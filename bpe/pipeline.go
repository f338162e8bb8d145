package bpe

import (
	"strings"
	"unicode/utf8"
)

// pretokKind is the pre-tokenizer that cuts text into words.
type pretokKind uint8

const (
	preGPT2      pretokKind = iota // GPT-2's regex (ByteLevel with use_regex)
	preNone                        // no cut: each stretch between added tokens is one word
	preLlama3                      // Split with the Llama 3 regex
	preQwen2                       // Split with the Qwen2 regex
	preMetaspace                   // Metaspace with split: cut before each replacement character
	preSpaceRuns                   // no pre-tokenizer, but words cut where no merge can cross (see spaceSplittable)
)

// Metaspace prepend schemes.
const (
	prependAlways = iota
	prependFirst
	prependNever
)

// pipeline holds what a tokenizer.json adds to GPT-2's tokenizer: a
// normalizer, another pre-tokenizer, a character-level (SentencePiece
// style) BPE model with byte fallback, and a decoder chain.
type pipeline struct {
	general    bool // not GPT-2's pipeline: Encode takes the general path
	norm       []normStep
	pretok     pretokKind
	charLevel  bool // no ByteLevel pre-tokenizer: the model starts from characters
	metaspace  bool // Metaspace pre-tokenizer
	metaRepl   string
	metaScheme int
	// byteFallback: characters not in the vocabulary become their "<0xNN>"
	// tokens; fuseUnk: consecutive unknown characters give one unk.
	byteFallback, fuseUnk bool
	unk                   int32 // unk token id, -1 when none
	fallbackID            [256]int32
	modelVocab            map[string]int // the model's vocabulary, without added tokens
	spaceRepl             string         // stands for ' ' in the model's tokens ("▁"), for Token
	dec                   []decStep      // nil: decode by concatenating token bytes
	addedNormN            []addedToken   // addedNorm with normalized contents
}

// modelTokenBytes returns the bytes a model token stands for: byte-level
// symbols decoded, or for a character-level model the token with spaceRepl
// turned into ' ' and "<0xNN>" into its byte.
func (t *Tokenizer) modelTokenBytes(tok string) []byte {
	if !t.charLevel {
		return symbolsToBytes(tok)
	}
	if b, ok := byteToken(tok); ok && t.byteFallback {
		return []byte{b}
	}
	if t.spaceRepl != "" {
		return []byte(strings.ReplaceAll(tok, t.spaceRepl, " "))
	}
	return []byte(tok)
}

// spaceSplittable reports whether a character-level model without a
// pre-tokenizer can encode its input word by word, cut before each run of
// spaceRepl ("▁"), with the same result: when spaceRepl is in the model's
// vocabulary and no vocabulary token holds another character followed by
// spaceRepl, no merge can join the two sides of such a cut, and BPE on the
// whole input is BPE on each word. (Llama 2's, Mistral's and Gemma's
// vocabularies have this property; cutting makes words short enough for
// the word cache.) ignore_merges looks words up whole, so it must be off.
func spaceSplittable(p *pipeline, ignoreMerges bool) bool {
	if !p.charLevel || p.pretok != preNone || p.spaceRepl == "" || ignoreMerges {
		return false
	}
	if _, ok := p.modelVocab[p.spaceRepl]; !ok {
		return false
	}
	for tok := range p.modelVocab {
		for i := strings.Index(tok, p.spaceRepl); i >= 0; {
			if i > 0 && !strings.HasSuffix(tok[:i], p.spaceRepl) {
				return false
			}
			next := strings.Index(tok[i+len(p.spaceRepl):], p.spaceRepl)
			if next < 0 {
				break
			}
			i += len(p.spaceRepl) + next
		}
	}
	return true
}

// nextSpaceRun returns the end of the word that starts at s[i]: a run of
// repl, then everything up to the next repl.
func nextSpaceRun(s string, i int, repl string) int {
	j := i
	for strings.HasPrefix(s[j:], repl) {
		j += len(repl)
	}
	if k := strings.Index(s[j:], repl); k >= 0 {
		if j+k > i {
			return j + k
		}
	}
	return len(s)
}

// normalizedAdded returns the added tokens matched on normalized text with
// their content normalized, as Hugging Face's AddedVocabulary matches them.
func (t *Tokenizer) normalizedAdded() ([]addedToken, error) {
	if len(t.norm) == 0 {
		return t.addedNorm, nil
	}
	out := make([]addedToken, 0, len(t.addedNorm))
	for _, a := range t.addedNorm {
		a.content, _ = normalize(t.norm, a.content, nil)
		if a.content != "" {
			out = append(out, a)
		}
	}
	return out, nil
}

// charSymbols appends the initial symbols of word for a character-level
// model, like Hugging Face's BPE::merge_word: each character's vocabulary
// id, else its "<0xNN>" byte tokens (byte_fallback), else the unk token
// (runs of unknown characters fused into one with fuse_unk), else nothing.
func (t *Tokenizer) charSymbols(word string, syms []symbol) []symbol {
	add := func(id int32, start int) {
		n := int32(len(syms))
		syms = append(syms, symbol{id: id, start: int32(start), prev: n - 1, next: n + 1})
	}
	unk, unkStart := int32(-1), 0
	for i := 0; i < len(word); {
		_, sz := utf8.DecodeRuneInString(word[i:])
		if id, ok := t.modelVocab[word[i:i+sz]]; ok {
			if unk >= 0 {
				add(unk, unkStart)
				unk = -1
			}
			add(int32(id), i)
			i += sz
			continue
		}
		if t.byteFallback {
			all := true
			for k := i; k < i+sz; k++ {
				all = all && t.fallbackID[word[k]] >= 0
			}
			if all {
				// As in Hugging Face, a pending unk is not flushed first.
				for k := i; k < i+sz; k++ {
					add(t.fallbackID[word[k]], k)
				}
				i += sz
				continue
			}
		}
		if t.unk >= 0 {
			if unk < 0 || !t.fuseUnk {
				if unk >= 0 {
					add(unk, unkStart)
				}
				unk, unkStart = t.unk, i
			}
		}
		i += sz
	}
	if unk >= 0 {
		add(unk, unkStart)
	}
	return syms
}

// general encodes text with the full pipeline: added tokens matched on the
// raw text, normalizer, added tokens matched on the normalized text,
// pre-tokenizer, model.
func (e *encoder) general() {
	e.t.splitAdded(e.text, 0, len(e.text), e.t.addedRaw, e.normSegment, e.added)
}

// normSegment normalizes text[lo:hi], a stretch without raw added tokens,
// and encodes it.
func (e *encoder) normSegment(lo, hi int) {
	if lo >= hi {
		return
	}
	s := e.text[lo:hi]
	var al *align
	if e.withOffsets {
		al = identityAlign(e.text, lo, hi)
	}
	s, al = normalize(e.t.norm, s, al)
	e.t.splitAdded(s, 0, len(s), e.t.addedNormN, func(a, b int) {
		e.pretokenize(s, a, b, al, lo == 0 && a == 0)
	}, func(a, b, id int) {
		e.ids = append(e.ids, id)
		if e.withOffsets {
			e.offs = append(e.offs, al.span(a, b))
		}
	})
}

// pretokenize cuts s[a:b] (normalized text, alignment al) into words and
// encodes them; first tells whether s[a:b] starts the original text.
func (e *encoder) pretokenize(s string, a, b int, al *align, first bool) {
	if a >= b {
		return
	}
	t := e.t
	p, pal := s[a:b], al.slice(a, b)
	if t.metaspace {
		p, pal = replace(p, " ", t.metaRepl, pal)
		if (t.metaScheme == prependAlways || (t.metaScheme == prependFirst && first)) && !strings.HasPrefix(p, t.metaRepl) {
			p, pal = prepend(p, t.metaRepl, pal)
		}
	} else if t.addPrefixSpace && p[0] != ' ' {
		p, pal = prepend(p, " ", pal)
	}
	for i := 0; i < len(p); {
		var j int
		switch t.pretok {
		case preGPT2:
			j = nextPiece(p, i)
		case preLlama3:
			j = nextPieceLlama(p, i, 3)
		case preQwen2:
			j = nextPieceLlama(p, i, 1)
		case preMetaspace:
			j = nextMetaspace(p, i, t.metaRepl)
		case preSpaceRuns:
			j = nextSpaceRun(p, i, t.spaceRepl)
		default:
			j = len(p)
		}
		e.word(p, i, j, pal)
		i = j
	}
}

// word BPE-encodes the word p[i:j] and records its ids (and offsets
// through the alignment pal).
func (e *encoder) word(p string, i, j int, pal *align) {
	e.buf = e.t.wordTokens(p[i:j], e.buf[:0])
	for k := 0; k < len(e.buf); k += 2 {
		e.ids = append(e.ids, int(e.buf[k]))
		if e.withOffsets {
			a, b := i+int(e.buf[k+1]), j
			if k+2 < len(e.buf) {
				b = i + int(e.buf[k+3])
			}
			a = min(max(a, i), j-1)
			b = min(max(b, a+1), j)
			e.offs = append(e.offs, pal.span(a, b))
		}
	}
}
