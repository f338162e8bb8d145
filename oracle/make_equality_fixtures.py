#!/usr/bin/env python3
"""Make govene's fixture for pyvene's DAS_Main_Introduction (mlp/testdata/equality_pyvene.json).

pyvene's tutorial trains a 3-layer MLP (hidden 16, ReLU) on hierarchical equality over
fresh random 4-d entity vectors, then trains a full RotatedSpaceIntervention on the
first layer's block_output with two linked interventions: dims 0-7 take WX from one
source, dims 8-15 take YZ from another, on batches of 6400 that interchange WX, YZ or
both (2000 Adam steps at lr 1e-3), and reports test IIA 0.97. This script does the
same with pyvene 0.1.8 on the CPU for two MLPs:

    tutorial      the tutorial's recipe (AdamW lr 1e-3, linear decay, 3 x 1024 steps
                  of 1024, gradient clipping 1.0 as transformers' Trainer does)
    weight_decay  govene's recipe in mlp's test (the same with weight decay 1.0 and
                  8000 steps)

and writes, per model, the trained MLP weights (torch layout, transposed to [in, out]),
its task accuracy on 10000 fresh inputs, and pyvene's test IIA per interchange type
(WX, YZ, both; 4000 fresh examples each). govene's TestEqualityDASMatchesPyvene trains
its own DAS on the same weights and must land near pyvene's IIA.

The samplers are the tutorial's, vectorized: bases draw ABCD, AABB, AACD or ABCC with
probability 1/4; a source for variable V with value v is drawn from the two patterns
where V = v; the intervention type is uniform over WX, YZ, both, one type per batch.

    oracle/.venv/bin/python oracle/make_equality_fixtures.py

Takes about 10 minutes on two cores. The numbers are seeded but not bit-reproducible
across machines (float reductions), so the Go test compares with a tolerance.
"""

import contextlib
import io
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np
import torch

with contextlib.redirect_stdout(io.StringIO()):  # pyvene prints an nnsight notice on import
    import pyvene as pv
    from pyvene.models.mlp.modelings_mlp import MLPConfig

E = 4  # entity width; the MLP's input is 4 entities = 16 floats
OUT = Path(__file__).resolve().parent.parent / "mlp" / "testdata" / "equality_pyvene.json"


class Task:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def vec(self, n):
        return np.round(self.rng.uniform(-1, 1, size=(n, E)), 2)

    def _build(self, n, patterns):
        A, B, C, D = self.vec(n), self.vec(n), self.vec(n), self.vec(n)
        ents = {"A": A, "B": B, "C": C, "D": D}
        pick = self.rng.integers(0, len(patterns), size=n)
        out = np.zeros((n, 4, E))
        for k, p in enumerate(patterns):
            rows = pick == k
            for slot, name in enumerate(p):
                out[rows, slot] = ents[name][rows]
        return out

    def sample(self, n):
        return self._build(n, ["ABCD", "AABB", "AACD", "ABCC"])

    def sample_with(self, n, var, value):
        return self._build(n, {
            ("WX", True): ["AACD", "AACC"], ("WX", False): ["ABCD", "ABCC"],
            ("YZ", True): ["ABCC", "AACC"], ("YZ", False): ["ABCD", "AACD"],
        }[(var, bool(value))])


def equal(x, a, b):
    return np.all(x[:, a] == x[:, b], axis=-1)


def label(x):
    return (equal(x, 0, 1) == equal(x, 2, 3)).astype(np.int64)


def train_mlp(task, steps, weight_decay):
    config = MLPConfig(h_dim=E * 4, activation_function="relu", n_layer=3, num_classes=2, pdrop=0.0)
    with contextlib.redirect_stdout(io.StringIO()):
        _, _, model = pv.create_mlp_classifier(config)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1 - s / steps))
    model.train()
    for _ in range(steps):
        x = task.sample(1024)
        logits = model(inputs_embeds=torch.tensor(x.reshape(-1, 16), dtype=torch.float32))[0]
        loss = torch.nn.functional.cross_entropy(logits, torch.tensor(label(x)))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
    model.eval()
    x = task.sample(10000)
    with torch.no_grad():
        pred = model(inputs_embeds=torch.tensor(x.reshape(-1, 16), dtype=torch.float32))[0].argmax(1).numpy()
    return model, float((pred == label(x)).mean())


