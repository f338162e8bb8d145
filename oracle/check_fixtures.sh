#!/usr/bin/env bash
# Keeps the oracle's fixtures in step with the scripts that make them.
#
# oracle/fixtures.sha256 records the sha256 of the fixture scripts and of
# requirements files that the committed fixtures were made with. The fixtures form five
# groups, each regenerated only when one of its own inputs changed:
#
#   gpt2      make_gpt2_fixtures.py, make_pv_fixtures.py, make_das_fixtures.py,
#             make_equality_fixtures.py -> gpt2/testdata, pv/testdata, mlp/testdata
#   families  make_family_fixtures.py -> models/testdata (GPT-NeoX, Llama, Mistral,
#             Qwen2, Gemma 2)
#   analysis  make_analysis_fixtures.py, requirements-tl.txt -> analysis/testdata
#             (TransformerLens 4.3.0 in its own venv, oracle/.venv-tl: setup_tl.sh). It
#             reads gpt2/testdata/odd and models/testdata/llama, so it is also
#             regenerated whenever the gpt2 or the families group is.
#   sae       make_sae_fixtures.py, make_sae_train_fixtures.py, requirements-sae.txt -> sae/testdata (SAELens 6.54.12
#             in its own venv, oracle/.venv-sae: setup_sae.sh). It reads
#             gpt2/testdata/odd, so it is also regenerated whenever the gpt2 group is.
#   parquet   make_parquet_fixtures.py, requirements-parquet.txt and job's JSONL datasets
#             (job/testdata/{collect,patch,iia}.jsonl) -> job/testdata/*.parquet (pyarrow
#             26.0.1 in its own venv, oracle/.venv-parquet: setup_parquet.sh)
#
# requirements.txt belongs to gpt2 and families. When every hash still matches (and the
# fixtures exist), this exits 0 at once without Python. Otherwise it builds the pinned
# venvs the stale groups need (setup.sh, setup_tl.sh; idempotent), regenerates the stale
# groups, and records the new hashes; commit the changed fixtures together with
# fixtures.sha256.
#
#   oracle/check_fixtures.sh           regenerate only what is stale
#   oracle/check_fixtures.sh --force   regenerate every group regardless
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

gpt2_inputs=(make_gpt2_fixtures.py make_pv_fixtures.py make_das_fixtures.py make_equality_fixtures.py requirements.txt)
family_inputs=(make_family_fixtures.py requirements.txt)
family_ckpts=(neox neox-serial llama mistral qwen2 gemma2)
analysis_inputs=(make_analysis_fixtures.py requirements-tl.txt)
analysis_ckpts=(gpt2-odd llama)
sae_inputs=(make_sae_fixtures.py make_sae_train_fixtures.py requirements-sae.txt)
sae_names=(standard topk jumprelu standard-norm)
parquet_inputs=(make_parquet_fixtures.py requirements-parquet.txt ../job/testdata/collect.jsonl ../job/testdata/patch.jsonl ../job/testdata/iia.jsonl)
parquet_files=(collect patch iia bad_ids_strings bad_text_int bad_missing bad_null)

# hashes_match FILE... : every FILE has a line in fixtures.sha256 and its hash matches.
hashes_match() {
	local f line
	[[ -f "$here/fixtures.sha256" ]] || return 1
	for f in "$@"; do
		line="$(grep -E "^[0-9a-f]{64}  $f\$" "$here/fixtures.sha256")" || return 1
		(cd "$here" && sha256sum --status --check <<<"$line") || return 1
	done
}

gpt2_fresh() {
	hashes_match "${gpt2_inputs[@]}" || return 1
	for ckpt in tiny-vocab odd bf16; do
		[[ -f "$repo/gpt2/testdata/$ckpt/reference.safetensors" ]] || return 1
	done
	for f in pv_reference.safetensors gen_reference.safetensors das_reference.safetensors; do
		[[ -f "$repo/pv/testdata/$f" ]] || return 1
	done
	[[ -f "$repo/mlp/testdata/equality_pyvene.json" ]] || return 1
}

families_fresh() {
	hashes_match "${family_inputs[@]}" || return 1
	for ckpt in "${family_ckpts[@]}"; do
		[[ -f "$repo/models/testdata/$ckpt/reference.safetensors" ]] || return 1
	done
}

analysis_fresh() {
	hashes_match "${analysis_inputs[@]}" || return 1
	for ckpt in "${analysis_ckpts[@]}"; do
		for f in tl_reference.safetensors tl_cases.json; do
			[[ -f "$repo/analysis/testdata/$ckpt/$f" ]] || return 1
		done
	done
}

sae_fresh() {
	hashes_match "${sae_inputs[@]}" || return 1
	[[ -f "$repo/sae/testdata/train_step.json" ]] || return 1
	for name in "${sae_names[@]}"; do
		for f in cfg.json sae_weights.safetensors reference.safetensors reference.json; do
			[[ -f "$repo/sae/testdata/$name/$f" ]] || return 1
		done
	done
}

