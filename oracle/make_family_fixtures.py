#!/usr/bin/env python3
"""Make govene's model-family correctness fixtures (models/testdata/).

Writes small random checkpoints of the decoder-only families govene supports next to
GPT-2 (GPT-NeoX, Llama, Mistral, Qwen2, Gemma 2), each built to exercise the quirk of
its family that a port gets wrong most easily, and for each:

    models/testdata/<ckpt>/config.json, model.safetensors     save_pretrained output
        (llama: model.safetensors.index.json + model-0000k-of-0000n.safetensors)
    models/testdata/<ckpt>/generation_config.json              when transformers writes one
    models/testdata/<ckpt>/reference.safetensors               {case}/{site} -> values
    models/testdata/<ckpt>/reference.json                      summary, config, notes, shapes
    models/testdata/<ckpt>/pv_reference.safetensors            pyvene intervention results
    models/testdata/<ckpt>/pv_cases.json                       the intervention cases

Sites follow the issue's site list (pyvene's component names plus attention_scores,
resid_mid, mlp_post, embed, ln_final, logits); see SITE_DEFINITIONS and reference.json.
Every intervention case is computed both by pyvene 0.1.8 and by an independent torch-hook
emulation (same semantics, written here); they must agree, except where pyvene cannot
address the site (GPT-NeoX q/k/v heads), in which case the emulation is the reference and
the case says so.

Run through oracle/check_fixtures.sh (it rebuilds only the families when this script is
the only thing that changed). The output is byte-for-byte deterministic: the same
numerical knobs as make_gpt2_fixtures.py (forced before torch loads).

    oracle/.venv/bin/python oracle/make_family_fixtures.py [--out DIR] [--only neox llama ...]
"""

import os

os.environ["MKL_CBWR"] = "COMPATIBLE"
os.environ["ATEN_CPU_CAPABILITY"] = "avx2"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ["TRANSFORMERS_VERBOSITY"] = "error"
os.environ["HF_HUB_OFFLINE"] = "1"

import argparse
import contextlib
import copy
import hashlib
import io
import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import safetensors
import safetensors.numpy
import torch
import transformers
from transformers import (
    Gemma2Config,
    Gemma2ForCausalLM,
    GPTNeoXConfig,
    GPTNeoXForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)
from transformers.models.gemma2 import modeling_gemma2
from transformers.models.gpt_neox import modeling_gpt_neox
from transformers.models.llama import modeling_llama
from transformers.models.mistral import modeling_mistral
from transformers.models.qwen2 import modeling_qwen2

with contextlib.redirect_stdout(io.StringIO()):  # pyvene prints an nnsight notice on import
    import pyvene as pv

logging.disable(logging.WARNING)

REPO = Path(__file__).resolve().parent.parent

VOCAB = 256
PAD_ID = 255  # also eos; prompts use ids 1..253
BOS_ID = 254
WEIGHT_STD = 0.2
NEW_TOKENS = 6
PROMPT_LENGTHS = {"short": 6, "long": 9}  # both longer than every sliding window


# ----------------------------------------------------------------------------------
# Checkpoints


@dataclass
class Checkpoint:
    name: str
    model_cls: type
    config_cls: type
    config: dict
    save_dtype: torch.dtype
    seed: int
    modeling: object  # the transformers modeling module (its eager_attention_forward is wrapped)
    quirks: dict = field(default_factory=dict)  # name -> (config edits, in-place edit of the alt model or None)
    max_shard_size: str | None = None
    pyvene_cases: bool = True


COMMON = dict(vocab_size=VOCAB, bos_token_id=BOS_ID, eos_token_id=PAD_ID, pad_token_id=PAD_ID, max_position_embeddings=64)


def _zero_qkv_bias(model):
    for name, p in model.named_parameters():
        if name.endswith(("q_proj.bias", "k_proj.bias", "v_proj.bias")):
            p.zero_()


def _unit_embed_scale(model):
    model.model.embed_tokens.embed_scale.fill_(1.0)


def _norm_scale_w(model):
    """Norm weights w' with 1 + w' = w: the model a port that reads Gemma's w as the scale computes."""
    for name, p in model.named_parameters():
        if name.endswith("norm.weight"):
            p.sub_(1.0)


CHECKPOINTS = [
    Checkpoint(
        name="neox",
        model_cls=GPTNeoXForCausalLM,
        config_cls=GPTNeoXConfig,
        config=dict(
            COMMON,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            hidden_act="gelu",
            layer_norm_eps=1e-5,
            use_parallel_residual=True,
            tie_word_embeddings=False,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.25},
        ),
        save_dtype=torch.float32,
        seed=14001,
        modeling=modeling_gpt_neox,
        quirks={
            "partial_rotary_factor 0.25 vs 1.0": (
                {"rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 1.0}}, None),
            "use_parallel_residual true vs false": ({"use_parallel_residual": False}, None),
        },
    ),
    Checkpoint(
        name="neox-serial",
        model_cls=GPTNeoXForCausalLM,
        config_cls=GPTNeoXConfig,
        config=dict(
            COMMON,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=48,
            hidden_act="gelu",
            layer_norm_eps=1e-5,
            use_parallel_residual=False,
            tie_word_embeddings=True,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 1.0},
        ),
        save_dtype=torch.float16,
        seed=14002,
        modeling=modeling_gpt_neox,
        quirks={"use_parallel_residual false vs true": ({"use_parallel_residual": True}, None)},
        pyvene_cases=False,
    ),
    Checkpoint(
        name="llama",
        model_cls=LlamaForCausalLM,
        config_cls=LlamaConfig,
        config=dict(
            COMMON,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            intermediate_size=64,
            hidden_act="silu",
            rms_norm_eps=1e-5,
            attention_bias=False,
            mlp_bias=False,
            tie_word_embeddings=False,
            rope_parameters={
                "rope_type": "llama3",
                "rope_theta": 500000.0,
                "factor": 8.0,
                "low_freq_factor": 1.0,
                "high_freq_factor": 4.0,
                "original_max_position_embeddings": 16,
            },
        ),
        save_dtype=torch.bfloat16,
        seed=14003,
        modeling=modeling_llama,
        max_shard_size="20KB",
        quirks={"llama3 rope scaling vs none (same theta)": (
            {"rope_parameters": {"rope_type": "default", "rope_theta": 500000.0}}, None)},
    ),
    Checkpoint(
        name="mistral",
        model_cls=MistralForCausalLM,
        config_cls=MistralConfig,
        config=dict(
            COMMON,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=8,
            intermediate_size=64,
            hidden_act="silu",
            rms_norm_eps=1e-5,
            sliding_window=4,
            tie_word_embeddings=False,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        ),
        save_dtype=torch.float32,
        seed=14004,
        modeling=modeling_mistral,
        quirks={"sliding_window 4 vs none": ({"sliding_window": None}, None)},
    ),
    Checkpoint(
        name="qwen2",
        model_cls=Qwen2ForCausalLM,
        config_cls=Qwen2Config,
        config=dict(
            COMMON,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            intermediate_size=64,
            hidden_act="silu",
            rms_norm_eps=1e-6,
            tie_word_embeddings=True,
            use_sliding_window=False,
            rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
        ),
        save_dtype=torch.float32,
        seed=14005,
        modeling=modeling_qwen2,
        quirks={"q/k/v biases vs zero biases": ({}, _zero_qkv_bias)},
    ),
    Checkpoint(
        name="gemma2",
        model_cls=Gemma2ForCausalLM,
        config_cls=Gemma2Config,
        config=dict(
            COMMON,
            hidden_size=32,
            num_hidden_layers=3,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=16,
            intermediate_size=48,
            hidden_activation="gelu_pytorch_tanh",
            rms_norm_eps=1e-6,
            query_pre_attn_scalar=24,
            sliding_window=3,
            layer_types=["sliding_attention", "full_attention", "sliding_attention"],
            attn_logit_softcapping=1.5,
            final_logit_softcapping=3.0,
            tie_word_embeddings=True,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        ),
        save_dtype=torch.float32,
        seed=14006,
        modeling=modeling_gemma2,
        quirks={
            "attn_logit_softcapping 1.5 vs none": ({"attn_logit_softcapping": None}, None),
            "final_logit_softcapping 3.0 vs none": ({"final_logit_softcapping": None}, None),
            "query_pre_attn_scalar 24 vs head_dim 16": ({"query_pre_attn_scalar": 16}, None),
            "sliding layers (window 3) vs all full_attention": (
                {"layer_types": ["full_attention"] * 3}, None),
            "embeddings x sqrt(32) vs x 1": ({}, _unit_embed_scale),
            "RMSNorm scale 1 + w vs w": ({}, _norm_scale_w),
        },
    ),
]


