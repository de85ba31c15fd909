"""What a section shows a reader: charts as inline SVG, tables, judgements, all with sources.

Each helper displays one HTML block and returns nothing; the executed notebook keeps only these
blocks (no code, no raw reprs). Every chart and table carries a source line citing the numbered
sources of the catalogue; rows marked Low confidence are flagged in the line and in the block.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterable

import pandas as pd
from IPython.display import HTML, display

from . import catalogue
from .results import Figure

_chart_ids = itertools.count(1)
_section = "s"


def begin_section(slug: str) -> None:
    """Chart ids restart per section and carry its name, so joined pages keep ids unique and
    every run of a section produces the same SVG, whatever ran before it in the process."""
    global _chart_ids, _section
    _chart_ids, _section = itertools.count(1), slug
LOW_NOTE = "▲ marks figures of low confidence (secondary, derived or disputed)."
NOT_YET = "No figure for this was known by the as-of date."


def _cite(source_ids: Iterable[str]) -> str:
    known = catalogue.sources()
    parts = []
    for sid in dict.fromkeys(source_ids):
        src = known.get(sid)
        if src is None:
            raise KeyError(f"source '{sid}' is not in data/sources.csv")
        parts.append(f'<a class="cite" href="#source-{src.number}">[{src.number}]</a> '
                     f"{html.escape(src.publisher)}")
    return "; ".join(parts)


def source_line(source_ids: Iterable[str], *, low: bool = False, note: str = "") -> str:
    cites = _cite(source_ids)
    extra = f" {html.escape(note)}" if note else ""
    flag = f' <span class="low-note">{LOW_NOTE}</span>' if low else ""
    return f'<p class="source-line">Source: {cites}.{extra}{flag}</p>'


def chart_svg(chart) -> str:
    """Render an Altair chart to standalone SVG text with ids made unique in the page."""
    import vl_convert

    from .theme import register_font, use_theme

    register_font()
    use_theme()
    svg = vl_convert.vegalite_to_svg(chart.to_dict())
    # vl-convert numbers ids (clip1, clip2, ...) across the whole process: renumber them per chart,
    # with the section's name, so ids are unique in joined pages and the same on every run.
    prefix = f"{_section}-c{next(_chart_ids)}-"
    ids = {old: f"{prefix}{n}" for n, old in enumerate(dict.fromkeys(re.findall(r'\bid="([^"]+)"', svg)), 1)}
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{ids[m.group(1)]}"', svg)
    svg = re.sub(r'url\(#([^)]+)\)', lambda m: f"url(#{ids.get(m.group(1), m.group(1))})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{ids.get(m.group(1), m.group(1))}"', svg)
    return svg


def _sources_of(frame: pd.DataFrame | None, extra: Iterable[str]) -> tuple[list[str], bool]:
    ids = list(extra)
    low = False
    if frame is not None and "source_id" in frame:
        ids += [s for s in frame["source_id"].dropna().astype(str)]
    if frame is not None and "confidence" in frame:
        low = bool((frame["confidence"] == "Low").any())
    return ids, low


def figure(chart, *, data: pd.DataFrame | None = None, sources: Iterable[str] = (),
           note: str = "", alt_text: str = "") -> None:
    """Show a chart with the source line of the rows it plots (``data``) and any extra sources."""
    if data is not None and data.empty:
        display(HTML(f'<p class="not-yet">{html.escape(alt_text or "Chart")}: {NOT_YET}</p>'))
        return
    ids, low = _sources_of(data, sources)
    if not ids:
        raise ValueError("a chart needs at least one source: pass data= with a source_id column or sources=")
    label = html.escape(alt_text or "chart")
    block = (f'<figure class="chart" role="img" aria-label="{label}">{chart_svg(chart)}'
             f"<figcaption>{source_line(ids, low=low, note=note)}</figcaption></figure>")
    display(HTML(block))


def table(frame: pd.DataFrame, *, title: str, columns: dict[str, str] | None = None,
          formats: dict[str, callable] | None = None, sources: Iterable[str] = (),
          note: str = "", unsourced: str = "") -> None:
    """Show a small table: chosen columns with reader-facing names, formatted cells, sources.

    A table must cite sources, unless ``unsourced`` says why it has none (shown in their place)."""
    if frame.empty:
        display(HTML(f'<p class="not-yet">{html.escape(title)}: {NOT_YET}</p>'))
        return
    ids, low = _sources_of(frame, sources)
    if not ids and not unsourced:
        raise ValueError("a table needs at least one source: a source_id column or sources=")
    columns = columns or {c: c for c in frame.columns}
    formats = formats or {}
    shown = pd.DataFrame(index=frame.index)
    for col, heading in columns.items():
        fmt_cell = formats.get(col, lambda v: "" if pd.isna(v) else str(v))
        shown[heading] = frame[col].map(fmt_cell)
    if low and "confidence" in frame:
        first = next(iter(columns.values()))
        shown[first] = [f"{v} ▲" if c == "Low" else v for v, c in zip(shown[first], frame["confidence"])]
    body = shown.to_html(index=False, escape=True, border=0, classes="data-table")
    line = source_line(ids, low=low, note=note) if ids else f'<p class="source-line">{html.escape(unsourced)}</p>'
    block = (f'<figure class="table"><figcaption class="table-title">{html.escape(title)}</figcaption>'
             f"{body}{line}</figure>")
    display(HTML(block))


class _Shown:
    """A Figure as a template sees it: ``{x}`` is the formatted value, ``{x.period}`` its period."""

    def __init__(self, fig: Figure):
        self._fig = fig

    def __format__(self, spec: str) -> str:
        return html.escape(str(self._fig))

    @property
    def period(self) -> str:
        return html.escape(self._fig.period)

    @property
    def label(self) -> str:
        return html.escape(self._fig.label)


def _fill(template: str, values: dict) -> tuple[str, list[str], bool] | None:
    """The template with values filled in and escaped; None if any value is missing."""
    if any(v is None for v in values.values()):
        return None
    ids: list[str] = []
    low = False
    rendered = {}
    for key, value in values.items():
        if isinstance(value, Figure):
            ids += list(value.sources)
            low = low or value.confidence == "Low"
            rendered[key] = _Shown(value)
        else:
            rendered[key] = html.escape(str(value))
    return html.escape(template).format(**rendered), ids, low


def judgement(label: str, template: str, *, missing: str = NOT_YET, **values) -> None:
    """A stated judgement, with figures filled into the text and cited (``missing`` if one is None)."""
    filled = _fill(template, values)
    text, ids, _ = filled if filled else (html.escape(missing), [], False)
    cite = f' <span class="judgement-sources">({_cite(ids)})</span>' if ids else ""
    display(HTML(f'<aside class="judgement"><p class="judgement-label">{html.escape(label)}</p>'
                 f"<p>{text}{cite}</p></aside>"))


def finding(template: str, *, missing: str = "", **values) -> None:
    """A sentence of narrative that carries computed figures (so no number is typed by hand).

    If a figure is None (not known by the as-of date), ``missing`` is shown instead, or nothing."""
    filled = _fill(template, values)
    if filled is None:
        if missing:
            display(HTML(f'<p class="finding not-yet">{html.escape(missing)}</p>'))
        return
    text, ids, _ = filled
    cite = f" ({_cite(ids)})" if ids else ""
    display(HTML(f'<p class="finding">{text}{cite}</p>'))


def as_of_line(ctx) -> None:
    """State the as-of date of the section, so a reader knows what the figures could include."""
    from . import fmt

    display(HTML(f'<p class="as-of">As of {html.escape(fmt.date(ctx.as_of))}: data and events after '
                 "this date are left out.</p>"))


def note(text: str, *, label: str = "Note") -> None:
    """A free-text note (for example the analyst_note parameter), shown as plain escaped text."""
    if not text or not text.strip():
        return
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.strip().split("\n") if p.strip())
    display(HTML(f'<aside class="note"><p class="judgement-label">{html.escape(label)}</p>{paragraphs}</aside>'))


def claims(ctx, *, section: str | None = None, title: str = "", evidence: bool = False) -> None:
    """The article's claims for a section (or all, with ``section=""``), with verdicts as of ctx.as_of;
    ``evidence`` adds the reasons and the evidence rows (the appendix), otherwise a compact table."""
    from . import claims as register

    rows = register.register(ctx.as_of, section=ctx.section if section is None else (section or None))
    if rows.empty:
        return
    rows = rows.assign(
        verdict_text=[v if isinstance(v, str) else "judgement: no verdict" for v in rows["shown_verdict"]])
    ids = [sid for sids in rows["source_ids"] for sid in sids]
    columns = {"claim_id": "#", "claim": "What the article claims", "verdict_text": "Verdict"}
    if evidence:  # the appendix: the reasons and the rows behind each verdict
        columns |= {"shown_note": "Why", "evidence": "Evidence (table:row)"}
    table(rows, title=title or "The article's claims in this section, checked against our data "
                               "(reasons and evidence: appendix Claims and evidence)",
          columns=columns, sources=ids,
          formats={"evidence": lambda e: "" if pd.isna(e) else str(e).replace(";", "; ")},
          unsourced="Claims: the article. None of the evidence in our data was known by the as-of date.")
