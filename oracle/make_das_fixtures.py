#!/usr/bin/env python3
"""Make govene's parity fixtures for pyvene's trainable / basis interventions (pv/testdata/das_*).

Runs pyvene 0.1.8 FORWARD passes (no training) on the random `odd` GPT-2 checkpoint
(gpt2/testdata/odd: n_layer=3, n_head=3, n_embd=24, n_inner=40, vocab 1000) with each of
RotatedSpace, LowRankRotatedSpace, BoundlessRotatedSpace, SigmoidMaskRotatedSpace,
SigmoidMask, PCARotatedSpace, Autoencoder and JumpReLUAutoencoder interventions at
block_output layer 1 (one case at mlp_output), unit pos, batch 2, one source, per-example
full-form locations, with pyvene's own seeded random weights, and writes

    pv/testdata/das_cases.json            one object per case (schema in das_notes.md)
    pv/testdata/das_reference.safetensors float32 tensors named "{case}/..."
    pv/testdata/das_notes.md              what pyvene does per type + its quirks

Every weight is saved exactly as pyvene's forward uses it, under govene's weight names
(for orthogonally parametrized rotations: `rotate_layer.weight`, the orthonormal matrix
after the parametrization, not the underlying `original`).

Every answer is also recomputed by a small independent implementation of each type's
math (plain torch hooks and explicit formulas, from the saved weights), which must agree
with pyvene to 1e-5; where pyvene raises or cannot express govene's per-unit semantics,
that implementation gives `govene_expected` (what govene should produce).

Run from the repository root:

    oracle/.venv/bin/python oracle/make_das_fixtures.py [--check]

--check regenerates into a temporary folder and compares bytes with pv/testdata/.
The output is byte-for-byte deterministic (fixed seeds, one thread).
"""

import os

os.environ.setdefault("MKL_CBWR", "COMPATIBLE")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
import contextlib
import copy
import hashlib
import io
import json
import logging
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import safetensors.numpy
import torch
import transformers
from transformers import GPT2LMHeadModel

with contextlib.redirect_stdout(io.StringIO()):  # pyvene prints an nnsight notice on import
    import pyvene as pv

logging.disable(logging.WARNING)
warnings.filterwarnings("ignore")  # SigmoidMask calls torch.tensor(tensor)

REPO = Path(__file__).resolve().parent.parent
CKPT = REPO / "gpt2" / "testdata" / "odd"
OUT = REPO / "pv" / "testdata"
FILES = ["das_cases.json", "das_reference.safetensors", "das_notes.md"]

SEED = 5151
D = 24  # n_embd: width of block_output / mlp_output

_rng = np.random.default_rng(SEED)
BASE = _rng.integers(0, 1000, size=(2, 4), dtype=np.int64)  # base: batch 2, length 4 (keeps the file < 1 MB)
SRC = _rng.integers(0, 1000, size=(2, 7), dtype=np.int64)  # source: batch 2, length 7
PCA_FIT = _rng.integers(0, 1000, size=(4, 12), dtype=np.int64)  # ids whose activations fit the PCA

# Per-example full-form locations: source ex0 pos 1, ex1 pos 4 -> base ex0 pos 3, ex1 pos 2.
PER_EX = {"sources->base": ([[[1], [4]]], [[[3], [2]]])}
# Two units per example (max_number_of_units=2).
PER_EX2 = {"sources->base": ([[[1, 3], [4, 0]]], [[[3, 1], [2, 0]]])}


def per_ex(*dims):
    """subspaces for one intervention: dims[e] for example e."""
    return [[list(d) for d in dims]]


def case(name, desc, itype, *, component="block_output", n=1, low_rank=None, py_kwargs=None,
         locs=PER_EX, subspaces=None, govene_subspaces="same", setup=None, govene="compare",
         note=None, expect_error=False, seed_of=None):
    return dict(name=name, desc=desc, itype=itype, component=component, n=n, low_rank=low_rank, seed_of=seed_of,
                py_kwargs=py_kwargs or {}, locs=locs, subspaces=subspaces,
                govene_subspaces=subspaces if govene_subspaces == "same" else govene_subspaces,
                setup=setup, govene=govene, note=note, expect_error=expect_error)


# ----------------------------------------------------------------------------------
# Setups: change pyvene's initial weights / temperature / interchange_dim.


def set_boundless(iv, rng):
    iv.set_temperature(torch.tensor(5.0))
    with torch.no_grad():
        iv.intervention_boundaries.data = torch.tensor([0.3])


def set_smrs(iv, rng):
    with torch.no_grad():
        iv.masks.data = torch.from_numpy(rng.standard_normal(iv.masks.shape[0]).astype(np.float32))
    iv.set_temperature(torch.tensor(2.0))


def set_sigmoid_mask(iv, rng):
    with torch.no_grad():
        iv.mask.data = torch.from_numpy(rng.standard_normal(iv.mask.shape[0]).astype(np.float32))
    iv.set_temperature(torch.tensor(0.5))


def set_interchange(dims):
    def f(iv, rng):
        iv.set_interchange_dim(list(dims))
    return f


def set_jumprelu(iv, rng):
    n, k = iv.W_enc.shape
    with torch.no_grad():
        iv.W_enc.data = torch.from_numpy((rng.standard_normal((n, k)) * 0.5).astype(np.float32))
        iv.W_dec.data = torch.from_numpy((rng.standard_normal((k, n)) * 0.5).astype(np.float32))
        iv.threshold.data = torch.from_numpy(rng.uniform(0.0, 1.0, k).astype(np.float32))
        iv.b_enc.data = torch.from_numpy((rng.standard_normal(k) * 0.2).astype(np.float32))
        iv.b_dec.data = torch.from_numpy((rng.standard_normal(n) * 0.2).astype(np.float32))


