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
	// MaxTokenizerConfigBytes caps tokenizer_config.json (chat templates
	// and added_tokens_decoder make some a few hundred KiB).
	MaxTokenizerConfigBytes = 16 << 20
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
// dir/tokenizer.json (Hugging Face tokenizers format) and, when present,
// dir/tokenizer_config.json (see LoadTokenizerJSON); without
// tokenizer.json it reads dir/vocab.json and dir/merges.txt (see
// LoadFiles). When neither is there the error names the files looked for
// and the folder, and satisfies errors.Is(err, fs.ErrNotExist).
func Load(dir string) (*Tokenizer, error) {
	tj := filepath.Join(dir, "tokenizer.json")
	data, err := fsx.ReadFile(tj, "tokenizer.json", MaxTokenizerJSONBytes)
	if err == nil {
		cfg := filepath.Join(dir, "tokenizer_config.json")
		if _, err := os.Stat(cfg); errors.Is(err, fs.ErrNotExist) {
			cfg = ""
		}
		return loadTokenizerJSON(tj, data, cfg)
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

// LoadTokenizerJSON builds the tokenizer of a Hugging Face tokenizer.json
// file, and of the transformers tokenizer_config.json file config ("" for
// none), encoding id for id like Hugging Face tokenizers. Supported:
//
//   - model: BPE (vocab, merges as "a b" strings or ["a", "b"] pairs,
//     ignore_merges, unk_token, byte_fallback with "<0xNN>" tokens,
//     fuse_unk); no dropout or subword prefixes/suffixes;
//   - normalizer: NFC, NFD, NFKC, NFKD, Prepend, Replace with a String
//     pattern, or a Sequence of them (GPT-NeoX, Qwen2: NFC; Llama 2,
//     Mistral v0.1: Prepend("▁") + Replace(" ", "▁"); Gemma: Replace);
//   - pre_tokenizer: ByteLevel (GPT-2's regex with use_regex, else none;
//     add_prefix_space), Split with the Llama 3 or Qwen2 regex (Isolated)
//     followed by ByteLevel without regex, Metaspace (replacement,
//     prepend_scheme always/first/never, split), or none;
//   - added_tokens with single_word, lstrip, rstrip and normalized, split
//     out of the text before the model;
//   - post_processor: ByteLevel (trim_offsets), TemplateProcessing (the
//     single template's special tokens around $A), RobertaProcessing and
//     BertProcessing (cls $A sep), or a Sequence of them;
//   - decoder: ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, or
//     a Sequence of them.
//
// From tokenizer_config.json it takes bos_token and eos_token (strings,
// {"content": ...} objects or null) for BOS and EOS, and add_bos_token and
// add_eos_token: when either is given, Encode adds [bos] $A [eos] as they
// say instead of the post-processor's template (transformers'
// LlamaTokenizerFast behavior; transformers 5 ignores them when
// tokenizer.json exists, which differs only when they disagree with the
// post-processor).
//
// Any other component type, Split pattern or field value is refused with an
// error naming the component, its type and the supported ones, rather than
// tokenized differently from Hugging Face. Each file must be a regular file
// (or a link to one) within its size cap (MaxTokenizerJSONBytes,
// MaxTokenizerConfigBytes) and every id at most MaxTokenID; a directory,
// named pipe or device is refused unread.
func LoadTokenizerJSON(tokenizerJSON, config string) (*Tokenizer, error) {
	data, err := fsx.ReadFile(tokenizerJSON, "tokenizer.json", MaxTokenizerJSONBytes)
	if err != nil {
		return nil, fmt.Errorf("bpe: load %s: %w", tokenizerJSON, err)
	}
	return loadTokenizerJSON(tokenizerJSON, data, config)
}

func loadTokenizerJSON(path string, data []byte, config string) (*Tokenizer, error) {
	var cfg []byte
	if config != "" {
		var err error
		if cfg, err = fsx.ReadFile(config, "tokenizer_config.json", MaxTokenizerConfigBytes); err != nil {
			return nil, fmt.Errorf("bpe: load %s: %w", config, err)
		}
	}
	t, err := fromTokenizerFiles(data, cfg)
	if err != nil {
		if config != "" {
			return nil, fmt.Errorf("bpe: load %s, %s: %w", path, config, err)
		}
		return nil, fmt.Errorf("bpe: load %s: %w", path, err)
	}
	return t, nil
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
