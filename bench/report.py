#!/usr/bin/env python3
"""Merge pyvene_bench.py's, govene-bench's and tl_attrib_bench.py's JSON into tables
(stdout) and bench/results-<date>-<host>[-quick][-<device>].json.

    python bench/report.py PYVENE.json GOVENE.json [--tl TL.json] [--out-dir bench]

Any file may be missing or empty (a side that failed): its columns show "-".
Ratios are pyvene / govene (TransformerLens / govene in the second table): above 1
means govene is faster.
Standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import socket
import sys
from pathlib import Path

# (row label, pyvene workload, govene workload)
ROWS = [
    ("a  forward 1x16, Vanilla L6", "forward", "forward"),
    ("b  trace, per setting", "trace", "trace"),
    ("b  trace, pyvene batched per layer", "trace_batched", "trace"),
    ("b  trace, new 12-token prompt", "trace_newlen", "trace_newlen"),
    ("c  heads h.pos, per setting", "heads", "heads"),
    ("c  heads, pyvene batched per layer", "heads_batched", "heads"),
    ("c  heads, new 12-token prompts", "heads_newlen", "heads_newlen"),
    ("d  DAS step r=64, 8x16", "das_step", "das_step"),
    ("e  generate 32, steering", "generate", "generate"),
    ("f  Llama: forward 1x16, Vanilla L6", "forward_llama", "forward_llama"),
    ("f  Llama: generate 32, steering", "generate_llama", "generate_llama"),
]

# (row label, TransformerLens workload = govene workload), against TransformerLens 4.3.0;
# the label gets the number of cells (and the quick reduction) appended.
TL_ROWS = [
    ("g  attribution patching, every site", "attrib"),
    ("g  exact patching", "attrib_exact"),
]
TL_TOL = 1e-3


def load(path):
    try:
        text = Path(path).read_text()
        return json.loads(text) if text.strip() else {}
    except (OSError, json.JSONDecodeError) as e:
        print(f"report: cannot read {path}: {e}", file=sys.stderr)
        return {}


def fmt_ms(v):
    if v is None:
        return "-"
    if v >= 10_000:
        return f"{v / 1000:.1f} s"
    if v >= 1000:
        return f"{v / 1000:.2f} s"
    if v >= 10:
        return f"{v:.0f} ms"
    return f"{v:.2f} ms"


def fmt_ratio(a, b):
    if a is None or b is None or b <= 0:
        return "-"
    r = a / b
    return f"{r:.2f}x" if r < 10 else f"{r:.0f}x"


def get(side, workload, field):
    w = side.get("workloads", {}).get(workload)
    return None if w is None else w.get(field)


def checks(py, go):
    """Cross-checks of results both sides can compute identically."""
    out = []
    pc, gc = py.get("checks", {}), go.get("checks", {})
    for w in ("forward", "forward_llama"):
        if w in pc and w in gc:
            same = pc[w]["argmax"] == gc[w]["argmax"]
            d = abs(pc[w]["max_logit"] - gc[w]["max_logit"])
            out.append((f"{w}: same next-token argmax, |max logit diff|", f"{same}, {d:.2e}", same and d < 1e-3))
            na, nb = pc[w].get("logit_norm"), gc[w].get("logit_norm")
            if na is not None and nb is not None:  # results before the norm was recorded have none
                rel = abs(na - nb) / max(abs(na), 1e-30)
                out.append((f"{w}: next-token logits' L2 norm, rel. diff", f"{na:.6g} vs {nb:.6g}, {rel:.1e}", rel < 1e-3))
    # Sweep grids: the heads sweeps are the same computation on both sides (the
    # trace's noise is drawn differently, so only pyvene's two variants compare).
    pairs = [(f"{w}: govene == pyvene", pc.get(w), gc.get(w)) for w in ("heads", "heads_newlen")]
    pairs += [(f"pyvene {w}_batched == per setting", pc.get(w), pc.get(w + "_batched")) for w in ("trace", "heads")]
    for what, a, b in pairs:
        if not a or not b:
            continue
        ca, cb = a.get("cells", {}), b.get("cells", {})
        common = sorted(set(ca) & set(cb))
        if not common:
            out.append((what, "no common cells", False))
            continue
        scale = max(max(abs(ca[k]) for k in common), 1e-30)
        rel = max(abs(ca[k] - cb[k]) for k in common) / scale
        same = max(common, key=ca.get) == max(common, key=cb.get)
        out.append((what, f"{len(common)} cells, max rel. diff {rel:.1e}, same argmax cell {same}", same and rel < 1e-3))
    for w in ("generate", "generate_llama"):
        if w in pc and w in gc:
            a, b = pc[w]["tokens"], gc[w]["tokens"]
            n = sum(x == y for x, y in zip(a, b))
            out.append((f"{w}: identical tokens", f"{n}/{max(len(a), len(b))}", a == b))
    return out


def tl_checks(tl, go):
    """govene's attribution and exact patching cells against TransformerLens' (same
    checkpoint, same ids): max |diff| relative to TransformerLens' largest |value|,
    Pearson correlation, same largest cell."""
    out = []
    tc, gc = tl.get("checks", {}), go.get("checks", {})
    for w, what in (("attrib", "attribution"), ("attrib_exact", "exact patching")):
        if w not in tc or w not in gc:
            continue
        ca, cb = tc[w].get("cells", {}), gc[w].get("cells", {})
        common = sorted(set(ca) & set(cb))
        name = f"{w}: govene {what} == TransformerLens"
        if not common:
            out.append((name, "no common cells", False))
            continue
        a, b = [ca[k] for k in common], [cb[k] for k in common]
        rel = max(abs(x - y) for x, y in zip(a, b)) / max(max(abs(x) for x in a), 1e-30)
        corr = pearson(a, b)
        same = max(common, key=lambda k: abs(ca[k])) == max(common, key=lambda k: abs(cb[k]))
        missing = len(set(ca) ^ set(cb))
        out.append((name, f"{len(common)} cells{f' ({missing} on one side only)' if missing else ''}, "
                    f"max rel. diff {rel:.1e}, correlation {corr:.6f}, same largest |cell| {same}",
                    rel < TL_TOL and same and not missing))
        for m in ("clean", "corrupt"):
            x, y = tc[w].get(m), gc[w].get(m)
            if x is not None and y is not None:
                d = abs(x - y) / max(abs(x), 1e-30)
                out.append((f"{w}: {m} metric, rel. diff", f"{x:.6g} vs {y:.6g}, {d:.1e}", d < TL_TOL))
    return out


def pearson(a, b):
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    sab = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    saa, sbb = sum((x - ma) ** 2 for x in a), sum((y - mb) ** 2 for y in b)
    return sab / (saa * sbb) ** 0.5 if saa > 0 and sbb > 0 else float("nan")


def tl_rows(tl, go):
    """The second table's rows: TransformerLens against govene."""
    rows, mismatched = [], []
    for label, w in TL_ROWS:
        if w not in tl.get("workloads", {}) and w not in go.get("workloads", {}):
            continue
        tf, ts = get(tl, w, "first_ms"), get(tl, w, "steady_ms")
        gf, gs = get(go, w, "first_ms"), get(go, w, "steady_ms")
        nt, ng = get(tl, w, "settings"), get(go, w, "settings")
        label += f", {ng or nt} cells"
        if w == "attrib_exact" and (tl.get("quick") or go.get("quick")):
            label += " (QUICK: block_input L6 only)"
        mark = ""
        if nt and ng and nt != ng:
            mark = "*"
            mismatched.append(f"* {label}: TransformerLens ran {nt} cells, govene {ng}")
        rows.append([label, fmt_ms(tf), fmt_ms(ts), fmt_ms(gf), fmt_ms(gs), fmt_ratio(ts, gs) + mark,
                     fmt_ratio(tf, gf) + mark])
    return rows, mismatched


