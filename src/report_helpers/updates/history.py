"""Earlier values for as-of editions (ALFRED-style): what a table said before an update revised it.

When an accepted update revises or withdraws a row, the row as it was goes to
data/<table>.superseded.csv with ``superseded_on`` (the day the new vintage became public) and
``superseded_by`` (its source id). An edition as of a date before that day shows the earlier row,
so it uses the vintage that was known on its date; later editions show the new one.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path


def superseded_path(root: Path, table: str) -> Path:
    return root / f"{table}.superseded.csv"


def with_earlier_values(name: str, frame, res: dict, as_of: dt.date, root: Path):
    """``frame`` (already filtered to ``as_of``) plus the superseded rows that were current on ``as_of``."""
    from .. import catalogue

    path = superseded_path(root, name)
    if not path.is_file() or not res.get("publicDateField"):
        return frame
    import pandas as pd

    rows = _superseded(path, res)
    field = res["publicDateField"]
    current = [p is not None and p <= as_of < s for p, s in zip(rows[field], rows["superseded_on"])]
    rows = rows.loc[pd.Series(current, index=rows.index, dtype=bool)].drop(columns=["superseded_on", "superseded_by"])
    if rows.empty:
        return frame
    key = res["schema"].get("primaryKey")
    if key:
        rows[catalogue.ROW_REF] = (f"{name}:" + rows[key].astype(str).agg("|".join, axis=1)).astype("string")
    rows = catalogue.known_by(rows, res, as_of, root)  # cites the earlier source where one is recorded
    if catalogue.ROW_REF in frame.columns and catalogue.ROW_REF in rows.columns:  # a row the table shows wins
        rows = rows.loc[~rows[catalogue.ROW_REF].isin(set(frame[catalogue.ROW_REF]))]
    return pd.concat([frame, rows[frame.columns]], ignore_index=True)


def _superseded(path: Path, res: dict):
    """The superseded rows of a table, typed by the table's schema plus the two superseded_ columns."""
    import pandas as pd

    from .. import catalogue

    catalogue._note_read(path)
    schema = {"fields": [*res["schema"]["fields"], {"name": "superseded_on", "type": "date"},
                         {"name": "superseded_by", "type": "string"}]}
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    return catalogue._cast(raw, schema, f"data/{path.name}")


def first_public(name: str, res: dict, root: Path | None, days: dict) -> dict:
    """``days`` (evidence key -> the day its row became public) with the superseded rows counted: a
    row revised or withdrawn by an update was public from its first version's day."""
    from ..paths import data_dir

    path = superseded_path(root or data_dir(), name)
    if not path.is_file() or not res.get("publicDateField") or not res["schema"].get("primaryKey"):
        return days
    rows = _superseded(path, res)
    keys = rows[res["schema"]["primaryKey"]].astype(str).agg("|".join, axis=1)
    out = dict(days)
    for key, day in zip(keys, rows[res["publicDateField"]]):
        if day is not None and (out.get(key) is None or day < out[key]):
            out[key] = day
    return out


def vintage_record(as_of: dt.date | None) -> dict:
    """The manifest's ``vintages``: for each connected source, the vintage an edition as of this date used."""
    from ..paths import data_dir
    from .vintages import for_manifest

    try:
        return for_manifest(data_dir(), as_of)
    except (OSError, ValueError, json.JSONDecodeError):
        return {}
