"""Writes bpe/testdata/families/: one folder per tokenizer family with
tokenizer.json (compact), tokenizer_config.json and cases.json, from the small
trained tokenizers of bench/hfcompare/testdata (make_family_fixtures.py there).

Each family gets the post-processor and tokenizer_config.json of its real
model (BOS as the model adds it):

  neox    GPT-NeoX / Pythia: add_bos_token false, no template
  llama3  Llama 3: <|begin_of_text|> added by a TemplateProcessing post-processor
  qwen2   Qwen2: bos_token null, ByteLevel post-processor (nothing added)
  llama2  Llama 2 / Mistral v0.1: add_bos_token true, TemplateProcessing "<s> $A"
  gemma   Mistral v0.3 shape (Metaspace prepend_scheme first): add_bos_token true, TemplateProcessing "<s> $A"
  gemma2  Gemma 2 shape (llama2's vocab; Replace normalizer, no pre-tokenizer,
          decoder Replace+ByteFallback+Fuse): add_bos_token true, TemplateProcessing "<s> $A"

transformers 5 takes BOS/EOS from the post-processor when tokenizer.json exists
(it drops add_bos_token/add_eos_token then); every folder here has both agree.

cases.json.gz: for every text, "ids" (tokenizers 0.23.3, add_special_tokens=False),
"ids_special" (transformers AutoTokenizer(text)["input_ids"], the default
add_special_tokens=True, with the folder's tokenizer_config.json) and
"decoded" (tokenizers decode(ids_special, skip_special_tokens=False)) and
"offsets" (tokenizers' character offsets of ids_special).

added_variants.json: per family, added tokens to append (the existing ones
made normalized) and the ids tokenizers gives then.

    /work/main/oracle/.venv/bin/python bpe/testdata/families/make_family_cases.py
"""
import gzip
import io
import json
import os
import random

import tokenizers
import transformers
from tokenizers import Tokenizer, decoders, normalizers, processors

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", "..", ".."))
src = os.path.join(root, "bench", "hfcompare", "testdata")

EXTRA = [
    "<s>Hello</s>", "Hello <s> world</s>", "<|endoftext|>x<|endoftext|>", "<|begin_of_text|>hi",
    "😀🎉 中文字符 日本語", "ǅ Ⅻ ½ ٣ 1234567", "x", "  ", "\n", "e\u0301 caf\u00e9 Å", "'S 'LL 'Re 'ſ",
    "a\u00a0b\u3000c\u2028d", " \r\n\n  x", "<unk>", "▁Hello ▁", "<0x41>",
]

# Random strings over a tricky alphabet (seeded), for the pre-tokenizers' and
# normalizers' corner cases.
ALPHABET = ["a", "Z", "é", "e\u0301", "ß", "中", "文", "😀", "👨\u200d👩", "1", "٣", "½", "Ⅻ", " ", "  ", "\t", "\n",
            "\r\n", "\u00a0", "\u3000", "\u2028", "\u0085", "'", "'s", "'S", "'ll", "n't", ",", ".", "!", "?", "-",
            "$", "<s>", "</s>", "<|endoftext|>", "<|begin_of_text|>", "▁", "<0x41>", "<unk>", "the", " the", "ing",
            "Hello", "ǅ", "ﬁ", "Å", "Å", "가", "\u200b", "\ufeff", "\U00010d40", "ſ", "İ"]


def random_texts(n):
    rng = random.Random(7)
    out = []
    while len(out) < n:
        parts = []
        for _ in range(rng.randrange(1, 20)):
            if rng.randrange(5) == 0:
                r = rng.randrange(0x80, 0x32000)
                if not 0xD800 <= r < 0xE000:
                    parts.append(chr(r))
            else:
                parts.append(rng.choice(ALPHABET))
        out.append("".join(parts))
    return out


def load(name):
    return Tokenizer.from_file(os.path.join(src, name + ".tokenizer.json"))


