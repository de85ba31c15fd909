"""`briefing preview`: the briefing's HTML on localhost, rebuilt on every save, reloading itself.

One process serves REPORTS_DIR/.preview/<edition-id>/ over HTTP (127.0.0.1 unless told otherwise)
and watches notebooks/, data/ and src/report_helpers/. On a save it rebuilds only what changed:

- an edit to a notebook's markdown only re-renders that section from its executed notebook (no
  kernel, no build); the page is rebuilt in memory from the other sections' HTML;
- an edit to the code of a section already shown runs that section alone on a warm worker, against
  the last build's figures (REPORTS_DIR/.preview/.live/), and re-renders it; if its figures change,
  a full build follows;
- anything else runs `briefing build` into REPORTS_DIR/.preview/ with the section cache of
  REPORTS_DIR (only the affected sections execute) on the same warm workers, which live as long as
  the preview (restarted when the helper code changes); no PDF unless --pdf;
- a failing section is shown in the page: a banner names the section, the cell (as JupyterLab
  numbers it), the failing source line and the exception.

Pages are served with a small script that listens for server-sent events (/_preview/events) and,
on a new version, swaps in the new page's body in place (the reader keeps their place). `latest`
never moves: previews are built only into REPORTS_DIR/.preview/. Ctrl-C stops the server and the
workers.
"""

from __future__ import annotations

import dataclasses
import errno
import html
import json
import logging
import os
import queue
import re
import shutil
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from .errors import BriefingError, LockHeld, UsageError

log = logging.getLogger("briefing")
FOLDER = ".preview"  # REPORTS_DIR/.preview/: preview editions, never pointed at by latest
LIVE = ".live"  # REPORTS_DIR/.preview/.live/: sections rerun for code edits, and the results they read
EVENTS = "/_preview/events"
STATE = "/_preview/state"
_IGNORED = re.compile(r"(~|\.sw.|\.tmp|\.pyc)$|(^|/)(\.ipynb_checkpoints|__pycache__|\.#|\.~)")
_CELL_LINE = [re.compile(r'File "<ipython-input-[^"]*>", line (\d+)'),  # warm engine
              re.compile(r"ipykernel_\d+/\d+\.py\", line (\d+)"), re.compile(r"Cell In\[\d+\], line (\d+)")]
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclasses.dataclass
class PreviewOptions:
    given: dict[str, str] = dataclasses.field(default_factory=dict)
    reports_dir: Path = Path("reports")
    host: str = "127.0.0.1"
    port: int = 8000
    pdf: bool = False
    open_browser: bool = True
    jobs: int = 0
    cell_timeout: int = 300
    section_timeout: float = 900.0


class _Stopped(Exception):
    """The preview is stopping: no new worker may start."""


def _pool_class():
    from .pipeline.execute import Pool

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


# --- what the page shows --------------------------------------------------------------------------

def cell_failure(edition: Path, entry: dict) -> dict:
    """A failed section of a built edition: its notebook, cell number (as JupyterLab shows it),
    the failing source line and the exception, read from the executed notebook."""
    import nbformat

    from .pipeline.execute import source_numbers

    found = {"section": entry.get("slug", "?"), "notebook": entry.get("notebook", ""), "cell": None,
             "line": "", "exception": entry.get("error", "failed"), "message": entry.get("error", "failed")}
    try:
        nb = nbformat.read(edition / entry["notebook"], as_version=4)
    except (OSError, KeyError, ValueError):
        return found
    for cell, number in zip(nb.cells, source_numbers(nb.cells)):
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        if error is None:
            continue
        lines = cell.source.splitlines()
        trace = _ANSI.sub("", "\n".join(error.get("traceback", [])))
        at = [int(m) for pattern in _CELL_LINE for m in pattern.findall(trace)]
        index = at[-1] - 1 if at and 0 < at[-1] <= len(lines) else 0
        found.update(cell=number, line=(lines[index].strip() if lines else ""),
                     exception=f"{error.get('ename', 'Error')}: {error.get('evalue', '')}")
        break
    return found


