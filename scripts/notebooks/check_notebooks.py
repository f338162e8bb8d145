#!/usr/bin/env python3
"""Checks executed govene notebooks: every code cell ran, no cell has an error
output, and each notebook shows what its tutorial is about: the values it
prints, the effect they show (e.g. P(Paris) above P(Rome) after patching),
and the plots and tables it displays, in forms JupyterLab shows in an
UNTRUSTED notebook (a fresh clone's): each display output is a text/html +
text/plain bundle, the HTML holds no <svg>, <style> or <script> (the
sanitiser drops those and leaves their text, e.g. an SVG's numbers), plots
are <img> of SVG data: URIs, and no output holds an absolute path of the
machine that ran it (/root/..., /home/NAME/..., /work/..., the repository's
folder or $HOME).

    check_notebooks.py NOTEBOOK.ipynb...
    check_notebooks.py --scrub-paths REPO_ROOT NOTEBOOK.ipynb...

--scrub-paths rewrites the notebooks' outputs in place first: REPO_ROOT
becomes ".." (the path from notebooks/, where the kernels run) and $HOME
becomes "~". Exits 1 if any check fails. Uses the standard library only.
The order of a cell's stdout and display outputs is not stable under GoNB,
so the checks look at a notebook's outputs as a whole, never at their order.
"""

import base64
import json
import os
import re
import sys

# Per notebook (by its file name's prefix): strings its text outputs (stdout
# and text/plain) must contain; regular expressions that some <img> output's
# SVG must match ("img") and that some <table> output must match ("table").
EXPECT = {
    "01_patching": {
        "text": ["P(Paris)", "P(Rome)", "before:", "after:"],
        "table": [r"<table[^>]*>.*Paris", r"<table[^>]*>.*Rome"],
        "img": [],
    },
    "02_tracing": {
        "text": ["P(\" Seattle\")", "restoring layer"],
        "table": [],
        "img": [r"restoring block_output.*>layer<.*corrupted", r"restoring mlp_output", r"restoring attention_output"],
    },
    "03_das": {
        "text": ["IIA", "trainable parameters", "WᵀW - I"],
        "table": [],
        "img": [r"DAS training.*loss"],
    },
    "04_positions": {
        "text": ["P(Bob)", "P(Mary)", "patched at positions"],
        "table": [r"<table[^>]*>.*Bob", r"<table[^>]*>.*several positions"],
        "img": [],
    },
    "05_collect": {
        "text": ["block_output", "attention_output", "|x| ="],
        "table": [],
        "img": [],
    },
    "06_steering": {
        "text": ["steered", "unsteered", "happy - sad"],
        "table": [r"<table[^>]*>.*unsteered.*steered"],
        "img": [],
    },
    "07_ioi": {
        "text": ["mean logit difference", "at the last position:", "direct logit attribution:",
                 "attribution patching:", "path patching into", "logit lens final_post"],
        "table": [r"<table[^>]*>.*logit\(IO\) - logit\(S\).*corrupted"],
        "img": [r"heads patched clean -&gt; corrupted, every position", r"heads at the last position",
                r"direct logit attribution", r"attribution vs exact patching", r"path patching -&gt; queries, keys and values", r"logit lens:"],
    },
    "08_sae": {
        "text": ["trained a TopK SAE", "explained variance", "happy feature", "sad feature", " felt happy[", "unsteered"],
        "table": [r"<table[^>]*>.*explained variance", r"<table[^>]*>.*top-activating tokens", r"<table[^>]*>.*unsteered.*happy feature.*sad feature"],
        "img": [],
    },
}

