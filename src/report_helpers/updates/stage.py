"""`briefing data update` and `briefing data accept`: fetch, keep, compare, stage; then publish.

Update never writes a file the build reads. It keeps each fetched file as a vintage, derives the new
tables in memory, checks them against the catalogue, and writes them with the review report into
data/vintages/staged/ (a new folder swapped in by rename). Accept moves the staged files over the
accepted ones after writing a journal of the moves; a kill in between is finished by the next
`briefing data` command, so data/ never stays half updated. Both hold data/vintages/.lock.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import catalogue, claims
from ..errors import BriefingError, DataError, UsageError
from ..locks import file_lock
from . import fetch, vintages
from .connectors import Connector
from .errors import PublisherFileError
from .review import Change, claims_citing, differs, figures_reading, fmt, report, size

log = logging.getLogger("briefing")
STAGED, JOURNAL, LOCK = "staged", "accept-journal.json", ".lock"
EXTRA = ["superseded_on", "superseded_by"]


@dataclass
class Outcome:
    staged: bool = False
    changes: list[Change] = field(default_factory=list)
    failures: dict[str, BriefingError] = field(default_factory=dict)
    report_path: Path | None = None
    accepted: bool = False

    @property
    def exit_code(self) -> int:
        return max((e.exit_code for e in self.failures.values()), default=0)


def _sha(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _target(data: Path, vdir: Path, name: str) -> Path:
    """Where a staged file goes on accept: the vintage ledger beside the vintages, tables in data/."""
    return vdir / name if name == vintages.LEDGER else data / name


def _read_csv(path: Path) -> tuple[list[str], list[dict]]:
    if not path.is_file():
        return [], []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _csv_bytes(fields: list[str], rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _key(row: dict, key: tuple[str, ...]) -> str:
    return "|".join(fmt(row[k]) if not isinstance(row[k], str) else row[k] for k in key)


def _check_row(connector: Connector, schema: dict, row: dict, table_file: str) -> None:
    """A fetched value outside its column's constraints is refused, naming source, row and column."""
    for fld in schema["fields"]:
        name = fld["name"]
        if name not in row:
            continue
        value, rules = row[name], fld.get("constraints", {})
        where = f"{_key(row, connector.key)}, column '{name}'"
        if value is None:
            if rules.get("required"):
                raise connector.fail(f"row {where}: a value is required ({table_file})")
            continue
        if "minimum" in rules and value < rules["minimum"]:
            raise connector.fail(f"row {where}: {fmt(value)} is below the minimum {rules['minimum']} ({table_file})")
        if "maximum" in rules and value > rules["maximum"]:
            raise connector.fail(f"row {where}: {fmt(value)} is above the maximum {rules['maximum']} ({table_file})")


