"""Freshness: what an edition says about how current each connected source is.

For every connector with an accepted vintage known on the edition's as-of date, the edition states
"data as of" (the vintage's public date); if that vintage is older than the publisher's update period
(the catalogue's sourceUpdates.everyDays) on the as-of date, it adds a visible note and the build log a
warning (a scheduler can alert on "overdue" in the log). A connected source never fetched only gets
the log warning, so editions built from the hand-entered data alone look as they always did.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from .. import fmt


def edition_freshness(as_of: dt.date, data: Path | None = None, log: logging.Logger | None = None) -> dict:
    """{"data_as_of": [line, ...], "overdue": [line, ...]} for an edition as of ``as_of``; empty lists
    when no vintage was accepted yet. Overdue sources are also logged as warnings on ``log``."""
    from ..paths import data_dir
    from .connectors import connectors
    from .vintages import known_on

    data = data or data_dir()
    known = known_on(data, as_of)
    lines, late = [], []
    for name, connector in connectors(data).items():
        entry, period = known.get(name), connector.every_days
        if entry is None:
            if log and as_of >= dt.date.today():
                log.warning("data overdue: %s (%s) was never fetched; its rows are hand-entered (run "
                            "`briefing data update --source %s`)", name, connector.publisher, name)
            continue
        checked = dt.date.fromisoformat(entry["retrieved_at"][:10])
        day = fmt.date(dt.date.fromisoformat(entry["public_date"]))
        lines.append(f"{connector.publisher}, {connector.title}: data as of {day} (vintage {entry['vintage_id']})")
        age = (as_of - checked).days
        if connector.overdue(checked, as_of):
            late.append(f"{connector.publisher}, {connector.title}: last checked {fmt.date(checked)}, {age} days "
                        f"before this edition; the publisher updates it every {period} days, so newer figures "
                        "may exist.")
            if log:
                log.warning("data overdue: %s last checked %s, %d days ago (period %d days)", name,
                            checked.isoformat(), age, period)
    if log and as_of >= dt.date.today():
        for source_id, published, period in hand_entered_overdue(data, as_of):
            log.warning("data overdue: %s is hand-entered from a source published %s, more than %d days ago; "
                        "check the publisher for newer figures", source_id, published.isoformat(), period)
    return {"data_as_of": lines, "overdue": late}


def hand_entered_overdue(data: Path, today: dt.date) -> list[tuple[str, dt.date, int]]:
    """(source id, publication date, period) of each hand-entered series whose source is older than the
    publisher's update period."""
    from ..catalogue import published_by, sources
    from .connectors import declared

    known, late = sources(data), []
    for source_id, entry in declared(data).items():
        if "handEntered" in entry and source_id in known:
            published = published_by(known[source_id].published)
            if (today - published).days > int(entry.get("everyDays", 0) or 0) > 0:
                late.append((source_id, published, int(entry["everyDays"])))
    return late