def families():
    neox = load("neox")
    yield "neox", neox, {"add_bos_token": False, "add_eos_token": False, "bos_token": "<|endoftext|>",
                         "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}

    llama3 = load("llama3")
    llama3.add_special_tokens(["<|begin_of_text|>", "<|end_of_text|>"])
    bot = llama3.token_to_id("<|begin_of_text|>")
    llama3.post_processor = processors.Sequence([
        processors.ByteLevel(add_prefix_space=True, trim_offsets=False, use_regex=True),
        processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
                                      special_tokens=[("<|begin_of_text|>", bot)]),
    ])
    yield "llama3", llama3, {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"}

    qwen2 = load("qwen2")
    qwen2.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    yield "qwen2", qwen2, {"bos_token": None, "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>"}

    llama2 = load("llama2")
    llama2.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)])
    obj = lambda s: {"__type": "AddedToken", "content": s, "lstrip": False, "normalized": False, "rstrip": False,
                     "single_word": False, "special": True}
    yield "llama2", llama2, {"add_bos_token": True, "add_eos_token": False, "bos_token": obj("<s>"),
                             "eos_token": obj("</s>"), "unk_token": obj("<unk>")}

    gemma = load("gemma")
    gemma.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)])
    yield "gemma", gemma, {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>"}

    gemma2 = load("llama2")
    gemma2.normalizer = normalizers.Replace(" ", "\u2581")
    gemma2.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse()])
    gemma2.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)])
    yield "gemma2", gemma2, {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>"}


ADDED_TEXTS = ["Hello <s>world", "<s>x", " <s> </s>", "a  b   c", "e\u0301! x é! <unk>", "<|endoftext|> hi<|endoftext|>",
               "  ", "x é! y", "a wor b world", " é!  x", "wor", "world wor"]


def added_variant(name, tok):
    """The family's tokenizer.json with its added tokens made normalized and
    three more added (normalized, lstrip/rstrip, single_word), and the ids
    tokenizers gives on ADDED_TEXTS; written to added_variants.json."""
    doc = json.loads(tok.to_str())
    n = max(max(doc["model"]["vocab"].values()), max(a["id"] for a in doc["added_tokens"])) + 1
    extra = [
        {"id": n, "content": "  ", "single_word": False, "lstrip": False, "rstrip": False, "normalized": True, "special": False},
        {"id": n + 1, "content": "é!", "single_word": False, "lstrip": True, "rstrip": True, "normalized": True, "special": False},
        {"id": n + 2, "content": "wor", "single_word": True, "lstrip": False, "rstrip": False, "normalized": False, "special": False},
    ]
    for a in doc["added_tokens"]:
        a["normalized"] = True
    doc["added_tokens"].extend(extra)
    t = Tokenizer.from_str(json.dumps(doc))
    return {"extra": extra, "cases": [{"text": x, "ids": t.encode(x, add_special_tokens=False).ids} for x in ADDED_TEXTS]}


def main():
    with open(os.path.join(root, "bpe", "testdata", "hf_tokens.json"), encoding="utf-8") as f:
        texts = [c["text"] for c in json.load(f)["cases"]] + EXTRA + random_texts(120)
    variants = {}
    for name, tok, config in families():
        variants[name] = added_variant(name, tok)
        d = os.path.join(here, name)
        os.makedirs(d, exist_ok=True)
        doc = json.loads(tok.to_str())
        with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        config = dict(config, tokenizer_class="PreTrainedTokenizerFast", model_max_length=1 << 20)
        with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, ensure_ascii=False, indent=1)
        hf = transformers.AutoTokenizer.from_pretrained(d)
        cases = []
        for t in texts:
            ids = tok.encode(t, add_special_tokens=False).ids
            ids_special = hf(t)["input_ids"]
            enc = tok.encode(t)
            assert enc.ids == ids_special, (name, t, enc.ids, ids_special)
            cases.append({"text": t, "ids": ids, "ids_special": ids_special, "offsets": enc.offsets,
                          "decoded": tok.decode(ids_special, skip_special_tokens=False)})
        gz = gzip.GzipFile(os.path.join(d, "cases.json.gz"), "wb", mtime=0)  # mtime 0: reproducible bytes
        with io.TextIOWrapper(gz, encoding="utf-8") as f:
            json.dump({"generator": "tokenizers %s, transformers %s" % (tokenizers.__version__, transformers.__version__),
                       "bos": hf.bos_token_id, "eos": hf.eos_token_id, "cases": cases},
                      f, ensure_ascii=False, separators=(",", ":"))
        print(name, "vocab", tok.get_vocab_size(), "cases", len(cases), "bos", hf.bos_token_id, "eos", hf.eos_token_id,
              "example", cases[2]["ids_special"][:4])
    with open(os.path.join(here, "added_variants.json"), "w", encoding="utf-8") as f:
        json.dump(variants, f, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    main()
