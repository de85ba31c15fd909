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
