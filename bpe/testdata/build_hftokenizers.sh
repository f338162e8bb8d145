#!/usr/bin/env bash
# Builds the Rust static library that the hftokenizers build tag needs
# (github.com/daulet/tokenizers v1.22.2 wraps Hugging Face tokenizers 0.20),
# from the Go module cache and crates.io, into ${1:-/tmp/hftokenizers}.
# Takes about 3-4 minutes on 2 cores. Then, from the repository root:
#
#   CGO_LDFLAGS=-L/tmp/hftokenizers GOEXPERIMENT=simd go test -tags hftokenizers ./bpe/
set -euo pipefail
out=${1:-/tmp/hftokenizers}
dir=$(go mod download -json github.com/daulet/tokenizers@v1.22.2 | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
work=$(mktemp -d)
cp -r "$dir"/. "$work"
chmod -R u+w "$work"
(cd "$work" && cargo build --release --locked)
mkdir -p "$out"
cp "$work/target/release/libtokenizers.a" "$out/"
rm -rf "$work"
echo "built $out/libtokenizers.a; use CGO_LDFLAGS=-L$out"
