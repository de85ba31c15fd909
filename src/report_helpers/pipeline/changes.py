"""What changed since the previous edition: key figures, events, claim verdicts.

"Previous" is the newest complete edition of the same kind (full or brief, same parameters) whose
as-of date is earlier than this one's. A later as-of date is never compared with: its figures and
events would reveal, in an earlier briefing, what was not yet known. When this very edition (same
as-of date, same kind) was published before with different content, the note also says what was
revised since that build. The manifest records both editions compared, with a digest of their
content, so a build can tell when its note is out of date (build._up_to_date).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

from .. import fmt
from ..results import titled

MAX_EVENTS = 10  # the briefing lists the latest few; the manifest keeps all
_AS_OF = re.compile(r" as of \d{4}-\d{2}-\d{2}$")


def base_verdict(verdict) -> str:
    """A verdict without its as-of date: "not verifiable from our data as of 2024-06-30" is the same
    verdict at every date, so the manifest records it plain (editions of older versions did not)."""
    return _AS_OF.sub("", verdict) if isinstance(verdict, str) else ""


def content(manifest: dict) -> dict:
    return {key: manifest.get(key, {}) for key in ("figures", "events", "verdicts")}


def content_digest(manifest: dict) -> str:
    """Of what the note compares: figures, events and verdicts."""
    return hashlib.sha256(json.dumps(content(manifest), sort_keys=True, default=str).encode()).hexdigest()


def _newest(entries: list[dict]) -> dict | None:
    return max(entries, key=lambda e: (e.get("as_of", ""), e.get("built", "")), default=None)


def basis(entries: list[dict], *, edition_id: str, kind: str, as_of: str) -> tuple[dict | None, dict | None]:
    """(previous, same): the newest complete edition of this kind with an earlier as-of date, and the
    complete edition published before under this edition id (None when there is none).
    ``entries`` are manifests as store.listing gives them (each with "kind" and "as_of")."""
    complete = [e for e in entries if e.get("status") == "ok" and e.get("kind") == kind]
    previous = _newest([e for e in complete if e.get("as_of", "") < as_of])
    same = _newest([e for e in complete if e.get("edition_id") == edition_id])
    return previous, same


def basis_key(previous: dict | None) -> list | None:
    """What a note's comparison depends on: the earlier edition and its content."""
    return [previous.get("edition_id"), content_digest(previous)] if previous else None


def recorded_basis_key(manifest: dict) -> list | None:
    previous = (manifest.get("changes") or {}).get("previous")
    return [previous.get("edition_id"), previous.get("digest")] if previous else None


def _figure_text(data: dict) -> str:
    return f"{fmt.by_unit(data['value'], data['unit'], data.get('digits'))} ({data['period']})"


def differences(before: dict, figures: dict[str, dict], events: dict[str, dict],
                verdicts: dict[str, str]) -> list[str]:
    """Reader-facing lines: figures that moved, new events, changed verdicts."""
    items: list[str] = []
    old_figures = before.get("figures", {})
    for name, now in figures.items():
        old = old_figures.get(name)
        if old is None:
            value = fmt.by_unit(now["value"], now["unit"], now.get("digits"))
            items.append(f"New figure: {titled(now['label'], now['period'])}: {value}.")
        elif (old["value"], old["period"]) != (now["value"], now["period"]):
            items.append(f"{now['label']}: {_figure_text(old)} → {_figure_text(now)}.")
    for name in sorted(old_figures.keys() - figures.keys()):
        items.append(f"No longer shown: {old_figures[name]['label']}.")
    old_events = before.get("events", {})
    new_events = sorted((e for eid, e in events.items() if eid not in old_events), key=lambda e: e["date"])
    for event in new_events[-MAX_EVENTS:]:
        items.append(f"New event: {event['title']} ({event['date']}).")
    if len(new_events) > MAX_EVENTS:
        items.append(f"… and {len(new_events) - MAX_EVENTS} earlier new events (listed in manifest.json).")
    for eid in sorted(old_events.keys() - events.keys()):
        items.append(f"Event no longer shown: {old_events[eid]['title']}.")
    old_verdicts = {claim: base_verdict(v) for claim, v in before.get("verdicts", {}).items()}
    for claim, verdict in verdicts.items():
        verdict = base_verdict(verdict)
        if claim in old_verdicts and old_verdicts[claim] != verdict:
            items.append(f"Claim {claim}: verdict {old_verdicts[claim] or 'none'} → {verdict or 'none'}.")
    return items


def _built_text(value: str | None) -> str:
    try:
        built = dt.datetime.fromisoformat(value).astimezone(dt.timezone.utc)
        return f"{fmt.date(built.date())}, {built:%H:%M} UTC"
    except (TypeError, ValueError):
        return value or "an earlier build"


def _reference(manifest: dict) -> dict:
    return {"edition_id": manifest.get("edition_id"), "as_of": manifest.get("parameters", {}).get("as_of"),
            "built": manifest.get("built"), "build": manifest.get("build"), "digest": content_digest(manifest)}


def compare(previous: dict | None, figures: dict[str, dict], events: dict[str, dict],
            verdicts: dict[str, str], same: dict | None = None) -> dict:
    """The note: differences from ``previous`` (an earlier as-of date), and, when ``same`` (this
    edition's earlier build) differs in content, what was revised since that build."""
    note: dict = {"previous": None, "items": [], "revised": None}
    if previous is not None:
        note["previous"] = _reference(previous)
        note["items"] = differences(previous, figures, events, verdicts)
    if same is not None:
        now = {"figures": figures, "events": events, "verdicts": verdicts}
        if content_digest(same) != content_digest(now):
            note["revised"] = {**_reference(same), "built_text": _built_text(same.get("built")),
                               "items": differences(same, figures, events, verdicts)}
        else:  # same content as the last build: whatever that build said was revised still holds
            note["revised"] = (same.get("changes") or {}).get("revised")
    return note
