"""What changed since the previous successful edition: key figures, events, claim verdicts."""

from __future__ import annotations

from pathlib import Path

from .. import fmt


MAX_EVENTS = 10  # the briefing lists the latest few; the manifest keeps all


def load_previous(reports_dir: Path, as_of: str) -> dict | None:
    """The newest successful edition whose as-of date is not after this one's.

    An edition as of a later date is never compared with: its figures and events would reveal, in
    an earlier briefing, what was not yet known."""
    from .index import editions

    earlier = [e for e in editions(reports_dir)
               if e.get("status") == "ok" and e.get("parameters", {}).get("as_of", "9999") <= as_of]
    return earlier[0] if earlier else None  # editions() lists the newest build first


def _figure_text(data: dict) -> str:
    return f"{fmt.by_unit(data['value'], data['unit'])} ({data['period']})"


def compare(previous: dict | None, figures: dict[str, dict], events: dict[str, dict],
            verdicts: dict[str, str]) -> dict:
    """A short, reader-facing list of differences from the previous edition."""
    if previous is None:
        return {"previous": None, "items": []}
    items: list[str] = []
    before = previous.get("figures", {})
    for name, now in figures.items():
        old = before.get(name)
        if old is None:
            items.append(f"New figure: {now['label']}: {_figure_text(now)}.")
        elif (old["value"], old["period"]) != (now["value"], now["period"]):
            items.append(f"{now['label']}: {_figure_text(old)} → {_figure_text(now)}.")
    for name in before.keys() - figures.keys():
        items.append(f"No longer shown: {before[name]['label']}.")
    old_events = previous.get("events", {})
    new_events = [e for eid, e in events.items() if eid not in old_events]
    new_events = sorted(new_events, key=lambda e: e["date"])
    for event in new_events[-MAX_EVENTS:]:
        items.append(f"New event: {event['title']} ({event['date']}).")
    if len(new_events) > MAX_EVENTS:
        items.append(f"… and {len(new_events) - MAX_EVENTS} earlier new events (listed in manifest.json).")
    for eid in old_events.keys() - events.keys():
        items.append(f"Event no longer shown: {old_events[eid]['title']}.")
    old_verdicts = previous.get("verdicts", {})
    for claim, verdict in verdicts.items():
        if claim in old_verdicts and old_verdicts[claim] != verdict:
            items.append(f"Claim {claim}: verdict {old_verdicts[claim] or 'none'} → {verdict or 'none'}.")
    return {"previous": {"edition_id": previous.get("edition_id"),
                         "as_of": previous.get("parameters", {}).get("as_of")}, "items": items}
