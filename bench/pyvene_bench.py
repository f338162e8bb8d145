#!/usr/bin/env python3
"""pyvene side of `make bench`: times five intervention workloads with pyvene 0.1.8.

Usage (from the repository root):

    python bench/pyvene_bench.py --make-checkpoint DIR      # create the random GPT-2 small, then exit
    python bench/pyvene_bench.py --make-checkpoint-llama DIR  # create the random Llama, then exit
    python bench/pyvene_bench.py --checkpoint DIR [--llama-checkpoint DIR] [--device cpu|cuda]
                                 [--quick] [--out FILE]

The checkpoint is a randomly initialized GPT-2 small (12 layers, 12 heads, 768 wide,
vocab 50257, 1024 positions) in Hugging Face layout; cmd/govene-bench loads the same
folder, so both sides run the same weights on the same token ids. The workloads and
their prompts are mirrored in cmd/govene-bench/main.go; change both together.

The Llama checkpoint is a randomly initialized LlamaForCausalLM of about the same
size (12 layers, 768 wide, 12 query heads and 4 key/value heads (GQA), MLP 2048,
vocab 32000, rope_theta 500000 with llama3 rope scaling, untied embeddings); the
workloads forward_llama and generate_llama run on it only when --llama-checkpoint
is given. They are forward and generate on the Llama (token ids taken modulo its
vocabulary).

  forward    one intervened forward, batch 1 x 16 tokens: Vanilla block_output L6 at
             the last position, one source (pyvene also runs the source forward).
  trace      causal tracing (ROME): fixed noise (3 x the embeddings' std) added to the
             subject tokens (positions 1..3) of a 16-token prompt, restoring the clean
             block_output at every layer x position, one pyvene forward per setting
             (one IntervenableModel per layer, as pyvene's causal-tracing tutorial
             builds them per setting). trace_batched: the same grid with the 16
             positions of a layer batched into one forward (per-example unit_locations).
             trace_newlen: the per-setting sweep again on a 12-token prompt.
  heads      head patching: head_attention_value_output unit h.pos at the last
             position, layers x 12 heads, one forward per setting; heads_batched: the
             12 heads of a layer in one forward; heads_newlen: 12-token prompts.
  das_step   one DAS training step (forward + backward + Adam step):
             LowRankRotatedSpaceIntervention r=64 at block_output L6, batch 8 x 16.
  generate   greedy generation of 32 tokens from a 16-token prompt with a constant
             steering vector added to mlp_output L6 (AdditionIntervention with
             source_representation, unit_locations=None, intervene_on_prompt=True).

For each workload the JSON has first_ms (the first call: warm-up) and steady_ms (the
median of later calls; for sweeps, the second sweep). --quick (or BENCH_QUICK=1) sweeps
layer 6 only, at 4 positions and 3 heads, once, and repeats less: for checking that the
machinery runs, not for numbers.
"""

import os

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import contextlib
import io
import json
import logging
import platform
import resource
import shutil
import socket
import statistics
import sys
import time
from pathlib import Path

# The GPT-2 small shape. The prompt ids are the same formula as cmd/govene-bench's.
N_LAYER, N_HEAD, N_EMBD, VOCAB, N_POS = 12, 12, 768, 50257, 1024
CKPT_SEED = 20261127