def family_of(ckpt):
    return "neox" if ckpt.model_cls is GPTNeoXForCausalLM else "llama"


def dims(cfg):
    """(n_head, n_kv_head, head_dim, inner) of a config."""
    h = cfg.num_attention_heads
    kv = getattr(cfg, "num_key_value_heads", None) or h
    hd = getattr(cfg, "head_dim", None) or cfg.hidden_size // h
    return h, kv, hd, cfg.intermediate_size


def make_config(ckpt, edits=None):
    kw = copy.deepcopy(ckpt.config)
    kw.update(copy.deepcopy(edits or {}))
    return ckpt.config_cls(**kw, attn_implementation="eager")


def is_norm_weight(name):
    return name.endswith("norm.weight") or "layernorm" in name and name.endswith("weight")


def make_model(ckpt):
    """A float32 model with random weights (norm scales 1+N, Gemma's N: it applies 1+w)."""
    torch.manual_seed(ckpt.seed)
    model = ckpt.model_cls(make_config(ckpt))
    gen = torch.Generator().manual_seed(ckpt.seed)
    gemma = ckpt.model_cls is Gemma2ForCausalLM
    with torch.no_grad():
        for name, param in model.named_parameters():  # tied weights appear once
            noise = torch.randn(param.shape, generator=gen, dtype=torch.float32) * WEIGHT_STD
            norm = is_norm_weight(name) or name.endswith("final_layer_norm.weight")
            param.copy_(1.0 + noise if norm and not gemma else noise)
            param.copy_(param.to(ckpt.save_dtype).to(torch.float32))
    model.eval()
    tied = model.lm_head.weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    assert tied == ckpt.config["tie_word_embeddings"], (ckpt.name, "tying", tied)
    return model


def weight_files(out):
    return sorted(p.name for p in out.iterdir() if p.name.startswith("model") and p.suffix in (".safetensors", ".json"))


def save_checkpoint(model, ckpt, out):
    to_save = copy.deepcopy(model).to(ckpt.save_dtype)
    kw = {"max_shard_size": ckpt.max_shard_size} if ckpt.max_shard_size else {}
    to_save.save_pretrained(out, **kw)
    state = {k: v for k, v in model.state_dict().items()}
    seen = set()
    for f in out.glob("model*.safetensors"):
        with safetensors.safe_open(f, framework="pt") as sf:
            for key in sf.keys():
                t = sf.get_tensor(key)
                assert t.dtype == ckpt.save_dtype, (key, t.dtype)
                seen.add(key)
    return sorted(seen)


# ----------------------------------------------------------------------------------
# Sites: module (relative to the layer), hook kind, view of the hooked tensor.


def heads_view(n, hd):
    def get(x):
        b, s = x.shape[:2]
        return x.view(b, s, n, hd).permute(0, 2, 1, 3)

    def put(x, v):
        return v.permute(0, 2, 1, 3).reshape(x.shape)

    return get, put


def fused_view(i, n, hd, per_head):
    """GPT-NeoX's query_key_value output laid out [b, s, n, 3*hd] = [q_h, k_h, v_h] per head."""

    def get(x):
        b, s = x.shape[:2]
        part = x.view(b, s, n, 3 * hd)[..., i * hd : (i + 1) * hd]
        return part.permute(0, 2, 1, 3) if per_head else part.reshape(b, s, n * hd)

    def put(x, v):
        b, s = x.shape[:2]
        y = x.view(b, s, n, 3 * hd).clone()
        y[..., i * hd : (i + 1) * hd] = v.permute(0, 2, 1, 3) if per_head else v.view(b, s, n, hd)
        return y.reshape(x.shape)

    return get, put


IDENT = (lambda x: x, lambda x, v: v)

LAYER_SITES = [
    "block_input",
    "attention_input",
    "query_output",
    "key_output",
    "value_output",
    "head_query_output",
    "head_key_output",
    "head_value_output",
    "attention_scores",
    "attention_weight",
    "head_attention_value_output",
    "attention_value_output",
    "attention_output",
    "resid_mid",
    "mlp_input",
    "mlp_activation",
    "mlp_post",
    "mlp_output",
    "block_output",
]
GLOBAL_SITES = ["embed", "ln_final"]


