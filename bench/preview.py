"""Benchmark: how soon an edit saved to a notebook shows in the page `briefing preview` serves.

On a scratch copy of the project, it starts `briefing preview --port 0 --no-open`, opens the page in
Debian's Chromium (Playwright, every non-local request blocked), and times, from the moment the
notebook file is saved until the edited text is in the open page (which reloads itself):

  markdown   a heading of one section's markdown edited: target 1.5 s
  code       the label of one section's judgement edited in its code cell (the section runs again):
             target that section's own execution time (from the preview edition's manifest) + 1.5 s

Each is done --rounds times (default 5); medians are printed with the targets, and the figures are
written as JSON with --json FILE. Ctrl-C ends the preview at the end; no process is left.

    python bench/preview.py [--rounds 5] [--section why_frenemies] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TARGET = 1.5


def state(url: str) -> dict:
    with urllib.request.urlopen(url.replace("/briefing.html", "/_preview/state"), timeout=10) as response:
        return json.load(response)


def edit_cell(path: Path, pick, change) -> None:
    """Rewrite the first cell `pick` accepts, and save the notebook (one write, as an editor does)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if pick(c))
    cell["source"] = change("".join(cell["source"]))
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def section_seconds(reports: Path, slug: str) -> float:
    edition = next(p for p in (reports / ".preview").iterdir() if p.is_symlink() and not p.name.startswith("latest"))
    manifest = json.loads((edition / "manifest.json").read_text(encoding="utf-8"))
    return next(s["seconds"] for s in manifest["sections"] if s["slug"] == slug)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--section", default="why_frenemies")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="preview-bench-"))
    project, reports = work / "project", work / "reports"
    shutil.copytree(ROOT / "data", project / "data")
    shutil.copy(ROOT / "briefing.toml", project / "briefing.toml")
    shutil.copytree(ROOT / "notebooks", project / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    notebook = next((project / "notebooks").glob(f"[0-9][0-9]_{args.section}.ipynb"))
    log = open(work / "preview.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "report_helpers", "preview", "--port", "0", "--no-open",
                                "--reports-dir", str(reports)], stdout=subprocess.PIPE, stderr=log, text=True,
                               env={**os.environ, "BRIEFING_PROJECT_DIR": str(project)})
    results: dict = {"machine": f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                     "section": args.section, "rounds": args.rounds, "markdown": [], "code": [],
                     "section_seconds": []}
    try:
        url = re.search(r"http://\S+/briefing\.html", process.stdout.readline()).group(0)
        start = time.perf_counter()
        while state(url)["version"] < 1:
            if process.poll() is not None:
                raise SystemExit(f"the preview stopped; see {work / 'preview.log'}")
            time.sleep(0.2)
        results["first_build_seconds"] = round(time.perf_counter() - start, 2)
        with sync_playwright() as play:
            browser = play.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync"])
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.route(re.compile(r"^(?!http://127\.0\.0\.1:)"), lambda route: route.abort())
            page.goto(url)

            def seen(token: str) -> float:
                page.wait_for_function("t => document.body.textContent.includes(t)", arg=token, timeout=300_000)
                return time.perf_counter()

            for i in range(args.rounds):
                token = f"bench-md-{i}"
                saved = time.perf_counter()
                edit_cell(notebook, lambda c: c["cell_type"] == "markdown" and "\n## " in "\n" + "".join(c["source"]),
                          lambda text, t=token: re.sub(r"^(## [^\n(]*)(?: \(bench-md-\d+\))?", rf"\1 ({t})", text,
                                                       count=1, flags=re.M))
                results["markdown"].append(round(seen(token) - saved, 3))
                time.sleep(1.0)
            for i in range(args.rounds):
                token = f"bench-code-{i}"
                saved = time.perf_counter()
                edit_cell(notebook, lambda c: c["cell_type"] == "code" and "rh.present.judgement(" in "".join(c["source"]),
                          lambda text, t=token: re.sub(r'"Judgement[^"]*"', f'"Judgement {t}"', text, count=1))
                results["code"].append(round(seen(token) - saved, 3))
                last = state(url)["timings"][-1]  # the section's own execution time, as the worker timed it
                results["section_seconds"].append(last["ran"][args.section] if "ran" in last
                                                  else section_seconds(reports, args.section))
                time.sleep(1.0)
            browser.close()
        results["server"] = state(url)["timings"]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            results["stop_exit_code"] = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            results["stop_exit_code"] = "killed after 60 s"
        log.close()
    md = statistics.median(results["markdown"])
    over = [c - s for c, s in zip(results["code"], results["section_seconds"])]
    code, own = statistics.median(results["code"]), statistics.median(results["section_seconds"])
    results["summary"] = {
        "markdown_median_s": md, "markdown_met": md <= TARGET,
        "code_median_s": code, "section_median_s": own, "code_over_section_median_s": round(statistics.median(over), 3),
        "code_met": statistics.median(over) <= TARGET,
    }
    print(f"first build (cold cache, warm workers starting): {results['first_build_seconds']} s")
    print(f"{'edit':<10} {'median save-to-visible (s)':>28} {'target':>22} {'met':>5}")
    print(f"{'markdown':<10} {md:>28.2f} {'<= 1.5 s':>22} {'yes' if md <= TARGET else 'no':>5}")
    print(f"{'code':<10} {code:>28.2f} {f'<= {own:.2f} + 1.5 s':>22} "
          f"{'yes' if results['summary']['code_met'] else 'no':>5}")
    print("rounds:", json.dumps({k: results[k] for k in ("markdown", "code", "section_seconds")}))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
