"""briefing.pdf from parts: each section (and the sources list) is printed by WeasyPrint on its
own, cached by its HTML, and printed side by side when several changed; the front matter (cover,
contents with page numbers, changes) is printed last, once the parts' page counts are known; then
the parts are joined with pypdf, page numbers are stamped on, and cross-part links are restored.

Why parts: WeasyPrint lays out a whole document at once, and the briefing's forty-odd pages are
the slowest step of a build. Parts let an edit to one section reprint that section only.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path

PX_TO_PT = 0.75  # WeasyPrint measures in CSS pixels; PDF in points


@dataclass(frozen=True)
class PrintedPart:
    pdf: Path
    pages: int
    anchors: dict[str, int]  # anchor id -> page index within the part
    links: list  # [page index, [x, y, width, height] in CSS px, target anchor]
    height: float  # page height in CSS px


def _render(html: str, base_url: str, target: Path) -> dict:
    """Print one part; return what joining needs to know about it."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    document = weasyprint.HTML(string=html, base_url=base_url).render(font_config=FontConfiguration())
    anchors, links = {}, []
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            anchors.setdefault(name, index)
        for kind, anchor, rect, _box in page.links:
            if kind == "internal":
                links.append([index, list(rect), anchor])
    document.write_pdf(str(target), pdf_identifier=b"frenemies-briefing")
    return {"pages": len(document.pages), "anchors": anchors, "links": links,
            "height": document.pages[0].height if document.pages else 0}


def _key(html: str) -> str:
    import weasyprint

    return hashlib.sha256((weasyprint.__version__ + html).encode()).hexdigest()


def _render_cached(html: str, base_url: str, cache: Path) -> PrintedPart:
    key = _key(html)
    pdf, meta_file = cache / f"{key}.pdf", cache / f"{key}.json"
    if not (pdf.is_file() and meta_file.is_file()):
        cache.mkdir(parents=True, exist_ok=True)
        tmp = cache / f".{key}.{os.getpid()}.pdf"
        meta = _render(html, base_url, tmp)
        meta_file.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp, pdf)
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    return PrintedPart(pdf, meta["pages"], meta["anchors"], meta["links"], meta["height"])


def print_parts(parts: list[str], base_url: str, cache: Path, workers: int) -> list[PrintedPart]:
    """Print parts (reusing cached ones), several at a time when more than one must be printed."""
    missing = [html for html in parts if not (cache / f"{_key(html)}.json").is_file()]
    if workers > 1 and len(missing) > 1:
        # Largest first, so the longest part does not start last.
        missing.sort(key=len, reverse=True)
        context = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=min(workers, len(missing)), mp_context=context) as pool:
            list(pool.map(_render_cached, missing, [base_url] * len(missing), [cache] * len(missing)))
    return [_render_cached(html, base_url, cache) for html in parts]


def _stamp_page_numbers(writer, total: int, base_url: str, cache: Path) -> None:
    """Overlay "Page n of N" on every page but the cover."""
    from pypdf import PdfReader

    from ..theme import FONT_STACK, font_face_css

    pages = '<div class="p"></div>' * total
    html = (f"<html><head><style>{font_face_css()}"
            "@page { size: A4; margin: 22mm 18mm 20mm 18mm; @bottom-right { content: 'Page ' counter(page) "
            f"' of ' counter(pages); font-family: {FONT_STACK}; font-size: 8pt; color: #5f5f5f; }} }}"
            "@page :first { @bottom-right { content: none; } }"
            ".p { break-after: page; } .p:last-child { break-after: auto; }"
            f"</style></head><body>{pages}</body></html>")
    overlay = _render_cached(html, base_url, cache)
    for page, numbers in zip(writer.pages, PdfReader(overlay.pdf).pages):
        page.merge_page(numbers)


def _link(writer, part_start: int, part: PrintedPart, targets: dict[str, int]) -> None:
    """Clickable internal links (contents, citations) that point into another part."""
    from pypdf.annotations import Link

    for page_index, (x, y, width, height), anchor in part.links:
        if anchor not in targets:
            continue
        top = (part.height - y) * PX_TO_PT
        rect = (x * PX_TO_PT, top - height * PX_TO_PT, (x + width) * PX_TO_PT, top)
        writer.add_annotation(part_start + page_index, Link(rect=rect, target_page_index=targets[anchor]))


def write_pdf(front_html, part_htmls: list[str], target: Path, *, base_url: str, cache: Path,
              workers: int = 2, title: str = "", created=None) -> int:
    """Join printed parts behind a front matter whose contents carry their page numbers.

    ``front_html(toc_pages)`` renders the front matter for a mapping anchor -> page number.
    Returns the number of pages."""
    from pypdf import PdfReader, PdfWriter

    parts = print_parts(part_htmls, base_url, cache, workers)
    front_pages, numbers = None, {}
    for _ in range(3):  # the contents' length does not depend on its numbers: settles at once
        front = _render_cached(front_html(numbers), base_url, cache)
        if front.pages == front_pages:
            break
        front_pages, start, targets = front.pages, front.pages, {}
        for part in parts:
            for anchor, index in part.anchors.items():
                targets.setdefault(anchor, start + index)
            start += part.pages
        numbers = {anchor: index + 1 for anchor, index in targets.items()}
    writer = PdfWriter()
    offsets = []
    for part in (front, *parts):
        offsets.append(len(writer.pages))
        writer.append(PdfReader(part.pdf))
    _stamp_page_numbers(writer, len(writer.pages), base_url, cache)
    targets = {anchor: page - 1 for anchor, page in numbers.items()}
    for offset, part in zip(offsets, (front, *parts)):
        _link(writer, offset, part, targets)
    metadata = {"/Title": title, "/Creator": "report_helpers (WeasyPrint, pypdf)"}
    if created is not None:
        metadata["/CreationDate"] = created.strftime("D:%Y%m%d%H%M%SZ")
    writer.add_metadata(metadata)
    with open(target, "wb") as handle:
        writer.write(handle)
    return len(writer.pages)