# The MIME types a display output may have: what JupyterLab renders in an
# untrusted notebook (not image/svg+xml, which it refuses untrusted, nor
# JavaScript).
DISPLAY_MIME = {"text/html", "text/plain"}
# Elements JupyterLab's sanitiser drops from untrusted HTML.
UNSAFE_HTML = re.compile(r"<(svg|style|script|iframe|object|embed)\b", re.I)
IMG_SRC = re.compile(r"<img\b[^>]*?\ssrc=\"([^\"]*)\"", re.I)
DATA_URI = re.compile(r"data:image/(svg\+xml|png);base64,([A-Za-z0-9+/=]+)$")
# Absolute paths of a particular machine or user.
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(root|work|home/[^/\s\"']+|Users/[^/\s\"']+)(?=[/\s\"'.,:;)\]]|$)")


def machine_paths(text):
    """Returns the absolute machine paths in text (see MACHINE_PATH), plus
    any occurrence of $HOME."""
    found = [m.group(0) for m in MACHINE_PATH.finditer(text)]
    home = os.path.expanduser("~")
    if home not in ("", "/") and re.search(re.escape(home) + r"(?![\w.-])", text):
        found.append(home)
    return found


def scrub(text, root):
    """text with the repository root as ".." and $HOME as "~"."""
    end = r"(?![\w.-])"
    if root and root != "/":
        text = re.sub(re.escape(root.rstrip("/")) + end, "..", text)
    home = os.path.expanduser("~")
    if home not in ("", "/"):
        text = re.sub(re.escape(home) + end, "~", text)
    return text


def scrub_notebook(path, root):
    """Rewrites the outputs of the notebook at path with scrub; returns how
    many strings changed."""
    nb = json.load(open(path, encoding="utf-8"))
    changed = 0

    def fix(v):
        nonlocal changed
        if isinstance(v, str):
            w = scrub(v, root)
            changed += w != v
            return w
        if isinstance(v, list):
            return [fix(x) for x in v]
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        return v

    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = fix(cell.get("outputs", []))
    if changed:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(nb, f, indent=1, ensure_ascii=False)
            f.write("\n")
    return changed


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
    # A govene.Tensor's shape prints as [1 10 128]; GoMLX's as (Float32)[1, 10, 128].
    return _want(re.search(r"\[1,? \d+,? \d+\]", t) is not None, "no [1, tokens, width] tensor shape")


def sense_ioi(t):
    ld = _floats(r"mean logit difference: clean (-?[\d.]+), corrupted (-?[\d.]+)", t)
    last = re.search(r"at the last position: (L\d+H\d+) restores the most, (-?[\d.]+)", t)
    dla = re.search(r"direct logit attribution: (L\d+H\d+) writes the most, ([+-][\d.]+)", t)
    att = _floats(r"attends from the last token to position (\d+) .* the repeated subject is at (-?\d+)", t)
    path = _floats(r"path patching into L\d+H\d+: L\d+H\d+ matters most, (-?[\d.]+)", t)
    every = re.search(r"patching heads at every position: (L\d+H\d+) restores the most", t)
    attrib = re.search(r"attribution patching: (L\d+H\d+) has the largest estimate, .* r = (-?[\d.]+|NaN)", t)
    lens = _floats(r"logit lens final_post\s+P\(\"[^\"]*\"\) = ([\d.]+)", t)
    if None in (ld, last, every, dla, att, attrib, lens):
        return ["no mean logit difference, last-position head, DLA head, attention, attribution or logit lens line"]
    p = []
    p += _want(ld[0] > 0 and ld[0] > ld[1], f"the clean logit difference {ld[0]} is not positive and above the corrupted {ld[1]}")
    p += _want(float(last.group(2)) > 0.5, f"the top head at the last position restores only {last.group(2)} of the logit difference")
    p += _want(dla.group(1) == last.group(1) and float(dla.group(2)) > 0,
               f"the top DLA head {dla.group(1)} ({dla.group(2)}) is not the top patching head {last.group(1)}")
    # Attribution patching estimates exact patching of whole heads: the
    # head it ranks first is the top patching head, and the two agree.
    p += _want(attrib.group(1) == every.group(1), f"attribution patching's top head {attrib.group(1)} is not the top patching head {every.group(1)}")
    p += _want(attrib.group(2) != "NaN" and float(attrib.group(2)) > 0.5,
               f"attribution and exact patching of heads correlate only r = {attrib.group(2)}")
    p += _want(att[0] == att[1], f"the top head attends to position {att[0]:.0f}, not to the repeated subject at {att[1]:.0f}")
    # The top DLA head is in a later layer on the shipped model, so path
    # patching has senders; a corrupted sender lowers the logit difference.
    p += _want(path is not None and path[0] < 0, f"path patching: the top sender's effect {path} is not negative")
    p += _want(lens[0] > 0.5, f"the logit lens' final residual gives the answer P = {lens[0]} (want > 0.5)")
    return p


def sense_sae(t):
    ev = _floats(r"explained variance ([\d.]+), L0", t)
    margins = re.findall(r"(happy|sad) feature \d+: mean activation .*? margin ([+-][\d.]+)", t)
    score = {k: float(v) for k, v in re.findall(r"^(unsteered|happy|sad)\b.*mean score ([+-][\d.]+)\s*$", t, re.M)}
    if ev is None or len(margins) != 2 or len(score) != 3:
        return ["no explained variance, two feature margins and three steering scores"]
    return (_want(ev[0] > 0.9, f"the SAE explains only {ev[0]} of the variance")
            + [f"the {k} feature does not tell every {k} sentence apart: margin {v}" for k, v in margins if float(v) <= 0]
            + _want(score["happy"] > score["unsteered"] > score["sad"],
                    f"steering did not move the mood score: unsteered {score['unsteered']}, happy {score['happy']}, sad {score['sad']}"))


# Per notebook: does what it printed make sense (the effect its tutorial is about)?
SENSE = {
    "01_patching": sense_patching,
    "02_tracing": sense_tracing,
    "03_das": sense_das,
    "04_positions": sense_positions,
    "05_collect": sense_collect,
    "07_ioi": sense_ioi,
    "08_sae": sense_sae,
}


def text_of(v):
    return "".join(v) if isinstance(v, list) else (v or "")


def image_svgs(html, problems, where):
    """Returns the decoded SVG documents of the <img> data: URIs in html,
    adding a problem for an image that is not one."""
    out = []
    for src in IMG_SRC.findall(html):
        m = DATA_URI.match(src)
        if not m:
            problems.append(f"{where}: <img> src is not an SVG or PNG data: URI: {src[:80]!r}")
            continue
        try:
            data = base64.b64decode(m.group(2), validate=True)
        except ValueError as e:
            problems.append(f"{where}: <img> data: URI does not decode: {e}")
            continue
        if m.group(1) == "svg+xml":
            doc = data.decode("utf-8", "replace")
            if "<svg" not in doc:
                problems.append(f"{where}: <img> SVG holds no <svg>")
            out.append(doc)
    return out


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
    texts, tables, svgs = [], [], []
    code_cells = 0
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        code_cells += 1
        if cell.get("execution_count") is None:
            problems.append(f"cell {i} was not executed")
        for k, out in enumerate(cell.get("outputs", [])):
            where = f"cell {i} output {k}"
            for p in sorted(set(machine_paths(json.dumps(out, ensure_ascii=False)))):
                problems.append(f"{where}: holds the machine path {p!r} (run.sh scrubs them; see --scrub-paths)")
            kind = out.get("output_type")
            if kind == "error":
                problems.append(f"{where}: error output {out.get('ename')}: {out.get('evalue')}"[:500])
            elif kind == "stream":
                t = text_of(out.get("text"))
                if out.get("name") == "stdout":
                    texts.append(t)
                elif re.search(r"^panic: |^exit status [1-9]|\[\[ Cell \[\d+\] Line", t, re.M):
                    problems.append(f"{where}: stderr shows a failure: {t.strip()[:300]}")
            elif kind in ("display_data", "execute_result", "update_display_data"):
                data = out.get("data", {})
                mimes = set(data)
                if mimes != DISPLAY_MIME:
                    problems.append(f"{where}: MIME types {sorted(mimes)}, want {sorted(DISPLAY_MIME)} "
                                    "(an untrusted JupyterLab shows text/html, not image/svg+xml or scripts)")
                if "text/html" in data:
                    h = text_of(data["text/html"])
                    m = UNSAFE_HTML.search(h)
                    if m:
                        problems.append(f"{where}: text/html holds <{m.group(1)}>, which an untrusted "
                                        "JupyterLab drops (showing its text instead): plots must be <img>")
                    imgs = image_svgs(h, problems, where)
                    svgs += imgs
                    if "<table" in h:
                        tables.append(h)
                    elif not imgs and not m and 'class="govene-view' not in h:
                        problems.append(f"{where}: text/html shows neither a table nor an image")
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
    for pat in EXPECT[key]["table"]:
        rx = re.compile(pat, re.S)
        if not any(rx.search(h) for h in tables):
            problems.append(f"no HTML table output matches {pat!r}")
    for pat in EXPECT[key]["img"]:
        rx = re.compile(pat, re.S)
        if not any(rx.search(s) for s in svgs):
            problems.append(f"no <img> output's SVG matches {pat!r}")
    return problems


def main(args):
    paths = args
    if args[:1] == ["--scrub-paths"]:
        if len(args) < 3:
            print(__doc__.strip(), file=sys.stderr)
            return 2
        root, paths = os.path.realpath(args[1]), args[2:]
        for p in paths:
            n = scrub_notebook(p, root)
            print(f"scrubbed {n} output string(s) of {os.path.basename(p)}")
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