def site_table(model, ckpt):
    """component -> (module path with {l}, "in"/"out", (get, put)) for hookable sites.

    attention_scores / attention_weight are recorded from the attention function instead.
    """
    cfg = model.config
    h, kv, hd, _ = dims(cfg)
    if family_of(ckpt) == "neox":
        L = "gpt_neox.layers.{l}"
        t = {
            "block_input": (L, "in", IDENT),
            "block_output": (L, "out", IDENT),
            "attention_input": (L + ".attention", "in", IDENT),
            "query_output": (L + ".attention.query_key_value", "out", fused_view(0, h, hd, False)),
            "key_output": (L + ".attention.query_key_value", "out", fused_view(1, h, hd, False)),
            "value_output": (L + ".attention.query_key_value", "out", fused_view(2, h, hd, False)),
            "head_query_output": (L + ".attention.query_key_value", "out", fused_view(0, h, hd, True)),
            "head_key_output": (L + ".attention.query_key_value", "out", fused_view(1, h, hd, True)),
            "head_value_output": (L + ".attention.query_key_value", "out", fused_view(2, h, hd, True)),
            "attention_value_output": (L + ".attention.dense", "in", IDENT),
            "head_attention_value_output": (L + ".attention.dense", "in", heads_view(h, hd)),
            "attention_output": (L + ".attention", "out", IDENT),
            "mlp_input": (L + ".mlp", "in", IDENT),
            "mlp_activation": (L + ".mlp.act", "out", IDENT),
            "mlp_post": (L + ".mlp.dense_4h_to_h", "in", IDENT),
            "mlp_output": (L + ".mlp", "out", IDENT),
        }
        if not cfg.use_parallel_residual:
            t["resid_mid"] = (L + ".post_attention_layernorm", "in", IDENT)
        return t
    L = "model.layers.{l}"
    gemma = ckpt.model_cls is Gemma2ForCausalLM
    return {
        "block_input": (L, "in", IDENT),
        "block_output": (L, "out", IDENT),
        "attention_input": (L + ".self_attn", "in", IDENT),
        "query_output": (L + ".self_attn.q_proj", "out", IDENT),
        "key_output": (L + ".self_attn.k_proj", "out", IDENT),
        "value_output": (L + ".self_attn.v_proj", "out", IDENT),
        "head_query_output": (L + ".self_attn.q_proj", "out", heads_view(h, hd)),
        "head_key_output": (L + ".self_attn.k_proj", "out", heads_view(kv, hd)),
        "head_value_output": (L + ".self_attn.v_proj", "out", heads_view(kv, hd)),
        "attention_value_output": (L + ".self_attn.o_proj", "in", IDENT),
        "head_attention_value_output": (L + ".self_attn.o_proj", "in", heads_view(h, hd)),
        "attention_output": (L + ".self_attn", "out", IDENT),
        "resid_mid": (L + (".pre_feedforward_layernorm" if gemma else ".post_attention_layernorm"), "in", IDENT),
        "mlp_input": (L + ".mlp", "in", IDENT),
        "mlp_activation": (L + ".mlp.act_fn", "out", IDENT),
        "mlp_post": (L + ".mlp.down_proj", "in", IDENT),
        "mlp_output": (L + ".mlp", "out", IDENT),
    }


def absent_sites(model, ckpt):
    if family_of(ckpt) == "neox" and model.config.use_parallel_residual:
        return ["resid_mid"]
    return []


def hook(module, kind, fn):
    """Register fn(x) -> None | replacement on module's first input or first output."""
    if kind == "in":

        def pre(mod, args, kwargs):
            if args:
                r = fn(args[0])
                if r is not None:
                    return (r,) + tuple(args[1:]), kwargs
            else:
                key = "hidden_states" if "hidden_states" in kwargs else "input"
                r = fn(kwargs[key])
                if r is not None:
                    kwargs = dict(kwargs)
                    kwargs[key] = r
                    return args, kwargs
            return None

        return module.register_forward_pre_hook(pre, with_kwargs=True)

    def post(mod, args, out):
        x = out[0] if isinstance(out, tuple) else out
        r = fn(x)
        if r is None:
            return None
        return (r,) + tuple(out[1:]) if isinstance(out, tuple) else r

    return module.register_forward_hook(post)


def attention_module(model, ckpt, layer):
    if family_of(ckpt) == "neox":
        return model.gpt_neox.layers[layer].attention
    return model.model.layers[layer].self_attn


class Recorder:
    """Records every site of one forward with hooks and a wrapped eager attention."""

    def __init__(self, model, ckpt):
        self.model, self.ckpt = model, ckpt
        self.values, self.masks, self.handles = {}, {}, []
        table = site_table(model, ckpt)
        for layer in range(model.config.num_hidden_layers):
            for comp, (path, kind, (get, _)) in table.items():
                mod = model.get_submodule(path.format(l=layer))
                self.handles.append(hook(mod, kind, self._store_fn(f"{layer}/{comp}", get)))
            attn = attention_module(model, ckpt, layer)
            self.handles.append(attn.register_forward_hook(self._weights_fn(layer)))
        base = model.gpt_neox if family_of(ckpt) == "neox" else model.model
        emb = base.embed_in if family_of(ckpt) == "neox" else base.embed_tokens
        norm = base.final_layer_norm if family_of(ckpt) == "neox" else base.norm
        self.handles.append(hook(emb, "out", self._store_fn("embed", IDENT[0])))
        self.handles.append(hook(norm, "out", self._store_fn("ln_final", IDENT[0])))

    def _store(self, key, t):
        assert key not in self.values, f"site {key} recorded twice"
        self.values[key] = t.detach().clone().contiguous()

    def _store_fn(self, key, get):
        def fn(x):
            self._store(key, get(x))

        return fn

    def _weights_fn(self, layer):
        def fn(mod, args, out):
            self._store(f"{layer}/attention_weight", out[1])

        return fn

    @contextlib.contextmanager
    def scores(self):
        """Wrap the family's eager_attention_forward to record the scores it computes."""
        m = self.ckpt.modeling
        original = m.eager_attention_forward
        neox = family_of(self.ckpt) == "neox"

        def wrapper(module, query, key, value, attention_mask, *args, **kwargs):
            scaling = kwargs.get("scaling")
            softcap = kwargs.get("softcap")
            if neox:
                s = torch.matmul(query, key.transpose(2, 3)) * scaling
            else:
                k = m.repeat_kv(key, module.num_key_value_groups)
                s = torch.matmul(query, k.transpose(2, 3)) * scaling
                if softcap is not None:
                    s = s / softcap
                    s = torch.tanh(s)
                    s = s * softcap
            self._store(f"{module.layer_idx}/attention_scores", s)
            self.masks[module.layer_idx] = attention_mask.detach().clone()
            return original(module, query, key, value, attention_mask, *args, **kwargs)

        m.eager_attention_forward = wrapper
        try:
            yield
        finally:
            m.eager_attention_forward = original

    def remove(self):
        for h in self.handles:
            h.remove()


