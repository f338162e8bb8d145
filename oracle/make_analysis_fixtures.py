#!/usr/bin/env python3
"""Make the analysis methods' TransformerLens fixtures (analysis/testdata/<ckpt>/).

TransformerLens 4.3.0 is the oracle of issue #15's analysis methods (cache decomposition,
logit lens, direct logit attribution, attribution patching) on two of govene's random
checkpoints:

    gpt2-odd   gpt2/testdata/odd       GPT-2, 3 layers, 3 heads, d_model 24, vocab 1000
    llama      models/testdata/llama   Llama, 2 layers, 4 query / 2 key-value heads
                                       (GQA), RMSNorm, llama3 RoPE, bf16 shards

TransformerLens 4 has no HookedTransformer any more: a Hugging Face model is wrapped in a
TransformerBridge, and enable_compatibility_mode() gives HookedTransformer's numerics and
hook names. Each checkpoint is loaded with transformers (float32, eager attention) and
wrapped as

    bridge = TransformerBridge.boot_transformers(<checkpoint dir>, hf_model=model,
                 tokenizer=<a WordLevel tokenizer over the ids>, device="cpu",
                 dtype=torch.float32)
    bridge.enable_compatibility_mode(fold_ln=True, center_writing_weights=False,
                 center_unembed=False, fold_value_biases=False)
    bridge.set_use_attn_result(True)

(a tokenizer is passed only because boot_transformers would otherwise look for one next
to the checkpoint; prompts are token ids). Its logits are checked against transformers'
own on every prompt first (tl_cases.json records the difference).

Writes, per checkpoint:

    analysis/testdata/<ckpt>/tl_reference.safetensors   {case}/{name} -> float32 values
    analysis/testdata/<ckpt>/tl_cases.json              cases, labels, shapes, settings,
                                                        checks, and what each name means

Cases: "b1" (batch 1) and "b2" (batch 2), each a clean and a corrupted prompt of random
ids of equal length; the target token of each example is the one whose last-position
logit the corruption lowers most (clean minus corrupted logit largest), the other token
the one it raises most, so the logit-difference metric moves as far as it can.
TENSOR_DOCS below says what every stored tensor is; tl_cases.json repeats it.

Run through oracle/check_fixtures.sh (the "analysis" group: it is regenerated only when
this script or requirements-tl.txt changed, in the venv oracle/setup_tl.sh builds). The
output is byte-for-byte deterministic (one thread, deterministic algorithms, fixed seeds).

    oracle/.venv-tl/bin/python oracle/make_analysis_fixtures.py [--out DIR] [--only gpt2-odd llama]
"""

import os

os.environ["MKL_CBWR"] = "COMPATIBLE"
os.environ["ATEN_CPU_CAPABILITY"] = "avx2"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ["TRANSFORMERS_VERBOSITY"] = "error"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["WANDB_MODE"] = "disabled"
os.environ["TQDM_DISABLE"] = "1"

import argparse
import contextlib
import hashlib
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import safetensors.numpy
import torch
import transformers
from tokenizers import Tokenizer, models
from transformers import GPT2LMHeadModel, LlamaForCausalLM, PreTrainedTokenizerFast

with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    import transformer_lens
    from transformer_lens import patching
    from transformer_lens.model_bridge import TransformerBridge

logging.disable(logging.WARNING)

REPO = Path(__file__).resolve().parent.parent
TL_VERSION = "4.3.0"

# Relative tolerance (to the largest magnitude of the compared tensor) of the checks
# this script makes before writing anything.
CHECK_TOL = 1e-4
# An attribution or patching grid whose largest |value| is below this is "all ~0".
NONTRIVIAL = 1e-3

COMPAT = dict(fold_ln=True, center_writing_weights=False, center_unembed=False, fold_value_biases=False)


@dataclass
class Ckpt:
    name: str
    path: str  # relative to the repository
    model_cls: type
    seq: int
    seed: int


CHECKPOINTS = [
    Ckpt("gpt2-odd", "gpt2/testdata/odd", GPT2LMHeadModel, seq=6, seed=1501),
    Ckpt("llama", "models/testdata/llama", LlamaForCausalLM, seq=6, seed=1502),
]
BATCHES = {"b1": 1, "b2": 2}

