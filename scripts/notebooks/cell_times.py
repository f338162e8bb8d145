#!/usr/bin/env python3
"""Per-cell wall times of a notebook: runs its code cells in order in a fresh
GoNB kernel and prints a table of each cell's number, first line and time
(from sending the cell until the kernel is idle again). With --runs N the
notebook runs N times: by default in the SAME kernel, so that later runs show
warm cells (with a session, a rerun compiles nothing); with --kernel-restart
each run gets a fresh kernel. A benchmark, not a test: it fails only when a
cell fails.

    bash scripts/notebooks/cell_times.sh notebooks/01_patching.ipynb [--runs 2] [--kernel-restart] [--json out.json]
"""
import argparse
import json
import sys
from pathlib import Path

from nbkernel import code_cells, first_line, run_cell, start_kernel, stop_kernel


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebook", nargs="?", default="notebooks/01_patching.ipynb")
    ap.add_argument("--runs", type=int, default=1, help="runs over the notebook (default 1)")
    ap.add_argument("--kernel-restart", action="store_true", help="a fresh kernel for every run (default: one kernel for all runs)")
    ap.add_argument("--json", metavar="FILE", help="also write the times to FILE as JSON")
    ap.add_argument("-v", "--verbose", action="store_true", help="also print each cell's output (first 200 characters) to stderr")
    ap.add_argument("--timeout", type=float, default=900, help="seconds a cell may take (default 900)")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error(f"--runs {args.runs}: give at least 1")
    nb_path = Path(args.notebook).resolve()
    cells = code_cells(nb_path)
    runs, starts = [], []  # runs[r][i]: cell i's seconds in run r (None: not run)
    km = kc = None
    failed = ""
    try:
        for r in range(args.runs):
            if kc is None or args.kernel_restart:
                if kc is not None:
                    stop_kernel(km, kc)
                km, kc, started = start_kernel(nb_path)
                starts.append(round(started, 3))
                print(f"run {r + 1}: kernel started in {started:.2f} s", file=sys.stderr)
            times = [None] * len(cells)
            for i, src in enumerate(cells):
                res = run_cell(kc, src, timeout=args.timeout)
                times[i] = round(res.done, 3)
                print(f"run {r + 1} cell {i:2d}: {res.done:7.2f} s  {first_line(src)}", file=sys.stderr)
                if args.verbose:
                    print("    " + "".join(res.texts)[:200].replace("\n", "\n    "), file=sys.stderr)
                if res.error:
                    failed = f"run {r + 1}, cell {i} failed: {res.error}"
                    break
            runs.append(times)
            if failed:
                break
    finally:
        if kc is not None:
            stop_kernel(km, kc)
    heads = "  ".join(f"{'run ' + str(r + 1):>8}" for r in range(len(runs)))
    print(f"{nb_path.name}: seconds per cell ({'fresh kernel per run' if args.kernel_restart else 'one kernel'}; kernel start {', '.join(f'{s:.2f}' for s in starts)} s)")
    print(f"{'cell':>4}  {heads}  first line")
    for i, src in enumerate(cells):
        cols = "  ".join(f"{t:8.2f}" if t is not None else f"{'-':>8}" for t in (run[i] for run in runs))
        print(f"{i:4d}  {cols}  {first_line(src)}")
    totals = "  ".join(f"{sum(t for t in run if t is not None):8.2f}" for run in runs)
    print(f"{'all':>4}  {totals}")
    if args.json:
        out = {
            "notebook": str(nb_path),
            "kernel_restart": args.kernel_restart,
            "kernel_start_seconds": starts,
            "cells": [{"cell": i, "first_line": first_line(src, 200), "seconds": [run[i] for run in runs]} for i, src in enumerate(cells)],
        }
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    if failed:
        raise SystemExit(failed)


if __name__ == "__main__":
    main()
