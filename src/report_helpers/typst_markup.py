"""Typst markup for the printed briefing: escaping, and the few constructs the blocks use.

Every display block of `report_helpers.present` carries two representations: HTML for the pages
and Typst (mimetype ``TYPST_MIME``) for the PDF. Text from data or parameters enters Typst only
through ``text()`` or ``string()``, so it is always shown as text and never run as markup or code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

TYPST_MIME = "text/x-typst"

# Characters with a meaning in Typst markup; a backslash before any of them shows it as itself.
_MARKUP = re.compile(r"([\\#$*_`<>@\[\]~/+=\-])")


def text(value: object) -> str:
    """Plain text, safe anywhere in markup (line breaks become spaces)."""
    return _MARKUP.sub(r"\\\1", re.sub(r"\s+", " ", str(value)))


def string(value: object) -> str:
    """A Typst string literal."""
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
    return f'"{escaped}"'


def label(name: str) -> str:
    """A label name Typst accepts: letters, digits, '-', '_', '.', ':'."""
    return re.sub(r"[^A-Za-z0-9_.:-]", "-", name)


def link_to(target: str, body: str) -> str:
    """A link to a label in the document; ``body`` is markup."""
    return f"#link(<{label(target)}>)[{body}]"


def url_link(url: str, body: str | None = None) -> str:
    return f"#link({string(url)})[{body if body is not None else text(url)}]"


def cite(number: int, publisher: str) -> str:
    """A citation in the text: the source's number, linked to its entry in Sources."""
    shown = "\\[" + str(number) + "\\]"
    return f"{link_to(f'source-{number}', shown)} {text(publisher)}"


def source_line(cites: str, extra: str = "", low_note: str = "") -> str:
    """The line under a chart or table; ``cites`` is markup ("[7] Publisher; [12] Publisher")."""
    tail = f" {text(extra)}" if extra else ""
    flag = f" {text(low_note)}" if low_note else ""
    return f"#source-line[Source: {cites}.{tail}{flag}]"


def _anchor(anchor: str) -> str:
    return f", anchor: {string(anchor)}" if anchor else ""


def chart(svg: str, alt: str, caption: str, anchor: str = "") -> str:
    """A chart as an SVG image with alt text, its source line as the caption; ``anchor`` labels it."""
    return (f"#chart-figure(image(bytes({string(svg)}), format: \"svg\", alt: {string(alt)}, width: 100%),"
            f" [{caption}]{_anchor(anchor)})")


def table(title: str, headers: Sequence[str], rows: Iterable[Sequence[str]], caption: str,
          widths: Sequence[float] | None = None, anchor: str = "") -> str:
    """A table with header cells and a title; ``rows`` hold plain text, ``caption`` is markup."""
    columns = "(" + ", ".join(f"{w:.2f}fr" for w in widths) + ",)" if widths else str(len(headers))
    head = ", ".join(f"[{text(h)}]" for h in headers)
    body = ",\n  ".join(", ".join(f"[{text(c)}]" for c in row) for row in rows)
    return (f"#data-table({string(title)}, table(columns: {columns},\n  table.header({head}),\n  {body}\n),"
            f" [{caption}]{_anchor(anchor)})")


def judgement(label_text: str, body: str) -> str:
    return f"#judgement({string(label_text)})[{body}]"


def note(label_text: str, paragraphs: Sequence[str]) -> str:
    body = "\n\n".join(text(p) for p in paragraphs)
    return f"#note-box({string(label_text)})[{body}]"


def paragraph(body: str, *, muted: bool = False) -> str:
    """A paragraph of its own: Markdown text after it starts a new paragraph."""
    return f"#par(muted[{body}])" if muted else f"#par[{body}]"
