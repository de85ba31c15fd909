"""What changed between editions: figures, events and verdicts, and never from a later edition."""

import json

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
    assert note["previous"] == {"edition_id": "2024-06-30_full", "as_of": "2024-06-30"}
    assert "Russia's share of trade: 37% (2023) → 41% (2024)." in note["items"]
    assert "No longer shown: Old figure." in note["items"]
    assert "New event: Election (2026-06-07)." in note["items"]
    assert any(item.startswith("Claim c01: verdict") and item.endswith("→ supported.") for item in note["items"])
    assert changes.compare(None, {}, {}, {}) == {"previous": None, "items": []}


def test_previous_edition_is_the_newest_earlier_or_same_as_of(tmp_path):
    for name, as_of, built, status in (("a", "2024-06-30", "2026-01-01", "ok"), ("b", "2026-11-27", "2026-11-27", "ok"),
                                       ("c", "2025-01-01", "2026-02-01", "ok"), ("d", "2025-02-01", "2026-03-01", "partial")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text(json.dumps(
            {"edition_id": name, "parameters": {"as_of": as_of}, "built": built, "status": status}))
    assert changes.load_previous(tmp_path, "2025-06-30")["edition_id"] == "c"
    assert changes.load_previous(tmp_path, "2024-06-30")["edition_id"] == "a"
    assert changes.load_previous(tmp_path, "2020-01-01") is None
