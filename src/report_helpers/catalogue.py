"""The data catalogue (`data/datapackage.json`, a Frictionless Data Package) and typed loading.

`validate_package` checks every table against the catalogue with the frictionless library
(types, required cells, unique keys, sources that resolve) and is run by the build before any
kernel starts. `load_table` reads one table into a typed DataFrame and, given an as-of date, keeps
only the rows that were public by then: each table names the column holding the date its row became
public (``publicDateField``). A row whose own source appeared later than the as-of date, but whose
value was first made public by an earlier source (``public_source_id``), cites that earlier source.
Pandas is imported inside the functions that use it, so that the command line can read the
catalogue (and decide that nothing needs doing) without paying for it.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import DataError

if TYPE_CHECKING:
    import pandas as pd
from .paths import data_dir

CATALOGUE = "datapackage.json"
_read_listeners: list = []  # callables told the path of every data file read (the section cache)


def on_read(listener) -> None:
    """Replace the read listener (one per section): ``listener(path)`` for every data file read;
    None removes it."""
    _read_listeners[:] = [listener] if listener else []


def _note_read(path: Path) -> None:
    for listener in _read_listeners:
        listener(path)
SOURCES = "sources"
ROW_REF = "row_ref"  # added on load: "table:primary key", the rows a figure was computed from
PUBLIC_SOURCE = "public_source_id"  # an earlier source that first made a row's value public
_PANDAS_TYPES = {"string": "string", "integer": "Int64", "number": "Float64", "year": "Int64",
                 "boolean": "boolean"}


@dataclass(frozen=True)
class Source:
    """A row of sources.csv, numbered as the briefing cites it."""

    number: int
    source_id: str
    publisher: str
    title: str
    url: str
    published: str

    def citation(self) -> str:
        return f"[{self.number}] {self.publisher}"


def read_catalogue(root: Path | None = None) -> dict:
    """The catalogue, parsed once per state of the file (every table load and citation looks up its
    entry); callers only read the dict they get, which is shared."""
    path = (root or data_dir()) / CATALOGUE
    _note_read(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise DataError("the data catalogue is missing", file=str(path)) from None
    return _parsed_catalogue(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _parsed_catalogue(path: str, mtime_ns: int, size: int) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("the data catalogue is missing", file=path) from None
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON ({exc.msg} at line {exc.lineno})", file=path) from None


def has_table(name: str, root: Path | None = None) -> bool:
    """Whether the catalogue holds a table: a briefing has the tables it needs, not this one's."""
    return any(res["name"] == name for res in read_catalogue(root)["resources"])


def resource(name: str, root: Path | None = None) -> dict:
    for res in read_catalogue(root)["resources"]:
        if res["name"] == name:
            return res
    known = ", ".join(r["name"] for r in read_catalogue(root)["resources"])
    raise DataError(f"no table named '{name}' in the catalogue (tables: {known})", file=CATALOGUE)


def validate_package(root: Path | None = None) -> None:
    """Validate every table against the catalogue; raise DataError naming file, row, column."""
    import frictionless  # heavy: imported only when validating

    root = root or data_dir()
    catalogue = read_catalogue(root)
    for res in catalogue["resources"]:
        _check_header(root, res)
    package = frictionless.Package(str(root / CATALOGUE))
    report = package.validate()
    if report.valid:
        check_public_dates(root)
        return
    by_task = {i + 1: res for i, res in enumerate(catalogue["resources"])}
    problems = []
    for task_no, row, column, kind, message in report.flatten(
            ["taskNumber", "rowNumber", "fieldName", "type", "message"]):
        res = by_task.get(task_no, {})
        problems.append(DataError(f"{kind}: {message}", file=f"data/{res.get('path', '?')}",
                                  row=row, column=column or None))
    first = problems[0]
    if len(problems) > 1:
        first.args = (f"{first} (and {len(problems) - 1} more problem(s))",)
    raise first


# Tables whose rows report something that happened on a day: it cannot be public before it happened.
HAPPENED = {"events": ("date", "date_precision"), "military_presence": ("status_date", "date_precision")}


def earliest_public(row: dict, table: str, published: dict[str, dt.date]) -> dt.date:
    """The first day a row could have been public: its earliest recorded source's publication
    (``public_source_id`` if given, else ``source_id``), or the day its event happened if later."""
    import pandas as pd

    first = row.get(PUBLIC_SOURCE)
    first = first if isinstance(first, str) and first else row["source_id"]
    day = published[first]
    if table in HAPPENED:
        when, precision = (row[c] for c in HAPPENED[table])
        if pd.notna(when):
            day = max(day, happened_by(when, precision if pd.notna(precision) else "day"))
    return day


