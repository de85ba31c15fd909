"""Accessible HTML, checked with real validators on a really built edition.

- axe-core (npm `axe-core`, pinned in package-lock.json) runs inside Debian's Chromium through
  Playwright with the WCAG 2.1 A and AA rules, on briefing.html, every section page and index.html,
  for the full edition and a brief one.
- The Nu Html Checker (npm `vnu-jar`, run with Debian's Java) checks the same pages.
- Printing briefing.html to A4 PDF from Chromium leaves no heading alone at a page bottom and splits
  no chart across pages.

Both validators are installed from registries by `make test` (`npm ci --ignore-scripts`); nothing
is fetched at run time, and every request but file: and data: is blocked in the browser.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from conftest import CHROMIUM, CHROMIUM_ARGS, PROJECT

pytestmark = pytest.mark.e2e
AXE = PROJECT / "node_modules" / "axe-core" / "axe.min.js"
VNU = PROJECT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
JAVA = shutil.which("java")
WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SECTION_PAGES = [f"{nb.stem}.html" for nb in sorted((PROJECT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
# The brief edition (as of mid-2024, as test_e2e builds it) keeps other cells and fewer figures.
BRIEF_ARGS = ("--as-of", "2024-06-30", "--edition", "brief")
BRIEF_PAGES = [f"2024-06-30_brief/{name}" for name in ("briefing.html", *SECTION_PAGES)]
PAGES = ["briefing.html", *SECTION_PAGES, "index.html", *BRIEF_PAGES]
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
needs_java = pytest.mark.skipif(JAVA is None, reason="no Java for vnu.jar (.ci/run installs default-jre-headless)")

# Markup that both validators must reject: the checks are shown to be able to fail.
BAD_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>bad</title></head><body><main>
<figure role="img" aria-label="chart"><svg width="10" height="10"></svg>
<figcaption>Source: <a href="#s1">[1]</a></figcaption></figure>
<p style="color:#bbb;background:#fff">faint text</p><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
</main></body></html>"""


