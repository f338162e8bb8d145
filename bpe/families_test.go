package bpe

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

type familyCases struct {
	Generator string `json:"generator"`
	BOS       *int   `json:"bos"`
	EOS       *int   `json:"eos"`
	Cases     []struct {
		Text       string   `json:"text"`
		IDs        []int    `json:"ids"`
		IDsSpecial []int    `json:"ids_special"`
		Offsets    [][2]int `json:"offsets"`
		Decoded    string   `json:"decoded"`
	} `json:"cases"`
}

// families are the folders of testdata/families (see make_family_cases.py
// there) and what their tokenizer_config.json makes Encode add.
var families = []struct {
	name    string
	prefix  []string // tokens Encode adds before the text
	bos     string   // "" when BOS() is -1
	eos     string
	charLvl bool // SentencePiece-style
}{
	{"neox", nil, "<|endoftext|>", "<|endoftext|>", false},
	{"llama3", []string{"<|begin_of_text|>"}, "<|begin_of_text|>", "<|end_of_text|>", false},
	{"qwen2", nil, "", "<|endoftext|>", false},
	{"llama2", []string{"<s>"}, "<s>", "</s>", true},
	{"gemma", []string{"<s>"}, "<s>", "</s>", true},
	{"gemma2", []string{"<s>"}, "<s>", "</s>", true},
}

func loadFamily(t testing.TB, name string) (*Tokenizer, *familyCases) {
	t.Helper()
	dir := filepath.Join("testdata", "families", name)
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := readGzip(os.DirFS(dir), "cases.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	var fc familyCases
	if err := json.Unmarshal(data, &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Cases) < 200 {
		t.Fatalf("%s: only %d cases", name, len(fc.Cases))
	}
	return tk, &fc
}

// TestFamilies checks every family's ids, with and without special tokens,
// offsets and Decode against Hugging Face.
func TestFamilies(t *testing.T) {
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			tk, fc := loadFamily(t, f.name)
			for _, c := range fc.Cases {
				if got := tk.EncodeWith(c.Text, false); !same(got, c.IDs) {
					t.Errorf("EncodeWith(%q, false) =\n %v, want\n %v", c.Text, got, c.IDs)
				}
				got := tk.Encode(c.Text)
				if !same(got, c.IDsSpecial) {
					t.Errorf("Encode(%q) =\n %v, want\n %v", c.Text, got, c.IDsSpecial)
				}
				ids, offs := tk.EncodeWithOffsets(c.Text)
				if want := charToByteOffsets(c.Text, c.Offsets); !same(ids, c.IDsSpecial) || !same(offs, want) {
					t.Errorf("EncodeWithOffsets(%q) =\n %v %v, want\n %v %v", c.Text, ids, offs, c.IDsSpecial, want)
				}
				dec, err := tk.Decode(c.IDsSpecial)
				if err != nil || dec != c.Decoded {
					t.Errorf("Decode(%v) = %q, %v; want %q", c.IDsSpecial, dec, err, c.Decoded)
				}
			}
			want := func(tok string) int {
				if tok == "" {
					return -1
				}
				id, ok := tk.ID(tok)
				if !ok {
					t.Fatalf("ID(%q) not found", tok)
				}
				return id
			}
			if tk.BOS() != want(f.bos) || tk.EOS() != want(f.eos) {
				t.Errorf("BOS %d EOS %d, want %q %q", tk.BOS(), tk.EOS(), f.bos, f.eos)
			}
			if fc.BOS != nil && tk.BOS() != *fc.BOS || fc.BOS == nil && tk.BOS() != -1 || fc.EOS != nil && tk.EOS() != *fc.EOS {
				t.Errorf("BOS %d EOS %d, transformers says %v %v", tk.BOS(), tk.EOS(), fc.BOS, fc.EOS)
			}
			prefix, suffix := tk.SpecialTokens()
			if got := tk.Tokens(prefix); !same(got, f.prefix) || len(suffix) != 0 {
				t.Errorf("SpecialTokens = %q, %v; want %q, none", got, suffix, f.prefix)
			}
			if ids := tk.EncodeWith("", false); len(ids) != 0 {
				t.Errorf("EncodeWith(\"\", false) = %v", ids)
			}
			if got := tk.Tokens(tk.Encode("")); !same(got, f.prefix) {
				t.Errorf("Encode(\"\") = %q, want %q", got, f.prefix)
			}
		})
	}
}