def set_blockdiag(iv, rng):
    """A 2-unit rotation [2d, 2d] (or [2d, 2r]) made of the same [d, d] ([d, r]) block twice:
    pyvene's joint rotation of the flattened units then equals a per-unit rotation."""
    n, k = iv.rotate_layer.weight.shape
    rng = np.random.default_rng(SEED + 7)  # the same block in every blockdiag case of one shape
    q, _ = np.linalg.qr(rng.standard_normal((n // 2, k // 2)))
    w = np.zeros((n, k), np.float32)
    w[: n // 2, : k // 2] = q
    w[n // 2:, k // 2:] = q
    with torch.no_grad():
        iv.rotate_layer.weight = torch.from_numpy(w)


def set_multi(*fs):
    def f(iv, rng):
        for g in fs:
            g(iv, rng)
    return f


# ----------------------------------------------------------------------------------
# Cases


def build_cases():
    C = []
    R, LR, B = "RotatedSpaceIntervention", "LowRankRotatedSpaceIntervention", "BoundlessRotatedSpaceIntervention"
    SMRS, SM = "SigmoidMaskRotatedSpaceIntervention", "SigmoidMaskIntervention"
    PCA, AE, JR = "PCARotatedSpaceIntervention", "AutoencoderIntervention", "JumpReLUAutoencoderIntervention"

    C.append(case("rotated_space", "RotatedSpace block_output L1, no subspaces (swaps every rotated dim)", R))
    C.append(case("rotated_space_subspace", "RotatedSpace, subspaces [0,1,2,5] for both examples", R,
                  subspaces=per_ex([0, 1, 2, 5], [0, 1, 2, 5])))
    C.append(case("rotated_space_subspace_per_example", "RotatedSpace, subspaces [[0,1],[4,5]] (per example, same length)", R,
                  subspaces=per_ex([0, 1], [4, 5])))
    C.append(case("rotated_space_subspace_ragged", "RotatedSpace, subspaces [[0,1],[4,5,6]] (per example, ragged)", R,
                  subspaces=per_ex([0, 1], [4, 5, 6])))
    C.append(case("low_rank", "LowRankRotatedSpace r=4, no subspaces", LR, low_rank=4,
                  py_kwargs=dict(low_rank_dimension=4)))
    C.append(case("low_rank_subspace", "LowRankRotatedSpace r=4, subspaces [0,2] for both examples", LR, low_rank=4,
                  py_kwargs=dict(low_rank_dimension=4), subspaces=per_ex([0, 2], [0, 2])))
    C.append(case("low_rank_subspace_per_example",
                  "LowRankRotatedSpace r=4, subspaces [[0,1],[2,3]] (per example) without a subspace_partition", LR,
                  low_rank=4, py_kwargs=dict(low_rank_dimension=4), subspaces=per_ex([0, 1], [2, 3]),
                  govene="expected", expect_error=True))
    C.append(case("low_rank_mlp_output", "LowRankRotatedSpace r=6 on mlp_output L1, no subspaces", LR,
                  component="mlp_output", low_rank=6, py_kwargs=dict(low_rank_dimension=6)))
    C.append(case("boundless", "BoundlessRotatedSpace, temperature 5.0, intervention_boundaries 0.3", B,
                  setup=set_boundless))
    C.append(case("boundless_subspace_ignored", "as boundless (same seeds, so the same weights), with pyvene subspaces "
                  "[0,1] for both examples, which BoundlessRotatedSpace ignores: the same logits; govene: no subspaces",
                  B, setup=set_boundless, subspaces=per_ex([0, 1], [0, 1]), govene_subspaces=None, seed_of="boundless"))
    C.append(case("sigmoid_mask_rotated_space", "SigmoidMaskRotatedSpace, masks ~ N(0,1), temperature 2.0", SMRS,
                  setup=set_smrs))
    C.append(case("sigmoid_mask", "SigmoidMask (neuron basis), mask ~ N(0,1), temperature 0.5", SM,
                  setup=set_sigmoid_mask))
    C.append(case("pca", "PCARotatedSpace, 6 components (numpy SVD of standardized L1 block_output activations)",
                  PCA, low_rank=6))
    C.append(case("pca_subspace", "PCARotatedSpace, 6 components, subspaces [0,1,3] for both examples", PCA,
                  low_rank=6, subspaces=per_ex([0, 1, 3], [0, 1, 3])))
    C.append(case("autoencoder_default", "Autoencoder latent_dim 8, pyvene's default interchange_dim (= embed_dim 24)",
                  AE, low_rank=8, py_kwargs=dict(latent_dim=8), govene="expected", expect_error=True,
                  note="govene_expected swaps every latent (govene with no subspaces)"))
    C.append(case("autoencoder_dims", "Autoencoder latent_dim 8, set_interchange_dim([0, 2, 5]); govene: subspaces [0,2,5]",
                  AE, low_rank=8, py_kwargs=dict(latent_dim=8), setup=set_interchange([0, 2, 5]),
                  govene_subspaces=per_ex([0, 2, 5], [0, 2, 5])))
    C.append(case("autoencoder_all", "Autoencoder latent_dim 8, set_interchange_dim(range(8)); govene: no subspaces",
                  AE, low_rank=8, py_kwargs=dict(latent_dim=8), setup=set_interchange(range(8)),
                  govene_subspaces=None))
    C.append(case("jumprelu", "JumpReLUAutoencoder k=16, random nonzero weights, no subspaces", JR, low_rank=16,
                  py_kwargs=dict(low_rank_dimension=16), setup=set_jumprelu))
    C.append(case("jumprelu_wide", "JumpReLUAutoencoder k=32 > embed_dim: pyvene swaps latents [:24] only; "
                  "govene: subspaces 0..23", JR, low_rank=32, py_kwargs=dict(low_rank_dimension=32),
                  setup=set_jumprelu, govene_subspaces=per_ex(range(24), range(24))))
    C.append(case("jumprelu_subspace", "JumpReLUAutoencoder k=16, subspaces [1,4,7,8,11] for both examples", JR,
                  low_rank=16, py_kwargs=dict(low_rank_dimension=16), setup=set_jumprelu,
                  subspaces=per_ex([1, 4, 7, 8, 11], [1, 4, 7, 8, 11])))

    # several units per example
    C.append(case("rotated_space_2units", "RotatedSpace, max_number_of_units 2, 2 positions per example: "
                  "pyvene rotates the flattened [b, 48] with one 48x48 matrix", R, n=2, locs=PER_EX2,
                  govene="not_expressible"))
    C.append(case("rotated_space_2units_1pos", "RotatedSpace, max_number_of_units 2 but 1 position per example", R,
                  n=2, govene="run_only", expect_error=True))
    C.append(case("rotated_space_2units_blockdiag", "RotatedSpace, 2 units, 48x48 weight = blockdiag(W, W): "
                  "equals govene's per-unit rotation W", R, n=2, locs=PER_EX2, setup=set_blockdiag,
                  govene="blockdiag"))
    C.append(case("rotated_space_2units_blockdiag_subspace", "as rotated_space_2units_blockdiag, pyvene subspaces "
                  "[0,1,5,24,25,29] (dims 0,1,5 of both units) = govene subspaces [0,1,5]", R, n=2, locs=PER_EX2,
                  setup=set_blockdiag, subspaces=per_ex([0, 1, 5, 24, 25, 29], [0, 1, 5, 24, 25, 29]),
                  govene_subspaces=per_ex([0, 1, 5], [0, 1, 5]), govene="blockdiag"))
    C.append(case("low_rank_2units_blockdiag", "LowRankRotatedSpace, 2 units, pyvene r=8 weight [48,8] = "
                  "blockdiag(W, W) with W [24,4] = govene r=4", LR, n=2, locs=PER_EX2, low_rank=4,
                  py_kwargs=dict(low_rank_dimension=8), setup=set_blockdiag, govene="blockdiag"))
    C.append(case("sigmoid_mask_2units", "SigmoidMask, 2 units: mask has embed_dim = 48 entries", SM, n=2,
                  locs=PER_EX2, setup=set_sigmoid_mask, govene="expected", expect_error=True,
                  note="govene_expected applies mask[:24] to each unit"))
    C.append(case("jumprelu_2units", "JumpReLUAutoencoder k=16, 2 units: W_enc is [48, 16]", JR, n=2, locs=PER_EX2,
                  low_rank=16, py_kwargs=dict(low_rank_dimension=16), setup=set_jumprelu, govene="expected",
                  expect_error=True, note="govene_expected uses W_enc[:24], W_dec[:, :24], b_dec[:24] on each unit"))
    names = [c["name"] for c in C]
    assert len(names) == len(set(names))
    return C


# ----------------------------------------------------------------------------------
# Weights, as pyvene uses them, under govene's names.


def weights_of(itype, iv):
    """[(govene name, pyvene attribute path, tensor)] in govene's order."""
    t = lambda x: x.detach().to(torch.float32).clone()  # noqa: E731
    if itype in ("RotatedSpaceIntervention", "LowRankRotatedSpaceIntervention"):
        return [("rotate_layer", "rotate_layer.weight", t(iv.rotate_layer.weight))]
    if itype == "BoundlessRotatedSpaceIntervention":
        return [("rotate_layer", "rotate_layer.weight", t(iv.rotate_layer.weight)),
                ("intervention_boundaries", "intervention_boundaries", t(iv.intervention_boundaries))]
    if itype == "SigmoidMaskRotatedSpaceIntervention":
        return [("rotate_layer", "rotate_layer.weight", t(iv.rotate_layer.weight)), ("masks", "masks", t(iv.masks))]
    if itype == "SigmoidMaskIntervention":
        return [("mask", "mask", t(iv.mask))]
    if itype == "PCARotatedSpaceIntervention":
        return [("pca_components", "pca_components", t(iv.pca_components)),
                ("pca_mean", "pca_mean", t(iv.pca_mean)), ("pca_std", "pca_std", t(iv.pca_std))]
    if itype == "AutoencoderIntervention":
        a = iv.autoencoder
        return [("encoder.weight", "autoencoder.encoder.0.weight", t(a.encoder[0].weight)),
                ("encoder.bias", "autoencoder.encoder.0.bias", t(a.encoder[0].bias)),
                ("decoder.weight", "autoencoder.decoder.0.weight", t(a.decoder[0].weight)),
                ("decoder.bias", "autoencoder.decoder.0.bias", t(a.decoder[0].bias))]
    if itype == "JumpReLUAutoencoderIntervention":
        return [(k, k, t(getattr(iv, k))) for k in ["W_enc", "W_dec", "threshold", "b_enc", "b_dec"]]
    raise AssertionError(itype)


def govene_weights(c, W):
    """The weights govene gets: pyvene's, except for the per-unit reading of 2-unit cases."""
    if c["govene"] == "blockdiag":
        w = W["rotate_layer"]
        n, k = w.shape
        blk = w[: n // 2, : k // 2]
        assert np.abs(w[n // 2:, k // 2:] - blk).max() < 1e-6, "blocks differ"
        assert np.abs(w[: n // 2, k // 2:]).max() < 1e-6 and np.abs(w[n // 2:, : k // 2]).max() < 1e-6
        return {"rotate_layer": np.ascontiguousarray(blk)}
    if c["govene"] == "expected" and c["n"] == 2:
        if c["itype"] == "SigmoidMaskIntervention":
            return {"mask": W["mask"][:D].copy()}
        if c["itype"] == "JumpReLUAutoencoderIntervention":
            return {"W_enc": W["W_enc"][:D].copy(), "W_dec": np.ascontiguousarray(W["W_dec"][:, :D]),
                    "threshold": W["threshold"], "b_enc": W["b_enc"], "b_dec": W["b_dec"][:D].copy()}
    return W


# ----------------------------------------------------------------------------------
# Independent implementation of each type's math (explicit formulas on the saved weights).


def select_mask(width, b, dims):
    """[b, width] 0/1 mask: dims[e] per example (None: all)."""
    m = torch.zeros(b, width)
    for e in range(b):
        if dims is None:
            m[e] = 1
        else:
            m[e, list(dims[e])] = 1
    return m


def apply_math(itype, gb, gs, W, temp, dims, flatten):
    """gb, gs: [b, u, d] gathered base / source units. W: govene-named numpy weights.
    dims[e]: selected dims (rotated/latent space) per example or None.
    flatten: treat the u units as one [b, u*d] vector (pyvene's DistributedRepresentation)."""
    b, u, d = gb.shape
    T = {k: torch.from_numpy(np.asarray(v)) for k, v in W.items()}
    if flatten:
        x, y = gb.reshape(b, u * d), gs.reshape(b, u * d)
    else:
        x, y = gb, gs

    def mix(rb, rs, m):  # m broadcast over units
        if m.dim() == 2 and rb.dim() == 3:
            m = m[:, None, :]
        return rb * (1 - m) + rs * m

    if itype == "RotatedSpaceIntervention":
        R = T["rotate_layer"]
        rb, rs = x @ R, y @ R
        out = mix(rb, rs, select_mask(R.shape[1], b, dims)) @ R.T
    elif itype == "LowRankRotatedSpaceIntervention":
        R = T["rotate_layer"]
        diff = (y @ R - x @ R)
        m = select_mask(R.shape[1], b, dims)
        out = x + (diff * (m[:, None, :] if diff.dim() == 3 else m)) @ R.T
    elif itype == "BoundlessRotatedSpaceIntervention":
        R = T["rotate_layer"]
        n = R.shape[0]
        pop = torch.arange(n, dtype=torch.float32)
        hi = torch.clamp(T["intervention_boundaries"], 1e-3, 1)[0] * n
        m = torch.sigmoid(pop / temp) * torch.sigmoid((hi - pop) / temp)
        out = mix(x @ R, y @ R, m) @ R.T
    elif itype == "SigmoidMaskRotatedSpaceIntervention":
        R = T["rotate_layer"]
        out = mix(x @ R, y @ R, torch.sigmoid(T["masks"] / temp)) @ R.T
    elif itype == "SigmoidMaskIntervention":
        out = mix(x, y, torch.sigmoid(T["mask"] / temp))
    elif itype == "PCARotatedSpaceIntervention":
        Cm, mu, sd = T["pca_components"], T["pca_mean"], T["pca_std"]
        rb, rs = ((x - mu) / sd) @ Cm.T, ((y - mu) / sd) @ Cm.T
        out = (mix(rb, rs, select_mask(Cm.shape[0], b, dims)) @ Cm) * sd + mu
    elif itype == "AutoencoderIntervention":
        We, be, Wd, bd = T["encoder.weight"], T["encoder.bias"], T["decoder.weight"], T["decoder.bias"]
        enc = lambda v: torch.relu((v - bd) @ We.T + be)  # noqa: E731
        lat = mix(enc(x), enc(y), select_mask(We.shape[0], b, dims))
        out = lat @ Wd.T + bd
    elif itype == "JumpReLUAutoencoderIntervention":
        def enc(v):
            pre = v @ T["W_enc"] + T["b_enc"]
            return (pre > T["threshold"]).to(pre.dtype) * torch.relu(pre)
        lat = mix(enc(x), enc(y), select_mask(T["W_enc"].shape[1], b, dims))
        out = lat @ T["W_dec"] + T["b_dec"]
    else:
        raise AssertionError(itype)
    return out.reshape(b, u, d)


def hooked_run(model, c, fn):
    """Run the base with the site's units at the base locations replaced by
    fn(gathered base units, gathered source units); both [b, u, d]."""
    path = f"transformer.h.1{'.mlp' if c['component'] == 'mlp_output' else ''}"
    mod = model.get_submodule(path)
    src_locs, base_locs = c["locs"]["sources->base"]
    src_locs, base_locs = src_locs[0], base_locs[0]
    store = {}

    def cap(m, a, out):
        store["src"] = out.detach().clone()

    h = mod.register_forward_hook(cap)
    with torch.no_grad():
        model(input_ids=torch.from_numpy(SRC))
    h.remove()
    gs = torch.stack([store["src"][e, src_locs[e]] for e in range(len(src_locs))])

    def setter(m, a, out):
        gb = torch.stack([out[e, base_locs[e]] for e in range(len(base_locs))])
        new = fn(gb, gs)
        out = out.clone()
        for e in range(len(base_locs)):
            out[e, base_locs[e]] = new[e]
        return out

    h = mod.register_forward_hook(setter)
    with torch.no_grad():
        logits = model(input_ids=torch.from_numpy(BASE)).logits
    h.remove()
    return logits


def pyvene_dims(c, iv_obj):
    """The dims pyvene's math selects, per example (None: all)."""
    if c["itype"] == "AutoencoderIntervention":
        idx = iv_obj.interchange_dim.reshape(-1).tolist()
        return [idx, idx]
    if c["itype"] == "JumpReLUAutoencoderIntervention" and c["subspaces"] is None:
        k = iv_obj.W_enc.shape[1]
        lim = min(int(iv_obj.interchange_dim), k)
        return [list(range(lim))] * 2
    if c["itype"] in ("BoundlessRotatedSpaceIntervention", "SigmoidMaskRotatedSpaceIntervention",
                      "SigmoidMaskIntervention"):
        return None  # pyvene ignores subspaces for these
    return None if c["subspaces"] is None else c["subspaces"][0]


# ----------------------------------------------------------------------------------
# pyvene


class SimplePCA:
    """What PCARotatedSpaceIntervention reads from an sklearn PCA: components_ [k, n]."""

    def __init__(self, components):
        self.components_ = components


def fit_pca(model, k):
    """Standardized L1 block_output activations of PCA_FIT -> mean, std, top-k right singular vectors."""
    store = {}
    h = model.get_submodule("transformer.h.1").register_forward_hook(lambda m, a, o: store.setdefault("x", o.detach()))
    with torch.no_grad():
        model(input_ids=torch.from_numpy(PCA_FIT))
    h.remove()
    x = store["x"].reshape(-1, D).double().numpy()
    mean, std = x.mean(0), x.std(0)
    z = (x - mean) / std
    _, _, vt = np.linalg.svd(z - z.mean(0), full_matrices=False)
    vt = vt[:k] * np.sign(vt[:k, :1])  # fix the sign of each component
    return SimplePCA(vt.astype(np.float32)), mean.astype(np.float32), std.astype(np.float32)


def build(model, c):
    embed = D * c["n"]
    kw = dict(layer=1, component=c["component"], unit="pos", max_number_of_units=c["n"])
    itype = getattr(pv, c["itype"])
    if c["itype"] == "PCARotatedSpaceIntervention":
        pca, mean, std = fit_pca(model, c["low_rank"])
        obj = itype(embed_dim=embed, pca=pca, pca_mean=mean, pca_std=std)
        rc = pv.RepresentationConfig(**kw, intervention=obj)
    else:
        rc = pv.RepresentationConfig(**kw, intervention_type=itype, **c["py_kwargs"])
    return pv.IntervenableModel(pv.IntervenableConfig(representations=[rc]), model)


class Store:
    """Tensor store; identical contents are stored once, under the first name."""

    def __init__(self):
        self.tensors, self.by_hash = {}, {}

    def add(self, name, a):
        a = np.ascontiguousarray(np.asarray(a, dtype=np.float32))
        h = hashlib.sha256(str(a.shape).encode() + a.tobytes()).hexdigest()
        if h in self.by_hash:
            return self.by_hash[h]
        assert name not in self.tensors, name
        self.tensors[name] = a
        self.by_hash[h] = name
        return name


def to_json(o):
    if isinstance(o, (list, tuple)):
        return [to_json(x) for x in o]
    if isinstance(o, dict):
        return {str(k): to_json(v) for k, v in o.items()}
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, range):
        return list(o)
    return o


def maxdiff(a, b):
    return float((torch.as_tensor(a) - torch.as_tensor(b)).abs().max())


TEMP_TYPES = ("BoundlessRotatedSpaceIntervention", "SigmoidMaskRotatedSpaceIntervention", "SigmoidMaskIntervention")
LOW_RANK_NAME = {"LowRankRotatedSpaceIntervention": "low_rank_dimension", "AutoencoderIntervention": "latent_dim",
                 "JumpReLUAutoencoderIntervention": "low_rank_dimension",
                 "PCARotatedSpaceIntervention": "pca.components_.shape[0]"}


def run_case(model, idx, c, store, report):
    name = c["name"]
    rec = {"name": name, "description": c["desc"],
           "config": {"layer": 1, "component": c["component"], "unit": "pos", "max_number_of_units": c["n"],
                      "intervention_type": c["itype"], "low_rank_dimension": c["low_rank"]},
           "pyvene_kwargs": to_json(c["py_kwargs"]),
           "base": BASE.tolist(), "sources": [SRC.tolist()],
           "unit_locations": to_json(c["locs"]),
           "subspaces": to_json(c["subspaces"]), "govene_subspaces": to_json(c["govene_subspaces"]),
           "govene": c["govene"]}
    if c["note"]:
        rec["note"] = c["note"]
    info = {"name": name, "desc": c["desc"], "govene": c["govene"]}
    torch.manual_seed(SEED + 1000 * idx)
    rng = np.random.default_rng(SEED + 1000 * idx + 1)
    ivm = build(model, c)
    key = ivm.sorted_keys[0]
    obj = ivm.interventions[key]
    if c["setup"] is not None:
        c["setup"](obj, rng)
    rec["keys"] = [key]
    temp = float(obj.temperature) if c["itype"] in TEMP_TYPES else None
    rec["temperature"] = temp
    rec["interchange_dim"] = None if obj.interchange_dim is None else obj.interchange_dim.tolist()
    W = {g: t.numpy() for g, _, t in weights_of(c["itype"], obj)}
    rec["pyvene_weights"] = {g: store.add(f"{name}/pyvene/{g}", W[g]) for g in W}
    rec["pyvene_weight_paths"] = {g: p for g, p, _ in weights_of(c["itype"], obj)}
    rec["pyvene_weight_shapes"] = {g: list(W[g].shape) for g in W}
    rec["pyvene_state_dict"] = {k: list(v.shape) for k, v in obj.state_dict().items()}
    GW = govene_weights(c, W)
    rec["weights"] = {g: store.add(f"{name}/govene/{g}", GW[g]) for g in GW}
    rec["weight_shapes"] = {g: list(GW[g].shape) for g in GW}
    info["weight_shapes"] = rec["pyvene_weight_shapes"]

    base = {"input_ids": torch.from_numpy(BASE)}
    sources = [{"input_ids": torch.from_numpy(SRC)}]
    try:
        with torch.no_grad():
            orig, inter = ivm(base, sources=sources, unit_locations=copy.deepcopy(c["locs"]),
                              subspaces=copy.deepcopy(c["subspaces"]), output_original_output=True)
        err = None
    except Exception as e:  # pyvene raised: record the message
        err = f"{type(e).__name__}: {e}".strip().splitlines()[0]
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules()), "hooks left behind"
    assert (err is not None) == c["expect_error"], f"{name}: error {err!r}, expected error: {c['expect_error']}"

    flat = c["itype"] not in ("SigmoidMaskIntervention", "JumpReLUAutoencoderIntervention")
    if err is None:
        rec["original"] = store.add(f"{name}/original", orig.logits.numpy())
        rec["intervened"] = store.add(f"{name}/intervened", inter.logits.numpy())
        # independent answer with pyvene's semantics
        with torch.no_grad():
            ref = hooked_run(model, c, lambda gb, gs: apply_math(c["itype"], gb, gs, W, temp,
                                                                 pyvene_dims(c, obj), flat))
        d = maxdiff(inter.logits, ref)
        scale = float(inter.logits.abs().max())
        assert d <= 1e-5 * scale + 1e-6, f"{name}: independent math differs from pyvene by {d}"
        info["ref_diff"] = d
        info["logit_change"] = maxdiff(inter.logits, orig.logits)
        rec["reference_max_abs_diff"] = d
    else:
        rec["error"] = err
        info["error"] = err
    if c["govene"] in ("expected", "blockdiag"):
        # govene's semantics: per-unit math with the govene weights and govene_subspaces
        gdims = None if c["govene_subspaces"] is None else c["govene_subspaces"][0]
        if c["itype"] == "AutoencoderIntervention" and c["govene_subspaces"] is None:
            gdims = None
        with torch.no_grad():
            exp = hooked_run(model, c, lambda gb, gs: apply_math(c["itype"], gb, gs, GW, temp, gdims, False))
        if err is None:
            # blockdiag: govene's per-unit answer must equal pyvene's joint one
            d = maxdiff(exp, inter.logits)
            assert d <= 1e-5 * float(inter.logits.abs().max()) + 1e-6, f"{name}: per-unit math differs by {d}"
            info["blockdiag_diff"] = d
        else:
            rec["govene_expected"] = store.add(f"{name}/govene_expected", exp.numpy())
    if c["itype"] == "JumpReLUAutoencoderIntervention":
        # fraction of active latents on the gathered units (for the notes)
        with torch.no_grad():
            store_x = {}
            h = model.get_submodule("transformer.h.1").register_forward_hook(
                lambda m, a, o: store_x.setdefault("x", o.detach()))
            model(input_ids=torch.from_numpy(BASE))
            h.remove()
            x = store_x["x"].reshape(-1, D * c["n"]) if c["n"] == 1 else store_x["x"].reshape(-1, D)
            T = {k: torch.from_numpy(v) for k, v in GW.items()}
            pre = x @ T["W_enc"] + T["b_enc"]
            info["active"] = float(((pre > T["threshold"]) & (pre > 0)).float().mean())
    report.append(info)
    return rec


# ----------------------------------------------------------------------------------
# Notes


NOTES = r"""
## What pyvene 0.1.8 does, per type (interventions.py, layers.py, modeling_utils.do_intervention)

Notation: `b`/`s` the gathered base/source unit vectors, `W` = `rotate_layer.weight`
(orthonormal after `torch.nn.utils.parametrizations.orthogonal`: matrix_exp map for the
square `RotateLayer`, householder for the `[n, r]` `LowRankRotateLayer`), `rb = b·W`,
`rs = s·W`, `n = embed_dim = component width × max_number_of_units`.

* **RotatedSpace** `[n, n]`: `out = swap(rb, rs)·Wᵀ`, swap = `_do_intervention_by_swap`
  (no subspaces: `rb[..., :n] = rs[..., :n]`, i.e. every rotated dim, which makes it a
  vanilla swap; with subspaces: those rotated dims, per example).
* **LowRankRotatedSpace** `[n, r]`: `out = b + ((rs − rb)[S])·W[:, S]ᵀ`; no subspaces: all
  r dims. Subspaces are only accepted when every example has the same list (fast path)
  or with a `subspace_partition`: anything else hits `assert self.subspace_partition is
  not None` (case `low_rank_subspace_per_example`, `AssertionError` with an empty message).
* **BoundlessRotatedSpace** `[n, n]` + `intervention_boundaries` `[1]` (init 0.5),
  `temperature` (init 50): `mask_i = σ(i/T)·σ((clamp(β, 1e-3, 1)·n − i)/T)` for
  `i = 0..n−1` (`intervention_population = arange(n)`, an int64 non-trainable Parameter),
  `out = ((1−mask)·rb + mask·rs)·Wᵀ`. **Subspaces are ignored.**
* **SigmoidMaskRotatedSpace** `[n, n]` + `masks` `[n]` (init 100), `temperature` (init 50):
  `mask = σ(masks/T)`, same mix as Boundless. **Subspaces are ignored.**
* **SigmoidMask** `mask` `[n]` (init 0), `temperature` (init 0.01), in the neuron basis:
  `out = (1−σ(mask/T))·b + σ(mask/T)·s`. **Subspaces are ignored.** It is a
  LocalistRepresentationIntervention (not flattened), so with several units the `[n]`
  = `[24·units]` mask cannot broadcast against `[b, units, 24]`: it raises
  (case `sigmoid_mask_2units`).
* **PCARotatedSpace** (not trainable; built by hand since `pca`, `pca_mean`, `pca_std` are
  not RepresentationConfig fields): `pca_components` = `pca.components_` `[k, n]`,
  `pca_mean`, `pca_std` `[n]`: `r = ((x − mean)/std)·Cᵀ`, swap in r (no subspaces: all k,
  since `[..., :n]` covers k ≤ n), `out = swap·C·std + mean`. With k < n this is a
  projection: even the base's untouched part loses its out-of-span component. sklearn is
  not in the oracle venv; the fixtures' PCA is a plain object with `components_` from a
  numpy SVD of standardized L1 block_output activations (ids `PCA_FIT`, 48 rows).
* **Autoencoder** (`latent_dim` kwarg): `torch.nn.Linear` encoder `[latent, n]` + bias,
  decoder `[n, latent]` + bias; `latent = relu((x − decoder.bias)·encoderᵀ + encoder.bias)`,
  `out = latent'·decoderᵀ + decoder.bias`. **It ignores subspaces and swaps
  `latent[..., interchange_dim]`**, where `interchange_dim` is the buffer
  `tensor(embed_dim)` by default: a 0-dim tensor, so a *single* latent, index 24 ->
  `IndexError` for any latent_dim ≤ 24 (case `autoencoder_default`); for latent_dim > n it
  silently swaps latent n only. Users must call `set_interchange_dim(list_of_latents)`;
  govene's subspaces over the latents are the same thing (cases `autoencoder_dims`,
  `autoencoder_all`). Its state dict names are `autoencoder.encoder.0.weight`,
  `autoencoder.encoder.0.bias`, `autoencoder.decoder.0.weight`, `autoencoder.decoder.0.bias`
  (govene: `encoder.weight`, ...).
* **JumpReLUAutoencoder** (`low_rank_dimension` = k): `W_enc` `[n, k]`, `W_dec` `[k, n]`,
  `threshold`, `b_enc` `[k]`, `b_dec` `[n]`, all initialized to **zeros** (an all-zero SAE
  maps everything to 0, so the fixtures set random nonzero weights).
  `pre = x·W_enc + b_enc`, `latent = (pre > threshold)·relu(pre)`, swap latents,
  `out = latent'·W_dec + b_dec`. Note the decoder does not subtract `b_dec` before
  encoding (unlike Autoencoder). Without subspaces the swap is `[..., :interchange_dim]`
  = `[..., :n]`: **for k > n only the first n latents are swapped** (case `jumprelu_wide`,
  k = 32: govene needs subspaces 0..23 to match). It is constructed with
  `keep_last_dim=True` (not flattened), but its weights are `[24·units, k]`, so several
  units raise (case `jumprelu_2units`).

Every `rotate_layer` is saved as `rotate_layer.weight` (the parametrized orthonormal
matrix). The parametrization's own tensors are in `pyvene_state_dict`
(`rotate_layer.parametrizations.weight.original` and, for matrix_exp, `...base`), not used
here. Temperatures are Parameters in the state dict (`temperature`), as are the buffers
`embed_dim` and `interchange_dim`.

## Several units per example: flattening (modeling_utils.do_intervention)

`do_intervention` flattens the gathered `[b, u, d]` units to `[b, u·d]` before calling
any intervention that is neither a LocalistRepresentationIntervention nor
`keep_last_dim` (RotatedSpace, LowRank, Boundless, SigmoidMaskRotatedSpace, PCA,
Autoencoder), and reshapes back to `u` units afterwards. Together with
`embed_dim = d × max_number_of_units`, a pyvene distributed intervention on 2 units is
ONE rotation of the concatenated 48-vector (a `[48, 48]` RotatedSpace, `[48, r]`
LowRank, a boundary over 48 rotated dims), mixing the units. Subspaces then index the
48 rotated dims. govene applies one `[24, 24]` (`[24, r]`) rotation to each unit
separately: the two agree exactly when pyvene's weight is block diagonal with the same
block twice (cases `rotated_space_2units_blockdiag`, `..._subspace`, where pyvene's dims
`d` and `24 + d` are govene's dim `d`, and `low_rank_2units_blockdiag`, pyvene r = 8 ↔
govene r = 4); a general pyvene 48×48 rotation cannot be expressed in govene
(`rotated_space_2units`, `govene: not_expressible`). With fewer positions than
max_number_of_units the flattened vector is too short and the matmul raises
(`rotated_space_2units_1pos`). Localist types (SigmoidMask) and keep_last_dim types
(JumpReLU) are not flattened but still size their weights with `embed_dim = 48`, so they
raise on 2 units; `govene_expected` is the per-unit answer with the first 24 entries of
each weight (what govene computes with [24]-sized weights).

## Other observations

* Rotated-space subspaces are applied per example correctly even when the per-example
  lists have the same length but different values (`rotated_space_subspace_per_example`):
  the flattened rotated tensor is 2-D `[b, n]`, so `_do_intervention_by_swap`'s
  `pad_idx = arange(shape[-2])` indexes the batch, not the units (the 3-D union quirk of
  the localist types, pv_notes.md quirk 8, does not arise for one unit).
* RotatedSpace / LowRank with r = n and no subspaces are vanilla swaps up to rounding.
* `SigmoidMask.forward` calls `torch.tensor(self.temperature)` on a Parameter (a
  UserWarning; the value is the same).

## Where govene's semantics differ from pyvene's (what the `govene` field encodes)

* Multi-unit distributed interventions: pyvene one joint rotation of the flattened units,
  govene one rotation per unit (`blockdiag` cases show the two agree for block-diagonal
  pyvene weights; `not_expressible` otherwise).
* Autoencoder: pyvene swaps `latent[..., interchange_dim]` and ignores subspaces; govene
  swaps the latents its subspaces name (all of them without subspaces).
* JumpReLUAutoencoder with k > n: pyvene swaps latents `[:n]`, govene all k.
* LowRankRotatedSpace with different per-example subspaces and no partition: pyvene
  raises, govene applies each example's dims (`govene_expected`).
* Boundless / SigmoidMaskRotatedSpace / SigmoidMask: pyvene ignores subspaces; govene
  multiplies the learned mask by the subspace mask, so the two agree only without
  subspaces (the fixtures give govene none: `boundless_subspace_ignored`).
"""


def write_notes(path, cases_json, report, env):
    ckpt_sha = hashlib.sha256((CKPT / "model.safetensors").read_bytes()).hexdigest()
    lines = ["# pyvene 0.1.8 parity fixtures: trainable and basis interventions", "",
             "Generated by `oracle/make_das_fixtures.py` (do not edit by hand) with " + env + ".", "",
             f"Checkpoint: gpt2/testdata/odd (model.safetensors sha256 {ckpt_sha}; GPT2LMHeadModel, eager "
             "attention, float32, eval). Base: batch 2 x length 4 random ids; one source: batch 2 x length 7. "
             "Every intervention is at layer 1, unit `pos`, one source, full-form per-example locations "
             "(source ex0 pos 1, ex1 pos 4 -> base ex0 pos 3, ex1 pos 2; the 2-unit cases: source (1,3)|(4,0) "
             "-> base (3,1)|(2,0)). Weights are pyvene's own seeded initialization, changed only where a case "
             "says so.", "",
             "## Files", "",
             "* `das_cases.json`: list of cases. Fields: `name`, `description`, `config` (`layer`, `component`, "
             "`unit`, `max_number_of_units`, `intervention_type` (pyvene class name), `low_rank_dimension` = "
             "govene's LowRankDimension: r, PCA k, autoencoder latent size), `pyvene_kwargs` (extra "
             "RepresentationConfig fields given to pyvene), `base`, `sources` ([one batch]), `unit_locations` "
             "(`{\"sources->base\": [src_locs, base_locs]}`, per intervention per example), `subspaces` (as "
             "passed to pyvene), `govene_subspaces` (the equivalent govene subspaces), `temperature` (null for "
             "types without one), `interchange_dim` (pyvene's buffer after setup), `keys`, `weights` "
             "({govene weight name: tensor} to SetWeight), `weight_shapes`, `pyvene_weights` / "
             "`pyvene_weight_paths` / `pyvene_weight_shapes` (pyvene's tensors and attribute paths; equal to "
             "`weights` except in 2-unit cases), `pyvene_state_dict` (name -> shape), `original` / `intervened` "
             "logits `[2, 4, 1000]` (absent when pyvene raised), `error`, `reference_max_abs_diff` (pyvene vs "
             "the script's independent formulas), `govene` (how govene is checked: `compare` = same answer as "
             "pyvene; `blockdiag` = pyvene's block-diagonal 2-unit weight, govene gets one block, same answer; "
             "`expected` = compare with `govene_expected`; `not_expressible` = pyvene's joint multi-unit weight "
             "has no govene form; `run_only` = pyvene raised, nothing to compare), `govene_expected` (logits), "
             "`note`.",
             "* `das_reference.safetensors`: float32 tensors named from the JSON; identical tensors are stored "
             "once (all cases share one `original`).", "",
             "## Cases", ""]
    for info in report:
        bits = []
        if "error" in info:
            bits.append(f"**raised** `{info['error']}`")
        else:
            bits.append(f"max |logit change| {info['logit_change']:.3g}, independent formulas agree to "
                        f"{info['ref_diff']:.2g}")
        if "blockdiag_diff" in info:
            bits.append(f"per-unit (govene) answer agrees to {info['blockdiag_diff']:.2g}")
        if "active" in info:
            bits.append(f"{100 * info['active']:.0f}% of base latents active")
        bits.append("weights " + ", ".join(f"{k} {v}" for k, v in info["weight_shapes"].items()))
        bits.append(f"govene: {info['govene']}")
        lines.append(f"* `{info['name']}`: {info['desc']}: " + "; ".join(bits))
    lines.append(NOTES)
    path.write_text("\n".join(lines))


# ----------------------------------------------------------------------------------


def generate(out_dir: Path):
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    model = GPT2LMHeadModel.from_pretrained(CKPT, attn_implementation="eager", dtype=torch.float32)
    model.eval()
    cfg = model.config
    assert (cfg.n_layer, cfg.n_head, cfg.n_embd, cfg.n_inner, cfg.vocab_size) == (3, 3, 24, 40, 1000), cfg
    store, cases_json, report = Store(), [], []
    cases = build_cases()
    index = {c["name"]: i for i, c in enumerate(cases)}
    for i, c in enumerate(cases):
        cases_json.append(run_case(model, index[c["seed_of"]] if c["seed_of"] else i, c, store, report))
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "das_cases.json", "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(r, separators=(",", ":")) for r in cases_json) + "\n]\n")
    safetensors.numpy.save_file(dict(sorted(store.tensors.items())), str(out_dir / "das_reference.safetensors"))
    env = (f"torch {torch.__version__.split('+')[0]}, transformers {transformers.__version__}, "
           f"pyvene 0.1.8, numpy {np.__version__}")
    write_notes(out_dir / "das_notes.md", cases_json, report, env)
    return report


def main():
    global CKPT
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="regenerate into a temp dir and compare with pv/testdata")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--ckpt", type=Path, default=CKPT, help="checkpoint folder (default gpt2/testdata/odd)")
    args = ap.parse_args()
    CKPT = args.ckpt
    if not (CKPT / "config.json").exists() or not (CKPT / "model.safetensors").exists():
        sys.exit(f"missing checkpoint {CKPT}: run oracle/make_gpt2_fixtures.py first")
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp))
            bad = [f for f in FILES if not (args.out / f).exists()
                   or (Path(tmp) / f).read_bytes() != (args.out / f).read_bytes()]
        if bad:
            sys.exit(f"das fixtures differ from a fresh run: {bad}")
        print("das fixtures up to date")
        return
    report = generate(args.out)
    for f in FILES:
        p = args.out / f
        print(f"{p.relative_to(REPO) if p.is_relative_to(REPO) else p}: {p.stat().st_size} bytes, "
              f"sha256 {hashlib.sha256(p.read_bytes()).hexdigest()}")
    print(f"{len(report)} cases: {sum('error' in r for r in report)} raised in pyvene")


if __name__ == "__main__":
    main()