# ----------------------------------------------------------------------------------
# Cases


@dataclass
class Case:
    name: str
    input_ids: np.ndarray
    attention_mask: np.ndarray
    position_ids: np.ndarray


def position_ids(model, ids, mask):
    return model._prepare_position_ids_for_generation(ids, {"attention_mask": mask})


def make_cases(model, ckpt):
    gen = torch.Generator().manual_seed(ckpt.seed + 1)
    singles = []
    for name, n in PROMPT_LENGTHS.items():
        ids = torch.randint(1, BOS_ID, (1, n), generator=gen)
        mask = torch.ones_like(ids)
        singles.append(Case(name, ids.numpy(), mask.numpy(), position_ids(model, ids, mask).numpy()))
    width = max(c.input_ids.shape[1] for c in singles)
    rows, masks = [], []
    for c in singles:
        pad = width - c.input_ids.shape[1]
        rows.append([PAD_ID] * pad + c.input_ids[0].tolist())
        masks.append([0] * pad + [1] * c.input_ids.shape[1])
    ids, mask = torch.tensor(rows), torch.tensor(masks)
    return singles + [Case("batch", ids.numpy(), mask.numpy(), position_ids(model, ids, mask).numpy())]


def forward(model, case):
    return model(
        input_ids=torch.from_numpy(case.input_ids),
        attention_mask=torch.from_numpy(case.attention_mask),
        position_ids=torch.from_numpy(case.position_ids),
    )


def close(got, want, what, tol=1e-5):
    t = tol * max(1.0, float(want.abs().max()))
    d = float((got - want).abs().max())
    assert d <= t, f"{what}: max |diff| {d} > {t}"


def record_case(model, ckpt, case, facts):
    rec = Recorder(model, ckpt)
    try:
        with torch.no_grad(), rec.scores():
            out = forward(model, case)
    finally:
        rec.remove()
    v, cfg = rec.values, model.config
    h, kv, hd, inner = dims(cfg)
    b, s = case.input_ids.shape
    neox = family_of(ckpt) == "neox"
    gemma = ckpt.model_cls is Gemma2ForCausalLM
    absent = absent_sites(model, ckpt)
    with torch.no_grad():
        for layer in range(cfg.num_hidden_layers):
            p = f"{layer}/"
            blk = model.gpt_neox.layers[layer] if neox else model.model.layers[layer]
            mask = rec.masks[layer]
            probs = v[p + "attention_weight"]
            assert torch.equal(torch.softmax(v[p + "attention_scores"] + mask, dim=-1), probs), f"L{layer} softmax"
            vals = v[p + "head_value_output"].repeat_interleave(h // kv, dim=1)
            close(torch.matmul(probs, vals), v[p + "head_attention_value_output"], f"L{layer} weights@values")
            if neox:
                assert torch.equal(blk.input_layernorm(v[p + "block_input"]), v[p + "attention_input"])
                if cfg.use_parallel_residual:
                    want = v[p + "mlp_output"] + v[p + "attention_output"] + v[p + "block_input"]
                    assert torch.equal(blk.post_attention_layernorm(v[p + "block_input"]), v[p + "mlp_input"])
                else:
                    assert torch.equal(v[p + "attention_output"] + v[p + "block_input"], v[p + "resid_mid"])
                    want = v[p + "mlp_output"] + v[p + "resid_mid"]
                assert torch.equal(want, v[p + "block_output"]), f"L{layer} residual"
                assert torch.equal(v[p + "mlp_activation"], v[p + "mlp_post"])
            else:
                attn_add = blk.post_attention_layernorm(v[p + "attention_output"]) if gemma else v[p + "attention_output"]
                assert torch.equal(v[p + "block_input"] + attn_add, v[p + "resid_mid"]), f"L{layer} resid_mid"
                mlp_add = blk.post_feedforward_layernorm(v[p + "mlp_output"]) if gemma else v[p + "mlp_output"]
                assert torch.equal(v[p + "resid_mid"] + mlp_add, v[p + "block_output"]), f"L{layer} block_output"
                up = blk.mlp.up_proj(v[p + "mlp_input"])
                assert torch.equal(v[p + "mlp_activation"] * up, v[p + "mlp_post"]), f"L{layer} mlp_post"
            if layer == 0:
                facts["mask_distinct_values"] = sorted(set(mask.flatten().tolist()))
                facts["scaling"] = blk.attention.scaling if neox else blk.self_attn.scaling
            if mask.shape[-1] == s:
                facts.setdefault("allowed_keys_example0_head0", {})[str(layer)] = allowed_keys(mask)
        assert torch.equal(v["embed"], v["0/block_input"]), "embed is block 0's input"
        if gemma:
            raw = model.model.embed_tokens.weight[torch.from_numpy(case.input_ids)]
            assert torch.equal(raw * torch.tensor(cfg.hidden_size**0.5, dtype=torch.float32), v["embed"])
            facts["embed_scale_float32"] = float(torch.tensor(cfg.hidden_size**0.5, dtype=torch.float32))

    result = {}
    for name in ("input_ids", "attention_mask", "position_ids"):
        result[f"{case.name}/{name}"] = getattr(case, name).astype(np.int64)
    for site in GLOBAL_SITES:
        result[f"{case.name}/{site}"] = v[site]
    want_shapes = {
        "head_query_output": (b, h, s, hd),
        "head_key_output": (b, kv, s, hd),
        "head_value_output": (b, kv, s, hd),
        "head_attention_value_output": (b, h, s, hd),
        "attention_scores": (b, h, s, s),
        "attention_weight": (b, h, s, s),
        "query_output": (b, s, h * hd),
        "key_output": (b, s, kv * hd),
        "value_output": (b, s, kv * hd),
        "attention_value_output": (b, s, h * hd),
        "mlp_activation": (b, s, inner),
        "mlp_post": (b, s, inner),
    }
    for layer in range(cfg.num_hidden_layers):
        for comp in LAYER_SITES:
            if comp in absent:
                assert f"{layer}/{comp}" not in v
                continue
            t = v[f"{layer}/{comp}"]
            assert tuple(t.shape) == want_shapes.get(comp, (b, s, cfg.hidden_size)), (comp, tuple(t.shape))
            result[f"{case.name}/{layer}/{comp}"] = t
    result[f"{case.name}/logits"] = out.logits.detach()
    for k, t in result.items():
        if isinstance(t, torch.Tensor):
            assert t.dtype == torch.float32, (k, t.dtype)
            result[k] = np.ascontiguousarray(t.numpy())
    return result


def allowed_keys(mask):
    """Per example 0, head 0, query row: the key positions the additive mask allows."""
    m = mask[0, 0]
    return [[int(j) for j in torch.nonzero(m[i] == 0).flatten()] for i in range(m.shape[0])]


def generate(model, case, facts):
    ids = torch.from_numpy(case.input_ids)
    mask = torch.from_numpy(case.attention_mask)
    with torch.no_grad():
        out = model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=NEW_TOKENS,
            do_sample=False,
            use_cache=True,
            return_dict_in_generate=True,
            output_logits=True,
        )
    new = out.sequences[:, ids.shape[1] :]
    assert new.shape[1] == NEW_TOKENS
    logits = torch.stack(out.logits, dim=1)  # [b, new, vocab]
    # The same greedy continuation recomputed without a cache: full forwards over the growing
    # left-padded batch with explicit mask and generate()'s position ids.
    seq, m = ids.clone(), mask.clone()
    recomputed = []
    with torch.no_grad():
        for _ in range(NEW_TOKENS):
            step = model(input_ids=seq, attention_mask=m, position_ids=position_ids(model, seq, m), use_cache=False)
            last = step.logits[:, -1]
            recomputed.append(last)
            seq = torch.cat([seq, last.argmax(-1, keepdim=True)], dim=1)
            m = torch.cat([m, torch.ones_like(m[:, :1])], dim=1)
    assert torch.equal(seq, out.sequences), f"cached generate {out.sequences.tolist()} vs recomputed {seq.tolist()}"
    recomputed = torch.stack(recomputed, dim=1)
    facts["generate_vs_no_cache_max_abs_logit_diff"] = float((recomputed - logits).abs().max())
    close(recomputed, logits, "generate logits vs no-cache recompute", tol=1e-4)
    facts["generate"] = {
        "kwargs": "do_sample=False, max_new_tokens=%d (eos 255 never produced), use_cache=True (DynamicCache), "
        "input_ids and attention_mask only (generate derives position_ids)" % NEW_TOKENS,
        "cache": type(out.past_key_values).__name__,
        "cache_layers": sorted({type(l).__name__ for l in getattr(out.past_key_values, "layers", [])}),
        "total_length": int(out.sequences.shape[1]),
    }
    return {
        f"{case.name}/generated": new.numpy().astype(np.int64),
        f"{case.name}/generated_logits": np.ascontiguousarray(logits.float().numpy()),
    }


