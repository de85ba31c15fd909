"""`briefing build --only SLUG[,SLUG...]`: some sections, plus those whose results they read.

A subset is an edition of its own: its id is the full edition's id plus ``.only-<slugs>`` (for
example ``2026-11-27_full.only-partners``), and it is published in a private reports folder,
REPORTS_DIR/.only/, with the section cache of REPORTS_DIR shared. So it never moves ``latest``, and
the index, the feed and ``briefing send`` (which read REPORTS_DIR only) never offer half a briefing.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..errors import UsageError
from ..params import BuildParams
from ..sections import Section

FOLDER = ".only"  # REPORTS_DIR/.only/: subset editions


def parse(text: str | None) -> tuple[str, ...]:
    """'a,b' -> ('a', 'b'); blanks dropped, duplicates once."""
    if text is None:
        return ()
    slugs = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if not slugs:
        raise UsageError("--only: give one or more section names, e.g. --only partners (a notebook NN_partners.ipynb)")
    return slugs


def reports_dir(reports: Path) -> Path:
    return reports / FOLDER


def select(sections: list[Section], only: tuple[str, ...]) -> list[Section]:
    """The asked sections and, transitively, those whose results they read, in the article's order."""
    by_slug = {s.slug: s for s in sections}
    unknown = [slug for slug in only if slug not in by_slug]
    if unknown:
        raise UsageError(f"--only: no section named {', '.join(repr(u) for u in unknown)}; "
                         f"the sections are: {', '.join(by_slug)}")
    wanted: set[str] = set()
    todo = list(only)
    while todo:
        slug = todo.pop()
        if slug not in wanted:
            wanted.add(slug)
            todo.extend(r for r in by_slug[slug].reads if r in by_slug)
    return [s for s in sections if s.slug in wanted]


@dataclasses.dataclass(frozen=True)
class SubsetParams(BuildParams):
    """The parameters of a subset edition: the same values, an edition id of its own."""

    only: tuple[str, ...] = ()

    @property
    def edition_id(self) -> str:
        return f"{super().edition_id}.only-{'.'.join(self.only)}"


def restrict(sections: list[Section], build_params: BuildParams,
             only: tuple[str, ...]) -> tuple[list[Section], BuildParams]:
    """The build's sections and parameters for --only (asked slugs kept in the article's order)."""
    chosen = select(sections, only)
    order = [s.slug for s in sections if s.slug in only]
    fields = {f.name: getattr(build_params, f.name) for f in dataclasses.fields(build_params)}
    return chosen, SubsetParams(**fields, only=tuple(order))
