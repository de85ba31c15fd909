"""Unattended runs under fault: real build processes killed, run twice at once, failing, hanging.

These use a two-section copy of the project (the sections read no other section), so each build
takes seconds; the invariants are the ones a scheduler relies on: exit codes, messages, `latest`
intact and readable, and nothing left locked or half-written.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest


pytestmark = pytest.mark.e2e
AS_OF = "2024-06-30"
EDITION = f"{AS_OF}_full"




def command(reports: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "report_helpers", "build", "--as-of", AS_OF, "--reports-dir", str(reports),
            *args]


def run(reports: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(command(reports, *args), capture_output=True, text=True, timeout=600)


def start(reports: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(command(reports, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def running_section(reports: Path) -> bool:
    return any(reports.glob(".staging-*/logs/*.stderr.log"))


def add_cell(project: Path, notebook: str, source: str) -> None:
    path = project / "notebooks" / notebook
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell(source))
    nbformat.write(nb, path)


def assert_latest_intact(reports: Path, pdf_bytes: bytes) -> None:
    from pypdf import PdfReader

    latest = reports / "latest"
    assert latest.resolve() == (reports / EDITION).resolve()
    assert (latest / "briefing.pdf").read_bytes() == pdf_bytes
    assert len(PdfReader(latest / "briefing.pdf").pages) > 3
    assert json.loads((latest / "manifest.json").read_text())["status"] == "ok"


@pytest.fixture
def published(small_project, tmp_path) -> tuple[Path, bytes]:
    reports = tmp_path / "reports"
    first = run(reports)
    assert first.returncode == 0, first.stderr
    return reports, (reports / "latest" / "briefing.pdf").read_bytes()


def test_up_to_date_edition_is_not_rebuilt(published):
    reports, pdf = published
    again = run(reports)
    assert again.returncode == 0 and "up to date" in again.stderr
    assert_latest_intact(reports, pdf)
    index = (reports / "index.html").read_text()
    assert EDITION in index and "briefing.pdf" in index


def test_killed_build_leaves_latest_intact_and_next_run_succeeds(published):
    reports, pdf = published
    victim = start(reports, "--force")
    wait_for(lambda: running_section(reports))
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert_latest_intact(reports, pdf)
    again = run(reports, "--force", "--lock-wait", "5")
    assert again.returncode == 0, again.stderr
    assert not list(reports.glob(".staging-*")) and not list(reports.glob(".retired-*"))
    assert (reports / "latest" / "briefing.pdf").is_file()


def test_second_build_waits_then_exits_3(published, small_project):
    reports, pdf = published
    # the first build holds the lock well past the second's wait, however fast the machine
    add_cell(small_project, "20_what_putin_wants.ipynb", "import time\ntime.sleep(8)")
    first = start(reports, "--force")
    wait_for(lambda: running_section(reports))
    second = run(reports, "--force", "--lock-wait", "1")
    assert second.returncode == 3
    assert "another build holds" in second.stderr
    assert first.wait(timeout=300) == 0
    assert (reports / "latest").resolve() == (reports / EDITION).resolve()


def test_failing_cell_is_named_and_allow_partial_publishes_a_placeholder(published, small_project):
    reports, pdf = published
    add_cell(small_project, "20_what_putin_wants.ipynb", 'raise ValueError("injected failure")')
    failed = run(reports, "--force")
    assert failed.returncode == 1
    assert "section what_putin_wants failed" in failed.stderr and "ValueError: injected failure" in failed.stderr
    assert_latest_intact(reports, pdf)
    partial = run(reports, "--force", "--allow-partial")
    assert partial.returncode == 1 and "--allow-partial" in partial.stderr
    html = (reports / EDITION / "briefing.html").read_text()
    assert "This section could not be built" in html and "injected failure" in html
    manifest = json.loads((reports / EDITION / "manifest.json").read_text())
    assert manifest["status"] == "partial"
    assert {s["slug"]: s["status"] for s in manifest["sections"]} == {"why_frenemies": "ok",
                                                                       "what_putin_wants": "failed"}


def test_hung_section_is_ended_by_the_section_timeout(published, small_project):
    reports, pdf = published
    add_cell(small_project, "10_why_frenemies.ipynb", "import time\ntime.sleep(600)")
    started = time.monotonic()
    hung = run(reports, "--force", "--section-timeout", "8")
    assert hung.returncode == 1 and "timed out after 8 s" in hung.stderr
    assert time.monotonic() - started < 120
    assert_latest_intact(reports, pdf)


def test_hung_cell_is_ended_by_the_cell_timeout(published, small_project):
    reports, pdf = published
    add_cell(small_project, "10_why_frenemies.ipynb", "import time\ntime.sleep(600)")
    hung = run(reports, "--force", "--cell-timeout", "3")
    assert hung.returncode == 1 and "why_frenemies" in hung.stderr
    assert_latest_intact(reports, pdf)


def test_full_disk_is_reported_and_nothing_is_published(small_project, tmp_path):
    disk = tmp_path / "tiny"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(disk)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here to simulate a full disk")
    try:
        result = run(disk / "reports")
        assert result.returncode == 4, result.stderr
        assert "nothing was published" in result.stderr
        assert not (disk / "reports" / "latest").exists()
        assert not list((disk / "reports").glob(".staging-*"))
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def test_reports_folder_that_cannot_be_created(small_project):
    result = run(Path("/proc/briefing-reports"))
    assert result.returncode == 2 and "cannot create it" in result.stderr


SCRIPT_TITLE = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">Freeze"
NOTE = 'He said "stop" and \'go\'\n__import__("os").system("touch PWNED") """ \\'


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_html_in_data_and_quotes_in_parameters_are_shown_never_run(project_copy, tmp_path):
    events = project_copy / "data" / "events.csv"
    text = events.read_text(encoding="utf-8")
    line = next(l for l in text.splitlines() if l.startswith("armenia-freezes-csto,"))
    fields = line.split(",")
    fields[3] = '"' + SCRIPT_TITLE.replace('"', '""') + '"'
    events.write_text(text.replace(line, ",".join(fields)), encoding="utf-8")
    reports = tmp_path / "reports"
    result = subprocess.run([sys.executable, "-m", "report_helpers", "build", "--reports-dir", str(reports),
                             "-p", f"analyst_note={NOTE}"], capture_output=True, text=True, timeout=900,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "PWNED").exists() and not (project_copy / "notebooks" / "PWNED").exists()
    [variant] = reports.glob("????-??-??_full_*")  # a parameter variant: its own kind and pointer
    assert not (reports / "latest").exists() and (reports / f"latest-{variant.name[11:]}").resolve() == variant.resolve()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=shutil.which("chromium"),
                                       args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page()
        requests = []
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:"))
                   and not r.request.url.endswith("/x") else (requests.append(r.request.url), r.abort()))
        page.goto((variant / "briefing.html").as_uri())
        title = page.title()
        body = page.inner_text("body")
        browser.close()
    assert title != "pwned" and requests == []
    assert SCRIPT_TITLE in body  # shown as text
    assert 'He said "stop" and \'go\'' in body and '__import__("os").system("touch PWNED")' in body


def test_edition_ids_with_path_parts_are_refused():
    from report_helpers.publishing.store import check_edition_id
    from report_helpers.errors import UsageError

    for bad in ("../x", "a/b", "..", "latest", ".hidden", ""):
        with pytest.raises(UsageError):
            check_edition_id(bad)
    assert check_edition_id("2024-06-30_full_1a2b3c4d") == "2024-06-30_full_1a2b3c4d"