# ----------------------------------------------------------------------------------
# Quirks: each must change the logits


def quirk_deltas(model, ckpt, case):
    with torch.no_grad():
        base = forward(model, case).logits
        deltas = {}
        for name, (edits, state_fn) in ckpt.quirks.items():
            alt = ckpt.model_cls(make_config(ckpt, edits)).eval()
            alt.load_state_dict(model.state_dict())
            if state_fn:
                state_fn(alt)
            d = float((forward(alt, case).logits - base).abs().max())
            assert d > 1e-3, f"{ckpt.name}: quirk {name!r} changes the logits by only {d}"
            deltas[name] = d
    return deltas


# ----------------------------------------------------------------------------------
# pyvene interventions


def pyvene_collect(model, case, layer, component):
    """pyvene's CollectIntervention at every position (every head for head sites)."""
    b, s = case.input_ids.shape
    h, kv, _, _ = dims(model.config)
    per_head = component.startswith("head_")
    unit = "h.pos" if per_head else "pos"
    rep = pv.RepresentationConfig(layer, component, unit, s, intervention_type=pv.CollectIntervention)
    iv = pv.IntervenableModel(pv.IntervenableConfig(representations=[rep]), model)
    if per_head:
        n = kv if component in ("head_key_output", "head_value_output") else h
        loc = [[list(range(n))] * b, [list(range(s))] * b]
    else:
        loc = [list(range(s))] * b
    base = {k: torch.from_numpy(getattr(case, k)) for k in ("input_ids", "attention_mask", "position_ids")}
    with torch.no_grad():
        (_, collected), _ = iv(base=base, unit_locations={"base": [loc]})
    assert len(collected) == 1, f"{component}: {len(collected)} collections"
    return collected[0]


def check_pyvene_sites(model, ckpt, case, ref):
    """Collect every component pyvene maps for this family at layer 1 and compare with ref."""
    table = pv.models.intervenable_modelcard.type_to_module_mapping[type(model)]
    layer = 1
    result = {"case": case.name, "layer": layer, "equal": [], "failed": {}}
    for comp in LAYER_SITES:
        if comp not in table:
            continue
        want = ref[f"{case.name}/{layer}/{comp}"]
        try:
            got = pyvene_collect(model, case, layer, comp).numpy()
            assert got.shape == want.shape, f"shape {got.shape} vs {want.shape}"
            assert np.array_equal(got, want), "max |diff| %g" % float(np.abs(got - want).max())
            result["equal"].append(comp)
        except Exception as e:  # noqa: BLE001 -- recorded in reference.json
            result["failed"][comp] = f"{type(e).__name__}: {str(e)[:200]}"
    result["not_in_pyvene"] = [c for c in LAYER_SITES if c not in table]
    return result


def pv_inputs(ckpt):
    rng = np.random.default_rng(ckpt.seed + 7)
    base = rng.integers(1, BOS_ID, size=(2, 6), dtype=np.int64)
    source = rng.integers(1, BOS_ID, size=(2, 6), dtype=np.int64)
    return base, source


