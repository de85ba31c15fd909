"""The claims register: the article's claims (data/claims.csv) and what our data made of each, dated
(data/claim_assessments.csv: verdict, evidence, note, and the day from which they stand).

Evidence is written as ``table:key`` (the table's primary-key values joined by ``|``) or
``sources:<source_id>``, separated by ``;``. An edition as of a date shows each claim's latest
assessment from on or before it; a fact with none is not verifiable as of that date. An assessment
may not predate its evidence (``check``), so the register never reaches forward in time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import catalogue
from .periods import later_years
from .errors import DataError

NOT_VERIFIABLE = "not verifiable from our data"
NOT_YET = "No assessment: none of the evidence in our data was public by the as-of date."
ASSESSMENTS = "claim_assessments"


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


def _keys(frame: pd.DataFrame, res: dict) -> pd.Series:
    """Each row's key as evidence names it: its primary-key values joined by '|'."""
    return frame[res["schema"]["primaryKey"]].astype(str).agg("|".join, axis=1)


def _keyed(table: str, as_of: dt.date | None) -> dict[str, pd.Series]:
    frame = catalogue.load_table(table, as_of=as_of)
    return {k: row for k, (_, row) in zip(_keys(frame, catalogue.resource(table)), frame.iterrows())}


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


def assessments() -> pd.DataFrame:
    """Every dated assessment of every claim (data/claim_assessments.csv), oldest first per claim."""
    return catalogue.load_table(ASSESSMENTS).sort_values(["claim_id", "assessed_from"]).reset_index(drop=True)


def public_days(refs: list[Evidence], tables: dict | None = None,
                root: Path | None = None) -> dict[str, dt.date | None]:
    """The day each evidence row became public (None: no such row)."""
    tables = {} if tables is None else tables
    out = {}
    for ref in refs:
        if ref.table not in tables:
            if ref.table == "sources":
                tables[ref.table] = {sid: catalogue.published_by(s.published)
                                     for sid, s in catalogue.sources(root).items()}
            else:
                res = catalogue.resource(ref.table, root)
                frame = catalogue.load_table(ref.table, root=root)
                tables[ref.table] = dict(zip(_keys(frame, res), catalogue.public_dates(frame, res)))
                tables[ref.table] = catalogue.first_public(ref.table, res, root, tables[ref.table])
        out[ref.text] = tables[ref.table].get(ref.key)
    return out


def register(as_of: dt.date | None = None, section: str | None = None) -> pd.DataFrame:
    """The register as of a date: each claim with its latest assessment from on or before that date.

    An assessment is dated no earlier than all its evidence became public (``check``), so an edition
    shows no evidence row, note or verdict that was not public on its as-of date; and an earlier
    assessment, resting on earlier evidence, still stands when a later one is not yet due."""
    claims = catalogue.load_table("claims")
    if section:
        claims = claims[claims["section"] == section]
    known = catalogue.load_table(ASSESSMENTS, as_of=as_of)
    latest = known.sort_values("assessed_from").groupby("claim_id").tail(1).set_index("claim_id")
    out = claims.join(latest[["assessed_from", "verdict", "evidence_strength", "evidence", "note"]],
                      on="claim_id")
    shown_verdicts, shown_notes, source_lists = [], [], []
    tables: dict[str, dict] = {}
    for claim in out.itertuples():
        assessed = pd.notna(claim.assessed_from)
        if claim.kind != "fact":
            verdict = pd.NA
        elif assessed:
            verdict = claim.verdict
        else:
            verdict = f"{NOT_VERIFIABLE} as of {as_of.isoformat()}" if as_of else NOT_VERIFIABLE
        shown_verdicts.append(verdict)
        shown_notes.append(claim.note if assessed and isinstance(claim.note, str) else
                           (NOT_YET if as_of else ""))
        rows = resolve(parse_evidence(claim.evidence), as_of, tables) if assessed else {}
        source_lists.append(sources_of(rows))
    out["shown_verdict"] = shown_verdicts
    out["shown_note"] = shown_notes
    out["source_ids"] = source_lists
    # claim ids number the claims in the article's order
    return out.sort_values("claim_id", key=lambda ids: ids.str[1:].astype(int)).reset_index(drop=True)


STRENGTH = {"supported": "full", "contradicted": "full", "partly supported": "partial", NOT_VERIFIABLE: "none"}
def check_data(root: Path | None = None) -> None:
    """The build's data check: every table against the catalogue, then the claims register if the
    briefing keeps one (DataError: file, row, column)."""
    catalogue.validate_package(root)
    if catalogue.has_table("claims", root):
        check(root)


def check(root: Path | None = None) -> None:
    """Each assessment names a claim, fits its kind, rests on evidence rows that exist and were public by
    its date, and names no year after it (DataError: file, row, column)."""
    kinds = dict(zip(*(catalogue.load_table("claims", root=root)[c] for c in ("claim_id", "kind"))))
    file = f"data/{catalogue.resource(ASSESSMENTS, root)['path']}"
    tables: dict = {}
    for number, row in enumerate(catalogue.load_table(ASSESSMENTS, root=root).to_dict("records"), start=2):
        def fail(message, column):
            raise DataError(f"{row['claim_id']} ({row['assessed_from']}): {message}", file=file, row=number,
                            column=column)
        kind = kinds.get(row["claim_id"])
        if kind is None:
            fail("no such claim in data/claims.csv", "claim_id")
        verdict, strength = (row[c] if isinstance(row[c], str) else None for c in ("verdict", "evidence_strength"))
        if kind == "fact" and (verdict is None or STRENGTH[verdict] != strength):
            fail(f"a fact needs a verdict and the evidence strength it implies "
                 f"({verdict!r} needs {STRENGTH.get(verdict)!r}, found {strength!r})", "evidence_strength")
        if kind == "judgement" and (verdict or strength):
            fail("a judgement carries no verdict and no evidence strength", "verdict")
        for ref, day in public_days(parse_evidence(row["evidence"]), tables, root).items():
            if day is None:
                fail(f"evidence {ref} names no row", "evidence")
            if day > row["assessed_from"]:
                fail(f"evidence {ref} became public on {day}, after the assessment's date", "assessed_from")
        later = later_years(row["note"] if isinstance(row["note"], str) else "", row["assessed_from"])
        if later:
            fail(f"the note names {later[0]}, a year after the assessment's date (a later fact?)", "note")

