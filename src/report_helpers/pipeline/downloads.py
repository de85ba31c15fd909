"""Figures a reader can take away, in the edition's folder: numbers, downloads, citations, the list.

Converting a section numbers the figures its edition shows ("Figure 3.2": the section's place among
the notebooks, then the figure's place in the section) in the HTML fragment and the Typst markup
(``renumber``). The build then puts each figure's tools in its place: in the HTML, a link to its
CSV and "Cite this figure" (plain text, BibTeX, CSL-JSON); in the PDF, a line saying where its data
are. ``write`` puts the files under ``figures/`` in the staging folder, so a download works offline
and keeps working after later editions.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from .. import figures
from .. import typst_markup as tm
from ..figures import Edition, Numbered


def base_url(given: str | None = None) -> str:
    """Where the reports folder is served, ending in '/': ``--base-url``, else ``[publishing] base_url``
    of the project file, else "" (then the PDF says the data sit beside it)."""
    from ..errors import ParameterError

    if given is not None:
        if not re.match(r"^https?://[^\s/]+(/\S*)?$", given):
            raise ParameterError(f"--base-url {given!r} is not an http(s) URL")
        return given.rstrip("/") + "/"
    from .. import project

    return project.load().base_url or ""


def records(notebook) -> list[dict]:
    """The figure records of a cleaned, executed section, in the order a reader meets them."""
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            record = output.get("data", {}).get(figures.FIGURE_MIME)
            if record:
                found.append(dict(record))
    return found


def section_number(slug: str) -> int:
    """A section's number: its place among the section notebooks (NN order), from 1."""
    from ..sections import discover

    slugs = [s.slug for s in discover()]
    return slugs.index(slug) + 1 if slug in slugs else 0


def numbered(notebook, slug: str) -> list[Numbered]:
    section = section_number(slug)
    return [Numbered(section, index, r["title"], r["kind"], r["csv"], r["rows"], tuple(r["sources"]), r["key"])
            for index, r in enumerate(records(notebook), start=1)]


def renumber(text: str, shown: list[Numbered]) -> str:
    """The provisional tokens of a section's HTML or Typst replaced by the figures' numbers."""
    by_key = {f.key: f for f in shown}

    def replace(match: re.Match) -> str:
        key = match.group(1) or match.group(2)
        fig = by_key.get(int(key))
        if fig is None:  # a figure of a cell this edition leaves out: its markup went with it
            return match.group(0)
        return fig.number if match.group(1) else fig.anchor

    return figures.TOKEN.sub(replace, text)


def tools_html(fig: Numbered, edition: Edition) -> str:
    """The CSV download and "Cite this figure", with names that say which figure they belong to."""
    base = f"figures/{fig.anchor}"
    rows = f"{fig.rows} row{'s' if fig.rows != 1 else ''}"
    return (f'<div class="figure-tools">'
            f'<a class="download" href="{base}.csv" download="{fig.anchor}.csv" type="text/csv">'
            f'Download the data of figure {fig.number} (CSV, {rows})</a>'
            f'<details class="cite"><summary>Cite figure {fig.number}</summary>'
            f'<p class="citation">{html.escape(figures.plain_citation(fig, edition))}</p>'
            f'<p><a href="{base}.bib" download="{fig.anchor}.bib">BibTeX citation of figure {fig.number}</a> · '
            f'<a href="{base}.csl.json" download="{fig.anchor}.csl.json" type="application/json">'
            f'CSL-JSON citation of figure {fig.number}</a></p>'
            f"</details></div>")


def data_line_typst(fig: Numbered, edition: Edition) -> str:
    """Under a figure in the PDF: where its data are, a link with a base URL, else beside the PDF."""
    if edition.base_url:
        address = edition.folder_url + fig.csv_path
        return f"#source-line[Data: {tm.url_link(address)}]"
    return f"#source-line[{tm.text(f'Data: {fig.csv_path}, in the data pack beside this PDF.')}]"


def finish(fragment: str, typst: str, shown: list[Numbered], edition: Edition) -> tuple[str, str]:
    """A numbered section's HTML and Typst with each figure's tools in place."""
    by_key = {f.key: f for f in shown}
    placeless = [f for f in shown if figures.Provisional(f.key).tools not in fragment]
    if placeless:  # a download must never be missing silently
        raise RuntimeError(f"figure {placeless[0].number} ({placeless[0].title}) has no place for its downloads")
    fragment = figures.TOOLS.sub(lambda m: tools_html(by_key[int(m.group(1))], edition)
                                 if int(m.group(1)) in by_key else "", fragment)
    typst = figures.DATA.sub(lambda m: data_line_typst(by_key[int(m.group(1))], edition)
                             if int(m.group(1)) in by_key else "", typst)
    return fragment, typst


def write(folder: Path, shown: list[Numbered], edition: Edition) -> None:
    """Each figure's CSV and citations, under ``folder/figures/``."""
    target = folder / "figures"
    target.mkdir(exist_ok=True)
    for fig in shown:
        (target / f"{fig.anchor}.csv").write_text(fig.csv, encoding="utf-8", newline="")
        (target / f"{fig.anchor}.bib").write_text(figures.bibtex(fig, edition), encoding="utf-8")
        (target / f"{fig.anchor}.csl.json").write_text(figures.csl_json(fig, edition), encoding="utf-8")


def _short(caption: str, limit: int = 95) -> tuple[str, str]:
    """A caption cut at a word to fit one line of the list, and the markup marking the cut ("…"),
    outside the link and set apart, so the link's area holds the caption's own words only."""
    if len(caption) <= limit:
        return caption, ""
    return caption[:limit].rsplit(" ", 1)[0].rstrip(" ,:;("), "#h(0.3em)#text(fill: muted-ink)[…]"


def list_typst(shown: list[Numbered]) -> str:
    """The PDF's list of figures: each caption (on one line) linked to its figure, and its page."""
    if not shown:
        return ""
    cells = []
    for f in shown:
        text, cut = _short(f.caption)
        # the caption as a string, as the table title it leads to (no smart quotes: the same words)
        cells.append(f"[#link(<{f.anchor}>, {tm.string(text)}){cut}], "
                     f"[#context counter(page).at(<{f.anchor}>).first()]")
    body = ",\n  ".join(cells)
    return (f"= List of Figures\n#text(size: 9pt)[#grid(columns: (1fr, auto), column-gutter: 1em, "
            f"row-gutter: 0.65em,\n  {body}\n)]\n")
