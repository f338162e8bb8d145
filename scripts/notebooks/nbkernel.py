"""Running a notebook's code cells in a GoNB kernel, as a user would, and
timing them: shared by first_result.py and cell_times.py.

    km, kc, seconds = start_kernel(nb_path)
    r = run_cell(kc, source)   # CellRun: first_out, done (seconds), texts, error
    stop_kernel(km, kc)
"""
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.manager import start_new_kernel


def code_cells(nb_path):
    """The sources of a notebook's code cells, in order."""
    cells = json.loads(Path(nb_path).read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def first_line(src, width=50):
    """A cell's first non-empty line, cut to width characters."""
    lines = src.strip().splitlines()
    return lines[0][:width] if lines else ""


def text_of(msg):
    """The text a kernel message shows: a stream's text, a display's data,
    or "ERROR name: value" for an error; "" for anything else."""
    c = msg["content"]
    if msg["msg_type"] == "stream":
        return c.get("text", "")
    if msg["msg_type"] in ("display_data", "execute_result", "update_display_data"):
        return " ".join(str(v) for v in c.get("data", {}).values())
    if msg["msg_type"] == "error":
        return "ERROR " + c.get("ename", "") + ": " + c.get("evalue", "")
    return ""


def start_kernel(nb_path, startup_timeout=120):
    """Starts a fresh GoNB kernel in the notebook's folder (so that
    ${GONB_DIR} is that folder); returns the manager, the client and the
    seconds it took."""
    t0 = time.monotonic()
    km, kc = start_new_kernel(kernel_name="gonb", cwd=str(Path(nb_path).resolve().parent), startup_timeout=startup_timeout)
    return km, kc, time.monotonic() - t0


def stop_kernel(km, kc):
    """Stops the kernel now."""
    kc.stop_channels()
    km.shutdown_kernel(now=True)


@dataclass
class CellRun:
    """One cell's run: seconds to its first output (None without output)
    and until the kernel was idle again, its outputs' texts, and the first
    error text ("" when it ran cleanly)."""
    first_out: float | None = None
    done: float = 0.0
    texts: list = field(default_factory=list)
    error: str = ""


def run_cell(kc, src, timeout=900):
    """Runs src in the kernel and waits until the kernel is idle again."""
    r = CellRun()
    t = time.monotonic()
    msg_id = kc.execute(src)
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        txt = text_of(msg)
        if txt:
            if r.first_out is None:
                r.first_out = time.monotonic() - t
            r.texts.append(txt)
            if txt.startswith("ERROR") and not r.error:
                r.error = txt
    r.done = time.monotonic() - t
    return r
