"""The corrections log (data/corrections.csv): checked before a build (file, row and column named,
exit 2, nothing published), shown in the next edition (HTML and PDF) and listed in the index.

The project's own log holds only corrections really made; these tests write theirs into a copy."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest

from conftest import run_build
from edition_checks import check_edition
from report_helpers import corrections
from report_helpers.errors import DataError

HEADER = "date,table,row,column,was,now,why,editions\n"
TODAY = dt.date.today().isoformat()
ROW = "iri-2022-06|most_trusted_politician|Pashinyan|yes"
GOOD = f'{TODAY},public_opinion,{ROW},percent,17,16,"The 17% came from an unnamed survey; IRI\'s June 2022 wave, as Armenpress reports it, says 16%",2025-06-30_full\n'


def _log(root, *rows: str) -> None:
    (root / "data" / corrections.FILE).write_text(HEADER + "".join(rows), encoding="utf-8")


def test_the_projects_log_is_valid():
    corrections.load()  # shipped with its header only, or with corrections really made


def test_a_correction_is_read_with_its_editions(project_copy):
    _log(project_copy, GOOD)
    [made] = corrections.load(project_copy / "data")
    assert made.table == "public_opinion" and made.row == ROW and made.column == "percent"
    assert made.editions == ("2025-06-30_full",)
    assert "was “17”, now “16”" in made.text and made.text.endswith("Affects 2025-06-30_full.")


BAD = [
    (GOOD.replace("public_opinion", "opinion_polls"), "editions", "column 'table'", "unknown table 'opinion_polls'"),
    (GOOD.replace(ROW, "iri-2022-06|most_trusted_politician|Pashinyan|no"), "", "column 'row'", "has no row"),
    (GOOD.replace(",percent,", ",share,"), "", "column 'column'", "has no column 'share'"),
    (GOOD.replace("2025-06-30_full", "2025-06-30_weekly"), "", "column 'editions'", "unknown edition"),
    (GOOD.replace("2025-06-30_full", f"{dt.date.today() + dt.timedelta(days=1)}_full"), "", "column 'editions'",
     "after the correction"),
    (GOOD.replace(TODAY, "2025-02-30"), "", "column 'date'", "not a date"),
    (GOOD.replace(",17,16,", ",,16,"), "", "column 'was'", "is empty"),
]


@pytest.mark.parametrize("row, _unused, where, message", BAD)
def test_a_bad_correction_names_file_row_and_column(project_copy, row, _unused, where, message):
    _log(project_copy, GOOD, row)
    with pytest.raises(DataError) as caught:
        corrections.load(project_copy / "data")
    assert f"file data/corrections.csv, row 3, {where}" in str(caught.value)
    assert message in str(caught.value)


def test_corrections_since_the_previous_edition_of_the_kind():
    made = [corrections.Correction(dt.date(2025, 1, d), "t", "r", "", "a", "b", "c", ("2024-12-31_full",))
            for d in (5, 10, 20)]
    assert corrections.since(made, "2025-01-10T08:00:00+00:00", dt.date(2025, 1, 15)) == made[1:2]
    assert corrections.since(made, None, dt.date(2025, 1, 31)) == []  # a first edition corrects nothing


def _pdf_text(path) -> str:
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", " ", text)


@pytest.mark.e2e
def test_a_correction_appears_in_the_next_edition_and_the_index(project_copy, tmp_path):
    reports = tmp_path / "reports"
    first = run_build(reports, "--as-of", "2025-06-30", "-q")
    assert first.returncode == 0, first.stderr
    _log(project_copy, GOOD)
    second = run_build(reports, "-q")
    assert second.returncode == 0, second.stderr
    edition = reports / f"{TODAY}_full"
    check_edition(edition)
    page = (edition / "briefing.html").read_text(encoding="utf-8")
    block = re.search(r'<section class="changes corrections" id="corrections".*?</section>', page, re.S).group(0)
    assert "Corrections since 30 June 2025" in block and "was “17”, now “16”" in block
    assert "public_opinion, row iri-2022-06|most_trusted_politician|Pashinyan|yes, column percent" in block
    text = _pdf_text(edition / "briefing.pdf")
    assert "Corrections since 30 June 2025" in text and "was “17”, now “16”" in text
    index = (reports / "index.html").read_text(encoding="utf-8")
    listed = index[index.index('<h2 id="corrections">'):]
    assert "The 17% came from an unnamed survey" in listed
    assert '<a href="2025-06-30_full/briefing.html">2025-06-30_full</a>' in listed  # the edition it affects
    # the edition it corrects does not show it: it was published before
    assert "Corrections since" not in (reports / "2025-06-30_full" / "briefing.html").read_text(encoding="utf-8")


@pytest.mark.e2e
def test_a_bad_correction_stops_the_build_and_the_last_edition_stays(project_copy, tmp_path):
    reports = tmp_path / "reports"
    assert run_build(reports, "--as-of", "2025-06-30", "-q").returncode == 0
    before = (reports / "latest").resolve()
    _log(project_copy, GOOD.replace(ROW, "no-such-survey|most_trusted_politician|Pashinyan|yes"))
    result = run_build(reports, "--as-of", "2025-07-31", "-q")
    assert result.returncode == 2, result.stderr
    assert "file data/corrections.csv, row 2, column 'row'" in result.stderr
    assert not (reports / "2025-07-31_full").exists()
    assert (reports / "latest").resolve() == before
    check_edition(before)


@pytest.mark.e2e
@pytest.mark.slow
def test_pages_with_corrections_stay_accessible(project_copy, tmp_path):
    """The corrections block of an edition and the index's corrections table: axe-core and the Nu
    checker, as test_html_accessibility runs them on every page."""
    from test_html_accessibility import AXE, CHROMIUM, CHROMIUM_ARGS, JAVA, VNU, open_offline, run_axe, vnu

    if CHROMIUM is None or JAVA is None or not AXE.is_file() or not VNU.is_file():
        pytest.skip("needs Debian's chromium, Java and node_modules (make test)")
    from playwright.sync_api import sync_playwright

    reports = tmp_path / "reports"
    assert run_build(reports, "--as-of", "2025-06-30", "-q").returncode == 0
    _log(project_copy, GOOD)
    assert run_build(reports, "-q").returncode == 0
    pages = [reports / f"{TODAY}_full" / "briefing.html", reports / "index.html"]
    assert all('id="corrections"' in p.read_text(encoding="utf-8") for p in pages)
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for path in pages:
            page, blocked = open_offline(browser, path)
            result = run_axe(page, AXE.read_text(encoding="utf-8"))
            page.close()
            assert blocked == [] and result["violations"] == [], (path.name, result["violations"])
        browser.close()
    errors = [m for m in vnu(pages) if m["type"] == "error"]
    assert errors == []
