#!/usr/bin/env python3
"""Time to the first result in a notebook: runs a notebook's code cells in a fresh
GoNB kernel, as a user would, and prints how long each cell took from sending it
to its first output, the kernel's start-up, and the time until the first cell
that shows something computed by the model.

    bash scripts/notebooks/first_result.sh [notebooks/01_patching.ipynb]

A cell "shows a result" when its output contains a model-dependent marker
(a probability, the model's description or an HTML display); the markers are
the same for every notebook: "GPT-2", "P(", "<table", "<svg".
"""
import json
import sys
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

MARKERS = ("GPT-2", "P(", "<table", "<svg")


def text_of(msg):
    c = msg["content"]
    if msg["msg_type"] == "stream":
        return c.get("text", "")
    if msg["msg_type"] in ("display_data", "execute_result", "update_display_data"):
        return " ".join(str(v) for v in c.get("data", {}).values())
    if msg["msg_type"] == "error":
        return "ERROR " + c.get("ename", "") + ": " + c.get("evalue", "")
    return ""


def main():
    nb_path = Path(sys.argv[1] if len(sys.argv) > 1 else "notebooks/01_patching.ipynb").resolve()
    cells = [c for c in json.loads(nb_path.read_text())["cells"] if c["cell_type"] == "code"]
    t0 = time.monotonic()
    km, kc = start_new_kernel(kernel_name="gonb", cwd=str(nb_path.parent), startup_timeout=120)
    started = time.monotonic() - t0
    print(f"{nb_path.name}: kernel started in {started:.2f} s")
    first = None
    try:
        for i, cell in enumerate(cells):
            src = "".join(cell["source"])
            t = time.monotonic()
            msg_id = kc.execute(src)
            first_out, out, result = None, [], False
            while True:
                msg = kc.get_iopub_msg(timeout=900)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
                txt = text_of(msg)
                if txt:
                    if first_out is None:
                        first_out = time.monotonic() - t
                    out.append(txt)
                    result = result or any(m in txt for m in MARKERS)
                if txt.startswith("ERROR"):
                    raise SystemExit(f"cell {i} failed: {txt}")
            done = time.monotonic() - t
            head = src.strip().splitlines()[0][:50] if src.strip() else ""
            fo = f"{first_out:.2f} s" if first_out is not None else "-"
            print(f"  cell {i:2d}: first output {fo:>8}, done {done:6.2f} s  {head}")
            if result and first is None:
                first = (i, first_out, time.monotonic() - t0)
                print(f"first result: cell {i}, {first_out:.2f} s after it was run; {first[2]:.2f} s after the kernel was asked to start")
                if "--all" not in sys.argv:
                    break
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    if first is None:
        raise SystemExit("no cell showed a result")


if __name__ == "__main__":
    main()
