"""Editions that mean what they say, and publishing that is never half-done.

Real `briefing` processes on a one-section project (seconds per build): the `latest` policy, the
index, prune, `make clean`, and SIGKILLs: at every step of publishing (through the test-only
BRIEFING_FAULT hook) and at random instants of real builds. After every kill, `latest` opens, its
PDF parses, its manifest's digests match its files, and the next build succeeds.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from conftest import PROJECT, copy_project_file
from edition_checks import check_edition

pytestmark = pytest.mark.e2e
NOTEBOOK = "10_small.ipynb"
# Publishes a copy of an edition folder as a new build of it (same content, built later), the way
# `briefing build` publishes: under the lock, after clearing leftovers, from a fresh staging folder.
DRIVER = """
import json, shutil, sys
from pathlib import Path
from report_helpers.publishing import publish, store
reports, source, edition_id = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
with store.build_lock(reports, 60):
    publish.clear_leftovers(reports)
    staging = publish.staging_dir(reports, edition_id)
    shutil.copytree(source, staging, dirs_exist_ok=True)
    manifest = json.loads((staging / "manifest.json").read_text())
    manifest["built"] = "2099-01-01T00:00:00+00:00"
    (staging / "manifest.json").write_text(json.dumps(manifest))
    publish.publish(staging, reports, edition_id)
