"""Shared fixtures: the project folder, and small throw-away copies of it for bad-input tests."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Debian's chromium, never a downloaded browser; no background requests.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def run_build(reports: Path, *args: str) -> subprocess.CompletedProcess:
    """`briefing build` in a child process, as a scheduler runs it."""
    return subprocess.run([sys.executable, "-m", "report_helpers", "build", "--reports-dir", str(reports),
                           *args], capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="session")
def built_reports(tmp_path_factory):
    """A reports folder shared by the test session, and a function that builds an edition into it.

    ``built_reports(*args)`` runs the real build with those arguments once per session (later
    calls return at once) and returns the folder; editions built later reuse the section cache."""
    folder = tmp_path_factory.mktemp("built-reports")
    done: set[tuple[str, ...]] = set()

    def build(*args: str) -> Path:
        if args not in done:
            result = run_build(folder, *args)
            assert result.returncode == 0, result.stderr
            done.add(args)
        return folder

    return build


@pytest.fixture(scope="session")
def full_edition(built_reports) -> Path:
    """Today's full edition, really built (once per session)."""
    return built_reports() / f"{dt.date.today().isoformat()}_full"


def copy_project_file(root: Path, *new_sections: str) -> Path:
    """This briefing's project file in `root`, its section order extended by `new_sections`
    (notebook names without .ipynb), as an analyst lists a section they add."""
    text = (PROJECT / "briefing.toml").read_text(encoding="utf-8")
    last = '    "90_claims_and_evidence",\n'
    assert last in text, "the project file's [sections] order changed: update copy_project_file"
    text = text.replace(last, last + "".join(f'    "{s}",\n' for s in new_sections))
    root.mkdir(parents=True, exist_ok=True)
    (root / "briefing.toml").write_text(text, encoding="utf-8")
    return root


def copy_project(root: Path, notebooks: list[str] | tuple[str, ...] = ()) -> Path:
    """A project in `root`: this briefing's data and project file, and the given notebooks."""
    shutil.copytree(PROJECT / "data", root / "data")
    copy_project_file(root)
    (root / "notebooks").mkdir()
    for name in notebooks:
        shutil.copy(PROJECT / "notebooks" / name, root / "notebooks" / name)
    return root


@pytest.fixture
def project_copy(tmp_path, monkeypatch) -> Path:
    """A copy of notebooks/ and data/ that a test may break; the build is pointed at it."""
    root = tmp_path / "project"
    shutil.copytree(PROJECT / "data", root / "data")
    copy_project_file(root)
    shutil.copytree(PROJECT / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    monkeypatch.setenv("BRIEFING_PROJECT_DIR", str(root))
    return root


@pytest.fixture
def make_project(tmp_path, monkeypatch):
    """A project holding only some of the section notebooks (smaller, faster builds)."""

    def make(*notebooks: str) -> Path:
        root = copy_project(tmp_path / "project", notebooks)
        monkeypatch.setenv("BRIEFING_PROJECT_DIR", str(root))
        return root

    return make


@pytest.fixture
def small_project(make_project) -> Path:
    """Two sections that read no other section: seconds to build."""
    return make_project("10_why_frenemies.ipynb", "20_what_putin_wants.ipynb")
