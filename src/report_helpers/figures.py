"""Numbered figures a reader can take away: each chart and table's number, its data as CSV, and how
to cite it.

A section does not know which of its figures an edition shows (a brief edition or an earlier as-of
date leaves cells out), so a notebook numbers its figures provisionally, with tokens: ``⟦figure 3⟧``
where the number is shown (caption, alt text) and ``figure-provisional-3`` as anchor and label; and
comments mark where the HTML offers the downloads and the citation (``<!--figure-tools 3-->``) and
where the PDF says where the data are (``/*figure-data 3*/``). Converting a section
(``pipeline/downloads.py``) numbers the figures the edition shows, "Figure <section>.<n>", in the
HTML and the Typst alike; the build then fills the comments in and writes the files. Each figure's block carries its record (``FIGURE_MIME``): its
provisional key, title, kind and the CSV of exactly the rows it plots or tabulates, with their
source ids and confidence.

This module is imported by notebooks (through ``present``) and by the build; pandas is imported only
by the functions that take a data frame, so the build's process never loads it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

FIGURE_MIME = "application/vnd.briefing.figure+json"
TOKEN = re.compile(r"⟦figure (\d+)⟧|figure-provisional-(\d+)")
TOOLS = re.compile(r"<!--figure-tools (\d+)-->")
DATA = re.compile(r"/\*figure-data (\d+)\*/")

_keys = itertools.count(1)


def begin_section() -> None:
    """Provisional keys restart per section (present.begin_section), so every run is the same."""
    global _keys
    _keys = itertools.count(1)


@dataclass(frozen=True)
class Provisional:
    """A figure's tokens, before the build numbers it."""

    key: int

    @property
    def number(self) -> str:
        return f"⟦figure {self.key}⟧"

    @property
    def anchor(self) -> str:
        return f"figure-provisional-{self.key}"

    @property
    def tools(self) -> str:
        return f"<!--figure-tools {self.key}-->"

    @property
    def data(self) -> str:
        return f"/*figure-data {self.key}*/"


def next_figure() -> Provisional:
    return Provisional(next(_keys))


# ---- the data behind a figure, as CSV -------------------------------------------------------------

