"""What a section shows a reader: charts, tables, judgements and findings, all with sources.

Each helper displays one block and returns nothing. A block carries two representations of the
same content: HTML for the pages and Typst for the PDF (``typst_markup.TYPST_MIME``), so both say
the same thing with the same citation numbers. The executed notebook keeps only these blocks (no
code, no raw reprs). Every chart and table carries a source line citing the numbered sources of the
catalogue; rows marked Low confidence are flagged in the line and in the block. Every chart carries
alt text written from its data, and its data as a table.
"""

from __future__ import annotations

import html
import itertools
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd
from IPython.display import display

from . import catalogue, figures
from . import typst_markup as tm
from .alt_text import data_table, describe, title_of
from .results import Figure

_chart_ids = itertools.count(1)
_section = "s"


def begin_section(slug: str) -> None:
    """Chart ids restart per section and carry its name, so joined pages keep ids unique and
    every run of a section produces the same SVG, whatever ran before it in the process."""
    global _chart_ids, _provenance_numbers, _section
    _chart_ids, _provenance_numbers, _section = itertools.count(1), itertools.count(1), slug
    figures.begin_section()


LOW_NOTE = "▲ marks figures of low confidence (secondary, derived or disputed)."
NOT_YET = "No figure for this was known by the as-of date."


@dataclass(frozen=True)
class Block:
    """One thing a reader sees, in HTML (pages) and Typst (PDF)."""

    html: str
    typst: str
    figure: dict | None = None  # a numbered figure's record (figures.record)

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/html": self.html, tm.TYPST_MIME: self.typst}
        return bundle | ({figures.FIGURE_MIME: self.figure} if self.figure else {})

    def __repr__(self) -> str:
        return "<briefing block>"


def _show(html_text: str, typst_text: str, figure: dict | None = None) -> None:
    display(Block(html_text, typst_text, figure))


def _cite(source_ids: Iterable[str]) -> tuple[str, str]:
    """The citations of some sources, as HTML and as Typst: "[7] Publisher; [12] Publisher"."""
    known = catalogue.sources()
    html_parts, typst_parts = [], []
    for sid in dict.fromkeys(source_ids):
        src = known.get(sid)
        if src is None:
            raise KeyError(f"source '{sid}' is not in data/sources.csv")
        html_parts.append(f'<a class="cite" href="#source-{src.number}">[{src.number}]</a> '
                          f"{html.escape(src.publisher)}")
        typst_parts.append(tm.cite(src.number, src.publisher))
    return "; ".join(html_parts), "; ".join(typst_parts)


def source_line(source_ids: Iterable[str], *, low: bool = False, note: str = "") -> tuple[str, str]:
    cite_html, cite_typst = _cite(source_ids)
    extra = f" {html.escape(note)}" if note else ""
    flag = f' <span class="low-note">{LOW_NOTE}</span>' if low else ""
    return (f'<p class="source-line">Source: {cite_html}.{extra}{flag}</p>',
            tm.source_line(cite_typst, note, LOW_NOTE if low else ""))


_INNER_ARIA = re.compile(r'\s(?:role|aria-[a-z]+)="[^"]*"')


def chart_svg(chart, alt: str = "") -> str:
    """Render an Altair chart to standalone SVG text with ids made unique in the page.

    With ``alt``, the SVG is one image to assistive technology: role="img" and the alt text on the
    root, the marks' own ARIA attributes removed (they would be hidden behind the image anyway)."""
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
    if alt:
        svg = _INNER_ARIA.sub("", svg)
        svg = svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(alt)}" ', 1)
    return svg


def _sources_of(frame: pd.DataFrame | None, extra: Iterable[str]) -> tuple[list[str], bool]:
    ids = list(extra)
    low = False
    if frame is not None and "source_id" in frame:  # a row may name several sources: "a;b"
        ids += [s for v in frame["source_id"].dropna().astype(str) for s in v.split(";") if s]
    if frame is not None and "confidence" in frame:
        low = bool((frame["confidence"] == "Low").any())
    return ids, low


def _html_table(headers: list[str], rows: list[list[str]], css_class: str) -> str:
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _not_yet(what: str) -> None:
    message = f"{what}: {NOT_YET}"
    _show(f'<p class="not-yet">{html.escape(message)}</p>', tm.paragraph(tm.text(message), muted=True))


def _line(ids: list[str], low: bool, note: str, unsourced: str) -> tuple[str, str]:
    """The source line of a chart or table, or, for one computed from the project's own tables only,
    ``unsourced``: what it rests on instead."""
    if ids:
        return source_line(ids, low=low, note=note)
    return f'<p class="source-line">{html.escape(unsourced)}</p>', f"#source-line[{tm.text(unsourced)}]"


