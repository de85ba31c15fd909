"""Where the project's folders are, wherever the code runs from (CLI, build worker, JupyterLab)."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UsageError

PROJECT_ENV = "BRIEFING_PROJECT_DIR"
PROJECT_FILE = "briefing.toml"


class ProjectNotFound(UsageError, FileNotFoundError):
    """No project folder here (exit 2): `briefing new DIR` makes one."""


def _looks_like_project(path: Path) -> bool:
    return ((path / PROJECT_FILE).is_file() and (path / "data" / "datapackage.json").is_file()
            and (path / "notebooks").is_dir())


def project_dir() -> Path:
    """The project root: $BRIEFING_PROJECT_DIR, else the nearest parent of the working
    folder holding briefing.toml, data/ and notebooks/, else the checkout this package lives in."""
    if os.environ.get(PROJECT_ENV):
        root = Path(os.environ[PROJECT_ENV]).resolve()
        if not _looks_like_project(root):
            raise ProjectNotFound(f"{PROJECT_ENV}={root} has no briefing.toml, data/datapackage.json and "
                                  "notebooks/; `briefing new DIR` makes a project")
        return root
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if _looks_like_project(candidate):
            return candidate
    checkout = Path(__file__).resolve().parents[2]
    if _looks_like_project(checkout):
        return checkout
    raise ProjectNotFound(
        "cannot find the project folder (one holding briefing.toml, data/datapackage.json and notebooks/); "
        f"run from inside it, set {PROJECT_ENV}, or make one with `briefing new DIR`"
    )


def data_dir() -> Path:
    return project_dir() / "data"


def notebooks_dir() -> Path:
    return project_dir() / "notebooks"


def templates_dir() -> Path:
    return Path(__file__).resolve().parent / "pipeline" / "templates"
