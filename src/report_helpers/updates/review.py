"""Comparing a connector's rows with the accepted table, and the report an analyst reads before accepting.

Rules, per connector: a fetched row whose key is in the table and whose value columns differ is a
revision; a row of a period after the newest one the connector already holds is added (older keys the
briefing never used are left out, and counted); a row the connector owns whose period the file covers
but whose key is no longer in it is withdrawn. A period the file does not cover changes nothing.
"""

from __future__ import annotations

import csv
import json
import math
from decimal import Decimal, InvalidOperation
from dataclasses import dataclass, field
from pathlib import Path

from .. import catalogue, claims


@dataclass
class Change:
    kind: str                   # added, revised, withdrawn
    table: str
    key: str                    # the primary key as row_ref writes it: 2022|gdp_usd
    connector: str
    source_id: str              # the vintage's source id
    columns: list[dict] = field(default_factory=list)  # {column, old, new, change, pct}

    @property
    def row_ref(self) -> str:
        return f"{self.table}:{self.key}"


def fmt(value) -> str:
    """A typed value as the CSV tables write it (shortest exact form, no float noise)."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def differs(old: str, new) -> bool:
    old = (old or "").strip()
    if new is None:
        return old != ""
    if old == "":
        return True
    if isinstance(new, str):
        return old != new
    try:
        return not math.isclose(float(old), float(new), rel_tol=1e-12, abs_tol=1e-12)
    except ValueError:
        return True


def size(old: str, new) -> tuple[str, str]:
    """(change, percent change) of a revision, as text; blank where not numeric."""
    try:  # decimal arithmetic on the written forms: no binary float noise in the difference
        before, after = Decimal(str(old).strip()), Decimal(fmt(new))
    except (InvalidOperation, TypeError, ValueError):
        return "", ""
    change = format((after - before).normalize(), "f")
    pct = f"{(after - before) / before * 100:+.2f}%" if before else ""
    return (change if change.startswith("-") else f"+{change}"), pct


def claims_citing(data: Path, row_refs: set[str]) -> dict[str, list[str]]:
    """row_ref -> the claim assessments (``c04 as of 2025-02-25``) whose evidence cites it."""
    found: dict[str, list[str]] = {}
    if not row_refs or not catalogue.has_table(claims.ASSESSMENTS, data):
        return found
    with (data / catalogue.resource(claims.ASSESSMENTS, data)["path"]).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            for ref in claims.parse_evidence(row.get("evidence")):
                if ref.text in row_refs:
                    found.setdefault(ref.text, []).append(f"{row['claim_id']} as of {row['assessed_from']}")
    return found


def figures_reading(manifest: Path, changes: list[Change]) -> list[str]:
    """The published edition's figures that read a changed row, each with the value it would take
    after the update (computed again from its recorded provenance), or saying that a row it reads is
    withdrawn. Empty when there is no published edition."""
    from .. import fmt as formats
    from ..results import evaluate, terms

    try:
        figures = json.loads(manifest.read_text(encoding="utf-8")).get("figures") or {}
    except (OSError, ValueError):
        return []
    new = {(c.row_ref, col["column"]): col["new"] for c in changes if c.kind == "revised" for col in c.columns}
    gone = {c.row_ref for c in changes if c.kind == "withdrawn"}
    lines = []
    for name, figure in sorted(figures.items()):
        provenance = figure.get("provenance") or {}
        read = [(t.get("row"), t.get("column")) for t in terms(provenance)] if provenance else []
        label = f"{name} ({figure.get('label', '')}, {figure.get('period', '')})"
        if any(row in gone for row, _ in read):
            lines.append(f"key figure {label} reads a withdrawn row")
        elif any(key in new for key in read):
            try:
                after = evaluate(provenance, lambda t: float(new.get((t["row"], t["column"]), t["value"])))
            except (KeyError, TypeError, ValueError, ZeroDivisionError):
                lines.append(f"key figure {label} reads a revised row")
                continue
            before, unit, digits = figure["value"], figure.get("unit", ""), figure.get("digits")
            old_text, new_text = formats.by_unit(before, unit, digits), formats.by_unit(after, unit, digits)
            verb = "would change" if old_text != new_text else "moves, but prints the same,"
            lines.append(f"key figure {label} {verb} from {old_text} to {new_text}")
    return lines


def _md(text: str) -> str:
    return str(text).replace("|", "\\|")


def report(vintages: list, changes: list[Change], failures: dict[str, str], skipped: dict[str, int],
           cited: dict[str, list[str]], created: str, figures: list[str] = ()) -> str:
    """The review report, in Markdown: what needs attention first, then each source's changes."""
    lines = [f"# Data update staged {created}", ""]
    attention = [c for c in changes if c.kind != "added" and c.row_ref in cited]
    if failures or attention or figures:
        lines += ["## Needs attention", ""]
        for name, error in failures.items():
            lines.append(f"- **{name} failed**: {_md(error)}. Its accepted data stay as they are.")
        for c in attention:
            lines.append(f"- **{c.kind} {c.row_ref}** is evidence for claim {', '.join(cited[c.row_ref])}: check "
                         "the verdict and the key points that use it before accepting.")
        lines += [f"- **{_md(line)}** (in the latest published edition)" for line in figures]
        lines.append("")
    counts = {k: sum(1 for c in changes if c.kind == k) for k in ("added", "revised", "withdrawn")}
    lines += [f"Summary: {counts['added']} row(s) added, {counts['revised']} revised, "
              f"{counts['withdrawn']} withdrawn, from {len(vintages)} source(s).", ""]
    if not changes:
        lines += ["Nothing changed in the published data. Accepting records the vintages as checked "
                  "(the 'data as of' date of each source).", ""]
    for vintage in vintages:
        mine = [c for c in changes if c.connector == vintage.connector]
        lines += [f"## {vintage.connector} -> {vintage.table}", "",
                  f"- vintage `{vintage.vintage_id}` (rows cite source `{vintage.source_id}`)",
                  f"- fetched {vintage.retrieved_at} from {vintage.url}",
                  f"- release date: {vintage.release_date or 'not given (the retrieval date is used)'}",
                  f"- sha256 {vintage.sha256}",
                  f"- raw file: data/vintages/{vintage.connector}/{vintage.vintage_id}.raw", ""]
        if skipped.get(vintage.connector):
            lines += [f"{skipped[vintage.connector]} row(s) of periods before the newest one held, for keys "
                      "the briefing does not use, were left out.", ""]
        if not mine:
            lines += ["No change.", ""]
            continue
        revised = [c for c in mine if c.kind == "revised"]
        if revised:
            lines += ["### Revised", "", "| row | column | old | new | change | % |", "|---|---|---|---|---|---|"]
            for c in revised:
                for col in c.columns:
                    lines.append(f"| {_md(c.key)} | {col['column']} | {col['old']} | {col['new']} | {col['change']} "
                                 f"| {col['pct']} |")
            lines.append("")
        for kind in ("added", "withdrawn"):
            rows = [c for c in mine if c.kind == kind]
            if rows:
                lines += [f"### {kind.capitalize()}", ""]
                for c in rows:
                    values = ", ".join(f"{col['column']} {col['new'] if kind == 'added' else col['old']}"
                                       for col in c.columns)
                    lines.append(f"- {_md(c.key)}: {values}")
                lines.append("")
    lines += ["Accept with `briefing data accept`; discard by running `briefing data update` again or "
              "deleting data/vintages/staged/.", ""]
    return "\n".join(lines)
