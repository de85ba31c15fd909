"""The command line as a scheduler sees it: exit codes and messages for bad input, before any kernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import copy_project_file


def briefing(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "report_helpers", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=300)


def assert_refused(result, reports: Path, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    # Nothing was executed or published: no edition, no staging folder, no kept failure.
    leftovers = [p.name for p in reports.iterdir() if not p.name.endswith(".lock")] if reports.exists() else []
    assert leftovers == []


def test_help_lists_every_parameter_with_type_and_default():
    result = briefing("build", "--help")
    assert result.returncode == 0
    for text in ("as_of", "date", "'today'", "edition", "full|brief", "'full'", "exit codes", "--reports-dir"):
        assert text in result.stdout


@pytest.mark.parametrize("args, fragments", [
    (["-p", "colour=red"], ["unknown parameter 'colour'"]),
    (["--as-of", "2024-02-30"], ["'2024-02-30' is not a real date"]),
    (["--as-of", "yesterday"], ["expected a date YYYY-MM-DD"]),
    (["--as-of", "2999-01-01"], ["is in the future"]),
    (["--as-of", "1990-01-01"], ["before the data begins"]),
    (["-p", "as_of=2024-06-30\"\nimport os"], ["parameter 'as_of'"]),
    (["-p", "edition=brief'; import os; '"], ["parameter 'edition'"]),
])
def test_bad_parameters_exit_2_without_running(tmp_path, args, fragments):
    reports = tmp_path / "reports"
    assert_refused(briefing("build", "--reports-dir", str(reports), *args), reports, *fragments)


def test_edition_flag_is_checked_by_argparse(tmp_path):
    result = briefing("build", "--edition", "summary", "--reports-dir", str(tmp_path / "r"))
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_reports_dir_with_dotdot_is_refused(tmp_path):
    result = briefing("build", "--reports-dir", "reports/../../elsewhere")
    assert result.returncode == 2 and "'..' is not allowed" in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_unwritable_reports_dir(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = briefing("build", "--reports-dir", str(locked))
    assert result.returncode == 2 and "no write permission" in result.stderr


def test_a_notebook_the_project_file_does_not_list_is_refused(project_copy, tmp_path):
    (project_copy / "notebooks" / "60_more.ipynb").write_text("{}", encoding="utf-8")
    reports = tmp_path / "reports"
    assert_refused(briefing("build", "--reports-dir", str(reports)), reports,
                   "briefing.toml: [sections] order does not list 60_more.ipynb")


def test_notebook_that_is_not_json(project_copy, tmp_path):
    copy_project_file(project_copy, "60_broken")
    (project_copy / "notebooks" / "60_broken.ipynb").write_text("{ not json", encoding="utf-8")
    reports = tmp_path / "reports"
    assert_refused(briefing("build", "--reports-dir", str(reports)), reports,
                   "60_broken.ipynb is not valid JSON")


def test_notebook_without_parameters_cell(project_copy, tmp_path):
    path = project_copy / "notebooks" / "20_what_putin_wants.ipynb"
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("tags", None)
    path.write_text(json.dumps(nb))
    reports = tmp_path / "reports"
    assert_refused(briefing("build", "--reports-dir", str(reports)), reports,
                   "20_what_putin_wants.ipynb has no cell tagged 'parameters'")


def test_bad_data_is_named_by_file_row_and_column(project_copy, tmp_path):
    path = project_copy / "data" / "remittances.csv"
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace(",High,", ",Maybe,")
    path.write_text("\n".join(lines) + "\n")
    reports = tmp_path / "reports"
    assert_refused(briefing("build", "--reports-dir", str(reports)), reports,
                   "data/remittances.csv", "row 4", "column 'confidence'")


def test_malformed_csv_and_missing_file(project_copy, tmp_path):
    (project_copy / "data" / "arms_points.csv").write_text('point_id,period_label\n"unclosed,quote\n')
    reports = tmp_path / "reports"
    assert_refused(briefing("build", "--reports-dir", str(reports)), reports, "data/arms_points.csv")
    (project_copy / "data" / "arms_points.csv").unlink()
    assert_refused(briefing("build", "--reports-dir", str(reports)), reports,
                   "data/arms_points.csv", "missing")
