#!/usr/bin/env bash
# Installs what govene's notebooks need, idempotently, into one virtual
# environment (default <repo>/.venv-lab; set NOTEBOOKS_VENV to move it):
#
#   - JupyterLab 4, nbconvert and nbclient, pinned in requirements.txt (PyPI)
#   - GoNB v0.11.4, the Go kernel, and goimports, built with the Go toolchain
#     into the venv's bin/
#   - the govene binary, built from this checkout into the venv's bin/ (again
#     on every run: go build relinks only when the sources changed), which
#     notebook cells start their session with: the kernel spec sets
#     GOVENE_BIN to it, so that no cell pays for building it
#   - the GoNB kernel spec, in the venv's share/jupyter/kernels/gonb (not in
#     ~/.local/share/jupyter), with GOEXPERIMENT=simd and GOVENE_BIN in its
#     environment
#   - JupyterLab defaults in the venv's share/jupyter/lab/settings/overrides.json:
#     no news pop-up, no news or update checks
#
# Needs: Go >= 1.26 and Python >= 3.11 with the venv module (Debian:
# python3-venv) on PATH, and the Go module proxy and PyPI reachable.
# A second run with nothing changed only checks, in about a second.
#
#   bash scripts/notebooks/setup.sh          # or: make notebooks-setup
#   NOTEBOOKS_GOPLS=1 bash scripts/notebooks/setup.sh   # also gopls (autocomplete in JupyterLab)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

GONB_VERSION=v0.11.4
GOIMPORTS_VERSION=v0.52.0 # golang.org/x/tools
GOPLS_VERSION=v0.23.0     # golang.org/x/tools/gopls, only with NOTEBOOKS_GOPLS=1
PYTHON=${PYTHON:-python3}

log() { printf '[notebooks-setup] %s\n' "$*"; }
die() { printf '[notebooks-setup] error: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "go is not on PATH (Go >= 1.26 is needed)"
gov=$(go env GOVERSION)
case "$gov" in
go1.2[6-9]* | go1.[3-9][0-9]* | go[2-9]*) ;;
*) die "Go >= 1.26 is needed, found $gov" ;;
esac
command -v "$PYTHON" >/dev/null || die "$PYTHON is not on PATH (Python >= 3.11 is needed)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
	die "Python >= 3.11 is needed, found $("$PYTHON" -V 2>&1)"

# 1. The Python side.
req=$NB_SCRIPTS/requirements.txt
stamp=$NOTEBOOKS_VENV/.stamp-$(sha256sum "$req" | cut -c1-12)
if [[ -f $stamp && -x $NOTEBOOKS_VENV/bin/jupyter ]]; then
	log "python: $NOTEBOOKS_VENV is up to date"
else
	if [[ ! -x $NOTEBOOKS_VENV/bin/python ]]; then
		log "python: creating $NOTEBOOKS_VENV"
		"$PYTHON" -m venv "$NOTEBOOKS_VENV" ||
			die "python -m venv failed (on Debian: apt-get install python3-venv)"
	fi
	log "python: installing $(grep -c '==' "$req") pinned packages (JupyterLab, nbconvert, nbclient)"
	"$NOTEBOOKS_VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
	rm -f "$NOTEBOOKS_VENV"/.stamp-*
	touch "$stamp"
fi

# 2. GoNB and goimports, into the venv's bin/. `go install ...gonb@v0.11.4`
# fails on some proxies, so GoNB is built from a throwaway module that
# requires it.
gobin=$NOTEBOOKS_VENV/bin
gonb_stamp=$gobin/.gonb-$GONB_VERSION-$gov
if [[ -x $gobin/gonb && -f $gonb_stamp ]]; then
	log "go: gonb $GONB_VERSION is installed"
else
	log "go: building gonb $GONB_VERSION"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	if ! (
		cd "$tmp"
		go mod init gonb-install
		go get "github.com/janpfeifer/gonb@$GONB_VERSION"
		GOBIN=$gobin go install github.com/janpfeifer/gonb
	) >"$tmp/log" 2>&1; then
		cat "$tmp/log" >&2
		die "building gonb failed"
	fi
	rm -f "$gobin"/.gonb-*
	touch "$gonb_stamp"