def _banner(error: dict | None, stale: bool) -> str:
    if not error:
        return ""
    where = error.get("notebook") or ""
    if error.get("cell"):
        where += f", cell {error['cell']}"
    text = [f"<strong>{'Build failed' if stale else 'A section failed'}"
            f"{': section ' + html.escape(error['section']) if error.get('section') else ''}</strong>"]
    if where:
        text.append(f"<span>{html.escape(where)}</span>")
    if error.get("line"):
        text.append(f"<code>{html.escape(error['line'])}</code>")
    text.append(f"<span>{html.escape(error.get('exception') or error.get('message', ''))}</span>")
    if stale:
        text.append("<em>The rest of this page is from the last successful build.</em>")
    style = ("position:sticky;top:0;z-index:1000;margin:0;padding:.75em 1em;background:#fff0f0;"
             "border-bottom:3px solid #b00020;color:#1a1a1a;font:15px/1.45 system-ui,sans-serif;"
             "display:flex;flex-direction:column;gap:.2em")
    return f'<div id="briefing-preview-error" role="alert" style="{style}">{"".join(text)}</div>'


_SCRIPT = """<script id="briefing-preview">(() => {
  // Server-sent events say when a new version is ready; the page swaps in its new body in place
  // (no reload: the reader stays where they are), or reloads if that fails.
  const badge = document.createElement("div");
  badge.id = "briefing-preview-building";
  badge.textContent = "Rebuilding\\u2026";
  badge.setAttribute("role", "status");
  badge.style.cssText = "position:fixed;right:1em;bottom:1em;padding:.4em .8em;background:#1a1a1a;" +
    "color:#fff;font:14px system-ui,sans-serif;border-radius:4px;display:none;z-index:1001";
  let version = %(version)d;
  let events = null;
  const listen = () => {
    events = new EventSource("%(events)s?v=" + version);
    events.addEventListener("building", () => { badge.style.display = "block"; });
    events.addEventListener("reload", async (event) => {
      events.close();
      try {
        const response = await fetch(location.href, {cache: "no-store"});
        if (!response.ok) throw new Error(response.status);
        const next = new DOMParser().parseFromString(await response.text(), "text/html");
        const [x, y] = [window.scrollX, window.scrollY];
        next.getElementById("briefing-preview")?.remove();
        document.title = next.title;
        document.body.replaceWith(next.body);
        document.body.appendChild(badge);
        badge.style.display = "none";
        window.scrollTo(x, y);
        version = Number(event.data);
        listen();
      } catch (error) {
        location.reload();
      }
    });
  };
  document.body.appendChild(badge);
  listen();
})();</script>"""

