#!/usr/bin/env bash
# Installs an XLA PJRT CPU plugin where govene looks for one
# (${XDG_DATA_HOME:-$HOME/.local/share}/govene/pjrt_c_api_cpu_plugin.so), so
# that govene runs on XLA's CPU compiler instead of the pure-Go backend.
#
# The plugin comes from the PyPI wheel lammps-jax-pjrt-cpu 0.11.2: OpenXLA's
# //xla/pjrt/c:pjrt_c_api_cpu_plugin.so built from the XLA of jaxlib 0.11.2
# (PJRT C API 0.115; go-xla v0.4.1 is built against 0.104 and works with it).
# It needs only glibc >= 2.27 and libstdc++, and is Linux x86-64 only.
#
# Idempotent: when this version is already installed (stamp file and size
# match) it downloads nothing; the wheel and the extracted plugin are both
# checked against pinned sha256 sums. Prints the plugin's path on stdout (messages go to stderr).
#
# Environment: PYTHON (default python3) runs pip; PIP_* variables (index URL,
# proxy) are honoured by pip as usual.
set -euo pipefail

PKG=lammps-jax-pjrt-cpu
VERSION=0.11.2
WHEEL=lammps_jax_pjrt_cpu-${VERSION}-py3-none-manylinux_2_27_x86_64.whl
WHEEL_SHA256=1319390d948b39f69f7dade496b7c385149d9ca6097a6b62114da113216d9ad1
MEMBER=lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so
SO_SHA256=ad1309ac822b1b24d51b7f9947c7c9fa9ef5d67f390584cbc3d1fa2428fed9c2

DEST_DIR=${XDG_DATA_HOME:-$HOME/.local/share}/govene
DEST=$DEST_DIR/pjrt_c_api_cpu_plugin.so
PYTHON=${PYTHON:-python3}

say() { echo "pjrt-cpu: $*" >&2; }
die() { say "error: $*"; exit 1; }

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# The stamp records what was installed; with the file's size it makes the
# common "already installed" case cheap (no hashing of 200 MB).
STAMP=$DEST.stamp
STAMP_TEXT="$PKG $VERSION $SO_SHA256"
if [ -f "$DEST" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$STAMP_TEXT" ] &&
	[ "$(stat -c %s "$DEST")" = 201600336 ]; then
	say "already installed ($PKG $VERSION)"
	echo "$DEST"
	exit 0
fi

[ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ] ||
	die "the $PKG wheel is for Linux x86-64 only (this is $(uname -s) $(uname -m)); govene will use its pure-Go backend"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found (needed to run pip)"
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "pip is not available for $PYTHON (install python3-pip)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/govene-pjrt.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

say "downloading $PKG==$VERSION from PyPI (~63 MB)"
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: \
	--platform manylinux_2_27_x86_64 --python-version 3 --implementation py --abi none \
	-d "$tmp" "$PKG==$VERSION" >&2 || die "pip download of $PKG==$VERSION failed"
[ -f "$tmp/$WHEEL" ] || die "pip did not produce $WHEEL (got: $(ls "$tmp"))"
got=$(sha256 "$tmp/$WHEEL")
[ "$got" = "$WHEEL_SHA256" ] || die "sha256 of $WHEEL is $got, expected $WHEEL_SHA256"

say "extracting $MEMBER"
"$PYTHON" - "$tmp/$WHEEL" "$MEMBER" "$tmp" <<'EOF'
import os, shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    with z.open(member) as src, open(os.path.join(out, "plugin.so"), "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    # The plugin's license and third-party notices go next to it.
    os.mkdir(os.path.join(out, "licenses"))
    for name in z.namelist():
        if ".dist-info/licenses/" in name and not name.endswith("/"):
            with z.open(name) as src, open(os.path.join(out, "licenses", os.path.basename(name)), "wb") as dst:
                shutil.copyfileobj(src, dst)
EOF
got=$(sha256 "$tmp/plugin.so")
[ "$got" = "$SO_SHA256" ] || die "sha256 of the extracted plugin is $got, expected $SO_SHA256"

mkdir -p "$DEST_DIR"
chmod 0755 "$tmp/plugin.so"
# Same-filesystem rename keeps the install atomic for concurrent readers.
rm -rf "$DEST_DIR/pjrt_c_api_cpu_plugin.licenses"
cp -r "$tmp/licenses" "$DEST_DIR/pjrt_c_api_cpu_plugin.licenses"
cp "$tmp/plugin.so" "$DEST.tmp.$$"
mv -f "$DEST.tmp.$$" "$DEST"
echo "$STAMP_TEXT" >"$STAMP"
say "installed $PKG $VERSION (XLA PJRT CPU plugin, PJRT C API 0.115)"
echo "$DEST"
