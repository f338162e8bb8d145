#!/usr/bin/env bash
# Creates SAELens' Python environment at oracle/.venv-sae from oracle/requirements-sae.txt:
# setup.sh with other defaults (same wheelhouse cache, its own stamp inside the venv,
# idempotent). It is the oracle of make_sae_fixtures.py and check_sae_load.py.
#
# Environment:
#   ORACLE_SAE_VENV    where the venv goes (default: oracle/.venv-sae)
#   PYTHON, ORACLE_PIP_CACHE  as in setup.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export ORACLE_VENV="${ORACLE_SAE_VENV:-$here/.venv-sae}"
export ORACLE_REQUIREMENTS="$here/requirements-sae.txt"
export ORACLE_SMOKE='import numpy, safetensors, torch, transformers, transformer_lens, sae_lens; from sae_lens import SAE; print("torch", torch.__version__, "transformers", transformers.__version__, "sae_lens", sae_lens.__version__)'
exec "$here/setup.sh"