def _cell(value) -> str:
    """A value as the CSV holds it: unrounded numbers, ISO dates, lists joined by ';'."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (list, tuple)):
        return ";".join(_cell(v) for v in value)
    if isinstance(value, (dt.datetime, dt.date)):  # pandas' Timestamp too
        text = value.isoformat()
        return text[:10] if text[10:] in ("", "T00:00:00") else text
    text = str(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T00:00:00(\.0+)?", text):  # a date as Vega-Lite's data hold it
        return text[:10]
    return text


def to_csv(header: list[str], rows: Iterable[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue()


def _missing(value) -> bool:
    """No value: None, "", or NaN (a chart's data before JSON holds pandas' missing values as NaN)."""
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _row_sources(row: dict, extra: list[str]) -> str:
    given = row.get("source_id")
    return ";".join(extra) if _missing(given) else _cell(given)


def chart_csv(spec: dict, *, title: str, sources: Iterable[str] = (), sourced_rows: bool = False) -> tuple[str, int]:
    """The rows a chart plots, in the order of its data table, with each row's source ids and
    confidence; and their number. ``sourced_rows``: the rows passed in carried a source_id each, so
    every plotted row must too (otherwise the figure's data cannot be written with their sources)."""
    from .alt_text import plotted

    fields, rows = plotted(spec)
    names = [f for f in fields if f != "source_id"]  # in the data table's order (confidence too, if shown)
    extra = list(dict.fromkeys(sources))
    if sourced_rows and any(_missing(r.get("source_id")) for r in rows):
        raise ValueError(f"figure '{title}': a plotted row has no source_id, so its data cannot be written "
                         "with their sources; keep the source_id column in the frame the chart plots")
    confidence = [] if "confidence" in names else ["confidence"]
    return to_csv([*names, "source_id", *confidence],
                  [[_value(r, f) for f in names] + [_row_sources(r, extra)]
                   + [_value(r, "confidence") for _ in confidence] for r in rows]), len(rows)


def _value(row: dict, name: str):
    """A plotted value as is (0 stays 0); a row without a confidence is not marked low: High."""
    value = row.get(name)
    return "High" if name == "confidence" and _missing(value) else value


def table_csv(frame, columns: list[str], *, title: str, sources: Iterable[str] = ()) -> tuple[str, int]:
    """The rows a table shows, its shown columns unformatted, with each row's source ids and confidence."""
    import pandas as pd

    extra = list(dict.fromkeys(sources))
    names = [c for c in columns if c not in ("source_id", "source_ids", "confidence")]
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise ValueError(f"table '{title}': its data cannot be written, column(s) {missing} are not in its rows")
    id_column = "source_id" if "source_id" in frame else "source_ids" if "source_ids" in frame else None

    def plain(value):
        if isinstance(value, (list, tuple)):
            return list(value)
        return None if pd.api.types.is_scalar(value) and pd.isna(value) else value

    rows = []
    for _, row in frame.iterrows():
        ids = plain(row[id_column]) if id_column else None
        rows.append([plain(row[c]) for c in names]
                    + [_row_sources({"source_id": ids}, extra), plain(row.get("confidence")) or "High"])
    return to_csv([*names, "source_id", "confidence"], rows), len(rows)


def record(provisional: Provisional, *, title: str, kind: str, csv_text: str, rows: int,
           sources: Iterable[str]) -> dict:
    """What the build needs of a figure: carried in its block under FIGURE_MIME."""
    return {"key": provisional.key, "title": title, "kind": kind, "csv": csv_text, "rows": rows,
            "sources": list(dict.fromkeys(sources))}


# ---- numbers and citations, in the build ----------------------------------------------------------

@dataclass(frozen=True)
class Numbered:
    """A figure as an edition shows it."""

    section: int
    index: int
    title: str
    kind: str  # "chart" or "table"
    csv: str
    rows: int
    sources: tuple[str, ...]
    key: int  # its provisional key in the section

    @property
    def number(self) -> str:
        return f"{self.section}.{self.index}"

    @property
    def anchor(self) -> str:
        return f"figure-{self.section}-{self.index}"

    @property
    def csv_path(self) -> str:
        return f"figures/{self.anchor}.csv"

    @property
    def caption(self) -> str:
        return f"Figure {self.number}: {self.title}"


@dataclass(frozen=True)
class Edition:
    """What a citation names: the briefing, the edition and where it is published (if known)."""

    title: str
    subtitle: str
    edition_id: str
    edition: str
    as_of: dt.date
    base_url: str = ""
    author: str = ""  # the project file's author: a corporate author of every citation
    slug: str = "briefing"  # the project file's slug: the first part of citation keys

    @property
    def folder_url(self) -> str:
        """The edition's folder: absolute with a base URL, else relative to the reports folder."""
        base = self.base_url.rstrip("/") + "/" if self.base_url else ""
        return f"{base}{self.edition_id}/"

    @property
    def full_title(self) -> str:
        joint = " " if self.title[-1:] in "?!." else ": "
        return f"{self.title}{joint}{self.subtitle}"


def url(fig: Numbered, edition: Edition) -> str:
    """The figure's stable anchor in its edition's briefing: absolute with a base URL, else relative
    to the reports folder."""
    return f"{edition.folder_url}briefing.html#{fig.anchor}"


def plain_citation(fig: Numbered, edition: Edition) -> str:
    return (f"{edition.author}. “{fig.caption}.” In {edition.full_title}, {edition.edition} edition as of "
            f"{edition.as_of.isoformat()} (edition {edition.edition_id}). {url(fig, edition)}")


_BIBTEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
                   "#": r"\#", "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}"}


def bibtex_text(value: str) -> str:
    """Text safe inside a BibTeX field in braces: TeX's special characters escaped."""
    return "".join(_BIBTEX_SPECIAL.get(ch, ch) for ch in value)


def citation_key(fig: Numbered, edition: Edition) -> str:
    return re.sub(r"[^A-Za-z0-9_.:-]", "-", f"{edition.slug}-{edition.edition_id}-fig{fig.number}")


def bibtex(fig: Numbered, edition: Edition) -> str:
    fields = {
        "author": "{" + bibtex_text(edition.author) + "}",  # a corporate author: one name, not split
        "title": bibtex_text(fig.caption),
        "booktitle": bibtex_text(edition.full_title),
        "year": str(edition.as_of.year),
        "date": edition.as_of.isoformat(),
        "url": url(fig, edition) if edition.base_url else "",
        "note": bibtex_text(f"{url(fig, edition)}; " if not edition.base_url else "") + bibtex_text(f"{edition.edition.capitalize()} edition as of {edition.as_of.isoformat()}, "
                            f"edition {edition.edition_id}; data: {fig.csv_path}"),
    }
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items() if value)
    return f"@misc{{{citation_key(fig, edition)},\n{body}\n}}\n"


def csl_json(fig: Numbered, edition: Edition) -> str:
    item = {
        "id": citation_key(fig, edition),
        "type": "figure",
        "title": fig.caption,
        "author": [{"literal": edition.author}],
        "container-title": edition.full_title,
        "issued": {"date-parts": [[edition.as_of.year, edition.as_of.month, edition.as_of.day]]},
        "number": fig.number,
        "version": edition.edition_id,
        **({"URL": url(fig, edition)} if edition.base_url else {}),
        "note": ("" if edition.base_url else f"{url(fig, edition)}; ") + f"{edition.edition.capitalize()} edition as of {edition.as_of.isoformat()}; data: {fig.csv_path}",
    }
    return json.dumps([item], ensure_ascii=False, indent=2) + "\n"
