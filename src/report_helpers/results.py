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


@dataclass(frozen=True)
class Figure:
    """One number the briefing states, with where it comes from."""

    name: str
    value: float
    unit: str
    label: str
    period: str
    sources: tuple[str, ...] = ()
    confidence: str = "High"
    extra: dict = field(default_factory=dict)

    def __str__(self) -> str:
        text = fmt.by_unit(self.value, self.unit)
        return text + (" (low confidence)" if self.confidence == "Low" else "")

    @classmethod
    def from_dict(cls, data: dict) -> "Figure":
        return cls(**{**data, "sources": tuple(data.get("sources", ()))})


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
