#!/usr/bin/env bash
# Starts JupyterLab on 127.0.0.1 with govene's notebooks open and the GoNB
# kernel installed (running setup.sh first, which does nothing if all is in
# place), and prints the URL with its token. setup.sh's overrides.json (in
# the venv's share/jupyter/lab/settings) turns off JupyterLab's news pop-up
# and its news and update checks.
#
#   bash scripts/notebooks/lab.sh       # or: make lab
#   LAB_PORT=8899 LAB_TOKEN=mytoken bash scripts/notebooks/lab.sh
#   LAB_IP=0.0.0.0 ...                  # to serve beyond this machine (e.g. in docker)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$NB_SCRIPTS/setup.sh"
port=${LAB_PORT:-8888}
ip=${LAB_IP:-127.0.0.1}
token=${LAB_TOKEN:-$("$NOTEBOOKS_VENV/bin/python" -c 'import secrets; print(secrets.token_hex(24))')}
root=()
[[ $(id -u) -eq 0 ]] && root=(--allow-root)
echo
echo "  JupyterLab: http://$ip:$port/lab/tree/01_patching.ipynb?token=$token"
echo "  token:      $token"
echo "  (GOEXPERIMENT=$GOEXPERIMENT; kernel spec $JUPYTER_DATA_DIR/kernels/gonb; Ctrl-C stops it)"
echo
exec "$NOTEBOOKS_VENV/bin/jupyter-lab" --no-browser "${root[@]}" \
	--ip="$ip" --port="$port" \
	--IdentityProvider.token="$token" \
	--ServerApp.root_dir="$REPO_ROOT/notebooks"
