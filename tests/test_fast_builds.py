"""The section cache, warm workers and reproducible output, on real builds of a small project."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
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
    original = data_file.read_bytes()
    with data_file.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    with data_file.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows(rows)  # same table, different bytes
    after_data = explained(build(reports))
    assert after_data["why_frenemies"] == f"ran: data/{only[0]}, which it reads, changed"
    assert after_data["what_putin_wants"].startswith("reused")

    # Undo the edit: the run of the earlier state is still in the cache, and nothing runs.
    data_file.write_bytes(original)
    undone = explained(build(reports))
    assert all(reason.startswith("reused") for reason in undone.values()), undone
    assert len(list((reports / ".cache" / "sections" / "why_frenemies").glob("*/*/entry.json"))) == 2

    forced = explained(build(reports, "--force"))
    assert set(forced.values()) == {"ran: --force"}
    manifest = json.loads((reports / "latest" / "manifest.json").read_text())
    assert {s["cache"]["reason"] for s in manifest["sections"]} == {"ran: --force"}


def test_every_section_starts_from_a_clean_namespace(tmp_path, monkeypatch):
    root = tmp_path / "project"
    shutil.copytree(PROJECT / "data", root / "data")
    (root / "briefing.toml").write_text('[briefing]\nname = "Namespace test"\ntitle = "Two sections"\n'
                                        'author = "Tests"\n')
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


def test_explain_says_nothing_is_kept_when_the_data_stop_the_build(small_project, tmp_path):
    reports = tmp_path / "reports"
    table = small_project / "data" / "remittances.csv"
    lines = table.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace(",High,", ",Maybe,", 1)
    table.write_text("".join(lines), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "report_helpers", "build", "--as-of", AS_OF,
                             "--reports-dir", str(reports), "--explain"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 2 and "remittances.csv" in result.stderr, result.stderr
    said = explained(result)
    assert set(said) == {"why_frenemies", "what_putin_wants"}
    # Sections run beside the validation; a failed validation stops them, and nothing they made is
    # cached or published.
    assert set(said.values()) <= {f"{what}: the data did not pass validation"
                                  for what in ("not run", "stopped", "ran, but was discarded")}, said
    assert not list(reports.glob("*/manifest.json"))
    assert not [p for p in (reports / ".cache").rglob("*") if p.is_file() and "sections" in p.parts]


def write_run(folder: Path, slug: str, reads: list[str]) -> tuple[Path, Path]:
    """What a section's run leaves: its executed notebook, its results and the data it read."""
    results = folder / "results"
    results.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<p>" + "x" * 20000 + "</p>"})]
    nb.cells = [cell]
    nbformat.write(nb, folder / "executed.ipynb")
    (results / f"{slug}.json").write_text(json.dumps({"figures": {}}))
    (results / f"{slug}.reads.json").write_text(json.dumps(reads))
    return folder / "executed.ipynb", results


def test_section_cache_keeps_several_states_within_its_size_bound(tmp_path):
    from report_helpers.pipeline.cache import SectionCache

    executed, results = write_run(tmp_path / "run", "s", ["a.csv"])
    cache = SectionCache(tmp_path / "cache", max_bytes=10**9)
    for state in "123":
        cache.store("s", "key", executed, results, {"a.csv": state}, {})
        time.sleep(0.05)
    assert all(cache.lookup("s", "key", {"a.csv": state}, {}).hit for state in "123")
    size = max(size for _used, size, _entry in cache.entries())
    # Room for three entries: a fourth drops the one used longest ago, which is 2 once 1 is read.
    cache.max_bytes = 3 * size + size // 2
    hit = cache.lookup("s", "key", {"a.csv": "1"}, {})
    cache.restore("s", "key", hit.state, executed, tmp_path / "restored.ipynb", tmp_path / "run" / "results")
    time.sleep(0.05)
    cache.store("s", "key", executed, results, {"a.csv": "4"}, {})
    kept = {state for state in "1234" if cache.lookup("s", "key", {"a.csv": state}, {}).hit}
    assert kept == {"1", "3", "4"}
    assert sum(size for _used, size, _entry in cache.entries()) <= cache.max_bytes
    miss = cache.lookup("s", "key", {"a.csv": "5"}, {})
    assert miss.reason == "ran: data/a.csv, which it reads, changed"



def test_data_check_keeps_events_and_verdicts_per_data_code_and_as_of_date(tmp_path):
    """A rebuild with unchanged data reads the manifest's events and verdicts back from the cache."""
    from report_helpers.pipeline import build as steps

    sections, params = steps.check_inputs(steps.BuildOptions(given={"as_of": "2024-06-30"}))
    hashes = steps.input_hashes(sections)
    validated, events, verdicts = steps.check_data(hashes, tmp_path, params)
    assert validated and events and verdicts
    kept = list((tmp_path / "facts").glob("*.json"))
    assert len(kept) == 1 and json.loads(kept[0].read_text()) == {"events": events, "verdicts": verdicts}
    # Mark the kept file, to tell reading it back from computing again.
    kept[0].write_text(json.dumps({"events": {"marked": {}}, "verdicts": {"c01": "marked"}}))
    assert steps.check_data(hashes, tmp_path, params) == (False, {"marked": {}}, {"c01": "marked"})
    # Other data, other helper code or another as-of date: computed afresh, and kept beside it.
    _, later_params = steps.check_inputs(steps.BuildOptions(given={"as_of": "2025-06-30"}))
    for other_hashes, other_params in (({**hashes, "data/events.csv": "0" * 64}, params),
                                       ({**hashes, "report_helpers/claims.py": "0" * 64}, params),
                                       (hashes, later_params)):
        _, other_events, other_verdicts = steps.check_data(other_hashes, tmp_path, other_params)
        assert "marked" not in other_events and other_verdicts.get("c01") != "marked"
    assert len(list((tmp_path / "facts").glob("*.json"))) == 4
