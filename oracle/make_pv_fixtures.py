#!/usr/bin/env python3
"""Make govene's pyvene-parity fixtures (pv/testdata/).

Runs pyvene 0.1.8 (the correctness oracle) on the random `odd` GPT-2 checkpoint
(gpt2/testdata/odd: n_layer=3, n_head=3, n_embd=24, n_inner=40, vocab 1000) over a list
of intervention cases and writes

    pv/testdata/pv_cases.json            one object per case (schema in pv_notes.md)
    pv/testdata/pv_reference.safetensors float32 tensors named "{case}/..."
    pv/testdata/pv_notes.md              what pyvene did per case + its quirks

and, for IntervenableModel.generate (greedy decoding, 8 new tokens),

    pv/testdata/gen_cases.json            one object per generation case (schema in gen_notes.md)
    pv/testdata/gen_reference.safetensors float32 step logits named "{case}/..."
    pv/testdata/gen_notes.md              pyvene's generation semantics as observed

Every case is also computed by a small independent implementation of the intended
semantics (reference_run below: plain torch hooks, explicit per-example loops). Where
pyvene's answer differs from it, the case gets a "correct" entry with the independent
answer, so the Go port can test against the correct value while knowing pyvene's.

Run from the repository root:

    oracle/.venv/bin/python oracle/make_pv_fixtures.py [--check] [--only pv|gen]

--check regenerates into a temporary folder and compares bytes with pv/testdata/
(all six files; --only restricts both modes to one family).
The output is byte-for-byte deterministic (fixed seeds, one thread, deterministic
torch algorithms); tensors with identical contents are stored once and shared by name.
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
from pathlib import Path

import numpy as np
import safetensors.numpy
import torch
import transformers
from transformers import GPT2LMHeadModel
import transformers.models.gpt2.modeling_gpt2 as hf_gpt2

with contextlib.redirect_stdout(io.StringIO()):  # pyvene prints an nnsight notice on import
    import pyvene as pv

logging.disable(logging.WARNING)  # pyvene warns on use_fast etc.

REPO = Path(__file__).resolve().parent.parent
CKPT = REPO / "gpt2" / "testdata" / "odd"
OUT = REPO / "pv" / "testdata"

SEED = 4242
NAMES = {
    "VanillaIntervention": pv.VanillaIntervention,
    "AdditionIntervention": pv.AdditionIntervention,
    "SubtractionIntervention": pv.SubtractionIntervention,
    "ZeroIntervention": pv.ZeroIntervention,
    "CollectIntervention": pv.CollectIntervention,
}
CONSTANT_SOURCE = {"ZeroIntervention", "CollectIntervention"}

# ----------------------------------------------------------------------------------
# Inputs: a fixed pool of random id batches (ids < 1000). Base batches are shared
# between cases so that "{...}/original" logits are stored once.

_rng = np.random.default_rng(SEED)


def _ids(b, s):
    return _rng.integers(0, 1000, size=(b, s), dtype=np.int64)


BASE6 = _ids(2, 6)  # the default base: batch 2, length 6
BASE7 = _ids(2, 7)
SRC7 = _ids(2, 7)  # default source (different length from the base on purpose)
SRC8 = _ids(2, 8)
SRC6 = _ids(2, 6)  # same length as BASE6 (whole-tensor interventions)
SRC6B = _ids(2, 6)


# ----------------------------------------------------------------------------------
# Case list


def rep(layer, component, unit="pos", n=1, itype="VanillaIntervention", partition=None,
        group_key=None, link_key=None, source_representation=None):
    return dict(layer=layer, component=component, unit=unit, max_number_of_units=n,
                intervention_type=itype, subspace_partition=partition, group_key=group_key,
                intervention_link_key=link_key, source_representation=source_representation)


def case(name, desc, reps, base=BASE6, sources=(SRC7,), unit_locations=None, subspaces=None,
         source_representations=None, mode="parallel", prior_calls=(), eager_patch=False):
    return dict(name=name, desc=desc, reps=reps, base=base, sources=list(sources),
                unit_locations=unit_locations, subspaces=subspaces,
                source_representations=source_representations, mode=mode,
                prior_calls=list(prior_calls), eager_patch=eager_patch)


POS_COMPONENTS = ["block_input", "block_output", "attention_input", "query_output",
                  "key_output", "value_output", "attention_value_output", "attention_output",
                  "mlp_input", "mlp_activation", "mlp_output"]
HEAD_COMPONENTS = ["head_query_output", "head_key_output", "head_value_output",
                   "head_attention_value_output"]

# Per-example full-form locations: source ex0 pos 1, ex1 pos 4; base ex0 pos 3, ex1 pos 2.
PER_EX = {"sources->base": ([[[1], [4]]], [[[3], [2]]])}
# h.pos, one intervention: [heads per example], [positions per example].
HPOS = {"sources->base": ([[[[0], [2]], [[1], [5]]]], [[[[1], [2]], [[3], [4]]]])}
# h: heads per example.
HEADS = {"sources->base": ([[[0], [2]]], [[[1], [2]]])}
BO1 = lambda **kw: [rep(1, "block_output", **kw)]  # noqa: E731
SAME3 = {"sources->base": ([[[3], [3]]], [[[3], [3]]])}


def build_cases():
    rng = np.random.default_rng(SEED + 1)
    const24 = rng.standard_normal((24,)).astype(np.float32)
    srcrep_a = rng.standard_normal((2, 1, 24)).astype(np.float32)
    srcrep_b = rng.standard_normal((2, 1, 24)).astype(np.float32)

    C = []
    # 1. location forms on block_output layer 1
    C.append(case("loc_int", "Vanilla block_output L1, shorthand int 3 (source pos 3 -> base pos 3)",
                  BO1(), unit_locations={"sources->base": 3}))
    C.append(case("loc_pair", "Vanilla block_output L1, shorthand tuple (2, 5): source pos 2 -> base pos 5",
                  BO1(), unit_locations={"sources->base": (2, 5)}))
    C.append(case("loc_base_only_zero", "Zero block_output L1, (None, 4): zero base pos 4, no sources",
                  BO1(itype="ZeroIntervention"), sources=(), unit_locations={"sources->base": (None, 4)}))
    C.append(case("loc_source_only", "Vanilla block_output L1, (3, None): source-only shorthand",
                  BO1(), unit_locations={"sources->base": (3, None)}))
    C.append(case("loc_flat2_max2", "Vanilla block_output L1, flat list [1, 4] with max_number_of_units=2",
                  BO1(n=2), unit_locations={"sources->base": [1, 4]}))
    C.append(case("loc_flat3_max3", "Vanilla block_output L1, flat list [1, 4, 5] with max_number_of_units=3",
                  BO1(n=3), unit_locations={"sources->base": [1, 4, 5]}))
    C.append(case("loc_per_example", "Vanilla block_output L1, full nested form with different positions per example",
                  BO1(), unit_locations={"sources->base": ([[[1], [3]]], [[[2], [5]]])}))
    C.append(case("loc_sticky_fast", "as loc_per_example, but on an IntervenableModel first called once with {'sources->base': 3}",
                  BO1(), unit_locations={"sources->base": ([[[1], [3]]], [[[2], [5]]])},
                  prior_calls=[dict(unit_locations={"sources->base": 3})]))

    # 2. every component at layer 2
    for comp in POS_COMPONENTS:
        C.append(case(f"comp_{comp}", f"Vanilla {comp} L2 unit pos, per-example full-form locations",
                      [rep(2, comp)], unit_locations=PER_EX))
    for comp in HEAD_COMPONENTS:
        C.append(case(f"comp_{comp}_hpos", f"Vanilla {comp} L2 unit h.pos, one head x one position per example",
                      [rep(2, comp, unit="h.pos")], unit_locations=HPOS))
    for comp in HEAD_COMPONENTS:
        C.append(case(f"comp_{comp}_h", f"Vanilla {comp} L2 unit h (whole head, all positions)",
                      [rep(2, comp, unit="h")], sources=(SRC6,), unit_locations=HEADS))
    C.append(case("comp_head_value_output_h_len_mismatch",
                  "Vanilla head_value_output L2 unit h with a length-7 source into a length-6 base",
                  [rep(2, "head_value_output", unit="h")], unit_locations=HEADS))
    C.append(case("comp_head_value_output_hpos_2x2",
                  "Vanilla head_value_output L2 unit h.pos, 2 heads x 2 positions per example (max_number_of_units=4)",
                  [rep(2, "head_value_output", unit="h.pos", n=4)],
                  unit_locations={"sources->base": ([[[[0, 2], [1, 2]], [[1, 3], [0, 6]]]],
                                                    [[[[2, 0], [1, 2]], [[4, 5], [0, 1]]]])}))
    C.append(case("comp_attention_weight", "Vanilla attention_weight L2 unit pos (indexes heads of [b,h,s,s])",
                  [rep(2, "attention_weight")], sources=(SRC6,), unit_locations=HEADS))
    C.append(case("comp_attention_weight_patched",
                  "as comp_attention_weight, with eager attention patched to call attn_dropout (as transformers 4.x did)",
                  [rep(2, "attention_weight")], sources=(SRC6,), unit_locations=HEADS, eager_patch=True))
    C.append(case("hpos_shorthand_int", "Vanilla head_value_output L2 unit h.pos with shorthand int location 2",
                  [rep(2, "head_value_output", unit="h.pos")], unit_locations={"sources->base": 2}))

    # 3. intervention types
    for comp in ["mlp_output", "block_output"]:
        for it in ["AdditionIntervention", "SubtractionIntervention"]:
            short = "add" if it.startswith("Add") else "sub"
            C.append(case(f"{short}_{comp}", f"{it} {comp} L1, per-example locations",
                          [rep(1, comp, itype=it)], unit_locations=PER_EX))
    C.append(case("zero_attention_output_base2", "Zero attention_output L1, {'base': [2, 4]} (2-element list), max units 2",
                  [rep(1, "attention_output", n=2, itype="ZeroIntervention")], sources=(),
                  unit_locations={"base": [2, 4]}))
    C.append(case("zero_attention_output_base3", "Zero attention_output L1, {'base': [1, 2, 4]}, max units 3",
                  [rep(1, "attention_output", n=3, itype="ZeroIntervention")], sources=(),
                  unit_locations={"base": [1, 2, 4]}))
    C.append(case("collect_block_output_1pos", "Collect block_output L1, {'base': 3}",
                  [rep(1, "block_output", itype="CollectIntervention")], sources=(),
                  unit_locations={"base": 3}))
    C.append(case("collect_block_output_2pos_max1", "Collect block_output L1, 2 positions per example, max_number_of_units=1",
                  [rep(1, "block_output", itype="CollectIntervention")], sources=(),
                  unit_locations={"base": [[[1, 4], [2, 5]]]}))
    C.append(case("collect_block_output_2pos_max2", "Collect block_output L1, 2 positions per example, max_number_of_units=2",
                  [rep(1, "block_output", n=2, itype="CollectIntervention")], sources=(),
                  unit_locations={"base": [[[1, 4], [2, 5]]]}))
    C.append(case("collect_havo_hpos", "Collect head_attention_value_output L2 h.pos, 1 head x 1 position per example",
                  [rep(2, "head_attention_value_output", unit="h.pos", itype="CollectIntervention")], sources=(),
                  unit_locations={"base": [[[[0], [2]], [[1], [5]]]]}))
    C.append(case("collect_havo_hpos_2heads", "Collect head_attention_value_output L2 h.pos, 2 heads x 1 position, max units 1",
                  [rep(2, "head_attention_value_output", unit="h.pos", itype="CollectIntervention")], sources=(),
                  unit_locations={"base": [[[[0, 2], [1, 2]], [[3], [4]]]]}))
    C.append(case("collect_mlp_activation", "Collect mlp_activation L0 (n_inner=40), one position per example",
                  [rep(0, "mlp_activation", itype="CollectIntervention")], sources=(),
                  unit_locations={"base": [[[2], [5]]]}))
    C.append(case("collect_head_value_h", "Collect head_value_output L1 unit h (whole head)",
                  [rep(1, "head_value_output", unit="h", itype="CollectIntervention")], sources=(),
                  unit_locations={"base": [[[1], [2]]]}))

    # every component's activations as pyvene sees them (collected; cheap to store)
    for comp in POS_COMPONENTS:
        C.append(case(f"site_{comp}", f"Collect {comp} L2 unit pos, base positions (3|2)",
                      [rep(2, comp, itype="CollectIntervention")], sources=(),
                      unit_locations={"base": [[[3], [2]]]}))
    C.append(case("site_attention_weight", "Collect attention_weight L2 unit pos = heads (1|2)",
                  [rep(2, "attention_weight", itype="CollectIntervention")], sources=(),
                  unit_locations={"base": [[[1], [2]]]}))
    for comp in HEAD_COMPONENTS:
        C.append(case(f"site_{comp}_hpos", f"Collect {comp} L2 unit h.pos, base heads (1|2) x positions (3|4)",
                      [rep(2, comp, unit="h.pos", itype="CollectIntervention")], sources=(),
                      unit_locations={"base": [[[[1], [2]], [[3], [4]]]]}))

    # 4. subspaces (Vanilla block_output L1, base pos 3 <- source pos 3)
    C.append(case("subspace_int", "subspaces=3 (dimension 3 only)", BO1(), unit_locations=SAME3, subspaces=3))
    C.append(case("subspace_flat", "subspaces=[0, 1, 2, 5]", BO1(), unit_locations=SAME3, subspaces=[0, 1, 2, 5]))
    C.append(case("subspace_per_example_ragged", "subspaces=[[[0, 1], [4, 5, 6]]] (per example, different lengths)",
                  BO1(), unit_locations=SAME3, subspaces=[[[0, 1], [4, 5, 6]]]))
    C.append(case("subspace_per_example_same_len", "subspaces=[[[0, 1], [4, 5]]] (per example, same lengths)",
                  BO1(), unit_locations=SAME3, subspaces=[[[0, 1], [4, 5]]]))
    part = [[0, 8], [8, 16], [16, 24]]
    C.append(case("subspace_partition", "subspace_partition [[0,8],[8,16],[16,24]], subspaces=[[[1], [1]]] (dims 8..15)",
                  BO1(partition=part), unit_locations=SAME3, subspaces=[[[1], [1]]]))
    C.append(case("subspace_partition_per_example", "same partition, subspaces=[[[1], [0, 2]]]",
                  BO1(partition=part), unit_locations=SAME3, subspaces=[[[1], [0, 2]]]))

    # 5. several interventions
    two = {"sources->base": ([[[1], [4]], [[2], [0]]], [[[3], [2]], [[5], [1]]])}
    C.append(case("two_groups_two_sources", "Vanilla block_output L0 and L2, own groups, sources [S7, S8]",
                  [rep(0, "block_output"), rep(2, "block_output")], sources=(SRC7, SRC8), unit_locations=two))
    C.append(case("two_groups_one_source", "as two_groups_two_sources with one source (broadcast to both groups)",
                  [rep(0, "block_output"), rep(2, "block_output")], sources=(SRC7,), unit_locations=two))
    C.append(case("group_key_shared", "L0 and L2 with group_key 0 on both: one source group",
                  [rep(0, "block_output", group_key=0), rep(2, "block_output", group_key=0)],
                  sources=(SRC8,), unit_locations=two))
    C.append(case("group_key_descending", "group_key 1 then 0 (not ascending in key order)",
                  [rep(0, "block_output", group_key=1), rep(2, "block_output", group_key=0)],
                  sources=(SRC7, SRC8), unit_locations=two))
    C.append(case("too_many_sources", "3 sources for 2 interventions",
                  [rep(0, "block_output"), rep(2, "block_output")], sources=(SRC7, SRC8, SRC6),
                  unit_locations=two))
    same_loc = {"sources->base": ([[[1], [4]], [[2], [0]]], [[[3], [2]], [[3], [2]]])}
    C.append(case("linked_same_location", "two Vanilla on block_output L1 at the same base positions, intervention_link_key 0, "
                  "subspaces dims 0..11 and 12..23, two sources",
                  [rep(1, "block_output", link_key=0), rep(1, "block_output", link_key=0)],
                  sources=(SRC7, SRC8), unit_locations=same_loc,
                  subspaces=[[list(range(12))] * 2, [list(range(12, 24))] * 2]))
    C.append(case("linked_add_layers", "Addition on block_output L0 and L2 with intervention_link_key 0, two sources",
                  [rep(0, "block_output", itype="AdditionIntervention", link_key=0),
                   rep(2, "block_output", itype="AdditionIntervention", link_key=0)],
                  sources=(SRC7, SRC8), unit_locations=two))

    # 6. source representations
    two_b = {"sources->base": ([[[3], [3]], [[3], [3]]], [[[3], [2]], [[5], [1]]])}
    C.append(case("srcrep_tensor", "source_representations = one [2,1,24] tensor for both interventions (L0, L2 block_output)",
                  [rep(0, "block_output"), rep(2, "block_output")], sources=(), unit_locations=two_b,
                  source_representations=srcrep_a))
    C.append(case("srcrep_list", "source_representations = [A, B] in sorted_keys order",
                  [rep(0, "block_output"), rep(2, "block_output")], sources=(), unit_locations=two_b,
                  source_representations=[srcrep_a, srcrep_b]))
    C.append(case("srcrep_dict", "source_representations = {key0: B, key1: A}",
                  [rep(0, "block_output"), rep(2, "block_output")], sources=(), unit_locations=two_b,
                  source_representations={0: srcrep_b, 1: srcrep_a}))
    C.append(case("srcrep_dict_missing_key", "source_representations = {key1: A} only (two interventions)",
                  [rep(0, "block_output"), rep(2, "block_output")], sources=(), unit_locations=two_b,
                  source_representations={1: srcrep_a}))
    C.append(case("const_source_addition", "Addition on mlp_output L1 with a constant [24] source_representation in the config, {'base': 3}",
                  [rep(1, "mlp_output", itype="AdditionIntervention", source_representation=const24)],
                  sources=(), unit_locations={"base": 3}))

    # 7. whole tensor
    C.append(case("whole_block_output", "Vanilla block_output L1, unit_locations=None (whole tensor), base and source both length 6",
                  BO1(), sources=(SRC6,), unit_locations=None))
    C.append(case("whole_mlp_output_add", "Addition mlp_output L0, unit_locations=None",
                  [rep(0, "mlp_output", itype="AdditionIntervention")], sources=(SRC6B,), unit_locations=None))

    # 8. serial
    C.append(case("serial_two", "serial: block_output L0 source_0 pos (1|2) -> source_1 pos (2|3); then block_output L2 "
                  "source_1 pos (2|3) -> base pos (4|0)",
                  [rep(0, "block_output"), rep(2, "block_output")], sources=(SRC7, SRC8), mode="serial",
                  unit_locations={"source_0->source_1": ([[[1], [2]]], [[[2], [3]]]),
                                  "source_1->base": ([[[2], [3]]], [[[4], [0]]])}))
    C.append(case("serial_mlp", "serial: mlp_output L1 (source_0 pos 5 -> source_1 pos 5), then block_output L1 "
                  "(source_1 pos 5 -> base pos 5), shorthand int locations",
                  [rep(1, "mlp_output"), rep(1, "block_output")], sources=(SRC6, SRC6B), base=BASE7, mode="serial",
                  unit_locations={"source_0->source_1": 5, "source_1->base": 5}))
    names = [c["name"] for c in C]
    assert len(names) == len(set(names)), "duplicate case names"
    return C


# ----------------------------------------------------------------------------------
# Components: module, hook kind, split_three index, per-head


def component_spec(comp):
    m = {
        "block_input": ("transformer.h.{l}", "in", None, False),
        "block_output": ("transformer.h.{l}", "out", None, False),
        "attention_input": ("transformer.h.{l}.attn", "in", None, False),
        "attention_output": ("transformer.h.{l}.attn.resid_dropout", "out", None, False),
        "attention_value_output": ("transformer.h.{l}.attn.c_proj", "in", None, False),
        "head_attention_value_output": ("transformer.h.{l}.attn.c_proj", "in", None, True),
        "attention_weight": ("transformer.h.{l}.attn.attn_dropout", "in", None, False),
        "query_output": ("transformer.h.{l}.attn.c_attn", "out", 0, False),
        "key_output": ("transformer.h.{l}.attn.c_attn", "out", 1, False),
        "value_output": ("transformer.h.{l}.attn.c_attn", "out", 2, False),
        "head_query_output": ("transformer.h.{l}.attn.c_attn", "out", 0, True),
        "head_key_output": ("transformer.h.{l}.attn.c_attn", "out", 1, True),
        "head_value_output": ("transformer.h.{l}.attn.c_attn", "out", 2, True),
        "mlp_input": ("transformer.h.{l}.mlp", "in", None, False),
        "mlp_output": ("transformer.h.{l}.mlp", "out", None, False),
        "mlp_activation": ("transformer.h.{l}.mlp.act", "out", None, False),
    }
    return m[comp]


@contextlib.contextmanager
def eager_calls_attn_dropout():
    """Make eager attention call module.attn_dropout (as transformers 4.x did), so a hook
    on attn_dropout's input sees the attention probabilities [b, h, s, s]."""
    orig = hf_gpt2.eager_attention_forward

    def patched(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
        if scaling is None:
            scaling = query.size(-1) ** -0.5
        w = torch.matmul(query, key.transpose(-1, -2)) * scaling
        if attention_mask is not None:
            w = w + attention_mask
        w = torch.nn.functional.softmax(w, dim=-1).type(value.dtype)
        w = module.attn_dropout(w)
        out = torch.matmul(w, value).transpose(1, 2)
        return out, w

    hf_gpt2.eager_attention_forward = patched
    try:
        yield
    finally:
        hf_gpt2.eager_attention_forward = orig


# ----------------------------------------------------------------------------------
# Independent implementation of the intended semantics


class Site:
    def __init__(self, model, r):
        path, self.kind, self.split, self.head = component_spec(r["component"])
        self.module = model.get_submodule(path.format(l=r["layer"]))
        self.nh = model.config.n_head
        self.comp = r["component"]

    def canon(self, x):
        if self.split is not None:
            e = x.shape[-1] // 3
            x = x[..., self.split * e:(self.split + 1) * e]
        if self.head:
            b, s, e = x.shape
            x = x.reshape(b, s, self.nh, e // self.nh).permute(0, 2, 1, 3)
        return x.clone()

    def uncanon(self, full, c):
        if self.head:
            b, h, s, d = c.shape
            c = c.permute(0, 2, 1, 3).reshape(b, s, h * d)
        if self.split is not None:
            e = full.shape[-1] // 3
            out = full.clone()
            out[..., self.split * e:(self.split + 1) * e] = c
            return out
        return c

    def hook(self, fn):
        """fn(canonical tensor) -> new canonical tensor or None (observe only)."""
        if self.kind == "out":
            def h(mod, args, out):
                assert torch.is_tensor(out), type(out)
                new = fn(self.canon(out))
                return None if new is None else self.uncanon(out, new)
            return self.module.register_forward_hook(h)

        def pre(mod, args, kwargs):
            assert len(args) >= 1 and torch.is_tensor(args[0])
            new = fn(self.canon(args[0]))
            if new is None:
                return None
            return (self.uncanon(args[0], new),) + tuple(args[1:]), kwargs
        return self.module.register_forward_pre_hook(pre, with_kwargs=True)


def gather(c, unit, locs):
    if locs is None:
        return c.clone()
    if unit in ("pos", "h"):
        return torch.stack([c[i, list(locs[i])] for i in range(c.shape[0])])
    assert unit == "h.pos"
    heads, pos = locs
    return torch.stack([c[i][list(heads[i])][:, list(pos[i])] for i in range(c.shape[0])])


def scatter(c, unit, locs, g):
    if locs is None:
        assert g.shape == c.shape
        return g.clone()
    c = c.clone()
    for i in range(c.shape[0]):
        if unit in ("pos", "h"):
            for k, l in enumerate(locs[i]):
                c[i, l] = g[i, k]
        else:
            for a, h in enumerate(locs[0][i]):
                for q, p in enumerate(locs[1][i]):
                    c[i, h, p] = g[i, a, q]
    return c


def apply_op(itype, gb, gs, subs):
    out = gb.clone()
    for i in range(gb.shape[0]):
        S = slice(None) if subs is None else list(subs[i])
        if itype == "VanillaIntervention":
            out[i, ..., S] = gs[i, ..., S]
        elif itype == "AdditionIntervention":
            out[i, ..., S] = gb[i, ..., S] + gs[i, ..., S]
        elif itype == "SubtractionIntervention":
            out[i, ..., S] = gb[i, ..., S] - gs[i, ..., S]
        elif itype == "ZeroIntervention":
            out[i, ..., S] = 0.0
        else:
            raise AssertionError(itype)
    return out


def norm_locs_correct(ul, b, n, mode):
    """The documented location forms, with a Python list always meaning positions and
    a tuple of two meaning (source, base). Returns {key: (src_locs, base_locs)} with
    per-intervention lists (or None)."""
    if ul is None:
        return {"sources->base": ([None] * n, [None] * n)}
    out = {}
    for k, v in ul.items():
        base_only = k == "base"
        k2 = "sources->base" if base_only else k
        if isinstance(v, int):
            full = [[[v]] * b] * n
            out[k2] = (None if base_only else full, full)
        elif isinstance(v, tuple) and len(v) == 2 and all(x is None or isinstance(x, int) for x in v):
            s = None if v[0] is None else [[[v[0]]] * b] * n
            if v[1] is None:
                raise ValueError("a location without a base side")
            t = [[[v[1]]] * b] * n
            out[k2] = (s, t)
        elif isinstance(v, list) and all(isinstance(x, int) for x in v):
            full = [[list(v)] * b] * n
            out[k2] = (None if base_only else full, full)
        else:
            out[k2] = (None, v) if base_only else tuple(v)
    return out


def norm_subspaces(subspaces, b, n, reps):
    if subspaces is None:
        per = [None] * n
    elif isinstance(subspaces, int):
        per = [[[subspaces]] * b] * n
    elif isinstance(subspaces[0], int):
        per = [[list(subspaces)] * b] * n
    else:
        per = subspaces
    res = []
    for j, r in enumerate(reps):
        s = per[j]
        if s is not None and r["subspace_partition"] is not None:
            parts = [list(range(p[0], p[1])) if len(p) == 2 else list(p) for p in r["subspace_partition"]]
            s = [[d for idx in ex for d in parts[idx]] for ex in s]
        res.append(s)
    return res


def groups_of(reps):
    if any(r["group_key"] is not None for r in reps):
        g = {}
        for j, r in enumerate(reps):
            g.setdefault(r["group_key"], []).append(j)
        return [g[k] for k in sorted(g)]
    return [[j] for j in range(len(reps))]


def reference_run(model, c, srcreps_by_index, emulate_hot=False):
    """Intended semantics, independent of pyvene's gather/scatter/broadcast code.
    Returns (intervened logits, [collected tensors]). emulate_hot: model pyvene's linked
    interventions (a later linked key starts from the earlier key's intervened values)."""
    reps, b, n = c["reps"], c["base"].shape[0], len(c["reps"])
    sites = [Site(model, r) for r in reps]
    subs = norm_subspaces(c["subspaces"], b, n, reps)
    groups = groups_of(reps)
    sources = list(c["sources"])
    if len(sources) == 1 and len(groups) > 1:
        sources = sources * len(groups)
    collected, hot = {}, {}

    def setter(j, base_locs, src_val):
        r = reps[j]

        def fn(cb):
            gb = gather(cb, r["unit"], base_locs)
            link = r["intervention_link_key"]
            if emulate_hot and link is not None and link in hot:
                gb = hot[link].clone()
            if r["intervention_type"] == "CollectIntervention":
                S = None if subs[j] is None else subs[j]
                vals = [gb[i, ..., slice(None) if S is None else list(S[i])] for i in range(b)]
                collected[j] = torch.stack(vals)
                return None
            if r["intervention_type"] == "ZeroIntervention":
                gs = torch.zeros_like(gb)
            else:
                gs = src_val() if callable(src_val) else src_val
                gs = gs.expand_as(gb)
            new = apply_op(r["intervention_type"], gb, gs, subs[j])
            if r["intervention_link_key"] is not None:
                hot[r["intervention_link_key"]] = new.clone()
            return scatter(cb, r["unit"], base_locs, new)
        return sites[j].hook(fn)

    def source_value(j, run_store, src_locs):
        def get():
            return gather(run_store[j], reps[j]["unit"], src_locs)
        return get

    def capture(j, store):
        def fn(cs):
            store[j] = cs
            return None
        return sites[j].hook(fn)

    def run(ids):
        with torch.no_grad():
            return model(input_ids=torch.from_numpy(ids)).logits

    if c["mode"] == "parallel":
        locs = norm_locs_correct(c["unit_locations"], b, n, "parallel")["sources->base"]
        store = {}
        if srcreps_by_index is None:
            for g, js in enumerate(groups):
                if g >= len(sources) or sources[g] is None:
                    continue
                hs = [capture(j, store) for j in js]
                run(sources[g])
                for h in hs:
                    h.remove()
        hs = []
        for js in groups:
            for j in js:
                r = reps[j]
                if srcreps_by_index is not None and j in srcreps_by_index:
                    val = torch.from_numpy(srcreps_by_index[j])
                elif r["source_representation"] is not None:
                    val = torch.from_numpy(r["source_representation"])
                elif j in store:
                    val = gather(store[j], r["unit"], locs[0][j])
                elif r["intervention_type"] in CONSTANT_SOURCE:
                    val = None
                else:
                    continue
                hs.append(setter(j, locs[1][j], val))
        logits = run(c["base"])
        for h in hs:
            h.remove()
    else:
        prev = []
        for g, js in enumerate(groups):
            name = f"source_{g}->source_{g + 1}" if g != len(groups) - 1 else f"source_{g}->base"
            locs = norm_locs_correct({name: c["unit_locations"][name]}, b, n, "serial")[name]
            store = {}
            hs = [capture(j, store) for j in js]
            run(sources[g])
            for h in hs + prev:
                h.remove()
            prev = [setter(j, locs[1][k], gather(store[j], reps[j]["unit"], locs[0][k])) for k, j in enumerate(js)]
        logits = run(c["base"])
        for h in prev:
            h.remove()
    return logits, [collected[j] for j in sorted(collected)]


# ----------------------------------------------------------------------------------
# pyvene


def to_json(o):
    if isinstance(o, (list, tuple)):
        return [to_json(x) for x in o]
    if isinstance(o, dict):
        return {str(k): to_json(v) for k, v in o.items()}
    if isinstance(o, np.integer):
        return int(o)
    return o


def build_intervenable(model, c):
    reps = []
    for r in c["reps"]:
        reps.append(pv.RepresentationConfig(
            layer=r["layer"], component=r["component"], unit=r["unit"],
            max_number_of_units=r["max_number_of_units"],
            intervention_type=NAMES[r["intervention_type"]],
            subspace_partition=copy.deepcopy(r["subspace_partition"]),
            group_key=r["group_key"], intervention_link_key=r["intervention_link_key"],
            source_representation=None if r["source_representation"] is None
            else torch.from_numpy(r["source_representation"].copy())))
    return pv.IntervenableModel(pv.IntervenableConfig(representations=reps, mode=c["mode"]), model)


def pyvene_call(iv, c, unit_locations, srcreps):
    base = {"input_ids": torch.from_numpy(c["base"])}
    sources = [{"input_ids": torch.from_numpy(s)} for s in c["sources"]] or None
    with torch.no_grad():
        out = iv(base, sources=sources, unit_locations=copy.deepcopy(unit_locations),
                 source_representations=srcreps, subspaces=copy.deepcopy(c["subspaces"]),
                 output_original_output=True)
    if iv.return_collect_activations:
        (orig, collected), inter = out
    else:
        (orig, inter), collected = out, []
    return orig, inter, collected, sources


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


def close(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=1e-5)


def _with(c, **kw):
    d = dict(c)
    d.update(kw)
    return d


def _hpos_collect_bug(t):
    # pyvene keeps head 0's dh values of [b, nh, np, dh] as [b, np, dh] and reshapes to nh heads
    b, nh, np_, dh = t.shape
    return t[:, 0].reshape(b, np_, nh, dh // nh).permute(0, 2, 1, 3)


# For every case where pyvene departs from the intended semantics: what pyvene computed,
# as text and as a check (pyvene's output must equal the check's answer exactly or to 1e-5).
# check(model, c, by_index, ref_collected) -> (logits or None, collected or None)
DEFECTS = {
    "loc_flat2_max2": (
        "the 2-element list [1, 4] is read as the pair (source 1 -> base 4); intended: positions 1 and 4 on both sides",
        lambda m, c, bi, rc: (reference_run(m, _with(c, unit_locations={"sources->base": (1, 4)}), bi)[0], None)),
    "loc_sticky_fast": (
        "the prior shorthand call left use_fast=True, so both examples are written at example 0's base "
        "position 2 (example 1 gets its source position 3 at base position 2, not 5)",
        lambda m, c, bi, rc: (reference_run(m, _with(c, unit_locations={"sources->base": ([[[1], [3]]], [[[2], [2]]])}), bi)[0], None)),
    "zero_attention_output_base2": (
        "{'base': [2, 4]} is read as the pair (2, 4): only base position 4 is zeroed; intended: positions 2 and 4",
        lambda m, c, bi, rc: (reference_run(m, _with(c, unit_locations={"sources->base": (None, 4)}), bi)[0], None)),
    "subspace_per_example_same_len": (
        "equal-length per-example subspaces [[0,1],[4,5]] are applied as their union: dims 0,1,4,5 on both examples",
        lambda m, c, bi, rc: (reference_run(m, _with(c, subspaces=[[[0, 1, 4, 5], [0, 1, 4, 5]]]), bi)[0], None)),
    "linked_add_layers": (
        "the L2 intervention starts from the L0 intervention's output (hot activation) instead of its own L2 "
        "activations: L2[base pos] := (L0 base + L0 source0) + L2 source1",
        lambda m, c, bi, rc: (reference_run(m, c, bi, emulate_hot=True)[0], None)),
    "comp_attention_weight": (
        "the attn_dropout hook never fires with transformers 5 (eager attention no longer calls the module): "
        "no intervention at all, intervened == original",
        lambda m, c, bi, rc: (m(input_ids=torch.from_numpy(c["base"])).logits, None)),
    "collect_block_output_2pos_max1": (
        "collect keeps the first d*max_number_of_units = 24 of the flattened 2x24 values (position 1 only) and "
        "reshapes them to [b, 2, 12]; intended [b, 2, 24]",
        lambda m, c, bi, rc: (None, [rc[0][:, 0].reshape(rc[0].shape[0], 2, 12)])),
    "collect_havo_hpos_2heads": (
        "collect keeps the first head_dim*max_number_of_units = 8 values (head 0 only) and reshapes them to "
        "[b, 2 heads, 1, 4]; intended [b, 2, 1, 8]",
        lambda m, c, bi, rc: (None, [_hpos_collect_bug(rc[0])])),
}


# Cases where pyvene raises although the request is meaningful: the intended answer is
# stored under "correct" (computed with eager attention calling attn_dropout).
ERROR_BUT_CORRECT = {
    "site_attention_weight": "the attn_dropout hook never fires with transformers 5, so the collect list has "
                             "no entry for the key and forward raises KeyError; intended: head 1|2's "
                             "[s, s] attention probabilities, collected [b, 1, s, s]",
}


def run_case(model, c, store, report):
    name = c["name"]
    rec = {"name": name, "description": c["desc"],
           "config": {"mode": c["mode"], "representations": []},
           "base": to_json(c["base"].tolist()),
           "sources": [to_json(s.tolist()) for s in c["sources"]],
           "unit_locations": to_json(c["unit_locations"]),
           "unit_locations_repr": repr(c["unit_locations"]),
           "subspaces": to_json(c["subspaces"])}
    for j, r in enumerate(c["reps"]):
        rr = {k: r[k] for k in ["layer", "component", "unit", "max_number_of_units", "intervention_type",
                                "subspace_partition", "group_key", "intervention_link_key"]}
        rr["source_representation"] = None if r["source_representation"] is None else \
            store.add(f"{name}/source_representation/{j}", r["source_representation"])
        rec["config"]["representations"].append(rr)
    if c["prior_calls"]:
        rec["prior_calls"] = [{"unit_locations": to_json(p["unit_locations"]),
                               "unit_locations_repr": repr(p["unit_locations"])} for p in c["prior_calls"]]
    info = {"name": name, "desc": c["desc"]}
    patch = eager_calls_attn_dropout() if c["eager_patch"] else contextlib.nullcontext()
    try:
        with patch:
            iv = build_intervenable(model, c)
            rec["keys"] = list(iv.sorted_keys)
            # source representations, exactly as passed
            srs, srs_json, by_index = c["source_representations"], None, None
            if isinstance(srs, np.ndarray):
                srs_json = store.add(f"{name}/source_representations", srs)
                by_index = {j: srs for j in range(len(c["reps"]))}
                srs = torch.from_numpy(srs.copy())
            elif isinstance(srs, list):
                srs_json = [store.add(f"{name}/source_representations/{j}", a) for j, a in enumerate(srs)]
                by_index = dict(enumerate(srs))
                srs = [torch.from_numpy(a.copy()) for a in srs]
            elif isinstance(srs, dict):
                srs_json = {iv.sorted_keys[j]: store.add(f"{name}/source_representations/{iv.sorted_keys[j]}", a)
                            for j, a in srs.items()}
                by_index = dict(srs)
                srs = {iv.sorted_keys[j]: torch.from_numpy(a.copy()) for j, a in srs.items()}
            rec["source_representations"] = srs_json
            for p in c["prior_calls"]:
                pyvene_call(iv, c, p["unit_locations"], srs)
            orig, inter, collected, sources_passed = pyvene_call(iv, c, c["unit_locations"], srs)
            if sources_passed is not None and len(sources_passed) != len(c["sources"]):
                info["sources_mutated"] = f"caller's sources list grew from {len(c['sources'])} to {len(sources_passed)}"
    except Exception as e:  # pyvene raised: record the message
        msg = f"{type(e).__name__}: {e}".strip()
        rec["error"] = msg
        for k in ["keys", "source_representations"]:
            rec.setdefault(k, None)
        info["error"] = msg
        if name in ERROR_BUT_CORRECT:
            with eager_calls_attn_dropout(), torch.no_grad():
                ref_logits, ref_collected = reference_run(model, _with(c, component_needs_patch=True), None)
            rec["correct"] = {
                "intervened": store.add(f"{name}/correct/intervened", ref_logits.numpy()),
                "collected": [store.add(f"{name}/correct/collected/{j}", t.numpy()) for j, t in enumerate(ref_collected)],
            }
            rec["pyvene_defect"] = info["defect"] = ERROR_BUT_CORRECT[name]
            info["correct_collected_shapes"] = [list(t.shape) for t in ref_collected]
        report.append(info)
        return rec
    rec["original"] = store.add(f"{name}/original", orig.logits.numpy())
    rec["intervened"] = store.add(f"{name}/intervened", inter.logits.numpy())
    rec["collected"] = [store.add(f"{name}/collected/{j}", t.numpy()) for j, t in enumerate(collected)]
    info["collected_shapes"] = [list(t.shape) for t in collected]

    # independent answer
    with (eager_calls_attn_dropout() if c["component_needs_patch"] else contextlib.nullcontext()):
        ref_logits, ref_collected = reference_run(model, c, by_index)
    with torch.no_grad():
        clean = model(input_ids=torch.from_numpy(c["base"])).logits
    info["no_op"] = bool(torch.equal(inter.logits, orig.logits))
    info["ref_no_op"] = bool(torch.equal(ref_logits, clean))
    assert torch.equal(clean, orig.logits), "original logits differ from a clean run"
    ok_logits = close(inter.logits, ref_logits)
    ok_coll = len(collected) == len(ref_collected) and all(close(a, b) for a, b in zip(collected, ref_collected))
    info["max_abs_diff"] = float((inter.logits - ref_logits).abs().max())
    info["matches"] = ok_logits and ok_coll
    rec["matches_correct"] = info["matches"]
    if not info["matches"]:
        assert name in DEFECTS, f"{name}: pyvene differs from the reference, unexplained"
        text, check = DEFECTS[name]
        with torch.no_grad():
            want_logits, want_coll = check(model, c, by_index, ref_collected)
        if want_logits is not None:
            assert close(inter.logits, want_logits), f"{name}: defect explanation does not reproduce pyvene"
        if want_coll is not None:
            assert len(want_coll) == len(collected) and all(close(a, b) for a, b in zip(collected, want_coll)), \
                f"{name}: collect explanation does not reproduce pyvene"
        rec["pyvene_defect"] = text
        info["defect"] = text
        rec["correct"] = {
            "intervened": store.add(f"{name}/correct/intervened", ref_logits.numpy()),
            "collected": [store.add(f"{name}/correct/collected/{j}", t.numpy()) for j, t in enumerate(ref_collected)],
        }
        info["correct_collected_shapes"] = [list(t.shape) for t in ref_collected]
    else:
        assert name not in DEFECTS, f"{name}: expected a pyvene defect, got the intended answer"
    report.append(info)
    return rec


# ----------------------------------------------------------------------------------
# Notes


QUIRKS = r"""
## Location formats (pyvene 0.1.8, read from intervenable_base.py / modeling_utils.py)

Full form, parallel mode: `{"sources->base": (source_locs, base_locs)}`; each side is a
list with one entry per intervention in `sorted_keys` order; for unit `pos` (and `h`)
an entry is `[[units of example 0], [units of example 1], ...]` (positions for `pos`,
head indices for `h`). For unit `h.pos` an entry is a pair
`[[[heads of ex 0], [heads of ex 1], ...], [[positions of ex 0], [positions of ex 1], ...]]`,
i.e. `unit_locations["sources->base"][side][intervention] = [heads_per_example, positions_per_example]`
(pyvene's own helper `GET_LOC((h, p), batch_size=b)` returns `[[[[h]]*b, [[p]]*b]]`).
The unit is the Cartesian product heads x positions, gathered as
`[b, n_heads_sel, n_pos_sel, head_dim]` (head-major); the k-th source head/position is
written to the k-th base head/position. Unit `h` gathers `[b, n_heads_sel, s, head_dim]`
(the whole head at every position). `{"base": v}` means `(None, v)` (base only) for
nested `v`; in serial mode the keys are `source_{i}->source_{i+1}` and
`source_{last}->base`, and the per-intervention list is indexed by the intervention's
position *inside its group* (always 0 without group_key).

Case field `unit_locations` is the passed object JSON-encoded (tuples become lists);
`unit_locations_repr` is Python's repr, which keeps the tuple/list difference that
matters for the 2-element shorthand (see below).

Intervention keys are `layer_{l}_comp_{component}_unit_{unit with . -> _}_nunit_{n}#{k}`,
k counting collisions of the same prefix.

## Quirks and defects found

1. **Any 2-element list of ints is a (source, base) pair.** `_broadcast_unit_locations`
   tests `len(v) == 2 and isinstance(v[0], int) and isinstance(v[1], int)` before the
   flat-list branch, so `[1, 4]` is read as "source position 1 into base position 4",
   exactly like the tuple `(1, 4)`, never as "positions 1 and 4"; only flat lists of
   1 or >= 3 elements are position lists. The same applies under the `"base"` key:
   `{"base": [2, 4]}` becomes `{"sources->base": ([[[2]]]*.., [[[4]]]*..)}` (the
   base-only flag is dropped), so a ZeroIntervention zeroes position 4 only. Cases
   `loc_flat2_max2` and `zero_attention_output_base2` record pyvene's answer and, under
   `correct`, the positions-list answer.
2. **Sticky fast path.** Every shorthand location form (int, pair, (None, j), (i, None),
   flat list) sets `self.use_fast = True` on the IntervenableModel and nothing ever
   resets it. With use_fast, `scatter_neurons` (unit `pos`) writes every example at the
   *first example's* base positions (`unit_locations[0]`), while the gather still reads
   per-example source positions. For a shorthand this is harmless (all examples have the
   same positions), but every later call on the same IntervenableModel with per-example
   locations is wrong: case `loc_sticky_fast` (prior call with `{"sources->base": 3}`,
   then `([[[1],[3]]], [[[2],[5]]])`) writes example 1's source position 3 into base
   position 2 instead of 5. A fresh IntervenableModel (`loc_per_example`) is correct.
   use_fast does not reach the interventions (their `use_fast` is fixed at construction),
   so it does not affect subspace handling.
3. **`(i, None)` shorthand crashes**: it broadcasts to `(locs, None)` and the setter
   indexes `None[...]` (case `loc_source_only`).
4. **h.pos shorthand crashes**: an int location for an `h.pos` unit broadcasts to the
   `pos` nesting and gather fails (case `hpos_shorthand_int`).
5. **attention_weight is a silent no-op with transformers >= 5.** pyvene hooks the
   *input* of `h[l].attn.attn_dropout`, but transformers 5's `eager_attention_forward`
   uses `nn.functional.dropout` and never calls the module, so neither the source getter
   nor the base setter fires: the "intervened" logits equal the original ones, no error
   (case `comp_attention_weight`). With eager attention patched to call
   `module.attn_dropout` (what transformers 4.x did; case
   `comp_attention_weight_patched`, whose answer equals the `correct` answer of
   `comp_attention_weight`) pyvene intervenes on the attention probabilities
   `[b, n_head, s_q, s_k]`; unit `pos` then gathers along dim 1, i.e. it indexes **heads**,
   and a unit is a whole `[s_q, s_k]` probability matrix of that head (the scatter slice
   `start:end` covers all query rows because `s_q == s_k`), so source and base must have
   the same length. The `correct` answer of `comp_attention_weight` is that patched result
   (replace head h's probability matrix). A CollectIntervention on attention_weight is
   worse: the setter never runs, `self.activations` has no entry for the key, and forward
   raises `KeyError: '<key>'` (case `site_attention_weight`, which has a `correct`
   collected `[b, 1, s, s]` although pyvene raised).
6. **Multi-unit CollectIntervention truncates and reshapes.** CollectIntervention is not a
   LocalistRepresentationIntervention, so `do_intervention` flattens the gathered
   `[b, u, d]` to `[b, u*d]`, the collect returns `[..., :interchange_dim]` where
   `interchange_dim = d * max_number_of_units`, and the result is reshaped back with
   `u` units: with 2 positions and max_number_of_units=1 pyvene returns the first
   position's 24 values reshaped to `[b, 2, 12]` (case `collect_block_output_2pos_max1`;
   correct `[b, 2, 24]`). With max_number_of_units=2 it is right. For `h.pos` it flattens
   `[b, nh, np, dh]` to `[b, np, nh*dh]`, keeps the first `dh*max_units`, and reshapes
   with `nh` heads: 2 heads x 1 position with max units 1 gives `[b, 2, 1, 4]` holding
   only the first head's 8 values (case `collect_havo_hpos_2heads`; correct
   `[b, 2, 1, 8]`). Vanilla/Addition/Subtraction/Zero are localist (no flattening,
   `[..., :interchange_dim]` covers the whole last dim), so they are unaffected.
7. **Collected shapes.** The collected list has one tensor per hook call of each
   CollectIntervention, in sorted_keys order: unit `pos` -> `[b, n_units, d]`;
   unit `h` -> `[b, n_heads_sel, s, head_dim]` (every position of the head);
   unit `h.pos` -> `[b, n_heads_sel, n_pos_sel, head_dim]`; with subspaces the last dim is
   the selected dims. `forward` returns `((original, collected), intervened)` whenever any
   intervention is a CollectIntervention.
8. **Per-example subspaces of equal length are applied as a union.** `_do_intervention_by_swap`
   takes the per-example path only when the subspace lists cannot be made into a tensor
   (ragged). When every example has the same number of indices but different values
   (`[[[0, 1], [4, 5]]]`), it indexes `base[..., pad_idx, sel]` with `pad_idx` of shape
   `[units, 1]` and `sel` of shape `[b, k]`; with one unit this broadcasts to every
   example getting the dims of *all* examples (dims 0, 1, 4, 5 for both). Ragged lists
   (`[[[0, 1], [4, 5, 6]]]`) and identical rows are handled correctly. Case
   `subspace_per_example_same_len`.
9. **Linked interventions reuse the first one's output as the second one's base.** With
   `intervention_link_key`, the setter of the later key does not gather its own base
   activations: it takes `hot_activations[link]`, the intervened representation of the
   earlier key, applies its intervention to that and scatters it at its own location. At
   the same location (the DAS use) this equals sequential application; at different
   layers it copies layer-0 values into layer 2: case `linked_add_layers` (pyvene:
   L2 <- (L0 base + S7) + S8; correct, i.e. independent: L2 <- L2 base + S8).
   With Vanilla and no subspaces the difference is invisible.
10. **One source is broadcast by mutating the caller's list**: `_broadcast_sources` appends
    to the list passed in (`_sources = sources; _sources += [...]`).
11. **Validation**: a source count different from the number of groups raises
    `ValueError: Source length ...` (case `too_many_sources`); group keys must be
    non-decreasing in sorted_keys order, raised at construction (`group_key_descending`).
    The check of `source_representations` against the number of groups is unreachable:
    `forward` replaces `sources=None` by `[None] * n_groups` before validating, and the
    sources branch is taken instead. So a dict naming only some keys is accepted and the
    unnamed interventions are skipped (case `srcrep_dict_missing_key`: only the L2
    intervention happens; this is also what the independent implementation does).
    A unit-`h` (or attention_weight) intervention between a source and a base of different
    lengths raises `ValueError: source with shape ... cannot be broadcasted ...`
    (`comp_head_value_output_h_len_mismatch`): a head unit spans every position.
12. **Every call removes all forward (pre-)hooks of the wrapped model**, including ones
    the user registered (`remove_forward_hooks` in `_cleanup_states`; from the code, not
    exercised by a case).
13. **Whole-tensor interventions** (`unit_locations=None`) replace the full component
    tensor; source and base must have the same shape (no broadcasting over length).
14. **mlp_activation width** is `n_inner` when set (40 here), else `4*n_embd`; head
    components use `n_embd/n_head` (8 here).
15. **Serial mode**: the run of source_{i+1} has the setters of group i active (so it is
    itself intervened) and its getters read the already-intervened activations; the base
    run has only the last group's setters (cases `serial_two`, `serial_mlp`, both as intended).
16. **Shared tensors.** The intervened logits of different components can be bitwise equal
    (a Vanilla swap of `mlp_input`, `mlp_activation` or `mlp_output` at one position gives
    the same logits; so do `attention_value_output` and `attention_output`, and
    `block_input` L2 and `block_output` L1), and all Collect cases leave the logits
    unchanged, so such cases point at one stored tensor. The `site_*` cases collect every
    component's activation (exactly what pyvene's gather sees) to tell the sites apart.
"""


def write_notes(path, cases_json, report, env):
    ckpt_sha = hashlib.sha256((CKPT / "model.safetensors").read_bytes()).hexdigest()
    lines = ["# pyvene 0.1.8 parity fixtures", "",
             "Generated by `oracle/make_pv_fixtures.py` (do not edit by hand) with "
             + env + ".", "",
             f"Checkpoint: gpt2/testdata/odd (model.safetensors sha256 {ckpt_sha}; GPT2LMHeadModel, "
             "eager attention, float32, eval). "
             "Inputs are random ids < 1000; bases are batch 2 x length 6 (BASE7 is 2 x 7), sources 2 x 6..8.", "",
             "## Files", "",
             "* `pv_cases.json`: list of cases. Fields: `name`, `description`, `config` "
             "(`mode`, `representations` with `layer`, `component`, `unit`, `max_number_of_units`, "
             "`intervention_type`, `subspace_partition`, `group_key`, `intervention_link_key`, "
             "`source_representation` = tensor name or null), `base` [[ids]] (no padding), "
             "`sources` (one batch per source group as passed; [] = sources=None), `unit_locations` "
             "(as passed, JSON), `unit_locations_repr` (Python repr: tuples vs lists), `subspaces`, "
             "`source_representations` (null | tensor name (one tensor for every key) | [names in "
             "sorted_keys order] | {key: name}), `keys` (sorted_keys), `original`, `intervened`, "
             "`collected` (tensor names in pyvene's order), `matches_correct`, and when pyvene's answer "
             "differs from the intended one `correct` = {`intervened`, `collected`}. `prior_calls` (only "
             "`loc_sticky_fast`): calls made before on the same IntervenableModel, with the same "
             "inputs but these unit_locations. Cases on which pyvene raised have `error` (type: message) "
             "and no tensor fields.",
             "* `pv_reference.safetensors`: float32 tensors; names are referenced from the JSON. Tensors "
             "with identical bytes are stored once, so a case may reference another case's name "
             "(e.g. every case on BASE6 shares one `original`).",
             "* `original` and `intervened` are `[b, s, 1000]` logits; `original` is "
             "`output_original_output=True` (a clean run).", "",
             "## Cases (what pyvene did)", ""]
    for rec, info in zip(cases_json, report):
        if "error" in info:
            what = f"**raised** `{info['error']}`"
            if info.get("defect"):
                what += "; " + info["defect"]
        else:
            bits = []
            if info["no_op"]:
                bits.append("intervened == original (no-op)")
            else:
                bits.append("changed the logits")
            if info["collected_shapes"]:
                bits.append("collected " + ", ".join(str(s) for s in info["collected_shapes"]))
            if info["matches"]:
                bits.append("matches the intended semantics")
            else:
                s = f"**differs from the intended semantics** (max abs logit difference {info['max_abs_diff']:.3g})"
                if info.get("correct_collected_shapes") and info["correct_collected_shapes"] != info["collected_shapes"]:
                    s += "; correct collected " + ", ".join(str(x) for x in info["correct_collected_shapes"])
                bits.append(s + ": " + info["defect"])
            if info.get("sources_mutated"):
                bits.append(info["sources_mutated"])
            what = "; ".join(bits)
        lines.append(f"* `{info['name']}`: {info['desc']}: {what}")
    lines.append(QUIRKS)
    path.write_text("\n".join(lines))


# ----------------------------------------------------------------------------------


def load_model():
    model = GPT2LMHeadModel.from_pretrained(CKPT, attn_implementation="eager", dtype=torch.float32)
    model.eval()
    return model


def generate(out_dir: Path):
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    model = load_model()
    cfg = model.config
    assert (cfg.n_layer, cfg.n_head, cfg.n_embd, cfg.n_inner, cfg.vocab_size) == (3, 3, 24, 40, 1000), cfg
    store, cases_json, report = Store(), [], []
    for c in build_cases():
        c["component_needs_patch"] = any(r["component"] == "attention_weight" for r in c["reps"])
        cases_json.append(run_case(model, c, store, report))
        assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules()), "hooks left behind"
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "pv_cases.json", "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(r, separators=(",", ":")) for r in cases_json) + "\n]\n")
    safetensors.numpy.save_file(dict(sorted(store.tensors.items())), str(out_dir / "pv_reference.safetensors"))
    env = (f"torch {torch.__version__.split('+')[0]}, transformers {transformers.__version__}, "
           f"pyvene 0.1.8, numpy {np.__version__}")
    write_notes(out_dir / "pv_notes.md", cases_json, report, env)
    return report


# ----------------------------------------------------------------------------------
# Generation cases: IntervenableModel.generate, written to pv/testdata/gen_cases.json,
# gen_reference.safetensors and gen_notes.md (the pv_* files above are not touched).
#
# Every case is also decoded by an independent greedy loop (gen_reference: no KV cache,
# the whole sequence re-run at every step, plain torch hooks) driven by an explicit
# statement of what pyvene's setter does on each forward of model.generate
# (`setter`): that statement is the documented semantics, and the script fails if it
# does not reproduce pyvene's tokens and logits.

GEN_FILES = ["gen_cases.json", "gen_reference.safetensors", "gen_notes.md"]
GEN_MAX_NEW = 8
# eos_token_id=None overrides the checkpoint's generation_config (eos 999), so every
# case generates exactly GEN_MAX_NEW tokens; the prompts are unpadded (mask all ones),
# so pad_token_id is never used.
GEN_KW = dict(do_sample=False, max_new_tokens=GEN_MAX_NEW, pad_token_id=0, eos_token_id=None)


def gen_inputs():
    rng = np.random.default_rng(SEED + 7)
    ids = lambda b, s: rng.integers(0, 1000, size=(b, s), dtype=np.int64)  # noqa: E731
    base = ids(2, 6)   # prompts: batch 2, length 6
    src = ids(2, 5)    # sources: batch 2, length 5 (shorter than the prompt on purpose)
    base1 = ids(1, 5)  # a batch-1 prompt of length 5
    v = rng.standard_normal((24,))
    steer = (3.0 * v / np.linalg.norm(v)).astype(np.float32)  # 3 x a random unit vector
    return base, src, base1, steer


# What pyvene's setter does on forward t of model.generate (t = 0 is the prompt forward):
# None = the hook returns without intervening; "all" = the whole tensor of that forward;
# otherwise per-example positions in that forward's own tensor.
def on_prompt(locs):
    return lambda t: locs if t == 0 else None


def after_prompt(locs):
    return lambda t: None if t == 0 else locs


def every_forward(t):
    return "all"


def never(t):
    return None


def gcase(name, desc, reps, base, sources=(), unit_locations=None, intervene_on_prompt=True,
          use_cache=None, setter=never, src_pos=None, semantics="", expect_error=False):
    return dict(name=name, desc=desc, reps=reps, base=base, sources=list(sources), mode="parallel",
                unit_locations=unit_locations, intervene_on_prompt=intervene_on_prompt, use_cache=use_cache,
                setter=setter, src_pos=src_pos, semantics=semantics, expect_error=expect_error)


def build_gen_cases():
    base, src, base1, steer = gen_inputs()
    vbo = lambda: [rep(1, "block_output")]  # noqa: E731
    steer_rep = lambda n=1: [rep(1, "mlp_output", n=n, itype="AdditionIntervention",  # noqa: E731
                                 source_representation=steer)]
    P = base.shape[1]
    C = []
    C.append(gcase("gen_plain", "plain model.generate (no IntervenableModel), batch 2, prompt length 6",
                   [], base, semantics="greedy decoding with the KV cache: forward 0 runs the 6-token prompt, "
                   "forwards 1..7 one token each; the 8th generated token is never fed back"))
    C.append(gcase("gen_plain_b1", "plain model.generate, batch 1, prompt length 5", [], base1,
                   semantics="as gen_plain"))
    C.append(gcase("gen_prompt_vanilla", "Vanilla block_output L1, {'sources->base': (1, 5)}, intervene_on_prompt=True",
                   vbo(), base, sources=(src,), unit_locations={"sources->base": (1, 5)}, intervene_on_prompt=True,
                   setter=on_prompt([[5], [5]]), src_pos=[1, 1],
                   semantics="only the prompt forward is intervened: base position 5 <- source position 1; the "
                   "intervened key/value of position 5 stay in the KV cache, so every later step sees them; "
                   "the setter hook is a no-op on the 7 one-token forwards"))
    C.append(gcase("gen_prompt_vanilla_nocache", "as gen_prompt_vanilla with use_cache=False",
                   vbo(), base, sources=(src,), unit_locations={"sources->base": (1, 5)}, intervene_on_prompt=True,
                   use_cache=False, setter=on_prompt([[5], [5]]), src_pos=[1, 1],
                   semantics="only forward 0 is intervened; without a cache every later forward re-runs the whole "
                   "sequence unintervened, so the intervention only affects the first generated token (and later "
                   "steps only through the tokens it changed)"))
    C.append(gcase("gen_every_token_vanilla", "Vanilla block_output L1, {'sources->base': (3, 0)}, intervene_on_prompt=False",
                   vbo(), base, sources=(src,), unit_locations={"sources->base": (3, 0)}, intervene_on_prompt=False,
                   setter=after_prompt([[0], [0]]), src_pos=[3, 3],
                   semantics="the prompt forward is not intervened; each of the 7 one-token forwards is, at position 0 of "
                   "its 1-token tensor = the token fed at that step (absolute position 6+t-1 on forward t), with the "
                   "same value: source position 3, gathered once before generation. Generated token 1 is unaffected "
                   "(its logits come from the prompt forward); the last generated token is never fed back, so it is "
                   "never intervened on"))
    C.append(gcase("gen_every_token_vanilla_nocache", "as gen_every_token_vanilla with use_cache=False",
                   vbo(), base, sources=(src,), unit_locations={"sources->base": (3, 0)}, intervene_on_prompt=False,
                   use_cache=False, setter=after_prompt([[0], [0]]), src_pos=[3, 3],
                   semantics="without a cache every forward re-runs the whole sequence, so 'position 0' is absolute "
                   "position 0, the first PROMPT token: forwards 1..7 overwrite prompt position 0, never a new token"))
    C.append(gcase("gen_every_token_vanilla_pos3", "Vanilla block_output L1, {'sources->base': (3, 3)}, intervene_on_prompt=False",
                   vbo(), base, sources=(src,), unit_locations={"sources->base": (3, 3)}, intervene_on_prompt=False,
                   expect_error=True,
                   semantics="with the cache the one-token forwards have a length-1 tensor, so base position 3 is out of range"))
    C.append(gcase("gen_every_token_vanilla_nolocs", "Vanilla block_output L1 with a source, unit_locations=None, "
                   "intervene_on_prompt=False", vbo(), base, sources=(src,), unit_locations=None,
                   intervene_on_prompt=False, expect_error=True,
                   semantics="generate replaces unit_locations=None by {'base': 0} when intervene_on_prompt=False; "
                   "'base' means no source locations, so the source getter indexes None"))
    C.append(gcase("gen_steer_addition", "AdditionIntervention mlp_output L1, constant source_representation "
                   "(3 x unit vector), unit_locations=None, intervene_on_prompt=True",
                   steer_rep(), base, unit_locations=None, intervene_on_prompt=True, setter=every_forward,
                   semantics="with unit_locations=None the setter skips the prompt/step gating entirely "
                   "(intervene_on_prompt is ignored) and intervenes on the whole tensor of every forward: all 6 prompt "
                   "positions on forward 0 and the fed token on each later forward, i.e. every position of the "
                   "sequence except the last generated token (never fed)"))
    C.append(gcase("gen_steer_addition_nocache", "as gen_steer_addition with use_cache=False",
                   steer_rep(), base, unit_locations=None, intervene_on_prompt=True, use_cache=False,
                   setter=every_forward,
                   semantics="every forward re-runs and steers the whole sequence: same tokens as with the cache"))
    C.append(gcase("gen_steer_generated_only", "as gen_steer_addition with intervene_on_prompt=False (generate turns "
                   "unit_locations=None into {'base': 0})",
                   steer_rep(), base, unit_locations=None, intervene_on_prompt=False, setter=after_prompt([[0], [0]]),
                   semantics="steers position 0 of each one-token forward (the fed token), not the prompt"))
    C.append(gcase("gen_steer_prompt_only", "AdditionIntervention mlp_output L1 constant source, "
                   f"{{'base': {list(range(P))}}} (every prompt position), max_number_of_units={P}, intervene_on_prompt=True",
                   steer_rep(P), base, unit_locations={"base": list(range(P))}, intervene_on_prompt=True,
                   setter=on_prompt([list(range(P))] * 2),
                   semantics="prompt forward only, at all 6 prompt positions; the generated tokens are not steered "
                   "(they see the steered prompt through the KV cache)"))
    C.append(gcase("gen_batch2_vanilla", "Vanilla block_output L1, per-example full form ([[[1], [4]]], [[[3], [2]]]), "
                   "intervene_on_prompt=True", vbo(), base, sources=(src,),
                   unit_locations={"sources->base": ([[[1], [4]]], [[[3], [2]]])}, intervene_on_prompt=True,
                   setter=on_prompt([[3], [2]]), src_pos=[1, 4],
                   semantics="prompt forward only: example 0 base pos 3 <- source pos 1, example 1 base pos 2 <- "
                   "source pos 4"))
    C.append(gcase("gen_batch2_every_token", "Vanilla block_output L1, per-example full form ([[[1], [4]]], [[[0], [0]]]), "
                   "intervene_on_prompt=False", vbo(), base, sources=(src,),
                   unit_locations={"sources->base": ([[[1], [4]]], [[[0], [0]]])}, intervene_on_prompt=False,
                   setter=after_prompt([[0], [0]]), src_pos=[1, 4],
                   semantics="each one-token forward: the fed token <- source pos 1 (example 0) / 4 (example 1)"))
    names = [c["name"] for c in C]
    assert len(names) == len(set(names)), "duplicate gen case names"
    return C


def gen_forward_span(t, P, cache):
    """(first absolute position, length) of the tensor of forward t in model.generate."""
    if not cache:
        return 0, P + t
    return (0, P) if t == 0 else (P + t - 1, 1)


def gen_intervened_positions(c, b, P, cache):
    """Per step t (the forward whose last-position logits give generated token t+1), per
    example: the absolute positions whose site activation differs from a clean run because
    of the intervention, directly. With the cache, positions intervened on earlier forwards
    stay in effect (their keys/values are cached)."""
    res, acc = [], [set() for _ in range(b)]
    for t in range(GEN_MAX_NEW):
        loc = c["setter"](t)
        start, n = gen_forward_span(t, P, cache)
        now = [set() for _ in range(b)]
        if loc == "all":
            now = [set(range(start, start + n)) for _ in range(b)]
        elif loc is not None:
            now = [{start + p for p in loc[i]} for i in range(b)]
        acc = [a | x for a, x in zip(acc, now)] if cache else now
        res.append([sorted(a) for a in acc])
    return res


def gen_reference(model, c, positions):
    """Independent greedy decode: no cache, whole sequence each step, the intervention
    applied at `positions[t][i]` (absolute) on step t."""
    ids = torch.from_numpy(c["base"])
    b = ids.shape[0]
    r = c["reps"][0] if c["reps"] else None
    site = Site(model, r) if r is not None else None
    src_val = None
    if r is not None and r["source_representation"] is not None:
        src_val = torch.from_numpy(r["source_representation"]).expand(b, -1)
    elif r is not None:
        store = {}
        def capture_fn(cs):
            store["a"] = cs
            return None
        h = site.hook(capture_fn)
        with torch.no_grad():
            model(input_ids=torch.from_numpy(c["sources"][0]), use_cache=False)
        h.remove()
        src_val = torch.stack([store["a"][i, c["src_pos"][i]] for i in range(b)])
    steps = []
    for t in range(GEN_MAX_NEW):
        hs = []
        if site is not None and any(positions[t]):
            def fn(cb, pos=positions[t]):
                out = cb.clone()
                for i in range(b):
                    for p in pos[i]:
                        out[i, p] = apply_op(r["intervention_type"], cb[i:i + 1, p], src_val[i:i + 1], None)[0]
                return out
            hs.append(site.hook(fn))
        with torch.no_grad():
            logits = model(input_ids=ids, use_cache=False).logits[:, -1]
        for h in hs:
            h.remove()
        steps.append(logits)
        ids = torch.cat([ids, logits.argmax(-1, keepdim=True)], dim=1)
    return ids[:, c["base"].shape[1]:], torch.stack(steps, dim=1)


def run_gen_case(model, c, store, report):
    name, b, P = c["name"], c["base"].shape[0], c["base"].shape[1]
    cache = c["use_cache"] is not False
    kw = dict(GEN_KW)
    if c["use_cache"] is not None:
        kw["use_cache"] = c["use_cache"]
    rec = {"name": name, "description": c["desc"],
           "config": {"mode": c["mode"], "representations": []},
           "base": to_json(c["base"].tolist()),
           "sources": [to_json(s.tolist()) for s in c["sources"]],
           "unit_locations": to_json(c["unit_locations"]),
           "unit_locations_repr": repr(c["unit_locations"]),
           "intervene_on_prompt": c["intervene_on_prompt"] if c["reps"] else None,
           "max_new_tokens": GEN_MAX_NEW,
           "generate_kwargs": to_json(dict(kw, attention_mask="ones")),
           "use_cache": cache}
    consts = []
    for j, r in enumerate(c["reps"]):
        rr = {k: r[k] for k in ["layer", "component", "unit", "max_number_of_units", "intervention_type",
                                "subspace_partition", "group_key", "intervention_link_key"]}
        rr["source_representation"] = None if r["source_representation"] is None else \
            store.add(f"{name}/source_representation/{j}", r["source_representation"])
        if rr["source_representation"] is not None:
            consts.append(rr["source_representation"])
        rec["config"]["representations"].append(rr)
    rec["constant_sources"] = consts
    rec["semantics"] = c["semantics"]
    info = {"name": name, "desc": c["desc"]}
    as_in = lambda a: {"input_ids": torch.from_numpy(a), "attention_mask": torch.ones(a.shape, dtype=torch.int64)}  # noqa: E731
    out_kw = dict(kw, return_dict_in_generate=True, output_logits=True, output_scores=True)
    with torch.no_grad():
        plain = model.generate(**as_in(c["base"]), **out_kw)
    assert plain.sequences.shape == (b, P + GEN_MAX_NEW), plain.sequences.shape
    assert all(torch.equal(s, l) for s, l in zip(plain.scores, plain.logits)), "greedy scores != raw logits"
    plain_logits = torch.stack(plain.logits, dim=1)
    shapes = []
    if not c["reps"]:
        rec["keys"] = []
        orig, out = plain, plain
    else:
        iv = build_intervenable(model, c)
        rec["keys"] = list(iv.sorted_keys)
        hooks = [iv.interventions[k].register_forward_pre_hook(
            lambda m, args: shapes.append(list(args[0].shape))) for k in iv.sorted_keys]
        sources = [as_in(s) for s in c["sources"]] or None
        try:
            with torch.no_grad():
                orig, out = iv.generate(as_in(c["base"]), sources=sources,
                                        unit_locations=copy.deepcopy(c["unit_locations"]),
                                        intervene_on_prompt=c["intervene_on_prompt"],
                                        output_original_output=True, **out_kw)
            assert not c["expect_error"], f"{name}: expected pyvene to raise"
        except Exception as e:
            if not c["expect_error"]:
                raise
            msg = f"{type(e).__name__}: {e}".strip()
            rec["error"] = info["error"] = msg
            rec["original_tokens"] = to_json(plain.sequences[:, P:].tolist())
            rec["original_step_logits"] = store.add(f"{name}/original_step_logits", plain_logits.numpy())
            report.append(info)
            return rec
        finally:
            for h in hooks:
                h.remove()
        assert torch.equal(orig.sequences, plain.sequences), f"{name}: output_original_output != plain generate"
        assert all(torch.equal(x, y) for x, y in zip(orig.logits, plain.logits)), \
            [float((x - y).abs().max()) for x, y in zip(orig.logits, plain.logits)]
    assert out.sequences.shape == (b, P + GEN_MAX_NEW)
    assert torch.equal(out.sequences[:, :P], torch.from_numpy(c["base"]))
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules()), "hooks left behind"
    tokens = out.sequences[:, P:]
    step_logits = torch.stack(out.logits, dim=1)  # [b, T, vocab], raw logits (== scores for greedy)

    # the stated semantics must reproduce pyvene
    setter_calls = [c["setter"](t) for t in range(GEN_MAX_NEW)]
    want_shapes = []
    for t, loc in enumerate(setter_calls):
        if loc is not None:
            start, n = gen_forward_span(t, P, cache)
            width = 24
            want_shapes.append([b, n if loc == "all" else len(loc[0]), width])
    assert shapes == want_shapes, f"{name}: intervention calls {shapes}, stated {want_shapes}"
    positions = gen_intervened_positions(c, b, P, cache)
    ref_tokens, ref_logits = gen_reference(model, c, positions)
    assert torch.equal(ref_tokens, tokens), f"{name}: reference tokens {ref_tokens.tolist()} != pyvene {tokens.tolist()}"
    diff = float((ref_logits - step_logits).abs().max())
    assert diff < 1e-4, f"{name}: reference logits differ by {diff}"
    _, clean_logits = gen_reference(model, c, [[[] for _ in range(b)]] * GEN_MAX_NEW)
    assert float((clean_logits - plain_logits).abs().max()) < 1e-4

    rec["tokens"] = to_json(tokens.tolist())
    rec["original_tokens"] = to_json(plain.sequences[:, P:].tolist())
    rec["first_step_logits"] = store.add(f"{name}/first_step_logits", step_logits[:, 0].numpy())
    rec["step_logits"] = store.add(f"{name}/step_logits", step_logits.numpy())
    rec["original_step_logits"] = store.add(f"{name}/original_step_logits", plain_logits.numpy())
    rec["forward_lengths"] = [gen_forward_span(t, P, cache)[1] for t in range(GEN_MAX_NEW)]
    rec["setter_calls"] = setter_calls
    rec["intervention_input_shapes"] = shapes
    rec["intervened_positions"] = positions
    rec["reference_max_abs_logit_diff"] = float(f"{diff:.3g}")
    info["changed_steps"] = [t for t in range(GEN_MAX_NEW)
                             if not torch.equal(step_logits[:, t], plain_logits[:, t])]
    info["tokens_changed"] = not torch.equal(tokens, plain.sequences[:, P:])
    info["n_calls"] = len(shapes)
    report.append(info)
    return rec


