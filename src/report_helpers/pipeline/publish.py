"""Write into a staging folder, then publish with renames so readers never see half an edition."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from ..errors import LockHeld, UsageError

LATEST = "latest"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_edition_id(edition_id: str) -> str:
    if not _SAFE_ID.match(edition_id) or ".." in edition_id or edition_id == LATEST:
        raise UsageError(f"edition id {edition_id!r} may hold only letters, digits, '_', '-', '.'")
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


@contextmanager
def build_lock(reports_dir: Path, wait_seconds: float):
    """One build at a time per reports folder; wait a bounded time, then give up (exit 3)."""
    lock_path = reports_dir / ".build.lock"
    with open(lock_path, "a+") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockHeld(f"another build holds {lock_path}; waited {wait_seconds:g} s") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def clear_leftovers(reports_dir: Path) -> None:
    """Remove what killed builds left behind. Only the holder of the lock may do this."""
    for pattern in (".staging-*", ".retired-*"):
        for old in reports_dir.glob(pattern):
            shutil.rmtree(old, ignore_errors=True)


def staging_dir(reports_dir: Path, edition_id: str) -> Path:
    """A fresh private folder for one build."""
    path = reports_dir / f".staging-{edition_id}-{os.getpid()}"
    path.mkdir()
    return path


def publish(staging: Path, reports_dir: Path, edition_id: str, *, move_latest: bool = True) -> Path:
    """Swap the staged edition into place, then point `latest` at it, each step one rename."""
    target = reports_dir / edition_id
    retired = None
    if target.exists():
        retired = reports_dir / f".retired-{edition_id}-{os.getpid()}"
        os.replace(target, retired)
    os.replace(staging, target)
    if move_latest:
        point_latest(reports_dir, edition_id)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
    return target


def point_latest(reports_dir: Path, edition_id: str) -> None:
    link = reports_dir / LATEST
    tmp = reports_dir / f".{LATEST}-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(edition_id, target_is_directory=True)
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link)
    os.replace(tmp, link)


def keep_failed(staging: Path, reports_dir: Path, edition_id: str) -> Path:
    """Keep a failed build's executed notebooks and log for inspection, out of readers' way."""
    failed_root = reports_dir / ".failed"
    failed_root.mkdir(exist_ok=True)
    target = failed_root / edition_id
    if target.exists():
        shutil.rmtree(target)
    os.replace(staging, target)
    return target
