#!/usr/bin/env bash
# Creates TransformerLens' Python environment at oracle/.venv-tl from
# oracle/requirements-tl.txt: setup.sh with other defaults (same wheelhouse cache, its own
# stamp inside the venv, idempotent). It is the oracle of make_analysis_fixtures.py.
#
# Environment:
#   ORACLE_TL_VENV     where the venv goes (default: oracle/.venv-tl)
#   PYTHON, ORACLE_PIP_CACHE  as in setup.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export ORACLE_VENV="${ORACLE_TL_VENV:-$here/.venv-tl}"
export ORACLE_REQUIREMENTS="$here/requirements-tl.txt"
export ORACLE_SMOKE='import numpy, safetensors, torch, transformers, transformer_lens; from transformer_lens.model_bridge import TransformerBridge; print("torch", torch.__version__, "transformers", transformers.__version__, "transformer_lens 4.3.0")'
exec "$here/setup.sh"
