"""`briefing new DIR`: a new briefing project that builds at once, offline. The files come from
template/: the project file, one section notebook, a data package with one sourced table (Armenia's
trade with all partners, from Armstat, as this repository's own tables hold it) and a README that
says how to add a section, a table and a source."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import UsageError

TEMPLATE = Path(__file__).resolve().parent / "template"


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML ones)."""
    return json.dumps(text, ensure_ascii=False)


def create(target: Path, *, title: str, name: str | None = None, author: str = "Briefing team") -> Path:
    """Write a new project into `target` (absent or empty), whole or not at all."""
    for label, value in (("--title", title), ("--name", name), ("--author", author)):
        if value is not None and (not value.strip() or any(c in value for c in "\r\n")):
            raise UsageError(f"briefing new: {label} must be one non-empty line")
    target = target.expanduser().resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"briefing new: {target} exists and is not an empty folder; nothing was written")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        shutil.copytree(TEMPLATE / "data", work / "data")
        shutil.copytree(TEMPLATE / "notebooks", work / "notebooks")
        shutil.copy(TEMPLATE / "gitignore", work / ".gitignore")
        values = {"title": _toml_string(title), "name": _toml_string(name or title),
                  "author": _toml_string(author)}
        project = (TEMPLATE / "briefing.toml.tmpl").read_text(encoding="utf-8")
        for key, value in values.items():
            project = project.replace("{" + key + "}", value)
        (work / "briefing.toml").write_text(project, encoding="utf-8")
        readme = (TEMPLATE / "README.md.tmpl").read_text(encoding="utf-8").replace("{title}", title)
        (work / "README.md").write_text(readme, encoding="utf-8")
        os.chmod(work, 0o755)  # mkdtemp makes it private
        if target.exists():
            target.rmdir()  # empty, checked above
        os.rename(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target
