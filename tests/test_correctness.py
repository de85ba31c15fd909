"""What an audit of the printed briefing checks (issue 19), as rules over every section and several
as-of dates, in the HTML and in the PDF:

- every printed figure is rounded once, from its unrounded value (test_provenance audits each one;
  here at several as-of dates too);
- an as-of edition shows no evidence key, note or sentence that was not public on its as-of date;
- "latest" in the text always names its date;
- a changes note lists only real changes.

The unit tests below pin the mechanisms: unrounded shares, row precedence that compares like with
like, one unit per column, labelled periods on a chart of mixed years, period-tagged cells.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from report_helpers import analysis, catalogue, claims, fmt, periods, present
from report_helpers.pipeline import changes
from report_helpers.results import Figure

TODAY = dt.date.today()
AS_OF_DATES = ["2022-06-30", "2022-12-31", "2024-06-30"]


@pytest.fixture(scope="module")
def dated_reports(tmp_path_factory):
    """A reports folder of its own (the session's shared one has no earlier editions, and other tests
    rely on that), and a function that builds the full briefing as of a date into it, once."""
    folder = tmp_path_factory.mktemp("dated-reports")

    def build(as_of: str) -> Path:
        edition = folder / f"{as_of}_full"
        if not edition.exists():
            from conftest import run_build

            result = run_build(folder, "-q", *(() if as_of == TODAY.isoformat() else ("--as-of", as_of)))
            assert result.returncode == 0, result.stderr
        return edition

    return build


@pytest.fixture(scope="module", params=AS_OF_DATES + [TODAY.isoformat()])
def edition(request, dated_reports) -> tuple[dt.date, Path]:
    """The full briefing at several as-of dates, built in date order (each compares with the last)."""
    for earlier in AS_OF_DATES:
        if earlier < request.param:
            dated_reports(earlier)
    return dt.date.fromisoformat(request.param), dated_reports(request.param)


def _soup(path: Path) -> BeautifulSoup:
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["script", "style", "svg"]):
        tag.decompose()
    return soup


def _claim_texts() -> list[str]:
    """The article's claims, restated: they are the subject of the briefing and may name later years."""
    return [" ".join(c.replace("’", "'").split()) for c in catalogue.load_table("claims")["claim"]]


def _without_claims_and_stamps(text: str) -> str:
    text = " ".join(text.replace("’", "'").split())
    for claim in _claim_texts():
        text = text.replace(claim, " ")
    return re.sub(r"\bBuilt:? \d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}( UTC)?|built \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", " ",
                  text)


def _pdf_text(edition: Path) -> str:
    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(edition / "briefing.pdf").pages)


@pytest.mark.e2e
def test_every_figure_at_every_date_is_rounded_once(edition):
    from test_provenance import audit

    as_of, folder = edition
    assert audit(folder) >= (20 if as_of.year >= 2024 else 3)


@pytest.mark.e2e
def test_no_evidence_key_that_was_not_yet_public(edition):
    """The claims appendix names only rows public by the as-of date (the audit found 112 later keys in
    the 2022-06-30 edition), in the HTML and in the PDF."""
    as_of, folder = edition
    soup = _soup(folder / "briefing.html")
    appendix = next(t for t in soup.find_all("table") if "Evidence (table:row)" in t.get_text())
    column = [th.get_text() for th in appendix.find_all("th")].index("Evidence (table:row)")
    shown = [ref.strip() for tr in appendix.tbody.find_all("tr")
             for ref in tr.find_all("td")[column].get_text().split(";") if ref.strip()]
    assert shown, "the appendix shows evidence"
    days = claims.public_days(claims.parse_evidence(";".join(shown)))
    assert {ref: day for ref, day in days.items() if day is None or day > as_of} == {}
    # Keys that exist but were not public then appear nowhere, the PDF included.
    later = {ref for a in claims.assessments().itertuples()
             for ref, day in claims.public_days(claims.parse_evidence(a.evidence)).items() if day > as_of}
    later = {ref for ref in later if not any(s.startswith(ref) for s in shown)}
    pdf = re.sub(r"\s+", "", _pdf_text(folder))
    html_text = re.sub(r"\s+", "", soup.get_text())
    assert [ref for ref in later if re.sub(r"\s+", "", ref) + ";" in pdf + ";"] == []
    assert [ref for ref in later if re.sub(r"\s+", "", ref) in html_text] == []


