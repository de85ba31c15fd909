"""Shared fixtures: the project folder, and small throw-away copies of it for bad-input tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project_copy(tmp_path, monkeypatch) -> Path:
    """A copy of notebooks/ and data/ that a test may break; the build is pointed at it."""
    root = tmp_path / "project"
    shutil.copytree(PROJECT / "data", root / "data")
    shutil.copytree(PROJECT / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    monkeypatch.setenv("BRIEFING_PROJECT_DIR", str(root))
    return root


@pytest.fixture
def make_project(tmp_path, monkeypatch):
    """A project holding only some of the section notebooks (smaller, faster builds)."""

    def make(*notebooks: str) -> Path:
        root = tmp_path / "project"
        shutil.copytree(PROJECT / "data", root / "data")
        (root / "notebooks").mkdir()
        for name in notebooks:
            shutil.copy(PROJECT / "notebooks" / name, root / "notebooks" / name)
        monkeypatch.setenv("BRIEFING_PROJECT_DIR", str(root))
        return root

    return make


@pytest.fixture
def small_project(make_project) -> Path:
    """Two sections that read no other section: seconds to build."""
    return make_project("10_why_frenemies.ipynb", "20_what_putin_wants.ipynb")