GEN_SEMANTICS = r"""
## Generation semantics (pyvene 0.1.8 `IntervenableModel.generate`, transformers 5.17)

Read from `pyvene/models/intervenable_base.py` (`IntervenableModel.generate`,
`_intervention_setter`) and checked on every case: each case states what the setter does
on each forward of `model.generate` (`setter_calls`), and an independent greedy decoder
(no KV cache, the whole sequence re-run each step, plain torch hooks, intervening at the
absolute positions of `intervened_positions`) must reproduce pyvene's tokens exactly and
its logits to < 1e-4; the intervention's observed call shapes must equal the stated ones
(`intervention_input_shapes`).

**How generate runs.** `generate(base, sources, unit_locations, source_representations,
intervene_on_prompt=False, subspaces, output_original_output, **kwargs)`:
1. `_cleanup_states()` (removes every forward hook of the model, resets the per-key
   setter call counters), sets `_is_generation = True`.
2. If `intervene_on_prompt=False` and `unit_locations is None`, unit_locations becomes
   `{"base": 0}` (base-only, position 0, use_fast).
3. Locations, sources, source representations and subspaces are broadcast exactly as in
   `forward`. With `output_original_output=True`, a plain `model.generate(**base, **kwargs)`
   runs first (no hooks): that is `original_tokens`.
4. Each source is run **once**, through a plain `model(**source)` forward (not generate),
   with the getters installed: the gathered source activations (at the source
   positions) are cached and reused unchanged at every intervened step.
5. Setters are installed and `model.generate(**base, **kwargs)` runs with them; pyvene
   passes the kwargs through untouched. It does not force `use_cache`: the checkpoint's
   generation_config has `use_cache: true`, so by default transformers runs forward 0
   on the whole prompt `[b, P]` and forwards 1..T-1 on the one token just generated
   `[b, 1]` with a DynamicCache; T new tokens take T forwards (the last token is never
   fed back). Logits of forward t give generated token t+1 (`step_logits[:, t]`).

**Setter gating** (only when the intervention's base locations are not None):

    is_prompt = counter[key] == 0
    if not intervene_on_prompt or is_prompt: counter[key] += 1
    if intervene_on_prompt ^ is_prompt: return   # no-op

* `intervene_on_prompt=True`: the first setter call (forward 0, the prompt) intervenes;
  the counter stays 1 afterwards, so every later forward is a no-op. Positions are prompt
  positions. With the cache the intervened keys/values of the prompt stay in effect for
  all later steps (cases `gen_prompt_vanilla`, `gen_batch2_vanilla`,
  `gen_steer_prompt_only`).
* `intervene_on_prompt=False`: forward 0 (the prompt) is a no-op; every later forward
  intervenes, at the given positions **of that forward's own tensor**. With the cache
  that tensor is the single fed token, so base position 0 = the new token (absolute
  position P+t-1 on forward t) and any base position > 0 raises
  `RuntimeError: index ... out of bounds for dimension 1 with size 1`
  (`gen_every_token_vanilla_pos3`). The source value is the same one on every step:
  the source position given in the location (e.g. `(3, 0)` = source position 3 into the
  fed token). The first generated token is never affected (its logits come from the
  unintervened prompt forward), nor is the last one ever fed. Cases
  `gen_every_token_vanilla`, `gen_batch2_every_token`, `gen_steer_generated_only`.
* Base locations None (`unit_locations=None` with `intervene_on_prompt=True`): the gating
  is skipped completely, so the setter intervenes on **every** forward, on the whole
  tensor: all prompt positions on forward 0 and the fed token on each later forward,
  i.e. a constant steering vector is added at every position of the sequence except the
  last generated token (which is never fed). `intervene_on_prompt` makes no difference
  there (case `gen_steer_addition`). The same call with `intervene_on_prompt=False` is
  turned into `{"base": 0}` by step 2 and steers only the generated tokens
  (`gen_steer_generated_only`). Prompt-only steering at every prompt position needs
  explicit locations: `{"base": [0, ..., P-1]}` with `intervene_on_prompt=True`
  (`gen_steer_prompt_only`; max_number_of_units does not matter for the localist
  Addition). Because step 2 fills in `{"base": 0}` even when sources are given, an
  interchange with `unit_locations=None, intervene_on_prompt=False` raises
  `TypeError: 'NoneType' object is not subscriptable` (no source locations;
  `gen_every_token_vanilla_nolocs`).

**Without the KV cache** (`use_cache=False` in the generate kwargs) every forward re-runs
the whole sequence, and the gating above still counts forwards, not tokens:
* `intervene_on_prompt=True`: only forward 0 is intervened; forwards 1.. re-run the
  prompt **unintervened**, so only the first generated token sees the intervention
  directly (`gen_prompt_vanilla_nocache`: same first-step logits as with the cache,
  different later ones).
* `intervene_on_prompt=False` with base position 0: forwards 1.. intervene at absolute
  position 0, the **first prompt token**, never at a new token
  (`gen_every_token_vanilla_nocache`).
* No locations: the whole sequence is steered on every forward, which equals the cached
  result (`gen_steer_addition_nocache`: same tokens, logits within float error).

Other observations: `output_scores` equals `output_logits` here (greedy, no logits
processors); `eos_token_id=None` in the kwargs overrides the checkpoint's
generation_config (eos 999), so every case produces exactly `max_new_tokens` tokens;
the prompts are unpadded and `attention_mask` is all ones; pyvene does not pass
`position_ids`, transformers derives them from the cache position (absolute positions,
as the no-cache reference confirms). `generate` returns `(original, intervened)`, each
what `model.generate` returns (here a GenerateDecoderOnlyOutput whose `sequences`
include the prompt; `original` is None without `output_original_output`). Only setters
are gated; getters run once, on the source forward. The sticky use_fast flag
(pv_notes.md quirk 2) also applies here; each case uses a fresh IntervenableModel.
Constructing an IntervenableModel sets `requires_grad=False` on every model parameter;
in torch 2.11 that alone changes `model.generate`'s prompt-step logits by ~5e-7 (not the
tokens), so the script freezes the model before every generation, plain ones included.
"""


