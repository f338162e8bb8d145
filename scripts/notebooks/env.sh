# shellcheck shell=bash disable=SC2034 # sourced; its variables are used by the scripts
# Sourced by the notebook scripts: where the lab environment lives and the
# environment every Jupyter server (and so every GoNB kernel) needs.
#
#   NOTEBOOKS_VENV  the virtual environment with JupyterLab, GoNB, goimports
#                   (default: <repo>/.venv-lab)

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NOTEBOOKS_VENV=${NOTEBOOKS_VENV:-$REPO_ROOT/.venv-lab}
NB_SCRIPTS=$REPO_ROOT/scripts/notebooks

# GoMLX's pure-Go backend only has its SIMD kernels under this experiment;
# the kernel spec sets it too, so a server started some other way still has it.
export GOEXPERIMENT=simd
# The Makefile exports GOFLAGS=-mod=mod, which Go refuses in workspace mode
# (GoNB notebooks use a go.work); the kernels must not inherit it.
unset GOFLAGS
export PATH="$NOTEBOOKS_VENV/bin:$PATH"
# The venv's kernel spec comes before any "gonb" kernel in ~/.local/share/jupyter.
export JUPYTER_PATH="$NOTEBOOKS_VENV/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
# Leave the user's ~/.jupyter and ~/.local/share/jupyter configuration alone.
export JUPYTER_CONFIG_DIR="$NOTEBOOKS_VENV/etc/jupyter-user"
export JUPYTER_DATA_DIR="$NOTEBOOKS_VENV/share/jupyter"
export IPYTHONDIR="$NOTEBOOKS_VENV/etc/ipython"

# nb_python SCRIPT.py [ARGS...]: runs a Python script of this folder with the
# venv's Python from the repository root, or exits 2 saying to run setup.sh.
nb_python() {
	[[ -x $NOTEBOOKS_VENV/bin/python ]] || {
		echo "$1: no notebook environment in $NOTEBOOKS_VENV: run scripts/notebooks/setup.sh first" >&2
		exit 2
	}
	cd "$REPO_ROOT"
	exec "$NOTEBOOKS_VENV/bin/python" "$NB_SCRIPTS/$@"
}
