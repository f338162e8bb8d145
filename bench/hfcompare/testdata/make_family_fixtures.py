"""Writes the tokenizer.json files and reference ids hfcompare checks for
non-GPT-2 families. Each tokenizer is a small BPE (2,000 tokens) trained on
the repository's Markdown files, with the normalizer, pre-tokenizer, model
flags and decoder of the family's published tokenizer.json:

  neox    GPT-NeoX / Pythia: NFC, ByteLevel(use_regex) pre-tokenizer
  llama3  Llama 3: Split(Llama 3 regex, isolated) + ByteLevel(no regex), ignore_merges
  qwen2   Qwen2: NFC, Split(Qwen2 regex, isolated) + ByteLevel(no regex)
  llama2  Llama 2 / Mistral v0.1: Prepend+Replace normalizer, byte_fallback, fuse_unk
  gemma   Gemma / Mistral v0.3: Metaspace(prepend_scheme first, split false), byte_fallback

The ids are those of Hugging Face tokenizers (the Rust library) with
add_special_tokens=False, on the texts of bpe/testdata/hf_tokens.json.

    python3 -m venv /tmp/tokvenv && /tmp/tokvenv/bin/pip install tokenizers
    /tmp/tokvenv/bin/python bench/hfcompare/testdata/make_family_fixtures.py
"""
import glob
import json
import os

import tokenizers
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", "..", ".."))

LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"


def corpus():
    out = []
    for p in sorted(glob.glob(os.path.join(root, "**", "*.md"), recursive=True)):
        if "/.venv" in p or "/node_modules/" in p:
            continue
        with open(p, encoding="utf-8", errors="replace") as f:
            out.extend(line for line in f.read().split("\n\n") if line.strip())
    return out


def byte_level(split_regex, nfc, ignore_merges):
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    if nfc:
        tok.normalizer = normalizers.NFC()
    if split_regex is None:
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    else:
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(split_regex), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=2000, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus(), trainer)
    return tok


def byte_fallback(metaspace):
    """A SentencePiece-style BPE: <unk>, <s>, </s>, the 256 <0xXX> byte
    tokens, then the trained pieces (limited alphabet, so rare characters
    fall back to bytes)."""
    base = Tokenizer(models.BPE(unk_token="<unk>"))
    if metaspace:
        base.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=False)
    else:
        base.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
    trainer = trainers.BpeTrainer(vocab_size=1700, special_tokens=["<unk>", "<s>", "</s>"], limit_alphabet=120,
                                  show_progress=False)
    base.train_from_iterator(corpus(), trainer)
    trained = json.loads(base.to_str())["model"]
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    for piece, _ in sorted(trained["vocab"].items(), key=lambda kv: kv[1]):
        if piece not in vocab:
            vocab[piece] = len(vocab)
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in trained["merges"]]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.add_special_tokens(["<unk>", "<s>", "</s>"])
    if metaspace:
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=False)
        tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="first", split=False)
    else:
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
        tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                         decoders.Strip(" ", 1, 0)])
    return tok


def main():
    with open(os.path.join(root, "bpe", "testdata", "hf_tokens.json"), encoding="utf-8") as f:
        texts = [c["text"] for c in json.load(f)["cases"]]
    families = {
        "neox": lambda: byte_level(None, True, False),
        "llama3": lambda: byte_level(LLAMA3, False, True),
        "qwen2": lambda: byte_level(QWEN2, True, False),
        "llama2": lambda: byte_fallback(False),
        "gemma": lambda: byte_fallback(True),
    }
    for name, make in families.items():
        tok = make()
        tok.save(os.path.join(here, name + ".tokenizer.json"))
        cases = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in texts]
        with open(os.path.join(here, name + ".cases.json"), "w", encoding="utf-8") as f:
            json.dump({"generator": "tokenizers " + tokenizers.__version__, "cases": cases}, f, ensure_ascii=False, indent=0)
        print(name, "vocab", tok.get_vocab_size(), "cases", len(cases))


if __name__ == "__main__":
    main()
