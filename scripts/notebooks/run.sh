#!/usr/bin/env bash
# Executes govene's notebooks headlessly with the GoNB kernel (jupyter
# nbconvert --execute, each in a fresh kernel, into a temporary folder),
# rewrites the machine's paths in their outputs (the repository's folder as
# "..", $HOME as "~"), then checks every executed notebook with
# check_notebooks.py: no cell failed, no error output, the expected values
# and plots are there in forms an untrusted JupyterLab shows, and no
# absolute home or work path is left.
#
#   bash scripts/notebooks/run.sh                 # all of notebooks/*.ipynb
#   bash scripts/notebooks/run.sh notebooks/01_patching.ipynb
#   bash scripts/notebooks/run.sh --save          # also write the executed
#                                                 # notebooks back (with outputs)
#
# Environment: NOTEBOOKS_TIMEOUT (seconds per cell, default 900),
# NOTEBOOKS_OUT (folder for the executed copies; default a new temporary one,
# kept and printed). Run setup.sh (make notebooks-setup) first.
# Exits non-zero if any notebook fails to run or fails a check.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

save=0
nbs=()
for a in "$@"; do
	case "$a" in
	--save) save=1 ;;
	-h | --help) sed -n '2,18p' "$0"; exit 0 ;;
	*) nbs+=("$(realpath "$a")") ;;
	esac
done
if [[ ${#nbs[@]} -eq 0 ]]; then
	nbs=("$REPO_ROOT"/notebooks/*.ipynb)
fi
[[ -x $NOTEBOOKS_VENV/bin/jupyter && -f $JUPYTER_DATA_DIR/kernels/gonb/kernel.json ]] || {
	echo "run.sh: no notebook environment in $NOTEBOOKS_VENV: run scripts/notebooks/setup.sh (make notebooks-setup) first" >&2
	exit 2
}
out=${NOTEBOOKS_OUT:-$(mktemp -d -t govene-notebooks.XXXXXX)}
mkdir -p "$out"
timeout=${NOTEBOOKS_TIMEOUT:-900}
echo "run.sh: executing ${#nbs[@]} notebook(s) into $out (cell timeout ${timeout}s)"

failed=0
summary=()
executed=()
t_all=$SECONDS
for nb in "${nbs[@]}"; do
	name=$(basename "$nb")
	log=$out/${name%.ipynb}.log
	t0=$EPOCHREALTIME
	# nbconvert starts the kernel in the notebook's folder, so GoNB's
	# ${GONB_DIR}/.. is the repository root the notebook's go.work uses.
	"$NOTEBOOKS_VENV/bin/jupyter" nbconvert --to notebook --execute \
		--ExecutePreprocessor.kernel_name=gonb \
		--ExecutePreprocessor.timeout="$timeout" \
		--ExecutePreprocessor.startup_timeout=120 \
		--output-dir "$out" "$nb" >"$log" 2>&1
	rc=$?
	dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	if [[ $rc -ne 0 ]]; then
		failed=$((failed + 1))
		summary+=("$(printf '%-24s %7ss  FAILED (nbconvert exit %d; log %s)' "$name" "$dt" "$rc" "$log")")
		echo "---- $name failed; the end of its log (GoNB's own log lines left out):"
		grep -v '^I[0-9]\{4\} ' "$log" | tail -40
	else
		summary+=("$(printf '%-24s %7ss  executed' "$name" "$dt")")
	fi
	[[ -f $out/$name ]] && executed+=("$out/$name")
done

echo "---- checks"
if [[ ${#executed[@]} -gt 0 ]]; then
	"$NOTEBOOKS_VENV/bin/python" "$NB_SCRIPTS/check_notebooks.py" --scrub-paths "$REPO_ROOT" "${executed[@]}" || failed=$((failed + 1))
fi
echo "---- timings"
printf '%s\n' "${summary[@]}"
echo "total $((SECONDS - t_all))s; executed notebooks in $out"

if [[ $failed -ne 0 ]]; then
	echo "run.sh: FAILED" >&2
	exit 1
fi
if [[ $save -eq 1 ]]; then
	for f in "${executed[@]}"; do
		cp "$f" "$REPO_ROOT/notebooks/$(basename "$f")"
	done
	echo "run.sh: saved ${#executed[@]} executed notebook(s) to notebooks/"
fi
echo "run.sh: ok"
