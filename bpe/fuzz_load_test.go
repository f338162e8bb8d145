package bpe

import (
	"encoding/json"
	"testing"
)

// jsonEscape returns s as the inside of a JSON string.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// minimalTokenizerJSON is the smallest tokenizer.json Load accepts.
const minimalTokenizerJSON = `{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"pre_tokenizer":{"type":"ByteLevel"}}`

// familySeeds are small tokenizer.json files of the shapes of the other
// families (see testdata/families): NeoX, Llama 3, Qwen2, Llama 2, Mistral
// v0.3 and older Metaspace, and a Replace normalizer with a
// RobertaProcessing template.
var familySeeds = []string{
	`{"normalizer":{"type":"NFC"},"model":{"vocab":{"a":0,"b":1,"ab":2,"Ġ":3},"merges":["a b"]},"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}}`,
	`{"added_tokens":[{"id":4,"content":"<|begin_of_text|>","special":true}],"model":{"vocab":{"a":0,"b":1,"ab":2,"Ġ":3},"merges":[["a","b"]],"ignore_merges":true},"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"` + jsonEscape(llama3Pattern) + `"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]},"post_processor":{"type":"Sequence","processors":[{"type":"ByteLevel","trim_offsets":false},{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<|begin_of_text|>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"special_tokens":{"<|begin_of_text|>":{"id":"<|begin_of_text|>","ids":[4],"tokens":["<|begin_of_text|>"]}}}]},"decoder":{"type":"ByteLevel"}}`,
	`{"normalizer":{"type":"NFC"},"model":{"vocab":{"a":0,"1":1,"Ġ":2}},"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"` + jsonEscape(qwen2Pattern) + `"},"behavior":"Isolated"},{"type":"ByteLevel","use_regex":false}]}}`,
	`{"added_tokens":[{"id":0,"content":"<unk>","special":true},{"id":1,"content":"<s>","special":true}],"normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]},"model":{"type":"BPE","vocab":{"<unk>":0,"<s>":1,"<0xF0>":2,"<0x9F>":3,"▁":4,"a":5,"▁a":6},"merges":["▁ a"],"unk_token":"<unk>","byte_fallback":true,"fuse_unk":true},"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}},"decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}}`,
	`{"model":{"type":"BPE","vocab":{"<unk>":0,"<0x61>":1,"▁":2,"b":3,"▁b":4},"merges":[["▁","b"]],"unk_token":"<unk>","byte_fallback":true},"pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false},"decoder":{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false}}`,
	`{"model":{"vocab":{"▁":0,"x":1}},"pre_tokenizer":{"type":"Metaspace","replacement":"▁","add_prefix_space":true}}`,
	`{"normalizer":{"type":"Replace","pattern":{"String":" "},"content":""},"model":{"vocab":{"a":0,"<0x20>":1},"byte_fallback":true},"post_processor":{"type":"RobertaProcessing","sep":["a",0],"cls":["<0x20>",1]}}`,
}

