// Package bpe is an exact, pure-Go BPE tokenizer for the tokenizer.json
// files of GPT-2, GPT-NeoX (Pythia), Llama 2 and 3, Mistral, Qwen2 and
// Gemma.
//
// It reproduces Hugging Face tokenizers id for id (and GPT2TokenizerFast,
// and with it the ids of OpenAI's original GPT-2 encoder on ordinary
// text), including:
//
//   - the pre-tokenization regexes of GPT-2
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//     and of Llama 3 and Qwen2 (pretok_llama.go), implemented as
//     hand-written scanners (Go's regexp has no lookahead), with Unicode
//     letter/number/space classes patched to the Unicode version Hugging
//     Face tokenizers uses (see unicode_extra.go);
//   - the byte-to-unicode table of byte-level BPE, merge ranks and Hugging
//     Face's merge order (priority queue on rank, then position);
//   - SentencePiece-style BPE (Llama 2, Mistral, Gemma): the Prepend,
//     Replace and NFC normalizers, the Metaspace pre-tokenizer, byte
//     fallback to "<0xNN>" tokens, fuse_unk, and the decoder chain;
//   - added/special tokens such as <|endoftext|> split out of the text, and
//     the BOS/EOS the post-processor or tokenizer_config.json adds (Encode
//     adds them as tokenizer(text) does; EncodeWith can leave them out);
//   - decoding with U+FFFD for ill-formed UTF-8, like errors="replace".
//
// GPT2 returns the GPT-2 tokenizer from data embedded in the package (no
// file needed); Load, LoadTokenizerJSON and LoadFiles read a checkpoint's
// tokenizer.json (+ tokenizer_config.json) or vocab.json + merges.txt. A
// Tokenizer is immutable and safe for concurrent use; it keeps a bounded
// per-word cache internally.
//
// The tests compare against fixtures made by the real Hugging Face
// tokenizer (testdata/make_fixtures.py writes testdata/hf_tokens.json,
// testdata/families/make_family_cases.py the other families' cases;
// testdata/make_unicode_table.py regenerates unicode_extra.go). With
// -tags hftokenizers (see hf_tokenizers.go and
// testdata/build_hftokenizers.sh) they also compare GPT-2, on random
// strings and under fuzzing, with Hugging Face's Rust library linked
// through cgo.
package bpe
