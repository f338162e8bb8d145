#!/usr/bin/env bash
# A browser test of the notebooks through the real JupyterLab UI: starts
# JupyterLab on 127.0.0.1 (random port and token, no browser), then headless
# Chromium (Debian's, driven by playwright-core from npm; no browser is
# downloaded):
#
# 1. opens every saved notebook WITHOUT trusting it (as a fresh clone is)
#    and fails unless each of its plots shows as a visible image and each
#    table with its styling, no output shows text where a plot should be
#    (what JupyterLab's sanitiser leaves of an inline <svg>), and no news
#    pop-up shows (setup.sh's overrides.json turns it off):
#
#      01_patching.ipynb -> untrusted-patching.png, 02_tracing.ipynb ->
#      untrusted-tracing.png, 03_das.ipynb -> untrusted-das.png,
#      07_ioi.ipynb -> untrusted-ioi.png, and 04_positions, 05_collect,
#      06_steering (no screenshots)
#
# 2. opens two notebooks, clears their outputs, runs all cells from the Run
#    menu, waits for the kernel, and checks the new outputs the same way:
#
#      01_patching.ipynb  a table with "Paris"         -> browser.png
#      02_tracing.ipynb   heat maps "restoring ..."    -> browser-tracing.png
#
# 3. the explorers of package views: scripts/notebooks/testdata/views.ipynb
#    runs as in 2., and while its explorer cells wait for their widgets the
#    test picks another head, position and feature and checks that each
#    view was redrawn in place (one output, new content), that hovering a
#    token shows where it attends (-> views-hover.png), and clicks Done
#    (-> browser-views.png). Alone (about 25s):
#
#      BROWSER_SAVED= BROWSER_NOTEBOOKS=scripts/notebooks/testdata/views.ipynb:views:browser-views.png bash scripts/notebooks/browser_test.sh
#
#    A notebook named with a folder is found from the repository root (the
#    server then serves the repository, not only notebooks/).
#
# Screenshots go to a new temporary folder (printed), so a test run leaves
# the working tree alone; SHOTS_DIR=notebooks/screenshots refreshes the
# committed ones.
#
# The server uses throwaway settings (autosave off, no news or update
# checks) and workspaces, so the notebooks in the repository are not
# rewritten; the test checks that. It stops the server when done.
#
#   bash scripts/notebooks/browser_test.sh            # all of the above
#   BROWSER_NOTEBOOKS=01_patching.ipynb:table:browser.png bash scripts/notebooks/browser_test.sh
#   BROWSER_NOTEBOOKS=03_das.ipynb:chart:browser-das.png bash scripts/notebooks/browser_test.sh
#   BROWSER_SAVED= BROWSER_NOTEBOOKS=...               # skip part 1
#   BROWSER_NOTEBOOKS= ...                             # only part 1 (seconds, no kernel runs)
#   BROWSER_LAB_ARGS='--LabApp.app_settings_dir=/tmp/x' ...  # extra jupyter-lab arguments
#
# Needs setup.sh first. Installs, if missing: chromium, nodejs and npm (apt,
# as root), and playwright-core (npm, into the notebook venv).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

PLAYWRIGHT_VERSION=1.61.1 # the last that runs on Node 18 (Debian 12's)
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
NOTEBOOKS=${BROWSER_NOTEBOOKS-01_patching.ipynb:table:browser.png,02_tracing.ipynb:heatmap:browser-tracing.png,scripts/notebooks/testdata/views.ipynb:views:browser-views.png}
SAVED=${BROWSER_SAVED-01_patching.ipynb:untrusted-patching.png,02_tracing.ipynb:untrusted-tracing.png,03_das.ipynb:untrusted-das.png,04_positions.ipynb:,05_collect.ipynb:,06_steering.ipynb:,07_ioi.ipynb:untrusted-ioi.png,08_sae.ipynb:}
read -r -a lab_args <<<"${BROWSER_LAB_ARGS:-}"
SHOTS_DIR=$(realpath -m "${SHOTS_DIR:-$(mktemp -d -t govene-browser.XXXXXX)}")

log() { printf '[browser-test] %s\n' "$*"; }
die() { printf '[browser-test] error: %s\n' "$*" >&2; exit 1; }

[[ -x $NOTEBOOKS_VENV/bin/jupyter-lab && -f $JUPYTER_DATA_DIR/kernels/gonb/kernel.json ]] ||
	die "no notebook environment in $NOTEBOOKS_VENV: run scripts/notebooks/setup.sh (make notebooks-setup) first"

