#!/usr/bin/env bash
# Compares govene's hub, safetensors and bpe packages with
# github.com/gomlx/go-huggingface v0.4.0 and prints Markdown tables
# (see main.go). From the repository root:
#
#   bash bench/hfcompare/run.sh [-only tok,families,load,hostile,hub] [-reps 3]
#
# The load section writes a random GPT-2-small checkpoint (500 MB) to
# ${TMPDIR:-/tmp}/hfcompare-gpt2-small the first time; the hostile and hub
# sections take about 1.5 minutes, most of it waiting out go-huggingface's
# hangs on named pipes (20 s each).
#
# Environment:
#   GHF_DIR  a go-huggingface v0.4.0 source tree, for a module proxy that does
#            not serve v0.4.0 (the one this project uses serves only v0.3.1,
#            which has neither models/safetensors nor tokenizers/hftokenizer);
#            it is used through a temporary go.work, the repository untouched.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export GOEXPERIMENT=simd GOMLX_BACKEND="${GOMLX_BACKEND:-go}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [[ -n ${GHF_DIR:-} ]]; then
	printf 'go 1.26.5\n\nuse %s\n\nreplace github.com/gomlx/go-huggingface v0.4.0 => %s\n' "$here" "$GHF_DIR" >"$work/go.work"
	export GOWORK="$work/go.work" GOFLAGS=
else
	export GOWORK=off GOFLAGS=-mod=mod
fi
cd "$here"
go build -o "$work/hfcompare" .
"$work/hfcompare" -root ../.. "$@"
