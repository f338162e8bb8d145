#!/usr/bin/env bash
# Per-cell wall times of a notebook run cell by cell in a fresh GoNB kernel
# (see cell_times.py): a table of cell, first line and seconds per run.
#
#   bash scripts/notebooks/cell_times.sh notebooks/01_patching.ipynb [--runs N] [--kernel-restart] [--json FILE]
#
# Run setup.sh (make notebooks-setup) first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
nb_python cell_times.py "$@"