def render(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)  # noqa: E731
                                       for i, (c, w) in enumerate(zip(r, widths))) + " |"
    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pyvene")
    ap.add_argument("govene")
    ap.add_argument("--tl", default="", help="tl_attrib_bench.py's JSON (TransformerLens' attribution rows)")
    ap.add_argument("--out-dir", default=str(Path(__file__).resolve().parent))
    ap.add_argument("--note", default="", help="free text stored with the results (e.g. machine state)")
    args = ap.parse_args()
    py, go = load(args.pyvene), load(args.govene)
    tl = load(args.tl) if args.tl else {}

    header = ["workload", "pyvene first", "pyvene steady", "govene first", "govene steady",
              "ratio steady", "ratio first"]
    rows, mismatched = [], []
    for label, pw, gw in ROWS:
        if pw not in py.get("workloads", {}) and gw not in go.get("workloads", {}):
            continue
        pf, ps = get(py, pw, "first_ms"), get(py, pw, "steady_ms")
        gf, gs = get(go, gw, "first_ms"), get(go, gw, "steady_ms")
        mark = ""
        np_, ng = get(py, pw, "settings"), get(go, gw, "settings")
        if np_ and ng and np_ != ng:
            mark = "*"
            mismatched.append(f"* {label}: pyvene ran {np_} settings, govene {ng}")
        rows.append([label, fmt_ms(pf), fmt_ms(ps), fmt_ms(gf), fmt_ms(gs), fmt_ratio(ps, gs) + mark,
                     fmt_ratio(pf, gf) + mark])
    rows.append(["load checkpoint", "", fmt_ms(py.get("load_ms")), "", fmt_ms(go.get("load_ms")),
                 fmt_ratio(py.get("load_ms"), go.get("load_ms")), ""])
    if py.get("llama_load_ms") or go.get("llama_load_ms"):
        rows.append(["load Llama checkpoint", "", fmt_ms(py.get("llama_load_ms")), "", fmt_ms(go.get("llama_load_ms")),
                     fmt_ratio(py.get("llama_load_ms"), go.get("llama_load_ms")), ""])
    mem = lambda d: f"{d['peak_rss_mb']:.0f} MiB" if d.get("peak_rss_mb") else "-"  # noqa: E731
    rows.append(["peak RSS (whole process)", "", mem(py), "", mem(go), "", ""])
    if py.get("peak_gpu_mb"):
        rows.append(["peak GPU memory (torch)", "", f"{py['peak_gpu_mb']:.0f} MiB", "", "-", "", ""])

    table = render(header, rows)
    tl_header = ["workload", "TL first", "TL steady", "govene first", "govene steady", "ratio steady", "ratio first"]
    trows, tmismatched = tl_rows(tl, go)
    if trows:
        trows.append(["load checkpoint", "", fmt_ms(tl.get("load_ms")), "", fmt_ms(go.get("load_ms")),
                      fmt_ratio(tl.get("load_ms"), go.get("load_ms")), ""])
        trows.append(["peak RSS (whole process)", "", mem(tl), "", mem(go), "", ""])

    quick = bool(py.get("quick") or go.get("quick") or tl.get("quick"))
    dev = py.get("device", "cpu")
    # With only the attrib* workloads run, the pyvene table has nothing to show.
    show_main = bool(py.get("workloads")) or any(gw in go.get("workloads", {}) for _, _, gw in ROWS) or not trows
    info = [
        f"host {socket.gethostname()}, {os.cpu_count()} cores ({cpu_model()}), load average {fmt_load()}",
    ] + ([] if not show_main else [
        "pyvene: " + ", ".join(f"{k} {v}" for k, v in py.get("versions", {}).items()) + f" on {dev}{' (' + py['gpu'] + ')' if py.get('gpu') else ''}, "
        f"{py.get('threads', '?')} torch threads",
        f"govene: backend {go.get('backend', '?')} ({go.get('device', '?')}), {go.get('go_version', '?')}",
        f"sweep layers: pyvene {py.get('sweep_layers')}, govene {go.get('sweep_layers')}"
        + ("  [QUICK: fewer layers/positions/repetitions; not for comparison]" if quick else ""),
        "first = first call (govene: includes building and compiling graphs; pyvene: warm-up); "
        "steady = median of later calls (sweeps: the second sweep). ratio = pyvene / govene.",
    ]) + ([] if show_main else [
        f"govene: backend {go.get('backend', '?')} ({go.get('device', '?')}), {go.get('go_version', '?')}"
        + ("  [QUICK: fewer cells/repetitions; not for comparison]" if quick else ""),
        "first = first call (govene: includes building and compiling graphs); steady = median of later calls.",
    ])
    if py.get("sweep_layers") and go.get("sweep_layers") and py["sweep_layers"] != go["sweep_layers"]:
        info.append("WARNING: the two sides swept different layers (one ran with --quick, the other not?)")
    if trows:
        info.append("TransformerLens: " + ", ".join(f"{k} {v}" for k, v in tl.get("versions", {}).items())
                    + f", TransformerBridge on cpu, {tl.get('threads', '?')} torch threads; attribution: clean "
                    "run_with_cache + corrupted forward and backward with hooks (its first call is a warm-up); "
                    "exact: transformer_lens.patching, one forward per cell, one call (first = steady); govene's "
                    "exact: package sweep (Attributor.Patch with Exact)")
    info += mismatched + tmismatched
    for side, name in ((py, "pyvene"), (go, "govene"), (tl, "TransformerLens")):
        for w, e in (side.get("errors") or {}).items():
            info.append(f"{name} {w} FAILED: {e}")
    das = go.get("workloads", {}).get("das_step", {}).get("extra")
    if das:
        info.append("govene DAS: a second Train call's first step took "
                    f"{fmt_ms(das.get('second_train_call_first_step_ms'))} (a new trainer compiles again)")
    cks = checks(py, go) + tl_checks(tl, go)

    if show_main:
        print("\n".join(table))
        print()
    if trows:
        print("against TransformerLens " + tl.get("versions", {}).get("transformer_lens", "?")
              + " (same checkpoint, same ids; ratio = TransformerLens / govene):")
        print("\n".join(render(tl_header, trows)))
        print()
    print("\n".join(info))
    if cks:
        print("cross-checks (same checkpoint, same ids):")
        for what, val, ok in cks:
            print(f"  {'ok  ' if ok else 'DIFF'} {what}: {val}")

    now = datetime.datetime.now()
    suffix = ("-quick" if quick else "") + ("" if dev == "cpu" else "-" + dev.split(":")[0])
    out = Path(args.out_dir) / f"results-{now:%Y%m%d-%H%M}-{socket.gethostname()}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "date": now.isoformat(timespec="seconds"), "host": socket.gethostname(), "cores": os.cpu_count(),
        "cpu": cpu_model(), "load_average": os.getloadavg(), "platform": platform.platform(),
        "note": args.note, "table": {"header": header, "rows": rows},
        "table_tl": {"header": tl_header, "rows": trows}, "info": info,
        "checks": [{"what": w, "value": v, "ok": ok} for w, v, ok in cks],
        "pyvene": py, "govene": go, "transformer_lens": tl,
    }, indent=1) + "\n")
    print(f"\nwrote {out}")
    return 0 if all(ok for _, _, ok in cks) else 3


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def fmt_load():
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