class _Table:
    """An accepted table as text rows, with the changes of the connectors that feed it."""

    def __init__(self, data: Path, name: str):
        self.name, self.res = name, catalogue.resource(name, data)
        self.path = data / self.res["path"]
        self.fields, self.rows = _read_csv(self.path)
        self.sup_path = catalogue.superseded_path(data, name)  # earlier values, for as-of editions
        _fields, self.superseded = _read_csv(self.sup_path)
        self.changed = False

    def merge(self, connector: Connector, vintage: vintages.Vintage, parsed) -> tuple[list[Change], int]:
        index = {_key(r, connector.key): i for i, r in enumerate(self.rows)}
        owned = [r for r in self.rows if connector.owns(r)]
        held = [int(r[connector.period]) for r in owned]
        newest = max(held) if held else None
        stamp = {"source_id": vintage.source_id, "public_date": vintage.public_date.isoformat(),
                 "public_source_id": ""}
        note = f"{connector.publisher} via briefing data update, vintage {vintage.vintage_id}"
        changes, seen, skipped, removed = [], set(), 0, set()
        for new in parsed.rows:
            _check_row(connector, self.res["schema"], new, f"data/{self.res['path']}")
            key = _key(new, connector.key)
            seen.add(key)
            if key in index:
                old = self.rows[index[key]]
                cols = [c for c in connector.values if differs(old.get(c, ""), new.get(c))]
                if not cols:
                    continue
                columns = [{"column": c, "old": old[c], "new": fmt(new[c]), **dict(zip(("change", "pct"),
                            size(old[c], new[c])))} for c in cols]
                self._supersede(old, vintage)
                self.rows[index[key]] = self._fit({**old, **{c: fmt(new[c]) for c in cols}, **stamp, "note": note})
                changes.append(Change("revised", self.name, key, connector.name, vintage.source_id, columns))
            elif newest is None or new[connector.period] > newest:
                row = {f: "" for f in self.fields} | {k: fmt(v) for k, v in new.items() if k in self.fields}
                row = self._fit(row | stamp | {"confidence": "High", "note": note})
                self.rows.append(row)
                index[key] = len(self.rows) - 1
                changes.append(Change("added", self.name, key, connector.name, vintage.source_id,
                                      [{"column": c, "old": "", "new": row[c]} for c in connector.values]))
            else:
                skipped += 1
        for row in owned:
            key = _key(row, connector.key)
            if int(row[connector.period]) in parsed.periods and key not in seen:
                self._supersede(row, vintage)
                removed.add(key)
                changes.append(Change("withdrawn", self.name, key, connector.name, vintage.source_id,
                                      [{"column": c, "old": row[c], "new": ""} for c in connector.values]))
        self.rows = [r for r in self.rows if _key(r, connector.key) not in removed]
        self.changed |= bool(changes)
        return changes, skipped

    def _fit(self, row: dict) -> dict:
        """Only the table's own columns (a table may have no note or confidence column)."""
        return {f: row.get(f, "") for f in self.fields}

    def _supersede(self, old: dict, vintage: vintages.Vintage) -> None:
        self.superseded.append({**old, "superseded_on": vintage.public_date.isoformat(),
                                "superseded_by": vintage.source_id})

    def files(self) -> dict[str, bytes]:
        if not self.changed:
            return {}
        return {self.path.name: _csv_bytes(self.fields, self.rows),
                self.sup_path.name: _csv_bytes(self.fields + EXTRA, self.superseded)}


def _source_rows(connector: Connector, vintage: vintages.Vintage) -> dict:
    return {"source_id": vintage.source_id, "publisher": connector.publisher,
            "title": f"[{connector.title}; vintage {vintage.vintage_id}]", "url": vintage.url,
            "published": vintage.public_date.isoformat(), "quote": "",
            "note": f"Fetched by briefing data update at {vintage.retrieved_at}; raw file "
                    f"data/vintages/{connector.name}/{vintage.vintage_id}.raw, sha256 {vintage.sha256}."}


def _validate(data: Path, files: dict[str, bytes], names: list[str]) -> None:
    """The staged tables, with the rest of data/, must pass the build's own data check."""
    with tempfile.TemporaryDirectory(prefix="briefing-stage-") as tmp:
        copy = Path(tmp) / "data"
        shutil.copytree(data, copy, ignore=shutil.ignore_patterns(vintages.VINTAGES))
        for name, body in files.items():
            (copy / name).write_bytes(body)
        try:
            claims.check_data(copy)
        except DataError as exc:
            raise PublisherFileError(f"{', '.join(names)}: the updated data would not pass the data check: "
                                     f"{exc}") from None


def _swap_in(folder: Path, new: Path) -> None:
    """Replace ``folder`` by ``new`` with renames only (the old one is deleted afterwards)."""
    old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
    if folder.exists():
        os.replace(folder, old)
    os.replace(new, folder)
    vintages.fsync_dir(folder.parent)
    shutil.rmtree(old, ignore_errors=True)


