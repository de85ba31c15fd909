"""The fast paths of the preview: the sections shown are kept with their executed notebooks, so a
markdown edit re-renders one section without a kernel, and a code edit reruns one section on a warm
worker against the last build's figures. Anything else is a full build (builder.py)."""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

from .failure import cell_failure
from .options import LIVE
from .shown import Shown

log = logging.getLogger("briefing")


class LiveSections:
    def __init__(self, preview_dir: Path, shown: Shown):
        self.preview_dir = preview_dir
        self.shown = shown
        self.rendered: dict | None = None  # per section: executed notebook and page; None after a PDF build

    def prepare(self, edition: Path, manifest: dict) -> None:
        """Each section's executed notebook and HTML, so a markdown edit re-renders one section."""
        import nbformat

        from .. import catalogue
        from ..pipeline import assemble, convert
        from ..sections import discover

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

        from ..pipeline import assemble, convert
        from ..pipeline.cache import merge_markdown
        from ..sections import find_section

        start = time.perf_counter()
        r = self.rendered
        overrides = dict(self.shown.overrides)
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
        self.shown.publish(overrides=overrides,
                      timing={"kind": "markdown", "why": ", ".join(slugs), "seconds": seconds, "ok": True})
        log.info("preview: re-rendered %s (markdown only) in %.2f s", ", ".join(slugs), seconds)

    def rerun(self, notebooks: set[Path], pool, build_params, section_timeout: float) -> bool:
        """Code edits to sections already shown: run those sections on the warm workers and re-render
        them in memory. False (a full build is needed) if a section is new, or its figures changed
        (sections that read them, and the changes note, must follow)."""
        from ..pipeline import assemble, convert
        from ..pipeline.cache import results_digest
        from ..pipeline.execute import Execution, Job
        from ..sections import discover

        if self.rendered is None:  # set only when no PDF is printed
            return False
        r = self.rendered
        by_path = {s.path: s for s in discover()}
        chosen = [by_path.get(path) for path in notebooks]
        if None in chosen or any(s.slug not in r["sections"] for s in chosen):
            return False
        for s in chosen:
            s.check()  # a notebook the build would refuse: the full build says why
        live = self.preview_dir / LIVE
        results = live / "results"
        before = {s.slug: results_digest(results / f"{s.slug}.json") for s in chosen}
        jobs = [Job(s.slug, str(s.path), str(live / s.path.name), build_params.for_section(s.parameters), s.reads,
                    str(live / "work" / s.slug), str(live / f"{s.slug}.stderr.log"), results_dir=str(results))
                for s in chosen]
        ran_now = {s.slug for s in chosen}
        self.shown.set_building()
        start = time.perf_counter()
        done = pool.run(jobs, section_timeout=section_timeout,
                             done={d: Execution(d, True, 0.0) for s in chosen for d in s.reads
                                   if d not in ran_now})
        ran = {s.slug: round(done[s.slug].seconds, 2) for s in chosen}
        failed = [s for s in chosen if not done[s.slug].ok]
        timing = {"kind": "code", "why": ", ".join(ran), "ran": ran}
        if failed:
            s = failed[0]
            error = cell_failure(live, {"slug": s.slug, "notebook": s.path.name, "error": done[s.slug].error})
            timing.update(seconds=time.perf_counter() - start, ok=False)
            self.shown.publish(error=error, stale=True, timing=timing)
            log.error("preview: section %s failed: %s", s.slug, done[s.slug].error)
            return True
        if any(results_digest(results / f"{s.slug}.json") != before[s.slug] for s in chosen):
            return False  # figures moved: the full build runs what reads them and redoes the note
        import nbformat

        overrides = dict(self.shown.overrides)
        for s in chosen:
            executed = nbformat.read(live / s.path.name, as_version=4)
            cleaned = convert.clean(executed, edition=r["edition"])
            page = assemble.SectionPage(s.slug, s.title, convert.fragment(cleaned.notebook, s.slug))
            r["sections"][s.slug].update(executed=executed, page=page)
            overrides[f"{s.path.stem}.html"] = assemble.section_page(page, r["meta"], r["sources"])
        overrides["briefing.html"] = assemble.briefing_page([e["page"] for e in r["sections"].values()],
                                                            r["meta"], r["sources"])
        timing.update(seconds=time.perf_counter() - start, ok=True)
        self.shown.publish(overrides=overrides, timing=timing)
        log.info("preview: ran %s and re-rendered in %.2f s",
                 ", ".join(f"{slug} ({sec:.1f} s)" for slug, sec in ran.items()), timing["seconds"])
        return True