@pytest.mark.e2e
def test_no_sentence_speaks_of_a_later_year(edition):
    """Narrative, notes, chart and table titles, headings and the contents: no year after the as-of
    date, unless it names a plan or a term ("due in 2026"). The article's claims, which
    the briefing examines, are excepted, and so is the list of sources: their titles are the
    publishers' words, and each was published by the as-of date (test_point_in_time)."""
    as_of, folder = edition
    soup = _soup(folder / "briefing.html")
    soup.select_one("#sources").decompose()
    html_text = _without_claims_and_stamps(soup.get_text(" "))
    pdf = _pdf_text(folder)
    pdf_text = _without_claims_and_stamps(pdf[:re.search(r"\nSources\n", pdf).start()])  # the list's heading
    for where, text in (("HTML", html_text), ("PDF", pdf_text)):
        text = re.sub(r"\b[a-z_]+:[^\s;]+", " ", text)  # evidence keys (table:key) are names, not dates
        found = [text[max(0, m.start() - 90):m.end() + 20] for m in re.finditer(r"\b(19|20)\d\d\b", text)
                 if periods.is_later_fact(text[max(0, m.start() - 90):m.start()], int(m.group(0)), as_of)]
        assert found == [], (where, found[:5])


@pytest.mark.e2e
def test_latest_always_names_its_date(edition):
    """A sentence of narrative that says "latest" names a year in the same sentence (the audit found
    "the latest survey" naming two different polls in two sections)."""
    _, folder = edition
    soup = _soup(folder / "briefing.html")
    for tag in soup.select("table, figcaption, details, .source-line, nav"):
        tag.decompose()
    sentences = [s for p in soup.find_all("p") for s in re.split(r"(?<=[.;])\s+", " ".join(p.get_text(" ").split()))]
    undated = [s for s in sentences if re.search(r"\blatest\b", s, re.IGNORECASE)
               and not re.search(r"\b(19|20)\d\d\b", s)]
    assert undated == []


@pytest.mark.e2e
def test_a_changes_note_lists_only_real_changes(edition):
    """A verdict "not verifiable as of <date>" is the same verdict at every date (the audit counted 16
    such non-changes in a 2024 edition)."""
    as_of, folder = edition
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    items = (manifest.get("changes") or {}).get("items", [])
    for item in items:
        match = re.match(r"Claim (c\d+): verdict (.*) → (.*)\.$", item)
        if match:
            before, after = (changes.base_verdict(v) for v in match.groups()[1:])
            assert before != after, item
    assert all(" as of " not in v for v in manifest["verdicts"].values())
    if as_of > dt.date(2022, 6, 30):
        assert (manifest.get("changes") or {}).get("previous"), "an earlier edition was compared"


def test_the_changes_note_ignores_the_date_of_not_verifiable():
    before = {"verdicts": {"c01": "not verifiable from our data as of 2023-12-31", "c02": "",
                           "c03": "not verifiable from our data as of 2023-12-31"}}
    now = {"c01": "not verifiable from our data", "c02": "", "c03": "supported"}
    assert changes.differences(before, {}, {}, now) == ["Claim c03: verdict not verifiable from our data → supported."]


# --- mechanisms -------------------------------------------------------------------------------------