// TestFamilyRoundTrip checks that Decode inverts Encode (without special
// tokens) for every family on text the vocabularies only partly cover:
// byte-level families exactly, SentencePiece-style ones through byte
// fallback (the Metaspace-only decoder of "gemma" keeps "<0xNN>" as text,
// like Hugging Face's).
func TestFamilyRoundTrip(t *testing.T) {
	texts := []string{
		"Hello world", "  leading and trailing  ", "😀🎉 emoji", "中文字符 日本語 한국어", "tab\there\nnew line\r\n",
		"ǅ Ⅻ ½ ٣ 12345", "'S 'LL it's", "a", "x  y", "\u00a0nbsp\u3000ideographic",
	}
	for _, f := range families {
		if f.name == "gemma" {
			continue
		}
		tk, _ := loadFamily(t, f.name)
		for _, s := range texts {
			ids := tk.EncodeWith(s, false)
			got, err := tk.Decode(ids)
			want := s
			if f.charLvl && f.name != "gemma2" {
				want = strings.TrimPrefix(want, " ") // Strip removes the prepended space, and with it a leading one
				if strings.HasPrefix(s, " ") {
					want = s
				}
			}
			if err != nil || got != want {
				t.Errorf("%s: Decode(EncodeWith(%q)) = %q, %v", f.name, s, got, err)
			}
		}
	}
}

// TestByteFallback checks that characters outside a SentencePiece-style
// vocabulary become their UTF-8 byte tokens, and Token shows them.
func TestByteFallback(t *testing.T) {
	tk, _ := loadFamily(t, "llama2")
	for _, s := range []string{"😀", "中", "\x01"} {
		ids := tk.EncodeWith(s, false)
		// "▁" then one <0xNN> token per byte.
		if len(ids) != 1+len(s) || tk.Token(ids[0]) != " " {
			t.Fatalf("EncodeWith(%q) = %v %q", s, ids, tk.Tokens(ids))
		}
		for i := 0; i < len(s); i++ {
			if form := tk.tokForm[ids[1+i]]; form != "<0x"+hex2(s[i])+">" {
				t.Errorf("EncodeWith(%q)[%d] = %q", s, 1+i, form)
			}
		}
	}
	if id, ok := tk.ID(" "); !ok || tk.tokForm[id] != "▁" {
		t.Errorf("ID(\" \") = %d (%q), want the ▁ piece", id, tk.tokForm[id])
	}
	if got := tk.Token(3 + 0x41); got != "A" {
		t.Errorf("Token(<0x41>) = %q", got)
	}
	if got := tk.Token(3 + 0xF0); got != "\uFFFD" {
		t.Errorf("Token(<0xF0>) = %q", got)
	}
	// An invalid run of byte tokens gives one U+FFFD per byte, as in HF.
	if s, err := tk.Decode([]int{3 + 0xF0, 3 + 0x41}); err != nil || s != "\uFFFD\uFFFD" {
		t.Errorf("Decode(<0xF0><0x41>) = %q, %v", s, err)
	}
}

func hex2(b byte) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[b>>4], digits[b&15]})
}