def write_gen_notes(path, cases_json, report, env):
    ckpt_sha = hashlib.sha256((CKPT / "model.safetensors").read_bytes()).hexdigest()
    lines = ["# pyvene 0.1.8 generation fixtures", "",
             "Generated by `oracle/make_pv_fixtures.py` (do not edit by hand) with " + env + ".", "",
             f"Checkpoint: gpt2/testdata/odd (model.safetensors sha256 {ckpt_sha}; GPT2LMHeadModel, eager "
             "attention, float32, eval). Prompts: random ids < 1000, batch 2 x length 6 (`gen_plain_b1`: 1 x 5); "
             "sources 2 x 5. Greedy decoding: "
             + ", ".join(f"{k}={v}" for k, v in GEN_KW.items()) + ", attention_mask all ones, "
             "return_dict_in_generate=True, output_logits=True.", "",
             "## Files", "",
             "* `gen_cases.json`: list of cases. Fields as in `pv_cases.json` (`name`, `description`, `config`, "
             "`base`, `sources`, `unit_locations`, `unit_locations_repr`, `keys`), plus `intervene_on_prompt`, "
             "`max_new_tokens`, `generate_kwargs` (as passed to generate; `use_cache` only when given), "
             "`use_cache` (effective), `constant_sources` (tensor names of the config's source_representation), "
             "`semantics` (text), `tokens` [b][T] (the generated ids only, no prompt), `original_tokens` "
             "(generation without intervention), `first_step_logits` ([b, 1000], the intervened logits that "
             "chose generated token 1), `step_logits` ([b, T, 1000], the intervened logits of every step), "
             "`original_step_logits` ([b, T, 1000]), `forward_lengths` (tokens fed on each forward), "
             "`setter_calls` (per forward: null = the setter is a no-op, \"all\" = whole tensor, or per-example "
             "positions in that forward's own tensor), `intervention_input_shapes` (observed shape of the "
             "intervention's base input on each call), `intervened_positions` (per step t, per example: the "
             "absolute positions whose site activation is intervened when step t's logits are computed; with "
             "the cache this accumulates), `reference_max_abs_logit_diff` (independent decoder vs pyvene). "
             "Cases on which pyvene raised have `error` and only `original_tokens`/`original_step_logits`.",
             "* `gen_reference.safetensors`: float32 tensors named from the JSON; identical tensors are stored "
             "once (all batch-2 cases share one `original_step_logits`).", "",
             "## Cases (what pyvene did)", ""]
    for rec, info in zip(cases_json, report):
        if "error" in info:
            what = f"**raised** `{info['error']}`"
        else:
            if info["changed_steps"]:
                what = f"logits of steps {info['changed_steps']} differ from the original"
            else:
                what = "logits equal the original"
            what += "; tokens " + ("changed" if info["tokens_changed"] else "unchanged")
            what += f"; {info['n_calls']} intervention call(s); tokens {rec['tokens']}"
        lines.append(f"* `{info['name']}`: {info['desc']}: {what}. {rec['semantics'][:1].upper()}{rec['semantics'][1:]}.")
    lines.append(GEN_SEMANTICS)
    path.write_text("\n".join(lines))


