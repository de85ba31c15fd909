"""Benchmark: `briefing build` against the naive pipeline a user would script, in one run.

The naive pipeline is a shell loop over the section notebooks (in dependency order, so key points
finds the figures it reads): the `papermill` CLI, then `jupyter nbconvert --to html --no-input`,
then the `weasyprint` CLI, one process per notebook per step (the baseline of every earlier
measurement, so ratios stay comparable; WeasyPrint is installed for the benchmark only, by
`make bench`). It has no cache, so every scenario
costs it a full run; each round times it once and compares every scenario of `briefing build`
against that run.

Scenarios for `briefing build`, each round in this order on a scratch copy of the project:
  cold        empty section cache, nothing published
  no-op       rebuild with nothing changed
  markdown    one markdown cell of one section edited
  data        one data file rewritten (same table, new bytes): only the sections that read it rerun

Rounds alternate naive and ours. Medians are printed with ratios (ours / naive) and the targets
of the issue; peak memory is the largest total RSS of each process tree, sampled every 50 ms.
The PDF step is read from the cold build's log ("printed briefing.pdf ... in N s").

    python bench/compare.py [--rounds 3] [--markdown]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
AS_OF = "2026-11-27"
TARGETS = {"cold": ("ratio", 0.10), "no-op": ("seconds", 0.5), "markdown": ("ratio", 0.05),
           "pdf step": ("seconds", 2.0)}
PEAK_MIB_TARGET = 620
_PDF_STEP = re.compile(r"printed briefing\.pdf \(\d+ pages[^)]*\) in ([\d.]+) s")


class PeakRSS:
    """Largest total resident memory of a process and its descendants while it runs."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                root = psutil.Process(self.pid)
                procs = [root, *root.children(recursive=True)]
                total = 0
                for proc in procs:
                    try:
                        total += proc.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            self._stop.wait(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def timed(command: list[str], cwd: Path, env: dict) -> tuple[float, int, str]:
    """Wall time, peak memory of the process tree, and standard output of one command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    memory = PeakRSS(process.pid)
    out, err = process.communicate()
    seconds, peak = time.perf_counter() - start, memory.stop()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])}... failed ({process.returncode}):\n{err[-2000:]}")
    return seconds, peak, out


def section_order(project: Path) -> list[Path]:
    sys.path.insert(0, str(PROJECT / "src"))
    os.environ["BRIEFING_PROJECT_DIR"] = str(project)
    from report_helpers.sections import discover, execution_waves

    return [s.path for wave in execution_waves(discover(project / "notebooks")) for s in wave]


def naive_script(project: Path, out: Path) -> str:
    lines = ["set -euo pipefail", f'export BRIEFING_PROJECT_DIR="{project}"',
             f'export BRIEFING_RESULTS_DIR="{out}/results"', f'mkdir -p "{out}/results"']
    for notebook in section_order(project):
        stem = notebook.stem
        lines += [
            f'"{BIN}/papermill" --no-progress-bar -p as_of {AS_OF} "{notebook}" "{out}/{stem}.ipynb"',
            f'"{BIN}/jupyter-nbconvert" --to html --no-input --log-level=ERROR "{out}/{stem}.ipynb"',
            f'"{BIN}/weasyprint" "{out}/{stem}.html" "{out}/{stem}.pdf"',
        ]
    return "\n".join(lines)


def edit_markdown(project: Path) -> None:
    path = project / "notebooks" / "20_what_putin_wants.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "markdown" and len(c["source"]) > 2)
    cell["source"].append(f"\n\nEdited at {time.time():.0f}.")
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def edit_data(project: Path, name: str = "russia_azerbaijan.csv") -> None:
    path = project / "data" / name
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    with path.open("w", newline="", encoding="utf-8") as handle:  # same table, new bytes
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)


def fresh_project(root: Path) -> Path:
    project = root / "project"
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(PROJECT / "data", project / "data")
    shutil.copy(PROJECT / "briefing.toml", project / "briefing.toml")
    shutil.copytree(PROJECT / "notebooks", project / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return project


def one_round(root: Path) -> dict[str, tuple[float, int, str]]:
    project = fresh_project(root)
    env = {**os.environ, "BRIEFING_PROJECT_DIR": str(project)}
    results: dict[str, tuple[float, int, str]] = {}
    naive_out = root / "naive"
    shutil.rmtree(naive_out, ignore_errors=True)
    naive_out.mkdir()
    results["naive"] = timed(["bash", "-c", naive_script(project, naive_out)], root, env)

    reports = root / "reports"
    shutil.rmtree(reports, ignore_errors=True)
    ours = [str(BIN / "briefing"), "build", "--as-of", AS_OF, "--reports-dir", str(reports), "--quiet"]
    results["cold"] = timed(ours, root, env)
    log = next(reports.glob("*_full/build.log")).read_text(encoding="utf-8")
    results["pdf step"] = (float(_PDF_STEP.findall(log)[-1]), 0, "")
    results["no-op"] = timed(ours, root, env)
    edit_markdown(project)
    results["markdown"] = timed(ours, root, env)
    edit_data(project)
    results["data"] = timed(ours + ["--explain"], root, env)
    ran = sum(1 for line in results["data"][2].splitlines() if ": ran:" in line)
    results["data-ran"] = (float(ran), 0, "")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args()
    rounds = []
    with tempfile.TemporaryDirectory(prefix="briefing-bench-") as tmp:
        for number in range(1, args.rounds + 1):
            print(f"round {number}/{args.rounds} ...", file=sys.stderr, flush=True)
            rounds.append(one_round(Path(tmp)))
    median = {key: statistics.median(r[key][0] for r in rounds) for key in rounds[0]}
    peak = {key: max(r[key][1] for r in rounds) for key in rounds[0]}
    sections = len(list((PROJECT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    machine = (f"{platform.node()}: {os.cpu_count()} cores, "
               f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}")
    rows = [("scenario", "naive (s)", "briefing build (s)", "ratio", "target", "met")]
    for scenario in ("cold", "no-op", "markdown", "data", "pdf step"):
        ratio = median[scenario] / median["naive"]
        kind, limit = TARGETS.get(scenario, (None, None))
        if kind == "ratio":
            target, met = f"ratio <= {limit}", ratio <= limit
        elif kind == "seconds":
            target, met = f"<= {limit:g} s", median[scenario] <= limit
        else:
            target = "reruns only sections reading the file"
            met = median["data-ran"] < sections
        rows.append((scenario, f"{median['naive']:.1f}", f"{median[scenario]:.2f}", f"{ratio:.3f}", target,
                     "yes" if met else "NO"))
    rows.append(("peak memory (MiB)", f"{peak['naive'] / 2**20:.0f}", f"{peak['cold'] / 2**20:.0f}",
                 f"{peak['cold'] / peak['naive']:.2f}", f"<= {PEAK_MIB_TARGET} MiB",
                 "yes" if peak["cold"] / 2**20 <= PEAK_MIB_TARGET else "NO"))
    print(f"\n{machine}; {args.rounds} rounds, medians; {sections} sections; data edit reran "
          f"{median['data-ran']:.0f} of {sections} sections\n")
    if args.markdown:
        print("| " + " | ".join(rows[0]) + " |")
        print("|" + "---|" * len(rows[0]))
        for row in rows[1:]:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)))


if __name__ == "__main__":
    main()
