"""Text written for a period: a notebook cell tagged ``from:YYYY-MM-DD`` is shown only in editions as of
that day or later, one tagged ``before:YYYY-MM-DD`` only in editions as of an earlier day. An analyst
writes a passage that speaks of an event once for the editions before it and once for those after,
so an as-of edition never says what was not yet public (tags are set in JupyterLab's cell inspector).
"""

from __future__ import annotations

import datetime as dt
import re

_TAG = re.compile(r"^(from|before):(.*)$")


def parse(tag: str) -> tuple[str, dt.date] | None:
    """('from', day) or ('before', day) for a period tag, None for any other tag; ValueError if a
    period tag's date is not a real YYYY-MM-DD day."""
    match = _TAG.match(tag)
    if not match:
        return None
    try:
        return match.group(1), dt.date.fromisoformat(match.group(2))
    except ValueError:
        raise ValueError(f"cell tag '{tag}': the date must be a real day, YYYY-MM-DD") from None


def shown(tags, as_of: dt.date) -> bool:
    """Whether a cell with these tags is shown in an edition as of ``as_of``."""
    for tag in tags:
        period = parse(tag)
        if period is None:
            continue
        kind, day = period
        if (kind == "from" and as_of < day) or (kind == "before" and as_of >= day):
            return False
    return True
