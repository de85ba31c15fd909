"""Executed sections -> section pages, briefing.html and briefing.pdf in the staging folder.

A section is converted (its HTML fragment with nbconvert, its Typst markup with pandoc) as soon as
it has run or been reused, on a background thread of the build, while other sections still run on
the workers. What is left once the last section has run is that section's conversion, the pages,
and the one Typst compile, which runs beside the writing of the HTML pages (Typst releases the GIL).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .. import catalogue, corrections
from ..paths import project_dir
from ..sections import Section

log = logging.getLogger("briefing")


@dataclass(frozen=True)
class Converted:
    """One executed section, converted for both outputs."""

    fragment: str  # HTML (convert.fragment)
    typst: str  # Typst markup (pdf.section_typst); "" when the PDF is not printed
    dropped: list[str] = field(default_factory=list)  # outputs a reader does not see, for the log
    unprinted: list[str] = field(default_factory=list)  # HTML blocks without a print form
    figures: list = field(default_factory=list)  # the numbered figures it shows (downloads.Numbered)


def convert_section(section: Section, executed: Path, edition: str, *, typst: bool = True) -> Converted:
    import nbformat

    from . import convert, downloads, pdf

    cleaned = convert.clean(nbformat.read(executed, as_version=4), edition=edition)
    markdown, unprinted = pdf.section_markdown(cleaned.notebook)
    shown = downloads.numbered(cleaned.notebook, section.slug)
    printed = pdf.section_typst(pdf.PrintedSection(section.title, markdown)) if typst else ""
    return Converted(convert.fragment(cleaned.notebook, section.slug, shown), downloads.renumber(printed, shown),
                     cleaned.dropped, unprinted, shown)


class Converter:
    """Converts sections on one background thread, in the order they are handed over (``ready``).
    nbconvert's exporter is not thread-safe, so there is one thread; pandoc runs as a subprocess.

    While paused, sections wait: the build pauses it while two workers run sections side by side,
    so that a pandoc process does not add to the peak memory of the process tree."""

    def __init__(self, staging: Path, edition: str, *, typst: bool = True):
        self.staging, self.edition, self.typst = staging, edition, typst
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="convert")
        self._futures: dict[str, Future] = {}
        self._waiting: list[Section] | None = None  # a list while paused
        self._lock = threading.Lock()

    def ready(self, section: Section) -> None:
        """The section's executed notebook is in the staging folder: convert it (once resumed)."""
        with self._lock:
            if self._waiting is not None:
                self._waiting.append(section)
                return
            self._submit(section)

    def _submit(self, section: Section) -> None:
        self._futures[section.slug] = self._pool.submit(
            convert_section, section, self.staging / section.path.name, self.edition, typst=self.typst)

    def pause(self) -> None:
        with self._lock:
            if self._waiting is None:
                self._waiting = []

    def resume(self) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting or [], None
            for section in waiting:
                self._submit(section)

    def result(self, section: Section) -> Converted:
        self.resume()
        with self._lock:
            if section.slug not in self._futures:
                self._submit(section)
            future = self._futures[section.slug]
        return future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def render(sections: list[Section], executions: dict, converter: Converter, build_params, staging: Path,
           change_note: dict, pdf_standard: str = "ua-1", *, print_pdf: bool = True,
           base_url: str = "") -> None:
    """Section pages, briefing.html and (unless ``print_pdf`` is False) briefing.pdf."""
    from . import assemble, datapack, downloads, metadata, pdf

    tables = datapack.build(staging, build_params.as_of, build_params.edition_id)
    built = assemble.build_time()
    made = corrections.since(corrections.load(), ((change_note or {}).get("previous") or {}).get("built"),
                             built.date())
    meta = assemble.Meta(build_params.as_of, build_params.edition, built, change_note, datapack=tuple(tables),
                         base_url=base_url, edition_id=build_params.edition_id, corrections=tuple(made))
    edition = assemble.edition_info(build_params, base_url)
    sources = catalogue.sources()
    pages, printed, shown = [], [], []
    for section in sections:
        run = executions[section.slug]
        if not run.ok:
            pages.append(assemble.SectionPage(section.slug, section.title, run.error, failed=True))
            if print_pdf:
                printed.append(pdf.section_typst(pdf.PrintedSection(section.title, run.error, failed=True)))
            continue
        converted = converter.result(section)
        for message in converted.dropped:  # "NN_slug.ipynb, cell N: ...", as errors name cells
            log.warning("%s, %s", section.path.name, message)
        if print_pdf:
            for message in converted.unprinted:
                log.warning("section %s, %s", section.slug, message)
        fragment, typst = downloads.finish(converted.fragment, converted.typst, converted.figures, edition)
        pages.append(assemble.SectionPage(section.slug, section.title, fragment))
        printed.append(typst)
        shown += converted.figures
    downloads.write(staging, shown, edition)
    with ThreadPoolExecutor(1, thread_name_prefix="print") as printer:
        if print_pdf:  # Typst prints on a thread while the HTML pages are written
            start = time.perf_counter()
            cited = assemble.cited(pages, sources)
            printing = printer.submit(
                pdf.compile_pdf, pdf.document(printed, meta, cited, downloads.list_typst(shown)),
                staging / "briefing.pdf",
                sys_inputs=pdf.inputs(meta), built=meta.built, standard=pdf_standard,
                xmp=metadata.xmp(meta),
                attachments=_data_attachments() if pdf_standard.startswith("a-3") else None, sources=cited)
        for section, page in zip(sections, pages):
            if not page.failed:
                (staging / f"{section.path.stem}.html").write_text(assemble.section_page(page, meta, sources),
                                                                  encoding="utf-8")
        (staging / "briefing.html").write_text(assemble.briefing_page(pages, meta, sources, shown),
                                               encoding="utf-8")
        if print_pdf:
            count = printing.result()
            log.info("printed briefing.pdf (%d pages, %s) in %.2f s", count, pdf_standard,
                     time.perf_counter() - start)


def _data_attachments() -> dict[str, bytes]:
    """The tables behind the briefing, attached to a PDF/A-3 edition for records offices."""
    data = project_dir() / "data"
    return {p.name: p.read_bytes() for p in sorted(data.glob("*.csv"))}


def preload() -> None:
    """Import the conversion stack while sections run (the build's own process is idle then)."""
    import nbformat  # noqa: F401
    import pypandoc  # noqa: F401
    import typst  # noqa: F401

    from . import assemble, convert, pdf  # noqa: F401

