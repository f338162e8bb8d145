#!/usr/bin/env bash
# Creates pyarrow's Python environment at oracle/.venv-parquet from
# oracle/requirements-parquet.txt: setup.sh with other defaults (same wheelhouse cache, its
# own stamp inside the venv, idempotent). It writes job's Parquet fixtures
# (make_parquet_fixtures.py).
#
# Environment:
#   ORACLE_PARQUET_VENV  where the venv goes (default: oracle/.venv-parquet)
#   PYTHON, ORACLE_PIP_CACHE  as in setup.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export ORACLE_VENV="${ORACLE_PARQUET_VENV:-$here/.venv-parquet}"
export ORACLE_REQUIREMENTS="$here/requirements-parquet.txt"
export ORACLE_SMOKE='import pyarrow; print("pyarrow", pyarrow.__version__)'
exec "$here/setup.sh"
