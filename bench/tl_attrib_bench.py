#!/usr/bin/env python3
"""TransformerLens 4.3.0's side of make bench's attribution rows: the counterpart of
cmd/govene-bench's attrib and attrib_exact workloads, on the same random GPT-2 small
checkpoint (bench/pyvene_bench.py --make-checkpoint), loaded into TransformerBridge as
oracle/make_analysis_fixtures.py does, and the same ids: a 12-token clean prompt (ids
100+37*i), the corrupted one with position 3 set to id 7, metric logit(42) - logit(43) after
the last token.

    attrib        attribution patching (Nanda's recipe, make_analysis_fixtures.grad_run): a
                  clean run_with_cache and one corrupted forward and backward, then
                  (clean - corrupted) * grad summed over the last axis at hook_resid_pre,
                  hook_attn_out, hook_mlp_out (layer x position) and attn.hook_z (layer x head
                  x position; a head's result is linear in its z, so the values equal
                  govene's head_result)
    attrib_exact  exact activation patching with transformer_lens.patching:
                  get_act_patch_resid_pre, _attn_out, _mlp_out and
                  get_act_patch_attn_head_out_by_pos, one forward per cell (2160 cells);
                  --quick: get_act_patch_resid_pre at layer QUICK_LAYER alone (12 cells, an
                  index_df; on two busy cores all 2160 cells take many minutes)

    oracle/.venv-tl/bin/python bench/tl_attrib_bench.py --checkpoint DIR [--quick]
        [--only attrib,attrib_exact] --out FILE

It writes JSON for bench/report.py: per workload first_ms (attrib: the first call;
attrib_exact: its only call, also steady_ms, since nothing compiles) and steady_ms (median
of later calls), and every cell as "component:row:position" in govene's names for the
cross-check.
"""

import argparse
import contextlib
import io
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "oracle"))

import pandas as pd  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import GPT2LMHeadModel  # noqa: E402

import make_analysis_fixtures as f  # noqa: E402

with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    from transformer_lens import patching  # noqa: E402

SEQ = 12
# The one layer --quick's exact patching covers (as bench/pyvene_bench.py's quick sweeps).
QUICK_LAYER = 6
# TransformerLens' hook -> govene's component, and whether it is per head.
SITES = [
    ("hook_resid_pre", "block_input"),
    ("hook_attn_out", "attention_output"),
    ("hook_mlp_out", "mlp_output"),
    ("attn.hook_z", "head_result"),
]
# Exact patching: govene's component -> TransformerLens' patching function.
EXACT = {
    "block_input": patching.get_act_patch_resid_pre,
    "attention_output": patching.get_act_patch_attn_out,
    "mlp_output": patching.get_act_patch_mlp_out,
    "head_result": patching.get_act_patch_attn_head_out_by_pos,
}


def log(msg):
    print(f"tl-bench: {msg}", file=sys.stderr, flush=True)


def ms_since(t):
    return (time.perf_counter() - t) * 1000