def check_public_dates(root: Path | None = None) -> None:
    """No row may claim to have been public before its sources were published (or its event
    happened), and a ``public_source_id`` must predate the row's own source."""
    root = root or data_dir()
    published = {s.source_id: published_by(s.published) for s in sources(root).values()}
    for res in read_catalogue(root)["resources"]:
        if res.get("publicDateField") != "public_date":
            continue
        file = f"data/{res['path']}"
        frame = load_table(res["name"], root=root)
        for i, row in enumerate(frame.to_dict("records")):
            earliest = earliest_public(row, res["name"], published)
            if row["public_date"] < earliest:
                raise DataError(f"public_date {row['public_date']} is before its source was published or its "
                                f"event happened ({earliest})", file=file, row=i + 2, column="public_date")
            early = row.get(PUBLIC_SOURCE)
            if isinstance(early, str) and early and published[early] >= published[row["source_id"]]:
                raise DataError(f"public_source_id {early!r} is not earlier than source_id "
                                f"{row['source_id']!r}", file=file, row=i + 2, column=PUBLIC_SOURCE)


def _check_header(root: Path, res: dict) -> None:
    """Columns are matched by name: say which declared column is missing, or which is unknown."""
    file = f"data/{res['path']}"
    path = root / res["path"]
    if not path.is_file():
        raise DataError("data file listed in the catalogue is missing", file=file)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), [])
    except UnicodeDecodeError:
        raise DataError("not UTF-8 text", file=file) from None
    declared = [f["name"] for f in res["schema"]["fields"]]
    for name in declared:
        if name not in header:
            raise DataError("column declared in the catalogue is missing from the file", file=file,
                            row=1, column=name)
    for name in header:
        if name not in declared:
            raise DataError("column is not declared in the catalogue", file=file, row=1, column=name)
    if header != declared:
        raise DataError(f"columns are out of the catalogue's order ({', '.join(declared)})", file=file, row=1)


@lru_cache(maxsize=64)
def _typed(name: str, path: str, mtime_ns: int, size: int, res_json: str) -> pd.DataFrame:
    """A table read and typed, kept while its file and catalogue entry are unchanged: the sections
    run in one worker, and the build's own checks, read the same tables many times. Callers get a
    copy (load_table), so the kept frame is never changed."""
    import pandas as pd

    res = json.loads(res_json)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"not a readable CSV ({exc})", file=f"data/{res['path']}") from None
    frame = _cast(raw, res["schema"], f"data/{res['path']}")
    key = res["schema"].get("primaryKey")
    if key:  # where each row comes from, as the claims register writes it: table:key
        frame[ROW_REF] = (f"{name}:" + frame[key].astype(str).agg("|".join, axis=1)).astype("string")
    return frame


def _cast(frame: pd.DataFrame, schema: dict, file: str) -> pd.DataFrame:
    import pandas as pd

    out = pd.DataFrame(index=frame.index)
    for fld in schema["fields"]:
        name, kind = fld["name"], fld.get("type", "string")
        if name not in frame.columns:
            raise DataError("column declared in the catalogue is missing", file=file, column=name)
        raw = frame[name].str.strip().replace("", pd.NA)
        try:
            if kind == "date":
                out[name] = pd.to_datetime(raw, format="%Y-%m-%d").dt.date
            elif kind in ("number", "integer", "year"):
                out[name] = pd.to_numeric(raw).astype(_PANDAS_TYPES[kind])
            else:
                out[name] = raw.astype("string")
        except (ValueError, TypeError):
            bad = next(i for i, v in raw.items() if pd.notna(v) and not _castable(v, kind))
            raise DataError(f"{raw[bad]!r} is not a {kind}", file=file, row=int(bad) + 2,
                            column=name) from None
    return out


def _castable(value: str, kind: str) -> bool:
    try:
        if kind == "date":
            dt.date.fromisoformat(value)
        else:
            float(value)
        return True
    except ValueError:
        return False


def published_by(published: str) -> dt.date:
    """The last day a source dated YYYY, YYYY-MM or YYYY-MM-DD may have been published."""
    parts = [int(p) for p in published.split("-")]
    if len(parts) == 3:
        return dt.date(*parts)
    if len(parts) == 2:
        year, month = parts
        return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return dt.date(parts[0], 12, 31)


def happened_by(day: dt.date, precision: str = "day") -> dt.date:
    """The last day an event dated ``day`` to the given precision (day, month, year) may have happened."""
    if precision == "year":
        return dt.date(day.year, 12, 31)
    if precision == "month":
        return published_by(f"{day.year}-{day.month:02d}")
    return day


def public_dates(frame: pd.DataFrame, res: dict) -> list[dt.date | None]:
    """The date each row became public, read from the table's ``publicDateField`` (a date column,
    or the sources table's partial publication dates)."""
    import pandas as pd

    field = res.get("publicDateField")
    if not field:
        return [None] * len(frame)
    kind = next(f.get("type", "string") for f in res["schema"]["fields"] if f["name"] == field)
    if kind == "date":
        return [d if pd.notna(d) else None for d in frame[field]]
    return [published_by(str(v)) if pd.notna(v) else None for v in frame[field]]


