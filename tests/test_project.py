"""One engine, many briefings: the project file, `briefing new`, the example second briefing, and
imports that run one way. The example and a new project are really built, offline, to HTML and a
PDF/UA-1 PDF; anything in the engine that only works for the Frenemies briefing fails here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT
from test_html_accessibility import AXE, JAVA, VNU, needs_chromium, open_offline, run_axe, vnu
from test_pdf import validate

EXAMPLE = PROJECT / "examples" / "armenia-trade"
# Words only the Frenemies briefing has: none may reach another briefing's pages.
FRENEMIES = re.compile(r"frenem|putin|pashinyan|Why are", re.IGNORECASE)


def briefing(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The command line as a user runs it in a project folder (no BRIEFING_PROJECT_DIR)."""
    env = {k: v for k, v in os.environ.items() if k != "BRIEFING_PROJECT_DIR"}
    return subprocess.run([sys.executable, "-m", "report_helpers", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    """The example briefing, copied (its reports stay out of the checkout) and built."""
    root = Path(shutil.copytree(EXAMPLE, tmp_path_factory.mktemp("example") / "armenia-trade",
                                ignore=shutil.ignore_patterns("reports", ".ipynb_checkpoints")))
    result = briefing("build", "-q", cwd=root)
    assert result.returncode == 0, result.stderr
    return root / "reports"


@pytest.mark.e2e
def test_the_example_briefing_builds_with_its_own_names_order_and_colours(example):
    edition = example / "latest"
    html = (edition / "briefing.html").read_text(encoding="utf-8")
    assert "<title>Armenia&#39;s trade at a glance</title>" in html or \
        "<title>Armenia's trade at a glance</title>" in html
    # the project file's order, in the contents and in the page
    assert html.index("How much Armenia trades") < html.index("Who Armenia trades with")
    text = pdf_text(edition / "briefing.pdf")
    assert "Armenia's trade at a glance" in text and "How much Armenia trades, and with whom" in text
    contents = re.findall(r"^(How much Armenia trades|Who Armenia trades with) \.", text, re.M)
    assert contents == ["How much Armenia trades", "Who Armenia trades with"]
    # its own series colours ([theme.series_colours]): exports blue, imports orange
    assert 'stroke="#2166ac"' in html and 'stroke="#b35806"' in html
    # figures computed from the example's table, rounded once where printed
    assert re.search(r"Trade turnover was\s*<a[^>]*>US\$4\.7 bn</a>", html)
    assert "41.1%" in html  # Russia's share in 2024: 12,402 / 30,159
    for page in (html, text, (example / "index.html").read_text(encoding="utf-8"),
                 (example / "feed.xml").read_text(encoding="utf-8")):
        assert not FRENEMIES.search(page), FRENEMIES.search(page)
    feed = (example / "feed.xml").read_text(encoding="utf-8")
    assert "<title>Armenia's trade at a glance: editions</title>" in feed
    assert "urn:uuid:" in feed and "Armenia trade briefing as of" in feed


@pytest.mark.e2e
def test_the_example_pdf_is_pdf_ua_1(example):
    report, failures = validate(example / "latest" / "briefing.pdf", "ua1")
    assert report.is_compliant, failures


@pytest.mark.e2e
@pytest.mark.slow
@needs_chromium
def test_the_example_pages_pass_axe_and_the_nu_checker(example):
    from playwright.sync_api import sync_playwright

    assert AXE.is_file() and VNU.is_file() and JAVA, "run `make test` (npm ci) for the validators"
    pages = [example / "latest" / name for name in ("briefing.html", "10_totals.html", "20_partners.html")]
    pages.append(example / "index.html")
    errors = [m for m in vnu(pages) if m.get("type") == "error"]
    assert errors == [], errors[:5]
    from conftest import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for path in pages:
                page, blocked = open_offline(browser, path)
                result = run_axe(page, AXE.read_text(encoding="utf-8"))
                page.close()
                assert blocked == [] and result["violations"] == [], (path.name, result["violations"])
        finally:
            browser.close()


@pytest.mark.e2e
def test_briefing_new_makes_a_project_that_builds_at_once_offline(tmp_path):
    target = tmp_path / "my-briefing"
    made = briefing("new", str(target), "--title", 'Gas "and" grain', "--name", "Desk notes", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert f"Created {target}" in made.stdout
    assert sorted(p.name for p in target.iterdir()) == [".gitignore", "README.md", "briefing.toml", "data",
                                                         "notebooks"]
    readme = (target / "README.md").read_text(encoding="utf-8")
    assert all(h in readme for h in ("## Add a section", "## Add a table", "## Add a source"))
    built = briefing("build", "-q", cwd=target)
    assert built.returncode == 0, built.stderr
    edition = target / "reports" / "latest"
    html = (edition / "briefing.html").read_text(encoding="utf-8")
    assert "<title>Gas &#34;and&#34; grain</title>" in html or '<title>Gas "and" grain</title>' in html
    text = pdf_text(edition / "briefing.pdf")
    assert 'Gas "and" grain' in text and "Trade at a glance" in text
    assert re.search(r"Trade turnover was US\$4\.7 bn\S* in 2015 and US\$30\.2 bn\S* in 2024", " ".join(text.split()))
    assert "Armstat" in text  # the table's source, numbered in the source list
    report, failures = validate(edition / "briefing.pdf", "ua1")
    assert report.is_compliant, failures
    assert not FRENEMIES.search(html) and not FRENEMIES.search(text)
    assert "Desk notes as of" in (target / "reports" / "feed.xml").read_text(encoding="utf-8")


def test_briefing_new_refuses_a_folder_that_is_not_empty(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    made = briefing("new", str(target), cwd=tmp_path)
    assert made.returncode == 2
    assert f"{target} exists and is not an empty folder; nothing was written" in made.stderr
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".taken")]  # no half-made project


def test_a_folder_that_is_no_project_is_refused_saying_how_to_make_one(tmp_path):
    result = subprocess.run([sys.executable, "-m", "report_helpers", "build"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300, env={**os.environ, "BRIEFING_PROJECT_DIR": str(tmp_path)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"BRIEFING_PROJECT_DIR={tmp_path} has no briefing.toml" in result.stderr
    assert "`briefing new DIR` makes a project" in result.stderr


@pytest.mark.parametrize("change, message", [
    (lambda t: t.replace('author = "Frenemies briefing project"\n', ""), "[briefing] author is required"),
    (lambda t: t.replace("[sections]", "colour = 1\n\n[sections]"), "[briefing] has unknown key(s) colour"),
    (lambda t: t + "\n[extras]\nx = 1\n", "unknown table(s) extras"),
    (lambda t: t.replace('"Russia" = "#b2182b"', '"Russia" = "#ffdddd"'),
     "'Russia' = #ffdddd has a contrast of 1.26:1 on white; marks need at least 3:1"),
    (lambda t: t.replace('# base_url = "https://briefing.example.org/editions/"', 'base_url = "ftp://x"'),
     "[publishing] base_url 'ftp://x' is not an http or https address"),
    (lambda t: re.sub(r"order = \[[^\]]*\]", "order = 7", t), "[sections] order must be a list, got int"),
    (lambda t: t.replace("[briefing]", "[briefing"), "not valid TOML"),
])
def test_a_bad_project_file_is_refused_naming_the_file_and_key(tmp_path, change, message):
    from report_helpers import project

    path = tmp_path / "briefing.toml"
    path.write_text(change((PROJECT / "briefing.toml").read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(project.ProjectError) as caught:
        project.parse(path)
    assert str(caught.value).startswith(str(path)) and message in str(caught.value)


def test_the_project_file_holds_what_belongs_to_the_briefing():
    from report_helpers import project

    frenemies = project.load(PROJECT)
    assert frenemies.title == "Why are Putin and Pashinyan frenemies?" and frenemies.slug == "frenemies-briefing"
    assert frenemies.section_order[0] == "00_key_points" and frenemies.emphasis[0] == "Russia"
    example = project.parse(EXAMPLE / "briefing.toml")
    assert example.slug == "armenia-trade-briefing" and example.base_url is None
    assert example.distribution_path == EXAMPLE / "distribution.toml"


def test_the_engine_names_no_briefing():
    """The engine's code and templates hold no briefing's names: those live in briefing.toml."""
    package = PROJECT / "src" / "report_helpers"
    found = []
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".j2", ".typ", ".css") and "scaffold" not in path.parts \
                and path.name != "analysis.py":  # the Frenemies analyses: see README, "Architecture"
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if FRENEMIES.search(line):
                    found.append(f"{path.relative_to(package)}:{number}: {line.strip()}")
    assert found == []


def test_imports_run_one_way():
    """import-linter's contracts in pyproject.toml: runners above helpers above the foundation, and
    no import circle in any package (`make check` runs the same)."""
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), "--no-cache"], cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 kept, 0 broken" in result.stdout
