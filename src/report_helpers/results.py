"""Figures a section computes and another section reads (key points reads the rest).

A section records a figure with ``ctx.record(Figure(...))``; the figures of each section are
written to ``<results dir>/<section>.json``. The build points every kernel at one results folder
per edition ($BRIEFING_RESULTS_DIR) and runs a section after the sections it reads. Run by hand in
JupyterLab, a section whose results are missing or older than its inputs is executed first.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import fmt

RESULTS_ENV = "BRIEFING_RESULTS_DIR"


_as_of: str | None = None  # the as-of date of the section being computed (set by rh.setup)


def set_as_of(day) -> None:
    """Figures made from now on record that their rows were filtered to this as-of date."""
    global _as_of
    _as_of = day.isoformat() if day is not None else None


@dataclass(frozen=True)
class Figure:
    """One number the briefing states, with where it comes from.

    ``provenance`` says how the value was computed, as an expression a reader (or a test) can
    evaluate again: a ``method`` (value, share, ratio, days_between, count) over terms that each name
    a row (``row``: table:key), the column read, the value found and the row's source, plus the
    as-of date the rows were filtered to. See ``evaluate``."""

    name: str
    value: float
    unit: str
    label: str
    period: str
    sources: tuple[str, ...] = ()
    confidence: str = "High"
    extra: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    digits: int | None = None  # decimal places printed (percentages); None: the unit's default

    def __post_init__(self):
        if self.provenance and "as_of" not in self.provenance:
            object.__setattr__(self, "provenance", {**self.provenance, "as_of": _as_of})

    def __str__(self) -> str:
        return self.text + (" (low confidence)" if self.confidence == "Low" else "")

    @property
    def text(self) -> str:
        """The value as printed: rounded once, from the unrounded value."""
        return fmt.by_unit(self.value, self.unit, self.digits)

    @property
    def titled(self) -> str:
        return titled(self.label, self.period)

    @classmethod
    def from_dict(cls, data: dict) -> "Figure":
        return cls(**{**data, "sources": tuple(data.get("sources", ()))})


def titled(label: str, period: str) -> str:
    """A figure's label with its period: "Russia's share of trade (2024)"; a label naming its period
    already ("..., 2021") is not given it twice."""
    if period in label:
        return label
    return f"{label}, {period}" if "(" in period else f"{label} ({period})"


def results_dir(params_key: str) -> Path:
    if os.environ.get(RESULTS_ENV):
        return Path(os.environ[RESULTS_ENV])
    from .paths import project_dir

    return project_dir() / "reports" / ".interactive" / params_key / "results"


def write(path: Path, section: str, params: dict, figures: dict[str, Figure]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"section": section, "params": params,
               "figures": {name: asdict(fig) for name, fig in figures.items()}}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def read(path: Path) -> dict[str, Figure]:
    payload = json.loads(path.read_text(encoding="utf-8"))
    return {name: Figure.from_dict(data) for name, data in payload["figures"].items()}


def terms(provenance: dict) -> list[dict]:
    """Every row term a provenance reads, depth first."""
    found = []
    for key in ("input", "start", "end"):
        if key in provenance:
            found.append(provenance[key])
    for key in ("numerator", "denominator", "rows"):
        for item in provenance.get(key, ()):
            found.append(item)
    for inner in provenance.get("of", ()):
        found.extend(terms(inner))
    return found


def evaluate(provenance: dict, read=None) -> float:
    """The unrounded value a provenance describes. ``read(term)`` gives a term's value (default: the value
    recorded in the term; a test passes one that reads the row again)."""
    import datetime as dt

    read = read or (lambda term: term["value"])

    def total(items):
        return sum(float(read(t)) * t.get("scale", 1) for t in items)

    method = provenance["method"]
    if method == "value":
        return float(read(provenance["input"])) * provenance["input"].get("scale", 1)
    if method == "share":
        return 100 * total(provenance["numerator"]) / total(provenance["denominator"])
    if method == "ratio":
        later, earlier = provenance["of"]
        return evaluate(later, read) / evaluate(earlier, read)
    if method == "days_between":
        start, end = (dt.date.fromisoformat(str(read(provenance[k]))) for k in ("start", "end"))
        return float((end - start).days)
    if method == "count":
        return float(len(provenance["rows"]))
    raise ValueError(f"unknown provenance method {method!r}")
