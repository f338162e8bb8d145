#!/usr/bin/env bash
# The GPU variant of `make bench`, in two halves, because the GPU machine has PyTorch,
# transformers and JAX's CUDA PJRT plugin but no Go and no network.
#
# Here (a machine with Go and network):
#
#   bash bench/gpu.sh            builds bin/govene-bench, puts the pyvene 0.1.8 wheel in
#                                bench/wheels/, and prints the command for the GPU machine
#
# On the GPU machine, from the repository root (with bin/ and bench/wheels/ copied over):
#
#   bash bench/gpu.sh run        installs the wheel (--no-deps), creates the random
#                                checkpoint with transformers, runs pyvene on cuda and
#                                govene on the XLA CUDA plugin, prints the table and
#                                writes bench/results-<date>-<host>-cuda.json
#
# Environment for `run`:
#   BENCH_PYTHON   the GPU machine's Python (default /opt/torch/.venv/bin/python)
#   BENCH_PLUGIN   the PJRT CUDA plugin (default: JAX's, under that venv)
#   XLA_FLAGS      flags for the plugin (default --xla_gpu_cuda_data_dir=/usr/local/cuda,
#                  where XLA finds libdevice)
#   BENCH_CHECKPOINT, BENCH_QUICK, BENCH_ONLY, BENCH_OUT as for bench/run.sh
#                  (the checkpoint defaults to /tmp/govene-bench-gpt2-small there)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

gpu_python="${BENCH_PYTHON:-/opt/torch/.venv/bin/python}"
plugin_default='/opt/torch/.venv/lib/python3.12/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so'

if [[ "${1:-}" != "run" ]]; then
	# Stripped (-s -w): about 20 MB instead of 27, so that the binary and the working
	# tree fit together in what the device tool carries (64 MiB).
	echo "== building bin/govene-bench (GOEXPERIMENT=simd CGO_ENABLED=1, stripped)" >&2
	GOEXPERIMENT=simd CGO_ENABLED=1 GOFLAGS="${GOFLAGS:--mod=mod}" go build -ldflags='-s -w' -o bin/govene-bench ./cmd/govene-bench
	mkdir -p bench/wheels
	if ! ls bench/wheels/pyvene-0.1.8-*.whl >/dev/null 2>&1; then
		echo "== fetching the pyvene 0.1.8 wheel into bench/wheels/" >&2
		cache="${ORACLE_PIP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/govene-oracle-pip}/wheels"
		if ls "$cache"/pyvene-0.1.8-*.whl >/dev/null 2>&1; then
			cp "$cache"/pyvene-0.1.8-*.whl bench/wheels/
		else
			py="${ORACLE_VENV:-$root/oracle/.venv}/bin/python"
			[[ -x "$py" ]] || py=python3
			"$py" -m pip download --no-deps --no-input --dest bench/wheels pyvene==0.1.8
		fi
	fi
	ls -la bin/govene-bench bench/wheels/pyvene-0.1.8-*.whl >&2
	cat <<EOF

Copy the repository with bin/govene-bench and bench/wheels/ to the GPU machine (with the
device tool: carry ["bin", "bench/wheels"]), then run there, from the repository root:

  bash bench/gpu.sh run

which runs, in this order:

  $gpu_python -m pip install --no-deps --no-index bench/wheels/pyvene-0.1.8-*.whl
  $gpu_python bench/pyvene_bench.py --make-checkpoint /tmp/govene-bench-gpt2-small
  $gpu_python bench/pyvene_bench.py --device cuda --checkpoint /tmp/govene-bench-gpt2-small --out /tmp/pyvene.json
  GOMLX_BACKEND=xla:$plugin_default XLA_FLAGS=--xla_gpu_cuda_data_dir=/usr/local/cuda GOPJRT_CUDA_CHECKS=0 GOMLX_NO_AUTO_INSTALL=1 bin/govene-bench -checkpoint /tmp/govene-bench-gpt2-small -out /tmp/govene.json
  $gpu_python bench/report.py /tmp/pyvene.json /tmp/govene.json --out-dir bench

(A full run takes about 2-4 minutes there; BENCH_QUICK=1 about one.)
EOF
	exit 0
fi

# ---- on the GPU machine ---------------------------------------------------------------
plugin="${BENCH_PLUGIN:-$plugin_default}"
ckpt="${BENCH_CHECKPOINT:-/tmp/govene-bench-gpt2-small}"
out_dir="${BENCH_OUT:-$root/bench}"
only="${BENCH_ONLY:-}"
[[ -x bin/govene-bench ]] || { echo "bin/govene-bench is missing: run 'bash bench/gpu.sh' on a machine with Go first" >&2; exit 1; }
[[ -f "$plugin" ]] || { echo "no PJRT CUDA plugin at $plugin (set BENCH_PLUGIN)" >&2; exit 1; }
nvidia-smi --query-gpu=name,memory.used,memory.total,utilization.gpu --format=csv,noheader >&2 || true

if ! "$gpu_python" -c 'import importlib.metadata as m; assert m.version("pyvene") == "0.1.8"' 2>/dev/null; then
	"$gpu_python" -m pip install --quiet --no-deps --no-index bench/wheels/pyvene-0.1.8-*.whl
fi
"$gpu_python" bench/pyvene_bench.py --make-checkpoint "$ckpt"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rc=0
echo "== pyvene (cuda)" >&2
"$gpu_python" bench/pyvene_bench.py --device cuda --checkpoint "$ckpt" ${only:+--only "$only"} --out "$tmp/pyvene.json" || rc=$?
echo "== govene (XLA CUDA)" >&2
GOMLX_BACKEND="xla:$plugin" XLA_FLAGS="${XLA_FLAGS:---xla_gpu_cuda_data_dir=/usr/local/cuda}" GOPJRT_CUDA_CHECKS=0 GOMLX_NO_AUTO_INSTALL=1 \
	bin/govene-bench -checkpoint "$ckpt" ${only:+-only "$only"} -out "$tmp/govene.json" || rc=$?
"$gpu_python" bench/report.py "$tmp/pyvene.json" "$tmp/govene.json" --out-dir "$out_dir" --note "gpu: $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)" || rc=$?
# Keep the raw JSONs beside the merged file for a device tool's $OUT.
if [[ -n "${OUT:-}" && -d "${OUT:-}" ]]; then
	cp "$tmp"/*.json "$OUT"/ 2>/dev/null || true
	newest="$(ls -t "$out_dir"/results-*.json 2>/dev/null | head -1)"
	[[ -n "$newest" ]] && cp "$newest" "$OUT"/
fi
exit "$rc"
