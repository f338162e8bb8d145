package bpe

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Supported component types, for error messages.
const (
	supportedNormalizers    = "NFC, NFD, NFKC, NFKD, Prepend, Replace (String pattern), Sequence"
	supportedPreTokenizers  = "ByteLevel; Split (the Llama 3 or Qwen2 regex, Isolated) then ByteLevel with use_regex false; Metaspace; Sequence; none"
	supportedDecoders       = "ByteLevel, Replace (String pattern), ByteFallback, Fuse, Strip, Metaspace, Sequence"
	supportedPostProcessors = "ByteLevel, TemplateProcessing, RobertaProcessing, BertProcessing, Sequence"
)

// tokenizerJSON is the part of Hugging Face's tokenizer.json that is read.
type tokenizerJSON struct {
	AddedTokens []struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         struct {
		Type                    string            `json:"type"`
		Vocab                   map[string]int    `json:"vocab"`
		Merges                  []json.RawMessage `json:"merges"`
		Dropout                 *float64          `json:"dropout"`
		UnkToken                *string           `json:"unk_token"`
		ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
		IgnoreMerges            bool              `json:"ignore_merges"`
		ByteFallback            bool              `json:"byte_fallback"`
		FuseUnk                 bool              `json:"fuse_unk"`
	} `json:"model"`
}

// pattern is a Replace or Split pattern: {"String": s} or {"Regex": r}.
type pattern struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

// component is a normalizer, pre-tokenizer, post-processor or decoder.
type component struct {
	Type           string      `json:"type"`
	AddPrefixSpace *bool       `json:"add_prefix_space"`
	TrimOffsets    *bool       `json:"trim_offsets"`
	UseRegex       *bool       `json:"use_regex"`
	Normalizers    []component `json:"normalizers"`
	PreTokenizers  []component `json:"pretokenizers"`
	Processors     []component `json:"processors"`
	Decoders       []component `json:"decoders"`

	Prepend       *string  `json:"prepend"`        // Prepend
	Pattern       *pattern `json:"pattern"`        // Replace, Split
	Content       *string  `json:"content"`        // Replace, Strip
	Behavior      string   `json:"behavior"`       // Split
	Invert        bool     `json:"invert"`         // Split
	Replacement   *string  `json:"replacement"`    // Metaspace
	PrependScheme *string  `json:"prepend_scheme"` // Metaspace
	Split         *bool    `json:"split"`          // Metaspace
	Start         int      `json:"start"`          // Strip
	Stop          int      `json:"stop"`           // Strip

	Single        []templateItem             `json:"single"` // TemplateProcessing
	SpecialTokens map[string]templateSpecial `json:"special_tokens"`
	Sep           []json.RawMessage          `json:"sep"` // Roberta/BertProcessing: [token, id]
	Cls           []json.RawMessage          `json:"cls"`
}

// templateItem is one item of a TemplateProcessing template.
type templateItem struct {
	SpecialToken *struct {
		ID string `json:"id"`
	} `json:"SpecialToken"`
	Sequence *struct {
		ID string `json:"id"`
	} `json:"Sequence"`
}

type templateSpecial struct {
	ID  string `json:"id"`
	IDs []int  `json:"ids"`
}

// parseComponent decodes raw; a missing or null component gives nil.
func parseComponent(raw json.RawMessage, what string) (*component, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var c component
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return &c, nil
}

// flatten returns the components of c, looking into Sequences.
func (c *component) flatten() []component {
	if c == nil {
		return nil
	}
	if c.Type != "Sequence" {
		return []component{*c}
	}
	var out []component
	for _, l := range [][]component{c.Normalizers, c.PreTokenizers, c.Processors, c.Decoders} {
		for i := range l {
			out = append(out, l[i].flatten()...)
		}
	}
	return out
}

// replaceArgs returns the String pattern and the content of a Replace
// component, or an error naming what (e.g. "normalizer Replace") when the
// pattern is missing, empty or a Regex, or the content is missing.
func (c *component) replaceArgs(what string) (pat, content string, err error) {
	switch {
	case c.Pattern == nil:
		return "", "", fmt.Errorf("%s: missing pattern", what)
	case c.Pattern.Regex != nil:
		return "", "", fmt.Errorf("%s: Regex pattern %q is not supported (only String patterns)", what, *c.Pattern.Regex)
	case c.Pattern.String == nil || *c.Pattern.String == "":
		return "", "", fmt.Errorf("%s: empty pattern", what)
	case c.Content == nil:
		return "", "", fmt.Errorf("%s: missing content", what)
	}
	return *c.Pattern.String, *c.Content, nil
}

func fromTokenizerJSON(data []byte) (*Tokenizer, error) {
	return fromTokenizerFiles(data, nil)
}

