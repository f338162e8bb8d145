package bpe

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

type hfCase struct {
	Text        string   `json:"text"`
	PiecesRegex []string `json:"pieces_regex"`
	IDs         []int    `json:"ids"`
	Tokens      []string `json:"tokens"`
	Pieces      []string `json:"pieces"`
	Offsets     [][2]int `json:"offsets"`
	Decoded     string   `json:"decoded"`
}

type hfFixtures struct {
	Generator string   `json:"generator"`
	Cases     []hfCase `json:"cases"`
	Decodes   []struct {
		IDs  []int  `json:"ids"`
		Text string `json:"text"`
	} `json:"decodes"`
	PrefixVariant struct {
		PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
		PostProcessor json.RawMessage `json:"post_processor"`
		Cases         []hfCase        `json:"cases"`
	} `json:"prefix_variant"`
}

func loadFixtures(t testing.TB) *hfFixtures {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "hf_tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f hfFixtures
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) < 50 {
		t.Fatalf("only %d fixture cases", len(f.Cases))
	}
	return &f
}

// charToByteOffsets converts Hugging Face's character (code point) offsets
// into byte offsets of text.
func charToByteOffsets(text string, offs [][2]int) [][2]int {
	pos := make([]int, 0, len(text)+1)
	for i := range text {
		pos = append(pos, i)
	}
	pos = append(pos, len(text))
	out := make([][2]int, len(offs))
	for i, o := range offs {
		out[i] = [2]int{pos[o[0]], pos[o[1]]}
	}
	return out
}

// same reports whether a and b have the same elements (nil == empty).
func same[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

func regexPieces(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		j := nextPiece(s, i)
		out = append(out, s[i:j])
		i = j
	}
	return out
}

func TestEiffel(t *testing.T) {
	got := GPT2().Encode("The Eiffel Tower is in the city of")
	want := []int{464, 412, 733, 417, 8765, 318, 287, 262, 1748, 286}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestHFFixtures(t *testing.T) {
	f := loadFixtures(t)
	t.Logf("fixtures from %s", f.Generator)
	tk := GPT2()
	for _, c := range f.Cases {
		name := c.Text
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			if got := regexPieces(c.Text); !same(got, c.PiecesRegex) {
				t.Errorf("pre-tokenization:\n got %q\nwant %q", got, c.PiecesRegex)
			}
			ids := tk.Encode(c.Text)
			if !same(ids, c.IDs) {
				t.Fatalf("Encode(%q):\n got %v\nwant %v", c.Text, ids, c.IDs)
			}
			ids2, offs := tk.EncodeWithOffsets(c.Text)
			if !same(ids2, ids) {
				t.Errorf("EncodeWithOffsets ids %v != Encode ids %v", ids2, ids)
			}
			if want := charToByteOffsets(c.Text, c.Offsets); !same(offs, want) {
				t.Errorf("offsets:\n got %v\nwant %v", offs, want)
			}
			if got := tk.Tokens(ids); !same(got, c.Pieces) {
				t.Errorf("Tokens:\n got %q\nwant %q", got, c.Pieces)
			}
			for i, id := range ids {
				if tk.tokForm[id] != c.Tokens[i] {
					t.Errorf("vocab form of %d: got %q, want %q", id, tk.tokForm[id], c.Tokens[i])
				}
			}
			if got, err := tk.Decode(ids); err != nil || got != c.Decoded {
				t.Errorf("Decode = %q, %v; want %q", got, err, c.Decoded)
			}
		})
	}
}

func TestHFDecodes(t *testing.T) {
	f := loadFixtures(t)
	tk := GPT2()
	for _, d := range f.Decodes {
		got, err := tk.Decode(d.IDs)
		if err != nil || got != d.Text {
			t.Errorf("Decode(%v) = %q, %v; want %q", d.IDs, got, err, d.Text)
		}
	}
}

func gpt2Files(t testing.TB) (vocab, merges []byte) {
	t.Helper()
	vocab, err := readGzip(gpt2Data, "gpt2/vocab.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	merges, err = readGzip(gpt2Data, "gpt2/merges.txt.gz")
	if err != nil {
		t.Fatal(err)
	}
	return vocab, merges
}

func TestEmbeddedDataHashes(t *testing.T) {
	vocab, merges := gpt2Files(t)
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"vocab.json", vocab, "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"},
		{"merges.txt", merges, "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"},
	} {
		sum := sha256.Sum256(c.data)
		if got := hex.EncodeToString(sum[:]); got != c.want {
			t.Errorf("%s: sha256 %s, want %s", c.name, got, c.want)
		}
	}
}