_WAITING = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Briefing preview</title></head>
<body><main><h1>Building the briefing preview&hellip;</h1><p>This page reloads itself when it is ready.</p></main>
</body></html>"""


# --- the preview ------------------------------------------------------------------------------------

class Preview:
    def __init__(self, options: PreviewOptions):
        from .publishing import store
        from .paths import project_dir

        self.options = options
        self.root = project_dir()
        self.reports_dir = store.prepare_reports_dir(options.reports_dir)
        self.preview_dir = self.reports_dir / FOLDER
        self.preview_dir.mkdir(exist_ok=True)
        self.cond = threading.Condition()
        self.version = 0
        self.building = False
        self.folder: Path | None = None  # the edition served
        self.overrides: dict[str, str] = {}  # file name -> HTML re-rendered in memory (markdown edits)
        self.error: dict | None = None
        self.stale = False  # the page is the last good build, the last build failed
        self.stopping = threading.Event()
        self.requests: queue.Queue = queue.Queue()
        self.pool = None
        self.rendered: dict | None = None  # per section: executed notebook and page, for markdown edits
        self.build_params = None  # the edition's parameters, checked when the workers start
        self.timings: list[dict] = []  # what each rebuild did and how long it took (for the benchmark)

    # the server's view, under self.cond
    def snapshot(self) -> dict:
        with self.cond:
            return {"version": self.version, "building": self.building, "folder": str(self.folder or ""),
                    "error": self.error, "stale": self.stale, "timings": self.timings[-20:]}

    def _publish(self, *, folder: Path | None = None, overrides: dict | None = None,
                 error: dict | None = None, stale: bool = False, timing: dict | None = None) -> None:
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

    def _set_building(self) -> None:
        with self.cond:
            self.building = True
            self.cond.notify_all()

    # --- building ---------------------------------------------------------------------------------

    def _build_options(self):
        from .pipeline.build import CACHE_DIR, BuildOptions

        o = self.options
        return BuildOptions(given=dict(o.given), reports_dir=self.preview_dir, cache_dir=self.reports_dir / CACHE_DIR,
                            jobs=o.jobs, cell_timeout=o.cell_timeout, section_timeout=o.section_timeout,
                            allow_partial=True, pdf=o.pdf, pool=self.pool, lock_wait=5.0)

    def _start_pool(self) -> None:
        from .pipeline.build import check_inputs

        if self.stopping.is_set():
            raise _Stopped()
        sections, self.build_params = check_inputs(self._build_options())
        workers = max(1, min(self.options.jobs or os.cpu_count() or 1, len(sections)))
        self.pool = _pool_class()(workers, project_dir=str(self.root), results_dir=str(self.preview_dir),
                                  engine="warm", cell_timeout=self.options.cell_timeout)

    def _restart_pool(self) -> None:
        if self.pool is not None:
            self.pool.close()
        self.pool = None
        self._start_pool()

    def full_build(self, why: str) -> None:
        from .errors import SectionFailed
        from .publishing import store
        from .pipeline.build import build

        self._set_building()
        start = time.perf_counter()
        log.info("preview: building (%s)", why)
        try:
            result = build(self._build_options())
            edition, failed = result.edition_dir, False
        except SectionFailed:
            edition, failed = self._newest_edition(), True
        except BriefingError as exc:  # bad data, a notebook that is not JSON yet, ...
            log.error("preview: %s", exc)
            self._publish(error={"message": str(exc), "exception": str(exc)}, stale=True,
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
        self._publish(folder=edition, overrides={}, error=error, stale=edition is None,
                      timing={"kind": "build", "why": why, "seconds": seconds, "ok": error is None})
        log.info("preview: built in %.2f s%s", seconds, "; a section failed" if error else "")
        self.rendered = None  # recomputed below, after the page has been told to reload
        if edition and not error and not self.options.pdf:
            try:
                self._prepare_markdown_edits(edition, manifest)
            except Exception:  # then a markdown edit makes a full (cached) build instead
                log.debug("preview: markdown fast path unavailable", exc_info=True)

    def _newest_edition(self) -> Path | None:
        from .pipeline.build import check_inputs

        _sections, params = check_inputs(self._build_options())
        folder = self.preview_dir / params.edition_id
        return folder if folder.is_dir() else None

    def _prepare_markdown_edits(self, edition: Path, manifest: dict) -> None:
        """Each section's executed notebook and HTML, so a markdown edit re-renders one section."""
        import nbformat

        from . import catalogue
        from .pipeline import assemble, convert
        from .sections import discover

        params = manifest.get("parameters", {})
        import datetime as dt

        meta = assemble.Meta(dt.date.fromisoformat(params["as_of"]), params["edition"],
                             dt.datetime.fromisoformat(manifest["built"]), manifest.get("changes"))
        by_slug = {s.slug: s for s in discover()}
        sections = {}
        for entry in manifest.get("sections", []):
            section = by_slug.get(entry["slug"])
            if section is None:
                return
            executed = nbformat.read(edition / entry["notebook"], as_version=4)
            cleaned = convert.clean(executed, edition=params["edition"])
            page = assemble.SectionPage(section.slug, section.title, convert.fragment(cleaned.notebook, section.slug))
            sections[section.slug] = {"executed": executed, "page": page, "path": section.path}
        live = self.preview_dir / LIVE
        shutil.rmtree(live, ignore_errors=True)
        shutil.copytree(edition / "results", live / "results")  # what code edits run against
        self.rendered = {"meta": meta, "sources": catalogue.sources(), "sections": sections,
                         "edition": params["edition"]}

    def markdown_only(self, notebooks: set[Path]) -> list[str] | None:
        """The sections whose notebooks changed in their markdown only (None: something else changed)."""
        if self.rendered is None:  # set only when no PDF is printed
            return None

        def code(cells) -> list:
            return [("".join(c.get("source", "")), c.get("metadata", {}).get("tags", [])) for c in cells
                    if c.get("cell_type") == "code"
                    and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]

        slugs = []
        for path in notebooks:
            entry = next((s for s in self.rendered["sections"].values() if s["path"] == path), None)
            if entry is None:
                return None
            try:
                source = json.loads(path.read_text(encoding="utf-8"))["cells"]
            except Exception:  # half-written: let the build say what is wrong
                return None
            if code(source) != code(entry["executed"].cells):
                return None
            slugs.append(next(slug for slug, s in self.rendered["sections"].items() if s is entry))
        return slugs

    def rerender(self, slugs: list[str]) -> None:
        """Markdown edits: merge each section's new markdown with its outputs, convert that section
        only, and rebuild the pages in memory. Nothing executes."""
        import nbformat

        from .pipeline import assemble, convert
        from .pipeline.cache import merge_markdown
        from .sections import find_section

        start = time.perf_counter()
        r = self.rendered
        overrides = dict(self.overrides)
        for slug in slugs:
            entry = r["sections"][slug]
            section = find_section(slug)
            merged, _changed = merge_markdown(entry["executed"], nbformat.read(section.path, as_version=4))
            cleaned = convert.clean(merged, edition=r["edition"])
            page = assemble.SectionPage(slug, section.title, convert.fragment(cleaned.notebook, slug))
            entry.update(executed=merged, page=page)
            overrides[f"{section.path.stem}.html"] = assemble.section_page(page, r["meta"], r["sources"])
        pages = [s["page"] for s in r["sections"].values()]
        overrides["briefing.html"] = assemble.briefing_page(pages, r["meta"], r["sources"])
        seconds = time.perf_counter() - start
        self._publish(overrides=overrides,
                      timing={"kind": "markdown", "why": ", ".join(slugs), "seconds": seconds, "ok": True})
        log.info("preview: re-rendered %s (markdown only) in %.2f s", ", ".join(slugs), seconds)

    def rerun(self, notebooks: set[Path]) -> bool:
        """Code edits to sections already shown: run those sections on the warm workers and re-render
        them in memory. False (a full build is needed) if a section is new, or its figures changed
        (sections that read them, and the changes note, must follow)."""
        from .pipeline import assemble, convert
        from .pipeline.cache import results_digest
        from .pipeline.execute import Execution, Job
        from .sections import discover

        if self.rendered is None:  # set only when no PDF is printed
            return False
        r = self.rendered
        by_path = {s.path: s for s in discover()}
        chosen = [by_path.get(path) for path in notebooks]
        if None in chosen or any(s.slug not in r["sections"] for s in chosen):
            return False
        for s in chosen:
            s.check()  # a notebook the build would refuse: the full build says why
        build_params = self.build_params
        live = self.preview_dir / LIVE
        results = live / "results"
        before = {s.slug: results_digest(results / f"{s.slug}.json") for s in chosen}
        jobs = [Job(s.slug, str(s.path), str(live / s.path.name), build_params.for_section(s.parameters), s.reads,
                    str(live / "work" / s.slug), str(live / f"{s.slug}.stderr.log"), results_dir=str(results))
                for s in chosen]
        ran_now = {s.slug for s in chosen}
        self._set_building()
        start = time.perf_counter()
        done = self.pool.run(jobs, section_timeout=self.options.section_timeout,
                             done={d: Execution(d, True, 0.0) for s in chosen for d in s.reads
                                   if d not in ran_now})
        ran = {s.slug: round(done[s.slug].seconds, 2) for s in chosen}
        failed = [s for s in chosen if not done[s.slug].ok]
        timing = {"kind": "code", "why": ", ".join(ran), "ran": ran}
        if failed:
            s = failed[0]
            error = cell_failure(live, {"slug": s.slug, "notebook": s.path.name, "error": done[s.slug].error})
            timing.update(seconds=time.perf_counter() - start, ok=False)
            self._publish(error=error, stale=True, timing=timing)
            log.error("preview: section %s failed: %s", s.slug, done[s.slug].error)
            return True
        if any(results_digest(results / f"{s.slug}.json") != before[s.slug] for s in chosen):
            return False  # figures moved: the full build runs what reads them and redoes the note
        import nbformat

        overrides = dict(self.overrides)
        for s in chosen:
            executed = nbformat.read(live / s.path.name, as_version=4)
            cleaned = convert.clean(executed, edition=r["edition"])
            page = assemble.SectionPage(s.slug, s.title, convert.fragment(cleaned.notebook, s.slug))
            r["sections"][s.slug].update(executed=executed, page=page)
            overrides[f"{s.path.stem}.html"] = assemble.section_page(page, r["meta"], r["sources"])
        overrides["briefing.html"] = assemble.briefing_page([e["page"] for e in r["sections"].values()],
                                                            r["meta"], r["sources"])
        timing.update(seconds=time.perf_counter() - start, ok=True)
        self._publish(overrides=overrides, timing=timing)
        log.info("preview: ran %s and re-rendered in %.2f s",
                 ", ".join(f"{slug} ({sec:.1f} s)" for slug, sec in ran.items()), timing["seconds"])
        return True

    def handle(self, changes: set[Path]) -> None:
        helpers = self.root / "src" / "report_helpers"
        package = Path(__file__).resolve().parent
        code = [p for p in changes if p.suffix == ".py" and (p.is_relative_to(package) or p.is_relative_to(helpers))]
        notebooks = {p for p in changes if p.suffix == ".ipynb" and p.parent == self.root / "notebooks"}
        others = changes - set(code) - notebooks
        names = ", ".join(sorted(p.name for p in changes))
        if code:
            if any("pipeline" in p.parts for p in code):
                log.warning("preview: the build's own code changed (%s); restart briefing preview to use it",
                            names)
            self._set_building()
            self._restart_pool()  # the workers import the helpers once
            self.full_build(f"helper code changed: {names}")
            return
        if notebooks and not others:
            slugs = self.markdown_only(notebooks)
            if slugs:
                self.rerender(slugs)
                return
            try:
                if self.rerun(notebooks):
                    return
            except BriefingError:
                pass  # the full build reports it
        self.full_build(f"changed: {names}")

    def builder(self) -> None:
        """The one thread that builds: the workers live as long as it does (they die with it)."""
        try:
            self._start_pool()
            self.full_build("first build")
        except _Stopped:
            return
        except Exception as exc:
            if self.stopping.is_set():
                return
            log.exception("preview: the first build failed")
            self._publish(error={"message": str(exc), "exception": f"{type(exc).__name__}: {exc}"}, stale=True)
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
                    self._start_pool()
                self.handle(changes)
            except _Stopped:
                return
            except Exception as exc:  # keep serving; say what went wrong in the page
                if self.stopping.is_set():
                    return
                log.exception("preview: rebuild failed")
                self._publish(error={"message": str(exc), "exception": f"{type(exc).__name__}: {exc}"}, stale=True)

    def watch(self) -> None:
        import watchfiles

        paths = [self.root / "notebooks", self.root / "data", self.root / "src" / "report_helpers",
                 Path(__file__).resolve().parent]
        paths = list(dict.fromkeys(p for p in paths if p.is_dir()))

        def wanted(_change, path: str) -> bool:
            return not _IGNORED.search(path) and not Path(path).is_relative_to(self.reports_dir)

        for batch in watchfiles.watch(*paths, watch_filter=wanted, debounce=400, step=30,
                                      stop_event=self.stopping, rust_timeout=500, yield_on_timeout=False):
            changed = {Path(p) for _c, p in batch}
            log.info("preview: saw %s", ", ".join(sorted(p.name for p in changed)))
            self.requests.put(changed)

    # --- serving ------------------------------------------------------------------------------------

    def page(self, name: str) -> tuple[bytes, str] | None:
        """(body, content type) of a file of the served edition, HTML with the reload script."""
        import mimetypes

        with self.cond:
            folder, overrides, version = self.folder, self.overrides, self.version
            error, stale = self.error, self.stale
        if name in overrides:
            text = overrides[name]
        elif folder is None:
            text = _WAITING if name == "briefing.html" else None
            if text is None:
                return None
        else:
            target = (folder / name).resolve()
            if not target.is_relative_to(folder.resolve()) or not target.is_file():
                return None
            if target.suffix != ".html":
                return target.read_bytes(), mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            text = target.read_text(encoding="utf-8")
        body_open = re.search(r"<body[^>]*>", text)
        at = body_open.end() if body_open else 0
        text = text[:at] + _banner(error, stale) + text[at:]  # first thing in the page
        script = _SCRIPT % {"events": EVENTS, "version": version}
        closing = [m.start() for m in re.finditer(r"</body\s*>", text, re.IGNORECASE)]
        text = text[:closing[-1]] + script + text[closing[-1]:] if closing else text + script
        return text.encode("utf-8"), "text/html; charset=utf-8"

    def serve_events(self, handler: BaseHTTPRequestHandler, shown: int) -> None:
        handler.send_response(HTTPStatus.OK)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-store")
        handler.end_headers()
        told_building = False
        while not self.stopping.is_set():
            with self.cond:
                self.cond.wait_for(lambda: self.version != shown or self.building != told_building
                                   or self.stopping.is_set(), timeout=15)
                version, building = self.version, self.building
            if self.stopping.is_set():
                return
            if version != shown:
                message = f"event: reload\ndata: {version}\n\n"
            elif building != told_building:
                told_building = building
                message = f"event: {'building' if building else 'idle'}\ndata: {version}\n\n"
            else:
                message = ": still here\n\n"
            handler.wfile.write(message.encode())
            handler.wfile.flush()
            if version != shown:
                return

    def stop(self) -> None:
        self.stopping.set()
        with self.cond:
            self.cond.notify_all()
        if self.pool is not None:
            self.pool.close()


