"""Executed notebook -> reader's HTML fragment, with nbconvert.

Only what a reader should see survives: markdown cells and the HTML blocks that the
``report_helpers.present`` helpers display. Code, the (injected) parameters cells, streams
(warnings, prints), raw reprs and error outputs are removed; what was removed is reported so the
build can log it.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field

import nbformat
from nbconvert import HTMLExporter

from .. import periods
from ..paths import templates_dir
from .execute import source_numbers

HIDDEN_TAGS = {"parameters", "injected-parameters", "remove"}
BRIEF_TAG = "brief"


@dataclass
class Cleaned:
    notebook: nbformat.NotebookNode
    dropped: list[str] = field(default_factory=list)


def clean(nb: nbformat.NotebookNode, *, edition: str) -> Cleaned:
    """Keep what a reader sees; list what was dropped, by JupyterLab's cell number, for the log.
    Each kept cell carries that number in its metadata (``source_cell_number``). Cells written for
    another period than the edition's as-of date (``periods``) are left out."""
    nb = copy.deepcopy(nb)
    as_of = _as_of(nb)
    dropped = []
    kept = []
    for cell, number in zip(nb.cells, source_numbers(nb.cells)):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_TAGS:
            continue
        if edition == "brief" and BRIEF_TAG not in tags:
            continue
        if not periods.shown(tags, as_of):
            continue
        if cell.cell_type == "code":
            outputs = []
            for out in cell.get("outputs", []):
                if out.output_type == "display_data" and "text/html" in out.get("data", {}):
                    outputs.append(out)
                else:
                    kind = out.get("name", out.output_type)
                    text = "".join(out.get("text", "")) or out.get("evalue", "") or \
                        str(out.get("data", {}).get("text/plain", ""))
                    dropped.append(f"cell {number}: {kind} left out of the report: {text.strip()[:200]}")
            if not outputs:
                continue
            cell.outputs = outputs
        cell.metadata["source_cell_number"] = number
        kept.append(cell)
    nb.cells = kept
    return Cleaned(nb, dropped)


def _as_of(nb: nbformat.NotebookNode) -> dt.date:
    """The as-of date the notebook was executed for (papermill records the parameters), else today."""
    value = nb.metadata.get("papermill", {}).get("parameters", {}).get("as_of", "today")
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return dt.date.today()


class FragmentExporter(HTMLExporter):
    """nbconvert's HTML exporter without its closing BeautifulSoup pass. That pass gives <img>
    elements a stock alt text and notebook cells a tabindex; a fragment has neither (charts are
    inline SVG with their own alt text), and re-parsing the SVG charts cost about a second a section."""

    def from_notebook_node(self, nb, resources=None, **kw):
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        resources = self._init_resources(resources)
        self.register_filter("highlight_code", self.filters.get("highlight_code", Highlight2HTML(parent=self)))
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


_exporter: FragmentExporter | None = None


def exporter() -> FragmentExporter:
    global _exporter
    if _exporter is None:
        _exporter = FragmentExporter(
            template_name="briefing_fragment",
            extra_template_basedirs=[str(templates_dir() / "nbconvert")],
            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
            anchor_link_text="",
        )
    return _exporter


_HEADING_ID = re.compile(r'<h([1-6]) id="([^"]+)"')
_CELL_ID = re.compile(r'id="cell-id=([^"]+)"')  # unique within a notebook only: a copied section keeps them
_ANCHOR = re.compile(r'<a class="anchor-link" href="#[^"]*"\s*(?:/>|></a>)')  # nbconvert may write <a .../>


def fragment(nb: nbformat.NotebookNode, slug: str, shown: list | None = None) -> str:
    """The section's cells as HTML, heading and cell ids prefixed with the section so pages can be
    joined, and its figures numbered (``shown``: the section's numbered figures, if already known)."""
    from .downloads import numbered, renumber

    body, _ = exporter().from_notebook_node(nb)
    body = renumber(_ANCHOR.sub("", body), numbered(nb, slug) if shown is None else shown)
    body = _CELL_ID.sub(lambda m: f'id="cell-id={slug}--{m.group(1)}"', body)
    return _HEADING_ID.sub(lambda m: f'<h{m.group(1)} id="{slug}--{m.group(2)}"', body)


def headings(fragment_html: str, level: int = 2) -> list[tuple[str, str]]:
    """(id, text) of the headings of one level, for tables of contents."""
    pattern = re.compile(rf'<h{level} id="([^"]+)"[^>]*>(.*?)</h{level}>', re.S)
    return [(hid, re.sub(r"<[^>]+>", "", text).strip()) for hid, text in pattern.findall(fragment_html)]
