#!/usr/bin/env python3
"""Compiles and vets the Go code of GoNB notebooks without a kernel: each
notebook becomes one Go program (the import blocks merged, every cell's
declarations, and each cell's code after `%%` as a function of its own), in
a temporary folder inside the repository's module, and `go vet` checks it.
A notebook that calls an API that does not exist, or uses a value of the
wrong type, fails here in seconds. It does not run the cells, and it is
stricter than GoNB in one way: imports are not added or removed for you
(GoNB runs goimports), so each notebook must import what it uses.

    python3 scripts/notebooks/vet_notebooks.py [NOTEBOOK.ipynb...]

Without arguments it checks notebooks/*.ipynb. Run it from the repository
root with the Go environment the project uses (GOEXPERIMENT=simd). Exits 1
if any notebook fails. Uses the standard library only.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

IMPORT = re.compile(r"\s*import \((.*?)\)\n", re.S)
MAIN = re.compile(r"^%%[ \t]*$", re.M)


def program(path):
    """Returns the Go program of the notebook at path."""
    imports, decls, bodies = [], [], []
    for c in json.load(open(path))["cells"]:
        src = "".join(c["source"])
        head = src.lstrip()
        if c["cell_type"] != "code" or head.startswith("!") or (head.startswith("%") and not MAIN.match(head)):
            continue  # the setup cell: shell commands and magics
        parts = MAIN.split(src, maxsplit=1)
        d, body = parts[0], parts[1] if len(parts) > 1 else ""
        m = IMPORT.match(d)
        if m:
            imports += [l.strip() for l in m.group(1).splitlines() if l.strip()]
            d = d[m.end():]
        decls.append(d)
        bodies.append(body)
    out = "package main\n\nimport (\n" + "".join(f"\t{i}\n" for i in dict.fromkeys(imports)) + ")\n\n"
    out += "\n".join(decls)
    out += "".join(f"\nfunc cell{i}() {{\n{b}\n}}\n" for i, b in enumerate(bodies))
    return out + "\nfunc main() {\n" + "".join(f"\tcell{i}()\n" for i in range(len(bodies))) + "}\n"


def main(paths):
    paths = paths or sorted(glob.glob("notebooks/*.ipynb"))
    tmp = tempfile.mkdtemp(prefix=".vet_notebooks-", dir=".")
    failed = 0
    try:
        for p in paths:
            d = os.path.join(tmp, re.sub(r"\W", "_", os.path.basename(p).removesuffix(".ipynb")))
            os.makedirs(d)
            with open(os.path.join(d, "main.go"), "w") as f:
                f.write(program(p))
            r = subprocess.run(["go", "vet", "./" + d], capture_output=True, text=True)
            print(f"{p}: {'ok' if r.returncode == 0 else 'FAILED'}")
            if r.returncode != 0:
                failed += 1
                print(r.stdout + r.stderr, file=sys.stderr)
    finally:
        shutil.rmtree(tmp)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
