"""`briefing build --only SLUG[,SLUG...]`: those sections and the ones they read, as a subset edition
that never moves `latest` and stays out of the index and the feed."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_build
from report_helpers.errors import UsageError
from report_helpers.params import BuildParams
from report_helpers.pipeline import subset
from report_helpers.sections import discover

TODAY = dt.date.today().isoformat()


def test_closure_follows_what_sections_read_in_the_articles_order():
    sections = discover()
    assert [s.slug for s in subset.select(sections, ("what_about_you",))] == [
        "what_pashinyan_wants", "what_about_you"]
    key_points = [s.slug for s in subset.select(sections, ("key_points",))]
    assert key_points == ["key_points", "why_frenemies", "what_pashinyan_wants", "what_pashinyan_is_doing",
                          "what_about_you"]
    assert [s.slug for s in subset.select(sections, ("claims_and_evidence", "why_frenemies"))] == [
        "why_frenemies", "claims_and_evidence"]


def test_subset_edition_id_names_the_asked_sections_in_the_articles_order():
    params = BuildParams(as_of=dt.date(2024, 6, 30), edition="full")
    chosen, subset_params = subset.restrict(discover(), params, ("what_about_you", "why_frenemies"))
    assert subset_params.edition_id == "2024-06-30_full.only-why_frenemies.what_about_you"
    assert subset_params.as_dict() == params.as_dict()  # the notebooks see the same parameters
    assert [s.slug for s in chosen] == ["why_frenemies", "what_pashinyan_wants", "what_about_you"]


def test_unknown_or_empty_slug_is_a_usage_error():
    with pytest.raises(UsageError, match="no section named 'why_frenemy'; the sections are: key_points, why_fr"):
        subset.select(discover(), ("why_frenemy",))
    with pytest.raises(UsageError, match="give one or more section names"):
        subset.parse(" , ")
    assert subset.parse("a, b,a") == ("a", "b")


def _briefing(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "report_helpers", "build", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ})


def test_cli_refuses_an_unknown_slug_with_exit_2_before_anything_is_written(tmp_path):
    reports = tmp_path / "reports"
    result = _briefing("--only", "why_frenemies,nope", "--reports-dir", str(reports))
    assert result.returncode == 2, result.stderr
    assert "no section named 'nope'" in result.stderr
    assert "why_frenemies, what_putin_wants" in result.stderr  # the known slugs are listed
    assert not reports.exists()


def test_cli_refuses_only_with_send(tmp_path):
    result = _briefing("--only", "why_frenemies", "--send", "desk", "--reports-dir", str(tmp_path / "r"))
    assert result.returncode == 2 and "never sent" in result.stderr, result.stderr


def _state(reports: Path) -> dict:
    return {"latest": os.readlink(reports / "latest"), "index": (reports / "index.html").read_bytes(),
            "feed": (reports / "feed.xml").read_bytes(),
            "names": sorted(p.name for p in reports.iterdir() if not p.name.startswith("."))}


@pytest.mark.e2e
def test_only_builds_a_subset_edition_beside_the_published_ones(built_reports):
    reports = built_reports()  # today's full edition, published: latest names it
    before = _state(reports)
    result = run_build(reports, "--only", "what_about_you", "--explain")
    assert result.returncode == 0, result.stderr
    edition = reports / ".only" / f"{TODAY}_full.only-what_about_you"
    assert result.stdout.splitlines()[-2:] == [str(edition / "briefing.pdf"), str(edition / "briefing.html")]
    # The section cache of the reports folder is shared: nothing had to run again.
    assert "what_about_you: reused" in result.stdout and "what_pashinyan_wants: reused" in result.stdout
    assert _state(reports) == before  # latest, the index, the feed and the published names are untouched

    manifest = json.loads((edition / "manifest.json").read_text())
    assert manifest["status"] == "ok" and manifest["edition_id"] == edition.name
    assert [s["slug"] for s in manifest["sections"]] == ["what_pashinyan_wants", "what_about_you"]
    page = (edition / "briefing.html").read_text(encoding="utf-8")
    shown = {slug for slug in (s.slug for s in discover()) if f'<h1 id="{slug}--' in page}
    assert shown == {"what_pashinyan_wants", "what_about_you"}
    assert (edition / "briefing.pdf").stat().st_size > 0
    assert sorted(p.name for p in edition.glob("*.ipynb")) == ["30_what_pashinyan_wants.ipynb",
                                                             "50_what_about_you.ipynb"]

    again = run_build(reports, "--only", "what_about_you")  # the same subset: already up to date
    assert again.returncode == 0 and "is up to date" in again.stderr, again.stderr