def pv_case_list(model, ckpt):
    """(name, description, layer, component, unit, intervention, src_locs, base_locs).

    pos locations: [[positions ex0], [positions ex1]]; h.pos: ([[heads ex0],[heads ex1]],
    [[positions ex0],[positions ex1]]). Source and base locations are listed separately.
    """
    h, kv, _, _ = dims(model.config)
    last = model.config.num_hidden_layers - 1
    P = lambda a, b: [[a], [b]]  # noqa: E731
    cases = [
        ("vanilla_block_output", "Vanilla block_output L0: source pos 2|4 -> base pos 3|5",
         0, "block_output", "pos", "VanillaIntervention", P(2, 4), P(3, 5)),
        ("vanilla_mlp_output", f"Vanilla mlp_output L{last}: source pos 1|5 -> base pos 5|5",
         last, "mlp_output", "pos", "VanillaIntervention", P(1, 5), P(5, 5)),
        ("addition_block_output", "Addition block_output L1: base pos 4|2 += source pos 4|2",
         1, "block_output", "pos", "AdditionIntervention", P(4, 2), P(4, 2)),
        ("collect_attention_output", "Collect attention_output L1 at base pos 2|5 (no source; logits unchanged)",
         1, "attention_output", "pos", "CollectIntervention", None, P(2, 5)),
        ("vanilla_head_attention_value_output",
         f"Vanilla head_attention_value_output L1: source head {h - 1}|1 pos 3|5 -> base head {h - 1}|0 pos 4|5",
         1, "head_attention_value_output", "h.pos", "VanillaIntervention",
         (P(h - 1, 1), P(3, 5)), (P(h - 1, 0), P(4, 5))),
        ("vanilla_head_key_output",
         f"Vanilla head_key_output L0 (key/value head index, {kv} kv heads): source kv head {kv - 1}|0 pos 2|4 -> "
         f"base kv head {kv - 1}|0 pos 2|3",
         0, "head_key_output", "h.pos", "VanillaIntervention", (P(kv - 1, 0), P(2, 4)), (P(kv - 1, 0), P(2, 3))),
    ]
    return cases


def emulate(model, ckpt, c, base, source):
    """Independent semantics: capture the source site, then write it into the base run."""
    name, _, layer, comp, unit, itype, src_locs, base_locs = c
    path, kind, (get, put) = site_table(model, ckpt)[comp]
    mod = model.get_submodule(path.format(l=layer))

    def index(locs, ex):
        if unit == "pos":
            return (ex, locs[ex])
        heads, pos = locs
        return (ex, heads[ex], pos[ex])  # one head per example here

    captured = {}

    def cap(x):
        captured["v"] = get(x).clone()

    with torch.no_grad():
        src_val = None
        if src_locs is not None:
            hd = hook(mod, kind, cap)
            try:
                model(input_ids=torch.from_numpy(source))
            finally:
                hd.remove()
            src_val = captured.pop("v")
        collected = []

        def setter(x):
            v = get(x).clone()
            for ex in range(v.shape[0]):
                bi = index(base_locs, ex)
                if itype == "CollectIntervention":
                    collected.append(v[bi].clone())
                    continue
                si = index(src_locs, ex)
                if itype == "VanillaIntervention":
                    v[bi] = src_val[si]
                elif itype == "AdditionIntervention":
                    v[bi] = v[bi] + src_val[si]
                else:
                    raise ValueError(itype)
            if itype == "CollectIntervention":
                return None
            return put(x, v)

        hd = hook(mod, kind, setter)
        try:
            logits = model(input_ids=torch.from_numpy(base)).logits
        finally:
            hd.remove()
    coll = torch.stack(collected) if collected else None
    return logits, coll


def pyvene_unit_locations(c):
    _, _, _, _, unit, itype, src_locs, base_locs = c
    if unit == "pos":
        src = [src_locs] if src_locs is not None else None
        return {"sources->base": (src, [base_locs])}
    s = [[src_locs[0], src_locs[1]]] if src_locs is not None else None
    return {"sources->base": (s, [[base_locs[0], base_locs[1]]])}


def run_pyvene(model, c, base, source):
    name, _, layer, comp, unit, itype, src_locs, base_locs = c
    n = len(base_locs[0]) if unit == "pos" else len(base_locs[1][0])
    rep = pv.RepresentationConfig(layer=layer, component=comp, unit=unit, max_number_of_units=n,
                                  intervention_type=getattr(pv, itype))
    iv = pv.IntervenableModel(pv.IntervenableConfig(representations=[rep]), model)
    sources = [{"input_ids": torch.from_numpy(source)}] if src_locs is not None else None
    with torch.no_grad():
        out = iv({"input_ids": torch.from_numpy(base)}, sources=sources,
                 unit_locations=pyvene_unit_locations(c), output_original_output=True)
    if iv.return_collect_activations:
        (orig, collected), inter = out
        return orig.logits, inter.logits if inter is not None else orig.logits, collected
    (orig, inter), collected = out, []
    return orig.logits, inter.logits, collected


def pv_records(model, ckpt):
    base, source = pv_inputs(ckpt)
    with torch.no_grad():
        original = model(input_ids=torch.from_numpy(base)).logits
    tensors = {"original": original.numpy()}
    records = []
    pyvene_table = pv.models.intervenable_modelcard.type_to_module_mapping[type(model)]
    for c in pv_case_list(model, ckpt):
        name, desc, layer, comp, unit, itype, src_locs, base_locs = c
        emu_logits, emu_coll = emulate(model, ckpt, c, base, source)
        rec = {
            "name": name,
            "description": desc,
            "component": comp,
            "layer": layer,
            "unit": unit,
            "intervention_type": itype,
            "subspace": None,
            "base": base.tolist(),
            "source": source.tolist() if src_locs is not None else None,
            "source_locations": json_locations(unit, src_locs),
            "base_locations": json_locations(unit, base_locs),
            "pyvene_unit_locations": to_json(pyvene_unit_locations(c)),
            "original": "original",
            "intervened": f"{name}/intervened",
            "collected": f"{name}/collected" if itype == "CollectIntervention" else None,
        }
        if comp not in pyvene_table:
            rec["reference_from"] = "emulation"
            rec["pyvene"] = f"pyvene 0.1.8 has no {comp} for {type(model).__name__} (not in its module mapping)"
            logits, coll = emu_logits, emu_coll
        else:
            try:
                orig, logits, collected = run_pyvene(model, c, base, source)
                assert torch.equal(orig, original), "pyvene's original differs from a plain forward"
                coll = None
                if itype == "CollectIntervention":
                    assert len(collected) == 1, len(collected)
                    coll = collected[0]
                    assert coll.shape == emu_coll.shape, (coll.shape, emu_coll.shape)
                    close(coll, emu_coll, f"{name}: pyvene collect vs emulation")
                close(logits, emu_logits, f"{name}: pyvene vs emulation")
                rec["reference_from"] = "pyvene"
                rec["pyvene"] = "agrees with the torch-hook emulation (max |diff| %.3g)" % float(
                    (logits - emu_logits).abs().max())
            except Exception as e:  # noqa: BLE001 -- recorded, and the emulation is the reference
                rec["reference_from"] = "emulation"
                rec["pyvene"] = f"pyvene 0.1.8 failed: {type(e).__name__}: {str(e)[:300]}"
                logits, coll = emu_logits, emu_coll
        delta = float((logits - original).abs().max())
        rec["max_abs_delta"] = delta
        if itype == "CollectIntervention":
            assert delta == 0.0, f"{name}: collect changed the logits by {delta}"
            tensors[rec["collected"]] = coll.numpy()
        else:
            assert delta > 1e-3, f"{ckpt.name}/{name}: intervention changes the logits by only {delta}"
        tensors[rec["intervened"]] = logits.numpy()
        records.append(rec)
    return records, {k: np.ascontiguousarray(v.astype(np.float32)) for k, v in tensors.items()}


