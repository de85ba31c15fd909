"""reports/feed.xml: an Atom feed of complete editions, written by every publish, read with feedparser."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from delivery_support import build_editions
from report_helpers.delivery.edition import read
from report_helpers.pipeline.feed import entry_id, write_feed
from report_helpers.pipeline.index import write_index

feedparser = pytest.importorskip("feedparser")
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def editions(tmp_path_factory):
    return build_editions(tmp_path_factory.getbasetemp() / "delivery-editions")


@pytest.fixture
def reports(editions, tmp_path) -> Path:
    return editions.copy(tmp_path / "reports")


@pytest.fixture
def bare_project(tmp_path, monkeypatch) -> Path:
    """A project folder the feed may read distribution.toml from (nothing else is needed there)."""
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    (root / "data" / "datapackage.json").write_text("{}")
    (root / "notebooks").mkdir()
    monkeypatch.setenv("BRIEFING_PROJECT_DIR", str(root))
    return root


def parse(path: Path):
    feed = feedparser.parse(path.read_bytes())
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def test_every_publish_writes_a_valid_feed_of_complete_editions(editions):
    reports = editions.reports
    feed = parse(reports / "feed.xml")  # written by the builds themselves, with the index
    assert len(feed.entries) == len(editions.ids) == 4
    assert feed.feed.title and feed.feed.id.startswith("urn:uuid:")
    by_id = {e.id: e for e in feed.entries}
    as_ofs = []
    for name, edition_id in editions.ids.items():
        edition = read(reports / edition_id)
        entry = by_id[entry_id(edition_id)]  # a stable id, derived from the edition id
        as_ofs.append(edition.as_of)
        assert edition.as_of_text in entry.title
        assert ("brief edition" in entry.title) == (name == "brief")
        assert entry.updated_parsed[:6] == tuple(int(x) for x in edition.built[:19].replace("T", "-")
                                                 .replace(":", "-").split("-"))
        links = {link.type: link for link in entry.links}
        assert links["text/html"].rel == "alternate" and links["application/pdf"].rel == "enclosure"
        for link, file in ((links["text/html"], "briefing.html"), (links["application/pdf"], "briefing.pdf")):
            assert link.href.endswith(f"/{file}") and (reports / link.href).resolve() == \
                (reports / edition_id / file).resolve()
        assert int(links["application/pdf"].length) == (reports / edition_id / "briefing.pdf").stat().st_size
        summary = entry.summary
        assert len(edition.key_points) == 3
        for point in edition.key_points:
            assert point.text in summary
        assert edition.changes_heading in summary
        for item in edition.change_items[:3]:
            assert item in summary
    as_of = {entry_id(i): read(reports / i).as_of for i in editions.ids.values()}
    dates = [as_of[e.id] for e in feed.entries]
    assert dates == sorted(dates, reverse=True) and dates[-1] == "2024-06-30"  # newest as-of first
    newest_built = max(read(reports / i).built for i in editions.ids.values())
    assert feed.feed.updated.startswith(newest_built[:19])


def test_index_links_the_feed(editions):
    page = (editions.reports / "index.html").read_text(encoding="utf-8")
    head = page[:page.index("</head>")]
    assert '<link rel="alternate" type="application/atom+xml"' in head and 'href="feed.xml"' in head
    body = page[page.index("<body"):]
    assert '<a href="feed.xml"' in body and "Atom feed" in body


def test_partial_and_failed_editions_stay_out_and_ids_are_stable(editions, reports, bare_project):
    before = parse(reports / "feed.xml")
    source = (reports / editions.ids["new"]).resolve()
    partial = reports / "2025-07-31_full"
    shutil.copytree(source, partial)
    manifest = json.loads((partial / "manifest.json").read_text())
    manifest.update(status="partial", edition_id="2025-07-31_full")
    manifest["parameters"]["as_of"] = "2025-07-31"
    (partial / "manifest.json").write_text(json.dumps(manifest))
    (reports / ".failed").mkdir(exist_ok=True)
    shutil.copytree(source, reports / ".failed" / "2025-08-31_full")
    write_index(reports)  # what a publish does
    after = parse(reports / "feed.xml")
    assert [e.id for e in after.entries] == [e.id for e in before.entries]
    assert entry_id("2025-07-31_full") not in {e.id for e in after.entries}
    assert not list(reports.glob(".feed.xml*"))  # the temporary file was renamed into place


def test_link_base_from_distribution_file(editions, reports, bare_project):
    (bare_project / "distribution.toml").write_text(
        '[feed]\nlink_base = "https://briefing.example.org/editions"\ntitle = "Frenemies: every edition"\n')
    feed = parse(write_feed(reports))
    assert feed.feed.title == "Frenemies: every edition"
    assert any(link.rel == "self" and link.href == "https://briefing.example.org/editions/feed.xml"
               for link in feed.feed.links)
    for entry in feed.entries:
        assert all(link.href.startswith("https://briefing.example.org/editions/") for link in entry.links)


def test_a_bad_distribution_file_leaves_relative_links(editions, reports, bare_project, caplog):
    (bare_project / "distribution.toml").write_text('[feed]\nlink_base = "not a url"\n')
    logger = logging.getLogger("briefing")  # the command line stops it propagating to the root
    logger.addHandler(caplog.handler)
    try:
        feed = parse(write_feed(reports))
    finally:
        logger.removeHandler(caplog.handler)
    assert all(not link.href.startswith("http") for e in feed.entries for link in e.links)
    assert "feed: relative links, because" in caplog.text and "[feed] link_base: 'not a url'" in caplog.text


def test_empty_folder_gives_a_valid_empty_feed(tmp_path, bare_project):
    feed = parse(write_feed(tmp_path))
    assert feed.entries == []
