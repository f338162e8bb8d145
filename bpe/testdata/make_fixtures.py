#!/usr/bin/env python3
"""Writes hf_tokens.json: what Hugging Face's GPT-2 tokenizer does with a set
of hard strings, the oracle for the Go tests of package bpe.

Set up the oracle venv once (no torch needed):

    python3 -m venv oracle/.venv-tok
    oracle/.venv-tok/bin/pip install 'transformers>=5,<6' tokenizers

then, from the repository root:

    oracle/.venv-tok/bin/python bpe/testdata/make_fixtures.py

The tokenizer is built from the very files the Go package embeds
(bpe/gpt2/vocab.json.gz, merges.txt.gz), decompressed to a temporary folder
and loaded with GPT2TokenizerFast.from_pretrained. (In transformers 5,
GPT2TokenizerFast(vocab_file=..., merges_file=...) silently ignores the
file arguments, so from_pretrained on a folder is used instead.)
"""
import gzip
import json
import os
import shutil
import tempfile

import tokenizers
import transformers
from tokenizers import Tokenizer, decoders, pre_tokenizers, processors
from tokenizers.models import BPE
from transformers import GPT2TokenizerFast

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "gpt2")

LONG_PARAGRAPH = (
    "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. "
    "It is named after the engineer Gustave Eiffel, whose company designed and built the tower "
    "from 1887 to 1889.\n\nLocally nicknamed \"La dame de fer\" (French for \"Iron Lady\"), it was "
    "constructed as the centerpiece of the 1889 World's Fair, and to crown the centennial "
    "anniversary of the French Revolution. Although initially criticised by some of France's "
    "leading artists and intellectuals for its design, it has since become a global cultural "
    "icon of France and one of the most recognisable structures in the world. The tower "
    "received 5,889,000 visitors in 2022; it's 330 m (1,083 ft) tall - about the same height "
    "as an 81-storey building.   It was the tallest man-made structure in the world until "
    "the Chrysler Building in New York City was finished in 1930.\n"
)

TEXTS = [
    "",
    " ",
    "The Eiffel Tower is in the city of",
    "Hello world",
    " Hello world",
    "hello   world",
    "trailing spaces   ",
    "   leading spaces",
    "\tindented\twith\ttabs\t",
    "line one\r\nline two\r\n",
    "a\n\nb\n\n\nc",
    "\n",
    "\n\n\n",
    " \n \n ",
    "x  \n  y",
    "\t \t\n  \n\tz",
    "end with newline\n",
    "I'm sure we're fine, they've said he'd go and it'll work; don't won't can't",
    "IT'S HE'LL I'M WE'RE THEY'VE HE'D DON'T 'S 'T 'Re 'rE",
    "rock'n'roll ''quoted'' '''triple''' 's 'd's",
    "'s at start",
    "numbers 1,234,567.89 and 3.14159 and -42 and 1e10 and 007",
    "2024-01-02T03:04:05Z",
    "½ ⅓ ²³ Ⅻ ٣٤٥ ① ４２",
    "!!!???... --- $$$%%% <<>> ((()))",
    "def f(x):\n    return x**2  # square\n\n\nprint(f(3))\n",
    "https://example.com/path?q=1&r=two#frag user@example.org",
    "Ünïcödé façade naïve café résumé",
    "e\u0301 a\u0308 n\u0303 (combining marks)",
    "Привет, мир! Как дела?",
    "Γειά σου Κόσμε",
    "שלום עולם",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "สวัสดีชาวโลก",
    "안녕하세요 세계",
    "こんにちは世界、カタカナ。",
    "你好，世界！这是一个没有空格的很长的中文句子用来测试非常长的单词的字节对编码是否正确无误。",
    "😀 😃😄 🙈🙉🙊",
    "👨\u200d👩\u200d👧\u200d👦 family",
    "flags 🇫🇷🇺🇸🇯🇵",
    "👍🏽 👋🏿 1️⃣ #️⃣ ❤️",
    "zero\u200bwidth\u200cjoin\u200dx\ufeffbom",
    "nbsp\u00a0here\u00a0\u00a0two",
    "ideographic\u3000space and\u2003em\u2028line\u2029para\u0085nel",
    "ctrl \x00\x01\x07\x7f del",
    "seps \x1c\x1d\x1e\x1f x",
    "<|endoftext|>",
    "<|endoftext|>Hello",
    "Hello<|endoftext|>",
    "Hello <|endoftext|> world",
    "a<|endoftext|><|endoftext|>b",
    " <|endoftext|> ",
    "<|endoftext|\n<|ENDOFTEXT|> <|endoftext>",
    "a" * 300,
    "Supercalifragilisticexpialidocious antidisestablishmentarianism",
    "ThisIsCamelCase snake_case_name kebab-case-name SCREAMING_CASE",
    "\u1c89\u1c8a \U000105c0\U000105c1 \U00010d40\U00010d41 \U00011380x \U00016d40",
    "mixed 123abc abc123 ١٢٣abc",
    "tab\t\t\tnewline\n\n\ttab",
    "   ",
    "\r\n\r\n",
    "emoji at end 🎉",
    "x" + " " * 20 + "y",
    "Ⓐⓑⓒ 𝕳𝖊𝖑𝖑𝖔 𝓦𝓸𝓻𝓵𝓭",
    LONG_PARAGRAPH,
]

