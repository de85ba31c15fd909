"""The one object a section notebook works with: its validated parameters, its data, its results."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import catalogue, results
from .params import parse_date, parse_edition
from .results import Figure


@dataclass
class SectionContext:
    section: str
    as_of: dt.date
    edition: str
    figures: dict[str, Figure] = field(default_factory=dict)

    @property
    def params(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "edition": self.edition}

    @property
    def params_key(self) -> str:
        return hashlib.sha256(json.dumps(self.params, sort_keys=True).encode()).hexdigest()[:12]

    def results_path(self, section: str | None = None) -> Path:
        """Where a section's figures (this one's by default) are kept for these parameters."""
        return results.results_dir(self.params_key) / f"{section or self.section}.json"

    def load(self, table: str) -> pd.DataFrame:
        """A catalogue table, typed, with only the rows known by the as-of date."""
        return catalogue.load_table(table, as_of=self.as_of)

    def record(self, *figures: Figure | None) -> None:
        """Keep figures for other sections (key points) and write them at once; None is skipped."""
        for fig in figures:
            if fig is not None:
                self.figures[fig.name] = fig
        results.write(self.results_path(), self.section, self.params, self.figures)

    def results_of(self, section: str) -> dict[str, Figure]:
        """The figures another section recorded for the same parameters."""
        path = self.results_path(section)
        if not os.environ.get(results.RESULTS_ENV) and _stale(path, section):
            _run_section_for_results(section, self.params, path)
        if not path.is_file():
            raise FileNotFoundError(
                f"no results of section '{section}' for {self.params}; the build runs it first"
            )
        return results.read(path)


def _stale(path: Path, section: str) -> bool:
    from .sections import find_section
    from .paths import data_dir

    if not path.is_file():
        return True
    inputs = [find_section(section).path, *data_dir().glob("*")]
    newest = max(p.stat().st_mtime for p in inputs)
    return path.stat().st_mtime < newest


def _run_section_for_results(section: str, params: dict, results_path: Path) -> None:
    """Interactive use only: execute a section this one reads, so its results exist. One line says
    so; everything else that run prints (the other kernel's start-up warnings included) goes to
    a log beside the results, reports/.interactive/<key>/logs/<section>.log, not into this notebook."""
    import contextlib
    import sys
    import tempfile
    import warnings

    import papermill

    from .sections import find_section
    from .paths import project_dir

    target = find_section(section)
    try:
        shown = results_path.relative_to(project_dir())
    except ValueError:
        shown = results_path
    print(f"Running {target.path.name} for its results (missing or out of date): {shown}", flush=True)
    log_path = results_path.parent.parent / "logs" / f"{section}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)  # the kernel papermill starts inherits these
    try:
        with open(log_path, "a", encoding="utf-8") as log_file:
            os.dup2(log_file.fileno(), 1)
            os.dup2(log_file.fileno(), 2)
            with contextlib.redirect_stdout(log_file), contextlib.redirect_stderr(log_file), \
                    warnings.catch_warnings(), tempfile.TemporaryDirectory() as tmp:
                warnings.simplefilter("default")  # to the log, once each
                papermill.execute_notebook(str(target.path), str(Path(tmp) / target.path.name),
                                           parameters=params, progress_bar=False, log_output=False)
    finally:
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)


def setup(section: str, *, as_of: str = "today", edition: str = "full") -> SectionContext:
    """Validate the notebook's parameters and prepare a section: the chart theme, chart ids, and
    (in a build) a record of the data files the section reads, for the section cache."""
    from . import present
    from .theme import use_theme

    use_theme()
    present.begin_section(section)
    ctx = SectionContext(section=section, as_of=parse_date(as_of), edition=parse_edition(edition))
    results.set_as_of(ctx.as_of)  # figures record the as-of filter their rows went through
    if os.environ.get(results.RESULTS_ENV):
        catalogue.on_read(_ReadLog(ctx.results_path().with_suffix(".reads.json")))
    return ctx


class _ReadLog:
    """Keeps <results dir>/<section>.reads.json up to date with the data files a section has read."""

    def __init__(self, path: Path):
        self.path, self.files = path, set()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("[]", encoding="utf-8")

    def __call__(self, file: Path) -> None:
        name = Path(file).name
        if name not in self.files:
            self.files.add(name)
            self.path.write_text(json.dumps(sorted(self.files)), encoding="utf-8")
