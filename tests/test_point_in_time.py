"""Point in time: an edition as of a date shows only what was public by then and cites only what
was published by then (the cover and "built on" lines excepted).

Real builds with the `briefing` command: a two-section project at several as-of dates, and the whole
briefing at the article's vantage point. Each edition is read back from what it published: the
source numbers cited in its HTML (`href="#source-N"`), and the events and figures in its manifest
and results.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import copy_project
from report_helpers import catalogue

pytestmark = pytest.mark.e2e
PROJECT = Path(__file__).resolve().parents[1]
CITED = re.compile(r'href="#source-(\d+)"')
YEAR = re.compile(r"\b(19|20)\d\d\b")


def build(reports: Path, as_of: str, project: Path | None = None) -> Path:
    env = dict(os.environ, **({"BRIEFING_PROJECT_DIR": str(project)} if project else {}))
    result = subprocess.run([sys.executable, "-m", "report_helpers", "build", "--as-of", as_of,
                             "--reports-dir", str(reports), "-q"],
                            capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, result.stderr
    return next(p for p in reports.iterdir() if p.is_dir() and p.name.startswith(f"{as_of}_"))


def pages(edition: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(edition.glob("*.html"))}


def late_citations(edition: Path, as_of: dt.date, extra: str = "") -> list[str]:
    """Sources cited in the edition's pages (and in ``extra`` text) that were published after as_of."""
    by_number = {s.number: s for s in catalogue.sources().values()}
    cited = {int(n) for text in [*pages(edition).values(), extra] for n in CITED.findall(text)}
    assert cited, "an edition with data cites sources"
    return [f"[{n}] {by_number[n].source_id} ({by_number[n].published})" for n in sorted(cited)
            if catalogue.published_by(by_number[n].published) > as_of]


def late_events(edition: Path, as_of: dt.date) -> list[str]:
    manifest = json.loads((edition / "manifest.json").read_text(encoding="utf-8"))
    events = catalogue.load_table("events").set_index("event_id")
    late = [eid for eid, e in manifest["events"].items()
            if e["date"] > as_of.isoformat() or events.loc[eid, "public_date"] > as_of]
    # and no event that was not yet public is named anywhere a reader looks
    text = html.unescape(" ".join(pages(edition).values()))
    late += [f"{row.event_id} named in the pages" for row in events.reset_index().itertuples()
             if row.public_date > as_of and row.title in text]
    return late


def late_figures(edition: Path, as_of: dt.date) -> list[str]:
    known = catalogue.sources()
    late = []
    for path in sorted((edition / "results").glob("*.json")):
        if path.name.endswith(".reads.json"):
            continue
        for name, fig in json.loads(path.read_text(encoding="utf-8"))["figures"].items():
            for sid in fig["sources"]:
                if catalogue.published_by(known[sid].published) > as_of:
                    late.append(f"{name}: source {sid}")
            if any(int(m.group(0)) > as_of.year for m in YEAR.finditer(fig["period"])):
                late.append(f"{name}: period {fig['period']}")
    manifest = json.loads((edition / "manifest.json").read_text(encoding="utf-8"))
    for name, fig in manifest["figures"].items():
        if any(int(m.group(0)) > as_of.year for m in YEAR.finditer(fig["period"])):
            late.append(f"{name}: period {fig['period']} (manifest)")
    return late


def assert_point_in_time(edition: Path, as_of: dt.date) -> None:
    assert late_citations(edition, as_of) == []
    assert late_events(edition, as_of) == []
    assert late_figures(edition, as_of) == []


def assert_checks_would_object(edition: Path, as_of: dt.date) -> None:
    """The checks are not vacuous: a link to a source published after the as-of date is caught."""
    later = next(s for s in catalogue.sources().values() if catalogue.published_by(s.published) > as_of)
    link = f'<a href="#source-{later.number}">[{later.number}]</a>'
    assert late_citations(edition, as_of, link) == [f"[{later.number}] {later.source_id} ({later.published})"]


@pytest.fixture(scope="module")
def two_sections(tmp_path_factory) -> tuple[Path, Path]:
    """The small project of conftest's `small_project`, shared by the dated builds below so that they
    share one reports folder (the data are validated once)."""
    root = copy_project(tmp_path_factory.mktemp("project") / "p", ("10_why_frenemies.ipynb", "20_what_putin_wants.ipynb"))
    return root, tmp_path_factory.mktemp("reports")


@pytest.mark.parametrize("as_of", ["2020-12-31", "2022-07-31", "2025-03-31"])
def test_two_sections_as_of_several_dates_show_and_cite_nothing_later(two_sections, as_of):
    project, reports = two_sections
    day = dt.date.fromisoformat(as_of)
    edition = build(reports, as_of, project)
    assert_point_in_time(edition, day)
    assert_checks_would_object(edition, day)


def test_the_whole_briefing_as_of_the_article_shows_and_cites_nothing_later(built_reports):
    as_of = dt.date(2024, 6, 30)
    edition = built_reports("--as-of", as_of.isoformat()) / f"{as_of.isoformat()}_full"
    assert_point_in_time(edition, as_of)
    assert_checks_would_object(edition, as_of)
    text = html.unescape((edition / "briefing.html").read_text(encoding="utf-8"))
    # the 2025 compilations (trade, transfers) that the audit found cited in this edition
    for later in ("arm_trade_country.csv", "transfers_by_countries_clean.csv"):
        assert later not in text