// FuzzTokenizerJSON feeds arbitrary tokenizer.json content to the parser
// Load uses. It must never panic or accept an id above MaxTokenID; a
// tokenizer it accepts must encode and decode a few texts without
// panicking, every id it produces being in range and decodable.
func FuzzTokenizerJSON(f *testing.F) {
	for _, s := range []string{
		minimalTokenizerJSON,
		`{"model":{"vocab":{"a":0}},"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":true}}`,
		`{"added_tokens":[{"id":3,"content":"<x>","lstrip":true,"rstrip":true,"single_word":true}],"model":{"vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]],"unk_token":"a"},"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"ByteLevel"}]},"decoder":{"type":"ByteLevel"},"post_processor":{"type":"ByteLevel","trim_offsets":false}}`,
		`{"added_tokens":[{"id":1099511627776,"content":"<x>"}],"model":{"vocab":{"a":0}},"pre_tokenizer":{"type":"ByteLevel"}}`,
		`{"model":{"vocab":{"a":-1}},"pre_tokenizer":{"type":"ByteLevel"}}`,
		`{"model":{"vocab":{"a":0,"aa":1},"merges":["a a","a a"],"ignore_merges":true},"pre_tokenizer":{"type":"ByteLevel"}}`,
		`{"added_tokens":[{"id":0,"content":"a","normalized":true}],"model":{"vocab":{"a":0}},"pre_tokenizer":{"type":"ByteLevel"}}`,
		`{"model":{"type":"WordPiece"}}`, `null`, `[]`, ``, `{"model":{"vocab":{"a":0},"merges":[1]}}`,
	} {
		f.Add([]byte(s))
	}
	for _, s := range familySeeds {
		f.Add([]byte(s))
	}
	texts := []string{"", "a", "ab ab", "<x> a<x>b", " \n\t", "日本 😀", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"<s>a </s>", " ▁a\u00a0e\u0301 'S 12345\r\n\n  x", "\xff\xfe a"}
	f.Fuzz(func(t *testing.T, data []byte) {
		tk, err := fromTokenizerJSON(data)
		if err != nil {
			return
		}
		if n := tk.VocabSize(); n < 1 || n > MaxTokenID+1 {
			t.Fatalf("accepted a vocabulary of %d ids", n)
		}
		for _, s := range texts {
			ids, offs := tk.EncodeWithOffsets(s)
			if len(offs) != len(ids) {
				t.Fatalf("%d ids, %d offsets", len(ids), len(offs))
			}
			for _, id := range ids {
				if id < 0 || id >= tk.VocabSize() {
					t.Fatalf("Encode(%q) gave id %d outside [0, %d)", s, id, tk.VocabSize())
				}
			}
			if _, err := tk.Decode(ids); err != nil {
				t.Fatalf("Decode(Encode(%q)): %v", s, err)
			}
			_ = tk.Tokens(ids)
		}
	})
}

// FuzzVocabMerges feeds arbitrary vocab.json and merges.txt content to the
// parser LoadFiles uses, with the same checks as FuzzTokenizerJSON.
func FuzzVocabMerges(f *testing.F) {
	f.Add([]byte(`{"a":0,"b":1,"ab":2,"<|endoftext|>":3}`), []byte("#version: 0.2\na b\n"))
	f.Add([]byte(`{"a":2097151}`), []byte(""))
	f.Add([]byte(`{"a":2097152}`), []byte(""))
	f.Add([]byte(`{"\u0120":0,"a":1,"\u0120a":2}`), []byte("\u0120 a\r\n\n"))
	f.Add([]byte(`{"a":0}`), []byte("a b c\n"))
	f.Add([]byte(`[]`), []byte("\x00\xff"))
	f.Fuzz(func(t *testing.T, vocab, merges []byte) {
		tk, err := fromVocabMerges(vocab, merges)
		if err != nil {
			return
		}
		if n := tk.VocabSize(); n < 1 || n > MaxTokenID+1 {
			t.Fatalf("accepted a vocabulary of %d ids", n)
		}
		for _, s := range []string{"", "ab a b", " a<|endoftext|>b", "\xff\xfe"} {
			for _, id := range tk.Encode(s) {
				if id < 0 || id >= tk.VocabSize() {
					t.Fatalf("Encode(%q) gave id %d", s, id)
				}
			}
		}
	})
}

// TestFamilySeeds checks that every family seed loads and encodes "a b"
// into ids in range, so the fuzzer starts from accepted shapes.
func TestFamilySeeds(t *testing.T) {
	for _, s := range familySeeds {
		tk, err := fromTokenizerJSON([]byte(s))
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		ids := tk.Encode("a b")
		if len(ids) == 0 {
			t.Errorf("%s: Encode(\"a b\") is empty", s)
		}
		for _, id := range ids {
			if id < 0 || id >= tk.VocabSize() {
				t.Errorf("%s: id %d out of range", s, id)
			}
		}
	}
}
