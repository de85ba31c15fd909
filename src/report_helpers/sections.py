"""Section notebooks, found by their names: ``notebooks/NN_slug.ipynb``.

NN orders the sections in the briefing; the slug is the section's id. A section that reads another
section's figures (``ctx.results_of("slug")``) runs after it. Dropping a new notebook into
``notebooks/`` under this convention adds a section; nothing else needs editing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from . import catalogue, periods, project
from .errors import NotebookError
from .params import ParamSpec, specs_from_cell
from .paths import PROJECT_FILE, notebooks_dir

NAME_PATTERN = re.compile(r"^(\d{2})_([a-z0-9_]+)\.ipynb$")
_READS = re.compile(r"results_of\(\s*[\"']([a-z0-9_]+)[\"']\s*\)")
_SETUP = re.compile(r"setup\(\s*[\"']([a-z0-9_]+)[\"']")


@dataclass(frozen=True)
class Section:
    order: int
    slug: str
    path: Path

    @cached_property
    def notebook(self) -> dict:
        try:
            nb = json.loads(self.path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise NotebookError(f"notebook {self.path.name} is not valid JSON "
                                f"(line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise NotebookError(f"notebook {self.path.name} has no list of cells")
        return nb

    def _source(self, cell: dict) -> str:
        src = cell.get("source", "")
        return "".join(src) if isinstance(src, list) else src

    @cached_property
    def title(self) -> str:
        for cell in self.notebook["cells"]:
            if cell.get("cell_type") == "markdown":
                for line in self._source(cell).splitlines():
                    if line.startswith("# "):
                        return line[2:].strip()
        raise NotebookError(f"notebook {self.path.name} has no '# Title' heading in a markdown cell")

    @cached_property
    def parameters(self) -> dict[str, ParamSpec]:
        for cell in self.notebook["cells"]:
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                return specs_from_cell(self._source(cell), section=self.slug)
        raise NotebookError(f"notebook {self.path.name} has no cell tagged 'parameters'")

    @cached_property
    def code(self) -> str:
        return "\n".join(self._source(c) for c in self.notebook["cells"] if c.get("cell_type") == "code")

    @cached_property
    def reads(self) -> tuple[str, ...]:
        """Sections whose recorded figures this one reads."""
        return tuple(dict.fromkeys(_READS.findall(self.code)))

    def check(self) -> None:
        """Everything the build needs from a notebook, checked before any kernel starts."""
        self.title, self.parameters  # noqa: B018 - raise NotebookError if absent
        earliest = catalogue.earliest_date()
        for number, cell in enumerate(self.notebook["cells"], start=1):
            tags = cell.get("metadata", {}).get("tags", [])
            try:
                first = periods.first_day(tags, earliest)
            except ValueError as exc:
                raise NotebookError(f"notebook {self.path.name}, cell {number}: {exc}") from None
            later = periods.later_years(self._source(cell), first) if cell.get("cell_type") == "markdown" else []
            if later:
                raise NotebookError(
                    f"notebook {self.path.name}, cell {number}: the text names {later[0]}, but editions as of "
                    f"{first} on show it. Tag the cell from:YYYY-MM-DD (the day all it says was public) and "
                    "write a variant tagged before: that day for earlier editions (README, notebooks)")
        declared = _SETUP.findall(self.code)
        if declared and declared[0] != self.slug:
            raise NotebookError(f"notebook {self.path.name} calls setup('{declared[0]}'); "
                                f"its file name makes it section '{self.slug}'")


def discover(folder: Path | None = None) -> list[Section]:
    """The section notebooks, in the order of the project file's [sections] order (by file name
    if it gives none). A notebook the order leaves out is refused, so no section goes missing."""
    folder = folder or notebooks_dir()
    found = []
    for path in sorted(folder.glob("*.ipynb")):
        match = NAME_PATTERN.match(path.name)
        if match:
            found.append(Section(int(match.group(1)), match.group(2), path))
    if not found:
        raise NotebookError(f"no section notebooks (NN_name.ipynb) in {folder}")
    slugs = [s.slug for s in found]
    for slug in set(slugs):
        if slugs.count(slug) > 1:
            raise NotebookError(f"two notebooks share the section name '{slug}'")
    order = _section_order(folder)
    if order:
        missing = [s.path.name for s in found if s.path.stem not in order]
        if missing:
            raise NotebookError(f"{folder.parent / PROJECT_FILE}: [sections] order does not list "
                                f"{', '.join(missing)}; add each where readers should see it")
        found.sort(key=lambda s: order.index(s.path.stem))
    return found


def _section_order(folder: Path) -> tuple[str, ...]:
    if (folder.parent / PROJECT_FILE).is_file():
        return project.load(folder.parent).section_order
    return ()


def find_section(slug: str, folder: Path | None = None) -> Section:
    for section in discover(folder):
        if section.slug == slug:
            return section
    raise NotebookError(f"no section notebook named NN_{slug}.ipynb")


def execution_waves(sections: list[Section]) -> list[list[Section]]:
    """Group sections so each runs after the sections it reads; refuse unknown reads and cycles."""
    by_slug = {s.slug: s for s in sections}
    for s in sections:
        for dep in s.reads:
            if dep not in by_slug:
                raise NotebookError(f"section '{s.slug}' reads results of '{dep}', which is not a section")
    done: set[str] = set()
    waves = []
    remaining = list(sections)
    while remaining:
        ready = [s for s in remaining if set(s.reads) <= done]
        if not ready:
            raise NotebookError("sections read each other's results in a cycle: "
                                + ", ".join(s.slug for s in remaining))
        waves.append(ready)
        done |= {s.slug for s in ready}
        remaining = [s for s in remaining if s not in ready]
    return waves