def test_a_share_is_kept_unrounded_and_printed_rounded_once():
    """The audited case: Russia's share of money transfers in 2024, 3,821.3 / 5,837.1 = 65.47%: printed
    65.5% (one decimal), never 66% (65.5 rounded again)."""
    shares = analysis.remittance_shares(catalogue.load_table("remittances"))
    figure = analysis.share_figure(shares, name="s", partner="Russia", year=2024, label="share")
    assert figure.value == pytest.approx(100 * 3821.3 / 5837.1)
    assert figure.text == "65.5%" and str(figure) == "65.5%"
    assert fmt.by_unit(figure.value, "pct") == "65%"  # whole percent: once, from 65.47
    assert "round" not in figure.provenance


def test_row_precedence_compares_a_month_with_a_day():
    """Akhurik: 'Armenian-only since the start of 2026' (January 2026, month only, published in
    February) supersedes 'handover planned' (13 January 2026, published on that day)."""
    presence = catalogue.load_table("military_presence")
    akhurik = presence[presence["item"].str.contains("Akhurik")]
    assert set(akhurik["date_precision"]) == {"day", "month"}
    latest = analysis.latest_status(presence).set_index("item")
    row = latest.loc[akhurik["item"].iloc[0]]
    assert row["presence_id"] == "akhurik-withdrawn" and row["date_text"] == "January 2026"


def test_a_later_day_beats_an_earlier_month():
    rows = pd.DataFrame({"item": ["x", "x"], "status_date": [dt.date(2026, 1, 1), dt.date(2026, 2, 3)],
                         "date_precision": ["month", "day"], "public_date": [dt.date(2026, 3, 1), dt.date(2026, 2, 3)],
                         "status": ["a", "b"]})
    assert analysis.latest_of_each(rows, "item")["status"].tolist() == ["b"]


def test_a_table_column_holds_one_unit():
    """Russian gas for Azerbaijan: mcm and bcm rows become one bcm column; a contract ceiling is not a
    volume delivered and has a column of its own."""
    gas = analysis.russian_gas_to_azerbaijan(catalogue.load_table("russia_azerbaijan"))
    by_period = gas.set_index("period_label")
    assert by_period.loc["2017", "delivered_bcm"] == pytest.approx(0.349)  # 349 mcm
    ceiling = gas[gas["measure"].str.endswith("_contracted")]
    assert ceiling["delivered_bcm"].isna().all() and ceiling["ceiling_bcm"].notna().all()


def test_a_table_of_values_in_several_units_is_refused():
    frame = pd.DataFrame({"period": ["2017", "2023"], "value": [349.0, 0.8], "unit": ["mcm", "bcm"],
                          "source_id": ["s", "s"]})
    with pytest.raises(ValueError, match="mixes units"):
        present.table(frame, title="t", columns={"period": "Period", "value": "Volume"})


def test_a_chart_of_figures_from_different_years_labels_each_with_its_year():
    figures = [Figure("a", 41.12, "pct", "Russia's share of trade", "2024", digits=1),
               Figure("b", 87.7, "pct", "Russia's share of gas, 2022", "2022", digits=1)]
    frame = analysis.figures_frame(figures)
    assert frame["label"].tolist() == ["Russia's share of trade (2024)", "Russia's share of gas, 2022"]
    assert frame["printed"].tolist() == ["41.1%", "87.7%"]


def test_a_sentence_comparing_a_figure_with_itself_fails_its_section():
    """'from US$2.6 bn in 2020 to US$2.6 bn in 2020' (a 2022 edition): the latest year was the base year."""
    prov = {"method": "value", "input": {"row": "t:1", "column": "v", "value": 2.6, "source_id": "s"}}
    base = Figure("base", 2.6, "usd_bn", "turnover", "2020", provenance=prov)
    latest = Figure("latest", 2.6, "usd_bn", "turnover", "2020", provenance=prov)
    with pytest.raises(ValueError, match="compare it with itself"):
        present.finding("from {before} in 2020 to {after} in {after.period}", before=base, after=latest)
    assert analysis.ratio_figure(latest, base, name="g", label="growth") is None


