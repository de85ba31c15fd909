"""The claims register (data/claims.csv): the article's claims, their verdicts and evidence.

Evidence is written as ``table:key`` (the table's primary-key values joined by ``|``) or
``sources:<source_id>``, separated by ``;``. A fact whose evidence was not yet known on the as-of date
is shown as not verifiable as of that date: the register never reaches forward in time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from . import catalogue
from .errors import DataError

NOT_VERIFIABLE = "not verifiable from our data"
NOTE_WITHHELD = "(Left out: the note draws on evidence published after the as-of date.)"


@dataclass(frozen=True)
class Evidence:
    table: str
    key: str

    @property
    def text(self) -> str:
        return f"{self.table}:{self.key}"


def parse_evidence(cell: str | None) -> list[Evidence]:
    refs = []
    for part in ("" if pd.isna(cell) else str(cell)).split(";"):
        part = part.strip()
        if not part:
            continue
        table, sep, key = part.partition(":")
        if not sep or not key:
            raise DataError(f"evidence {part!r} is not table:key", file="data/claims.csv", column="evidence")
        refs.append(Evidence(table, key))
    return refs


def _keyed(table: str, as_of: dt.date | None) -> dict[str, pd.Series]:
    res = catalogue.resource(table)
    frame = catalogue.load_table(table, as_of=as_of)
    key_fields = res["schema"]["primaryKey"]
    keys = frame[key_fields].astype(str).agg("|".join, axis=1)
    return {k: row for k, (_, row) in zip(keys, frame.iterrows())}


def resolve(refs: list[Evidence], as_of: dt.date | None = None,
            tables: dict[str, dict] | None = None) -> dict[str, pd.Series | None]:
    """Each reference's row as known on the as-of date (None if not yet known or absent);
    ``tables`` carries loaded tables from one call to the next."""
    tables = {} if tables is None else tables
    out = {}
    for ref in refs:
        if ref.table not in tables:
            tables[ref.table] = _keyed(ref.table, as_of)
        out[ref.text] = tables[ref.table].get(ref.key)
    return out


def sources_of(row_by_ref: dict[str, pd.Series | None]) -> list[str]:
    ids = []
    for text, row in row_by_ref.items():
        if row is None:
            continue
        ids.append(row["source_id"] if "source_id" in row else text.partition(":")[2])
    return list(dict.fromkeys(ids))


def register(as_of: dt.date | None = None, section: str | None = None) -> pd.DataFrame:
    """The register as of a date: each claim with the verdict the data known then support."""
    claims = catalogue.load_table("claims")
    if section:
        claims = claims[claims["section"] == section]
    shown_verdicts, shown_notes, source_lists = [], [], []
    tables: dict[str, dict] = {}
    for claim in claims.itertuples():
        rows = resolve(parse_evidence(claim.evidence), as_of, tables)
        missing = [ref for ref, row in rows.items() if row is None]
        verdict = claim.verdict if claim.kind == "fact" else pd.NA
        if claim.kind == "fact" and missing and verdict != NOT_VERIFIABLE:
            verdict = f"{NOT_VERIFIABLE} as of {as_of.isoformat()}" if as_of else NOT_VERIFIABLE
        shown_verdicts.append(verdict)
        # The note was written with all the evidence in hand: it would leak later facts.
        shown_notes.append(NOTE_WITHHELD if missing and as_of else claim.note)
        source_lists.append(sources_of(rows))
    out = claims.copy()
    out["shown_verdict"] = shown_verdicts
    out["shown_note"] = shown_notes
    out["source_ids"] = source_lists
    # claim ids number the claims in the article's order
    return out.sort_values("claim_id", key=lambda ids: ids.str[1:].astype(int)).reset_index(drop=True)
