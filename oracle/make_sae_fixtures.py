#!/usr/bin/env python3
"""Make the sparse autoencoders' SAELens fixtures (sae/testdata/<name>/).

sae-lens 6.54.12 (PyPI; oracle/requirements-sae.txt, venv oracle/.venv-sae built by
oracle/setup_sae.sh) is the oracle of issue #16's SAEs. Four random SAEs over govene's
random checkpoint gpt2/testdata/odd (GPT-2, 3 layers, d_model 24, vocab 1000), d_sae 64,
are built with sae-lens' own classes and saved with its own save function:

    standard       StandardSAE(StandardSAEConfig(...))   blocks.1.hook_resid_post
                   apply_b_dec_to_input true
    topk           TopKSAE(TopKSAEConfig(k=4, ...))       blocks.1.hook_resid_post
                   apply_b_dec_to_input false
    jumprelu       JumpReLUSAE(JumpReLUSAEConfig(...))    blocks.0.hook_mlp_out
                   apply_b_dec_to_input true; thresholds set between the features'
                   positive pre-activations, so that some positive ones are cut
    standard-norm  StandardSAE, normalize_activations "expected_average_only_in"
                   blocks.1.hook_resid_post

Weights are random (torch.manual_seed per SAE; every bias and threshold nonzero) and
written with sae.save_model(dir): cfg.json and sae_weights.safetensors exactly as
sae-lens writes them. Each folder also gets

    reference.safetensors   float32 tensors (TENSOR_DOCS below)
    reference.json          prompts, shapes, settings, checks and what each tensor means

The inputs are the site's activations in transformers' GPT2LMHeadModel (float32, eager
attention) on two prompts of random ids: blocks.L.hook_resid_post is block L's output,
blocks.L.hook_mlp_out the output of block L's MLP (before it is added to the residual).
The splice replaces that value with a torch forward hook returning sae(x) (reconstruction),
or sae(x) with use_error_term=True (reconstruction plus x minus the reconstruction, which
gives back the plain logits up to rounding); the script fails when splicing does not move
the logits, when a JumpReLU threshold does not bite, or when a top-k choice or a threshold
comparison is closer than MARGIN (so that another float32 implementation makes the same
choices).

expected_average_only_in: sae-lens 6.54's inference SAE does not rescale anything for it
(SAE.process_sae_in calls run_time_activation_norm_fn_in, the identity for that setting;
SAE.load_from_disk keeps the setting and applies no factor). The factor exists only in
training (ActivationScaler.estimate_scaling_factor: sqrt(d_in) / mean ||x||, folded into
the weights at the end by fold_activation_norm_scaling_factor: W_enc *= s, W_dec /= s,
b_dec /= s, and the config rewritten to "none") and in SAE.from_pretrained (the
norm_scaling_factor of pretrained_saes.yaml, folded the same way). The standard-norm
fixture records sae-lens' own (unscaled) outputs, the factor s that ActivationScaler's
formula gives on these inputs, and the outputs of a copy folded with s, which equal
encode(s x) and decode(f) / s.

Run through oracle/check_fixtures.sh (the "sae" group: regenerated only when this script
or requirements-sae.txt changed, or the gpt2 group was regenerated, since it reads
gpt2/testdata/odd). The output is byte-for-byte deterministic (one thread, fixed seeds).

    oracle/.venv-sae/bin/python oracle/make_sae_fixtures.py [--out DIR]
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
import copy
import json
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import safetensors.numpy
import torch
import sae_lens
import transformers
from sae_lens import JumpReLUSAE, JumpReLUSAEConfig, StandardSAE, StandardSAEConfig, TopKSAE, TopKSAEConfig
from sae_lens.saes.sae import SAEMetadata
from transformers import GPT2LMHeadModel

warnings.filterwarnings("ignore")
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

REPO = Path(__file__).resolve().parent.parent
CKPT = "gpt2/testdata/odd"
D_SAE = 64
SEQ = 7
BATCH = 2
PROMPT_SEED = 1601
# The smallest gap allowed between a kept and a dropped top-k pre-activation, and between a
# JumpReLU pre-activation and its threshold.
MARGIN = 1e-3
# The splice must move the logits by at least this much (max abs difference).
MIN_SPLICE_EFFECT = 1e-3

TENSOR_DOCS = {
    "x": "[batch, seq, d_in] the site's activations in the HF model on the prompts (the SAE's input)",
    "hidden_pre": "[batch, seq, d_sae] x' W_enc + b_enc, x' = x - b_dec when apply_b_dec_to_input (hook_sae_acts_pre)",
    "feature_acts": "[batch, seq, d_sae] sae.encode(x)",
    "decoded": "[batch, seq, d_in] sae.decode(feature_acts)",
    "reconstruction": "[batch, seq, d_in] sae(x) (use_error_term False; equals decoded)",
    "logits": "[batch, seq, vocab] the model's plain logits",
    "logits_spliced": "[batch, seq, vocab] logits with the site's value replaced by sae(x)",
    "logits_spliced_error": "[batch, seq, vocab] logits with the site's value replaced by sae(x) with use_error_term True (= logits up to rounding)",
    "feature_acts_folded": "[batch, seq, d_sae] standard-norm only: encode(x) of a copy folded with fold_activation_norm_scaling_factor(s) (= encode(s x))",
    "decoded_folded": "[batch, seq, d_in] standard-norm only: decode(feature_acts_folded) of the folded copy (= decode(f) / s)",
}


@dataclass
class Spec:
    name: str
    architecture: str
    hook_name: str
    seed: int
    apply_b_dec_to_input: bool = True
    normalize_activations: str = "none"
    k: int = 0


SPECS = [
    Spec("standard", "standard", "blocks.1.hook_resid_post", seed=1611),
    Spec("topk", "topk", "blocks.1.hook_resid_post", seed=1612, apply_b_dec_to_input=False, k=4),
    Spec("jumprelu", "jumprelu", "blocks.0.hook_mlp_out", seed=1613),
    Spec("standard-norm", "standard", "blocks.1.hook_resid_post", seed=1614, normalize_activations="expected_average_only_in"),
]


def load_model():
    return GPT2LMHeadModel.from_pretrained(REPO / CKPT, dtype=torch.float32, attn_implementation="eager").eval()


def site_module(model, hook_name):
    """The module whose output is the TransformerLens hook's value in the HF GPT-2."""
    parts = hook_name.split(".")
    if len(parts) != 3 or parts[0] != "blocks":
        raise ValueError(f"hook {hook_name!r}: want blocks.L.hook_resid_post or blocks.L.hook_mlp_out")
    block = model.transformer.h[int(parts[1])]
    if parts[2] == "hook_resid_post":
        return block
    if parts[2] == "hook_mlp_out":
        return block.mlp
    raise ValueError(f"hook {hook_name!r}: want blocks.L.hook_resid_post or blocks.L.hook_mlp_out")


