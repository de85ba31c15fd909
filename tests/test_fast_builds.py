"""The section cache, warm workers and reproducible output, on real builds of a small project."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import PROJECT

pytestmark = pytest.mark.e2e
AS_OF = "2024-06-30"




def build(reports: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "report_helpers", "build", "--as-of", AS_OF,
                             "--reports-dir", str(reports), "--explain", *args],
                            capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stderr
    return result


def explained(result) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)


def test_cache_reuses_what_did_not_change(small_project, tmp_path):
    reports = tmp_path / "reports"
    cold = explained(build(reports))
    assert all(reason.startswith("ran:") for reason in cold.values()), cold

    noop = build(reports)
    assert "up to date" in noop.stdout

    # Narrative only: re-rendered from cached outputs, nothing executed.
    path = small_project / "notebooks" / "20_what_putin_wants.ipynb"
    nb = nbformat.read(path, as_version=4)
    markdown = next(c for c in nb.cells if c.cell_type == "markdown" and "Blame, not rescue" in c.source)
    markdown.source += "\n\nAn analyst's added sentence."
    nbformat.write(nb, path)
    edited = explained(build(reports))
    assert edited["what_putin_wants"].startswith("reused") and "markdown re-rendered" in edited["what_putin_wants"]
    assert edited["why_frenemies"].startswith("reused")
    assert "An analyst's added sentence." in (reports / "latest" / "briefing.html").read_text()

    # A data file that only one section reads: only that section runs again.
    edition = reports / f"{AS_OF}_full" / "results"
    reads = {slug: set(json.loads((edition / f"{slug}.reads.json").read_text()))
             for slug in ("why_frenemies", "what_putin_wants")}
    only = sorted(reads["why_frenemies"] - reads["what_putin_wants"])
    assert only, reads
    data_file = small_project / "data" / only[0]
    with data_file.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    with data_file.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows(rows)  # same table, different bytes
    after_data = explained(build(reports))
    assert after_data["why_frenemies"] == f"ran: data/{only[0]}, which it reads, changed"
    assert after_data["what_putin_wants"].startswith("reused")

    forced = explained(build(reports, "--force"))
    assert set(forced.values()) == {"ran: --force"}
    manifest = json.loads((reports / "latest" / "manifest.json").read_text())
    assert {s["cache"]["reason"] for s in manifest["sections"]} == {"ran: --force"}


def test_every_section_starts_from_a_clean_namespace(tmp_path, monkeypatch):
    root = tmp_path / "project"
    shutil.copytree(PROJECT / "data", root / "data")
    (root / "notebooks").mkdir()
    params = ('as_of: str = "today"  # date\nedition: str = "full"  # full or brief')
    for order, slug, body in (
            ("10", "first", 'import report_helpers as rh\nctx = rh.setup("first", as_of=as_of, edition=edition)\n'
                            'leaked_name = "from the first section"\nrh.present.note("first ran")'),
            ("20", "second", 'import report_helpers as rh\nctx = rh.setup("second", as_of=as_of, edition=edition)\n'
                             'rh.present.note("LEAKED" if "leaked_name" in globals() else "CLEAN NAMESPACE")')):
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell(params)
        cell.metadata["tags"] = ["parameters"]
        nb.cells = [nbformat.v4.new_markdown_cell(f"# Section {slug}"), cell, nbformat.v4.new_code_cell(body)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, root / "notebooks" / f"{order}_{slug}.ipynb")
    monkeypatch.setenv("BRIEFING_PROJECT_DIR", str(root))
    reports = tmp_path / "reports"
    build(reports, "--jobs", "1")  # one worker: the second section runs in the process of the first
    html = (reports / "latest" / "briefing.html").read_text()
    assert "first ran" in html and "CLEAN NAMESPACE" in html and "LEAKED" not in html


def test_same_inputs_and_source_date_epoch_give_identical_files(small_project, tmp_path):
    env = {"SOURCE_DATE_EPOCH": "1782000000"}
    one, two = tmp_path / "one", tmp_path / "two"
    build(one, env=env)
    build(two, "--jobs", "1", env=env)  # another schedule of the same work
    for name in ("briefing.html", "briefing.pdf", "10_why_frenemies.html", "20_what_putin_wants.html"):
        assert (one / "latest" / name).read_bytes() == (two / "latest" / name).read_bytes(), name
