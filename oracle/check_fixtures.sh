#!/usr/bin/env bash
# Keeps gpt2/testdata and pv/testdata in step with the oracle.
#
# oracle/fixtures.sha256 records the sha256 of the fixture scripts
# (make_gpt2_fixtures.py, make_pv_fixtures.py, make_das_fixtures.py,
# make_equality_fixtures.py) and
# requirements.txt that the committed fixtures were made with. When both still match
# (and the fixtures exist), this exits 0 at once. Otherwise it builds the pinned venv
# (setup.sh, idempotent), regenerates every checkpoint under gpt2/testdata, and records
# the new hashes; commit the changed fixtures together with fixtures.sha256.
#
#   oracle/check_fixtures.sh           regenerate only when stale
#   oracle/check_fixtures.sh --force   regenerate regardless
#
# Extra arguments after --force (or after --) go to make_gpt2_fixtures.py, e.g.
# --vocab/--merges to point at GPT-2's tokenizer files.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
venv="${ORACLE_VENV:-$here/.venv}"

force=0
if [[ "${1:-}" == "--force" ]]; then
	force=1
	shift
fi
[[ "${1:-}" == "--" ]] && shift

fresh() {
	[[ -f "$here/fixtures.sha256" ]] || return 1
	(cd "$here" && sha256sum --status --check fixtures.sha256) || return 1
	for ckpt in tiny-vocab odd bf16; do
		[[ -f "$repo/gpt2/testdata/$ckpt/reference.safetensors" ]] || return 1
	done
	for f in pv_reference.safetensors gen_reference.safetensors das_reference.safetensors; do
		[[ -f "$repo/pv/testdata/$f" ]] || return 1
	done
	[[ -f "$repo/mlp/testdata/equality_pyvene.json" ]] || return 1
}

if [[ $force == 0 ]] && fresh; then
	echo "fixtures up to date (oracle/fixtures.sha256)"
	exit 0
fi

echo "regenerating gpt2 fixtures"
"$here/setup.sh"
"$venv/bin/python" "$here/make_gpt2_fixtures.py" --out "$repo/gpt2/testdata" "$@"
# The pyvene fixtures run on gpt2/testdata/odd, so they come after it.
(cd "$repo" && "$venv/bin/python" oracle/make_pv_fixtures.py && "$venv/bin/python" oracle/make_das_fixtures.py)
# pyvene training runs (about 10 minutes): mlp/testdata/equality_pyvene.json.
(cd "$repo" && "$venv/bin/python" oracle/make_equality_fixtures.py)
(cd "$here" && sha256sum make_gpt2_fixtures.py make_pv_fixtures.py make_das_fixtures.py make_equality_fixtures.py requirements.txt) >"$here/fixtures.sha256"
echo "fixtures regenerated; hashes recorded in oracle/fixtures.sha256"