def figure(chart, *, data: pd.DataFrame | None = None, sources: Iterable[str] = (),
           note: str = "", alt_text: str = "", unsourced: str = "") -> None:
    """Show a chart with alt text written from its data, its data as a table, and the source line
    of the rows it plots (``data``) and any extra sources; or, for a chart of the project's own
    tables, ``unsourced`` saying what it rests on. ``alt_text`` names the chart only when there is
    nothing to plot. A chart without a title fails its section."""
    if data is not None and data.empty:
        _not_yet(alt_text or "Chart")
        return
    ids, low = _sources_of(data, sources)
    if not ids and not unsourced:
        raise ValueError("a chart needs at least one source: pass data= with a source_id column or sources=")
    spec = chart.to_dict()
    number = figures.next_figure()
    title = title_of(spec)
    alt = f"Figure {number.number}: {describe(spec)}"
    headers, rows = data_table(spec)
    csv_text, count = figures.chart_csv(spec, title=title, sources=sources,
                                        sourced_rows=data is not None and "source_id" in data)
    line_html, line_typst = _line(ids, low, note, unsourced)
    data_html = (f'<details class="chart-data"><summary>Data: {html.escape(title)}</summary>'
                 f'{_html_table(headers, rows, "data-table")}</details>')
    svg = chart_svg(chart, alt)
    label = f"Figure {number.number}: {title}"
    _show(f'<figure class="chart" id="{number.anchor}">{svg}{data_html}<figcaption>'
          f'<p class="figure-label">{html.escape(label)}</p>{line_html}{number.tools}</figcaption></figure>',
          tm.chart(svg, alt, f"#figure-label({tm.string(label)}){line_typst}{number.data}", number.anchor),
          figures.record(number, title=title, kind="chart", csv_text=csv_text, rows=count, sources=ids))


def _column_widths(headers: list[str], rows: list[list[str]]) -> list[float]:
    """Relative column widths for print: by the longest text, within bounds."""
    longest = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    return [min(max(n, 6), 60) for n in longest]


def table(frame: pd.DataFrame, *, title: str, columns: dict[str, str] | None = None,
          formats: dict[str, Callable] | None = None, sources: Iterable[str] = (),
          note: str = "", unsourced: str = "") -> None:
    """Show a small table: chosen columns with reader-facing names, formatted cells, sources.

    A table must cite sources, unless ``unsourced`` says why it has none (shown in their place)."""
    if frame.empty:
        _not_yet(title)
        return
    ids, low = _sources_of(frame, sources)
    if not ids and not unsourced:
        raise ValueError("a table needs at least one source: a source_id column or sources=")
    columns = columns or {c: c for c in frame.columns}
    units = sorted(set(frame["unit"].dropna())) if "unit" in frame else []
    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(frame[c])]
    if len(units) > 1 and numeric:
        raise ValueError(f"table '{title}': column(s) {numeric} mixes units ({', '.join(units)}); convert to "
                         "one unit per column first (a reader compares down a column)")
    formats = formats or {}
    cells = []
    for col in columns:
        fmt_cell = formats.get(col, lambda v: "" if pd.isna(v) else str(v))
        cells.append([str(fmt_cell(v)) for v in frame[col]])
    rows = [list(r) for r in zip(*cells)]
    if low and "confidence" in frame:
        for row, confidence in zip(rows, frame["confidence"]):
            if confidence == "Low":
                row[0] = f"{row[0]} ▲"
    headers = list(columns.values())
    number = figures.next_figure()
    csv_text, count = figures.table_csv(frame, list(columns), title=title, sources=sources)
    line_html, line_typst = _line(ids, low, note, unsourced)
    label = f"Figure {number.number}: {title}"
    _show(f'<figure class="table" id="{number.anchor}"><figcaption class="table-title">{html.escape(label)}'
          f'</figcaption>{_html_table(headers, rows, "data-table")}{line_html}{number.tools}</figure>',
          tm.table(label, headers, rows, line_typst + number.data, _column_widths(headers, rows), number.anchor),
          figures.record(number, title=title, kind="table", csv_text=csv_text, rows=count, sources=ids))


