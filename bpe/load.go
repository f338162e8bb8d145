package bpe

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/govene/govene/internal/fsx"
)

// Size caps on the tokenizer files Load and LoadFiles read. The largest
// published tokenizer.json files are a few tens of MiB (GPT-2's is 1.4 MiB,
// vocab.json 1 MiB, merges.txt 0.5 MiB).
const (
	MaxTokenizerJSONBytes = 64 << 20 // tokenizer.json: 64 MiB
	MaxVocabJSONBytes     = 32 << 20 // vocab.json: 32 MiB
	MaxMergesBytes        = 32 << 20 // merges.txt: 32 MiB
	// MaxTokenID bounds every token id (vocabulary and added tokens):
	// the tokenizer allocates tables indexed by id, so a single huge id
	// in a small file would otherwise cost gigabytes.
	MaxTokenID = 1<<21 - 1 // 2097151
	// maxMergeLine is the longest merges.txt line accepted.
	maxMergeLine = 1 << 20
)

//go:embed gpt2/vocab.json.gz gpt2/merges.txt.gz
var gpt2Data embed.FS

var gpt2Tokenizer = sync.OnceValue(func() *Tokenizer {
	vocab, err := readGzip(gpt2Data, "gpt2/vocab.json.gz")
	if err != nil {
		panic(err)
	}
	merges, err := readGzip(gpt2Data, "gpt2/merges.txt.gz")
	if err != nil {
		panic(err)
	}
	t, err := fromVocabMerges(vocab, merges)
	if err != nil {
		panic(fmt.Errorf("bpe: embedded GPT-2 data: %w", err))
	}
	return t
})

// GPT2 returns the tokenizer of OpenAI's GPT-2 (also used by GPT-2 medium,
// large and XL, and by models that reuse its vocabulary), built from the
// vocabulary embedded in this package: 50257 ids, <|endoftext|> = 50256.
// The tokenizer is built once, on the first call (about 0.2 s), and shared
// by all callers. It never fails: the embedded data is checked by the
// package's tests (a corrupt build would panic on the first call).
func GPT2() *Tokenizer { return gpt2Tokenizer() }

func readGzip(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return b, nil
}

// Load builds the tokenizer of the checkpoint folder dir. It reads
// dir/tokenizer.json (Hugging Face tokenizers format) when present, else
// dir/vocab.json and dir/merges.txt (see LoadFiles). When neither is there
// the error names the files looked for and the folder, and satisfies
// errors.Is(err, fs.ErrNotExist).
//
// From tokenizer.json it takes model.vocab, model.merges (either "a b"
// strings or ["a", "b"] pairs), model.ignore_merges and model.unk_token,
// the added_tokens (all are split out of the text before pre-tokenization,
// honoring lstrip, rstrip, single_word and normalized), the ByteLevel
// pre-tokenizer's add_prefix_space, and the ByteLevel (or Roberta)
// post-processor's trim_offsets. Encode never inserts the post-processor's
// template tokens (BOS/EOS). A file that needs a normalizer, a pre-tokenizer
// other than the GPT-2 ByteLevel one, a non-ByteLevel decoder, BPE dropout
// or subword prefixes/suffixes is rejected with an error rather than
// tokenized differently from Hugging Face.
//
// Each file must be a regular file (or a link to one) within its size cap
// (MaxTokenizerJSONBytes, MaxVocabJSONBytes, MaxMergesBytes) and every id at
// most MaxTokenID; a directory, named pipe or device is refused unread.
func Load(dir string) (*Tokenizer, error) {
	tj := filepath.Join(dir, "tokenizer.json")
	data, err := fsx.ReadFile(tj, "tokenizer.json", MaxTokenizerJSONBytes)
	if err == nil {
		t, err := fromTokenizerJSON(data)
		if err != nil {
			return nil, fmt.Errorf("bpe: load %s: %w", tj, err)
		}
		return t, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("bpe: load %s: %w", tj, err)
	}
	vj, mt := filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt")
	_, errV := os.Stat(vj)
	_, errM := os.Stat(mt)
	if errors.Is(errV, fs.ErrNotExist) || errors.Is(errM, fs.ErrNotExist) {
		return nil, fmt.Errorf("bpe: load %s: found neither tokenizer.json nor both vocab.json and merges.txt in the folder: %w",
			dir, fs.ErrNotExist)
	}
	return LoadFiles(vj, mt)
}

// LoadFiles builds a GPT-2 style tokenizer from a vocab.json (a JSON object
// mapping byte-level tokens such as "ĠParis" to ids) and a merges.txt (one
// "a b" merge per line, highest priority first, an optional "#version"
// first line). Like Hugging Face's GPT2Tokenizer, "<|endoftext|>" is a
// special token when the vocabulary has it. It returns an error naming the
// file for unreadable files (missing, not a regular file, over the size cap
// MaxVocabJSONBytes or MaxMergesBytes), malformed JSON, malformed merge
// lines, ids outside [0, MaxTokenID], or merges whose tokens are not in the
// vocabulary.
func LoadFiles(vocabJSON, mergesTXT string) (*Tokenizer, error) {
	vocab, err := fsx.ReadFile(vocabJSON, "vocab.json", MaxVocabJSONBytes)
	if err != nil {
		return nil, fmt.Errorf("bpe: load %s: %w", vocabJSON, err)
	}
	merges, err := fsx.ReadFile(mergesTXT, "merges.txt", MaxMergesBytes)
	if err != nil {
		return nil, fmt.Errorf("bpe: load %s: %w", mergesTXT, err)
	}
	var v map[string]int
	if err := json.Unmarshal(vocab, &v); err != nil {
		return nil, fmt.Errorf("bpe: load %s: %w", vocabJSON, err)
	}
	m, err := parseMerges(merges)
	if err != nil {
		return nil, fmt.Errorf("bpe: load %s: %w", mergesTXT, err)
	}
	t, err := fromSpec(v, m)
	if err != nil {
		return nil, fmt.Errorf("bpe: load %s, %s: %w", vocabJSON, mergesTXT, err)
	}
	return t, nil
}