def _handler(preview: Preview):
    class Handler(BaseHTTPRequestHandler):
        server_version = "briefing-preview"

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            log.debug("preview: %s", format % args)

        def do_GET(self):  # noqa: N802 - the base class's name
            url = urlsplit(self.path)
            try:
                if url.path == EVENTS:
                    shown = int(parse_qs(url.query).get("v", ["-1"])[0])
                    preview.serve_events(self, shown)
                    return
                if url.path == STATE:
                    self._send(json.dumps(preview.snapshot(), default=str).encode(), "application/json")
                    return
                if url.path in ("", "/"):
                    self.send_response(HTTPStatus.FOUND)
                    self.send_header("Location", "/briefing.html")
                    self.end_headers()
                    return
                found = preview.page(url.path.lstrip("/"))
                if found is None:
                    self.send_error(HTTPStatus.NOT_FOUND)
                    return
                self._send(*found)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _send(self, body: bytes, content_type: str) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _lock(preview_dir: Path):
    """One preview per reports folder: a second one is told, not left to fight over the folder."""
    import fcntl

    handle = open(preview_dir / ".preview.lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise LockHeld(f"another briefing preview is running on {preview_dir}") from None
    return handle


def _interrupt(*_args) -> None:
    raise KeyboardInterrupt


STOP_DEADLINE = 10.0  # seconds a clean stop may take before the workers are ended and the process exits


def _force_stop(preview: "Preview") -> None:
    """A clean stop still unfinished after STOP_DEADLINE (a thread stuck in I/O): end the workers, exit."""
    import faulthandler
    import sys

    log.warning("preview: a clean stop took over %g s; ending the workers and exiting", STOP_DEADLINE)
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)  # where the stop was stuck, for a report
    try:
        if preview.pool is not None:
            preview.pool.close()
    finally:
        print("Preview stopped.", flush=True)
        os._exit(0)