def _out_tensor(out):
    return out[0] if isinstance(out, tuple) else out


def _with_tensor(out, t):
    return (t,) + tuple(out[1:]) if isinstance(out, tuple) else t


def run(model, ids, hook_name, replace=None):
    """Logits of the model on ids and the site's activations; replace(x) -> x' splices."""
    seen = {}

    def hook(_mod, _inp, out):
        x = _out_tensor(out)
        seen["x"] = x.detach().clone()
        if replace is None:
            return None
        return _with_tensor(out, replace(x))

    handle = site_module(model, hook_name).register_forward_hook(hook)
    try:
        with torch.no_grad():
            logits = model(input_ids=ids).logits
    finally:
        handle.remove()
    return logits, seen["x"]


def build_sae(spec, d_in, x):
    """A sae-lens SAE of spec's architecture with random nonzero weights (seeded)."""
    metadata = SAEMetadata(
        model_name="govene/gpt2-odd",
        hook_name=spec.hook_name,
        hook_head_index=None,
        context_size=SEQ,
        prepend_bos=False,
    )
    common = dict(
        d_in=d_in,
        d_sae=D_SAE,
        dtype="float32",
        device="cpu",
        apply_b_dec_to_input=spec.apply_b_dec_to_input,
        normalize_activations=spec.normalize_activations,
        metadata=metadata,
    )
    if spec.architecture == "standard":
        sae = StandardSAE(StandardSAEConfig(**common))
    elif spec.architecture == "topk":
        sae = TopKSAE(TopKSAEConfig(k=spec.k, **common))
    elif spec.architecture == "jumprelu":
        sae = JumpReLUSAE(JumpReLUSAEConfig(**common))
    else:
        raise ValueError(f"architecture {spec.architecture!r}")
    g = torch.Generator().manual_seed(spec.seed)
    scale = float(x.norm(dim=-1).mean())
    with torch.no_grad():
        sae.W_enc.copy_(torch.randn(d_in, D_SAE, generator=g) / scale)
        sae.b_enc.copy_(0.1 * torch.randn(D_SAE, generator=g))
        sae.W_dec.copy_(torch.randn(D_SAE, d_in, generator=g) * (scale / d_in**0.5) / D_SAE**0.5)
        sae.b_dec.copy_(0.1 * scale / d_in**0.5 * torch.randn(d_in, generator=g))
        if spec.architecture == "jumprelu":
            pre = hidden_pre(sae, x).reshape(-1, D_SAE)
            sae.threshold.copy_(bite_thresholds(pre, g))
    return sae


