"""The preview's builder: one thread that takes the saved changes and does the least work that
shows them (a markdown re-render, one section rerun, or a cached build), on warm workers that live
as long as the preview."""

from __future__ import annotations

import logging
import os
import queue
import time
from pathlib import Path

from ..errors import BriefingError
from .failure import cell_failure
from .live import LiveSections
from .options import FOLDER, PreviewOptions
from .shown import Shown

log = logging.getLogger("briefing")


class _Stopped(Exception):
    """The preview is stopping: no new worker may start."""


def _pool_class():
    from ..pipeline.execute import Pool

    class PreviewPool(Pool):
        """Warm workers kept across builds; once closed, a dead worker is never replaced."""

        closing = False

        def _spawn(self):
            if self.closing:
                raise _Stopped()
            return super()._spawn()

        def close(self) -> None:
            self.closing = True
            super().close()

    return PreviewPool


class Builder:
    """The one thread that builds, and the warm workers it runs sections on."""

    def __init__(self, options: PreviewOptions):
        from ..paths import project_dir
        from ..publishing import store

        self.options = options
        self.root = project_dir()
        self.reports_dir = store.prepare_reports_dir(options.reports_dir)
        self.preview_dir = self.reports_dir / FOLDER
        self.preview_dir.mkdir(exist_ok=True)
        self.shown = Shown()
        self.stopping = self.shown.stopping
        self.live = LiveSections(self.preview_dir, self.shown)
        self.requests: queue.Queue = queue.Queue()  # sets of changed paths, from the watcher
        self.pool = None
        self.build_params = None  # the edition's parameters, checked when the workers start

    def _build_options(self):
        from ..pipeline.build import CACHE_DIR, BuildOptions

        o = self.options
        return BuildOptions(given=dict(o.given), reports_dir=self.preview_dir, cache_dir=self.reports_dir / CACHE_DIR,
                            jobs=o.jobs, cell_timeout=o.cell_timeout, section_timeout=o.section_timeout,
                            allow_partial=True, pdf=o.pdf, pool=self.pool, lock_wait=5.0)

    def start_pool(self) -> None:
        from ..pipeline.build import check_inputs

        if self.stopping.is_set():
            raise _Stopped()
        sections, self.build_params = check_inputs(self._build_options())
        workers = max(1, min(self.options.jobs or os.cpu_count() or 1, len(sections)))
        self.pool = _pool_class()(workers, project_dir=str(self.root), results_dir=str(self.preview_dir),
                                  engine="warm", cell_timeout=self.options.cell_timeout)

    def restart_pool(self) -> None:
        if self.pool is not None:
            self.pool.close()
        self.pool = None
        self.start_pool()

    def full_build(self, why: str) -> None:
        from ..errors import SectionFailed
        from ..publishing import store
        from ..pipeline.build import build

        self.shown.set_building()
        start = time.perf_counter()
        log.info("preview: building (%s)", why)
        try:
            result = build(self._build_options())
            edition, failed = result.edition_dir, False
        except SectionFailed:
            edition, failed = self._newest_edition(), True
        except BriefingError as exc:  # bad data, a notebook that is not JSON yet, ...
            log.error("preview: %s", exc)
            self.shown.publish(error={"message": str(exc), "exception": str(exc)}, stale=True,
                          timing={"kind": "build", "why": why, "seconds": time.perf_counter() - start,
                                  "ok": False})
            return
        manifest = store.read_manifest(edition) if edition else None
        error = None
        if manifest:
            failed_entries = [e for e in manifest.get("sections", []) if e.get("status") == "failed"]
            if failed_entries:
                error = cell_failure(edition, failed_entries[0])
        elif failed:
            error = {"message": "the build failed", "exception": "the build failed; see the log"}
        seconds = time.perf_counter() - start
        self.shown.publish(folder=edition, overrides={}, error=error, stale=edition is None,
                      timing={"kind": "build", "why": why, "seconds": seconds, "ok": error is None})
        log.info("preview: built in %.2f s%s", seconds, "; a section failed" if error else "")
        self.live.rendered = None  # recomputed below, after the page has been told to reload
        if edition and not error and not self.options.pdf:
            try:
                self.live.prepare(edition, manifest)
            except Exception:  # then a markdown edit makes a full (cached) build instead
                log.debug("preview: markdown fast path unavailable", exc_info=True)

    def _newest_edition(self) -> Path | None:
        from ..pipeline.build import check_inputs

        _sections, params = check_inputs(self._build_options())
        folder = self.preview_dir / params.edition_id
        return folder if folder.is_dir() else None

    def handle(self, changes: set[Path]) -> None:
        helpers = self.root / "src" / "report_helpers"
        package = Path(__file__).resolve().parents[1]
        code = [p for p in changes if p.suffix == ".py" and (p.is_relative_to(package) or p.is_relative_to(helpers))]
        notebooks = {p for p in changes if p.suffix == ".ipynb" and p.parent == self.root / "notebooks"}
        others = changes - set(code) - notebooks
        names = ", ".join(sorted(p.name for p in changes))
        if code:
            if any({"pipeline", "publishing", "preview"} & set(p.parts) for p in code):
                log.warning("preview: the build's own code changed (%s); restart briefing preview to use it",
                            names)
            self.shown.set_building()
            self.restart_pool()  # the workers import the helpers once
            self.full_build(f"helper code changed: {names}")
            return
        if notebooks and not others:
            slugs = self.live.markdown_only(notebooks)
            if slugs:
                self.live.rerender(slugs)
                return
            try:
                if self.live.rerun(notebooks, self.pool, self.build_params, self.options.section_timeout):
                    return
            except BriefingError:
                pass  # the full build reports it
        self.full_build(f"changed: {names}")

    def run(self) -> None:
        """The one thread that builds: the workers live as long as it does (they die with it)."""
        try:
            self.start_pool()
            self.full_build("first build")
        except _Stopped:
            return
        except Exception as exc:
            if self.stopping.is_set():
                return
            log.exception("preview: the first build failed")
            self.shown.publish(error={"message": str(exc), "exception": f"{type(exc).__name__}: {exc}"}, stale=True)
        while not self.stopping.is_set():
            try:
                changes = self.requests.get(timeout=0.2)
            except queue.Empty:
                continue
            while True:  # everything saved meanwhile, at once
                try:
                    changes |= self.requests.get_nowait()
                except queue.Empty:
                    break
            try:
                if self.pool is None:
                    self.start_pool()
                self.handle(changes)
            except _Stopped:
                return
            except Exception as exc:  # keep serving; say what went wrong in the page
                if self.stopping.is_set():
                    return
                log.exception("preview: rebuild failed")
                self.shown.publish(error={"message": str(exc), "exception": f"{type(exc).__name__}: {exc}"}, stale=True)

    def stop(self) -> None:
        self.shown.stop()
        if self.pool is not None:
            self.pool.close()