def json_locations(unit, locs):
    """{"heads": per-example heads or null (unit "pos"), "positions": per-example positions}; null if no locs."""
    if locs is None:
        return None
    if unit == "pos":
        return {"heads": None, "positions": locs}
    return {"heads": locs[0], "positions": locs[1]}


def to_json(o):
    if isinstance(o, (list, tuple)):
        return [to_json(x) for x in o]
    if isinstance(o, dict):
        return {str(k): to_json(v) for k, v in o.items()}
    return o


# ----------------------------------------------------------------------------------
# Output


def header_of(path):
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", None)
    return {"metadata": meta, "tensors": {k: {"dtype": v["dtype"], "shape": v["shape"]} for k, v in sorted(header.items())}}


def reload_check(out, ckpt, cases, ref):
    model = ckpt.model_cls.from_pretrained(out, dtype=torch.float32, attn_implementation="eager").eval()
    for case in cases:
        with torch.no_grad():
            got = forward(model, case).logits.numpy()
        assert np.array_equal(got, ref[f"{case.name}/logits"]), f"{ckpt.name}/{case.name}: reload differs"


def rope_spelling(config_json):
    keys = [k for k in ("rope_parameters", "rope_theta", "rope_scaling", "rotary_pct", "rotary_emb_base",
                        "partial_rotary_factor") if k in config_json]
    return {k: config_json[k] for k in keys}


def rope_as_computed(model, ckpt):
    """transformers' rotary tables for this config: inv_freq (after any scaling) and the cos/sin factor."""
    rot = model.gpt_neox.rotary_emb if family_of(ckpt) == "neox" else model.model.rotary_emb
    out = {"inv_freq": [float(x) for x in rot.inv_freq], "attention_scaling": float(rot.attention_scaling)}
    if family_of(ckpt) == "neox":
        out["rotary_ndims"] = model.gpt_neox.layers[0].attention.rotary_ndims
    return out


