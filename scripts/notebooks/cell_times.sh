#!/usr/bin/env bash
# Per-cell wall times of a notebook run cell by cell in a fresh GoNB kernel
# (see cell_times.py): a table of cell, first line and seconds per run.
#
#   bash scripts/notebooks/cell_times.sh notebooks/01_patching.ipynb [--runs N] [--kernel-restart] [--json FILE]
#
# Run setup.sh (make notebooks-setup) first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
[[ -x $NOTEBOOKS_VENV/bin/python ]] || {
	echo "cell_times.sh: no notebook environment in $NOTEBOOKS_VENV: run scripts/notebooks/setup.sh first" >&2
	exit 2
}
cd "$REPO_ROOT"
exec "$NOTEBOOKS_VENV/bin/python" "$NB_SCRIPTS/cell_times.py" "$@"