def test_period_tags():
    day = dt.date(2024, 2, 22)
    assert periods.shown(["brief", "from:2024-02-22"], day) and not periods.shown(["from:2024-02-23"], day)
    assert periods.shown(["before:2024-02-23"], day) and not periods.shown(["before:2024-02-22"], day)
    assert periods.shown(["from:2020-01-01", "before:2025-01-01"], day)
    with pytest.raises(ValueError, match="real day"):
        periods.parse("from:2024-02-30")


def test_a_malformed_period_tag_is_refused_before_any_kernel_starts(project_copy):
    from conftest import run_build

    path = project_copy / "notebooks" / "10_why_frenemies.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"][3]["metadata"]["tags"] = ["from:2024-13-01"]
    path.write_text(json.dumps(nb), encoding="utf-8")
    result = run_build(project_copy / "reports")
    assert result.returncode == 2
    assert "10_why_frenemies.ipynb, cell 4" in result.stderr and "from:2024-13-01" in result.stderr
    assert not (project_copy / "reports" / "latest").exists()


def test_a_survey_is_named_by_pollster_and_fieldwork_and_modes_are_compared():
    opinion = catalogue.load_table("public_opinion")
    partner = analysis.opinion(opinion, "most_important_political_partner", subjects=["Russia"])
    first = analysis.latest_opinion(partner, name="f", label="l", first=True)
    last = analysis.latest_opinion(partner, name="l", label="l")
    assert first.extra["survey"] == "IRI's May 2019 survey" and first.extra["mode"] == "face to face"
    assert "where IRI's May 2019 survey was face to face" in analysis.mode_note(last, first)
    assert analysis.mode_note(first, first) == ""
    # the figure a conflict does not use stays out of charts
    trust = analysis.opinion(opinion, "most_trusted_politician", subjects=["Pashinyan"])
    assert not trust["answer"].str.endswith(analysis.OTHER_REPORT).any()


def test_a_markdown_cell_naming_a_later_year_is_refused_until_tagged(project_copy):
    """The class of fault behind "by the end of 2023" in a 2022 edition, caught when it is written: a
    markdown cell shown from a date names no later year; tagged from: that year, it is accepted."""
    from conftest import run_build

    path = project_copy / "notebooks" / "10_why_frenemies.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    number, cell = next((n, c) for n, c in enumerate(nb["cells"], start=1)
                        if c["cell_type"] == "markdown"
                        and not any(periods.parse(t) for t in c["metadata"].get("tags", [])))
    cell["source"] = "".join(cell["source"]) + "\n\nBy the end of 2025 the last border post had been handed over."
    path.write_text(json.dumps(nb), encoding="utf-8")
    result = run_build(project_copy / "reports", "--only", "why_frenemies")
    assert result.returncode == 2
    assert f"10_why_frenemies.ipynb, cell {number}: the text names 2025" in result.stderr
    assert not (project_copy / "reports" / ".only").exists()

    from report_helpers.sections import Section

    cell["metadata"]["tags"] = [*cell["metadata"].get("tags", []), "from:2025-12-31"]
    path.write_text(json.dumps(nb), encoding="utf-8")
    Section(10, "why_frenemies", path).check()  # tagged from the day it speaks of: accepted
    assert not periods.shown(cell["metadata"]["tags"], dt.date(2025, 12, 30))


def test_a_new_figure_in_the_changes_note_names_its_period_once():
    figures = {"a": {"label": "Russia's share of Armenia's arms contracts, 2020", "period": "2020", "value": 96,
                     "unit": "pct"},
               "b": {"label": "Russia's share of trade", "period": "2024", "value": 41.123, "unit": "pct",
                     "digits": 1}}
    assert changes.differences({"figures": {}}, figures, {}, {}) == [
        "New figure: Russia's share of Armenia's arms contracts, 2020: 96%.",
        "New figure: Russia's share of trade (2024): 41.1%."]