def cells_of(component, grid):
    """grid [layers, s] or, for heads, [layers, s, heads] -> {"component:row:pos": value}."""
    out = {}
    g = grid.detach().double().numpy()
    for l in range(g.shape[0]):
        for p in range(g.shape[1]):
            if g.ndim == 2:
                out[f"{component}:{l}:{p}"] = float(g[l, p])
            else:
                for h in range(g.shape[2]):
                    out[f"{component}:L{l}H{h}:{p}"] = float(g[l, p, h])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--only", default="", help="comma-separated workloads (attrib, attrib_exact; default both)")
    ap.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK", "") not in ("", "0"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    want = lambda name: not only or name in only  # noqa: E731
    res = {"impl": "transformer_lens", "quick": args.quick, "threads": torch.get_num_threads(),
           "versions": {"transformer_lens": f.TL_VERSION, "torch": torch.__version__,
                        "transformers": transformers.__version__},
           "checkpoint": args.checkpoint, "workloads": {}, "checks": {}, "errors": {}}
    if not (want("attrib") or want("attrib_exact")):
        Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
        return 0

    t = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):
        bridge = f.load_bridge(f.Ckpt("bench-gpt2-small", str(Path(args.checkpoint).resolve()), GPT2LMHeadModel,
                                      seq=SEQ, seed=1))
    res["load_ms"] = ms_since(t)
    log(f"loaded {args.checkpoint} into TransformerBridge in {res['load_ms']:.0f} ms ({res['threads']} torch threads)")
    n_layers = bridge.cfg.n_layers
    clean = torch.tensor([[100 + 37 * i for i in range(SEQ)]])
    corr = clean.clone()
    corr[0, 3] = 7
    metric = f.logit_diff_metric(torch.tensor([42]), torch.tensor([43]))
    names = [f"blocks.{l}.{h}" for l in range(n_layers) for h, _ in SITES]
    with torch.no_grad():
        m_clean, m_corr = float(metric(bridge(clean))), float(metric(bridge(corr)))

    def attribution():
        with torch.no_grad():
            _, clean_cache = bridge.run_with_cache(clean, names_filter=lambda x: x in names)
        _, acts, grads = f.grad_run(bridge, corr, metric, names)
        with torch.no_grad():
            return {nm: ((clean_cache[nm] - acts[nm]) * grads[nm]).sum(-1) for nm in names}

    def attrib_cells(out):
        cells = {}
        for hook, comp in SITES:
            # [1,s] per layer -> [L,s]; hook_z: [1,s,h] -> [L,s,h]
            cells.update(cells_of(comp, torch.stack([out[f"blocks.{l}.{hook}"][0] for l in range(n_layers)])))
        return cells

    def run(name, fn):
        if not want(name):
            return
        try:
            fn()
            w = res["workloads"][name]
            log(f"{name}: first {w['first_ms']:.1f} ms, steady {w['steady_ms']:.1f} ms")
        except Exception as e:  # noqa: BLE001 - recorded, as pyvene_bench.py does
            log(f"{name} FAILED: {e!r}")
            res["errors"][name] = repr(e)

    def do_attrib():
        reps = 3 if args.quick else 10
        with contextlib.redirect_stderr(io.StringIO()):
            t = time.perf_counter()
            out = attribution()
            first = ms_since(t)
            times = []
            for _ in range(reps):
                t = time.perf_counter()
                attribution()
                times.append(ms_since(t))
        cells = attrib_cells(out)
        res["workloads"]["attrib"] = {
            "first_ms": first, "steady_ms": statistics.median(times), "min_ms": min(times), "reps": reps,
            "settings": len(cells),
            "what": "clean run_with_cache + corrupted forward and backward with hooks (resid_pre, attn_out, "
                    "mlp_out, attn.hook_z), (clean - corrupted) * grad summed",
        }
        res["checks"]["attrib"] = {"cells": cells, "clean": m_clean, "corrupt": m_corr}

    def do_exact():
        comps = [f"block_input L{QUICK_LAYER}"] if args.quick else list(EXACT)
        cells = {}
        with contextlib.redirect_stderr(io.StringIO()), torch.no_grad():
            t = time.perf_counter()
            _, clean_cache = bridge.run_with_cache(clean)
            if args.quick:
                idx = pd.DataFrame({"layer": [QUICK_LAYER] * SEQ, "pos": list(range(SEQ))})
                flat = patching.get_act_patch_resid_pre(bridge, corr, clean_cache, metric, index_axis_names=None,
                                                        index_df=idx) - m_corr
                cells = {f"block_input:{QUICK_LAYER}:{p}": float(flat[p]) for p in range(SEQ)}
            else:
                for comp in comps:
                    cells.update(cells_of(comp, EXACT[comp](bridge, corr, clean_cache, metric) - m_corr))
            dt = ms_since(t)
        res["workloads"]["attrib_exact"] = {
            "first_ms": dt, "steady_ms": dt, "reps": 1, "settings": len(cells), "components": comps,
            "what": "transformer_lens.patching get_act_patch_* (one forward per cell) of " + ", ".join(comps),
        }
        res["checks"]["attrib_exact"] = {"cells": cells, "clean": m_clean, "corrupt": m_corr}

    run("attrib", do_attrib)
    run("attrib_exact", do_exact)
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if not res["errors"]:
        del res["errors"]
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    return 1 if res.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