def make_checkpoint(ckpt, out):
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    model = make_model(ckpt)
    keys = save_checkpoint(model, ckpt, out)
    cases = make_cases(model, ckpt)
    ref, case_facts = {}, {}
    for case in cases:
        f = {}
        ref.update(record_case(model, ckpt, case, f))
        case_facts[case.name] = f
    batch = cases[-1]
    ref.update(generate(model, batch, case_facts["batch"]))
    gen = ref["batch/generated"]
    assert not (gen == PAD_ID).any(), f"{ckpt.name}: generated the eos/pad id; change the seed"
    quirks = quirk_deltas(model, ckpt, batch)
    pv_sites = check_pyvene_sites(model, ckpt, batch, ref)
    reload_check(out, ckpt, cases, ref)
    safetensors.numpy.save_file(ref, str(out / "reference.safetensors"), metadata={"format": "np"})

    pv_json = None
    if ckpt.pyvene_cases:
        records, tensors = pv_records(model, ckpt)
        safetensors.numpy.save_file(tensors, str(out / "pv_reference.safetensors"), metadata={"format": "np"})
        text = "[\n" + ",\n".join(json.dumps(r, separators=(",", ":")) for r in records) + "\n]\n"
        (out / "pv_cases.json").write_text(text, encoding="utf-8")
        pv_json = {r["name"]: {"reference_from": r["reference_from"], "pyvene": r["pyvene"],
                               "max_abs_delta": r["max_abs_delta"]} for r in records}

    config_json = json.loads((out / "config.json").read_text())
    h, kv, hd, inner = dims(model.config)
    summary = {
        "generator": "oracle/make_family_fixtures.py",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "pyvene": "0.1.8",
                     "numpy": np.__version__, "safetensors": safetensors.__version__},
        "family": config_json["model_type"],
        "architecture": ckpt.model_cls.__name__,
        "dims": {"n_head": h, "n_kv_head": kv, "head_dim": hd, "inner": inner,
                 "hidden": model.config.hidden_size, "layers": model.config.num_hidden_layers, "vocab": VOCAB},
        "checkpoint": {
            "dtype": str(ckpt.save_dtype).replace("torch.", ""),
            "weights": f"N(0, {WEIGHT_STD}) for every parameter (biases included); norm scales 1 + N(0, {WEIGHT_STD}) "
            + ("(Gemma 2: N(0, 0.2) since it applies 1 + w)" if ckpt.model_cls is Gemma2ForCausalLM else "")
            + f"; rounded to {str(ckpt.save_dtype).replace('torch.', '')}; references in float32 from the rounded weights",
            "seed": ckpt.seed,
            "tied_embeddings": ckpt.config["tie_word_embeddings"],
            "files": {f: header_of(out / f) for f in weight_files(out) if f.endswith(".safetensors")},
            "tensor_names": keys,
        },
        "config": config_json,
        "rope_spelling": rope_spelling(config_json),
        "rope_as_computed": rope_as_computed(model, ckpt),
        "quirks_max_abs_logit_delta": quirks,
        "padding": {"side": "left", "pad_token_id": PAD_ID, "position_ids": POSITION_IDS_NOTE},
        "notes": NOTES + FAMILY_NOTES.get(config_json["model_type"], []) + [
            "transformers 5.17 writes rope settings only as config.json's rope_parameters "
            + json.dumps(config_json.get("rope_parameters"), sort_keys=True)
            + " (no top-level rope_theta, rope_scaling, rotary_pct or rotary_emb_base); it still reads those "
            "legacy keys (rope_scaling + rope_theta -> rope_parameters; NeoX rotary_pct -> partial_rotary_factor, "
            "rotary_emb_base -> rope_theta, partial_rotary_factor defaulting to 0.25 when absent)."],
        "cases": {c.name: {"input_ids": c.input_ids.tolist(), "attention_mask": c.attention_mask.tolist(),
                           "position_ids": c.position_ids.tolist(), "facts": case_facts[c.name]} for c in cases},
        "sites": {"per_layer": LAYER_SITES, "absent": absent_sites(model, ckpt), "global": GLOBAL_SITES + ["logits"],
                  "generation": ["batch/generated [b,6] int64", "batch/generated_logits [b,6,vocab]"],
                  "definitions": SITE_DEFINITIONS},
        "pyvene_cases": pv_json,
        "pyvene_sites": pv_sites,
        "tensors": {k: {"dtype": str(a.dtype), "shape": list(a.shape)} for k, a in sorted(ref.items())},
    }
    (out / "reference.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


POSITION_IDS_NOTE = (
    "as transformers 5.17's generate(): attention_mask.cumsum(-1) - 1 with padding positions filled "
    "with 0 (masked_fill(attention_mask == 0, 0)); the references pass these explicitly"
)

SITE_DEFINITIONS = {
    "block_input / block_output": "decoder layer l's input / output (residual stream)",
    "attention_input": "input of the attention module (= input_layernorm(block_input))",
    "query_output / key_output / value_output": "q_proj / k_proj / v_proj outputs [b,s,H*hd] / [b,s,KV*hd], "
    "before rotary; GPT-NeoX: query_key_value output viewed [b,s,H,3*hd] and split per head into q,k,v",
    "head_*_output": "the same as [b,heads,s,hd] (key/value: KV heads), before rotary",
    "attention_scores": "q.k^T * scaling after rotary (Gemma 2: after tanh soft-capping), before the mask, "
    "[b,H,s,s]; recorded inside the family's eager_attention_forward",
    "attention_weight": "softmax(scores + additive mask), [b,H,s,s] (the attention module's second output)",
    "head_attention_value_output / attention_value_output": "o_proj's (NeoX: dense's) input, per head / merged",
    "attention_output": "attention module output (after o_proj; before Gemma 2's post_attention_layernorm and "
    "the residual add)",
    "resid_mid": "residual after the attention add: Llama-likes post_attention_layernorm's input; Gemma 2 "
    "pre_feedforward_layernorm's input (= block_input + post_attention_layernorm(attention_output)); NeoX serial "
    "post_attention_layernorm's input; absent for NeoX parallel",
    "mlp_input": "MLP module input",
    "mlp_activation": "act_fn output (act(gate_proj(x)); NeoX act(dense_h_to_4h(x)))",
    "mlp_post": "down projection input (act(gate)*up; NeoX = mlp_activation)",
    "mlp_output": "MLP module output (before Gemma 2's post_feedforward_layernorm, before the add)",
    "embed": "token embeddings as they enter layer 0 (Gemma 2: embed_tokens(ids) * float32(sqrt(hidden)))",
    "ln_final": "final norm output",
    "logits": "lm_head output (Gemma 2: after final soft-capping), [b,s,vocab]",
}

NOTES = [
    "Additive eager mask: 0 where allowed, finfo(float32).min where not (causal, padding, outside the sliding "
    "window); masked keys get probability exactly 0. A fully masked (padding) query row gets a uniform softmax.",
    "Sliding window w (masking_utils): key j is visible from query i iff i - w < j <= i, i.e. w keys including "
    "itself; counted in cache slots (padding slots included), not in position ids.",
    "With left padding a row's cache slot and position id differ by that row's padding count, so a window "
    "counted in slots or in positions gives the same mask here.",
    "Forwards run with use_cache at its default (True), as pyvene and generate run the model.",
    "batch/generated is generate()'s greedy continuation with the KV cache; it equals a no-cache recompute "
    "(full forwards over the growing left-padded batch, mask and positions as above), and batch/generated_logits "
    "(the step logits) agree with that recompute to float32 rounding (facts: generate_vs_no_cache_max_abs_logit_diff).",
    "pv_cases.json: base/source are [2,6] id batches without padding (no attention_mask or position_ids: "
    "positions 0..5); source_locations / base_locations are {heads: [[h] per example] or null for unit pos, "
    "positions: [[p...] per example]} (source_locations null when there is no source); 'h.pos' cases pair "
    "heads[i][k] with positions[i][k]; key/value head sites are indexed by key/value head (GQA). Vanilla: "
    "base[loc] := source[loc]; Addition: base[loc] += source[loc]; Collect: returns base[loc] "
    "([b, n, d] for pos, [b, n, hd] for h.pos in pv_reference's {case}/collected), logits unchanged. "
    "'intervened' names the logits [2,6,vocab] to compare; 'original' the un-intervened logits.",
]

FAMILY_NOTES = {
    "gpt_neox": [
        "Parallel residual: block_output = (mlp_output + attention_output) + block_input, in that order, with "
        "mlp_input = post_attention_layernorm(block_input).",
        "Partial rotary: the first rotary_ndims = int(head_dim * partial_rotary_factor) dims of each head rotate "
        "(rotate_half within them), the rest pass through.",
        "The LM head is the module lm_head in transformers 5; see checkpoint.tensor_names for the name on disk.",
    ],
    "qwen2": [
        "q_proj/k_proj/v_proj have biases, o_proj and the MLP none. config.json carries layer_types and "
        "max_window_layers (28) but use_sliding_window false and sliding_window null: every layer is full attention.",
        "pyvene 0.1.8's head_* components fail for Qwen2 under transformers 5.17: its dimension table reads "
        "config.head_dim, which Qwen2Config does not write (AttributeError); those cases come from the emulation.",
    ],
    "mistral": [
        "sliding_window applies to every layer (config.json has no layer_types); generate()'s cache keeps "
        "DynamicSlidingWindowLayer per layer.",
    ],
    "gemma2": [
        "pyvene 0.1.8's dimension table gives query_output and attention_value_output hidden_size (32) values, but "
        "here they have n_head*head_dim = 64: Collect on them keeps only the first 32 (see pyvene_sites.failed).",
        "RMSNorm is x * rsqrt(mean(x^2) + eps) * (1 + w) in float32.",
        "Embeddings are multiplied by torch.tensor(sqrt(hidden_size)) in the weight dtype (float32 here).",
        "Attention scaling is query_pre_attn_scalar**-0.5; scores are soft-capped cap*tanh(s/cap) before the mask; "
        "logits are soft-capped with final_logit_softcapping.",
    ],
}


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "models" / "testdata")
    ap.add_argument("--only", nargs="*")
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
        make_checkpoint(ckpt, out)
        for f in sorted(out.iterdir()):
            print(f"{sha256(f)}  {f.relative_to(args.out)}  {f.stat().st_size}")


if __name__ == "__main__":
    main()
