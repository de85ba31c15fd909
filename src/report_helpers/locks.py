"""Advisory file locks (flock): released by the kernel even when the holder is killed."""

from __future__ import annotations

import fcntl
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import LockHeld


@contextmanager
def file_lock(path: Path, wait_seconds: float | None, holder: str):
    """Hold an exclusive lock on ``path``; wait at most ``wait_seconds`` (None: as long as it takes),
    then give up with LockHeld (exit 3), naming the ``holder`` that has it."""
    with open(path, "a+") as handle:
        deadline = None if wait_seconds is None else time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if deadline is None else fcntl.LOCK_NB))
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockHeld(f"{holder} holds {path}; waited {wait_seconds:g} s") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