// fromTokenizerFiles builds a tokenizer from tokenizer.json and, when
// config is not nil, tokenizer_config.json.
func fromTokenizerFiles(data, config []byte) (*Tokenizer, error) {
	var tj tokenizerJSON
	if err := json.Unmarshal(data, &tj); err != nil {
		return nil, err
	}
	m := &tj.Model
	if m.Type != "" && m.Type != "BPE" {
		return nil, fmt.Errorf("model type %q is not BPE (the only model type supported)", m.Type)
	}
	if len(m.Vocab) == 0 {
		return nil, errors.New("model.vocab is missing or empty")
	}
	if m.Dropout != nil && *m.Dropout > 0 {
		return nil, fmt.Errorf("BPE dropout %g is not supported", *m.Dropout)
	}
	if m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "" {
		return nil, fmt.Errorf("continuing_subword_prefix %q is not supported", *m.ContinuingSubwordPrefix)
	}
	if m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "" {
		return nil, fmt.Errorf("end_of_word_suffix %q is not supported", *m.EndOfWordSuffix)
	}
	spec := &tokenizerSpec{vocab: m.Vocab, ignoreMerges: m.IgnoreMerges}
	for i, raw := range m.Merges {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			a, b, ok := strings.Cut(s, " ")
			if !ok || a == "" || b == "" {
				return nil, fmt.Errorf("model.merges[%d]: want \"a b\", got %q", i, s)
			}
			spec.merges = append(spec.merges, [2]string{a, b})
			continue
		}
		var pair []string
		if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("model.merges[%d]: want \"a b\" or [\"a\", \"b\"], got %s", i, raw)
		}
		spec.merges = append(spec.merges, [2]string{pair[0], pair[1]})
	}
	for _, a := range tj.AddedTokens {
		// Like Hugging Face (which warns), an added token whose content is
		// in the model's vocabulary gets the vocabulary's id.
		if id, ok := m.Vocab[a.Content]; ok {
			a.ID = id
		}
		spec.added = append(spec.added, addedToken{
			content: a.Content, id: a.ID, singleWord: a.SingleWord,
			lstrip: a.LStrip, rstrip: a.RStrip, normalized: a.Normalized, special: a.Special,
		})
	}
	p := &spec.pipe
	p.byteFallback, p.fuseUnk, p.unk, p.modelVocab = m.ByteFallback, m.FuseUnk, -1, m.Vocab

	norm, err := parseComponent(tj.Normalizer, "normalizer")
	if err != nil {
		return nil, err
	}
	if err := parseNormalizer(norm, p); err != nil {
		return nil, err
	}
	pre, err := parseComponent(tj.PreTokenizer, "pre_tokenizer")
	if err != nil {
		return nil, err
	}
	if err := parsePreTokenizer(pre, tj.PreTokenizer, spec); err != nil {
		return nil, err
	}
	post, err := parseComponent(tj.PostProcessor, "post_processor")
	if err != nil {
		return nil, err
	}
	for _, c := range post.flatten() {
		if c.Type == "ByteLevel" || c.Type == "RobertaProcessing" {
			spec.trimOffsets = !p.charLevel && (c.TrimOffsets == nil || *c.TrimOffsets)
			spec.trimPrefix = c.AddPrefixSpace == nil || *c.AddPrefixSpace
		}
	}
	dec, err := parseComponent(tj.Decoder, "decoder")
	if err != nil {
		return nil, err
	}
	if err := parseDecoder(dec, p); err != nil {
		return nil, err
	}
	p.general = len(p.norm) > 0 || p.charLevel || p.pretok != preGPT2 || p.metaspace
	if spaceSplittable(p, m.IgnoreMerges) {
		p.pretok = preSpaceRuns
	}
	t, err := build(spec)
	if err != nil {
		return nil, err
	}
	if m.UnkToken != nil {
		if unk, ok := m.Vocab[*m.UnkToken]; ok {
			t.unk = int32(unk)
			for b := range t.byteID {
				if t.byteID[b] < 0 {
					t.byteID[b] = int32(unk)
				}
			}
		}
	}
	if err := t.setSpecials(post, config); err != nil {
		return nil, err
	}
	return t, nil
}

// parseNormalizer reads the normalizer's steps into p.
func parseNormalizer(c *component, p *pipeline) error {
	forms := map[string]norm.Form{"NFC": norm.NFC, "NFD": norm.NFD, "NFKC": norm.NFKC, "NFKD": norm.NFKD}
	for _, n := range c.flatten() {
		what := "normalizer " + n.Type
		switch n.Type {
		case "NFC", "NFD", "NFKC", "NFKD":
			p.norm = append(p.norm, normStep{kind: normUnicode, form: forms[n.Type]})
		case "Prepend":
			if n.Prepend == nil || *n.Prepend == "" {
				return fmt.Errorf("%s: missing or empty prepend", what)
			}
			p.norm = append(p.norm, normStep{kind: normPrepend, a: *n.Prepend})
		case "Replace":
			pat, content, err := n.replaceArgs(what)
			if err != nil {
				return err
			}
			p.norm = append(p.norm, normStep{kind: normReplace, a: pat, b: content})
			if pat == " " {
				p.spaceRepl = content
			}
		default:
			return fmt.Errorf("normalizer %s (type %q) is not supported; supported: %s", n.Type, n.Type, supportedNormalizers)
		}
	}
	return nil
}

