"""What the preview shows, shared by the thread that builds and the threads that serve: the edition
folder, pages re-rendered in memory, the failure to show, and a version that moves on each update."""

from __future__ import annotations

import threading
from pathlib import Path


class Shown:
    def __init__(self):
        self.cond = threading.Condition()
        self.stopping = threading.Event()
        self.version = 0
        self.building = False
        self.folder: Path | None = None  # the edition served
        self.overrides: dict[str, str] = {}  # file name -> HTML re-rendered in memory (edits)
        self.error: dict | None = None
        self.stale = False  # the page is the last good build, the last build failed
        self.timings: list[dict] = []  # what each rebuild did and how long it took (for the benchmark)

    def snapshot(self) -> dict:
        with self.cond:
            return {"version": self.version, "building": self.building, "folder": str(self.folder or ""),
                    "error": self.error, "stale": self.stale, "timings": self.timings[-20:]}

    def publish(self, *, folder: Path | None = None, overrides: dict | None = None,
                error: dict | None = None, stale: bool = False, timing: dict | None = None) -> None:
        """A new version: every open page is told to fetch it."""
        with self.cond:
            if folder is not None:
                self.folder = folder
            if overrides is not None:
                self.overrides = overrides
            self.error, self.stale = error, stale
            self.building = False
            self.version += 1
            if timing:
                timing["version"] = self.version
                self.timings.append(timing)
            self.cond.notify_all()

    def set_building(self) -> None:
        with self.cond:
            self.building = True
            self.cond.notify_all()

    def stop(self) -> None:
        self.stopping.set()
        with self.cond:
            self.cond.notify_all()