// TestLlamaPieces checks the Llama 3 and Qwen2 pre-tokenizers on cut points
// the regexes define.
func TestLlamaPieces(t *testing.T) {
	pieces := func(s string, digits int) []string {
		var out []string
		for i := 0; i < len(s); {
			j := nextPieceLlama(s, i, digits)
			out = append(out, s[i:j])
			i = j
		}
		return out
	}
	for _, c := range []struct {
		s      string
		digits int
		want   []string
	}{
		{"'S 'ſ 'LL 'Re", 3, []string{"'S", " '", "ſ", " '", "LL", " '", "Re"}},
		{"abc 12345 \r\n\n  x", 3, []string{"abc", " ", "123", "45", " \r\n\n", " ", " x"}},
		{"abc 12345", 1, []string{"abc", " ", "1", "2", "3", "4", "5"}},
		{"x!!\n\ny", 3, []string{"x", "!!\n\n", "y"}},
		{"\thello  \t.", 3, []string{"\thello", "  ", "\t", "."}},
		{"a   ", 3, []string{"a", "   "}},
		{".hello", 3, []string{".hello"}},
	} {
		if got := pieces(c.s, c.digits); !same(got, c.want) {
			t.Errorf("pieces(%q, %d) = %q, want %q", c.s, c.digits, got, c.want)
		}
	}
}

// TestSpecialsConfig checks tokenizer_config.json's add_bos_token and
// add_eos_token overriding the post-processor, and bad configs.
func TestSpecialsConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "families", "llama2", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		config       string
		prefix, suff []int
		bos, eos     int
		err          string
	}{
		{``, []int{1}, nil, 1, -1, ""}, // no config: the template's <s>
		{`{"add_bos_token": false, "add_eos_token": true, "eos_token": "</s>"}`, nil, []int{2}, 1, 2, ""},
		{`{"add_bos_token": true, "bos_token": {"content": "</s>"}}`, []int{2}, nil, 2, -1, ""},
		{`{"bos_token": null, "eos_token": "nope"}`, []int{1}, nil, -1, -1, ""},
		{`{"add_bos_token": true, "bos_token": null}`, nil, nil, 0, 0, "add_bos_token is true but bos_token null"},
		{`{"bos_token": 5}`, nil, nil, 0, 0, "bos_token: want a string"},
		{`[`, nil, nil, 0, 0, "tokenizer_config.json"},
	} {
		var cfg []byte
		if c.config != "" {
			cfg = []byte(c.config)
		}
		tk, err := fromTokenizerFiles(data, cfg)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("config %s: error %v, want %q", c.config, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("config %s: %v", c.config, err)
			continue
		}
		p, s := tk.SpecialTokens()
		if !same(p, c.prefix) || !same(s, c.suff) || tk.BOS() != c.bos || tk.EOS() != c.eos {
			t.Errorf("config %s: prefix %v suffix %v BOS %d EOS %d, want %v %v %d %d", c.config, p, s, tk.BOS(), tk.EOS(), c.prefix, c.suff, c.bos, c.eos)
		}
		if ids := tk.Encode("Hi"); !same(ids[:len(c.prefix)], c.prefix) || !same(ids[len(ids)-len(c.suff):], c.suff) {
			t.Errorf("config %s: Encode(\"Hi\") = %v", c.config, ids)
		}
	}
	if tk := GPT2(); tk.BOS() != 50256 || tk.EOS() != 50256 {
		t.Errorf("GPT-2 BOS %d EOS %d", tk.BOS(), tk.EOS())
	}
}

