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
import sys
import time
from pathlib import Path

from nbkernel import code_cells, first_line, run_cell, start_kernel, stop_kernel

MARKERS = ("GPT-2", "P(", "<table", "<svg")


def main():
    nb_path = Path(sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else "notebooks/01_patching.ipynb").resolve()
    cells = code_cells(nb_path)
    t0 = time.monotonic()
    km, kc, started = start_kernel(nb_path)
    print(f"{nb_path.name}: kernel started in {started:.2f} s")
    first = None
    try:
        for i, src in enumerate(cells):
            r = run_cell(kc, src)
            if r.error:
                raise SystemExit(f"cell {i} failed: {r.error}")
            result = any(m in txt for txt in r.texts for m in MARKERS)
            fo = f"{r.first_out:.2f} s" if r.first_out is not None else "-"
            print(f"  cell {i:2d}: first output {fo:>8}, done {r.done:6.2f} s  {first_line(src)}")
            if result and first is None:
                first = (i, r.first_out, time.monotonic() - t0)
                print(f"first result: cell {i}, {r.first_out:.2f} s after it was run; {first[2]:.2f} s after the kernel was asked to start")
                if "--all" not in sys.argv:
                    break
    finally:
        stop_kernel(km, kc)
    if first is None:
        raise SystemExit("no cell showed a result")


if __name__ == "__main__":
    main()
