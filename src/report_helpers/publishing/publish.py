"""Publishing editions so that no reader ever sees half of one.

The reports folder's layout is described in `store.py`. A build writes into a staging folder. Publishing fsyncs every file and folder in it, renames it
into builds/ (a new, unique name), fsyncs builds/, then swaps the edition's symlink and the
`latest*` pointers, each by creating a temporary symlink, fsyncing the folder and renaming it over
the old one. The old build folder is deleted only once nothing names it. So at every instant each
name points at a complete build, before a crash and after it.

Publishing runs under `.publish.lock`, which serializes the editions of a parallel batch, and marks
itself in `.publish-pending` until the index is written; the next lock holder finishes the job if a
kill interrupted it.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import time
from pathlib import Path

from . import index
from ..errors import UsageError
from .store import (BUILDS, LATEST, PENDING, links, fsync_path, fsync_tree, is_pointer, listing, newest_complete, publish_lock,
                     run_step, write_atomically)


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
    run_step(f"fsync-before-{label}", fsync_path, reports_dir)
    run_step(f"rename-{label}", os.replace, tmp, current)
    run_step(f"fsync-after-{label}", fsync_path, reports_dir)


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
    named = links(reports_dir)
    moved = []
    for name, entry in sorted(newest_complete(entries).items()):
        if named.get(name) != entry["path"].resolve():
            _swap_link(reports_dir, name, entry["path"], f"pointer-{name}")
            moved.append(name)
    for name in named:
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
    named = set(links(reports_dir).values())
    removed = []
    for folder in sorted(builds.iterdir()):
        if folder.resolve() not in named:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed


def _finish(reports_dir: Path) -> None:
    refresh_pointers(reports_dir)
    run_step("remove-superseded", collect_garbage, reports_dir)
    index.write_index(reports_dir)
    run_step("clear-pending", (reports_dir / PENDING).unlink, True)


def publish(staging: Path, reports_dir: Path, edition_id: str) -> Path:
    """Publish a complete staging folder as edition_id, then the pointers and the index."""
    with publish_lock(reports_dir):
        write_atomically(reports_dir / PENDING, edition_id + "\n", step="pending")
        run_step("fsync-staging", fsync_tree, staging)
        builds = reports_dir / BUILDS
        if not builds.is_dir():
            builds.mkdir()
            fsync_path(reports_dir)
        folder = builds / _unique_name(edition_id)
        run_step("rename-edition", os.rename, staging, folder)
        run_step("fsync-builds", fsync_path, builds)
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
