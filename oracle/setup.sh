#!/usr/bin/env bash
# Creates the oracle's Python environment at oracle/.venv from oracle/requirements.txt
# (or another pinned environment: setup_tl.sh builds TransformerLens' at oracle/.venv-tl).
#
# Idempotent: a stamp file inside the venv records the hash of the requirements file and
# the Python version it was built with; when both match, nothing is done.
#
# Environment:
#   PYTHON             interpreter to build the venv with (default: python3)
#   ORACLE_VENV        where the venv goes (default: oracle/.venv)
#   ORACLE_REQUIREMENTS  the fully pinned requirements file (default:
#                      oracle/requirements.txt)
#   ORACLE_SMOKE       Python code that must run in the new venv before it is stamped
#                      (default: imports what the pyvene fixture scripts import)
#   ORACLE_PIP_CACHE   cache folder (default: $XDG_CACHE_HOME or ~/.cache, then
#                      govene-oracle-pip). It holds a wheelhouse (wheels/) of every
#                      pinned wheel, so a rebuild of the venv downloads nothing, and
#                      pip's own HTTP cache (http/, via PIP_CACHE_DIR). pip's HTTP cache
#                      alone is not enough: the registry proxy reachable here sends no
#                      cache headers, so pip stores nothing in it.
#
# PyPI's Linux torch wheel is a CUDA build: `import torch` fails on a CPU-only machine
# without the cuda-toolkit / nvidia-* packages (libtorch_cuda.so links against libcudart,
# libcublas, libcudnn, ...), so they are installed too (about 3 GB of wheels, 5.5 GB
# installed).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${ORACLE_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
req="${ORACLE_REQUIREMENTS:-$here/requirements.txt}"
cache="${ORACLE_PIP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/govene-oracle-pip}"
wheels="$cache/wheels"
export PIP_CACHE_DIR="$cache/http"
export PIP_DISABLE_PIP_VERSION_CHECK=1

want="$({ "$python" -c 'import sys; print(sys.version)'; cat "$req"; } | sha256sum | cut -d' ' -f1)"
stamp="$venv/.requirements.sha256"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
	echo "oracle venv up to date: $venv"
	exit 0
fi

echo "creating oracle venv at $venv (cache: $cache)"
start=$SECONDS
rm -rf "$venv"
"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip)
mkdir -p "$wheels"

# Install from the wheelhouse alone when it already has every pinned wheel; otherwise
# download what is missing (pip download skips files already in the folder) and retry.
if ! "${pip[@]}" install --no-input --no-index --find-links "$wheels" -r "$req" >"$venv/offline-install.log" 2>&1; then
	echo "wheelhouse incomplete, downloading into $wheels"
	"${pip[@]}" download --no-input --prefer-binary --dest "$wheels" -r "$req"
	# A pin with no wheel on PyPI arrives as an sdist, which --no-index could only build
	# with setuptools in the wheelhouse: build its wheel now, while the index is reachable.
	for sdist in "$wheels"/*.tar.gz "$wheels"/*.zip; do
		[[ -e "$sdist" ]] || continue
		"${pip[@]}" wheel --no-input --no-deps --wheel-dir "$wheels" "$sdist"
	done
	"${pip[@]}" install --no-input --no-index --find-links "$wheels" -r "$req"
fi

# Smoke test: everything the fixture script imports must import.
smoke='import numpy, safetensors, torch, transformers, pyvene; print("torch", torch.__version__, "transformers", transformers.__version__, "pyvene", pyvene.__version__ if hasattr(pyvene, "__version__") else "0.1.8")'
"$venv/bin/python" -c "${ORACLE_SMOKE:-$smoke}"
echo "$want" >"$stamp"
echo "oracle venv ready in $((SECONDS - start)) s"