func fromVocabMerges(vocab, merges []byte) (*Tokenizer, error) {
	var v map[string]int
	if err := json.Unmarshal(vocab, &v); err != nil {
		return nil, fmt.Errorf("vocab.json: %w", err)
	}
	m, err := parseMerges(merges)
	if err != nil {
		return nil, fmt.Errorf("merges.txt: %w", err)
	}
	return fromSpec(v, m)
}

// fromSpec builds a GPT2Tokenizer-like tokenizer from vocab and merges.
func fromSpec(vocab map[string]int, merges [][2]string) (*Tokenizer, error) {
	spec := &tokenizerSpec{vocab: vocab, merges: merges}
	if id, ok := vocab[EndOfText]; ok {
		spec.added = append(spec.added, addedToken{content: EndOfText, id: id, special: true})
	}
	return build(spec)
}

// parseMerges parses merges.txt: "#version" lines and empty lines are
// skipped, every other line must be two tokens separated by one space.
func parseMerges(data []byte) ([][2]string, error) {
	var out [][2]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxMergeLine)
	line := 1
	for ; sc.Scan(); line++ {
		s := strings.TrimSuffix(sc.Text(), "\r")
		if s == "" || strings.HasPrefix(s, "#version") {
			continue
		}
		a, b, ok := strings.Cut(s, " ")
		if !ok || a == "" || b == "" || strings.Contains(b, " ") {
			return nil, fmt.Errorf("line %d: want two space-separated tokens, got %q", line, s)
		}
		out = append(out, [2]string{a, b})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: longer than the limit of %d bytes", line, maxMergeLine)
		}
		return nil, fmt.Errorf("line %d: %w", line, err)
	}
	return out, nil
}

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
	} `json:"model"`
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

func fromTokenizerJSON(data []byte) (*Tokenizer, error) {
	var tj tokenizerJSON
	if err := json.Unmarshal(data, &tj); err != nil {
		return nil, err
	}
	m := &tj.Model
	if m.Type != "" && m.Type != "BPE" {
		return nil, fmt.Errorf("model type %q is not BPE", m.Type)
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
		spec.added = append(spec.added, addedToken{
			content: a.Content, id: a.ID, singleWord: a.SingleWord,
			lstrip: a.LStrip, rstrip: a.RStrip, normalized: a.Normalized, special: a.Special,
		})
	}

	norm, err := parseComponent(tj.Normalizer, "normalizer")
	if err != nil {
		return nil, err
	}
	if n := norm.flatten(); len(n) > 0 {
		return nil, fmt.Errorf("normalizer %s is not supported", n[0].Type)
	}
	pre, err := parseComponent(tj.PreTokenizer, "pre_tokenizer")
	if err != nil {
		return nil, err
	}
	if p := pre.flatten(); len(p) != 1 || p[0].Type != "ByteLevel" || (p[0].UseRegex != nil && !*p[0].UseRegex) {
		return nil, fmt.Errorf("pre_tokenizer %s is not supported (want the GPT-2 ByteLevel pre-tokenizer)", compact(tj.PreTokenizer))
	} else if p[0].AddPrefixSpace != nil {
		spec.addPrefixSpace = *p[0].AddPrefixSpace
	}
	post, err := parseComponent(tj.PostProcessor, "post_processor")
	if err != nil {
		return nil, err
	}
	for _, p := range post.flatten() {
		if p.Type == "ByteLevel" || p.Type == "RobertaProcessing" {
			spec.trimOffsets = p.TrimOffsets == nil || *p.TrimOffsets
			spec.trimPrefix = p.AddPrefixSpace == nil || *p.AddPrefixSpace
		}
	}
	dec, err := parseComponent(tj.Decoder, "decoder")
	if err != nil {
		return nil, err
	}
	for _, d := range dec.flatten() {
		if d.Type != "ByteLevel" {
			return nil, fmt.Errorf("decoder %s is not supported (want ByteLevel)", d.Type)
		}
	}
	t, err := build(spec)
	if err != nil {
		return nil, err
	}
	if m.UnkToken != nil {
		if unk, ok := t.vocab[*m.UnkToken]; ok {
			for b := range t.byteID {
				if t.byteID[b] < 0 {
					t.byteID[b] = int32(unk)
				}
			}
		}
	}
	return t, nil
}

func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil || b.Len() == 0 {
		return "null"
	}
	if b.Len() > 200 {
		return b.String()[:200] + "..."
	}
	return b.String()
}
