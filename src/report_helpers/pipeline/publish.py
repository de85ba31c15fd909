"""Publishing editions so that no reader ever sees half of one.

A reports folder holds:

    builds/<edition-id>.<stamp>/   one folder per build, complete before it gets there, never changed
    <edition-id> -> builds/...     an edition's stable name: a symlink, replaced by one rename
    latest, latest-<kind> -> ...   the newest complete edition of each kind, by as-of date
    index.html                     every edition (pipeline/index.py)
    .failed/<edition-id>/          the last failed run of each edition
    .cache/                        section cache and other build caches
    .staging-*, .link-*, ...       work in progress, cleared by the next holder of the lock

A build writes into a staging folder. Publishing fsyncs every file and folder in it, renames it
into builds/ (a new, unique name), fsyncs builds/, then swaps the edition's symlink and the
`latest*` pointers, each by creating a temporary symlink, fsyncing the folder and renaming it over
the old one. The old build folder is deleted only once nothing names it. So at every instant each
name points at a complete build, before a crash and after it.

Publishing runs under `.publish.lock`, which serializes the editions of a parallel batch, and marks
itself in `.publish-pending` until the index is written; the next lock holder finishes the job if a
kill interrupted it.

Test-only fault hook: with BRIEFING_FAULT=before:STEP or after:STEP the process SIGKILLs itself at
that step; BRIEFING_FAULT_LOG=FILE appends every step reached to FILE (see tests/test_publish.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
import signal
import time
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


def _step(name: str, action, *args):
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
        _step(f"rename-{step}", os.replace, tmp, target)
        _step(f"fsync-{step}", fsync_path, target.parent)
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


def _links(reports_dir: Path) -> dict[str, Path]:
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
    links = _links(reports_dir)
    entries: dict[Path, dict] = {}
    for name, target in sorted(links.items()):
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
    for name, target in sorted(links.items()):
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


# --- publishing ------------------------------------------------------------------------------------

def _swap_link(reports_dir: Path, name: str, folder: Path, label: str) -> None:
    """Point reports_dir/name at folder: make a temporary symlink, fsync, rename it over the name."""
    current = reports_dir / name
    if current.is_dir() and not current.is_symlink():
        _adopt(reports_dir, current)  # first: it uses the same temporary name
    tmp = reports_dir / f".link-{name}-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(os.path.relpath(folder, reports_dir), target_is_directory=True)
    _step(f"fsync-before-{label}", fsync_path, reports_dir)
    _step(f"rename-{label}", os.replace, tmp, current)
    _step(f"fsync-after-{label}", fsync_path, reports_dir)


def _unique_name(edition_id: str) -> str:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{edition_id}.{stamp}.{secrets.token_hex(3)}"


def _adopt(reports_dir: Path, folder: Path) -> None:
    """An edition folder from before builds/ existed: move it into builds/ and link it back.
    (For this one-time move, the name is missing between two renames.)"""
    builds = reports_dir / BUILDS
    builds.mkdir(exist_ok=True)
    target = builds / _unique_name(folder.name)
    os.rename(folder, target)
    tmp = reports_dir / f".link-{folder.name}-{os.getpid()}"
    if tmp.is_symlink():
        tmp.unlink()
    tmp.symlink_to(os.path.relpath(target, reports_dir), target_is_directory=True)
    os.replace(tmp, folder)
    fsync_path(builds)
    fsync_path(reports_dir)


def refresh_pointers(reports_dir: Path) -> list[str]:
    """Make every `latest*` pointer follow the policy (newest_complete); return the names moved."""
    entries = listing(reports_dir)
    links = _links(reports_dir)
    moved = []
    for name, entry in sorted(newest_complete(entries).items()):
        if links.get(name) != entry["path"].resolve():
            _swap_link(reports_dir, name, entry["path"], f"pointer-{name}")
            moved.append(name)
    for name in links:
        if is_pointer(name) and not (reports_dir / name).exists():  # dangling: its edition was removed
            (reports_dir / name).unlink()
            moved.append(name)
    return moved


def collect_garbage(reports_dir: Path) -> list[str]:
    """Delete build folders nothing names any more (superseded builds, or a kill's leftovers).
    Call it under the publish lock: a build folder is named within that lock's hold."""
    builds = reports_dir / BUILDS
    if not builds.is_dir():
        return []
    named = set(_links(reports_dir).values())
    removed = []
    for folder in sorted(builds.iterdir()):
        if folder.resolve() not in named:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed


def _finish(reports_dir: Path) -> None:
    from . import index

    refresh_pointers(reports_dir)
    _step("remove-superseded", collect_garbage, reports_dir)
    index.write_index(reports_dir)
    _step("clear-pending", (reports_dir / PENDING).unlink, True)


def publish(staging: Path, reports_dir: Path, edition_id: str) -> Path:
    """Publish a complete staging folder as edition_id, then the pointers and the index."""
    with publish_lock(reports_dir):
        write_atomically(reports_dir / PENDING, edition_id + "\n", step="pending")
        _step("fsync-staging", fsync_tree, staging)
        builds = reports_dir / BUILDS
        if not builds.is_dir():
            builds.mkdir()
            fsync_path(reports_dir)
        folder = builds / _unique_name(edition_id)
        _step("rename-edition", os.rename, staging, folder)
        _step("fsync-builds", fsync_path, builds)
        _swap_link(reports_dir, edition_id, folder, "link-edition")
        _finish(reports_dir)
    return reports_dir / edition_id


def refresh(reports_dir: Path) -> None:
    """Pointers and index as the policy wants them (after a prune, or a publish cut short)."""
    with publish_lock(reports_dir):
        (reports_dir / PENDING).touch()
        _finish(reports_dir)


def clear_leftovers(reports_dir: Path) -> None:
    """Remove what killed builds left behind, and finish a publish a kill cut short.
    Only the holder of the build lock may do this."""
    for pattern in (".staging-*", ".retired-*", ".link-*", ".*.tmp", ".index-*"):
        for old in reports_dir.glob(pattern):
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)
    adopted = False
    for path in list(reports_dir.iterdir()):
        if (path.is_dir() and not path.is_symlink() and not path.name.startswith(".") and path.name != BUILDS
                and not is_pointer(path.name) and (path / "manifest.json").is_file()):
            _adopt(reports_dir, path)
            adopted = True
    # A `latest` from before this layout names an edition, not a build, and followed the last build.
    old_pointers = [p for p in reports_dir.glob(LATEST + "*")
                    if is_pointer(p.name) and not (p.is_symlink() and os.readlink(p).startswith(BUILDS + "/"))]
    pending = adopted or bool(old_pointers) or (reports_dir / PENDING).exists()
    with publish_lock(reports_dir):
        collect_garbage(reports_dir)
    if pending:
        refresh(reports_dir)


