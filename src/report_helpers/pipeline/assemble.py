"""Section fragments -> the reader's pages: one page per section, the whole briefing, the index."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from functools import lru_cache

import jinja2

from .. import fmt, project
from ..catalogue import Source
from ..paths import templates_dir
from ..theme import FONT_STACK, font_face_css
from .convert import headings

_CITED = re.compile(r'href="#source-(\d+)"')


@dataclass(frozen=True)
class SectionPage:
    slug: str
    title: str
    html: str
    failed: bool = False

    @property
    def anchor(self) -> str:
        return f"section-{self.slug}"

    @property
    def subheadings(self) -> list[tuple[str, str]]:
        return headings(self.html, 2)


@dataclass(frozen=True)
class Meta:
    as_of: dt.date
    edition: str
    built: dt.datetime
    changes: dict | None = None
    datapack: tuple[str, ...] = ()  # the tables of the edition's data pack (datapack.py)
    base_url: str = ""  # where the reports folder is served, if known
    edition_id: str = ""
    corrections: tuple = ()  # corrections made since the previous edition of its kind (corrections.py)

    @property
    def previous_as_of_text(self) -> str:
        previous = (self.changes or {}).get("previous") or {}
        return fmt.date(previous["as_of"]) if previous.get("as_of") else ""

    @property
    def as_of_text(self) -> str:
        return fmt.date(self.as_of)

    @property
    def built_text(self) -> str:
        return self.built.strftime("%Y-%m-%d %H:%M UTC")


def build_time() -> dt.datetime:
    """Now, or $SOURCE_DATE_EPOCH for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc)
    return dt.datetime.now(tz=dt.timezone.utc).replace(microsecond=0)


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )


@lru_cache(maxsize=1)
def _css(name: str) -> str:
    return (templates_dir() / name).read_text(encoding="utf-8")


def cited(pages: list[SectionPage], sources: dict[str, Source]) -> list[Source]:
    numbers = {int(n) for page in pages for n in _CITED.findall(page.html)}
    return sorted((s for s in sources.values() if s.number in numbers), key=lambda s: s.number)


def _render(template: str, **context) -> str:
    briefing = project.load()
    return _env().get_template(template).render(
        title=briefing.title, subtitle=briefing.subtitle, lang=briefing.language, font_faces=font_face_css(),
        font_stack=FONT_STACK, screen_css=_css("briefing.css"), **context)


def section_page(page: SectionPage, meta: Meta, sources: dict[str, Source]) -> str:
    return _render("section.html.j2", page=page, meta=meta, sources=cited([page], sources))


def briefing_page(pages: list[SectionPage], meta: Meta, sources: dict[str, Source], figures=()) -> str:
    from .metadata import json_ld

    return _render("briefing.html.j2", pages=pages, meta=meta, sources=cited(pages, sources),
                   figures=list(figures), json_ld=json_ld(meta))


def edition_info(build_params, base_url: str = ""):
    """What a figure's citation names (figures.Edition)."""
    from ..figures import Edition

    briefing = project.load()
    return Edition(briefing.title, briefing.subtitle, build_params.edition_id, build_params.edition,
                   build_params.as_of, base_url, briefing.author, briefing.slug)
