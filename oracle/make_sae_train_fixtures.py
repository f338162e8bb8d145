#!/usr/bin/env python3
"""Make govene's one-step parity fixture for SAE training (sae/testdata/train_step.json).

For each of SAELens 6.54.12's StandardTrainingSAE, TopKTrainingSAE (k=3, with dead
features so the aux-k loss is on) and JumpReLUTrainingSAE: seeded random weights
(d_in 8, d_sae 16) and a batch of 6 activations, then one training step as SAETrainer
takes it: training_forward_pass, backward, clip_grad_norm_(1.0), Adam (lr 1e-2,
betas 0.9/0.999). The fixture holds the weights before, the batch, the losses, L0 and
gradients (before clipping) of that step, and the weights after. JumpReLU: SAELens clamps the threshold at 0
before each forward; the fixture clamps it after the step as well (govene clamps after
each update), which is the same sequence of forwards.

Needs sae-lens==6.54.12 (oracle/.venv-sae, made by oracle/setup_sae.sh). Run from the
repository root; the output is byte-for-byte deterministic:

    oracle/.venv-sae/bin/python oracle/make_sae_train_fixtures.py > sae/testdata/train_step.json
"""
import json
import sys

import torch

import sae_lens
from sae_lens.saes.jumprelu_sae import JumpReLUTrainingSAE, JumpReLUTrainingSAEConfig
from sae_lens.saes.sae import TrainStepInput
from sae_lens.saes.standard_sae import StandardTrainingSAE, StandardTrainingSAEConfig
from sae_lens.saes.topk_sae import TopKTrainingSAE, TopKTrainingSAEConfig

assert sae_lens.__version__ == "6.54.12", sae_lens.__version__
torch.set_num_threads(1)
D_IN, D_SAE, BATCH, LR = 8, 16, 6, 1e-2


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def case(name, sae, coefs, dead, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        sae.W_enc.copy_(torch.randn(D_IN, D_SAE, generator=g) * 0.5)
        sae.b_enc.copy_(torch.randn(D_SAE, generator=g) * 0.1)
        sae.W_dec.copy_(torch.randn(D_SAE, D_IN, generator=g) * 0.3)
        sae.b_dec.copy_(torch.randn(D_IN, generator=g) * 0.1)
        if hasattr(sae, "threshold"):
            sae.threshold.copy_(torch.rand(D_SAE, generator=g) * 0.5)
    x = torch.randn(BATCH, D_IN, generator=g) * 2
    names = ["W_enc", "b_enc", "W_dec", "b_dec"] + (["threshold"] if hasattr(sae, "threshold") else [])
    before = {n: flat(getattr(sae, n)) for n in names}
    opt = torch.optim.Adam(sae.parameters(), lr=LR, betas=(0.9, 0.999))
    mask = torch.tensor(dead, dtype=torch.bool)
    out = sae.training_forward_pass(TrainStepInput(sae_in=x, coefficients=coefs, dead_neuron_mask=mask,
                                                   n_training_steps=0, is_logging_step=False))
    out.loss.backward()
    grads = {n: flat(getattr(sae, n).grad) for n in names}
    torch.nn.utils.clip_grad_norm_(sae.parameters(), 1.0)
    opt.step()
    if hasattr(sae, "threshold"):
        with torch.no_grad():
            sae.threshold.clamp_(min=0.0)
    l0 = float((out.feature_acts != 0).float().sum(-1).mean())
    losses = {k: float(v.detach()) for k, v in out.losses.items()}
    return {"name": name, "d_in": D_IN, "d_sae": D_SAE, "lr": LR, "x": flat(x), "coefficient": list(coefs.values())[0] if coefs else 0.0,
            "dead": [1.0 if d else 0.0 for d in dead], "before": before, "grads": grads,
            "after": {n: flat(getattr(sae, n)) for n in names},
            "loss": float(out.loss.detach()), "mse_loss": losses["mse_loss"], "losses": losses, "l0": l0}


def main():
    dead = [i % 3 == 0 for i in range(D_SAE)]  # 6 dead features
    cases = [
        case("standard", StandardTrainingSAE(StandardTrainingSAEConfig(d_in=D_IN, d_sae=D_SAE, l1_coefficient=0.3)),
             {"l1": 0.3}, dead, 1),
        case("topk", TopKTrainingSAE(TopKTrainingSAEConfig(d_in=D_IN, d_sae=D_SAE, k=3)), {}, dead, 2),
        case("jumprelu", JumpReLUTrainingSAE(JumpReLUTrainingSAEConfig(d_in=D_IN, d_sae=D_SAE, l0_coefficient=0.2,
                                                                       jumprelu_bandwidth=0.5)),
             {"l0": 0.2}, dead, 3),
    ]
    json.dump({"sae_lens": sae_lens.__version__, "cases": cases}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