parquet_fresh() {
	hashes_match "${parquet_inputs[@]}" || return 1
	for name in "${parquet_files[@]}"; do
		[[ -f "$repo/job/testdata/$name.parquet" ]] || return 1
	done
}

gpt2=1
families=1
analysis=1
sae=1
parquet=1
if [[ $force == 0 ]]; then
	parquet_fresh && parquet=0
	gpt2_fresh && gpt2=0
	families_fresh && families=0
	[[ $gpt2 == 0 && $families == 0 ]] && analysis_fresh && analysis=0
	[[ $gpt2 == 0 ]] && sae_fresh && sae=0
fi
if [[ $gpt2 == 0 && $families == 0 && $analysis == 0 && $sae == 0 && $parquet == 0 ]]; then
	echo "fixtures up to date (oracle/fixtures.sha256)"
	exit 0
fi

if [[ $gpt2 == 1 || $families == 1 ]]; then
	"$here/setup.sh"
fi
if [[ $gpt2 == 1 ]]; then
	echo "regenerating gpt2 fixtures"
	"$venv/bin/python" "$here/make_gpt2_fixtures.py" --out "$repo/gpt2/testdata" "$@"
	# The pyvene fixtures run on gpt2/testdata/odd, so they come after it.
	(cd "$repo" && "$venv/bin/python" oracle/make_pv_fixtures.py && "$venv/bin/python" oracle/make_das_fixtures.py)
	# pyvene training runs (about 10 minutes): mlp/testdata/equality_pyvene.json.
	(cd "$repo" && "$venv/bin/python" oracle/make_equality_fixtures.py)
fi
if [[ $families == 1 ]]; then
	echo "regenerating model-family fixtures"
	"$venv/bin/python" "$here/make_family_fixtures.py" --out "$repo/models/testdata"
fi
if [[ $analysis == 1 ]]; then
	echo "regenerating analysis fixtures (TransformerLens)"
	"$here/setup_tl.sh"
	tl_venv="${ORACLE_TL_VENV:-$here/.venv-tl}"
	"$tl_venv/bin/python" "$here/make_analysis_fixtures.py" --out "$repo/analysis/testdata"
fi
if [[ $sae == 1 ]]; then
	echo "regenerating SAE fixtures (SAELens)"
	"$here/setup_sae.sh"
	sae_venv="${ORACLE_SAE_VENV:-$here/.venv-sae}"
	"$sae_venv/bin/python" "$here/make_sae_fixtures.py" --out "$repo/sae/testdata"
	"$sae_venv/bin/python" "$here/make_sae_train_fixtures.py" >"$repo/sae/testdata/train_step.json"
fi
if [[ $parquet == 1 ]]; then
	echo "regenerating Parquet fixtures (pyarrow)"
	"$here/setup_parquet.sh"
	parquet_venv="${ORACLE_PARQUET_VENV:-$here/.venv-parquet}"
	"$parquet_venv/bin/python" "$here/make_parquet_fixtures.py"
fi
# Record the hashes of what was regenerated; keep the other group's lines as they were,
# so that a stale group stays stale until it is regenerated.
new="$(mktemp)"
trap 'rm -f "$new"' EXIT
record() {
	local f
	for f in "$@"; do
		(cd "$here" && sha256sum "$f")
	done
}
keep() {
	local f
	for f in "$@"; do
		grep -E "^[0-9a-f]{64}  $f\$" "$here/fixtures.sha256" 2>/dev/null || true
	done
}
{
	if [[ $gpt2 == 1 ]]; then record make_gpt2_fixtures.py make_pv_fixtures.py make_das_fixtures.py make_equality_fixtures.py; else keep make_gpt2_fixtures.py make_pv_fixtures.py make_das_fixtures.py make_equality_fixtures.py; fi
	if [[ $families == 1 ]]; then record make_family_fixtures.py; else keep make_family_fixtures.py; fi
	# requirements.txt is in gpt2 and families: when it changed, both were stale and
	# regenerated. When neither was regenerated, keep its line as it was.
	if [[ $gpt2 == 1 || $families == 1 ]]; then record requirements.txt; else keep requirements.txt; fi
	if [[ $analysis == 1 ]]; then record "${analysis_inputs[@]}"; else keep "${analysis_inputs[@]}"; fi
	if [[ $sae == 1 ]]; then record "${sae_inputs[@]}"; else keep "${sae_inputs[@]}"; fi
	if [[ $parquet == 1 ]]; then record "${parquet_inputs[@]}"; else keep "${parquet_inputs[@]}"; fi
} >"$new"
mv "$new" "$here/fixtures.sha256"
trap - EXIT
echo "fixtures regenerated; hashes recorded in oracle/fixtures.sha256"
