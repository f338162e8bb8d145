package bpe

import (
	"strconv"
	"strings"
)

// decKind is the kind of one decoder step of tokenizer.json.
type decKind uint8

const (
	decByteLevel    decKind = iota // byte-level symbols back to bytes, lossy UTF-8, one string
	decReplace                     // replace a with b in every token
	decByteFallback                // "<0xNN>" runs back to UTF-8 (one U+FFFD per byte when invalid)
	decFuse                        // join all tokens into one
	decStrip                       // strip up to start leading and stop trailing a from every token
	decMetaspace                   // a back to ' '; in the first token dropped (prepend_scheme != never)
)

// decStep is one step of a decoder chain, applied in order like Hugging
// Face's Decoder::decode_chain.
type decStep struct {
	kind        decKind
	a, b        string
	start, stop int
	prependAny  bool // Metaspace: prepend_scheme is not "never"
}

// byteToken returns the byte of a byte-fallback token "<0xNN>".
func byteToken(tok string) (byte, bool) {
	if len(tok) != 6 || !strings.HasPrefix(tok, "<0x") || tok[5] != '>' {
		return 0, false
	}
	v, err := strconv.ParseUint(tok[3:5], 16, 8)
	return byte(v), err == nil
}

// runDecoders applies steps to tokens and joins the result.
func runDecoders(steps []decStep, tokens []string) string {
	for _, st := range steps {
		switch st.kind {
		case decByteLevel:
			var b []byte
			for _, t := range tokens {
				b = append(b, symbolsToBytes(t)...)
			}
			tokens = []string{lossyString(b)}
		case decReplace:
			for i, t := range tokens {
				tokens[i] = strings.ReplaceAll(t, st.a, st.b)
			}
		case decByteFallback:
			tokens = fallbackDecode(tokens)
		case decFuse:
			tokens = []string{strings.Join(tokens, "")}
		case decStrip:
			for i, t := range tokens {
				for n := 0; n < st.start && strings.HasPrefix(t, st.a); n++ {
					t = t[len(st.a):]
				}
				for n := 0; n < st.stop && strings.HasSuffix(t, st.a); n++ {
					t = t[:len(t)-len(st.a)]
				}
				tokens[i] = t
			}
		case decMetaspace:
			for i, t := range tokens {
				if i == 0 && st.prependAny {
					tokens[i] = strings.ReplaceAll(t, st.a, "")
				} else {
					tokens[i] = strings.ReplaceAll(t, st.a, " ")
				}
			}
		}
	}
	return strings.Join(tokens, "")
}

// fallbackDecode is Hugging Face's ByteFallback decoder: each run of
// "<0xNN>" tokens becomes its UTF-8 text, or one U+FFFD per byte when the
// run is not valid UTF-8.
func fallbackDecode(tokens []string) []string {
	out := make([]string, 0, len(tokens))
	var run []byte
	flush := func() {
		if len(run) == 0 {
			return
		}
		if s := string(run); lossyString(run) == s {
			out = append(out, s)
		} else {
			for range run {
				out = append(out, "\uFFFD")
			}
		}
		run = run[:0]
	}
	for _, t := range tokens {
		if b, ok := byteToken(t); ok {
			run = append(run, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}