// TestComponentErrors checks that unsupported components are refused with
// an error naming the component, its type and the supported ones.
func TestComponentErrors(t *testing.T) {
	const model = `"model":{"type":"BPE","vocab":{"a":0,"▁":1},"merges":[]}`
	for _, c := range []struct{ json, want string }{
		{`{"normalizer":{"type":"Lowercase"},` + model + `}`, "normalizer Lowercase (type \"Lowercase\") is not supported; supported: NFC"},
		{`{"normalizer":{"type":"Replace","pattern":{"Regex":" +"},"content":"▁"},` + model + `}`, `Regex pattern " +" is not supported`},
		{`{"pre_tokenizer":{"type":"Whitespace"},` + model + `}`, `pre_tokenizer {"type":"Whitespace"} is not supported; supported: ByteLevel`},
		{`{"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\d+"},"behavior":"Isolated"},{"type":"ByteLevel","use_regex":false}]},` + model + `}`,
			`pre_tokenizer Split pattern "\\d+" is not supported; supported: the Llama 3 pattern`},
		{`{"pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"sometimes"},` + model + `}`, `prepend_scheme "sometimes"`},
		{`{"decoder":{"type":"WordPiece"},` + model + `}`, "decoder WordPiece (type \"WordPiece\") is not supported; supported: ByteLevel"},
		{`{"post_processor":{"type":"Mystery"},` + model + `}`, "post_processor Mystery (type \"Mystery\") is not supported; supported: ByteLevel"},
		{`{"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>"}},{"Sequence":{"id":"A"}}],"special_tokens":{}},` + model + `}`, `special token "<s>" not in special_tokens`},
		{`{"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>"}},{"Sequence":{"id":"A"}}],"special_tokens":{"<s>":{"id":"<s>","ids":[7]}}},` + model + `}`, "special token id 7 is not in the vocabulary"},
		{`{"model":{"type":"Unigram","vocab":{"a":0}}}`, `model type "Unigram" is not BPE`},
	} {
		_, err := fromTokenizerJSON([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n error %v\n want %q", c.json, err, c.want)
		}
	}
}

// TestFamilyTokenIDs checks Token/ID round trips on every family.
func TestFamilyTokenIDs(t *testing.T) {
	for _, f := range families {
		tk, _ := loadFamily(t, f.name)
		for id := 0; id < tk.VocabSize(); id++ {
			if _, isByte := byteToken(tk.tokForm[id]); isByte || !utf8.Valid(tk.tokBytes[id]) {
				continue
			}
			if got, ok := tk.ID(tk.Token(id)); !ok || tk.Token(got) != tk.Token(id) {
				t.Fatalf("%s: ID(Token(%d)=%q) = %d, %v", f.name, id, tk.Token(id), got, ok)
			}
		}
	}
}

// BenchmarkEncodeFamilies measures Encode on ~100 KB of English prose for
// each family's small fixture tokenizer. The SentencePiece-style fixtures
// (trained without cutting at spaces) have tokens across "▁", so each
// input is one 100 KB word there; llama2-words is the fast path real
// Llama 2 / Mistral vocabularies take.
func BenchmarkEncodeFamilies(b *testing.B) {
	f := loadFixtures(b)
	english := f.Cases[len(f.Cases)-1].Text
	s := strings.Repeat(english, 100_000/len(english))
	run := func(name string, tk *Tokenizer) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				tk.Encode(s)
			}
		})
	}
	for _, fam := range families {
		tk, _ := loadFamily(b, fam.name)
		run(fam.name, tk)
	}
	// A vocabulary without tokens across "▁" (like Llama 2's): words cut.
	tk, err := fromTokenizerJSON(spaceRunsJSON(b))
	if err != nil {
		b.Fatal(err)
	}
	run("llama2-words", tk)
}

