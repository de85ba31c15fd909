"""The public log of corrections: ``data/corrections.csv``.

One row per correction: the day it was made (``date``), the row it corrected (``table``, ``row``: the
row's primary key as figures name it, ``trade_by_partner`` and ``2024|Russia``; ``column`` if one
cell), what it said (``was``), what it says now (``now``), ``why``, and the editions it affects
(``editions``: edition ids separated by ';'). Every edition shows the corrections made since the
previous edition of its kind; the index lists them all.

The log is checked before a build starts: an unknown table, row, column or edition, a malformed
or future date, or an empty field is a DataError naming the file, row and column (exit 2), so
nothing is published. An edition is known if its id is well formed (``YYYY-MM-DD_full``, ``_brief``,
with an optional parameter hash) and its as-of date is not after the correction: an edition can be
pruned from the reports folder, but its correction stays true. Read with the csv module (no pandas).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError
from .paths import data_dir

FILE = "corrections.csv"
COLUMNS = ["date", "table", "row", "column", "was", "now", "why", "editions"]
REQUIRED = ["date", "table", "row", "was", "now", "why", "editions"]
EDITION_ID = re.compile(r"^(\d{4}-\d{2}-\d{2})_(full|brief)(_[0-9a-f]{8})?$")


@dataclass(frozen=True)
class Correction:
    date: dt.date
    table: str
    row: str
    column: str
    was: str
    now: str
    why: str
    editions: tuple[str, ...]

    @property
    def date_text(self) -> str:
        from . import fmt

        return fmt.date(self.date)

    @property
    def where(self) -> str:
        cell = f", column {self.column}" if self.column else ""
        return f"{self.table}, row {self.row}{cell}"

    @property
    def text(self) -> str:
        """The correction in one sentence, as the briefing, the index and a notice print it."""
        return (f"{self.date_text}: {self.where}: was “{self.was}”, now “{self.now}”. {self.why.rstrip('.')}. "
                f"Affects {', '.join(self.editions)}.")


def _keys(root: Path, resource: dict) -> set[str]:
    key = resource["schema"].get("primaryKey") or []
    key = [key] if isinstance(key, str) else key
    with open(root / resource["path"], encoding="utf-8", newline="") as handle:
        return {"|".join(row.get(k) or "" for k in key) for row in csv.DictReader(handle)}


def load(root: Path | None = None, *, today: dt.date | None = None) -> list[Correction]:
    """The log, checked; oldest first. A missing file is an empty log."""
    from .catalogue import read_catalogue

    root = root or data_dir()
    path = root / FILE
    if not path.is_file():
        return []
    name = f"data/{FILE}"
    today = today or dt.date.today()
    resources = {r["name"]: r for r in read_catalogue(root)["resources"]}
    keys: dict[str, set[str]] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != COLUMNS:
            raise DataError(f"the header must be {','.join(COLUMNS)}, not {','.join(reader.fieldnames or [])}",
                            file=name, row=1)
        found = []
        for number, row in enumerate(reader, start=2):
            def fail(message: str, column: str) -> DataError:
                return DataError(message, file=name, row=number, column=column)

            if None in row or any(v is None for v in row.values()):
                raise fail(f"expected {len(COLUMNS)} fields", "editions")
            for column in REQUIRED:
                if not row[column].strip():
                    raise fail("is empty", column)
            try:
                day = dt.date.fromisoformat(row["date"])
            except ValueError:
                raise fail(f"{row['date']!r} is not a date (YYYY-MM-DD)", "date") from None
            if day > today:
                raise fail(f"{day} is in the future: log a correction once it is made", "date")
            table = row["table"]
            if table not in resources:
                raise fail(f"unknown table {table!r} (tables: {', '.join(sorted(resources))})", "table")
            if table not in keys:
                keys[table] = _keys(root, resources[table])
            if row["row"] not in keys[table]:
                key = resources[table]["schema"].get("primaryKey")
                raise fail(f"table {table!r} has no row {row['row']!r} (its key: {key}, values joined by '|')",
                           "row")
            fields = [f["name"] for f in resources[table]["schema"]["fields"]]
            if row["column"] and row["column"] not in fields:
                raise fail(f"table {table!r} has no column {row['column']!r}", "column")
            editions = tuple(e.strip() for e in row["editions"].split(";") if e.strip())
            for edition in editions:
                match = EDITION_ID.match(edition)
                if not match:
                    raise fail(f"unknown edition {edition!r} (an edition id: YYYY-MM-DD_full or _brief, "
                               "with its parameter hash if it has one)", "editions")
                if dt.date.fromisoformat(match.group(1)) > day:
                    raise fail(f"edition {edition!r} is as of a date after the correction ({day}): it cannot "
                               "have carried the error", "editions")
            found.append(Correction(day, table, row["row"], row["column"], row["was"], row["now"], row["why"],
                                    editions))
    return sorted(found, key=lambda c: c.date)


def since(log: list[Correction], previous_built: str | None, until: dt.date) -> list[Correction]:
    """The corrections made since the previous edition of a kind was built (that day included), up to
    ``until``; none for the first edition of a kind (it corrects nothing that was published)."""
    if not previous_built:
        return []
    try:
        start = dt.datetime.fromisoformat(previous_built).astimezone(dt.timezone.utc).date()
    except ValueError:
        return []
    return [c for c in log if start <= c.date <= until]
