"""Figures a reader can audit: every number in the text, the judgements and the key points links to
how it was computed, the manifest records that provenance, and it leads back to rows whose values
reproduce the number.

Real builds: the whole briefing as of today (the session's shared edition), and two sections as of
the article's vantage point.
Figures are picked from the built HTML (``<a class="figure" data-figure=NAME href="#prov-...">``),
their provenance read from the manifest, and every row it names read again from the data, filtered
to the edition's as-of date.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import copy_project
from report_helpers import catalogue, fmt
from report_helpers.results import evaluate, terms

pytestmark = pytest.mark.e2e
PROJECT = Path(__file__).resolve().parents[1]
FIGURE_LINK = re.compile(r'<a class="figure" href="#([^"]+)" data-figure="([^"]+)">([^<]+)</a>')


def build(reports: Path, *args: str, project: Path | None = None) -> Path:
    env = dict(os.environ, **({"BRIEFING_PROJECT_DIR": str(project)} if project else {}))
    result = subprocess.run([sys.executable, "-m", "report_helpers", "build", "--reports-dir", str(reports),
                             "-q", *args], capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, result.stderr
    return (reports / "latest").resolve()


@pytest.fixture(scope="module")
def full(full_edition) -> Path:
    """Today's full edition, built once per session (conftest)."""
    return full_edition.resolve()


@pytest.fixture(scope="module")
def two_sections_2024(tmp_path_factory) -> Path:
    root = copy_project(tmp_path_factory.mktemp("project") / "p", ("10_why_frenemies.ipynb", "30_what_pashinyan_wants.ipynb"))
    return build(tmp_path_factory.mktemp("reports"), "--as-of", "2024-06-30", project=root)


def shown_figures(edition: Path) -> list[tuple[str, str, str, str]]:
    """(page, target id, figure name, text shown) for every figure linked in the edition's pages."""
    found = []
    for page in sorted(edition.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        found += [(page.name, target, html.unescape(name), html.unescape(shown))
                  for target, name, shown in FIGURE_LINK.findall(text)]
    return found


def manifest(edition: Path) -> dict:
    return json.loads((edition / "manifest.json").read_text(encoding="utf-8"))


def _rows(as_of: dt.date) -> dict[str, dict]:
    rows = {}
    for res in catalogue.read_catalogue()["resources"]:
        if res["name"] in ("sources", "claims", "claim_assessments"):
            continue
        for row in catalogue.load_table(res["name"], as_of=as_of).to_dict("records"):
            rows[row["row_ref"]] = row
    return rows


def _cell(value):
    return value.isoformat() if hasattr(value, "isoformat") else float(value)


def audit(edition: Path) -> int:
    """Follow every figure shown in the edition back to its rows; the number of figures checked."""
    data = manifest(edition)
    as_of = dt.date.fromisoformat(data["parameters"]["as_of"])
    rows = _rows(as_of)
    shown = shown_figures(edition)
    assert shown, "the edition shows figures"
    for page, target, name, text in shown:
        page_text = (edition / page).read_text(encoding="utf-8")
        # the link leads to an entry on the same page, inside a "how it was computed" disclosure
        entry = re.search(rf'<details class="provenance">(?:(?!</details>).)*<li id="{re.escape(target)}"[ >]',
                          page_text, re.DOTALL)
        assert entry, (page, target)
        assert name in data["figures"], f"{name} is shown but not in the manifest"
        figure = data["figures"][name]
        provenance = figure["provenance"]
        assert provenance and provenance["as_of"] == as_of.isoformat(), name
        for term in terms(provenance):
            row = rows.get(term["row"])
            assert row is not None, f"{name}: row {term['row']} not public as of {as_of}"
            actual = _cell(row[term["column"]])
            assert actual == term["value"] or (isinstance(actual, float) and math.isclose(actual, term["value"])), \
                (name, term)
            assert row["source_id"] == term["source_id"], (name, term)
            assert term["source_id"] in figure["sources"], (name, term)

        def read(term):
            return _cell(rows[term["row"]][term["column"]])

        value = evaluate(provenance, read)  # unrounded
        assert math.isclose(value, figure["value"], rel_tol=1e-9, abs_tol=1e-9), (name, value, figure["value"])
        # rounded once, from the unrounded value, and the disclosure states what was printed
        printed = fmt.by_unit(value, figure["unit"], figure.get("digits"))
        assert text == printed, (name, text, printed)
        li = re.search(rf'<li id="{re.escape(target)}" data-unrounded="([^"]+)" data-printed="([^"]+)">(.*?)</li>',
                       page_text, re.DOTALL)
        assert li and math.isclose(float(li.group(1)), value, rel_tol=1e-12), (name, target)
        assert html.unescape(li.group(2)) == printed, (name, li.group(2))
        assert f"printed as {printed}, rounded once from the unrounded value" in html.unescape(li.group(3)), name
    return len(shown)


def test_every_figure_of_the_whole_briefing_leads_back_to_rows_that_reproduce_it(full):
    assert audit(full) >= 20
    figures = manifest(full)["figures"]
    names = {name for _, _, name, _ in shown_figures(full)}
    assert names <= set(figures), "every figure shown is recorded in the manifest"
    assert all(f["provenance"] and f["provenance"]["as_of"] for f in figures.values())
    assert "was not recorded" not in (full / "briefing.html").read_text(encoding="utf-8")


def test_key_points_and_judgements_link_their_figures(full):
    text = (full / "00_key_points.html").read_text(encoding="utf-8")
    judgements = re.findall(r'<aside class="judgement">.*?</aside>', text, re.DOTALL)
    assert judgements and all('class="figure"' in j and 'class="provenance"' in j
                              for j in judgements if "No figure" not in j and "published after" not in j)


def test_the_pdf_gives_every_figure_its_citation_numbers(full):
    from pypdf import PdfReader

    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(full / "briefing.pdf").pages)
    figures = manifest(full)["figures"]
    numbers = {s.source_id: s.number for s in catalogue.sources().values()}
    for _, _, name, shown in shown_figures(full):
        cited = sorted({numbers[sid] for sid in figures[name]["sources"]})
        assert re.search(re.escape(shown) + r" ?" + ",".join(str(n) for n in cited) + r"\b", text), \
            (name, shown, cited)  # the numbers are set as superscript after the figure


def test_an_edition_as_of_an_earlier_date_audits_against_the_rows_known_then(two_sections_2024):
    assert audit(two_sections_2024) >= 3
    figures = manifest(two_sections_2024)["figures"]
    assert all(f["provenance"]["as_of"] == "2024-06-30" for f in figures.values())


def test_a_changed_row_no_longer_reproduces_the_figure(full):
    """The audit is not vacuous: a figure whose row changed after the build does not reproduce."""
    data = manifest(full)
    name, figure = next((n, f) for n, f in data["figures"].items() if f["provenance"]["method"] == "share")
    term = terms(figure["provenance"])[0]
    forged = {**term, "value": term["value"] * 2}
    changed = evaluate(figure["provenance"], lambda t: forged["value"] if t == term else t["value"])
    assert not math.isclose(changed, figure["value"])