// spaceRunsJSON returns the llama2 fixture's tokenizer.json without the
// vocabulary tokens (and merges) that hold "▁" after another character, so
// that inputs are cut into words before each "▁" run.
func spaceRunsJSON(t testing.TB) []byte {
	data, err := os.ReadFile(filepath.Join("testdata", "families", "llama2", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	model := doc["model"].(map[string]any)
	vocab := model["vocab"].(map[string]any)
	crosses := func(tok string) bool {
		i := strings.Index(strings.TrimLeft(tok, "▁"), "▁")
		return i > 0
	}
	for tok := range vocab {
		if crosses(tok) {
			delete(vocab, tok)
		}
	}
	var merges []any
	for _, m := range model["merges"].([]any) {
		pair := m.([]any)
		a, b := pair[0].(string), pair[1].(string)
		_, okA := vocab[a]
		_, okB := vocab[b]
		if _, ok := vocab[a+b]; ok && okA && okB {
			merges = append(merges, m)
		}
	}
	model["merges"] = merges
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	return data
}

// TestSpaceRuns checks that cutting a SentencePiece-style input into words
// before each "▁" run (done when no vocabulary token has "▁" after another
// character, as in Llama 2's) gives the ids and offsets of BPE on the whole
// input. The fixture vocabulary has such tokens, so they are taken out.
func TestSpaceRuns(t *testing.T) {
	data := spaceRunsJSON(t)
	cut, err := fromTokenizerJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := fromTokenizerJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	if cut.pretok != preSpaceRuns {
		t.Fatalf("pre-tokenizer %d, want preSpaceRuns", cut.pretok)
	}
	whole.pretok = preNone
	_, fc := loadFamily(t, "llama2")
	n := 0
	for _, c := range fc.Cases {
		for _, s := range []string{c.Text, "  " + c.Text + "   x  ", strings.ReplaceAll(c.Text, " ", "   ")} {
			ids, offs := cut.EncodeWithOffsets(s)
			wids, woffs := whole.EncodeWithOffsets(s)
			if !same(ids, wids) || !same(offs, woffs) {
				t.Errorf("EncodeWithOffsets(%q) cut into words =\n %v %v, whole =\n %v %v", s, ids, offs, wids, woffs)
			}
			n += len(ids)
		}
	}
	if n < 10000 {
		t.Errorf("only %d tokens compared", n)
	}
}

// TestLoadConfigFiles checks that Load reads tokenizer_config.json next to
// tokenizer.json, that LoadTokenizerJSON takes it explicitly, and that a
// bad one is refused with an error naming it.
func TestLoadConfigFiles(t *testing.T) {
	src := filepath.Join("testdata", "families", "llama2")
	data, err := os.ReadFile(filepath.Join(src, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := LoadTokenizerJSON(filepath.Join(src, "tokenizer.json"), filepath.Join(src, "tokenizer_config.json"))
	if err != nil || tk.BOS() != 1 || tk.EOS() != 2 {
		t.Fatalf("LoadTokenizerJSON: %v", err)
	}
	if tk, err := LoadTokenizerJSON(filepath.Join(src, "tokenizer.json"), ""); err != nil || tk.EOS() != -1 {
		t.Errorf("LoadTokenizerJSON without config: EOS %d, %v; want -1 (the template adds none)", tk.EOS(), err)
	}
	for _, c := range []struct {
		name  string
		setup func(dir string) error
		want  []string
	}{
		{"config is a directory", func(dir string) error { return os.Mkdir(filepath.Join(dir, "tokenizer_config.json"), 0o755) },
			[]string{"tokenizer_config.json", "directory"}},
		{"config is not JSON", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte("{"), 0o644)
		}, []string{"tokenizer_config.json", "unexpected end"}},
		{"config adds a missing EOS", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"add_eos_token":true,"eos_token":"<nope>"}`), 0o644)
		}, []string{"tokenizer_config.json", "add_eos_token is true but eos_token \"<nope>\""}},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := c.setup(dir); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v, want mention of %q", c.name, err, w)
			}
		}
	}
}

// TestFamilyAddedTokens checks added tokens matched on normalized text
// (with lstrip/rstrip), a single_word one on raw text, and an added token
// whose content is in the model's vocabulary, against Hugging Face (see
// added_variant in make_family_cases.py).
func TestFamilyAddedTokens(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "families", "added_variants.json"))
	if err != nil {
		t.Fatal(err)
	}
	var variants map[string]struct {
		Extra []map[string]any `json:"extra"`
		Cases []struct {
			Text string `json:"text"`
			IDs  []int  `json:"ids"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &variants); err != nil {
		t.Fatal(err)
	}
	if len(variants) != len(families) {
		t.Fatalf("%d variants, want %d", len(variants), len(families))
	}
	for name, v := range variants {
		data, err := os.ReadFile(filepath.Join("testdata", "families", name, "tokenizer.json"))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		added := doc["added_tokens"].([]any)
		for _, a := range added {
			a.(map[string]any)["normalized"] = true
		}
		for _, e := range v.Extra {
			added = append(added, e)
		}
		doc["added_tokens"] = added
		if data, err = json.Marshal(doc); err != nil {
			t.Fatal(err)
		}
		tk, err := fromTokenizerJSON(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range v.Cases {
			if got := tk.EncodeWith(c.Text, false); !same(got, c.IDs) {
				t.Errorf("%s: EncodeWith(%q, false) = %v, want %v", name, c.Text, got, c.IDs)
			}
		}
	}
}