TENSOR_DOCS = {
    "{run}/logits": "TransformerLens' logits of the clean or corrupted prompt [b,s,vocab]",
    "{run}/hook_embed": "token embeddings [b,s,d]",
    "{run}/hook_pos_embed": "position embeddings [b,s,d] (GPT-2 only)",
    "{run}/blocks.L.hook_resid_pre": "residual entering block L [b,s,d]",
    "{run}/blocks.L.hook_resid_mid": "residual after block L's attention add [b,s,d]",
    "{run}/blocks.L.hook_resid_post": "residual leaving block L [b,s,d]",
    "{run}/blocks.L.hook_attn_out": "attention output incl. the output bias [b,s,d]",
    "{run}/blocks.L.hook_mlp_out": "MLP output [b,s,d]",
    "{run}/blocks.L.attn.hook_z": "per-head attention values before the output projection, "
    "head axis second (TL's [b,s,h,d_head] transposed) [b,h,s,d_head]",
    "{run}/blocks.L.attn.hook_result": "each head's output through its slice of W_O, without "
    "b_O, head axis second (TL's [b,s,h,d] transposed) [b,h,s,d]; sum over h + b_O = attn_out",
    "{run}/ln_final.hook_scale": "final norm's scale [b,s,1]: sqrt(var+eps) (LayerNorm) or "
    "sqrt(mean(x^2)+eps) (RMSNorm) of the last residual",
    "accumulated_resid": "cache.accumulated_resid(layer=None, incl_mid=True, apply_ln=True) "
    "[n,b,s,d]; TL 4.3 RECOMPUTES the final norm on every stack entry (ln_final applied to "
    "each accumulated residual on its own, as a plain logit lens does), it does not use the "
    "cached scale",
    "accumulated_resid_cached_scale": "the same stack through cache.apply_ln_to_stack(layer=None, "
    "recompute_ln=False): centered (LayerNorm only) and divided by the cached "
    "ln_final.hook_scale, as TL 2/3 did [n,b,s,d]",
    "decompose_resid": "cache.decompose_resid(apply_ln=True) [n,b,s,d]: embed, pos_embed, "
    "L_attn_out, L_mlp_out, centered (LayerNorm only) and divided by the cached scale",
    "stack_head_results": "cache.stack_head_results(layer=-1, apply_ln=True) [L*h,b,s,d], "
    "same normalisation",
    "lens/logits": "accumulated_resid @ W_U + b_U [n,b,s,vocab] (TL's logit lens recipe)",
    "lens/target_rank": "rank of the example's target token in lens/logits, 0 = top: the number "
    "of tokens with a strictly larger logit [n,b,s] (float32 integers)",
    "lens/target_prob": "softmax(lens/logits) at the target token [n,b,s]",
    "lens_cached_scale/target_rank": "as lens/target_rank on accumulated_resid_cached_scale",
    "lens_cached_scale/target_prob": "as lens/target_prob on accumulated_resid_cached_scale",
    "dla/decompose_target": "cache.logit_attrs(decompose_resid(apply_ln=False), tokens=target) "
    "[n,b,s]: centered/scaled component . W_U[:,target], no b_U; sum + b_U[target] = logit",
    "dla/decompose_logit_diff": "the same with incorrect_tokens=other [n,b,s]",
    "dla/heads_target": "cache.logit_attrs(stack_head_results(apply_ln=False), tokens=target) [L*h,b,s]",
    "dla/heads_logit_diff": "the same with incorrect_tokens=other [L*h,b,s]",
    "grad/blocks.L.<hook>": "d metric / d activation on the corrupted run (hook_resid_pre, "
    "hook_attn_out, hook_mlp_out [b,s,d]; attn.hook_z [b,h,s,d_head] head axis second)",
    "attrib/resid_pre": "attribution patching: sum over batch and d of (clean - corrupted) * grad "
    "at blocks.L.hook_resid_pre [L,s]",
    "attrib/attn_out": "the same at blocks.L.hook_attn_out [L,s]",
    "attrib/mlp_out": "the same at blocks.L.hook_mlp_out [L,s]",
    "attrib/head_out": "the same at blocks.L.attn.hook_z, summed over batch and d_head [L,h,s]",
    "patch/resid_pre": "patching.get_act_patch_resid_pre: the metric after patching the clean "
    "activation into the corrupted run at (L, position), whole batch [L,s]; minus "
    "metric.corrupted it is what attrib/ estimates",
    "patch/attn_out": "patching.get_act_patch_attn_out [L,s]",
    "patch/mlp_out": "patching.get_act_patch_mlp_out [L,s]",
    "patch/head_out": "patching.get_act_patch_attn_head_out_by_pos (hook_z patched per head and "
    "position), TL's [L,s,h] transposed to [L,h,s]",
}


