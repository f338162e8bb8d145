#!/usr/bin/env python3
"""Time TransformerLens 4.3.0's attribution patching and exact activation patching on a
GPT-2-small-shaped random model, the counterpart of govene's BenchmarkAttributionPatch
(analysis/attrib_bench_test.go): a 12-token clean prompt (ids 100+37*i), the corrupted one
with token 3 replaced by 7, metric logit(42) - logit(43) at the last position.

    attribution  one clean run_with_cache + one corrupted forward and backward (Nanda's
                 recipe, make_analysis_fixtures.grad_run) at resid_pre, attn_out, mlp_out
                 and attn.hook_z of every layer, then (clean - corrupted) * grad summed
    exact        patching.get_act_patch_{resid_pre,attn_out,mlp_out} and
                 get_act_patch_attn_head_out_by_pos: one forward per cell (2160)

    oracle/.venv-tl/bin/python oracle/bench_attribution_tl.py attribution|exact [REPS]

It prints seconds per operation; "attribution" runs once untimed first, "exact" does not.
"""

import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from transformers import GPT2Config, GPT2LMHeadModel  # noqa: E402

import make_analysis_fixtures as f  # noqa: E402

with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    from transformer_lens import patching  # noqa: E402


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "attribution"
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    tmp = tempfile.mkdtemp(prefix="gpt2small-")
    torch.manual_seed(1)
    with contextlib.redirect_stderr(io.StringIO()):
        GPT2LMHeadModel(GPT2Config()).save_pretrained(tmp)
        bridge = f.load_bridge(f.Ckpt("gpt2small", tmp, GPT2LMHeadModel, seq=12, seed=1))
    n = 12
    clean = torch.tensor([[100 + 37 * i for i in range(n)]])
    corr = clean.clone()
    corr[0, 3] = 7
    metric = f.logit_diff_metric(torch.tensor([42]), torch.tensor([43]))
    hooks = ("hook_resid_pre", "hook_attn_out", "hook_mlp_out", "attn.hook_z")
    names = [f"blocks.{l}.{h}" for l in range(bridge.cfg.n_layers) for h in hooks]

    def attribution():
        with torch.no_grad():
            _, clean_cache = bridge.run_with_cache(clean, names_filter=lambda x: x in names)
        _, acts, grads = f.grad_run(bridge, corr, metric, names)
        with torch.no_grad():
            return {nm: ((clean_cache[nm] - acts[nm]) * grads[nm]).sum(-1) for nm in names}

    def exact():
        with torch.no_grad():
            _, clean_cache = bridge.run_with_cache(clean)
            return [
                patching.get_act_patch_resid_pre(bridge, corr, clean_cache, metric),
                patching.get_act_patch_attn_out(bridge, corr, clean_cache, metric),
                patching.get_act_patch_mlp_out(bridge, corr, clean_cache, metric),
                patching.get_act_patch_attn_head_out_by_pos(bridge, corr, clean_cache, metric),
            ]

    fn = {"attribution": attribution, "exact": exact}[which]
    with contextlib.redirect_stderr(io.StringIO()):
        if which != "exact":
            fn()
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        dt = (time.perf_counter() - t) / reps
    print(f"TransformerLens {f.TL_VERSION} {which}: {dt:.3f} s/op ({reps} reps, {torch.get_num_threads()} torch threads)")


if __name__ == "__main__":
    main()
