"""Figures a reader can take away: one number per figure in the HTML, the PDF, the alt text and the
list of figures; each figure's CSV (exactly the rows it shows, with sources and confidence) and its
citation; the edition's data pack. The e2e tests read a really built edition, its PDF through
pdftotext, and download every figure's CSV in Debian's Chromium."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path

import altair as alt
import pandas as pd
import pytest

from conftest import CHROMIUM, CHROMIUM_ARGS
from report_helpers import catalogue, figures, present
from report_helpers.alt_text import shown

SOURCE = next(iter(catalogue.sources().values()))
BRIEF_ARGS = ("--as-of", "2024-06-30", "--edition", "brief")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")


@pytest.fixture
def blocks(monkeypatch):
    found = []
    monkeypatch.setattr(present, "display", found.append)
    present.begin_section("test")
    return found


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


# ---- in a section: numbers are provisional, the data are exactly what is shown --------------------

def test_a_chart_carries_its_plotted_rows_with_sources_and_confidence(blocks):
    frame = pd.DataFrame({"year": [2021, 2019, 2020], "share": [40.25, 25.0, 0.0], "partner": ["Russia"] * 3,
                          "source_id": [SOURCE.source_id] * 3, "confidence": ["High", "Low", "High"],
                          "unplotted": ["x", "y", "z"]})
    chart = alt.Chart(frame, title="Russia's share").mark_line().encode(x="year:O", y="share:Q", color="partner:N")
    present.figure(chart, data=frame)
    record = blocks[0].figure
    assert record["key"] == 1 and record["kind"] == "chart" and record["title"] == "Russia's share"
    rows = _rows(record["csv"])
    # in the order of the chart's data table (by year), unrounded, without the unplotted column
    assert rows == [{"share": "25", "year": "2019", "partner": "Russia", "confidence": "Low",
                     "source_id": SOURCE.source_id},
                    {"share": "0", "year": "2020", "partner": "Russia", "source_id": SOURCE.source_id,
                     "confidence": "High"},
                    {"share": "40.25", "year": "2021", "partner": "Russia", "source_id": SOURCE.source_id,
                     "confidence": "High"}]
    assert record["rows"] == 3
    assert 'id="figure-provisional-1"' in blocks[0].html and "<!--figure-tools 1-->" in blocks[0].html
    assert 'anchor: "figure-provisional-1"' in blocks[0].typst and "/*figure-data 1*/" in blocks[0].typst


def test_a_table_carries_its_shown_columns_unformatted(blocks):
    frame = pd.DataFrame({"when": [dt.date(2024, 3, 1)], "value": [1.23456], "hidden": ["no"],
                          "source_ids": [[SOURCE.source_id, "other-source"]]})
    present.table(frame, title="T", columns={"when": "When", "value": "Value"},
                  formats={"value": lambda v: f"{v:.1f}"}, sources=[SOURCE.source_id])
    assert _rows(blocks[0].figure["csv"]) == [{"when": "2024-03-01", "value": "1.23456",
                                               "source_id": f"{SOURCE.source_id};other-source",
                                               "confidence": "High"}]
    assert "<td>1.2</td>" in blocks[0].html  # the page shows the formatted value; the CSV the value


def test_a_chart_whose_rows_lost_their_sources_fails_with_the_figure_named(blocks):
    frame = pd.DataFrame({"year": [2020, 2021], "share": [1.0, 2.0], "source_id": [SOURCE.source_id, None]})
    chart = alt.Chart(frame, title="Lost a source").mark_line().encode(x="year:O", y="share:Q")
    with pytest.raises(ValueError, match="figure 'Lost a source'.*source_id"):
        present.figure(chart, data=frame)
    assert blocks == []  # nothing shown without its data


def test_citations_escape_what_bibtex_and_json_would_misread():
    fig = figures.Numbered(3, 2, "Gas {bcm} & 50% of #1_a ~ \\ ^", "chart", "a\n", 0, ("s",), 2)
    edition = figures.Edition("Why?", "Sub", "2024-06-30_full", "full", dt.date(2024, 6, 30),
                              base_url="https://example.org/editions")
    bib = figures.bibtex(fig, edition)
    assert r"title = {Figure 3.2: Gas \{bcm\} \& 50\% of \#1\_a \textasciitilde{} \textbackslash{} " \
           r"\textasciicircum{}}" in bib
    assert "url = {https://example.org/editions/2024-06-30_full/briefing.html#figure-3-2}" in bib
    assert bib.count("{") == bib.count("}") + bib.count(r"\{") - bib.count(r"\}")
    item = json.loads(figures.csl_json(fig, edition))[0]
    assert item["title"] == "Figure 3.2: Gas {bcm} & 50% of #1_a ~ \\ ^"
    assert item["URL"].endswith("/2024-06-30_full/briefing.html#figure-3-2")
    assert item["issued"] == {"date-parts": [[2024, 6, 30]]} and item["type"] == "figure"
    assert "Why? Sub" in figures.plain_citation(fig, edition)  # no "?:" between title and subtitle


@pytest.mark.e2e
def test_a_figure_whose_data_cannot_be_written_fails_its_section(small_project, tmp_path):
    """In a real build: the trade chart's rows with one source_id lost; the section fails, naming
    the figure, and nothing is published."""
    from conftest import run_build

    path = small_project / "notebooks" / "10_why_frenemies.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "data=main_partners" in "".join(c["source"]))
    first, rest = "".join(cell["source"]).split("\n", 1)
    cell["source"] = (first + '\nmain_partners = main_partners.assign(source_id=main_partners["source_id"]'
                      '.where(main_partners["year"] != 2020))\n' + rest)
    path.write_text(json.dumps(nb), encoding="utf-8")
    reports = tmp_path / "reports"
    result = run_build(reports, "-q")
    assert result.returncode == 1
    assert "section why_frenemies failed" in result.stderr
    assert "figure 'Russia's share of Armenia's trade keeps rising': a plotted row has no source_id" in result.stderr
    assert not list(reports.glob("*_full"))


# ---- a real edition ------------------------------------------------------------------------------

FIGURE = re.compile(r'<figure class="(chart|table)" id="(figure-(\d+)-(\d+))">(.*?)</figure>', re.S)


def _figures(page: str) -> list[dict]:
    found = []
    for kind, anchor, section, index, body in FIGURE.findall(page):
        label = re.search(r'<(?:p class="figure-label"|figcaption class="table-title")>(Figure [^<]*)<', body)
        table = body[body.index("<table"):body.index("</table>")] if "<table" in body else ""
        cells = [[html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td>(.*?)</td>", row)]
                 for row in re.findall(r"<tr>(.*?)</tr>", table)]
        alt = re.search(r'<svg role="img" aria-label="([^"]*)"', body)
        found.append({"kind": kind, "anchor": anchor, "number": f"{section}.{index}",
                      "label": html.unescape(label.group(1)) if label else None, "cells": [c for c in cells if c],
                      "alt": html.unescape(alt.group(1)) if alt else None})
    return found


@pytest.fixture(scope="module")
def edition(full_edition) -> Path:
    return full_edition


@pytest.fixture(scope="module")
def shown_figures(edition) -> list[dict]:
    return _figures((edition / "briefing.html").read_text(encoding="utf-8"))


@pytest.mark.e2e
def test_every_figure_has_one_number_in_html_alt_text_list_and_pdf(edition, shown_figures):
    page = (edition / "briefing.html").read_text(encoding="utf-8")
    assert len(shown_figures) >= 20 and "⟦" not in page and "provisional" not in page
    by_section: dict[str, list[int]] = {}
    for fig in shown_figures:
        section, index = fig["number"].split(".")
        by_section.setdefault(section, []).append(int(index))
        assert fig["label"].startswith(f"Figure {fig['number']}: ")
        if fig["kind"] == "chart":
            assert fig["alt"].startswith(f"Figure {fig['number']}: ")
    assert all(indexes == list(range(1, len(indexes) + 1)) for indexes in by_section.values()), by_section
    listed = re.search(r'<section class="briefing-section figures-list" id="list-of-figures">(.*?)</section>',
                       page, re.S).group(1)
    assert re.findall(r'<a href="#(figure-[\d-]+)">', listed) == [f["anchor"] for f in shown_figures]
    text = subprocess.run(["pdftotext", "-layout", str(edition / "briefing.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    flat = re.sub(r"\s+", " ", text.replace("’", "'"))
    contents = flat[flat.index("List of Figures"):]
    for fig in shown_figures:
        caption = re.sub(r"\s+", " ", fig["label"].replace("’", "'"))
        assert flat.count(f"Figure {fig['number']}: ") >= 2, fig["number"]  # in the list and at the figure
        assert caption[:60] in contents, caption
        assert f"Data: figures/{fig['anchor']}.csv" in flat


@pytest.mark.e2e
def test_each_csv_reproduces_its_figure(edition, shown_figures):
    known = set(catalogue.sources())
    for fig in shown_figures:
        rows = _rows((edition / "figures" / f"{fig['anchor']}.csv").read_text(encoding="utf-8"))
        assert len(rows) == len(fig["cells"]), fig["anchor"]
        for row, cells in zip(rows, fig["cells"]):
            assert row["confidence"] in ("High", "Low")
            ids = [s for s in row["source_id"].split(";") if s]
            assert set(ids) <= known, (fig["anchor"], ids)
            values = [v for k, v in row.items() if k != "source_id"]
            if fig["kind"] == "chart":  # the data table under the chart, cell for cell
                def parsed(v):
                    try:
                        return float(v)
                    except ValueError:
                        return v or None
                assert [shown(parsed(v)) for v in values][:len(cells)] == cells, fig["anchor"]
            else:  # a table's text columns as shown (numbers are formatted on the page)
                def joined(text):  # lists are joined by ";" in the CSV, by ", " or "; " on the page
                    return re.sub(r"[;,]\s*", ";", text)
                for value, cell in zip(values, cells):
                    if not re.fullmatch(r"-?[\d.]+(e-?\d+)?", value or "0"):
                        assert joined(cell.removesuffix(" ▲")) == joined(value), (fig["anchor"], value, cell)


@pytest.mark.e2e
def test_citations_point_at_the_figures_anchor(edition, shown_figures):
    manifest = json.loads((edition / "manifest.json").read_text(encoding="utf-8"))
    for fig in shown_figures:
        base = edition / "figures" / fig["anchor"]
        item = json.loads(base.with_name(fig["anchor"] + ".csl.json").read_text(encoding="utf-8"))[0]
        assert item["title"] == fig["label"] and item["number"] == fig["number"]
        assert f"{manifest['edition_id']}/briefing.html#{fig['anchor']}" in item["note"]
        assert f"title = {{{figures.bibtex_text(fig['label'])}}}" in base.with_suffix(".bib").read_text()
        for suffix in (".csv", ".bib", ".csl.json"):
            assert f"figures/{fig['anchor']}{suffix}" in manifest["files"]


@pytest.mark.e2e
def test_brief_edition_numbers_only_the_figures_it_shows(built_reports):
    folder = built_reports(*BRIEF_ARGS) / "2024-06-30_brief"
    shown_here = _figures((folder / "briefing.html").read_text(encoding="utf-8"))
    assert shown_here and {p.name for p in (folder / "figures").glob("*.csv")} == {
        f"{f['anchor']}.csv" for f in shown_here}
    by_section: dict[str, list[int]] = {}
    for fig in shown_here:
        section, index = fig["number"].split(".")
        by_section.setdefault(section, []).append(int(index))
    assert all(i == list(range(1, len(i) + 1)) for i in by_section.values()), by_section


@pytest.mark.e2e
def test_data_pack_is_a_valid_frictionless_package_linked_everywhere(edition):
    from frictionless import Package

    pack = edition / "datapack"
    report = Package(str(pack / "datapackage.json")).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "message"])[:5]
    descriptor = json.loads((pack / "datapackage.json").read_text(encoding="utf-8"))
    names = {r["path"] for r in descriptor["resources"]}
    assert {"sources.csv", "trade_by_partner.csv", "events.csv"} <= names
    with zipfile.ZipFile(edition / "datapack.zip") as archive:
        assert sorted(archive.namelist()) == sorted(f"datapack/{n}" for n in [*names, "datapackage.json"])
        assert archive.read("datapack/events.csv") == (pack / "events.csv").read_bytes()
    cited = {s for p in (edition / "figures").glob("*.csv") for r in _rows(p.read_text(encoding="utf-8"))
             for s in r["source_id"].split(";") if s}
    in_pack = {r["source_id"] for r in _rows((pack / "sources.csv").read_text(encoding="utf-8"))}
    assert cited <= in_pack
    assert 'href="datapack.zip"' in (edition / "briefing.html").read_text(encoding="utf-8")
    reports = edition.parent
    assert f'href="{edition.name}/datapack.zip"' in (reports / "index.html").read_text(encoding="utf-8")
    assert f'href="{edition.name}/datapack.zip" rel="related"' in (reports / "feed.xml").read_text(encoding="utf-8")


@pytest.mark.e2e
def test_data_pack_of_an_earlier_edition_holds_only_rows_public_then(built_reports):
    folder = built_reports(*BRIEF_ARGS) / "2024-06-30_brief" / "datapack"
    for path in folder.glob("*.csv"):
        for row in _rows(path.read_text(encoding="utf-8")):
            if row.get("public_date"):
                assert row["public_date"] <= "2024-06-30", (path.name, row)
    events = _rows((folder / "events.csv").read_text(encoding="utf-8"))
    assert events and len(events) < len(_rows((catalogue.data_dir() / "events.csv").read_text(encoding="utf-8")))


# ---- in a real browser ---------------------------------------------------------------------------

@pytest.fixture
def served(edition):
    """The reports folder over HTTP on the loopback, as a web server would publish it (a browser
    follows a download link from a file: page as a navigation, not a download)."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(edition.parent)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{edition.name}/"
    server.shutdown()
    server.server_close()