# The random Llama's shape (mirrored in cmd/govene-bench: llamaEmbd, llamaVocab).
LLAMA = dict(num_hidden_layers=12, hidden_size=768, num_attention_heads=12, num_key_value_heads=4,
             intermediate_size=2048, vocab_size=32000, max_position_embeddings=4096,
             rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                              "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                              "original_max_position_embeddings": 1024})


def prompt(k, n, vocab=VOCAB):
    """Deterministic token ids of prompt k, n tokens long, below min(50000, vocab)
    (mirrored in Go)."""
    return [(7919 * k + 104729 * j + 1000) % min(50000, vocab) for j in range(n)]


def steer_value(j):
    """The steering vector (mirrored in Go): exact in float32."""
    return ((j * 37) % 17 - 8) / 4.0


def log(*a):
    print("pyvene-bench:", *a, file=sys.stderr, flush=True)


def stub_plotting_modules():
    """pyvene imports networkx and matplotlib at import time (for CausalModel's
    plots only). Where they are not installed (the GPU machine, where pyvene is
    installed with --no-deps), empty stand-ins let the import succeed."""
    import importlib.util
    import types

    for name in ("networkx", "matplotlib", "matplotlib.pyplot"):
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            log(f"{name} is not installed: using an empty stand-in (pyvene only plots with it)")
            sys.modules[name] = types.ModuleType(name)
    if "matplotlib.pyplot" in sys.modules and "matplotlib" in sys.modules:
        sys.modules["matplotlib"].pyplot = sys.modules["matplotlib.pyplot"]


def make_checkpoint(d: Path, family="gpt2"):
    """Create the random checkpoint of family ("gpt2" or "llama") in d, unless
    d already holds one."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    if (d / "config.json").is_file() and (d / "model.safetensors").is_file():
        log(f"checkpoint {d} exists")
        return
    log(f"creating random {family} checkpoint in {d}")
    t = time.perf_counter()
    torch.manual_seed(CKPT_SEED)
    if family == "llama":
        m = LlamaForCausalLM(LlamaConfig(**LLAMA)).float().eval()
    else:
        cfg = GPT2Config(n_layer=N_LAYER, n_head=N_HEAD, n_embd=N_EMBD, vocab_size=VOCAB, n_positions=N_POS)
        m = GPT2LMHeadModel(cfg).eval()
    d.parent.mkdir(parents=True, exist_ok=True)
    tmp = d.with_name(f"{d.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    m.save_pretrained(str(tmp))
    shutil.rmtree(d, ignore_errors=True)  # a partial earlier attempt
    os.replace(tmp, d)
    log(f"checkpoint written in {time.perf_counter() - t:.1f} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", help="folder of the random GPT-2 small checkpoint (HF layout)")
    ap.add_argument("--make-checkpoint", metavar="DIR", help="create the checkpoint in DIR when missing, then exit")
    ap.add_argument("--llama-checkpoint", help="folder of the random Llama checkpoint (runs forward_llama, generate_llama)")
    ap.add_argument("--make-checkpoint-llama", metavar="DIR",
                    help="create the random Llama checkpoint in DIR when missing, then exit")
    ap.add_argument("--device", default="cpu", help="cpu or cuda [cpu]")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch CPU threads [all cores]")
    ap.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK", "") not in ("", "0"),
                    help="sweep layer 6 at 4 positions, fewer repetitions (also BENCH_QUICK=1)")
    ap.add_argument("--only", default="", help="comma-separated workloads to run (default all)")
    ap.add_argument("--out", help="write the JSON here instead of stdout")
    args = ap.parse_args()

    if args.make_checkpoint or args.make_checkpoint_llama:
        if args.make_checkpoint:
            make_checkpoint(Path(args.make_checkpoint))
        if args.make_checkpoint_llama:
            make_checkpoint(Path(args.make_checkpoint_llama), "llama")
        if not args.checkpoint:
            return
    if not args.checkpoint:
        ap.error("--checkpoint DIR is required (create it with --make-checkpoint DIR)")
    ckpt = Path(args.checkpoint)
    if not (ckpt / "model.safetensors").is_file():
        sys.exit(f"pyvene-bench: no checkpoint in {ckpt}; create it with: {sys.argv[0]} --make-checkpoint {ckpt}")
    llama_ckpt = Path(args.llama_checkpoint) if args.llama_checkpoint else None
    if llama_ckpt and not (llama_ckpt / "model.safetensors").is_file():
        sys.exit(f"pyvene-bench: no checkpoint in {llama_ckpt}; create it with: "
                 f"{sys.argv[0]} --make-checkpoint-llama {llama_ckpt}")

    import torch
    import transformers
    from transformers import GPT2LMHeadModel, LlamaForCausalLM

    stub_plotting_modules()
    with contextlib.redirect_stdout(io.StringIO()):  # pyvene prints an nnsight notice on import
        import pyvene as pv
    logging.disable(logging.WARNING)
    transformers.utils.logging.disable_progress_bar()

    dev = torch.device(args.device)
    cuda = dev.type == "cuda"
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    quick = args.quick
    only = set(filter(None, args.only.split(",")))
    layers = [N_LAYER // 2] if quick else list(range(N_LAYER))
    reps_fwd = 3 if quick else 10
    reps_gen = 1 if quick else 3
    das_warm, das_steps = (1, 1) if quick else (2, 10)

    # Quick mode patches 3 heads (govene's Sweeper always patches all 12).
    head_list = [0, 5, 11] if quick else list(range(N_HEAD))

    def sweep_positions(n):
        """The positions a sweep covers on an n-token prompt (as in Go)."""
        return [0, 3, n // 2, n - 1] if quick else list(range(n))

    def sync():
        if cuda:
            torch.cuda.synchronize()

    def timed(fn):
        sync()
        t = time.perf_counter()
        r = fn()
        sync()
        return (time.perf_counter() - t) * 1e3, r

    def ids(p, b=1):
        return {"input_ids": torch.tensor([p] * b, dtype=torch.long, device=dev)}

    def load_model(cls, path):
        """Loads a checkpoint as float32 eager attention, frozen, on dev; returns
        the model and the load time in ms."""
        t0 = time.perf_counter()
        m = cls.from_pretrained(str(path), attn_implementation="eager")
        m.float().to(dev).eval()
        for p in m.parameters():
            p.requires_grad_(False)
        sync()
        ms = (time.perf_counter() - t0) * 1e3
        log(f"loaded {path} in {ms:.0f} ms on {dev} ({args.threads} threads){' [quick]' if quick else ''}")
        return m, ms

    model, load_ms = load_model(GPT2LMHeadModel, ckpt)

    def last_probs(logits):
        return torch.softmax(logits[:, -1].float(), dim=-1)

    def new_iv(reps, m=None):
        iv = pv.IntervenableModel(pv.IntervenableConfig(representations=reps), model if m is None else m)
        iv.set_device(dev, set_model=False)
        return iv

    res = {"impl": "pyvene", "device": str(dev), "host": socket.gethostname(), "quick": quick,
           "threads": args.threads, "cores": os.cpu_count(), "checkpoint": str(ckpt), "load_ms": load_ms,
           "versions": {"python": platform.python_version(), "torch": torch.__version__,
                        "transformers": transformers.__version__, "pyvene": "0.1.8"},
           "sweep_layers": layers, "workloads": {}, "checks": {}}
    if cuda:
        res["gpu"] = torch.cuda.get_device_name(dev)
    W = res["workloads"]

    def want(name):
        return not only or name in only

    # ---- (a) one intervened forward --------------------------------------------------
    def forward(name, m, vocab, what):
        """The forward workload on model m (ids below vocab): W[name], checks[name]."""
        iv = new_iv([pv.RepresentationConfig(layer=6, component="block_output", unit="pos",
                                             max_number_of_units=1, intervention_type=pv.VanillaIntervention)], m)
        base, src = ids(prompt(0, 16, vocab)), ids(prompt(1, 16, vocab))

        def fwd():
            with torch.no_grad():
                _, out = iv(base, [src], {"sources->base": (15, 15)})
            return out.logits

        first, logits = timed(fwd)
        times = [timed(fwd)[0] for _ in range(reps_fwd)]
        W[name] = {"first_ms": first, "steady_ms": statistics.median(times), "min_ms": min(times), "reps": reps_fwd,
                   "what": what}
        last = logits[0, -1]
        res["checks"][name] = {"argmax": int(last.argmax()), "max_logit": float(last.max()),
                               "logit_norm": float(last.double().norm())}
        log(f"{name}: first {first:.1f} ms, steady {W[name]['steady_ms']:.1f} ms")

    if want("forward"):
        forward("forward", model, VOCAB, "1 x 16 tokens, Vanilla block_output L6 at the last position, one source")

    # ---- (b) causal tracing ------------------------------------------------------------
    level = 3 * float(model.transformer.wte.weight.float().std())
    gen = torch.Generator().manual_seed(1)
    noise = (torch.randn(3, N_EMBD, generator=gen) * level).to(dev)
    subject = [1, 2, 3]

    def trace_iv(layer, batch=1):
        # pyvene broadcasts only 1-D constant sources, so the noise is given at the
        # gathered units' full shape [batch, 3, 768].
        return new_iv([
            pv.RepresentationConfig(layer=0, component="block_input", unit="pos", max_number_of_units=3,
                                    intervention_type=pv.AdditionIntervention,
                                    source_representation=noise.expand(batch, 3, N_EMBD).contiguous()),
            pv.RepresentationConfig(layer=layer, component="block_output", unit="pos", max_number_of_units=1,
                                    intervention_type=pv.VanillaIntervention)])

    def clean_target(p):
        with torch.no_grad():
            return int(model(**ids(p)).logits[0, -1].argmax())

    def trace(p):
        base, target = ids(p), clean_target(p)
        grid = []
        for layer in layers:
            iv = trace_iv(layer)
            row = []
            for pos in sweep_positions(len(p)):
                with torch.no_grad():
                    _, out = iv(base, [None, base], {"sources->base": ([None, [[pos]]], [[subject], [[pos]]])})
                row.append(float(last_probs(out.logits)[0, target]))
            grid.append(row)
        return grid

    def trace_batched(p):
        target, per = clean_target(p), [[q] for q in sweep_positions(len(p))]
        n = len(per)
        base = ids(p, n)
        grid = []
        for layer in layers:
            iv = trace_iv(layer, n)
            with torch.no_grad():
                _, out = iv(base, [None, base], {"sources->base": ([None, per], [[subject] * n, per])})
            grid.append(last_probs(out.logits)[:, target].tolist())
        return grid

    def grid_check(grid, cols):
        """Every cell as "layer:column" (column: position or head), for the
        cross-check with govene's grid."""
        return {"cells": {f"{layer}:{c}": v for layer, row in zip(layers, grid) for c, v in zip(cols, row)}}

    def sweep_entry(fn, p, what, settings):
        first, grid = timed(lambda: fn(p))
        if quick:  # one sweep only: first and steady are the same run
            return {"first_ms": first, "steady_ms": first, "reps": 0, "settings": settings, "what": what}, grid
        steady, grid = timed(lambda: fn(p))
        return {"first_ms": first, "steady_ms": steady, "reps": 1, "settings": settings, "what": what}, grid

    p16, p12 = prompt(2, 16), prompt(3, 12)
    npos = len(sweep_positions(16))
    nset = len(layers) * npos
    if want("trace"):
        W["trace"], grid = sweep_entry(trace, p16, f"{len(layers)} layers x {npos} positions, one forward per setting", nset)
        res["checks"]["trace"] = grid_check(grid, sweep_positions(16))
        log(f"trace: first {W['trace']['first_ms']:.0f} ms, steady {W['trace']['steady_ms']:.0f} ms")
    if want("trace_batched"):
        W["trace_batched"], bgrid = sweep_entry(trace_batched, p16, f"{len(layers)} forwards of batch {npos}", nset)
        res["checks"]["trace_batched"] = grid_check(bgrid, sweep_positions(16))
        log(f"trace_batched: first {W['trace_batched']['first_ms']:.0f} ms, steady {W['trace_batched']['steady_ms']:.0f} ms")
    if want("trace_newlen"):
        ms, g = timed(lambda: trace(p12))
        n12 = len(sweep_positions(12))
        W["trace_newlen"] = {"first_ms": ms, "steady_ms": ms, "reps": 1, "settings": len(layers) * n12,
                             "what": f"{len(layers)} layers x {n12} positions, new 12-token prompt"}
        res["checks"]["trace_newlen"] = grid_check(g, sweep_positions(12))
        log(f"trace_newlen: {ms:.0f} ms")

    # ---- (c) head patching -------------------------------------------------------------
    def heads_iv(layer):
        return new_iv([pv.RepresentationConfig(layer=layer, component="head_attention_value_output", unit="h.pos",
                                               max_number_of_units=1, intervention_type=pv.VanillaIntervention)])

    def heads(pair):
        pb, ps = pair
        base, src, last = ids(pb), ids(ps), len(pb) - 1
        target = clean_target(ps)
        grid = []
        for layer in layers:
            iv = heads_iv(layer)
            row = []
            for h in head_list:
                loc = [[[[h]], [[last]]]]
                with torch.no_grad():
                    _, out = iv(base, [src], {"sources->base": (loc, loc)})
                row.append(float(last_probs(out.logits)[0, target]))
            grid.append(row)
        return grid

    def heads_batched(pair):
        pb, ps = pair
        nh = len(head_list)
        base, src, last = ids(pb, nh), ids(ps, nh), len(pb) - 1
        target = clean_target(ps)
        loc = [[[[h] for h in head_list], [[last]] * nh]]
        grid = []
        for layer in layers:
            iv = heads_iv(layer)
            with torch.no_grad():
                _, out = iv(base, [src], {"sources->base": (loc, loc)})
            grid.append(last_probs(out.logits)[:, target].tolist())
        return grid

    h16, h12 = (prompt(4, 16), prompt(5, 16)), (prompt(6, 12), prompt(7, 12))
    hset = len(layers) * len(head_list)
    if want("heads"):
        W["heads"], grid = sweep_entry(heads, h16, f"{len(layers)} layers x {len(head_list)} heads (h.pos, last position), one forward per setting", hset)
        res["checks"]["heads"] = grid_check(grid, head_list)
        log(f"heads: first {W['heads']['first_ms']:.0f} ms, steady {W['heads']['steady_ms']:.0f} ms")
    if want("heads_batched"):
        W["heads_batched"], bgrid = sweep_entry(heads_batched, h16, f"{len(layers)} forwards of batch {len(head_list)}", hset)
        res["checks"]["heads_batched"] = grid_check(bgrid, head_list)
        log(f"heads_batched: first {W['heads_batched']['first_ms']:.0f} ms, steady {W['heads_batched']['steady_ms']:.0f} ms")
    if want("heads_newlen"):
        ms, g = timed(lambda: heads(h12))
        W["heads_newlen"] = {"first_ms": ms, "steady_ms": ms, "reps": 1, "settings": hset,
                             "what": f"{len(layers)} layers x {len(head_list)} heads, new 12-token prompts"}
        res["checks"]["heads_newlen"] = grid_check(g, head_list)
        log(f"heads_newlen: {ms:.0f} ms")

    # ---- (d) DAS training step ---------------------------------------------------------
    if want("das_step"):
        torch.manual_seed(1)
        iv = new_iv([pv.RepresentationConfig(layer=6, component="block_output", unit="pos", max_number_of_units=1,
                                             low_rank_dimension=64,
                                             intervention_type=pv.LowRankRotatedSpaceIntervention)])
        iv.disable_model_gradients()
        opt = torch.optim.Adam(iv.get_trainable_parameters(), lr=1e-3)
        nsteps = das_warm + das_steps
        batches = []
        for s in range(nsteps):
            ex = range(8 * s, 8 * s + 8)
            batches.append(({"input_ids": torch.tensor([prompt(100 + i, 16) for i in ex], device=dev)},
                            {"input_ids": torch.tensor([prompt(300 + i, 16) for i in ex], device=dev)},
                            torch.tensor([das_label(i) for i in ex], device=dev)))

        def step(b):
            base, src, labels = b
            _, out = iv(base, [src], {"sources->base": 15})
            loss = torch.nn.functional.cross_entropy(out.logits[:, -1].float(), labels)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            return loss.item()

        times, losses = [], []
        for b in batches:
            ms, loss = timed(lambda: step(b))
            times.append(ms)
            losses.append(loss)
        steady = times[das_warm:]
        W["das_step"] = {"first_ms": times[0], "steady_ms": statistics.median(steady), "min_ms": min(steady),
                         "reps": len(steady), "step_ms": times,
                         "what": "LowRankRotatedSpace r=64 block_output L6, batch 8 x 16, Adam, fwd+bwd+step"}
        res["checks"]["das_step"] = {"first_loss": losses[0]}
        log(f"das_step: first {times[0]:.0f} ms, steady {W['das_step']['steady_ms']:.0f} ms")

    # ---- (e) steered generation --------------------------------------------------------
    def generate(name, m, embd, vocab, what):
        """The generate workload on model m (width embd, ids below vocab):
        W[name], checks[name]."""
        steer = torch.tensor([steer_value(j) for j in range(embd)], dtype=torch.float32, device=dev)
        iv = new_iv([pv.RepresentationConfig(layer=6, component="mlp_output", unit="pos", max_number_of_units=1,
                                             intervention_type=pv.AdditionIntervention, source_representation=steer)], m)
        p = ids(prompt(30, 16, vocab))["input_ids"]
        base = {"input_ids": p, "attention_mask": torch.ones_like(p)}

        def gen():
            with torch.no_grad():
                _, out = iv.generate(base, unit_locations=None, intervene_on_prompt=True, max_new_tokens=32,
                                     do_sample=False, pad_token_id=vocab - 1, eos_token_id=None)
            seq = out if isinstance(out, torch.Tensor) else out.sequences
            return seq[0, 16:].tolist()

        first, toks = timed(gen)
        times = [timed(gen)[0] for _ in range(reps_gen)]
        W[name] = {"first_ms": first, "steady_ms": statistics.median(times), "min_ms": min(times),
                   "reps": reps_gen, "new_tokens": len(toks), "what": what}
        res["checks"][name] = {"tokens": toks}
        log(f"{name}: first {first:.0f} ms, steady {W[name]['steady_ms']:.0f} ms")

    if want("generate"):
        generate("generate", model, N_EMBD, VOCAB, "greedy 32 tokens, 16-token prompt, steering vector added to mlp_output L6")

    # ---- (f) the same forward and generation on the random Llama -----------------------
    llama_names = [w for w in ("forward_llama", "generate_llama") if want(w)]
    if llama_names and llama_ckpt is None:
        log(f"no --llama-checkpoint: skipping {', '.join(llama_names)}")
    elif llama_names:
        llama, res["llama_load_ms"] = load_model(LlamaForCausalLM, llama_ckpt)
        res["llama_checkpoint"] = str(llama_ckpt)
        cfg = llama.config
        if want("forward_llama"):
            forward("forward_llama", llama, cfg.vocab_size,
                    "Llama, 1 x 16 tokens, Vanilla block_output L6 at the last position, one source")
        if want("generate_llama"):
            generate("generate_llama", llama, cfg.hidden_size, cfg.vocab_size,
                     "Llama, greedy 32 tokens, 16-token prompt, steering vector added to mlp_output L6")
        del llama

    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if cuda:
        res["peak_gpu_mb"] = torch.cuda.max_memory_allocated(dev) / 2**20
    text = json.dumps(res, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n")
    else:
        print(text)


def das_label(i):
    """Label of DAS example i (mirrored in Go)."""
    return (i * 7907 + 11) % VOCAB


if __name__ == "__main__":
    main()