def hidden_pre(sae, x):
    with torch.no_grad():
        return sae.process_sae_in(x) @ sae.W_enc + sae.b_enc


def bite_thresholds(pre, g):
    """Per feature, a threshold halfway across the widest gap between two of its sorted
    positive pre-activations (so some positive ones fall under it), or a small positive
    value when it has fewer than two."""
    thr = torch.empty(pre.shape[1])
    for j in range(pre.shape[1]):
        pos = torch.sort(pre[:, j][pre[:, j] > 0]).values
        if len(pos) >= 2:
            i = int(torch.argmax(pos[1:] - pos[:-1]))
            thr[j] = (pos[i] + pos[i + 1]) / 2
        else:
            thr[j] = 0.05 + 0.05 * float(torch.rand(1, generator=g))
    return thr


def check_margins(spec, sae, pre):
    """Fails when a top-k choice or a threshold comparison is within MARGIN; returns stats."""
    flat = pre.reshape(-1, D_SAE)
    stats = {}
    if spec.architecture == "topk":
        top = torch.sort(flat, dim=-1, descending=True).values
        gap = float((top[:, spec.k - 1] - top[:, spec.k]).min())
        stats["min_topk_gap"] = gap
        if gap < MARGIN:
            raise SystemExit(f"{spec.name}: top-k gap {gap} < {MARGIN}")
    if spec.architecture == "jumprelu":
        thr = sae.threshold.detach()
        gap = float((flat - thr).abs().min())
        cut = int(((flat > 0) & (flat <= thr)).sum())
        kept = int((flat > thr).sum())
        stats.update(min_threshold_gap=gap, positive_cut_by_threshold=cut, kept_by_threshold=kept)
        if gap < MARGIN:
            raise SystemExit(f"{spec.name}: threshold gap {gap} < {MARGIN}")
        if cut == 0 or kept == 0:
            raise SystemExit(f"{spec.name}: thresholds do not bite (cut {cut}, kept {kept})")
        if bool((thr == 0).any()):
            raise SystemExit(f"{spec.name}: a threshold is zero")
    return stats