def staging_dir(reports_dir: Path, edition_id: str) -> Path:
    """A fresh private folder for one build."""
    path = reports_dir / f".staging-{edition_id}-{os.getpid()}-{secrets.token_hex(2)}"
    path.mkdir()
    return path


def keep_failed(staging: Path, reports_dir: Path, edition_id: str) -> Path:
    """Keep a failed build's executed notebooks and log for inspection, out of readers' way."""
    failed_root = reports_dir / ".failed"
    failed_root.mkdir(exist_ok=True)
    target = failed_root / edition_id
    if target.exists():
        old = failed_root / f".old-{edition_id}-{os.getpid()}"
        os.replace(target, old)
        shutil.rmtree(old, ignore_errors=True)
    os.replace(staging, target)
    return target


# --- pruning -----------------------------------------------------------------------------------------

def prune(reports_dir: Path, *, keep: int | None = None, older_than_days: float | None = None,
          dry_run: bool = False, now: float | None = None) -> list[str]:
    """Remove old editions and failed runs; never one a `latest*` pointer names. Returns what went
    (or would go, with dry_run), as lines for people.

    --keep N keeps the N newest editions of each kind by as-of date, and the N newest failed runs.
    --older-than DAYS removes editions built, and failed runs that failed, more than DAYS ago."""
    if (keep is None) == (older_than_days is None):
        raise UsageError("prune: give exactly one of --keep N or --older-than DAYS")
    if keep is not None and keep < 0:
        raise UsageError(f"prune: --keep must be 0 or more, got {keep}")
    if older_than_days is not None and older_than_days < 0:
        raise UsageError(f"prune: --older-than must be 0 or more days, got {older_than_days:g}")
    now = time.time() if now is None else now
    entries = [e for e in listing(reports_dir) if not e["pinned"]]
    doomed: list[dict] = []
    if keep is not None:
        seen: dict[str, int] = {}
        for entry in entries:  # newest as-of first
            seen[entry["kind"]] = seen.get(entry["kind"], 0) + 1
            if seen[entry["kind"]] > keep:
                doomed.append(entry)
    else:
        cutoff = now - older_than_days * 86400
        doomed = [e for e in entries if _built_at(e) < cutoff]
    removed = []
    for entry in doomed:
        if entry["pointers"]:
            continue
        removed.append(f"edition {entry['folder']} (as of {entry['as_of']}, built {entry.get('built', '?')})")
        if not dry_run:
            link = reports_dir / entry["folder"]
            if link.is_symlink():
                link.unlink()
            else:
                shutil.rmtree(link, ignore_errors=True)
    failed_root = reports_dir / ".failed"
    failed = sorted((p for p in failed_root.iterdir() if not p.name.startswith(".")),
                    key=lambda p: p.stat().st_mtime, reverse=True) if failed_root.is_dir() else []
    if keep is not None:
        old_failed = failed[keep:]
    else:
        old_failed = [p for p in failed if p.stat().st_mtime < now - older_than_days * 86400]
    for path in old_failed:
        removed.append(f"failed run {path.name}")
        if not dry_run:
            shutil.rmtree(path, ignore_errors=True)
    if not dry_run:
        fsync_path(reports_dir)
        refresh(reports_dir)  # deletes the unnamed build folders, rewrites the index
    return removed


def _built_at(entry: dict) -> float:
    try:
        return dt.datetime.fromisoformat(entry["built"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return entry["path"].stat().st_mtime