def counterfactuals(task, n, which):
    """which: 0 interchanges WX, 1 YZ, 2 both (the tutorial's intervention_id)."""
    base = task.sample(n)
    wx, yz = equal(base, 0, 1), equal(base, 2, 3)
    sources = []
    if which in (0, 2):
        v = bool(task.rng.integers(0, 2))
        sources.append(task.sample_with(n, "WX", v))
        wx = np.full(n, v)
    if which in (1, 2):
        v = bool(task.rng.integers(0, 2))
        sources.append(task.sample_with(n, "YZ", v))
        yz = np.full(n, v)
    return base, sources, (wx == yz).astype(np.int64)


def intervene(iv, base, sources, which):
    n = base.shape[0]
    t = lambda a: {"inputs_embeds": torch.tensor(a.reshape(n, 1, 16), dtype=torch.float32)}
    loc = [[0]] * n
    lo, hi = [list(range(0, 8))] * n, [list(range(8, 16))] * n
    if which == 2:
        out = iv(t(base), [t(sources[0]), t(sources[1])], {"sources->base": ([loc, loc], [loc, loc])}, subspaces=[lo, hi])
    elif which == 0:
        out = iv(t(base), [t(sources[0]), None], {"sources->base": ([loc, None], [loc, None])}, subspaces=[lo, None])
    else:
        out = iv(t(base), [None, t(sources[0])], {"sources->base": ([None, loc], [None, loc])}, subspaces=[None, hi])
    logits = out[1][0]
    return logits.reshape(n, -1)


def das(model, task, steps=2000, batch=6400):
    config = pv.IntervenableConfig(
        model_type=type(model),
        representations=[
            pv.RepresentationConfig(0, "block_output", "pos", 1, subspace_partition=None, intervention_link_key=0),
            pv.RepresentationConfig(0, "block_output", "pos", 1, subspace_partition=None, intervention_link_key=0),
        ],
        intervention_types=pv.RotatedSpaceIntervention,
    )
    iv = pv.IntervenableModel(config, model, use_fast=True)
    iv.disable_model_gradients()
    params = [{"params": next(iter(iv.interventions.values())).rotate_layer.parameters()}]  # linked: one rotation
    opt = torch.optim.Adam(params, lr=1e-3)
    losses = []
    for _ in range(steps):
        which = int(task.rng.integers(0, 3))
        base, sources, y = counterfactuals(task, batch, which)
        loss = torch.nn.functional.cross_entropy(intervene(iv, base, sources, which), torch.tensor(y))
        loss.backward()
        opt.step()
        iv.set_zero_grad()
        losses.append(loss.item())
    iia = []
    with torch.no_grad():
        for which in range(3):
            base, sources, y = counterfactuals(task, 4000, which)
            iia.append(float((intervene(iv, base, sources, which).argmax(-1).numpy() == y).mean()))
    return iia, float(np.mean(losses[-100:]))


def main():
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    models = []
    for name, steps, wd in [("tutorial", 3 * 1024, 0.0), ("weight_decay", 8000, 1.0)]:
        random.seed(42)
        torch.manual_seed(42)
        task = Task(42)
        t0 = time.time()
        model, acc = train_mlp(task, steps, wd)
        iia, tail = das(model, task)
        weights = {k: (v.T if v.dim() == 2 else v).tolist() for k, v in model.state_dict().items()}
        models.append({"name": name, "mlp_steps": steps, "weight_decay": wd, "task_accuracy": acc,
                       "pyvene_iia": iia, "pyvene_test_iia": float(np.mean(iia)), "pyvene_final_loss": tail,
                       "weights": weights})
        print(f"{name}: task accuracy {acc:.4f}, pyvene IIA {iia} -> {np.mean(iia):.4f} ({time.time() - t0:.0f}s)", file=sys.stderr)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pyvene": pv.__version__ if hasattr(pv, "__version__") else "0.1.8",
                               "torch": torch.__version__, "das_steps": 2000, "das_batch": 6400,
                               "models": models}, indent=1))
    tmp.replace(OUT)


if __name__ == "__main__":
    main()
