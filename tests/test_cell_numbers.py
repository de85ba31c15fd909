"""One cell numbering everywhere: the number JupyterLab shows for a cell of the source notebook
(1-based; the parameters cell papermill injects is not counted), in warnings, errors and the manifest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from conftest import run_build
from report_helpers.pipeline import convert
from report_helpers.pipeline.execute import source_numbers

NOTEBOOK = "10_why_frenemies.ipynb"


def _executed(*cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_dropped_outputs_are_numbered_as_in_the_source_notebook():
    params = nbformat.v4.new_code_cell("as_of = 'today'", metadata={"tags": ["parameters"]})
    injected = nbformat.v4.new_code_cell("as_of = '2024-06-30'", metadata={"tags": ["injected-parameters"]})
    stray = nbformat.v4.new_code_cell("print('debug')", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="debug\n")])
    value = nbformat.v4.new_code_cell("1 + 1", outputs=[
        nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=3)])
    nb = _executed(nbformat.v4.new_markdown_cell("# T"), params, injected, stray, value)
    assert source_numbers(nb.cells) == [1, 2, None, 3, 4]
    marker = nbformat.v4.new_markdown_cell("An Exception was encountered", metadata={"tags": ["papermill-error-cell-tag"]})
    assert source_numbers([marker, *nb.cells[:3], marker, *nb.cells[3:]]) == [None, 1, 2, None, None, 3, 4]
    cleaned = convert.clean(nb, edition="full")
    assert cleaned.dropped == ["cell 3: stdout left out of the report: debug",
                               "cell 4: execute_result left out of the report: 2"]
    assert [c.metadata["source_cell_number"] for c in cleaned.notebook.cells] == [1]


def _number(project: Path, marker: str) -> int:
    """JupyterLab's number of the one cell whose source contains ``marker``."""
    cells = json.loads((project / "notebooks" / NOTEBOOK).read_text(encoding="utf-8"))["cells"]
    (number,) = [n for n, cell in enumerate(cells, start=1) if marker in "".join(cell["source"])]
    return number


def _edit(project: Path, number: int, source: str) -> None:
    """Replace the source of cell `number` (JupyterLab's number) of the section notebook."""
    path = project / "notebooks" / NOTEBOOK
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"][number - 1]["source"] = source
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


@pytest.mark.e2e
def test_warnings_errors_and_manifest_use_jupyterlabs_numbers(make_project, tmp_path):
    project = make_project(NOTEBOOK)
    original = json.loads((project / "notebooks" / NOTEBOOK).read_text(encoding="utf-8"))["cells"]
    # The gold cell gets a stray print and ends on a bare expression; the war cell stays as it is.
    gold, war = _number(project, "precious_stones_metals_share"), _number(project, "days_between(")
    _edit(project, gold, "".join(original[gold - 1]["source"]) + "\nprint('stray debug line')\n6 * 7\n")
    reports = tmp_path / "reports"
    result = run_build(reports, "--jobs", "1")
    assert result.returncode == 0, result.stderr
    assert f"{NOTEBOOK}, cell {gold}: stdout left out of the report: stray debug line" in result.stderr
    assert f"{NOTEBOOK}, cell {gold}: execute_result left out of the report: 42" in result.stderr
    assert "Out[" not in result.stderr

    _edit(project, war, "raise ValueError('broken on purpose')\n")
    failed = run_build(reports, "--jobs", "1")
    assert failed.returncode == 1
    expected = f"{NOTEBOOK}, cell {war} (raise ValueError('broken on purpose')): ValueError: broken on purpose"
    assert expected in failed.stderr, failed.stderr
    manifest = json.loads(next(reports.glob(".failed/*/manifest.json")).read_text())
    (entry,) = manifest["sections"]
    assert entry["error"] == expected
    assert not re.search(rf"cell ({war - 1}|{war + 1})\b", failed.stderr)  # never an executed notebook's index