// parsePreTokenizer reads the pre-tokenizer into spec.
func parsePreTokenizer(c *component, raw json.RawMessage, spec *tokenizerSpec) error {
	p := &spec.pipe
	l := c.flatten()
	unsupported := func(why string) error {
		return fmt.Errorf("pre_tokenizer %s is not supported%s; supported: %s", compact(raw), why, supportedPreTokenizers)
	}
	switch {
	case len(l) == 0:
		p.pretok, p.charLevel = preNone, true
	case len(l) == 1 && l[0].Type == "ByteLevel":
		if l[0].UseRegex != nil && !*l[0].UseRegex {
			p.pretok = preNone
		}
		spec.addPrefixSpace = l[0].AddPrefixSpace != nil && *l[0].AddPrefixSpace
	case len(l) == 2 && l[0].Type == "Split" && l[1].Type == "ByteLevel":
		s, bl := l[0], l[1]
		if s.Pattern == nil || s.Pattern.Regex == nil {
			return unsupported(" (Split needs a Regex pattern)")
		}
		switch *s.Pattern.Regex {
		case llama3Pattern:
			p.pretok = preLlama3
		case qwen2Pattern:
			p.pretok = preQwen2
		default:
			return fmt.Errorf("pre_tokenizer Split pattern %q is not supported; supported: the Llama 3 pattern %q and the Qwen2 pattern %q",
				*s.Pattern.Regex, llama3Pattern, qwen2Pattern)
		}
		if s.Behavior != "Isolated" || s.Invert {
			return unsupported(fmt.Sprintf(" (Split behavior %q invert %v; want Isolated, false)", s.Behavior, s.Invert))
		}
		if bl.UseRegex == nil || *bl.UseRegex || (bl.AddPrefixSpace != nil && *bl.AddPrefixSpace) {
			return unsupported(" (ByteLevel after Split needs use_regex false and add_prefix_space false)")
		}
	case len(l) == 1 && l[0].Type == "Metaspace":
		ms := l[0]
		repl, scheme, err := metaspaceOptions(ms, "pre_tokenizer")
		if err != nil {
			return err
		}
		p.metaspace, p.charLevel, p.pretok, p.metaRepl, p.metaScheme = true, true, preNone, repl, scheme
		if ms.Split == nil || *ms.Split {
			p.pretok = preMetaspace
		}
		if p.spaceRepl == "" {
			p.spaceRepl = p.metaRepl
		}
	default:
		return unsupported("")
	}
	return nil
}

// metaspaceOptions returns the replacement character and prepend scheme
// of a Metaspace component (what is "pre_tokenizer" or "decoder"). As in
// Hugging Face, a missing prepend_scheme follows the older
// add_prefix_space (always unless false).
func metaspaceOptions(c component, what string) (repl string, scheme int, err error) {
	if c.Replacement == nil || utf8.RuneCountInString(*c.Replacement) != 1 {
		return "", 0, fmt.Errorf("%s Metaspace: replacement is missing or not one character", what)
	}
	repl = *c.Replacement
	if c.PrependScheme == nil {
		if c.AddPrefixSpace != nil && !*c.AddPrefixSpace {
			return repl, prependNever, nil
		}
		return repl, prependAlways, nil
	}
	switch *c.PrependScheme {
	case "always":
		return repl, prependAlways, nil
	case "first":
		return repl, prependFirst, nil
	case "never":
		return repl, prependNever, nil
	}
	return "", 0, fmt.Errorf("%s Metaspace: prepend_scheme %q is not one of always, first, never", what, *c.PrependScheme)
}

// parseDecoder reads the decoder chain into p; a lone ByteLevel decoder (or
// none) leaves p.dec nil, the fast byte concatenation.
func parseDecoder(c *component, p *pipeline) error {
	l := c.flatten()
	if len(l) == 0 || (len(l) == 1 && l[0].Type == "ByteLevel") {
		return nil
	}
	for _, d := range l {
		what := "decoder " + d.Type
		var st decStep
		switch d.Type {
		case "ByteLevel":
			st.kind = decByteLevel
		case "Replace":
			pat, content, err := d.replaceArgs(what)
			if err != nil {
				return err
			}
			st = decStep{kind: decReplace, a: pat, b: content}
			if content == " " && p.spaceRepl == "" {
				p.spaceRepl = pat
			}
		case "ByteFallback":
			st.kind = decByteFallback
		case "Fuse":
			st.kind = decFuse
		case "Strip":
			if d.Content == nil || utf8.RuneCountInString(*d.Content) != 1 || d.Start < 0 || d.Stop < 0 {
				return fmt.Errorf("%s: want one content character and non-negative start and stop", what)
			}
			st = decStep{kind: decStrip, a: *d.Content, start: d.Start, stop: d.Stop}
		case "Metaspace":
			repl, scheme, err := metaspaceOptions(d, "decoder")
			if err != nil {
				return err
			}
			st = decStep{kind: decMetaspace, a: repl, prependAny: scheme != prependNever}
			if p.spaceRepl == "" {
				p.spaceRepl = repl
			}
		default:
			return fmt.Errorf("decoder %s (type %q) is not supported; supported: %s", d.Type, d.Type, supportedDecoders)
		}
		p.dec = append(p.dec, st)
	}
	return nil
}
