"""`briefing batch`: many editions, on a local pool and on a dask.distributed LocalCluster."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from report_helpers.batch import as_of_dates, month_ends
from report_helpers.errors import ParameterError

pytestmark = pytest.mark.e2e


def test_month_ends():
    import datetime as dt

    assert month_ends(dt.date(2024, 1, 15), dt.date(2024, 4, 30)) == [
        dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31), dt.date(2024, 4, 30)]
    assert [d.isoformat() for d in as_of_dates("2023-06-01", "2025-01-31", "year-end")] == ["2023-12-31", "2024-12-31"]
    with pytest.raises(ParameterError, match="before --from"):
        as_of_dates("2025-01-01", "2024-01-01", "month-end")


@pytest.fixture
def one_section(make_project) -> Path:
    return make_project("20_what_putin_wants.ipynb")


def batch(reports: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "report_helpers", "batch", "--reports-dir", str(reports), *args],
                          capture_output=True, text=True, timeout=900)


def test_local_batch_builds_every_month_end_and_reuses_them(one_section, tmp_path):
    reports = tmp_path / "reports"
    result = batch(reports, "--from", "2024-04-01", "--to", "2024-06-30", "--workers", "2")
    assert result.returncode == 0, result.stderr
    editions = ["2024-04-30_full", "2024-05-31_full", "2024-06-30_full"]
    for edition in editions:
        assert json.loads((reports / edition / "manifest.json").read_text())["status"] == "ok"
    assert (reports / "latest").resolve() == (reports / editions[-1]).resolve()
    index = (reports / "index.html").read_text()
    assert all(edition in index for edition in editions)
    again = batch(reports, "--from", "2024-04-01", "--to", "2024-06-30")
    assert again.returncode == 0 and again.stderr.count("skipped") == 3


def test_batch_on_a_dask_cluster(one_section, tmp_path):
    import dask
    from distributed import LocalCluster

    reports = tmp_path / "reports"
    # Workers must be allowed child processes: each edition runs its sections in workers of its own.
    with dask.config.set({"distributed.worker.daemon": False}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            result = batch(reports, "--from", "2024-10-01", "--to", "2024-11-30", "--scheduler", cluster.scheduler_address)
    assert result.returncode == 0, result.stderr
    assert "dask cluster" in result.stderr
    for edition in ("2024-10-31_full", "2024-11-30_full"):
        assert (reports / edition / "briefing.pdf").is_file()
