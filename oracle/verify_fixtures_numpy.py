#!/usr/bin/env python3
"""Check gpt2/testdata against an independent GPT-2 forward written in plain numpy.

It reads only what a Go implementation reads (config.json, model.safetensors, the
case inputs in reference.safetensors), recomputes every site in float64 with the
semantics documented in reference.json, and reports the worst relative error per site.
It is a readable spec of the reference values and a check that they mean what the notes
say (scaling, additive finfo.min mask, padding rows, position ids, both GELUs).

    oracle/.venv/bin/python oracle/verify_fixtures_numpy.py [gpt2/testdata]
"""

import json
import math
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

TOL = 1e-5  # relative to each tensor's largest magnitude


def load_checkpoint(folder: Path) -> dict:
    """model.safetensors as float64 arrays, without the 'transformer.' prefix.

    Read by hand, as numpy has no bfloat16: a BF16 value is the high half of a float32.
    """
    data = (folder / "model.safetensors").read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    header.pop("__metadata__", None)
    body = data[8 + n :]
    out = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(body[start:end], dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        elif info["dtype"] == "F16":
            arr = np.frombuffer(body[start:end], dtype="<f2")
        else:
            arr = np.frombuffer(body[start:end], dtype="<f4")
        out[name.removeprefix("transformer.")] = arr.reshape(info["shape"]).astype(np.float64)
    return out


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x, kind):
    if kind == "gelu_new":
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    assert kind == "gelu"
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def forward(cfg, w, ids, mask, pos):
    """Every site of one forward, keyed like reference.safetensors (without the case)."""
    b, s = ids.shape
    d, h = cfg["n_embd"], cfg["n_head"]
    hd = d // h
    eps = cfg["layer_norm_epsilon"]
    sites = {"embed": w["wte.weight"][ids], "pos_embed": w["wpe.weight"][pos]}
    x = sites["embed"] + sites["pos_embed"]
    # Additive mask: 0 where key j <= query i and j is not padding, finfo(float32).min
    # elsewhere. In float32, score + finfo.min == finfo.min, so a fully masked row is
    # uniform; float64 would keep the scores, so emulate float32 here.
    allowed = np.tril(np.ones((s, s), dtype=bool))[None, None] & (mask[:, None, None, :] == 1)
    fmin = float(np.finfo(np.float32).min)
    for l in range(cfg["n_layer"]):
        p = f"h.{l}."
        sites[f"{l}/block_input"] = x
        a_in = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        sites[f"{l}/attention_input"] = a_in
        qkv = a_in @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = np.split(qkv, 3, axis=-1)
        for name, t in (("query", q), ("key", k), ("value", v)):
            sites[f"{l}/{name}_output"] = t
            sites[f"{l}/head_{name}_output"] = t.reshape(b, s, h, hd).transpose(0, 2, 1, 3)
        qh, kh, vh = (sites[f"{l}/head_{n}_output"] for n in ("query", "key", "value"))
        scores = qh @ kh.transpose(0, 1, 3, 2) / math.sqrt(hd)
        sites[f"{l}/attention_scores"] = scores
        masked = np.where(allowed, scores, fmin)
        probs = softmax(masked)
        sites[f"{l}/attention_weight"] = probs
        heads = probs @ vh
        sites[f"{l}/head_attention_value_output"] = heads
        merged = heads.transpose(0, 2, 1, 3).reshape(b, s, d)
        sites[f"{l}/attention_value_output"] = merged
        a_out = merged @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        sites[f"{l}/attention_output"] = a_out
        x = x + a_out
        sites[f"{l}/resid_mid"] = x
        m_in = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        sites[f"{l}/mlp_input"] = m_in
        act = gelu(m_in @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"], cfg["activation_function"])
        sites[f"{l}/mlp_activation"] = act
        m_out = act @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
        sites[f"{l}/mlp_output"] = m_out
        x = x + m_out
        sites[f"{l}/block_output"] = x
    sites["ln_final"] = layer_norm(x, w["ln_f.weight"], w["ln_f.bias"], eps)
    logits = sites["ln_final"] @ w["wte.weight"].T  # tied lm_head
    sites["logits"] = logits
    sites["logits_last"] = logits[:, -1]
    sites["logits_head"] = logits[:, :, :512]
    return sites


def main():
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "gpt2" / "testdata"
    worst_all = 0.0
    for folder in sorted(p for p in root.iterdir() if (p / "reference.safetensors").exists()):
        cfg = json.loads((folder / "config.json").read_text())
        w = load_checkpoint(folder)
        ref = load_file(folder / "reference.safetensors")
        cases = sorted({k.split("/")[0] for k in ref})
        worst = {}
        for case in cases:
            ids, mask, pos = (ref[f"{case}/{n}"] for n in ("input_ids", "attention_mask", "position_ids"))
            got = forward(cfg, w, ids, mask, pos)
            for key, want in ref.items():
                c, _, site = key.partition("/")
                if c != case or want.dtype != np.float32:
                    continue
                g = got[site]
                assert g.shape == want.shape, (key, g.shape, want.shape)
                err = float(np.abs(g - want).max() / max(1.0, float(np.abs(want).max())))
                name = site.split("/")[-1]
                worst[name] = max(worst.get(name, 0.0), err)
        top = max(worst.values())
        worst_all = max(worst_all, top)
        print(f"{folder.name}: {len(cases)} cases, worst relative error {top:.2e}")
        for name, err in sorted(worst.items(), key=lambda kv: -kv[1])[:4]:
            print(f"    {name:30s} {err:.2e}")
    if worst_all > TOL:
        raise SystemExit(f"FAIL: worst relative error {worst_all:.2e} > {TOL}")
    print(f"ok: every site within {TOL} (relative to the tensor's max magnitude)")


if __name__ == "__main__":
    main()
