"""reports/feed.xml: an Atom feed of complete editions, written by every publish, read with feedparser."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from delivery_support import PROJECT, build_editions
from report_helpers.publishing.edition import read
from report_helpers.publishing.feed import entry_id, write_feed
from report_helpers.publishing.index import write_index

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
    """A project folder the feed reads its project file from: this briefing's, which a test may edit."""
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    shutil.copy(PROJECT / "briefing.toml", root / "briefing.toml")
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


def test_base_url_and_title_from_the_project_file(editions, reports, bare_project):
    project_file = bare_project / "briefing.toml"
    project_file.write_text(project_file.read_text().replace(
        "[publishing]\n", '[publishing]\nbase_url = "https://briefing.example.org/editions"\n'
                          'feed_title = "Frenemies: every edition"\n'))
    feed = parse(write_feed(reports))
    assert feed.feed.title == "Frenemies: every edition"
    assert any(link.rel == "self" and link.href == "https://briefing.example.org/editions/feed.xml"
               for link in feed.feed.links)
    for entry in feed.entries:
        assert all(link.href.startswith("https://briefing.example.org/editions/") for link in entry.links)


def test_a_feed_section_in_the_distribution_file_is_refused_with_where_it_moved(bare_project):
    from report_helpers.delivery.config import ConfigError, load_distribution

    path = bare_project / "distribution.toml"
    path.write_text('[feed]\nlink_base = "https://briefing.example.org/editions"\n')
    with pytest.raises(ConfigError, match=r"distribution.toml: \[feed\] has moved to the project file: "
                                          r"briefing.toml, \[publishing\] base_url"):
        load_distribution(path)


def test_empty_folder_gives_a_valid_empty_feed(tmp_path, bare_project):
    feed = parse(write_feed(tmp_path))
    assert feed.entries == []
