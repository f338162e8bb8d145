#!/usr/bin/env python3
"""Load an SAE folder with sae-lens and print what it computes, as JSON.

Checks that a folder written by another tool (govene's sae.Save) is one sae-lens 6.54
reads: SAE.load_from_disk(DIR) (cfg.json + sae_weights.safetensors), then, on the inputs
x (float32 [..., d_in]) taken from the safetensors file INPUTS (tensor name "x"; default:
no inputs, only the config and weights are reported):

    f = sae.encode(x), x_hat = sae.decode(f)

Prints one JSON object:

    {"sae_lens": version, "class": the SAE class sae-lens chose, "architecture": ...,
     "cfg": sae.cfg.to_dict(), "weights": {name: shape} of the loaded state_dict,
     "x_shape": [...], "feature_acts": nested list, "decoded": nested list}

Exit status 1 (with the error on stderr) when sae-lens cannot load the folder.

    oracle/.venv-sae/bin/python oracle/check_sae_load.py DIR [--inputs INPUTS.safetensors]
"""

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["WANDB_MODE"] = "disabled"
os.environ["TQDM_DISABLE"] = "1"

import argparse
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import safetensors.torch
import sae_lens
import torch
from sae_lens import SAE


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", help="folder with cfg.json and sae_weights.safetensors")
    ap.add_argument("--inputs", help="safetensors file with a float32 tensor x [..., d_in]")
    args = ap.parse_args()
    torch.set_num_threads(1)
    try:
        sae = SAE.load_from_disk(args.dir, device="cpu").eval()
    except Exception as e:  # noqa: BLE001 - reported to the caller
        print(f"sae-lens cannot load {args.dir}: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    cfg = sae.cfg.to_dict()
    out = {
        "sae_lens": sae_lens.__version__,
        "class": type(sae).__name__,
        "architecture": sae.cfg.architecture(),
        "cfg": cfg,
        "weights": {k: list(v.shape) for k, v in sorted(sae.state_dict().items())},
    }
    if args.inputs:
        x = safetensors.torch.load_file(args.inputs)["x"].to(torch.float32)
        with torch.no_grad():
            f = sae.encode(x)
            out["x_shape"] = list(x.shape)
            out["feature_acts"] = f.tolist()
            out["decoded"] = sae.decode(f).tolist()
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
