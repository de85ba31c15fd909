"""`briefing batch`: many editions, on a local pool and on a dask.distributed LocalCluster whose
workers share no folder with the client."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from edition_checks import check_edition
from report_helpers.batch import archive, as_of_dates, month_ends, receive
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


def briefing(reports: Path, command: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "report_helpers", command, "--reports-dir", str(reports), *args],
                          capture_output=True, text=True, timeout=900, cwd=cwd)


def previous_of(reports: Path, edition: str) -> str | None:
    note = json.loads((reports / edition / "manifest.json").read_text())["changes"]
    return note["previous"] and note["previous"]["edition_id"]


def test_local_batch_follows_the_latest_policy_and_logs_progress(one_section, tmp_path):
    reports = tmp_path / "reports"
    later = briefing(reports, "build", "--as-of", "2024-12-31", "-q")
    assert later.returncode == 0, later.stderr
    result = briefing(reports, "batch", "--from", "2024-04-01", "--to", "2024-06-30", "--workers", "2")
    assert result.returncode == 0, result.stderr
    editions = ["2024-04-30_full", "2024-05-31_full", "2024-06-30_full"]
    for edition in editions:
        check_edition(reports / edition)
    # A batch of earlier dates leaves latest on the newest date.
    assert (reports / "latest").resolve() == (reports / "2024-12-31_full").resolve()
    progress = re.findall(r"\[(\d)/3\] (2024-\d\d-\d\d) ok", result.stderr)[:3]  # as each finishes
    assert [n for n, _date in progress] == ["1", "2", "3"]
    assert {date for _n, date in progress} == {"2024-04-30", "2024-05-31", "2024-06-30"}
    # Whatever order they finished in, each note compares with the month before.
    assert [previous_of(reports, e) for e in editions] == [None, "2024-04-30_full", "2024-05-31_full"]
    index = (reports / "index.html").read_text()
    rows = re.findall(r'<th scope="row">(\d{4}-\d\d-\d\d_full)', index)
    assert rows == ["2024-12-31_full", "2024-06-30_full", "2024-05-31_full", "2024-04-30_full"]
    again = briefing(reports, "batch", "--from", "2024-04-01", "--to", "2024-06-30")
    assert again.returncode == 0 and len(re.findall(r"\[\d/3\] 2024-\d\d-\d\d skipped", again.stderr)) == 3


DASK_SETUP = '''
import ctypes, os, pathlib

HIDDEN = {hidden!r}


def dask_setup(worker):
    """A worker that shares no folder with the client: a mount namespace of its own, where the
    client's test folder (project and reports) is covered by an empty tmpfs, and its own working
    directory. Threads and processes it starts from now on (tasks, section workers) inherit both."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
        raise OSError(ctypes.get_errno(), "unshare")
    if libc.mount(b"none", b"/", None, 0x4000 | 0x40000, None) != 0:  # MS_REC | MS_PRIVATE
        raise OSError(ctypes.get_errno(), "mount --make-rprivate /")
    if libc.mount(b"tmpfs", HIDDEN.encode(), b"tmpfs", 0, b"size=64k,mode=0555") != 0:
        raise OSError(ctypes.get_errno(), "mount tmpfs")
    os.chdir(worker.local_directory)
    os.environ.pop("BRIEFING_PROJECT_DIR", None)
'''


def probe(reports: str) -> dict:
    import os
    from pathlib import Path

    from report_helpers.paths import PROJECT_ENV

    try:
        Path(reports, "probe").write_text("x")
        wrote = True
    except OSError:
        wrote = False
    return {"cwd": os.getcwd(), "wrote": wrote, "sees": os.path.exists(reports),
            "project": os.environ.get(PROJECT_ENV)}


def can_mount() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs tmpfs /mnt"], capture_output=True).returncode == 0


@pytest.mark.skipif(not can_mount(), reason="hiding the client's folder from the workers needs a mount namespace (root)")
def test_batch_on_a_dask_cluster_without_a_shared_folder(one_section, tmp_path):
    import dask
    from distributed import Client, LocalCluster

    reports = tmp_path / "reports"
    reports.mkdir()
    workers_home = Path(tempfile.mkdtemp(prefix="briefing-dask-"))  # outside tmp_path, which they cannot see
    setup = workers_home / "isolate_worker.py"
    setup.write_text(DASK_SETUP.format(hidden=str(tmp_path)))
    try:
        # Workers must be allowed child processes: each edition runs its sections in workers of its own.
        with dask.config.set({"distributed.worker.daemon": False}):
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                              local_directory=str(workers_home), preload=[str(setup)]) as cluster:
                with Client(cluster) as client:  # what a task sees, on each worker
                    seen = [client.submit(probe, str(reports), workers=[w], pure=False).result()
                            for w in client.scheduler_info()["workers"]]
                assert len(seen) == 2
                for worker in seen:
                    assert not worker["wrote"] and not worker["sees"] and worker["project"] is None
                    assert worker["cwd"].startswith(str(workers_home)) and worker["cwd"] != os.getcwd()
                result = briefing(reports, "batch", "--from", "2024-10-01", "--to", "2024-11-30",
                                  "--scheduler", cluster.scheduler_address)
    finally:
        shutil.rmtree(workers_home, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    assert "dask cluster" in result.stderr and re.search(r"\[2/2\] 2024-1\d-\d\d ok", result.stderr)
    for edition in ("2024-10-31_full", "2024-11-30_full"):
        manifest = check_edition(reports / edition)
        assert manifest["status"] == "ok"
    assert (reports / "latest").resolve() == (reports / "2024-11-30_full").resolve()
    assert previous_of(reports, "2024-11-30_full") == "2024-10-31_full"
    assert "2024-11-30_full" in (reports / "index.html").read_text()

    # The client checks what it receives: a file changed on the way, or other inputs, are refused.
    folder = (reports / "2024-11-30_full").resolve()
    manifest = json.loads((folder / "manifest.json").read_text())
    import hashlib

    reply = {"edition_id": "2024-11-30_full", "status": "ok", "exit_code": 0, "worker": "test",
             "manifest_sha256": hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()}
    tampered = Path(shutil.copytree(folder, tmp_path / "tampered"))
    (tampered / "briefing.html").write_text("<p>changed on the way</p>")
    refused = receive({**reply, "archive": archive(tampered)}, reports, manifest["inputs_digest"], "2024-11-30")
    assert refused.exit_code == 1 and "briefing.html does not match its digest" in refused.message
    other = receive({**reply, "archive": archive(folder)}, reports, "0" * 64, "2024-11-30")
    assert other.exit_code == 1 and "other inputs" in other.message
    assert (reports / "2024-11-30_full").resolve() == folder and not list(reports.glob(".staging-*"))
    accepted = receive({**reply, "archive": archive(folder)}, reports, manifest["inputs_digest"], "2024-11-30")
    assert accepted.exit_code == 0 and (reports / "2024-11-30_full").resolve() != folder
    check_edition(reports / "2024-11-30_full")
