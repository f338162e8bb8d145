// Package bpe is an exact, pure-Go GPT-2 byte-level BPE tokenizer.
//
// It reproduces Hugging Face's GPT2TokenizerFast (tokenizers' BPE model
// with the ByteLevel pre-tokenizer and decoder) id for id, and with it the
// ids of OpenAI's original GPT-2 encoder on ordinary text, including:
//
//   - the GPT-2 pre-tokenization regex
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//     implemented as a hand-written scanner (Go's regexp has no lookahead),
//     with Unicode letter/number/space classes patched to the Unicode
//     version Hugging Face tokenizers uses (see unicode_extra.go);
//   - the byte-to-unicode table, merge ranks and Hugging Face's
//     merge order (priority queue on rank, then position);
//   - added/special tokens such as <|endoftext|> split out of the text;
//   - decoding with U+FFFD for ill-formed UTF-8, like errors="replace".
//
// GPT2 returns the GPT-2 tokenizer from data embedded in the package (no
// file needed); Load and LoadFiles read a checkpoint's tokenizer.json or
// vocab.json + merges.txt. A Tokenizer is immutable and safe for concurrent
// use; it keeps a bounded per-word cache internally.
//
// The tests compare against fixtures made by the real Hugging Face
// tokenizer (testdata/make_fixtures.py writes testdata/hf_tokens.json;
// testdata/make_unicode_table.py regenerates unicode_extra.go). With
// -tags hftokenizers (see hf_tokenizers.go and
// testdata/build_hftokenizers.sh) they also compare, on random strings and
// under fuzzing, with Hugging Face's Rust library linked through cgo.
package bpe