fi
# go_tool NAME VERSION PACKAGE: `go install PACKAGE@VERSION` into the
# venv's bin/, unless that version, built with this Go, is there already.
go_tool() {
	local stamp=$gobin/.$1-$2-$gov
	if [[ -x $gobin/$1 && -f $stamp ]]; then
		log "go: $1 $2 is installed"
	else
		log "go: building $1 $2"
		GOBIN=$gobin go install "$3@$2"
		rm -f "$gobin"/."$1"-*
		touch "$stamp"
	fi
}
go_tool goimports "$GOIMPORTS_VERSION" golang.org/x/tools/cmd/goimports
if [[ ${NOTEBOOKS_GOPLS:-0} == 1 ]]; then
	go_tool gopls "$GOPLS_VERSION" golang.org/x/tools/gopls
fi

# 2b. The govene binary that sessions run (session.FindBinary takes
# $GOVENE_BIN first). The session picks the XLA CPU plugin itself when one is
# installed (govene session serve -backend auto).
log "go: building govene into $gobin/govene"
(cd "$REPO_ROOT" && GOFLAGS=-mod=mod go build -o "$gobin/govene" ./cmd/govene) || die "building cmd/govene failed"

# 3. The kernel spec, in the venv (JUPYTER_DATA_DIR, set by env.sh, is where
# `gonb --install` writes it). Its environment: GOEXPERIMENT=simd, the venv's
# bin/ and this Go's bin/ on PATH, GOVENE_BIN, and no inherited GOFLAGS (see
# env.sh).
kdir=$JUPYTER_DATA_DIR/kernels/gonb
log "kernel: installing the gonb kernel spec in $kdir"
# --force_deps: gopls is optional (it gives autocomplete and hover help).
"$gobin/gonb" --install --force_deps --logtostderr 2>&1 | grep -o 'kernel configuration installed in.*' | sed 's/^/  gonb: /' || true
[[ -f $kdir/kernel.json ]] || die "gonb --install wrote no $kdir/kernel.json"
export NOTEBOOKS_VENV
GOVENE_BIN=$gobin/govene GOROOT_BIN=$(go env GOROOT)/bin "$NOTEBOOKS_VENV/bin/python" - "$kdir/kernel.json" <<'PY'
import json, os, sys
path = sys.argv[1]
spec = json.load(open(path))
spec["display_name"] = "Go (gonb)"
env = spec.setdefault("env", {})
env["GOEXPERIMENT"] = "simd"
env["GOFLAGS"] = ""  # never -mod=mod (make's): Go refuses it in workspace mode
env["GOVENE_BIN"] = os.environ["GOVENE_BIN"]  # the session server cells start
# jupyter_client substitutes ${PATH} from the server's environment.
bins = [os.path.join(os.environ["NOTEBOOKS_VENV"], "bin"), os.environ["GOROOT_BIN"]]
env["PATH"] = ":".join(bins) + ":${PATH}"
json.dump(spec, open(path, "w"), indent=1)
print("  kernel.json env:", json.dumps(env))
PY

# 3b. JupyterLab settings defaults (overrides.json in the application
# directory's settings/): no "Would you like to get notified about official
# Jupyter news?" pop-up and no news or update checks, which would reach the
# network. A user's own settings still override these.
lab_settings=$NOTEBOOKS_VENV/share/jupyter/lab/settings
mkdir -p "$lab_settings"
"$NOTEBOOKS_VENV/bin/python" - "$lab_settings/overrides.json" <<'PY'
import json, os, sys
path = sys.argv[1]
try:
    cur = json.load(open(path))
except (OSError, ValueError):
    cur = {}
want = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}
merged = {**cur, **{k: {**cur.get(k, {}), **v} for k, v in want.items()}}
if merged != cur:
    json.dump(merged, open(path, "w"), indent=1)
    print("[notebooks-setup] lab: news and update checks off in", path)
PY

# 4. Check: the kernel is the one Jupyter finds, and the tools run.
specs=$("$NOTEBOOKS_VENV/bin/jupyter" kernelspec list)
[[ $specs =~ gonb\ +$kdir ]] || die "jupyter does not find the gonb kernel in $kdir: $specs"
echo 'package x' | "$gobin/goimports" >/dev/null || die "goimports does not run"
"$gobin/govene" session -h >/dev/null || die "$gobin/govene does not run"
log "ready: JupyterLab $("$NOTEBOOKS_VENV/bin/python" -c "import importlib.metadata as m; print(m.version('jupyterlab'))"), gonb $GONB_VERSION, $gov, venv $NOTEBOOKS_VENV"