def run(options: PreviewOptions) -> int:
    """Serve and rebuild until Ctrl-C (or SIGTERM). Exit code 0 after a clean stop."""
    import signal

    from .pipeline.build import BuildOptions, check_inputs

    check_inputs(BuildOptions(given=dict(options.given)))  # bad parameters: exit 2 before anything starts
    try:
        server = ThreadingHTTPServer((options.host, options.port), BaseHTTPRequestHandler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {options.port} on {options.host} is already in use; stop what uses it "
                             f"or choose another with --port") from None
        raise UsageError(f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}") from None
    preview = Preview(options)
    lock = _lock(preview.preview_dir)
    server.RequestHandlerClass = _handler(preview)
    server.daemon_threads = True
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    serving.start()
    builder = threading.Thread(target=preview.builder, name="preview-builder", daemon=True)
    builder.start()
    host = f"[{options.host}]" if ":" in options.host else options.host
    url = f"http://{host}:{server.server_address[1]}/briefing.html"
    print(f"Previewing the briefing at {url} (Ctrl-C stops)", flush=True)
    if options.open_browser:
        import webbrowser

        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    # Ctrl-C and SIGTERM stop it, also when it was started with SIGINT ignored (a shell's background
    # job inherits that, and Python then leaves SIGINT ignored).
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        preview.watch()
    except KeyboardInterrupt:
        pass
    finally:
        import faulthandler

        watchdog = threading.Timer(STOP_DEADLINE, _force_stop, args=(preview,))
        watchdog.daemon = True
        watchdog.start()
        # Last resort, from a C thread that needs no lock and no GIL: if even the watchdog cannot end
        # the process, dump every thread's stack to the log and exit 1.
        faulthandler.dump_traceback_later(2 * STOP_DEADLINE, exit=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        preview.stop()
        server.shutdown()
        server.server_close()
        builder.join(timeout=5)
        if preview.pool is not None:
            preview.pool.close()
        lock.close()
        watchdog.cancel()
        faulthandler.cancel_dump_traceback_later()
    print("Preview stopped.", flush=True)
    return 0