// gpt2TokenizerJSON returns a tokenizer.json with GPT-2's vocabulary and
// the given pre-tokenizer and post-processor sections; pairs selects the
// [a, b] form of merges instead of "a b".
func gpt2TokenizerJSON(t testing.TB, pairs bool, pre, post json.RawMessage) []byte {
	t.Helper()
	vocab, mergesTxt := gpt2Files(t)
	ms, err := parseMerges(mergesTxt)
	if err != nil {
		t.Fatal(err)
	}
	var merges any
	if pairs {
		merges = ms
	} else {
		var l []string
		for _, m := range ms {
			l = append(l, m[0]+" "+m[1])
		}
		merges = l
	}
	doc := map[string]any{
		"version": "1.0",
		"added_tokens": []map[string]any{{
			"id": 50256, "content": "<|endoftext|>", "single_word": false, "lstrip": false,
			"rstrip": false, "normalized": false, "special": true,
		}},
		"normalizer":     nil,
		"pre_tokenizer":  pre,
		"post_processor": post,
		"decoder":        json.RawMessage(`{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}`),
		"model": map[string]any{
			"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": "",
			"end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
			"vocab": json.RawMessage(vocab), "merges": merges,
		},
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// GPT-2's own sections, as in openai-community/gpt2's tokenizer.json.
var (
	gpt2Pre  = json.RawMessage(`{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}`)
	gpt2Post = json.RawMessage(`{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true}`)
)

func writeTokenizerJSON(t *testing.T, dir string, pairs bool, pre, post json.RawMessage) {
	t.Helper()
	data := gpt2TokenizerJSON(t, pairs, pre, post)
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadTokenizerJSON(t *testing.T) {
	f := loadFixtures(t)
	for _, pairs := range []bool{false, true} {
		dir := t.TempDir()
		writeTokenizerJSON(t, dir, pairs, gpt2Pre, gpt2Post)
		tk, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if tk.VocabSize() != 50257 || tk.EOT() != 50256 {
			t.Errorf("VocabSize %d EOT %d", tk.VocabSize(), tk.EOT())
		}
		for _, c := range f.Cases {
			ids, offs := tk.EncodeWithOffsets(c.Text)
			if !same(ids, c.IDs) {
				t.Errorf("pairs=%v Encode(%q) = %v, want %v", pairs, c.Text, ids, c.IDs)
			}
			if want := charToByteOffsets(c.Text, c.Offsets); !same(offs, want) {
				t.Errorf("pairs=%v offsets(%q) = %v, want %v", pairs, c.Text, offs, want)
			}
		}
	}

	// add_prefix_space and trim_offsets variant.
	dir := t.TempDir()
	writeTokenizerJSON(t, dir, false, f.PrefixVariant.PreTokenizer, f.PrefixVariant.PostProcessor)
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.PrefixVariant.Cases {
		ids, offs := tk.EncodeWithOffsets(c.Text)
		if !same(ids, c.IDs) {
			t.Errorf("prefix variant Encode(%q) = %v, want %v", c.Text, ids, c.IDs)
		}
		if want := charToByteOffsets(c.Text, c.Offsets); !same(offs, want) {
			t.Errorf("prefix variant offsets(%q) = %v, want %v", c.Text, offs, want)
		}
	}
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	vocab, merges := gpt2Files(t)
	vp, mp := filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt")
	if err := os.WriteFile(vp, vocab, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mp, merges, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, load := range []func() (*Tokenizer, error){
		func() (*Tokenizer, error) { return LoadFiles(vp, mp) },
		func() (*Tokenizer, error) { return Load(dir) },
	} {
		tk, err := load()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range loadFixtures(t).Cases {
			if got, want := tk.Encode(c.Text), GPT2().Encode(c.Text); !same(got, want) {
				t.Errorf("Encode(%q) = %v, want %v", c.Text, got, want)
			}
		}
		if tk.EOT() != 50256 {
			t.Errorf("EOT = %d", tk.EOT())
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load(empty dir) = %v, want fs.ErrNotExist", err)
	}
	for _, s := range []string{dir, "tokenizer.json", "vocab.json", "merges.txt"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
	if _, err := LoadFiles(filepath.Join(dir, "nope.json"), filepath.Join(dir, "nope.txt")); err == nil ||
		!errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nope.json") {
		t.Errorf("LoadFiles(missing) = %v", err)
	}

	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	vocab := write("v.json", `{"a": 0, "b": 1, "ab": 2, "c": 3}`)
	for _, c := range []struct{ merges, want string }{
		{"#version: 0.2\na b c\n", "line 2"},
		{"a\n", "line 1"},
		{"a x\n", `token "x" not in vocabulary`},
		{"b c\n", `merged token "bc"`},
	} {
		_, err := LoadFiles(vocab, write("m.txt", c.merges))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "m.txt") {
			t.Errorf("merges %q: error %v, want mention of %q", c.merges, err, c.want)
		}
	}
	if _, err := LoadFiles(write("bad.json", `{"a": `), write("m.txt", "")); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("bad json: %v", err)
	}
	if tk, err := LoadFiles(vocab, write("m.txt", "#version: 0.2\na b\n")); err != nil {
		t.Errorf("small vocab: %v", err)
	} else if tk.EOT() != -1 || tk.VocabSize() != 4 {
		t.Errorf("EOT %d VocabSize %d", tk.EOT(), tk.VocabSize())
	}

	for _, c := range []struct{ json, want string }{
		{`{"model": {"type": "WordPiece", "vocab": {"a": 0}}}`, "not BPE"},
		{`{"normalizer": {"type": "Lowercase"}, "pre_tokenizer": {"type": "ByteLevel"}, "model": {"vocab": {"a": 0}, "merges": []}}`, "normalizer Lowercase"},
		{`{"pre_tokenizer": {"type": "Metaspace"}, "model": {"vocab": {"a": 0}, "merges": []}}`, "pre_tokenizer"},
		{`{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"vocab": {"a": 0}, "merges": [1]}}`, "model.merges[0]"},
		{`{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"vocab": {"a": 0}, "merges": [], "dropout": 0.1}}`, "dropout"},
		{`{"model": `, "unexpected end"},
	} {
		sub := t.TempDir()
		if err := os.WriteFile(filepath.Join(sub, "tokenizer.json"), []byte(c.json), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(sub)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "tokenizer.json") {
			t.Errorf("tokenizer.json %s: error %v, want mention of %q", c.json, err, c.want)
		}
	}
}

func TestAddedTokenOptions(t *testing.T) {
	dir := t.TempDir()
	doc := `{
 "added_tokens": [
  {"id": 3, "content": "<x>", "lstrip": true, "rstrip": true, "special": true},
  {"id": 4, "content": "yy", "single_word": true, "normalized": true}
 ],
 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false},
 "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "Ġ": 2}, "merges": []}
}`
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text string
		ids  []int
		offs [][2]int
	}{
		{"a <x> b", []int{0, 3, 1}, [][2]int{{0, 1}, {1, 6}, {6, 7}}},
		{"a yy b", []int{0, 2, 4, 2, 1}, nil},
		{"ayy b", []int{0, 2, 1}, nil}, // "yy" not a single word; y is not in the vocab
	} {
		ids, offs := tk.EncodeWithOffsets(c.text)
		if !reflect.DeepEqual(ids, c.ids) || (c.offs != nil && !reflect.DeepEqual(offs, c.offs)) {
			t.Errorf("EncodeWithOffsets(%q) = %v %v, want %v %v", c.text, ids, offs, c.ids, c.offs)
		}
	}
	if tk.Token(3) != "<x>" || tk.Token(4) != "yy" || tk.Token(2) != " " {
		t.Errorf("Tokens: %q", tk.Tokens([]int{2, 3, 4}))
	}
}

func TestAPI(t *testing.T) {
	tk := GPT2()
	if tk.VocabSize() != 50257 || tk.EOT() != 50256 {
		t.Errorf("VocabSize %d EOT %d", tk.VocabSize(), tk.EOT())
	}
	if id, ok := tk.ID(" Paris"); !ok || id != 6342 {
		t.Errorf("ID(\" Paris\") = %d, %v", id, ok)
	}
	if id, ok := tk.ID("<|endoftext|>"); !ok || id != 50256 {
		t.Errorf("ID(eot) = %d, %v", id, ok)
	}
	if _, ok := tk.ID(" Paris is"); ok {
		t.Error("ID of two tokens found")
	}
	if _, ok := tk.ID("ĠParis"); ok {
		t.Error("ID of vocab form found")
	}
	if tk.Token(6342) != " Paris" || tk.Token(-1) != "" || tk.Token(50257) != "" {
		t.Errorf("Token: %q %q %q", tk.Token(6342), tk.Token(-1), tk.Token(50257))
	}
	if got := tk.Tokens([]int{464, 50256, -5}); !reflect.DeepEqual(got, []string{"The", "<|endoftext|>", ""}) {
		t.Errorf("Tokens = %q", got)
	}
	// Every id round-trips through Token/ID unless its text is not valid UTF-8.
	for id := 0; id < tk.VocabSize(); id++ {
		s := tk.Token(id)
		if !utf8.Valid(tk.tokBytes[id]) {
			continue
		}
		if got, ok := tk.ID(s); !ok || got != id {
			t.Fatalf("ID(Token(%d)=%q) = %d, %v", id, s, got, ok)
		}
	}
	if ids := tk.Encode(""); len(ids) != 0 {
		t.Errorf("Encode(\"\") = %v", ids)
	}
}

func TestDecodeErrors(t *testing.T) {
	tk := GPT2()
	for _, c := range []struct {
		ids  []int
		want string
	}{
		{[]int{464, 50257}, "id 50257 at index 1 is out of range [0, 50257)"},
		{[]int{-1}, "id -1 at index 0 is out of range [0, 50257)"},
	} {
		_, err := tk.Decode(c.ids)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Decode(%v) error %v, want %q", c.ids, err, c.want)
		}
	}
	if s, err := tk.Decode(nil); s != "" || err != nil {
		t.Errorf("Decode(nil) = %q, %v", s, err)
	}
}

func TestLossy(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"abc", "abc"},
		{"\xe2\x82", "\uFFFD"},
		{"\xe2\x82\xac", "€"},
		{"\xff\xfe", "\uFFFD\uFFFD"},
		{"\xc0\x80", "\uFFFD\uFFFD"},
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"\xf4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"\xf0\x9f\x98", "\uFFFD"},
		{"\xf0\x9f\x98a", "\uFFFDa"},
		{"\xe2\x82\xe2\x82\xac", "\uFFFD€"},
		{"a\x80b", "a\uFFFDb"},
	} {
		if got := lossyString([]byte(c.in)); got != c.want {
			t.Errorf("lossy(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// referenceBPE is OpenAI's original GPT-2 merge loop (encoder.py bpe()).
func referenceBPE(t *Tokenizer, word string) []int {
	var parts []string
	for i := 0; i < len(word); i++ {
		parts = append(parts, string(byteToRune[word[i]]))
	}
	for len(parts) > 1 {
		best, bestRank := -1, int32(1<<31-1)
		for i := 0; i+1 < len(parts); i++ {
			m, ok := t.merges[pairKey(int32(t.vocab[parts[i]]), int32(t.vocab[parts[i+1]]))]
			if ok && m.rank < bestRank {
				best, bestRank = i, m.rank
			}
		}
		if best < 0 {
			break
		}
		first, second := parts[best], parts[best+1]
		var out []string
		for i := 0; i < len(parts); {
			if i+1 < len(parts) && parts[i] == first && parts[i+1] == second {
				out = append(out, first+second)
				i += 2
			} else {
				out = append(out, parts[i])
				i++
			}
		}
		parts = out
	}
	ids := make([]int, len(parts))
	for i, p := range parts {
		ids[i] = t.vocab[p]
	}
	return ids
}

func TestBPEMatchesReference(t *testing.T) {
	tk := GPT2()
	f := loadFixtures(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var words []string
	for _, c := range f.Cases {
		words = append(words, regexPieces(c.Text)...)
	}
	alphabet := []string{"a", "e", "s", "t", "th", "in", "er", " ", "é", "😀", "ab", "aa", "x", "1"}
	for i := 0; i < 2000; i++ {
		var b strings.Builder
		n := 1 + rng.IntN(40)
		for j := 0; j < n; j++ {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		words = append(words, b.String())
	}
	for _, w := range words {
		var got []int
		for k, v := range tk.bpeWord(w, nil) {
			if k%2 == 0 {
				got = append(got, int(v))
			}
		}
		if want := referenceBPE(tk, w); !reflect.DeepEqual(got, want) {
			t.Errorf("bpe(%q) = %v, want %v", w, got, want)
		}
	}
}

func TestConcurrent(t *testing.T) {
	tk := GPT2()
	f := loadFixtures(t)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 20; r++ {
				for _, c := range f.Cases {
					if got := tk.Encode(c.Text); !same(got, c.IDs) {
						t.Errorf("concurrent Encode(%q) = %v", c.Text, got)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestInvalidUTF8(t *testing.T) {
	tk := GPT2()
	for _, s := range []string{"\xff", "a\x80b", "\xe2\x82 x", "ok \xf0\x9f\x98"} {
		ids, offs := tk.EncodeWithOffsets(s)
		got, err := tk.Decode(ids)
		if err != nil || got != strings.ToValidUTF8(s, "\uFFFD") && got != lossyString([]byte(s)) {
			t.Errorf("Decode(Encode(%q)) = %q, %v", s, got, err)
		}
		end := 0
		for _, o := range offs {
			if o[0] < 0 || o[1] > len(s) || o[0] > o[1] {
				t.Errorf("%q: bad offset %v", s, o)
			}
			end = max(end, o[1])
		}
		if end != len(s) {
			t.Errorf("%q: offsets %v do not reach the end", s, offs)
		}
	}
}

func FuzzEncodeDecode(f *testing.F) {
	for _, s := range []string{
		"", " ", "Hello, world!", "  \n\n\t x", "I'm here'S", "<|endoftext|>", "a<|endoftext|", "😀👨\u200d👩", "日本語のテキスト",
		"e\u0301", "1,234.5", "\r\n\r\n", "   trailing   ", "\u00a0\u3000\u2028",
	} {
		f.Add(s)
	}
	tk := GPT2()
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip()
		}
		ids, offs := tk.EncodeWithOffsets(s)
		if got := tk.Encode(s); !same(got, ids) {
			t.Fatalf("Encode %v != EncodeWithOffsets %v", got, ids)
		}
		got, err := tk.Decode(ids)
		if err != nil {
			t.Fatal(err)
		}
		if got != s {
			t.Fatalf("Decode(Encode(%q)) = %q (ids %v)", s, got, ids)
		}
		// Offsets are ordered character ranges covering the text.
		prevStart, end := 0, 0
		for i, o := range offs {
			if o[0] < prevStart || o[0] > o[1] || o[1] > len(s) {
				t.Fatalf("%q: bad offset %d %v in %v", s, i, o, offs)
			}
			if !utf8.RuneStart(s[o[0]]) && o[0] < len(s) {
				t.Fatalf("%q: offset %v not on a character boundary", s, o)
			}
			prevStart, end = o[0], max(end, o[1])
		}
		if end != len(s) {
			t.Fatalf("%q: offsets %v end at %d", s, offs, end)
		}
		// Tokens concatenate to the text when every token is valid UTF-8.
		var b bytes.Buffer
		for _, id := range ids {
			b.Write(tk.tokBytes[id])
		}
		if b.String() != s {
			t.Fatalf("token bytes %q != %q", b.String(), s)
		}
	})
}

// BenchmarkEncode measures Encode throughput on ~100 KB of English prose
// (the fixtures' long paragraph repeated) and on the concatenated fixture
// strings (many scripts, emoji, long uncached words).
func BenchmarkEncode(b *testing.B) {
	f := loadFixtures(b)
	var mixed strings.Builder
	for _, c := range f.Cases {
		mixed.WriteString(c.Text)
		mixed.WriteString("\n")
	}
	english := f.Cases[len(f.Cases)-1].Text
	texts := []struct{ name, s string }{
		{"english", strings.Repeat(english, 100_000/len(english))},
		{"mixed", strings.Repeat(mixed.String(), 4)},
	}
	tk := GPT2()
	for _, x := range texts {
		s := x.s
		b.Run(x.name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				tk.Encode(s)
			}
		})
		b.Run(x.name+"/offsets", func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				tk.EncodeWithOffsets(s)
			}
		})
		b.Run(x.name+"/cold-cache", func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				b.StopTimer()
				for i := range tk.cache {
					tk.cache[i].mu.Lock()
					tk.cache[i].m = nil
					tk.cache[i].mu.Unlock()
				}
				b.StartTimer()
				tk.Encode(s)
			}
		})
		b.Run(x.name+"/parallel", func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					tk.Encode(s)
				}
			})
		})
	}
}
