"""The reports folder: its layout, edition names and pointers, locks, durable writes, and reading
what is published. Writing editions into it is `publish.py`.

    builds/<edition-id>.<stamp>/   one folder per build, complete before it gets there, never changed
    <edition-id> -> builds/...     an edition's stable name: a symlink, replaced by one rename
    latest, latest-<kind> -> ...   the newest complete edition of each kind, by as-of date
    index.html, feed.xml           every edition (index.py, feed.py)
    .failed/<edition-id>/          the last failed run of each edition
    .cache/                        section cache and other build caches
    .staging-*, .link-*, ...       work in progress, cleared by the next holder of the lock

Test-only fault hook: with BRIEFING_FAULT=before:STEP or after:STEP the process SIGKILLs itself at
that step; BRIEFING_FAULT_LOG=FILE appends every step reached to FILE (see tests/test_publish.py).
"""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

from ..errors import UsageError
from ..locks import file_lock

LATEST = "latest"
BUILDS = "builds"
DEFAULT_KIND = "full"  # what a build with default parameters is: the full edition
PENDING = ".publish-pending"
FAULT_ENV = "BRIEFING_FAULT"
FAULT_LOG_ENV = "BRIEFING_FAULT_LOG"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_RESERVED = (BUILDS, "index.html", "feed.xml")


def check_edition_id(edition_id: str) -> str:
    if (not _SAFE_ID.match(edition_id) or ".." in edition_id or edition_id in _RESERVED
            or edition_id == LATEST or edition_id.startswith(LATEST + "-")):
        raise UsageError(f"edition id {edition_id!r} may hold only letters, digits, '_', '-', '.', and may "
                         f"not be {LATEST!r}, 'latest-…' or one of {', '.join(_RESERVED)}")
    return edition_id


def prepare_reports_dir(path: Path) -> Path:
    path = path.expanduser()
    if ".." in path.parts:
        raise UsageError(f"--reports-dir {path}: '..' is not allowed; give a plain or absolute path")
    path = path.resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--reports-dir {path}: cannot create it ({exc.strerror})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"--reports-dir {path}: no write permission")
    return path


def build_lock(reports_dir: Path, wait_seconds: float):
    """One build at a time per reports folder; wait a bounded time, then give up (exit 3)."""
    return file_lock(reports_dir / ".build.lock", wait_seconds, "another build")


def publish_lock(reports_dir: Path):
    """Held only while publishing (seconds): the editions of a parallel batch publish in turn."""
    return file_lock(reports_dir / ".publish.lock", None, "another publish")


# --- the fault hook and durability ------------------------------------------------------------

def _checkpoint(when: str, name: str) -> None:
    point = f"{when}:{name}"
    log_path = os.environ.get(FAULT_LOG_ENV)
    if log_path:
        with open(log_path, "a", encoding="utf-8") as handle:
            handle.write(point + "\n")
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def run_step(name: str, action, *args):
    _checkpoint("before", name)
    result = action(*args)
    _checkpoint("after", name)
    return result


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Every file, then every folder bottom up: what a rename publishes is on disk first."""
    for folder, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                fsync_path(path)
        fsync_path(Path(folder))


def write_atomically(target: Path, text: str, step: str | None = None) -> None:
    """Write a file next to the target, fsync it, rename it over the target, fsync the folder."""
    tmp = target.with_name(f".{target.name}-{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    if step:
        run_step(f"rename-{step}", os.replace, tmp, target)
        run_step(f"fsync-{step}", fsync_path, target.parent)
    else:
        os.replace(tmp, target)
        fsync_path(target.parent)


# --- what is published ---------------------------------------------------------------------------

def kind_of(edition_id: str) -> str:
    """'2024-06-30_brief' -> 'brief'; '2024-06-30_full_1a2b3c4d' -> 'full_1a2b3c4d'."""
    return edition_id.split("_", 1)[1] if "_" in edition_id else edition_id


def pointer_for(kind: str, default_kind: str = DEFAULT_KIND) -> str:
    return LATEST if kind == default_kind else f"{LATEST}-{kind}"


def is_pointer(name: str) -> bool:
    return name == LATEST or name.startswith(LATEST + "-")


def read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def links(reports_dir: Path) -> dict[str, Path]:
    """Top-level symlinks (edition names and pointers) -> the resolved folder they name."""
    out = {}
    for path in reports_dir.iterdir():
        if path.is_symlink() and not path.name.startswith("."):
            out[path.name] = path.resolve()
    return out


def _entry(folder: Path, name: str, pinned: bool) -> dict | None:
    data = read_manifest(folder)
    if data is None:
        return None
    edition_id = data.get("edition_id") or name
    kind = data.get("kind") or kind_of(edition_id)
    data.update(folder=name, build=folder.name if folder.parent.name == BUILDS else None, path=folder,
                kind=kind, pointer=data.get("pointer", pointer_for(kind)), pinned=pinned,
                as_of=data.get("parameters", {}).get("as_of", ""), pointers=[])
    return data


def listing(reports_dir: Path) -> list[dict]:
    """Every published edition: its manifest, plus where it is ("folder", a name relative to the
    reports folder) and which `latest*` pointers name it. A pointer can name a complete build whose
    edition name has since been republished partial (--allow-partial): that build is listed too,
    as pinned. Newest as-of date first; for one date the default kind first, then the newest build."""
    if not reports_dir.is_dir():
        return []
    named = links(reports_dir)
    entries: dict[Path, dict] = {}
    for name, target in sorted(named.items()):
        if not is_pointer(name) and target.is_dir():
            entry = _entry(target, name, pinned=False)
            if entry:
                entries[target] = entry
    for path in sorted(reports_dir.iterdir()):  # folders from before builds/ existed
        if (path.is_dir() and not path.is_symlink() and not path.name.startswith(".")
                and path.name != BUILDS and path.resolve() not in entries):
            entry = _entry(path, path.name, pinned=False)
            if entry:
                entries[path.resolve()] = entry
    for name, target in sorted(named.items()):
        if is_pointer(name) and target.is_dir():
            if target not in entries:
                entry = _entry(target, f"{BUILDS}/{target.name}", pinned=True)
                if entry is None:
                    continue
                entries[target] = entry
            entries[target]["pointers"].append(name)
    return sorted(entries.values(), key=lambda e: (e["as_of"], e["kind"] == DEFAULT_KIND, e.get("built", "")),
                  reverse=True)


def newest_complete(entries: list[dict]) -> dict[str, dict]:
    """The policy: for each pointer name, the complete edition with the newest as-of date (for the
    same date, the newest build). Earlier dates, other kinds and partial editions never move it."""
    wanted: dict[str, dict] = {}
    for entry in entries:
        if entry.get("status") != "ok" or not entry.get("pointer"):
            continue
        best = wanted.get(entry["pointer"])
        if best is None or (entry["as_of"], entry.get("built", "")) > (best["as_of"], best.get("built", "")):
            wanted[entry["pointer"]] = entry
    return wanted
