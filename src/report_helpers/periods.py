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


# A year after the day a text speaks from is a later fact, unless the words just before it mark a plan
# or a term. Claim notes (claims.check) and markdown cells (sections.py) are held to this rule.
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_PLANNED = re.compile(r"\b(due|plan\w*|schedul\w*|target\w*|until|expir\w*|lease|term|deadline|extend\w*|"
                      r"aim\w*|goal|pledg\w*|promis\w*|commit\w*)\b[^.;]{0,40}$", re.IGNORECASE)


def later_years(text: str, day: dt.date) -> list[int]:
    """Years a text names that come after ``day``: later facts, unless the words just before them mark a
    plan or a term ("due in 2026", "a lease until 2044", "targets 20 bcm a year by 2027")."""
    return [int(m.group(1)) for m in _YEAR.finditer(text) if is_later_fact(text[:m.start()], int(m.group(1)), day)]


def is_later_fact(before: str, year: int, day: dt.date) -> bool:
    """Whether ``year``, preceded by the text ``before``, names something after ``day`` (not a plan)."""
    return year > day.year and not _PLANNED.search(before)


def first_day(tags, earliest: dt.date) -> dt.date:
    """The earliest as-of date whose edition shows a cell with these tags."""
    return max([day for kind, day in filter(None, map(parse, tags)) if kind == "from"] + [earliest])