@pytest.mark.e2e
@pytest.mark.slow
@needs_chromium
def test_downloads_and_citations_work_in_a_browser(edition, shown_figures, served, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        blocked: list[str] = []

        def open_page():
            page = browser.new_page(accept_downloads=True)
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith((served, "data:"))
                       else (blocked.append(route.request.url), route.abort()))
            page.goto(served + "briefing.html")
            return page

        # Chromium silently drops some downloads when one page starts many in quick succession (here,
        # by keyboard: the 11th and the 22nd of 27); a reader takes a few, so each five get a page.
        for start in range(0, len(shown_figures), 5):
            page = open_page()
            for fig in shown_figures[start:start + 5]:
                link = page.get_by_role("link", name=re.compile(rf"^Download the data of figure {re.escape(fig['number'])} "))
                with page.expect_download() as caught:
                    if fig is shown_figures[0]:  # by keyboard, as well as by mouse
                        link.focus()
                        page.keyboard.press("Enter")
                    else:
                        link.click()
                saved = tmp_path / f"{fig['anchor']}.csv"
                caught.value.save_as(saved)
                assert caught.value.suggested_filename == f"{fig['anchor']}.csv"
                assert saved.read_bytes() == (edition / "figures" / f"{fig['anchor']}.csv").read_bytes()
            page.close()
        page = open_page()
        # "Cite this figure" opens by keyboard and names the figure's anchor, which the page has
        last = shown_figures[-1]
        summary = page.locator(f"#{last['anchor']} details.cite summary")
        summary.focus()
        page.keyboard.press("Enter")
        citation = page.locator(f"#{last['anchor']} p.citation")
        assert citation.is_visible() and f"briefing.html#{last['anchor']}" in citation.inner_text()
        with page.expect_download() as caught:
            page.get_by_role("link", name=f"BibTeX citation of figure {last['number']}").click()
        assert caught.value.suggested_filename == f"{last['anchor']}.bib"
        page.goto(served + f"briefing.html#{last['anchor']}")
        assert page.locator(f"#{last['anchor']}").is_visible()
        browser.close()
    assert blocked == []