def make(spec, model, ids, out_root):
    d_in = model.config.n_embd
    logits, x = run(model, ids, spec.hook_name)
    sae = build_sae(spec, d_in, x).eval()
    pre = hidden_pre(sae, x)
    stats = check_margins(spec, sae, pre)

    out = out_root / spec.name
    if out.exists():
        shutil.rmtree(out)
    weights_path, cfg_path = sae.save_model(out)

    # Everything below runs on the SAE as sae-lens loads it back from disk.
    sae = type(sae).load_from_disk(out, device="cpu").eval()
    with torch.no_grad():
        feats = sae.encode(x)
        decoded = sae.decode(feats)
        recon = sae(x)
        logits_spliced, _ = run(model, ids, spec.hook_name, replace=lambda v: sae(v))
        err_sae = copy.deepcopy(sae)
        err_sae._use_error_term = True
        logits_err, _ = run(model, ids, spec.hook_name, replace=lambda v: err_sae(v))

    l0 = float((feats > 0).float().sum(-1).mean())
    effect = float((logits_spliced - logits).abs().max())
    err_diff = float((logits_err - logits).abs().max())
    if effect < MIN_SPLICE_EFFECT:
        raise SystemExit(f"{spec.name}: splicing moves the logits by {effect} only")
    if err_diff > 1e-4:
        raise SystemExit(f"{spec.name}: the error term does not restore the logits ({err_diff})")
    if l0 == 0:
        raise SystemExit(f"{spec.name}: no feature is active")

    tensors = {
        "x": x,
        "hidden_pre": pre,
        "feature_acts": feats,
        "decoded": decoded,
        "reconstruction": recon,
        "logits": logits,
        "logits_spliced": logits_spliced,
        "logits_spliced_error": logits_err,
    }
    settings = {}
    if spec.normalize_activations == "expected_average_only_in":
        # ActivationScaler.estimate_scaling_factor's formula on these inputs.
        s = float(d_in**0.5 / x.reshape(-1, d_in).norm(dim=-1).mean())
        folded = copy.deepcopy(sae)
        folded.fold_activation_norm_scaling_factor(s)
        with torch.no_grad():
            ff = folded.encode(x)
            tensors["feature_acts_folded"] = ff
            tensors["decoded_folded"] = folded.decode(ff)
            if float((ff - sae.encode(s * x)).abs().max()) > 1e-4:
                raise SystemExit(f"{spec.name}: folded encode is not encode(s x)")
        settings["scaling_factor"] = s
        settings["scaling_factor_formula"] = "sqrt(d_in) / mean over positions of ||x|| (ActivationScaler.estimate_scaling_factor)"
        settings["inference_scaling"] = "none: sae-lens 6.54's SAE applies no factor for expected_average_only_in at inference"

    np_tensors = {k: np.ascontiguousarray(v.detach().to(torch.float32).numpy()) for k, v in tensors.items()}
    safetensors.numpy.save_file(np_tensors, str(out / "reference.safetensors"), metadata={"format": "np"})
    summary = {
        "name": spec.name,
        "checkpoint": CKPT,
        "sae_lens": sae_lens.__version__,
        "torch": torch.__version__.split("+")[0],
        "transformers": transformers.__version__,
        "architecture": spec.architecture,
        "hook_name": spec.hook_name,
        "site_module": "block output" if spec.hook_name.endswith("resid_post") else "block MLP output",
        "prompts": ids.tolist(),
        "shapes": {k: list(v.shape) for k, v in np_tensors.items()},
        "settings": settings,
        "checks": {
            "splice_max_abs_logit_change": effect,
            "error_term_max_abs_logit_diff": err_diff,
            "mean_l0": l0,
            **stats,
        },
        "files": {"cfg": cfg_path.name, "weights": weights_path.name},
        "tensors": {k: TENSOR_DOCS[k] for k in np_tensors},
    }
    (out / "reference.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"{spec.name}: l0 {l0:.2f}, splice effect {effect:.4g}, error-term diff {err_diff:.3g}, {stats}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(REPO / "sae" / "testdata"))
    args = ap.parse_args()
    out_root = Path(args.out)
    out_root.mkdir(parents=True, exist_ok=True)
    model = load_model()
    g = torch.Generator().manual_seed(PROMPT_SEED)
    ids = torch.randint(0, model.config.vocab_size, (BATCH, SEQ), generator=g)
    for spec in SPECS:
        make(spec, model, ids, out_root)


if __name__ == "__main__":
    main()
