package bpe

import "testing"

// minimalTokenizerJSON is the smallest tokenizer.json Load accepts.
const minimalTokenizerJSON = `{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"pre_tokenizer":{"type":"ByteLevel"}}`

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
	texts := []string{"", "a", "ab ab", "<x> a<x>b", " \n\t", "日本 😀", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}
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