# Texts for the variant with add_prefix_space and trimmed offsets.
PREFIX_TEXTS = [
    "",
    "Hello world",
    " Hello world",
    "\nnewline first",
    "a<|endoftext|>b",
    "<|endoftext|> x",
    "  two spaces  ",
    "😀 emoji first",
    "é",
]


def byte_tokens(tok, bs):
    """ids of the single-byte tokens for the bytes bs."""
    b2u = bytes_to_unicode()
    return [tok.convert_tokens_to_ids(b2u[b]) for b in bs]


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def main():
    tmp = tempfile.mkdtemp()
    try:
        for src, dst in (("vocab.json.gz", "vocab.json"), ("merges.txt.gz", "merges.txt")):
            with gzip.open(os.path.join(DATA, src), "rb") as f, open(os.path.join(tmp, dst), "wb") as g:
                shutil.copyfileobj(f, g)
        tok = GPT2TokenizerFast.from_pretrained(tmp)
        with open(os.path.join(tmp, "vocab.json"), encoding="utf-8") as f:
            vocab = json.load(f)
        with open(os.path.join(tmp, "merges.txt"), encoding="utf-8") as f:
            merges = [tuple(l.split(" ")) for l in f.read().split("\n")[1:] if l]
    finally:
        shutil.rmtree(tmp)
    assert len(tok) == 50257, len(tok)

    pretok = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    cases = []
    for text in TEXTS:
        enc = tok(text, return_offsets_mapping=True)
        ids = enc["input_ids"]
        cases.append({
            "text": text,
            # the GPT-2 regex pieces (no special-token splitting here)
            "pieces_regex": [text[a:b] for _, (a, b) in pretok.pre_tokenize_str(text)],
            "ids": ids,
            "tokens": tok.convert_ids_to_tokens(ids),
            "pieces": [tok.decode([i]) for i in ids],
            "offsets": [list(o) for o in enc["offset_mapping"]],
            "decoded": tok.decode(ids),
        })

    decode_ids = [
        [],
        [464, 412, 733, 417, 8765],
        [447, 3],
        [12520],
        [12520, 12520],
        [12520, 246, 222],
        [50256],
        [220, 50256, 220],
        byte_tokens(tok, b"\xe2\x82"),  # truncated 3-byte sequence
        byte_tokens(tok, b"\xff\xfe A"),
        byte_tokens(tok, b"\xc0\x80"),  # overlong
        byte_tokens(tok, b"\xed\xa0\x80"),  # UTF-16 surrogate
        byte_tokens(tok, b"\xf4\x90\x80\x80"),  # above U+10FFFF
        byte_tokens(tok, b"\xf0\x9f\x98"),  # truncated emoji
        byte_tokens(tok, b"a\x80b\xe2\x82\xacc"),
    ]
    decodes = [{"ids": ids, "text": tok.decode(ids), "backend": tok.backend_tokenizer.decode(ids)} for ids in decode_ids]

    # Variant: the same BPE with add_prefix_space=True and a ByteLevel
    # post-processor that trims offsets, as tokenizer.json sections.
    pre = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    post = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    var = Tokenizer(BPE(vocab=vocab, merges=merges, dropout=None, continuing_subword_prefix="", end_of_word_suffix="", fuse_unk=False))
    var.add_special_tokens([tokenizers.AddedToken("<|endoftext|>", special=True, normalized=False)])
    var.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    var.post_processor = processors.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    var.decoder = decoders.ByteLevel()
    vcases = []
    for text in PREFIX_TEXTS:
        enc = var.encode(text)
        vcases.append({"text": text, "ids": enc.ids, "tokens": enc.tokens, "offsets": [list(o) for o in enc.offsets]})

    out = {
        "generator": f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}",
        "cases": cases,
        "decodes": decodes,
        "prefix_variant": {"pre_tokenizer": pre, "post_processor": post, "cases": vcases},
    }
    with open(os.path.join(HERE, "hf_tokens.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=True, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases, {len(decodes)} decodes, {len(vcases)} prefix-variant cases")


if __name__ == "__main__":
    main()