"""


def write_small_project(root: Path, narrative: str = "Some narrative.", extra_code: str = "") -> Path:
    """One short section that records nothing heavy: a build is mostly the pipeline itself."""
    if not (root / "data").is_dir():
        shutil.copytree(PROJECT / "data", root / "data")
    copy_project_file(root, Path(NOTEBOOK).stem)
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('as_of: str = "today"  # date\nedition: str = "full"  # full or brief')
    params.metadata["tags"] = ["parameters"]
    setup = ('import report_helpers as rh\nctx = rh.setup("small", as_of=as_of, edition=edition)\n'
             'rh.present.note("A short section.")')
    nb.cells = [nbformat.v4.new_markdown_cell("# A small section"), params, nbformat.v4.new_code_cell(setup)]
    if extra_code:
        nb.cells.append(nbformat.v4.new_code_cell(extra_code))
    nb.cells.append(nbformat.v4.new_markdown_cell(narrative))
    for n, cell in enumerate(nb.cells):
        cell.id = f"cell-{n}"  # the same text gives the same file, hence the same inputs digest
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "notebooks" / NOTEBOOK)
    return root


def briefing(project: Path, *args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "report_helpers", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "BRIEFING_PROJECT_DIR": str(project), **(env or {})})


def build(project: Path, reports: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    result = briefing(project, "build", "--reports-dir", str(reports), "-q", *args, env=env)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return write_small_project(tmp_path_factory.mktemp("small") / "project")


@pytest.fixture(scope="module")
def published(project, tmp_path_factory) -> Path:
    """Four editions, built in an order that used to fool `latest`: an earlier date and a brief
    edition built after the newest full edition."""
    reports = tmp_path_factory.mktemp("published") / "reports"
    for args in (("--as-of", "2024-06-30"), ("--as-of", "2024-12-31"), ("--as-of", "2023-12-31"),
                 ("--as-of", "2024-12-31", "--edition", "brief")):
        build(project, reports, *args)
    return reports


@pytest.fixture
def reports(published, tmp_path) -> Path:
    """A private copy of the published folder (its symlinks are relative, so they stay valid)."""
    return Path(shutil.copytree(published, tmp_path / "reports", symlinks=True))


def check_readable(reports: Path) -> None:
    """What a reader may open at any instant: `latest` and every edition name."""
    latest = check_edition(reports / "latest")
    assert latest["status"] == "ok" and latest["pointer"] == "latest"
    for link in reports.iterdir():
        if link.is_symlink():
            assert link.is_dir() and (link / "manifest.json").is_file(), f"{link} dangles"


def check_settled(reports: Path) -> None:
    """After a successful build: no leftovers, no unnamed build folder, pointers follow the policy."""
    leftovers = [p.name for p in reports.iterdir() if p.name.startswith((".staging-", ".link-", ".retired-"))
                 or p.name.endswith(".tmp") or p.name == ".publish-pending"]
    assert leftovers == []
    named = {p.resolve() for p in reports.iterdir() if p.is_symlink()}
    assert {p.resolve() for p in (reports / "builds").iterdir()} == named
    full = [json.loads((p / "manifest.json").read_text()) for p in reports.iterdir()
            if p.is_symlink() and not p.name.startswith("latest") and p.name.endswith("_full")]
    newest = max((m for m in full if m["status"] == "ok"), key=lambda m: m["parameters"]["as_of"])
    assert (reports / "latest").resolve() == (reports / newest["edition_id"]).resolve()


def test_latest_is_the_newest_complete_edition_of_each_kind(published):
    assert (published / "latest").resolve() == (published / "2024-12-31_full").resolve()
    assert (published / "latest-brief").resolve() == (published / "2024-12-31_brief").resolve()
    for name in ("2023-12-31_full", "2024-06-30_full", "2024-12-31_full", "2024-12-31_brief"):
        link = published / name
        assert link.is_symlink() and link.resolve().parent == (published / "builds").resolve()
        check_edition(link)
    check_settled(published)
    early = json.loads((published / "2023-12-31_full" / "manifest.json").read_text())
    assert early["kind"] == "full" and early["changes"]["previous"] is None


def test_index_lists_editions_by_kind_newest_as_of_first(published):
    html = (published / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html
    full_at, brief_at = html.index("Full edition"), html.index("Brief edition")
    assert full_at < brief_at
    rows = re.findall(r'<th scope="row">([^<]+?)(?: <span class="latest-mark">\(([^)]+)\)</span>)?</th>', html)
    assert [name for name, _mark in rows] == ["2024-12-31_full", "2024-06-30_full", "2023-12-31_full",
                                              "2024-12-31_brief"]
    assert dict(rows)["2024-12-31_full"] == "latest" and dict(rows)["2024-12-31_brief"] == "latest-brief"
    assert html.count('<th scope="col">') == 10 and "complete" in html and " UTC</td>" in html
    links = re.findall(r'<a href="([^"]+)"[^>]*>([^<]*)</a>', html)
    assert links and all(text.strip() for _href, text in links)
    for href, _text in links:
        if not href.startswith(("http", "feed.xml")):
            assert (published / href).is_file(), href


def test_a_partial_edition_never_takes_latest(reports, tmp_path):
    complete = (reports / "latest").resolve()
    broken = write_small_project(tmp_path / "broken", extra_code='raise RuntimeError("injected failure")')
    partial = briefing(broken, "build", "--reports-dir", str(reports), "--as-of", "2024-12-31", "--allow-partial")
    assert partial.returncode == 1, partial.stderr
    assert json.loads((reports / "2024-12-31_full" / "manifest.json").read_text())["status"] == "partial"
    assert (reports / "latest").resolve() == complete  # the complete build of that date, kept for latest
    check_readable(reports)
    html = (reports / "index.html").read_text()
    assert "an earlier, complete build" in html and "partial: small failed" in html
    pruned = briefing(broken, "prune", "--reports-dir", str(reports), "--keep", "0")
    assert pruned.returncode == 0, pruned.stderr
    assert complete.is_dir() and (reports / "latest").resolve() == complete


def test_prune_keeps_what_latest_names_and_updates_the_index(reports, project):
    failed = reports / ".failed"
    for age, name in ((40, "2022-12-31_full"), (1, "2024-03-31_full")):
        (failed / name).mkdir(parents=True)
        (failed / name / "build.log").write_text("failed\n")
        then = time.time() - age * 86400
        os.utime(failed / name, (then, then))
    dry = briefing(project, "prune", "--reports-dir", str(reports), "--keep", "1", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would remove edition 2024-06-30_full" in dry.stderr and "2023-12-31_full" in dry.stderr
    assert (reports / "2024-06-30_full").is_dir() and (failed / "2022-12-31_full").is_dir()

    none = briefing(project, "prune", "--reports-dir", str(reports), "--older-than", "30")
    assert none.returncode == 0 and (reports / "2023-12-31_full").is_dir()  # every edition was built today
    assert not (failed / "2022-12-31_full").exists() and (failed / "2024-03-31_full").is_dir()

    gone = {name: (reports / name).resolve() for name in ("2024-06-30_full", "2023-12-31_full")}
    pruned = briefing(project, "prune", "--reports-dir", str(reports), "--keep", "1")
    assert pruned.returncode == 0, pruned.stderr
    for name, folder in gone.items():
        assert not (reports / name).exists() and not folder.exists()
    assert [p.name for p in failed.iterdir()] == ["2024-03-31_full"]  # the newest failed run
    check_readable(reports)
    check_settled(reports)
    assert (reports / "latest-brief").is_dir()
    html = (reports / "index.html").read_text()
    assert "2024-06-30_full" not in html and "2024-12-31_full" in html
    if (reports / "feed.xml").is_file():
        assert "2024-06-30_full/" not in (reports / "feed.xml").read_text()

    everything = briefing(project, "prune", "--reports-dir", str(reports), "--older-than", "0")
    assert everything.returncode == 0
    assert list(failed.iterdir()) == []
    assert sorted(p.name for p in reports.iterdir() if p.is_symlink()) == [
        "2024-12-31_brief", "2024-12-31_full", "latest", "latest-brief"]
    for bad in (("--keep", "1", "--older-than", "3"), ("--keep", "-1"), ()):
        refused = briefing(project, "prune", "--reports-dir", str(reports), *bad)
        assert refused.returncode == 2 and ("--keep" in refused.stderr or "argument" in refused.stderr)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_clean_removes_editions_caches_failed_runs_index_and_pointers(published, tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(PROJECT / "Makefile", tree / "Makefile")
    reports = Path(shutil.copytree(published, tree / "reports", symlinks=True))
    (reports / "README.md").write_text("kept\n")
    for folder in (".failed/2024-01-31_full", ".interactive/x/results", ".staging-x-1"):
        (reports / folder).mkdir(parents=True)
    (tree / ".venv").mkdir()
    (tree / ".venv" / "kept").write_text("")
    result = subprocess.run(["make", "clean"], cwd=tree, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in reports.iterdir()) in (["README.md"], [".build.lock", "README.md"])
    assert (tree / ".venv" / "kept").is_file()  # the environment is not an output


def test_an_edition_folder_from_before_builds_is_adopted(reports, project):
    """Reports folders written by earlier versions held real edition folders, and `latest` named one."""
    old = reports / "2024-06-30_full"
    target = old.resolve()
    old.unlink()
    shutil.copytree(target, old)
    shutil.rmtree(target)
    (reports / "latest").unlink()
    (reports / "latest").symlink_to("2024-06-30_full")
    build(project, reports, "--as-of", "2023-12-31")  # up to date: only tidies the folder
    assert old.is_symlink() and old.resolve().parent.name == "builds"
    check_edition(old)
    check_readable(reports)
    check_settled(reports)


def fault_points(reports: Path, source: Path, tmp_path: Path) -> list[str]:
    log_file = tmp_path / "steps.log"
    trial = Path(shutil.copytree(reports, tmp_path / "trial", symlinks=True))
    result = subprocess.run([sys.executable, "-c", DRIVER, str(trial), str(source), "2024-12-31_full"],
                            capture_output=True, text=True, env={**os.environ, "BRIEFING_FAULT_LOG": str(log_file)})
    assert result.returncode == 0, result.stderr
    return log_file.read_text().split()


def test_a_kill_at_every_step_of_publishing(published, project, tmp_path):
    source = (published / "2024-12-31_full").resolve()
    points = fault_points(published, source, tmp_path)
    renames = [p for p in points if p.startswith("before:rename-")]
    fsyncs = [p for p in points if p.startswith("before:fsync-")]
    assert len(renames) >= 4 and len(fsyncs) >= 6, points  # edition, its name, latest, the index; and fsyncs
    kills = 0
    swapped = points.index("after:rename-link-edition")  # from here on the name means the new build
    for n, point in enumerate(points):
        reports = Path(shutil.copytree(published, tmp_path / f"r{n}", symlinks=True))
        old = (reports / "2024-12-31_full").resolve()
        victim = subprocess.run([sys.executable, "-c", DRIVER, str(reports), str(source), "2024-12-31_full"],
                                capture_output=True, text=True, env={**os.environ, "BRIEFING_FAULT": point})
        assert victim.returncode == -signal.SIGKILL, (point, victim.stderr)
        kills += 1
        check_readable(reports)
        assert ((reports / "2024-12-31_full").resolve() == old) == (n < swapped), point
        build(project, reports, "--as-of", "2023-12-31")  # the next build: finishes or undoes the publish
        check_readable(reports)
        check_settled(reports)
        assert ((reports / "2024-12-31_full").resolve() == old) == (n < swapped), point
        assert old.is_dir() == (n < swapped), point  # a superseded build folder goes once nothing names it
        shutil.rmtree(reports)
    print(f"\npublish steps: {len(points) // 2}; kills through the fault hook: {kills}")
    assert kills == len(points) >= 24


def test_the_fault_hook_in_real_builds(reports, tmp_path):
    project = write_small_project(tmp_path / "project")
    for n, point in enumerate(("before:rename-edition", "after:rename-link-edition", "before:rename-pointer-latest")):
        write_small_project(project, narrative=f"Sentence {n}.")
        victim = briefing(project, "build", "--reports-dir", str(reports), "--as-of", "2025-01-31",
                          env={"BRIEFING_FAULT": point})
        assert victim.returncode == -signal.SIGKILL, victim.stderr
        check_readable(reports)
        build(project, reports, "--as-of", "2025-01-31")
        check_settled(reports)
        assert f"Sentence {n}." in (reports / "latest" / "briefing.html").read_text()


def test_random_kills_of_real_builds(reports, tmp_path):
    """Over 30 builds killed with SIGKILL at random instants; after each, readers are unharmed and
    the next build succeeds. Every tenth victim is then built to the end."""
    seed = int(os.environ.get("BRIEFING_KILL_SEED", time.time()))
    rng = random.Random(seed)
    project = write_small_project(tmp_path / "project", narrative="Narrative 0.")
    env = {**os.environ, "BRIEFING_PROJECT_DIR": str(project)}
    build(project, reports, "--as-of", "2024-12-31", "--force")
    build(project, reports, "--as-of", "2023-12-31")
    started = time.monotonic()
    write_small_project(project, narrative="Narrative 0, again.")
    build(project, reports, "--as-of", "2024-12-31")  # what most victims do: sections from the cache
    span = time.monotonic() - started
    kills, phases, finished = 0, {"before staging": 0, "while staged": 0, "after publishing": 0}, 0
    attempt = 0
    while kills < 32:
        attempt += 1
        assert attempt < 60, "builds keep finishing before the kill"
        text = f"Narrative {attempt}."
        write_small_project(project, narrative=text)
        args = ["--force"] if attempt % 4 == 0 else []  # a quarter also execute their section
        victim = subprocess.Popen([sys.executable, "-m", "report_helpers", "build", "--reports-dir", str(reports),
                                   "--as-of", "2024-12-31", "-q", *args], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, span))
        if victim.poll() is not None:
            finished += 1
            continue
        staged = any(reports.glob(".staging-*"))
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        kills += 1
        published_now = text in (reports / "2024-12-31_full" / "briefing.html").read_text()
        phases["after publishing" if published_now else "while staged" if staged else "before staging"] += 1
        check_readable(reports)
        if kills % 10 == 0:  # the killed build, run again to the end
            build(project, reports, "--as-of", "2024-12-31")
            assert text in (reports / "latest" / "briefing.html").read_text()
        # The next build, in the state the 2023 edition was built from: it only has to clear up.
        write_small_project(project, narrative="Narrative 0.")
        nxt = briefing(project, "build", "--reports-dir", str(reports), "--as-of", "2023-12-31", "-q")
        assert nxt.returncode == 0, nxt.stderr
        check_readable(reports)
        check_settled(reports)
    print(f"\nrandom kills: {kills} (seed {seed}, build span {span:.1f} s, {finished} builds finished first); "
          f"by phase: {phases}")
