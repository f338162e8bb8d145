#!/usr/bin/env bash
# Time to the first result in a notebook (see first_result.py): a fresh GoNB
# kernel runs the notebook's cells in order until one shows a model result.
#
#   bash scripts/notebooks/first_result.sh [notebook.ipynb] [--all]
#
# Run setup.sh (make notebooks-setup) first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
nb_python first_result.py "$@"