class _Shown:
    """A Figure as a template sees it: ``{x}`` is the formatted value, ``{x.period}`` its period.

    In HTML the value links to the entry saying how it was computed (``target``); in Typst it
    carries the numbers of its sources as superscript."""

    def __init__(self, fig: Figure, escape: Callable[[str], str], target: str = ""):
        self._fig, self._escape, self._target = fig, escape, target

    def __format__(self, spec: str) -> str:

        value = self._fig.text
        low = " (low confidence)" if self._fig.confidence == "Low" else ""
        if self._escape is html.escape:
            return (f'<a class="figure" href="#{self._target}" data-figure="{html.escape(self._fig.name)}">'
                    f"{html.escape(value)}</a>{html.escape(low)}")
        return self._escape(value) + _typst_cite_numbers(self._fig.sources) + self._escape(low)

    @property
    def period(self) -> "_Text":
        return _Text(self._escape(self._fig.period))

    @property
    def label(self) -> "_Text":
        return _Text(self._escape(self._fig.label))

    def __getattr__(self, name: str) -> "_Text":
        """``{x.survey}``, ``{x.mode}``: a text the figure carries in ``extra``."""
        extra = getattr(self.__dict__.get("_fig"), "extra", {})  # _Text, a plain text, has none
        if name.startswith("_") or name not in extra:
            raise AttributeError(f"figure has no {name!r} (its extra texts: {sorted(extra)})")
        return _Text(self._escape(str(extra[name])))


class _Text(_Shown):
    """Text already escaped for its representation (a figure's period or label)."""

    def __init__(self, escaped: str):
        self._escaped = escaped

    def __format__(self, spec: str) -> str:
        return self._escaped


def _typst_cite_numbers(source_ids: Iterable[str]) -> str:
    """The numbers of a figure's sources, set as superscript after it in the PDF (the citation with
    the publisher's name, and its link, follows in the sentence's source list)."""
    known = catalogue.sources()
    numbers = sorted({known[sid].number for sid in source_ids if sid in known})
    return f"#super[{','.join(map(str, numbers))}];" if numbers else ""


_provenance_numbers = itertools.count(1)  # restarted by begin_section


def _provenance_target() -> str:
    """An id for the next provenance entry: numbered per section, so ids are unique in joined pages
    and the same on every run."""
    return f"prov-{_section}-{next(_provenance_numbers)}"


def _plain_number(value) -> str:
    if isinstance(value, (int, float)):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return str(value)


def _term_html(term: dict) -> str:
    known = catalogue.sources()
    src = known.get(term.get("source_id", ""))
    cite = f' <a class="cite" href="#source-{src.number}">[{src.number}]</a>' if src else ""
    scale = f" × {_plain_number(term['scale'])}" if term.get("scale", 1) != 1 else ""
    return (f"<code>{html.escape(term['row'])}</code> {html.escape(term['column'])} = "
            f"{html.escape(_plain_number(term['value']))}{scale}{cite}")


def _sum_html(terms: list[dict]) -> str:
    parts = " + ".join(_term_html(t) for t in terms)
    return f"({parts})" if len(terms) > 1 else parts


def _describe_html(prov: dict) -> str:
    """How a provenance expression computes its value, in words and row references."""
    method = prov["method"]
    if method == "value":
        return f"the value of {_term_html(prov['input'])}"
    if method == "share":
        return f"100 × {_sum_html(prov['numerator'])} ÷ {_sum_html(prov['denominator'])}"
    if method == "ratio":
        later, earlier = prov["of"]
        return f"({_describe_html(later)}) ÷ ({_describe_html(earlier)})"
    if method == "days_between":
        return f"the days from {_term_html(prov['start'])} to {_term_html(prov['end'])}"
    if method == "count":
        return "the number of rows: " + "; ".join(_term_html(t) for t in prov["rows"])
    return html.escape(str(prov))


def _provenance_html(target: str, fig: Figure) -> str:
    """One entry of a block's "how it was computed" list."""
    from . import fmt
    from .errors import DataError
    from .results import terms

    head = (f'<li id="{target}" data-unrounded="{fig.value!r}" data-printed="{html.escape(fig.text)}">'
            f'<span class="figure-value">{html.escape(str(fig))}</span>: '
            f"{html.escape(fig.titled)}. ")
    prov = fig.provenance
    if not prov:
        return head + "How this figure was computed was not recorded.</li>"
    printed = (f" Unrounded: {html.escape(_plain_number(fig.value))}; printed as {html.escape(fig.text)}, "
               "rounded once from the unrounded value.")
    tables = []
    for name in dict.fromkeys(t["row"].partition(":")[0] for t in terms(prov)):
        try:
            title = catalogue.resource(name).get("title", name)
        except DataError:  # a table renamed since the figure was recorded
            title = name
        tables.append(f"{html.escape(title)} (<code>{html.escape(name)}</code>)")
    as_of = prov.get("as_of")
    filtered = (f" As-of filter: only rows public by {html.escape(fmt.date(as_of))} "
                "(their <code>public_date</code> on or before that day)." if as_of else "")
    return (head + f"Computed as {_describe_html(prov)}.{printed} "
            f"Table{'s' if len(tables) > 1 else ''}: {'; '.join(tables)}.{filtered}</li>")


