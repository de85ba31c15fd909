"""Dated vintages: every file fetched, kept as received, with where and when it came from.

Layout, under data/vintages/ (the build reads none of it; only `briefing data` writes it)::

    <connector>/<vintage-id>.raw    the publisher's file, byte for byte
    <connector>/<vintage-id>.json   its metadata: url, sha256, retrieved_at, release_date, ...
    accepted.json                   every vintage accepted into data/, in order (the ledger)
    staged/                         the update waiting for review (report.md, plan.json, files/)
    .lock                           held by update and accept

A vintage id is the retrieval time and the start of the file's SHA-256 (``20261204t171800z-1a2b3c4d``);
the rows it brought into a table cite the source ``<connector>-<vintage-id>`` (appended to
sources.csv on accept), so every figure computed from them names its vintage.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import DataError

VINTAGES = "vintages"
LEDGER = "accepted.json"


def vintages_dir(data: Path) -> Path:
    return data / VINTAGES


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all: a temporary file, fsync, rename, fsync the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    with open(partial, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Vintage:
    connector: str
    vintage_id: str
    url: str
    sha256: str
    retrieved_at: str           # UTC, ISO 8601
    release_date: str | None    # the publisher's date of the release, when the file gives one
    content_type: str
    table: str

    @property
    def source_id(self) -> str:
        return f"{self.connector}-{self.vintage_id}"

    @property
    def public_date(self) -> dt.date:
        """The day its figures became public: the release date if given, else the day it was fetched."""
        return dt.date.fromisoformat(self.release_date or self.retrieved_at[:10])


def vintage_id(retrieved_at: dt.datetime, sha256: str) -> str:
    return f"{retrieved_at:%Y%m%dt%H%M%S}z-{sha256[:8]}"


def describe(connector: str, table: str, response, release_date: dt.date | None) -> Vintage:
    """The vintage a fetched file makes (nothing is written)."""
    sha = hashlib.sha256(response.body).hexdigest()
    return Vintage(connector=connector, vintage_id=vintage_id(response.retrieved_at, sha), url=response.url,
                   sha256=sha, retrieved_at=response.retrieved_at.isoformat(),
                   release_date=release_date.isoformat() if release_date else None,
                   content_type=response.content_type, table=table)


def save(data: Path, vintage: Vintage, body: bytes) -> None:
    """Keep a fetched file as a vintage: the raw file first, then its metadata (which marks it whole)."""
    folder = vintages_dir(data) / vintage.connector
    write_atomic(folder / f"{vintage.vintage_id}.raw", body)
    write_atomic(folder / f"{vintage.vintage_id}.json", json.dumps(asdict(vintage), indent=2).encode())


def load(data: Path, connector: str, vid: str) -> tuple[Vintage, bytes]:
    """A kept vintage and its raw file, checked against its SHA-256."""
    folder = vintages_dir(data) / connector
    meta_path = folder / f"{vid}.json"
    try:
        vintage = Vintage(**json.loads(meta_path.read_text(encoding="utf-8")))
        raw = (folder / f"{vid}.raw").read_bytes()
    except (OSError, ValueError, TypeError) as exc:
        raise DataError(f"vintage {connector}/{vid} cannot be read ({exc})", file=str(meta_path)) from None
    if hashlib.sha256(raw).hexdigest() != vintage.sha256:
        raise DataError(f"vintage {connector}/{vid}: the raw file does not match its SHA-256",
                        file=str(folder / f"{vid}.raw"))
    return vintage, raw


def ledger(data: Path) -> list[dict]:
    """Accepted vintages, oldest first: connector, vintage_id, source_id, public_date, accepted_at, ..."""
    path = vintages_dir(data) / LEDGER
    if not path.is_file():
        return []
    try:
        return json.loads(path.read_text(encoding="utf-8"))["accepted"]
    except (ValueError, KeyError) as exc:
        raise DataError(f"the vintage ledger cannot be read ({exc})", file=str(path)) from None


def ledger_bytes(entries: list[dict]) -> bytes:
    return (json.dumps({"accepted": entries}, indent=2) + "\n").encode()


def known_on(data: Path, as_of: dt.date | None) -> dict[str, dict]:
    """For each connector, the newest accepted vintage that was public by ``as_of`` (all: the newest)."""
    known: dict[str, dict] = {}
    for entry in ledger(data):
        if as_of is None or dt.date.fromisoformat(entry["public_date"]) <= as_of:
            known[entry["connector"]] = entry
    return known


def for_manifest(data: Path, as_of: dt.date | None) -> dict[str, dict]:
    """What an edition's manifest records of the vintages its data came from."""
    keep = ("vintage_id", "source_id", "table", "url", "sha256", "retrieved_at", "release_date", "public_date")
    return {name: {k: entry.get(k) for k in keep} for name, entry in known_on(data, as_of).items()}


def vintage_record(as_of: dt.date | None) -> dict:
    """The manifest's ``vintages``: for each connector, the vintage an edition as of this date used."""
    from ..paths import data_dir

    try:
        return for_manifest(data_dir(), as_of)
    except (OSError, ValueError, DataError):
        return {}
