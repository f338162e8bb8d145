#!/usr/bin/env bash
# make bench-scale: the figures of README's "Scale" section. One dataset of N
# prompts (token ids) through `govene job collect` on the XLA CPU plugin with
# one host device and with all of them, and through `govene-beam collect` on
# Beam's embedded Prism runner; each run's wall time (model load and compile
# included), rows and tokens per second, shard megabytes per second and peak
# resident memory (GNU time's maximum RSS); and the shard files' own write and
# verify throughput (go test -bench Shard ./job/). Writes
# bench/results-scale-<date>-<host>.json and prints a Markdown table.
#
#   bash bench/scale.sh
#
# Environment:
#   SCALE_ROWS        prompts in the dataset (default 512)
#   SCALE_TOKENS      tokens per prompt (default 64)
#   SCALE_SITE        the collected site (default blocks.11.block_output)
#   SCALE_POSITIONS   last | all (default all: every token's vector is written)
#   SCALE_SHARD       rows per shard (default 128)
#   SCALE_BATCH       rows per forward pass (default 16)
#   BENCH_CHECKPOINT  the model folder (default ${XDG_CACHE_HOME:-~/.cache}/govene/bench-gpt2-small,
#                     the random GPT-2 small of bench/run.sh; created by
#                     bench/pyvene_bench.py --make-checkpoint when missing)
#   BENCH_OUT         folder for the results JSON (default bench/)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export GOEXPERIMENT=simd
export GOFLAGS="${GOFLAGS:--mod=mod}"
plugin=$(bash scripts/pjrt-cpu/install.sh)
export GOMLX_NO_AUTO_INSTALL=1

rows=${SCALE_ROWS:-512}
tokens=${SCALE_TOKENS:-64}
site=${SCALE_SITE:-blocks.11.block_output}
positions=${SCALE_POSITIONS:-all}
shard=${SCALE_SHARD:-128}
batch=${SCALE_BATCH:-16}
ckpt="${BENCH_CHECKPOINT:-${XDG_CACHE_HOME:-$HOME/.cache}/govene/bench-gpt2-small}"
out_dir="${BENCH_OUT:-$root/bench}"

if [[ ! -f $ckpt/model.safetensors ]]; then
	echo "== making the random GPT-2 small checkpoint at $ckpt (oracle/setup.sh's venv)" >&2
	bash oracle/setup.sh >&2
	"${ORACLE_VENV:-oracle/.venv}/bin/python" bench/pyvene_bench.py --make-checkpoint "$ckpt" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== building govene and govene-beam" >&2
go build -o "$work/govene" ./cmd/govene
(cd beam && go build -o "$work/govene-beam" ./cmd/govene-beam)

python3 - "$work/data.jsonl" "$rows" "$tokens" <<'PY'
import json, random, sys
path, n, s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(17)
with open(path, "w") as f:
    for _ in range(n):
        f.write(json.dumps({"ids": [r.randrange(50257) for _ in range(s)]}) + "\n")
PY

ndev=$(GOMLX_BACKEND=xla:$plugin go run ./bench/ndevices 2>/dev/null || echo 4)
results=()
# run NAME DEVICES CMD...: runs CMD under GNU time into a fresh output folder.
run() {
	local name=$1 devices=$2
	shift 2
	local out="$work/out-$name"
	echo "== $name" >&2
	/usr/bin/time -f "%e %M" -o "$work/time-$name" "$@" -model "$ckpt" -data "$work/data.jsonl" -out "$out" \
		-sites "$site" -positions "$positions" -shard-size "$shard" -batch "$batch" \
		-backend "xla:$plugin" -devices "$devices" >&2
	read -r wall rss <"$work/time-$name"
	local bytes
	bytes=$(cat "$out"/shard-*.safetensors | wc -c)
	results+=("$(python3 -c "
import json, sys
name, devices, wall, rss, bytes, rows, tokens = sys.argv[1:]
wall, rss, bytes, rows, tokens = float(wall), int(rss), int(bytes), int(rows), int(tokens)
print(json.dumps({'name': name, 'devices': devices, 'wall_s': wall, 'peak_rss_mib': round(rss / 1024),
  'rows_per_s': round(rows / wall, 1), 'tokens_per_s': round(rows * tokens / wall),
  'shard_mib': round(bytes / 2**20, 1), 'shard_mib_per_s': round(bytes / 2**20 / wall, 1)}))
" "$name" "$devices" "$wall" "$rss" "$bytes" "$rows" "$tokens")")
}
run job_1_device 0 "$work/govene" job collect
run job_all_devices all "$work/govene" job collect
run prism_1_device 0 "$work/govene-beam" collect
# The three runs must write the same shards (to float rounding across device counts).
for f in "$work"/out-job_1_device/shard-*.safetensors; do
	cmp -s "$f" "$work/out-prism_1_device/$(basename "$f")" || { echo "scale: $(basename "$f") differs between the job and the Prism pipeline" >&2; exit 1; }
done

echo "== shard write and verify (go test -bench Shard ./job/)" >&2
go test -run '^$' -bench Shard -benchtime 20x ./job/ | tee "$work/shard-bench" >&2
shard_write=$(awk '/^BenchmarkShardWrite/ {for (i = 1; i <= NF; i++) if ($(i+1) == "MB/s") print $i}' "$work/shard-bench")
shard_verify=$(awk '/^BenchmarkShardVerify/ {for (i = 1; i <= NF; i++) if ($(i+1) == "MB/s") print $i}' "$work/shard-bench")

host=$(hostname -s 2>/dev/null || echo host)
mkdir -p "$out_dir"
json="$out_dir/results-scale-$(date -u +%Y%m%d-%H%M)-$host.json"
printf '%s\n' "${results[@]}" | python3 -c "
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
meta = {'rows': $rows, 'tokens': $tokens, 'site': '$site', 'positions': '$positions', 'shard_size': $shard,
        'batch': $batch, 'checkpoint': 'random GPT-2 small (124M)', 'host_devices': $ndev,
        'cpus': __import__('os').cpu_count()}
shards = {'write_mb_per_s': float('${shard_write:-0}'), 'verify_mb_per_s': float('${shard_verify:-0}'),
          'shard_mib': 24, 'note': 'go test -bench Shard ./job/: a 128 x 64 x 768 float32 shard written (temporary, fsync, rename, sha256, sidecar) and verified (sidecar, sha256)'}
json.dump({'meta': meta, 'runs': rows, 'shards': shards}, open('$json', 'w'), indent=1)
print('| run | devices | wall s | rows/s | tokens/s | shards MiB | MiB/s | peak RSS MiB |')
print('|---|---|---|---|---|---|---|---|')
for r in rows:
    print(f\"| {r['name']} | {r['devices']} | {r['wall_s']} | {r['rows_per_s']} | {r['tokens_per_s']} | {r['shard_mib']} | {r['shard_mib_per_s']} | {r['peak_rss_mib']} |\")
print()
print(f\"shard write {shards['write_mb_per_s']} MB/s, verify {shards['verify_mb_per_s']} MB/s (24 MiB shards)\")
"
echo "scale: wrote $json" >&2