def known_by(frame: pd.DataFrame, res: dict, as_of: dt.date, root: Path | None = None) -> pd.DataFrame:
    """Rows that were public on the as-of date, each citing a source published by then.

    A row is kept when its public date is not after the as-of date (a table without a
    ``publicDateField``, such as the article's claims, is kept whole). A row whose ``source_id`` was
    published after the as-of date cites its ``public_source_id`` instead: the earlier source that
    first made the same value public."""
    import pandas as pd

    if not res.get("publicDateField"):
        return frame
    keep = [d is not None and d <= as_of for d in public_dates(frame, res)]
    frame = frame.loc[pd.Series(keep, index=frame.index, dtype=bool)]
    if PUBLIC_SOURCE in frame.columns and "source_id" in frame.columns and not frame.empty:
        published = {s.source_id: published_by(s.published) for s in sources(root).values()}
        late = pd.Series([published.get(sid, dt.date.max) > as_of for sid in frame["source_id"]],
                         index=frame.index, dtype=bool)
        if late.any():
            frame = frame.copy()
            frame.loc[late, "source_id"] = frame.loc[late, PUBLIC_SOURCE]
    return frame


def load_table(name: str, as_of: dt.date | None = None, root: Path | None = None) -> pd.DataFrame:
    """One catalogue table as a typed DataFrame, filtered to what was known by ``as_of``.

    Each row also carries ``row_ref``, its table and primary key (``trade_by_partner:2024|Russia``):
    figures computed from the rows name them, so a reader can follow a number back to its rows."""

    root = root or data_dir()
    res = resource(name, root)
    path = root / res["path"]
    if not path.is_file():
        raise DataError("data file listed in the catalogue is missing", file=f"data/{res['path']}")
    _note_read(path)
    stat = path.stat()
    frame = _typed(name, str(path), stat.st_mtime_ns, stat.st_size, json.dumps(res, sort_keys=True)).copy()
    if as_of is not None:
        frame = with_earlier_values(name, known_by(frame, res, as_of, root), res, as_of, root)
    return frame.reset_index(drop=True)


# Earlier values (ALFRED-style). When an accepted `briefing data` update revises or withdraws a row,
# the row as it was goes to data/<table>.superseded.csv with ``superseded_on`` (the day the new value
# became public) and ``superseded_by`` (its source). An edition as of an earlier day shows that row.

def superseded_path(root: Path, table: str) -> Path:
    return root / f"{table}.superseded.csv"


def _superseded(path: Path, res: dict) -> pd.DataFrame:
    """A table's superseded rows, typed by its schema plus the two superseded_ columns."""
    import pandas as pd

    _note_read(path)
    schema = {"fields": [*res["schema"]["fields"], {"name": "superseded_on", "type": "date"},
                         {"name": "superseded_by", "type": "string"}]}
    return _cast(pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8"), schema, f"data/{path.name}")


def with_earlier_values(name: str, frame: pd.DataFrame, res: dict, as_of: dt.date, root: Path) -> pd.DataFrame:
    """``frame`` (already filtered to ``as_of``) plus the superseded rows that were current on ``as_of``;
    a row the table itself shows always wins (an accept cut short between its renames)."""
    path = superseded_path(root, name)
    if not path.is_file() or not res.get("publicDateField"):
        return frame
    import pandas as pd

    rows = _superseded(path, res)
    field = res["publicDateField"]
    current = [p is not None and p <= as_of < s for p, s in zip(rows[field], rows["superseded_on"])]
    rows = rows.loc[pd.Series(current, index=rows.index, dtype=bool)].drop(columns=["superseded_on", "superseded_by"])
    key = res["schema"].get("primaryKey")
    if rows.empty or not key:
        return frame
    rows[ROW_REF] = (f"{name}:" + rows[key].astype(str).agg("|".join, axis=1)).astype("string")
    rows = known_by(rows, res, as_of, root)  # cites the earlier source where one is recorded
    rows = rows.loc[~rows[ROW_REF].isin(set(frame[ROW_REF]))]
    return pd.concat([frame, rows[frame.columns]], ignore_index=True)


def first_public(name: str, res: dict, root: Path | None, days: dict) -> dict:
    """``days`` (row key -> the day the row became public) counting superseded rows too: a row revised
    or withdrawn by an update was public from its first version's day."""
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


def sources(root: Path | None = None) -> dict[str, Source]:
    """Every source in the catalogue, numbered in the order of the sources table."""
    root = root or data_dir()
    path = root / resource(SOURCES, root)["path"]
    _note_read(path)
    return _sources(str(path), path.stat().st_mtime)


@lru_cache(maxsize=4)
def _sources(path: str, mtime: float) -> dict[str, Source]:
    """Read with the csv module: the build's own process numbers the sources without loading pandas.
    Every field used is a required string (the catalogue), stripped as ``load_table`` strips it."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    fields = ("source_id", "publisher", "title", "url", "published")
    return {
        row["source_id"].strip(): Source(i, *(row[f].strip() for f in fields))
        for i, row in enumerate(rows, start=1)
    }


def earliest_date(root: Path | None = None) -> dt.date:
    """The earliest as-of date the briefing accepts (the catalogue's earliestAsOf)."""
    value = read_catalogue(root).get("earliestAsOf", "1991-01-01")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DataError(f"earliestAsOf {value!r} is not a date", file=CATALOGUE) from None