@pytest.fixture(scope="module")
def validators():
    missing = [str(p.relative_to(PROJECT)) for p in (AXE, VNU) if not p.is_file()]
    assert not missing, f"{missing} missing: run `make test`, or `npm ci --ignore-scripts` in {PROJECT}"
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pages(full_edition, built_reports) -> dict[str, Path]:
    reports = built_reports(*BRIEF_ARGS)
    found = {name: full_edition / name for name in PAGES if name != "index.html" and name not in BRIEF_PAGES}
    found |= {name: reports / name for name in BRIEF_PAGES}
    found["index.html"] = reports / "index.html"  # lists both editions
    missing = [name for name, path in found.items() if not path.is_file()]
    assert not missing, f"the build wrote no {missing}"
    return found


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as play:
        chromium = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_offline(browser, path: Path, **options):
    """A page that may load only file: and data: URLs; anything else fails the test."""
    page = browser.new_page(**options)
    blocked: list[str] = []
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
               else (blocked.append(route.request.url), route.abort()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, blocked


def run_axe(page, axe_source: str) -> dict:
    page.add_script_tag(content=axe_source)
    return page.evaluate("""async tags => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
        return {version: axe.version, passes: r.passes.map(p => p.id),
                violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => n.target.join(' ') + ' | ' + n.failureSummary)}))};
    }""", WCAG21_AA)


def vnu(paths: list[Path]) -> list[dict]:
    """Nu Html Checker messages (errors and warnings) for the given files, in one JVM."""
    result = subprocess.run([JAVA, "-jar", str(VNU), "--format", "json", "--exit-zero-always",
                             *map(str, paths)], capture_output=True, text=True, timeout=300)
    assert result.stderr.lstrip().startswith("{"), f"vnu.jar did not run: {result.stderr[-2000:]}"
    return json.loads(result.stderr)["messages"]


@needs_chromium
def test_axe_flags_bad_markup(tmp_path, validators, browser):
    """The axe run below can fail: it reports the known faults of a deliberately bad page."""
    bad = tmp_path / "bad.html"
    bad.write_text(BAD_PAGE, encoding="utf-8")
    page, _ = open_offline(browser, bad)
    found = {v["id"] for v in run_axe(page, validators)["violations"]}
    page.close()
    assert {"nested-interactive", "color-contrast", "image-alt"} <= found


@needs_chromium
@pytest.mark.parametrize("name", PAGES)
def test_no_wcag21_aa_violations(name, pages, validators, browser):
    page, blocked = open_offline(browser, pages[name])
    result = run_axe(page, validators)
    page.close()
    assert blocked == []
    assert result["version"] == json.loads((AXE.parent / "package.json").read_text())["version"]
    # the rules really ran (a short brief page has fewer elements, so fewer rules apply)
    assert {"color-contrast", "document-title", "html-has-lang"} <= set(result["passes"])
    assert len(result["passes"]) >= (5 if name in BRIEF_PAGES else 10)
    assert result["violations"] == [], json.dumps(result["violations"], indent=1)[:4000]


@pytest.fixture(scope="module")
def vnu_messages(pages, validators, tmp_path_factory) -> dict[str, list[dict]]:
    """The checker's messages for every page and for the bad page, from one run (one JVM start)."""
    bad = tmp_path_factory.mktemp("bad") / "bad.html"
    bad.write_text(BAD_PAGE, encoding="utf-8")
    checked = {**pages, "bad": bad}
    by_page: dict[str, list[dict]] = {name: [] for name in checked}
    names = {path.resolve().as_uri(): name for name, path in checked.items()}
    for message in vnu(list(checked.values())):
        by_page[names[Path(message["url"].removeprefix("file:")).resolve().as_uri()]].append(message)
    return by_page


@needs_java
def test_nu_html_checker_flags_bad_markup(vnu_messages):
    """The checker below can fail: it reports the known faults of the bad page."""
    errors = [m["message"] for m in vnu_messages["bad"] if m["type"] == "error"]
    assert any("figcaption" in e and "role" in e for e in errors), errors
    assert any("alt" in e for e in errors), errors


@needs_java
@pytest.mark.parametrize("name", PAGES)
def test_no_nu_html_checker_errors(name, vnu_messages):
    errors = [f'{m.get("lastLine")}: {m["message"]}' for m in vnu_messages[name] if m["type"] == "error"]
    assert errors == [], "\n".join(errors[:40])


def headings_and_charts(page) -> dict:
    return page.evaluate("""() => ({
        headings: [...document.querySelectorAll('main h1, main h2, main h3, main h4')]
            .map(h => h.innerText.trim()).filter(t => t),
        charts: [...document.querySelectorAll('figure.chart')].map(f => ({
            title: (f.querySelector('svg .role-title-text text') || {}).textContent || '',
            caption: (f.querySelector('figcaption') || {}).innerText || ''})),
    })""")


def squash(text: str) -> str:
    """Text without white space, ligatures (ﬁ) spelt out: PDF text and DOM text compare equal."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@needs_chromium
def test_printed_briefing_keeps_headings_with_text_and_charts_whole(tmp_path, pages, browser):
    """Print briefing.html to A4 as a browser does and read the PDF back with pypdf."""
    from pypdf import PdfReader

    page, blocked = open_offline(browser, pages["briefing.html"])
    page.emulate_media(media="print")
    found = headings_and_charts(page)
    pdf = tmp_path / "printed.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
    page.close()
    assert blocked == []
    reader = PdfReader(pdf)
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)
    lines = [[squash(line) for line in p.extract_text().splitlines() if line.strip()] for p in reader.pages]
    texts = ["".join(page_lines) for page_lines in lines]
    assert len(texts) > 10 and all(texts[:-1])
    # A page ends with a heading if its last line, or last few lines (a heading that wraps), is one.
    headings = {squash(h) for h in found["headings"]}
    alone = [(n, "".join(page_lines[-k:])) for n, page_lines in enumerate(lines[:-1], 1) for k in (1, 2, 3)
             if "".join(page_lines[-k:]) in headings]
    assert alone == [], f"headings alone at a page bottom (page, heading): {alone}"
    # A chart is whole when its title (drawn in the SVG) and its source line print on one page.
    assert len(found["charts"]) >= 12 and all(c["title"] and c["caption"] for c in found["charts"])
    split = []
    for chart in found["charts"]:
        title, caption = squash(chart["title"]), squash(chart["caption"])[:60]
        if not any(title in text and caption in text for text in texts):
            split.append((chart["title"], [n for n, text in enumerate(texts, 1) if title in text]))
    assert split == [], f"charts split across pages (title, pages with the title): {split}"
