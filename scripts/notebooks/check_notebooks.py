#!/usr/bin/env python3
"""Checks executed govene notebooks: every code cell ran, no cell has an error
output, and each notebook shows what its tutorial is about: the values it
prints, the effect they show (e.g. P(Paris) above P(Rome) after patching),
and the inline HTML/SVG plots it displays.

    check_notebooks.py EXECUTED.ipynb...

Exits 1 if any check fails. Uses the standard library only. The order of a
cell's stdout and display outputs is not stable under GoNB, so the checks look
at a notebook's outputs as a whole, never at their order.
"""

import json
import os
import re
import sys

# Per notebook (by its file name's prefix): strings its text outputs (stdout)
# must contain, and regular expressions its HTML outputs must match.
EXPECT = {
    "01_patching": {
        "text": ["P(Paris)", "P(Rome)", "before:", "after:"],
        "html": [r"<table[^>]*>.*Paris", r"<table[^>]*>.*Rome"],
    },
    "02_tracing": {
        "text": ["P(\" Seattle\")", "restoring layer"],
        "html": [r"<svg[^>]*>.*restoring block_output", r"<svg[^>]*>.*restoring mlp_output",
                 r"<svg[^>]*>.*restoring attention_output"],
    },
    "03_das": {
        "text": ["IIA", "trainable parameters", "WᵀW - I"],
        "html": [r"<svg[^>]*>.*DAS training", r"<svg[^>]*>.*loss"],
    },
    "04_positions": {
        "text": ["P(Bob)", "P(Mary)", "patched at positions"],
        "html": [r"<table[^>]*>.*Bob", r"<table[^>]*>.*several positions"],
    },
    "05_collect": {
        "text": ["(Float32)[", "block_output", "attention_output"],
        "html": [],
    },
    "06_steering": {
        "text": ["steered", "unsteered", "happy - sad"],
        "html": [r"<table[^>]*>.*unsteered.*steered"],
    },
}


def _floats(rx, text):
    m = re.search(rx, text)
    return [float(x) for x in m.groups()] if m else None


def _want(ok, msg):
    return [] if ok else [msg]


def sense_patching(t):
    v = _floats(r"after:\s+P\(Rome\) = ([\d.]+)\s+P\(Paris\) = ([\d.]+)", t)
    if v is None:
        return ["no 'after: P(Rome) = .. P(Paris) = ..' line"]
    return _want(v[1] > v[0], f"after patching, P(Paris) {v[1]} is not above P(Rome) {v[0]}")


def sense_tracing(t):
    v = _floats(r"clean ([\d.]+), subject corrupted ([\d.]+)", t)
    if v is None:
        return ["no 'clean .., subject corrupted ..' line"]
    return _want(v[0] > v[1], f"corrupting the subject did not lower P(target): clean {v[0]}, corrupted {v[1]}")


def sense_das(t):
    a = _floats(r"before training: IIA ([\d.]+)", t)
    b = _floats(r"after \d+ steps \([^)]*\): IIA ([\d.]+)", t)
    if a is None or b is None:
        return ["no IIA before and after training"]
    return _want(b[0] > a[0], f"training did not raise IIA: {a[0]} -> {b[0]}")


def sense_positions(t):
    clean = _floats(r"clean\s+P\(Mary\) ([\d.]+)\s+P\(Bob\) ([\d.]+)", t)
    one = _floats(r"patched at position \d+ .*?P\(Mary\) ([\d.]+)\s+P\(Bob\) ([\d.]+)", t)
    if clean is None or one is None:
        return ["no clean and one-position P(Mary)/P(Bob) lines"]
    return _want(one[1] > clean[1] and one[0] < clean[0],
                 f"patching Mary's position did not move Mary {clean[0]} -> {one[0]} towards Bob {clean[1]} -> {one[1]}")


def sense_collect(t):
    return _want(re.search(r"\(Float32\)\[1, \d+, \d+\]", t) is not None, "no [1, tokens, width] tensor shape")


# Per notebook: does what it printed make sense (the effect its tutorial is about)?
SENSE = {
    "01_patching": sense_patching,
    "02_tracing": sense_tracing,
    "03_das": sense_das,
    "04_positions": sense_positions,
    "05_collect": sense_collect,
}


def text_of(v):
    return "".join(v) if isinstance(v, list) else (v or "")


def check(path):
    """Returns the list of problems found in the executed notebook at path."""
    name = os.path.basename(path)
    try:
        nb = json.load(open(path, encoding="utf-8"))
    except (OSError, ValueError) as e:
        return [f"cannot read: {e}"]
    problems = []
    if nb.get("metadata", {}).get("kernelspec", {}).get("name") != "gonb":
        problems.append("kernelspec is not gonb")
    texts, htmls = [], []
    code_cells = 0
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        code_cells += 1
        if cell.get("execution_count") is None:
            problems.append(f"cell {i} was not executed")
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "error":
                problems.append(f"cell {i}: error output {out.get('ename')}: {out.get('evalue')}"[:500])
            elif kind == "stream":
                t = text_of(out.get("text"))
                if out.get("name") == "stdout":
                    texts.append(t)
                elif re.search(r"^panic: |^exit status [1-9]|\[\[ Cell \[\d+\] Line", t, re.M):
                    problems.append(f"cell {i}: stderr shows a failure: {t.strip()[:300]}")
            elif kind in ("display_data", "execute_result", "update_display_data"):
                data = out.get("data", {})
                if "text/html" in data:
                    htmls.append(text_of(data["text/html"]))
                if "text/plain" in data:
                    texts.append(text_of(data["text/plain"]))
    if code_cells == 0:
        problems.append("no code cells")
    key = next((k for k in EXPECT if name.startswith(k)), None)
    if key is None:
        problems.append("no expectations for this notebook (add them to EXPECT in check_notebooks.py)")
        return problems
    alltext = "\n".join(texts)
    for want in EXPECT[key]["text"]:
        if want not in alltext:
            problems.append(f"no text output contains {want!r}")
    if key in SENSE:
        problems += SENSE[key](alltext)
    for pat in EXPECT[key]["html"]:
        rx = re.compile(pat, re.S)
        if not any(rx.search(h) for h in htmls):
            problems.append(f"no HTML output matches {pat!r}")
    return problems


def main(paths):
    if not paths:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    failed = 0
    for p in paths:
        problems = check(p)
        if problems:
            failed += 1
            print(f"FAIL {os.path.basename(p)}")
            for pr in problems:
                print(f"     - {pr}")
        else:
            print(f"ok   {os.path.basename(p)}")
    print(f"{len(paths) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