def _provenance_block(entries: list[str]) -> str:
    if not entries:
        return ""
    what = "this figure was" if len(entries) == 1 else "these figures were"
    return (f'<details class="provenance"><summary>How {what} computed</summary>'
            f"<ol>{''.join(entries)}</ol></details>")


def _format(template: str, values: dict, escape: Callable[[str], str]) -> str:
    """``template`` with its fields filled in; the template's own text and every value escaped."""
    formatter = string.Formatter()
    out = []
    for literal, field, spec, conversion in formatter.parse(template):
        out.append(escape(literal))
        if field is not None:
            value, _ = formatter.get_field(field, (), values)
            out.append(format(value, spec) if isinstance(value, _Shown) else escape(str(value)))
    return "".join(out)


def _fill(template: str, values: dict) -> tuple[str, str, list[str], bool, str] | None:
    """The template with values filled in, as HTML and Typst; None if any value is missing.

    Returns the HTML, the Typst, the sources cited, whether a figure is of low confidence, and the
    HTML list saying how each figure was computed (each figure in the HTML links to its entry)."""
    if any(v is None for v in values.values()):
        return None
    figures = [(k, v) for k, v in values.items() if isinstance(v, Figure)]
    for (k1, f1), (k2, f2) in itertools.combinations(figures, 2):
        if f1.provenance and {**f1.provenance, "as_of": None} == {**f2.provenance, "as_of": None}:
            raise ValueError(f"{{{k1}}} and {{{k2}}} are one figure ({f1.titled}), read from the same rows: "
                             "the sentence would compare it with itself. Show another sentence when they "
                             "coincide (for example when the latest period is the base period).")
    ids: list[str] = []
    low = False
    targets: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, Figure):
            ids += list(value.sources)
            low = low or value.confidence == "Low"
            targets[key] = _provenance_target()

    def wrap(escape):
        return {k: _Shown(v, escape, targets.get(k, "")) if isinstance(v, Figure) else v
                for k, v in values.items()}

    entries = [_provenance_html(targets[k], v) for k, v in values.items() if k in targets]
    return (_format(template, wrap(html.escape), html.escape), _format(template, wrap(tm.text), tm.text),
            ids, low, _provenance_block(entries))


def judgement(label: str, template: str, *, missing: str = NOT_YET, **values) -> None:
    """A stated judgement, with figures filled into the text and cited (``missing`` if one is None, or
    if the template is empty)."""
    filled = _fill(template, values) if template else None
    text_html, text_typst, ids, _, how = (filled if filled else
                                          (html.escape(missing), tm.text(missing), [], False, ""))
    cite_html, cite_typst = _cite(ids) if ids else ("", "")
    sources_html = f' <span class="judgement-sources">({cite_html})</span>' if ids else ""
    _show(f'<aside class="judgement"><p class="judgement-label">{html.escape(label)}</p>'
          f"<p>{text_html}{sources_html}</p>{how}</aside>",
          tm.judgement(label, text_typst + (f" ({cite_typst})" if ids else "")))


def finding(template: str, *, missing: str = "", **values) -> None:
    """A sentence of narrative that carries computed figures (so no number is typed by hand).

    If a figure is None (not known by the as-of date), ``missing`` is shown instead, or nothing."""
    filled = _fill(template, values)
    if filled is None:
        if missing:
            _show(f'<p class="finding not-yet">{html.escape(missing)}</p>',
                  tm.paragraph(tm.text(missing), muted=True))
        return
    text_html, text_typst, ids, _, how = filled
    cite_html, cite_typst = _cite(ids) if ids else ("", "")
    _show(f'<p class="finding">{text_html}{f" ({cite_html})" if ids else ""}</p>{how}',
          tm.paragraph(text_typst + (f" ({cite_typst})" if ids else "")))


def as_of_line(ctx) -> None:
    """State the as-of date of the section, so a reader knows what the figures could include."""
    from . import fmt

    line = f"As of {fmt.date(ctx.as_of)}: data and events after this date are left out."
    # Printed, it sticks to what follows, as the heading before it does: a section never ends a page
    # with its title and this line alone.
    _show(f'<p class="as-of">{html.escape(line)}</p>',
          f"#block(sticky: true)[{tm.paragraph(tm.text(line), muted=True)}]")


def note(text: str, *, label: str = "Note") -> None:
    """A free-text note (for example the analyst_note parameter), shown as plain escaped text."""
    if not text or not text.strip():
        return
    paragraphs = [p for p in text.strip().split("\n") if p.strip()]
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    _show(f'<aside class="note"><p class="judgement-label">{html.escape(label)}</p>{body}</aside>',
          tm.note(label, paragraphs))


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
