"""End to end: build the real briefing with the real tools, then read it as a reader would.

One full edition (as of today) and one brief edition (as of the article's vantage point) are built
once per test session with the `briefing` command; the tests read the PDF text with pypdf and open
the HTML in Debian's Chromium with every non-local request blocked and counted.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from conftest import run_build
from report_helpers import fmt
from report_helpers.results import Figure

pytestmark = pytest.mark.e2e
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TITLES = ["Key points", "Why are Putin and Pashinyan FRENEMIES?", "What does Putin want?",
          "What does Pashinyan want?", "What is Pashinyan doing?", "What about you?", "Claims and evidence"]
LATER_EVENT = "Civil Contract wins June 2026 election"  # an event dated 7 June 2026
TODAY = dt.date.today().isoformat()
NEVER_SHOWN = ["Traceback", "papermill", "injected-parameters", "import report_helpers", "ctx = rh.",
               "rh.present", "DataFrame", "dtype:", "UserWarning", "FutureWarning", "[IPKernelApp]"]


build = run_build


@pytest.fixture(scope="session")
def reports(built_reports) -> Path:
    """Today's full edition, then two editions as of 30 June 2024, in the session's shared folder."""
    for args in ((), ("--as-of", "2024-06-30"), ("--as-of", "2024-06-30", "--edition", "brief")):
        folder = built_reports(*args)
    return folder


@pytest.fixture(scope="session")
def full(reports, full_edition) -> Path:
    return full_edition


def pdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]


def figures(edition: Path) -> dict[str, Figure]:
    out = {}
    for path in (edition / "results").glob("*.json"):
        if path.name.endswith(".reads.json"):
            continue
        for name, data in json.loads(path.read_text())["figures"].items():
            out[name] = Figure.from_dict(data)
    return out


def test_edition_layout_and_latest(reports, full):
    # latest names the newest complete full edition, not the one built last (an earlier date, a brief)
    assert (reports / "latest").resolve() == full.resolve()
    for slug in ("00_key_points", "10_why_frenemies", "20_what_putin_wants", "30_what_pashinyan_wants",
                 "40_what_pashinyan_is_doing", "50_what_about_you"):
        assert (full / f"{slug}.ipynb").is_file() and (full / f"{slug}.html").is_file()
    manifest = json.loads((full / "manifest.json").read_text())
    assert manifest["status"] == "ok" and manifest["parameters"]["as_of"] == TODAY
    assert [s["status"] for s in manifest["sections"]] == ["ok"] * len(TITLES)
    assert not list(reports.glob(".staging-*"))


def test_pdf_has_cover_toc_sections_and_sources(full):
    pages = pdf_pages(full / "briefing.pdf")
    cover, toc = pages[0], pages[1]
    assert "Why are Putin and Pashinyan frenemies?" in cover
    assert fmt.date(dt.date.today()) in cover and "full" in cover and "Built" in cover
    assert "Table of Contents" in toc
    for title in TITLES:
        match = re.search(re.escape(title) + r"[ .]+(\d+)", toc)
        assert match, f"no TOC entry with a page number for {title!r}"
        page = int(match.group(1))
        assert title in pages[page - 1], f"TOC says {title!r} is on page {page}"
    assert re.search(r"Sources[ .]+\d+", toc)
    assert re.search(r"Page 3 of %d" % len(pages), pages[2])
    assert "List of Figures" in pages[-1] and "Figure 1.1" in " ".join(pages[-2:])  # after the sources
    assert any("Sources" in page and "https://" in page for page in pages[-3:-1])
    assert re.search(r"\[\d+\] ", " ".join(pages))  # charts and tables cite numbered sources


def test_pdf_states_the_key_figures_computed_by_the_sections(full):
    text = " ".join(pdf_pages(full / "briefing.pdf"))
    found = figures(full)
    for name in ("russia_trade_share_latest", "russia_gas_share_latest_full_year", "relations_bad_latest",
                 "russia_transfers_share_latest", "russia_arms_contracts_share_now", "war_2020_days"):
        assert name in found, name
        assert found[name].text in text, name


def test_pdf_charts_are_vector_with_source_lines(full):
    from pypdf import PdfReader

    reader = PdfReader(full / "briefing.pdf")
    assert all(len(page.images) == 0 for page in reader.pages)  # charts are drawn, not pasted
    text = " ".join(pdf_pages(full / "briefing.pdf"))
    assert "Russia's share of Armenia's trade keeps rising" in text  # chart title drawn as text
    assert text.count("Source:") >= 12
    outline = [item.title for item in reader.outline if not isinstance(item, list)]
    assert all(title in outline for title in TITLES)


def test_outputs_carry_no_code_or_noise(full):
    texts = {"briefing.pdf": " ".join(pdf_pages(full / "briefing.pdf"))}
    for html in full.glob("*.html"):
        texts[html.name] = html.read_text(encoding="utf-8")
    for name, text in texts.items():
        for marker in NEVER_SHOWN:
            assert marker not in text, f"{marker!r} in {name}"
        if name.endswith(".html"):
            code = re.sub(r'<script type="application/ld\+json">.*?</script>', "", text, flags=re.S)  # data, not code
            assert "<script" not in code and "jp-CodeMirrorEditor" not in text and "hl-ipython3" not in text, name
            assert re.search(r"https?://(?!www\.w3\.org)[^\"' ]+\.(js|css)", text) is None, name


def test_brief_edition_keeps_judgements_and_headline_charts_only(reports):
    brief = reports / "2024-06-30_brief"
    text = " ".join(pdf_pages(brief / "briefing.pdf"))
    for title in TITLES:
        assert title in text
    assert "30 June 2024" in text and "brief" in text
    assert "Judgement" in text or "JUDGEMENT" in text
    assert "An alliance that did not deliver" not in text  # narrative left out of the brief edition
    assert "Civil Contract wins" not in text


def rendered_charts(page) -> dict:
    return page.evaluate("""() => {
        const figs = [...document.querySelectorAll('figure.chart')];
        const drawn = figs.filter(f => { const s = f.querySelector('svg');
            if (!s) return false; const r = s.getBoundingClientRect();
            return r.width > 100 && r.height > 50 && s.querySelectorAll('path,rect,text').length > 5; });
        return {figures: figs.length, drawn: drawn.length, lato: document.fonts.check('12px Lato')};
    }""")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_html_renders_every_chart_offline_in_chromium(full):
    from playwright.sync_api import sync_playwright

    expected = sum(out.get("data", {}).get("text/html", "").count('<figure class="chart"')
                   for nb in full.glob("*.ipynb")
                   for cell in nbformat.read(nb, as_version=4).cells if cell.cell_type == "code"
                   for out in cell.get("outputs", []))
    assert expected >= 12
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        requests: list[str] = []
        page = browser.new_page()
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
                   else (requests.append(route.request.url), route.abort()))
        page.goto((full / "briefing.html").as_uri())
        page.wait_for_load_state("load")
        seen = rendered_charts(page)
        toc_links = page.evaluate("[...document.querySelectorAll('nav.toc a')].map(a => a.getAttribute('href'))")
        missing_targets = page.evaluate("""links => links.filter(h => !document.getElementById(h.slice(1)))""",
                                        toc_links)
        section_page = browser.new_page()
        section_page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
                           else (requests.append(route.request.url), route.abort()))
        section_page.goto((full / "10_why_frenemies.html").as_uri())
        section_seen = rendered_charts(section_page)
        browser.close()
    assert requests == []
    assert seen == {"figures": expected, "drawn": expected, "lato": True}
    assert len(toc_links) >= 7 and missing_targets == []
    assert section_seen["figures"] == section_seen["drawn"] >= 3


def test_what_an_analyst_runs_is_what_the_build_produces(project_copy, full):
    """Run a section as JupyterLab would (defaults, no build environment) and compare its outputs."""
    import papermill

    source = project_copy / "notebooks" / "10_why_frenemies.ipynb"
    out = project_copy / "interactive.ipynb"
    papermill.execute_notebook(str(source), str(out), progress_bar=False, cwd=str(source.parent))

    def shown(path):
        return [o["data"]["text/html"] for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"
                for o in c.get("outputs", []) if o.get("output_type") == "display_data"]

    assert shown(out) == shown(full / "10_why_frenemies.ipynb")


def test_a_failing_section_keeps_the_previous_edition(project_copy, reports, full):
    before = (full / "briefing.pdf").read_bytes()
    broken = nbformat.read(project_copy / "notebooks" / "10_why_frenemies.ipynb", as_version=4)
    broken.cells.insert(3, nbformat.v4.new_code_cell('raise RuntimeError("injected failure")'))
    nbformat.write(broken, project_copy / "notebooks" / "10_why_frenemies.ipynb")
    result = build(reports, "--force")
    assert result.returncode == 1
    assert "why_frenemies" in result.stderr and "injected failure" in result.stderr
    assert (full / "briefing.pdf").read_bytes() == before
    kept = reports / ".failed" / f"{TODAY}_full" / "10_why_frenemies.ipynb"
    assert "injected failure" in kept.read_text()
    assert not list(reports.glob(".staging-*"))


def test_as_of_date_leaves_later_events_out(reports, full):
    early = reports / "2024-06-30_full"
    early_text = " ".join(pdf_pages(early / "briefing.pdf")) + (early / "briefing.html").read_text()
    late_text = " ".join(pdf_pages(full / "briefing.pdf")) + (full / "briefing.html").read_text()
    assert LATER_EVENT in late_text
    assert LATER_EVENT not in early_text
    assert early_text.count("As of 30 June 2024") >= len(TITLES)  # the cover and every section say so
    assert "not verifiable from our data as of 2024-06-30" in early_text
    manifest = json.loads((early / "manifest.json").read_text())
    assert all(event["date"] <= "2024-06-30" for event in manifest["events"].values())


def test_claims_appendix_and_per_section_claims(full):
    text = " ".join(pdf_pages(full / "briefing.pdf"))
    assert text.count("The article's claims in this section") == 2 * 6  # six tables, each in the list of figures
    assert "The claims register" in text and "How the article's claims hold up" in text
    for verdict in ("supported", "partly supported", "judgement: no verdict"):
        assert verdict in text


def test_changes_compare_only_with_earlier_editions(reports):
    """The 2024 builds must not compare with the later (today's) edition: that would leak the future.
    An edition compares only with earlier editions of its own kind (tests/test_changes.py)."""
    second = json.loads((reports / "2024-06-30_full" / "manifest.json").read_text())
    assert second["changes"]["previous"] is None
    third = json.loads((reports / "2024-06-30_brief" / "manifest.json").read_text())
    assert third["changes"]["previous"] is None  # no earlier brief edition; a full one is another kind
    assert "Changes since" not in " ".join(pdf_pages(reports / "2024-06-30_brief" / "briefing.pdf"))


def test_the_earliest_as_of_date_builds_with_what_little_was_known(tmp_path):
    """Sections say plainly when nothing was known yet, instead of failing."""
    from report_helpers import catalogue

    earliest = catalogue.earliest_date().isoformat()
    result = build(tmp_path / "reports", "--as-of", earliest)
    assert result.returncode == 0, result.stderr
    text = " ".join(pdf_pages(tmp_path / "reports" / "latest" / "briefing.pdf"))
    assert "No figure for this was known by the as-of date." in text
    assert LATER_EVENT not in text


def test_a_chart_without_a_title_fails_its_section_naming_notebook_and_cell(small_project, tmp_path):
    path = small_project / "notebooks" / "20_what_putin_wants.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell(
        'import altair as alt, pandas as pd\n'
        'frame = pd.DataFrame({"x": [1, 2], "y": [3, 4], "source_id": ["t-afp-tavush-villages-returned-2024"] * 2})\n'
        'rh.present.figure(alt.Chart(frame).mark_line().encode(x="x:Q", y="y:Q"), data=frame)'))
    nbformat.write(nb, path)
    result = build(tmp_path / "reports", "--force")
    assert result.returncode == 1
    # the number JupyterLab shows for the inserted cell (the 4th), not papermill's index
    assert "20_what_putin_wants.ipynb, cell 4" in result.stderr, result.stderr
    assert "ChartError: a chart needs a title" in result.stderr