def word_tokenizer(vocab):
    """A tokenizer over the ids t0..t{vocab-1}: boot_transformers needs one, the prompts are ids."""
    tok = Tokenizer(models.WordLevel({f"t{i}": i for i in range(vocab)}, unk_token="t0"))
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="t0")


def load_hf(ckpt):
    return ckpt.model_cls.from_pretrained(REPO / ckpt.path, dtype=torch.float32, attn_implementation="eager").eval()


def load_bridge(ckpt):
    hf = load_hf(ckpt)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        bridge = TransformerBridge.boot_transformers(
            str(REPO / ckpt.path),
            hf_model=hf,
            tokenizer=word_tokenizer(hf.config.vocab_size),
            device="cpu",
            dtype=torch.float32,
        )
        bridge.enable_compatibility_mode(disable_warnings=True, **COMPAT)
        bridge.set_use_attn_result(True)
    bridge.eval()
    return bridge


def rel_diff(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    scale = max(float(np.abs(want).max()), 1e-30)
    return float(np.abs(got - want).max()) / scale


def check(what, got, want, checks, tol=CHECK_TOL):
    d = rel_diff(got, want)
    checks[what] = d
    assert d <= tol, f"{what}: relative difference {d:.3g} > {tol}"


def np32(t):
    return t.detach().to(torch.float32).contiguous().numpy().copy()


def heads_second(t):
    """TL's [b,s,h,x] -> [b,h,s,x]."""
    return t.transpose(1, 2)


def make_prompts(ckpt, vocab):
    g = torch.Generator().manual_seed(ckpt.seed)
    out = {}
    for case, b in BATCHES.items():
        clean = torch.randint(0, vocab, (b, ckpt.seq), generator=g)
        corrupted = torch.randint(0, vocab, (b, ckpt.seq), generator=g)
        out[case] = (clean, corrupted)
    return out


def pick_targets(clean_logits, corr_logits):
    """Per example: the token whose last-position logit the corruption lowers most, and the
    one it raises most, so that the logit difference moves as much as it can."""
    delta = clean_logits[:, -1] - corr_logits[:, -1]
    return delta.argmax(-1), delta.argmin(-1)


def logit_diff_metric(target, other):
    def metric(logits):
        b = torch.arange(logits.shape[0])
        return (logits[b, -1, target] - logits[b, -1, other]).mean()

    return metric


def cache_hooks(n_layers, has_pos):
    names = ["hook_embed"] + (["hook_pos_embed"] if has_pos else [])
    for l in range(n_layers):
        names += [f"blocks.{l}.{h}" for h in ("hook_resid_pre", "hook_resid_mid", "hook_resid_post", "hook_attn_out", "hook_mlp_out")]
        names += [f"blocks.{l}.attn.hook_z", f"blocks.{l}.attn.hook_result"]
    return names + ["ln_final.hook_scale"]


def store_cache(out, run, cache, names):
    for name in names:
        t = cache[name]
        if name.endswith(("attn.hook_z", "attn.hook_result")):
            t = heads_second(t)
        out[f"{run}/{name}"] = np32(t)


def grad_run(bridge, tokens, metric, names):
    """Neel Nanda's attribution patching recipe: activations and metric gradients of one run."""
    acts, grads = {}, {}
    bridge.reset_hooks()

    def keep(store, name):
        def fn(t, hook):
            store[name] = t.detach().clone()

        return fn

    for name in names:
        bridge.add_hook(name, keep(acts, name), "fwd")
        bridge.add_hook(name, keep(grads, name), "bwd")
    bridge.zero_grad(set_to_none=True)
    value = metric(bridge(tokens))
    value.backward()
    bridge.reset_hooks()
    bridge.zero_grad(set_to_none=True)
    missing = [n for n in names if n not in acts or n not in grads]
    assert not missing, f"hooks did not fire: {missing}"
    for n in names:
        assert grads[n].shape == acts[n].shape, f"{n}: gradient {tuple(grads[n].shape)}, activation {tuple(acts[n].shape)}"
    return float(value.item()), acts, grads


def nontrivial(what, arr):
    m = float(np.abs(arr).max())
    assert m > NONTRIVIAL, f"{what}: all values ~0 (max |v| {m:.3g})"
    assert float(arr.max() - arr.min()) > NONTRIVIAL, f"{what}: constant"
    return m


def record_case(ckpt, bridge, hf, case, clean, corrupted):
    cfg = bridge.cfg
    L, H = cfg.n_layers, cfg.n_heads
    b, s = clean.shape
    checks, out, labels = {}, {}, {}
    with torch.no_grad():
        hf_clean = hf(clean).logits
        hf_corr = hf(corrupted).logits
        clean_logits, clean_cache = bridge.run_with_cache(clean)
        corr_logits, corr_cache = bridge.run_with_cache(corrupted)
    check("tl_vs_hf_logits_clean", clean_logits, hf_clean, checks)
    check("tl_vs_hf_logits_corrupted", corr_logits, hf_corr, checks)
    target, other = pick_targets(clean_logits, corr_logits)
    has_pos = "hook_pos_embed" in clean_cache.keys()
    names = cache_hooks(L, has_pos)
    out["clean/logits"] = np32(clean_logits)
    out["corrupted/logits"] = np32(corr_logits)
    store_cache(out, "clean", clean_cache, names)
    store_cache(out, "corrupted", corr_cache, names)

    W_U, b_U = bridge.W_U.detach(), bridge.b_U.detach()
    with torch.no_grad():
        # Sanity of the sites the Go side mirrors.
        for l in range(L):
            b_O = bridge.blocks[l].attn.b_O  # None without an output bias (Llama)
            res = clean_cache[f"blocks.{l}.attn.hook_result"].sum(-2) + (0 if b_O is None else b_O.detach())
            check(f"sum_heads_result_plus_b_O_eq_attn_out/L{l}", res, clean_cache[f"blocks.{l}.hook_attn_out"], checks)
        last = clean_cache[f"blocks.{L - 1}.hook_resid_post"].to(torch.float64)
        eps = float(cfg.eps)
        if cfg.normalization_type == "LN":
            want_scale = (last.var(-1, unbiased=False, keepdim=True) + eps).sqrt()
        else:
            want_scale = (last.pow(2).mean(-1, keepdim=True) + eps).sqrt()
        check("ln_final_scale_formula", clean_cache["ln_final.hook_scale"], want_scale, checks)

        acc, acc_labels = clean_cache.accumulated_resid(layer=None, incl_mid=True, apply_ln=True, pos_slice=None, return_labels=True)
        acc_raw = clean_cache.accumulated_resid(layer=None, incl_mid=True, apply_ln=False)
        acc_cached = clean_cache.apply_ln_to_stack(acc_raw, layer=None, recompute_ln=False)
        dec, dec_labels = clean_cache.decompose_resid(apply_ln=True, return_labels=True)
        dec_raw = clean_cache.decompose_resid(apply_ln=False)
        heads, head_labels = clean_cache.stack_head_results(layer=-1, apply_ln=True, return_labels=True)
        heads_raw = clean_cache.stack_head_results(layer=-1, apply_ln=False)
        labels = {"accumulated_resid": acc_labels, "decompose_resid": dec_labels, "stack_head_results": head_labels}
        out["accumulated_resid"] = np32(acc)
        out["accumulated_resid_cached_scale"] = np32(acc_cached)
        out["decompose_resid"] = np32(dec)
        out["stack_head_results"] = np32(heads)
        check("decompose_sum_eq_final_resid", dec_raw.sum(0), clean_cache[f"blocks.{L - 1}.hook_resid_post"], checks)

        # Logit lens.
        bi = torch.arange(b)[:, None]
        for key, stack in (("lens", acc), ("lens_cached_scale", acc_cached)):
            logits = stack @ W_U + b_U  # [n,b,s,V]
            t_logit = logits[:, bi, torch.arange(s)[None, :], target[:, None]]  # [n,b,s]
            rank = (logits > t_logit[..., None]).sum(-1)
            prob = logits.log_softmax(-1).exp()[:, bi, torch.arange(s)[None, :], target[:, None]]
            if key == "lens":
                out["lens/logits"] = np32(logits)
                check("lens_final_post_eq_logits", logits[-1], clean_logits, checks)
            else:
                check("lens_cached_scale_final_post_eq_logits", logits[-1], clean_logits, checks)
            out[f"{key}/target_rank"] = np32(rank.to(torch.float32))
            out[f"{key}/target_prob"] = np32(prob)

        # Direct logit attribution.
        dla = {
            "dla/decompose_target": clean_cache.logit_attrs(dec_raw, tokens=target),
            "dla/decompose_logit_diff": clean_cache.logit_attrs(dec_raw, tokens=target, incorrect_tokens=other),
            "dla/heads_target": clean_cache.logit_attrs(heads_raw, tokens=target),
            "dla/heads_logit_diff": clean_cache.logit_attrs(heads_raw, tokens=target, incorrect_tokens=other),
        }
        t_logits = clean_logits[bi, torch.arange(s)[None, :], target[:, None]]
        check("dla_sum_plus_b_U_eq_logit", dla["dla/decompose_target"].sum(0) + b_U[target][:, None], t_logits, checks)
        o_logits = clean_logits[bi, torch.arange(s)[None, :], other[:, None]]
        check(
            "dla_diff_sum_plus_b_U_eq_logit_diff",
            dla["dla/decompose_logit_diff"].sum(0) + (b_U[target] - b_U[other])[:, None],
            t_logits - o_logits,
            checks,
        )
        for k, v in dla.items():
            out[k] = np32(v)

    # Attribution patching (gradients on the corrupted run) and exact activation patching.
    metric = logit_diff_metric(target, other)
    grids = {
        "resid_pre": [f"blocks.{l}.hook_resid_pre" for l in range(L)],
        "attn_out": [f"blocks.{l}.hook_attn_out" for l in range(L)],
        "mlp_out": [f"blocks.{l}.hook_mlp_out" for l in range(L)],
        "head_out": [f"blocks.{l}.attn.hook_z" for l in range(L)],
    }
    grad_names = [n for ns in grids.values() for n in ns]
    corr_metric, acts, grads = grad_run(bridge, corrupted, metric, grad_names)
    with torch.no_grad():
        clean_metric = float(metric(clean_logits))
        check("grad_run_metric_eq_no_grad", corr_metric, float(metric(corr_logits)), checks)
        for n in grad_names:
            check(f"grad_run_act_eq_cache/{n}", acts[n], corr_cache[n], checks)
            g = grads[n]
            out[f"grad/{n}"] = np32(heads_second(g) if n.endswith("hook_z") else g)
        for grid, ns in grids.items():
            rows = []
            for n in ns:
                prod = (clean_cache[n] - acts[n]) * grads[n]
                if grid == "head_out":
                    rows.append(prod.sum(dim=(0, 3)).transpose(0, 1))  # [b,s,h,dh] -> [h,s]
                else:
                    rows.append(prod.sum(dim=(0, 2)))  # [b,s,d] -> [s]
            out[f"attrib/{grid}"] = np32(torch.stack(rows))

        exact = {
            "resid_pre": patching.get_act_patch_resid_pre(bridge, corrupted, clean_cache, metric),
            "attn_out": patching.get_act_patch_attn_out(bridge, corrupted, clean_cache, metric),
            "mlp_out": patching.get_act_patch_mlp_out(bridge, corrupted, clean_cache, metric),
            "head_out": patching.get_act_patch_attn_head_out_by_pos(bridge, corrupted, clean_cache, metric).transpose(1, 2),
        }
        for grid, v in exact.items():
            out[f"patch/{grid}"] = np32(v)

    magnitude = {}
    for k in sorted(out):
        if k.startswith(("attrib/", "dla/")):
            magnitude[k] = nontrivial(f"{ckpt.name}/{case}/{k}", out[k])
        elif k.startswith("patch/"):
            magnitude[k] = nontrivial(f"{ckpt.name}/{case}/{k} - corrupted metric", out[k] - corr_metric)
    assert abs(clean_metric - corr_metric) > NONTRIVIAL, f"{ckpt.name}/{case}: clean and corrupted metric agree: {clean_metric} {corr_metric} {target} {other}"
    agreement = {}
    for grid in grids:
        a = out[f"attrib/{grid}"].ravel().astype(np.float64)
        e = out[f"patch/{grid}"].ravel().astype(np.float64) - corr_metric
        agreement[grid] = float(np.corrcoef(a, e)[0, 1])

    record = {
        "name": case,
        "batch": b,
        "seq": s,
        "clean": clean.tolist(),
        "corrupted": corrupted.tolist(),
        "target": target.tolist(),
        "other": other.tolist(),
        "metric": {
            "definition": "mean over the batch of logits[i, -1, target[i]] - logits[i, -1, other[i]]",
            "clean": clean_metric,
            "corrupted": corr_metric,
        },
        "labels": labels,
        "tensors": {k: list(v.shape) for k, v in sorted(out.items())},
        "checks_rel_diff": {k: checks[k] for k in sorted(checks)},
        "max_abs": {k: magnitude[k] for k in sorted(magnitude)},
        "attrib_vs_patch_correlation": agreement,
    }
    return {f"{case}/{k}": v for k, v in out.items()}, record


def make_checkpoint(ckpt, out):
    torch.manual_seed(0)
    hf = load_hf(ckpt)
    bridge = load_bridge(ckpt)
    cfg = bridge.cfg
    prompts = make_prompts(ckpt, cfg.d_vocab)
    tensors, records = {}, []
    for case, (clean, corrupted) in prompts.items():
        t, r = record_case(ckpt, bridge, hf, case, clean, corrupted)
        tensors.update(t)
        records.append(r)
    out.mkdir(parents=True, exist_ok=True)
    safetensors.numpy.save_file(tensors, str(out / "tl_reference.safetensors"), metadata={"format": "np"})
    summary = {
        "checkpoint": ckpt.name,
        "model_dir": ckpt.path,
        "architecture": type(bridge.adapter).__name__,
        "transformer_lens": TL_VERSION,
        "torch": torch.__version__.split("+")[0],
        "transformers": transformers.__version__,
        "boot": "TransformerBridge.boot_transformers(<model_dir>, hf_model=<transformers model, float32, "
        "eager attention>, tokenizer=<WordLevel over the ids>, device='cpu', dtype=torch.float32)",
        "compatibility_mode": COMPAT,
        "use_attn_result": True,
        "config": {
            "n_layers": cfg.n_layers,
            "n_heads": cfg.n_heads,
            "n_key_value_heads": cfg.n_key_value_heads,
            "d_model": cfg.d_model,
            "d_head": cfg.d_head,
            "d_vocab": cfg.d_vocab,
            "normalization_type": cfg.normalization_type,
            "eps": float(cfg.eps),
        },
        "tensor_docs": TENSOR_DOCS,
        "notes": [
            "Keys in tl_reference.safetensors are <case>/<name>; {run} is clean or corrupted, L a layer.",
            "Head axes are second ([b,h,s,...]) and head grids are [L,h,s], unlike TL's [b,s,h,...] and [L,s,h].",
            "apply_ln (decompose_resid, stack_head_results, logit_attrs, accumulated_resid_cached_scale) "
            "centers only for LayerNorm and divides by the cached ln_final.hook_scale; for RMSNorm it only divides.",
            "fold_ln=True folds the final norm's weight into W_U and its bias into b_U; logit_attrs uses W_U only (no b_U).",
            "attrib/* sum over the batch: the metric is the batch mean, and exact patching patches every example "
            "at the (layer, position[, head]) at once, so attrib/X estimates patch/X - metric.corrupted.",
        ],
        "cases": records,
    }
    (out / "tl_cases.json").write_text(json.dumps(summary, indent=1, sort_keys=False) + "\n", encoding="utf-8")


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "analysis" / "testdata")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    assert transformer_lens.__name__ == "transformer_lens"
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    for ckpt in CHECKPOINTS:
        if args.only and ckpt.name not in args.only:
            continue
        out = args.out / ckpt.name
        make_checkpoint(ckpt, out)
        for f in sorted(out.iterdir()):
            print(f"{sha256(f)}  {f.relative_to(args.out)}  {f.stat().st_size}")


if __name__ == "__main__":
    main()