apt_install() {
	[[ $(id -u) -eq 0 ]] || die "$* missing and not root: apt-get install -y $*"
	log "installing $* (apt)"
	if [[ ! -f /tmp/.govene-apt-updated ]]; then
		apt-get update -qq && touch /tmp/.govene-apt-updated
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
[[ -x $CHROMIUM ]] || apt_install chromium fonts-liberation
[[ -x $CHROMIUM ]] || die "no Chromium at $CHROMIUM"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	apt_install nodejs npm
fi

nodedir=$NOTEBOOKS_VENV/node
if [[ $(node -p "try { require('$nodedir/node_modules/playwright-core/package.json').version } catch (e) { '' }") != "$PLAYWRIGHT_VERSION" ]]; then
	log "installing playwright-core@$PLAYWRIGHT_VERSION (npm) into $nodedir"
	mkdir -p "$nodedir"
	npm install --prefix "$nodedir" --no-audit --no-fund --loglevel=error "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null
fi

# Throwaway server state: autosave off, and every cell rendered (not only
# those in view) so that all outputs can be checked. The news settings are
# left to setup.sh's overrides.json, which the test checks.
work=$(mktemp -d -t govene-browser.XXXXXX)
mkdir -p "$work/settings/@jupyterlab/docmanager-extension" "$work/settings/@jupyterlab/notebook-extension" "$SHOTS_DIR"
echo '{"autosave": false}' >"$work/settings/@jupyterlab/docmanager-extension/plugin.jupyterlab-settings"
echo '{"windowingMode": "none"}' >"$work/settings/@jupyterlab/notebook-extension/tracker.jupyterlab-settings"
port=$("$NOTEBOOKS_VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=$("$NOTEBOOKS_VENV/bin/python" -c 'import secrets; print(secrets.token_hex(24))')

# The server serves notebooks/, or the repository when a notebook is named
# with its folder (LAB_PREFIX is then how the others are reached).
lab_root=$REPO_ROOT/notebooks lab_prefix=
if [[ ,$NOTEBOOKS,$SAVED, == */* ]]; then
	lab_root=$REPO_ROOT lab_prefix=notebooks/
fi

# The notebooks' hashes, to check the test leaves them as they were.
hashes() { (cd "$REPO_ROOT" && sha256sum notebooks/*.ipynb scripts/notebooks/testdata/*.ipynb); }
before=$(hashes)

server=
# shellcheck disable=SC2329 # called by the EXIT trap
cleanup() {
	if [[ -n $server ]] && kill -0 "$server" 2>/dev/null; then
		log "stopping JupyterLab (pid $server)"
		kill -TERM "$server" 2>/dev/null || true
		for _ in $(seq 1 20); do kill -0 "$server" 2>/dev/null || break; sleep 0.5; done
		kill -KILL "$server" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

log "starting JupyterLab on 127.0.0.1:$port (log $work/lab.log)"
root=()
[[ $(id -u) -eq 0 ]] && root=(--allow-root)
"$NOTEBOOKS_VENV/bin/jupyter-lab" --no-browser "${root[@]}" \
	--ip=127.0.0.1 --port="$port" --ServerApp.port_retries=0 \
	--IdentityProvider.token="$token" \
	--ServerApp.root_dir="$lab_root" \
	--LabApp.user_settings_dir="$work/settings" \
	--LabApp.workspaces_dir="$work/workspaces" \
	--LabApp.expose_app_in_browser=True \
	"${lab_args[@]}" \
	>"$work/lab.log" 2>&1 &
server=$!
t0=$SECONDS
up() { "$NOTEBOOKS_VENV/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' "$1" 2>/dev/null; }
until up "http://127.0.0.1:$port/api/status?token=$token"; do
	kill -0 "$server" 2>/dev/null || { cat "$work/lab.log" >&2; die "JupyterLab exited"; }
	((SECONDS - t0 < 120)) || { tail -30 "$work/lab.log" >&2; die "JupyterLab did not answer within 120s"; }
	sleep 0.5
done
log "JupyterLab is up after $((SECONDS - t0))s"

rc=0
LAB_URL="http://127.0.0.1:$port" LAB_TOKEN="$token" CHROMIUM="$CHROMIUM" SHOTS_DIR="$SHOTS_DIR" \
	NOTEBOOKS="$NOTEBOOKS" SAVED="$SAVED" LAB_PREFIX="$lab_prefix" RUN_TIMEOUT_S="${BROWSER_RUN_TIMEOUT:-1200}" \
	NODE_PATH="$nodedir/node_modules" node "$NB_SCRIPTS/browser_test.cjs" || rc=$?

if [[ $rc -ne 0 ]]; then
	log "the server's log (GoNB's lines left out), last 40 lines:"
	grep -v '^I[0-9]\{4\} ' "$work/lab.log" | tail -40
fi
after=$(hashes)
if [[ $before != "$after" ]]; then
	log "FAILED: the test changed notebooks in the repository"
	rc=1
fi
if [[ $rc -eq 0 ]]; then
	log "ok (screenshots in $SHOTS_DIR)"
else
	log "FAILED"
fi
exit $rc