def generate_gen(out_dir: Path):
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    model = load_model()
    # IntervenableModel() sets requires_grad=False on every parameter, which moves
    # generate's prompt-step logits by ~5e-7; freeze up front so that plain and
    # pyvene generations run on the same model state.
    model.requires_grad_(False)
    store, cases_json, report = Store(), [], []
    for c in build_gen_cases():
        cases_json.append(run_gen_case(model, c, store, report))
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "gen_cases.json", "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(r, separators=(",", ":")) for r in cases_json) + "\n]\n")
    safetensors.numpy.save_file(dict(sorted(store.tensors.items())), str(out_dir / "gen_reference.safetensors"))
    env = (f"torch {torch.__version__.split('+')[0]}, transformers {transformers.__version__}, "
           f"pyvene 0.1.8, numpy {np.__version__}")
    write_gen_notes(out_dir / "gen_notes.md", cases_json, report, env)
    return report


def main():
    global CKPT
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="regenerate into a temp dir and compare with pv/testdata")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--ckpt", type=Path, default=CKPT, help="checkpoint folder (default gpt2/testdata/odd)")
    ap.add_argument("--only", choices=["pv", "gen"], help="only the pv_* (intervention) or gen_* (generation) files")
    args = ap.parse_args()
    CKPT = args.ckpt
    if not (CKPT / "config.json").exists() or not (CKPT / "model.safetensors").exists():
        sys.exit(f"missing checkpoint {CKPT}: run oracle/make_gpt2_fixtures.py first")
    parts = [("pv", generate, ["pv_cases.json", "pv_reference.safetensors", "pv_notes.md"]),
             ("gen", generate_gen, GEN_FILES)]
    parts = [p for p in parts if args.only in (None, p[0])]
    if args.check:
        bad = []
        with tempfile.TemporaryDirectory() as tmp:
            for _, gen, files in parts:
                gen(Path(tmp))
                bad += [f for f in files if not (args.out / f).exists()
                        or (Path(tmp) / f).read_bytes() != (args.out / f).read_bytes()]
        if bad:
            sys.exit(f"pv fixtures differ from a fresh run: {bad}")
        print("pv fixtures up to date: " + ", ".join(f for _, _, files in parts for f in files))
        return
    for kind, gen, files in parts:
        report = gen(args.out)
        for f in files:
            p = args.out / f
            print(f"{p.relative_to(REPO) if p.is_relative_to(REPO) else p}: {p.stat().st_size} bytes, "
                  f"sha256 {hashlib.sha256(p.read_bytes()).hexdigest()}")
        n_err = sum("error" in r for r in report)
        if kind == "pv":
            n_diff = sum(("error" not in r) and not r["matches"] for r in report)
            print(f"{len(report)} cases: {n_err} raised in pyvene, {n_diff} differ from the intended semantics")
        else:
            print(f"{len(report)} generation cases: {n_err} raised in pyvene (as expected); "
                  "all others reproduced by the independent decoder")


if __name__ == "__main__":
    main()
