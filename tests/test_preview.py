"""`briefing preview` through a real browser (Debian's Chromium driven by Playwright): an edit shows
in the open page without a manual reload, a failing cell shows in the page, Ctrl-C leaves no process.

One preview process serves a two-section copy of the project for the whole module; the tests run in
order and the last one stops it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import CHROMIUM, CHROMIUM_ARGS, PROJECT, copy_project

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")]
NOTEBOOKS = ("10_why_frenemies.ipynb", "20_what_putin_wants.ipynb")
PUTIN = "20_what_putin_wants.ipynb"


class Served:
    def __init__(self, root: Path, reports: Path, process: subprocess.Popen, url: str, log: Path):
        self.root, self.reports, self.process, self.url, self.log = root, reports, process, url, log

    def state(self) -> dict:
        with urllib.request.urlopen(self.url.replace("/briefing.html", "/_preview/state"), timeout=10) as r:
            return json.load(r)

    def edit(self, name: str, number: int, change) -> None:
        """Rewrite cell `number` (as JupyterLab numbers it) of a notebook, and save it."""
        path = self.root / "notebooks" / name
        nb = json.loads(path.read_text(encoding="utf-8"))
        cell = nb["cells"][number - 1]
        cell["source"] = change("".join(cell["source"]))
        path.write_text(json.dumps(nb, indent=1), encoding="utf-8")

    def number(self, name: str, marker: str) -> int:
        """JupyterLab's number of the one cell of a notebook whose source contains ``marker``."""
        cells = json.loads((self.root / "notebooks" / name).read_text(encoding="utf-8"))["cells"]
        (number,) = [n for n, cell in enumerate(cells, start=1) if marker in "".join(cell["source"])]
        return number

    def restore(self, name: str) -> None:
        shutil.copy(PROJECT / "notebooks" / name, self.root / "notebooks" / name)


def start_preview(root: Path, reports: Path, log: Path, *args: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "BRIEFING_PROJECT_DIR": str(root)}
    process = subprocess.Popen([sys.executable, "-m", "report_helpers", "preview", "--port", "0", "--no-open",
                                "--reports-dir", str(reports), *args], env=env, stdout=subprocess.PIPE,
                               stderr=open(log, "w"), text=True)
    line = process.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+/briefing\.html)", line)
    assert match, (line, log.read_text())
    return process, match.group(1)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("preview")
    root = copy_project(base / "project", NOTEBOOKS)
    reports, log = base / "reports", base / "preview.log"
    process, url = start_preview(root, reports, log)
    served = Served(root, reports, process, url, log)
    deadline = time.monotonic() + 300
    while served.state()["version"] < 1:
        assert time.monotonic() < deadline and process.poll() is None, log.read_text()
        time.sleep(0.5)
    assert served.state()["error"] is None, log.read_text()
    yield served
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def page(served):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.route(re.compile(r"^(?!http://127\.0\.0\.1:)"), lambda route: route.abort())  # nothing else
        page.goto(served.url)
        yield page
        browser.close()


def wait_for_text(page, text: str, timeout: float = 120) -> None:
    page.wait_for_function("t => document.body.textContent.includes(t)", arg=text, timeout=timeout * 1000)


def test_a_markdown_edit_shows_in_the_open_page_at_the_same_place(served, page):
    page.evaluate("document.getElementById('section-what_putin_wants').scrollIntoView()")
    page.evaluate("window.scrollBy(0, 150)")
    place = page.evaluate("window.scrollY")
    assert place > 300
    served.edit(PUTIN, served.number(PUTIN, "## Blame, not rescue"), lambda text: text.replace("## Blame, not rescue", "## Blame, not rescue (marker md-1)"))
    wait_for_text(page, "(marker md-1)")  # no one reloaded the page: it updated itself
    assert abs(page.evaluate("window.scrollY") - place) < 5  # and kept the reader's place
    assert served.state()["timings"][-1]["kind"] == "markdown"  # re-rendered, nothing executed


def test_a_code_edit_runs_only_its_section(served, page):
    before = served.log.read_text()
    served.edit(PUTIN, served.number(PUTIN, "Moscow's priority is to keep"), lambda text: text.replace('"Judgement"', '"Judgement (marker code-1)"'))
    wait_for_text(page, "Judgement (marker code-1)")
    build_log = served.log.read_text()[len(before):]
    assert "preview: ran what_putin_wants" in build_log and "why_frenemies" not in build_log, build_log
    assert "briefing.pdf" not in build_log  # no PDF without --pdf
    last = served.state()["timings"][-1]
    assert last["kind"] == "code" and list(last["ran"]) == ["what_putin_wants"], last  # that section only


def test_a_failing_cell_shows_in_the_page_until_it_is_fixed(served, page):
    failing = served.number(PUTIN, "with_az = both[")
    served.edit(PUTIN, failing, lambda text: "x = 1\nraise ValueError('preview marker failure')\n" + text)
    page.wait_for_selector("#briefing-preview-error", timeout=120_000)
    banner = page.inner_text("#briefing-preview-error")
    assert "what_putin_wants" in banner and f"20_what_putin_wants.ipynb, cell {failing}" in banner, banner
    assert "raise ValueError('preview marker failure')" in banner  # the failing line, not the cell's first
    assert "ValueError: preview marker failure" in banner
    served.restore(PUTIN)
    page.wait_for_function("!document.getElementById('briefing-preview-error')", timeout=120_000)
    wait_for_text(page, "Blame, not rescue")
    assert "(marker md-1)" not in page.text_content("body")


def test_a_second_preview_on_the_same_port_is_refused(served):
    port = served.url.split(":")[2].split("/")[0]
    env = {**os.environ, "BRIEFING_PROJECT_DIR": str(served.root)}
    result = subprocess.run([sys.executable, "-m", "report_helpers", "preview", "--port", port, "--no-open",
                             "--reports-dir", str(served.reports)], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr


def test_ctrl_c_stops_it_with_no_process_left_and_latest_never_moved(served):
    import psutil

    main = psutil.Process(served.process.pid)
    listening = [c for c in main.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert [c.laddr.ip for c in listening] == ["127.0.0.1"]  # this machine only, by default
    family = main.children(recursive=True)
    assert family, "the warm workers should be running"
    served.process.send_signal(signal.SIGINT)
    try:
        code = served.process.wait(timeout=30)
    except subprocess.TimeoutExpired:  # the log holds the stop watchdog's thread dump, if it fired
        pytest.fail(f"preview still running 30 s after Ctrl-C; its log:\n{served.log.read_text()[-6000:]}")
    assert code == 0, served.log.read_text()
    gone, alive = psutil.wait_procs(family, timeout=10)
    assert alive == [], [p.cmdline() for p in alive]
    assert "Preview stopped." in served.process.stdout.read()
    assert not (served.reports / "latest").exists()  # previews never publish beside the editions
    assert sorted(p.name for p in served.reports.iterdir() if not p.name.startswith(".")) == []
    assert any((served.reports / ".preview").iterdir())
