"""What changed between editions: figures, events and verdicts; compared with the newest earlier
edition of the same kind, never a later one; and what a rebuild of the same date revised."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from report_helpers.pipeline import changes

FIG = {"value": 37.2, "unit": "pct", "label": "Russia's share of trade", "period": "2023"}


def test_compare_lists_moved_figures_new_events_and_verdicts():
    previous = {"edition_id": "2024-06-30_full", "parameters": {"as_of": "2024-06-30"},
                "figures": {"trade": FIG, "gone": {**FIG, "label": "Old figure"}},
                "events": {"a": {"date": "2024-01-01", "title": "Old event"}},
                "verdicts": {"c01": "not verifiable from our data as of 2024-06-30"}}
    now_fig = {**FIG, "value": 41.1, "period": "2024"}
    note = changes.compare(previous, {"trade": now_fig},
                           {"a": previous["events"]["a"], "b": {"date": "2026-06-07", "title": "Election"}},
                           {"c01": "supported"})
    assert note["previous"]["edition_id"] == "2024-06-30_full" and note["previous"]["as_of"] == "2024-06-30"
    assert note["previous"]["digest"] == changes.content_digest(previous)
    assert "Russia's share of trade: 37% (2023) → 41% (2024)." in note["items"]
    assert "No longer shown: Old figure." in note["items"]
    assert "New event: Election (2026-06-07)." in note["items"]
    assert any(item.startswith("Claim c01: verdict") and item.endswith("→ supported.") for item in note["items"])
    assert note["revised"] is None
    assert changes.compare(None, {}, {}, {}) == {"previous": None, "items": [], "revised": None}


def entry(edition_id: str, built: str, status: str = "ok", **content) -> dict:
    as_of, kind = edition_id.split("_", 1)
    return {"edition_id": edition_id, "kind": kind, "as_of": as_of, "parameters": {"as_of": as_of},
            "built": built, "status": status, **content}


def test_basis_is_the_newest_earlier_edition_of_the_same_kind():
    entries = [entry("2024-06-30_full", "2026-01-01"), entry("2026-11-27_full", "2026-11-27"),
               entry("2025-01-01_full", "2026-02-01"), entry("2025-02-01_full", "2026-03-01", status="partial"),
               entry("2025-03-01_brief", "2026-03-02"), entry("2025-06-30_full", "2026-03-03")]
    def previous(as_of, kind="full", edition_id=None):
        found, _ = changes.basis(entries, edition_id=edition_id or f"{as_of}_{kind}", kind=kind, as_of=as_of)
        return found and found["edition_id"]
    assert previous("2025-06-30") == "2025-01-01_full"  # not the partial one, not a brief one, not itself
    assert previous("2024-06-30") is None  # never a later date, even one built earlier
    assert previous("2025-12-31", "brief") == "2025-03-01_brief"
    assert previous("2020-01-01") is None
    _, same = changes.basis(entries, edition_id="2025-06-30_full", kind="full", as_of="2025-06-30")
    assert same["edition_id"] == "2025-06-30_full"


def test_a_revision_of_the_same_date_is_noted_and_carried_over():
    before = entry("2026-11-28_full", "2026-11-28T05:15:00+00:00", figures={"trade": FIG}, events={}, verdicts={})
    moved = {"trade": {**FIG, "value": 38.0}}
    note = changes.compare(None, moved, {}, {}, same=before)
    assert note["revised"]["edition_id"] == "2026-11-28_full"
    assert note["revised"]["built_text"] == "28 November 2026, 05:15 UTC"
    assert note["revised"]["items"] == ["Russia's share of trade: 37% (2023) → 38% (2023)."]
    # Built again with the same content: the revision still holds, not "no revision".
    again = changes.compare(None, moved, {}, {}, same={**before, "figures": moved, "changes": note})
    assert again["revised"] == note["revised"]
    assert changes.compare(None, {"trade": FIG}, {}, {}, same=before)["revised"] is None


e2e = pytest.mark.e2e


def build(reports: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "report_helpers", "build", "--reports-dir", str(reports), *args],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return result


def manifest(reports: Path, edition_id: str) -> dict:
    return json.loads((reports / edition_id / "manifest.json").read_text())


@e2e
def test_changes_since_in_real_builds(make_project, tmp_path):
    """Earlier dates built later, a brief edition, a same-date rebuild with a revised figure."""
    project = make_project("20_what_putin_wants.ipynb")
    reports = tmp_path / "reports"
    build(reports, "--as-of", "2024-12-31")
    build(reports, "--as-of", "2024-12-31", "--edition", "brief")
    build(reports, "--as-of", "2024-06-30")  # earlier date, built later: it must not see 2024-12-31
    assert manifest(reports, "2024-06-30_full")["changes"]["previous"] is None
    assert manifest(reports, "2024-12-31_brief")["changes"]["previous"] is None  # other kind: not compared
    # 2024-12-31_full compared with nothing when it was built; an earlier edition exists now, so
    # its note is out of date and a plain rebuild renders it again (sections from the cache).
    again = build(reports, "--as-of", "2024-12-31", "--explain")
    assert "up to date" not in again.stdout and "reused" in again.stdout
    note = manifest(reports, "2024-12-31_full")["changes"]
    assert note["previous"]["edition_id"] == "2024-06-30_full"
    assert note["previous"]["digest"] == changes.content_digest(manifest(reports, "2024-06-30_full"))
    assert note["revised"] is None  # same content as the build it replaced
    html = (reports / "2024-12-31_full" / "briefing.html").read_text()
    assert "Changes since 30 June 2024" in html
    assert "up to date" in build(reports, "--as-of", "2024-12-31").stderr

    # A data correction changes a figure of the same as-of date: the note says what was revised.
    first_built = manifest(reports, "2024-12-31_full")["built"]
    data = project / "data" / "eu_gas_azerbaijan.csv"
    rows = list(csv.DictReader(data.open(encoding="utf-8")))
    target = next(r for r in rows if r["measure"] == "az_gas_exports_to_europe_bcm" and r["year"] == "2023")
    target["value"] = str(round(float(target["value"]) + 1, 1))
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    build(reports, "--as-of", "2024-12-31")
    note = manifest(reports, "2024-12-31_full")["changes"]
    assert note["previous"]["edition_id"] == "2024-06-30_full"
    assert note["revised"]["built"] == first_built
    assert any("Azerbaijani gas exports to Europe" in item for item in note["revised"]["items"]), note["revised"]
    html = (reports / "2024-12-31_full" / "briefing.html").read_text()
    assert "Revised since the build of" in html
    # Forced rebuild, same content: still compared with the earlier date, never with itself.
    build(reports, "--as-of", "2024-12-31", "--force")
    forced = manifest(reports, "2024-12-31_full")["changes"]
    assert forced["previous"]["edition_id"] == "2024-06-30_full"
    assert forced["revised"] == note["revised"]