def _tidy(vdir: Path) -> None:
    """Leftovers of a killed update: half-made staging folders; a staged folder set aside but not replaced."""
    for leftover in vdir.glob(f".{STAGED}.old-*"):
        if not (vdir / STAGED).exists():
            os.replace(leftover, vdir / STAGED)
        else:
            shutil.rmtree(leftover, ignore_errors=True)
    for leftover in vdir.glob(f".{STAGED}.new-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for part in vdir.rglob(".*.part"):
        part.unlink(missing_ok=True)


def _locked(data: Path, wait: float, create: bool = True):
    vdir = vintages.vintages_dir(data)
    if not create and not vdir.is_dir():  # a dry run on a fresh checkout writes nothing at all
        return contextlib.nullcontext()
    vdir.mkdir(parents=True, exist_ok=True)
    return file_lock(vdir / LOCK, wait, "another `briefing data` command")


def update(data: Path, connectors: list[Connector], *, dry_run: bool = False, accept_now: bool = False,
           lock_wait: float = 60.0, reports_dir: Path | None = None) -> Outcome:
    """Fetch every connector; stage what changed (nothing is staged or kept with ``dry_run``)."""
    outcome = Outcome()

    def get(connector: Connector):
        try:
            url, params, headers = connector.request()
            response = fetch.get(connector.name, url, params, headers)
            parsed = connector.parse(response.body)
        except BriefingError as exc:
            log.error("%s", exc)
            return exc
        log.info("%s: fetched %d bytes, %d rows, from %s", connector.name, len(response.body),
                 len(parsed.rows), response.url)
        return connector, response, parsed

    # fetch and parse side by side, before taking the lock: publishers are slow, retries slower
    with ThreadPoolExecutor(max_workers=max(1, min(4, len(connectors)))) as pool:
        results = list(pool.map(get, connectors))
    fetched = [r for r in results if not isinstance(r, BriefingError)]
    outcome.failures = {c.name: r for c, r in zip(connectors, results) if isinstance(r, BriefingError)}
    if not fetched:  # every publisher failed: touch nothing at all
        return outcome
    with _locked(data, lock_wait, create=not dry_run):
        vdir = vintages.vintages_dir(data)
        if not dry_run:
            finish_accept(data)
            _tidy(vdir)
        tables: dict[str, _Table] = {}
        kept, skipped, sources, bodies = [], {}, [], {}
        for connector, response, parsed in fetched:
            table = tables.get(connector.table) or _Table(data, connector.table)
            before = (list(table.rows), list(table.superseded), table.changed)
            vintage = vintages.describe(connector.name, connector.table, response, parsed.release_date)
            try:
                changes, skipped[connector.name] = table.merge(connector, vintage, parsed)
            except PublisherFileError as exc:
                table.rows, table.superseded, table.changed = before
                outcome.failures[connector.name] = exc
                log.error("%s", exc)
                continue
            tables[connector.table] = table
            kept.append(vintage)
            bodies[vintage.vintage_id] = response.body
            outcome.changes += changes
            if changes:
                sources.append(_source_rows(connector, vintage))
        files: dict[str, bytes] = {}
        for table in tables.values():
            files |= table.files()
        if sources:
            src_path = data / catalogue.resource(catalogue.SOURCES, data)["path"]
            original = src_path.read_bytes()
            src_fields, _rows = _read_csv(src_path)
            tail = _csv_bytes(src_fields, sources).split(b"\n", 1)[1]
            files[src_path.name] = original + (b"" if original.endswith(b"\n") else b"\n") + tail
        if files:
            try:
                _validate(data, files, [v.connector for v in kept])
            except PublisherFileError as exc:
                for v in kept:
                    outcome.failures[v.connector] = exc
                log.error("%s", exc)
                return outcome
        created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
        cited = claims_citing(data, {c.row_ref for c in outcome.changes})
        figures = figures_reading((reports_dir or Path("reports")) / "latest" / "manifest.json", outcome.changes)
        text = report(kept, outcome.changes, {n: str(e) for n, e in outcome.failures.items()}, skipped, cited,
                      created, figures)
        if dry_run:
            print(text)
            return outcome
        if not kept:
            return outcome
        for vintage in kept:  # only files that passed every check are kept
            vintages.save(data, vintage, bodies[vintage.vintage_id])
        entries = vintages.ledger(data) + [
            {**asdict(v), "source_id": v.source_id, "public_date": v.public_date.isoformat(),
             "accepted_at": None, "changed_rows": sum(1 for c in outcome.changes if c.connector == v.connector)}
            for v in kept]
        files[vintages.LEDGER] = vintages.ledger_bytes(entries)
        targets = {name: _target(data, vdir, name) for name in files}
        plan = {"created": created, "vintages": [asdict(v) for v in kept],
                "moves": [name for name in _order(files)],
                "base": {name: _sha(path) for name, path in targets.items()},
                "changes": [asdict(c) for c in outcome.changes]}
        new = vdir / f".{STAGED}.new-{os.getpid()}"
        shutil.rmtree(new, ignore_errors=True)
        for name, body in files.items():
            vintages.write_atomic(new / "files" / name, body)
        vintages.write_atomic(new / "report.md", text.encode("utf-8"))
        vintages.write_atomic(new / "plan.json", json.dumps(plan, indent=2).encode())
        _swap_in(vdir / STAGED, new)
        outcome.staged, outcome.report_path = True, vdir / STAGED / "report.md"
    if accept_now:
        accept(data, lock_wait=lock_wait)
        outcome.accepted = True
    return outcome


def _order(files: dict) -> list[str]:
    """Sources first (a new source harms nothing), then earlier values, then tables, the ledger last."""
    def rank(name: str) -> int:
        if name == "sources.csv":
            return 0
        if name.endswith(".superseded.csv"):
            return 1
        return 3 if name == vintages.LEDGER else 2
    return sorted(files, key=rank)


def accept(data: Path, *, lock_wait: float = 60.0) -> dict | None:
    """Publish the staged update into data/; None if nothing is staged."""
    vdir = vintages.vintages_dir(data)
    with _locked(data, lock_wait):
        finish_accept(data)
        _tidy(vdir)
        staged = vdir / STAGED
        if not (staged / "plan.json").is_file():
            return None
        plan = json.loads((staged / "plan.json").read_text(encoding="utf-8"))
        for name, digest in plan["base"].items():
            target = _target(data, vdir, name)
            if _sha(target) != digest:
                raise UsageError(f"{target} changed since the update was staged; run `briefing data update` "
                                 "again and review the new report")
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
        ledger_file = staged / "files" / vintages.LEDGER
        entries = json.loads(ledger_file.read_text(encoding="utf-8"))["accepted"]
        for entry in entries:
            entry["accepted_at"] = entry["accepted_at"] or now
        vintages.write_atomic(ledger_file, vintages.ledger_bytes(entries))
        moves = [[str(staged / "files" / name), str(_target(data, vdir, name))]
                 for name in plan["moves"]]
        vintages.write_atomic(vdir / JOURNAL, json.dumps({"moves": moves, "plan": plan}).encode())
        finish_accept(data)
        return plan


def finish_accept(data: Path) -> bool:
    """Carry out (or finish, after a kill) the moves of an accept's journal; True if there was one."""
    vdir = vintages.vintages_dir(data)
    journal = vdir / JOURNAL
    if not journal.is_file():
        return False
    moves = json.loads(journal.read_text(encoding="utf-8"))["moves"]
    for src, dest in moves:
        if Path(src).exists():
            os.replace(src, dest)
            vintages.fsync_dir(Path(dest).parent)
    journal.unlink()
    vintages.fsync_dir(vdir)
    shutil.rmtree(vdir / STAGED, ignore_errors=True)
    return True


def verify(data: Path) -> list[str]:
    """Derive every accepted vintage's rows again from its raw file and compare them with the rows of
    data/ (and of the superseded files) that cite it: a list of what does not match (empty: all do)."""
    from .connectors import connectors

    known, problems = connectors(data), []
    for entry in vintages.ledger(data):
        connector = known.get(entry["connector"])
        if connector is None:
            problems.append(f"{entry['connector']}: no such connector")
            continue
        vintage, raw = vintages.load(data, entry["connector"], entry["vintage_id"])  # checks the SHA-256
        derived = {_key(r, connector.key): r for r in connector.parse(raw).rows}
        table = _Table(data, connector.table)
        for row in [*table.rows, *table.superseded]:
            if row.get("source_id") != vintage.source_id:
                continue
            key = _key(row, connector.key)
            new = derived.get(key)
            if new is None:
                problems.append(f"{connector.table}:{key} cites {vintage.source_id}, whose file has no such row")
                continue
            for column in connector.values:
                if differs(row.get(column, ""), new.get(column)):
                    problems.append(f"{connector.table}:{key} column {column} is {row.get(column)!r}, but "
                                    f"{vintage.source_id} gives {fmt(new.get(column))}")
    return problems
