#!/usr/bin/env bash
# make bench: pyvene 0.1.8 (PyTorch, CPU) against govene on the same machine, in the
# same run, on the same random GPT-2-small checkpoint and token ids (and a random
# Llama of about that size for the *_llama rows), and TransformerLens 4.3.0 against
# govene on attribution patching and exact patching (the attrib* rows, same GPT-2
# checkpoint); prints the tables and writes bench/results-<date>-<host>.json.
#
#   bash bench/run.sh
#
# Environment:
#   BENCH_QUICK=1      one sweep layer at 4 positions, fewer repetitions, exact patching
#                      of block_input at layer 6 only: checks that everything runs
#                      (minutes on a busy machine); not for numbers
#   BENCH_CHECKPOINT   checkpoint folder (default ${XDG_CACHE_HOME:-~/.cache}/govene/bench-gpt2-small;
#                      created by bench/pyvene_bench.py --make-checkpoint when missing)
#   BENCH_LLAMA_CHECKPOINT  the Llama's folder (default ${XDG_CACHE_HOME:-~/.cache}/govene/bench-llama-small;
#                      created by bench/pyvene_bench.py --make-checkpoint-llama when missing
#                      and a Llama workload is to run)
#   BENCH_ONLY         comma-separated workloads (forward, trace, trace_batched,
#                      trace_newlen, heads, heads_batched, heads_newlen, das_step, generate,
#                      forward_llama, generate_llama, attrib, attrib_exact)
#   BENCH_OUT          folder for the results JSON (default bench/)
#   ORACLE_VENV, PYTHON as for oracle/setup.sh (the Python side reuses the oracle's venv)
#   ORACLE_TL_VENV     as for oracle/setup_tl.sh: TransformerLens' venv for the attrib* rows
#                      (default oracle/.venv-tl)
#   GOMLX_BACKEND      govene's backend (default: xla, the installed XLA CPU plugin,
#                      since benchmarks are repeated work; "go" for the pure-Go backend)
#
# For numbers, run it on a quiet machine: both sides use every core.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export GOEXPERIMENT=simd
export GOFLAGS="${GOFLAGS:--mod=mod}"
# Benchmarks are repeated work, where XLA's compile pays off: use the plugin
# that make installs unless GOMLX_BACKEND says otherwise (govene's own choice
# by workload would see each benchmark call as a one-off).
if [[ -z ${GOMLX_BACKEND:-} ]]; then
	GOMLX_BACKEND=xla:$(bash "$root/scripts/pjrt-cpu/install.sh")
	export GOMLX_BACKEND GOMLX_NO_AUTO_INSTALL=1
fi

ckpt="${BENCH_CHECKPOINT:-${XDG_CACHE_HOME:-$HOME/.cache}/govene/bench-gpt2-small}"
llama_ckpt="${BENCH_LLAMA_CHECKPOINT:-${XDG_CACHE_HOME:-$HOME/.cache}/govene/bench-llama-small}"
out_dir="${BENCH_OUT:-$root/bench}"
only="${BENCH_ONLY:-}"

# Which sides run: pyvene for its workloads, TransformerLens for attrib*.
tl_names=attrib,attrib_exact
run_tl=1 run_pv=1
if [[ -n $only ]]; then
	run_tl="" run_pv=""
	IFS=, read -ra names <<<"$only"
	for n in "${names[@]}"; do
		if [[ ,$tl_names, == *,$n,* ]]; then run_tl=1; else run_pv=1; fi
	done
fi

echo "== Python environment (oracle/setup.sh)" >&2
bash oracle/setup.sh >&2
py="${ORACLE_VENV:-$root/oracle/.venv}/bin/python"
if [[ -n $run_tl ]]; then
	echo "== TransformerLens environment (oracle/setup_tl.sh)" >&2
	bash oracle/setup_tl.sh >&2
fi
tl_py="${ORACLE_TL_VENV:-$root/oracle/.venv-tl}/bin/python"

echo "== checkpoint $ckpt" >&2
"$py" bench/pyvene_bench.py --make-checkpoint "$ckpt"
# The Llama rows run when BENCH_ONLY is empty or names one of them.
if [[ -z $only || ,$only, == *_llama,* ]]; then
	echo "== Llama checkpoint $llama_ckpt" >&2
	"$py" bench/pyvene_bench.py --make-checkpoint-llama "$llama_ckpt"
else
	llama_ckpt=""
fi

echo "== building bin/govene-bench" >&2
go build -o bin/govene-bench ./cmd/govene-bench

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?"; }
note="load average before: $(load)"

rc=0
touch "$tmp/pyvene.json" "$tmp/tl.json" # a side that does not run reads as empty
if [[ -n $run_pv ]]; then
	echo "== pyvene ($(nproc) cores)" >&2
	"$py" bench/pyvene_bench.py --checkpoint "$ckpt" ${llama_ckpt:+--llama-checkpoint "$llama_ckpt"} ${only:+--only "$only"} --out "$tmp/pyvene.json" || rc=$?
	note="$note; after pyvene: $(load)"
fi

if [[ -n $run_tl ]]; then
	echo "== TransformerLens ($(nproc) cores)" >&2
	# BENCH_QUICK reaches it through the environment, as it does pyvene_bench.py.
	"$tl_py" bench/tl_attrib_bench.py --checkpoint "$ckpt" ${only:+--only "$only"} --out "$tmp/tl.json" || rc=$?
	note="$note; after TransformerLens: $(load)"
fi

echo "== govene" >&2
bin/govene-bench -checkpoint "$ckpt" ${llama_ckpt:+-llama-checkpoint "$llama_ckpt"} ${only:+-only "$only"} -out "$tmp/govene.json" || rc=$?
note="$note; after govene: $(load)"

echo >&2
"$py" bench/report.py "$tmp/pyvene.json" "$tmp/govene.json" ${run_tl:+--tl "$tmp/tl.json"} --out-dir "$out_dir" --note "$note" || rc=$?
exit "$rc"
