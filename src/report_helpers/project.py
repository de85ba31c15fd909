"""The project file, briefing.toml: what belongs to one briefing (its names, its sections' order,
its colours, where it is served and mailed from). The engine reads it and knows nothing else about
any briefing. `briefing new` writes one; README ("The project file") documents every key."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .errors import UsageError
from .paths import PROJECT_FILE, project_dir
from .theme import contrast

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# [table] -> {key: (type, required)}
_KEYS = {
    "briefing": {"name": (str, True), "title": (str, True), "subtitle": (str, False), "author": (str, True),
                 "language": (str, False), "keywords": (list, False), "slug": (str, False),
                 "article": (str, False)},
    "sections": {"order": (list, False)},
    "theme": {"series_colours": (dict, False), "emphasis": (list, False)},
    "publishing": {"base_url": (str, False), "feed_title": (str, False)},
    "delivery": {"distribution": (str, False)},
}


class ProjectError(UsageError):
    """briefing.toml is missing a key, has an unknown one, or a value of the wrong kind (exit 2)."""


@dataclass(frozen=True)
class Project:
    root: Path
    name: str  # short name: mail subjects and sender, the feed, attachment file names
    title: str  # the briefing's title on its cover, pages and index
    author: str  # the PDF's author and the feed's
    subtitle: str = ""
    language: str = "en"
    keywords: tuple[str, ...] = ()
    slug: str = ""  # file names and identifiers (feed ids, attachments); from the name if not given
    article: str = ""  # the piece the briefing examines, as readers should see it named
    section_order: tuple[str, ...] = ()  # notebook names (without .ipynb); empty: by file name
    series_colours: dict[str, str] = field(default_factory=dict)  # a series keeps its colour everywhere
    emphasis: tuple[str, ...] = ()  # series drawn solid in line charts, ahead of the others
    base_url: str | None = None  # where the reports folder is served (absolute links in the feed)
    feed_title: str | None = None
    distribution: str = "distribution.toml"  # the mailing lists' file, relative to the project

    @property
    def distribution_path(self) -> Path:
        return self.root / self.distribution


def _check(table: str, key: str, value, kind: type, where: str):
    if not isinstance(value, kind):
        raise ProjectError(f"{where}: [{table}] {key} must be a {kind.__name__}, got {type(value).__name__}")
    if kind is str and not value.strip():
        raise ProjectError(f"{where}: [{table}] {key} must not be empty")
    if kind is list and not all(isinstance(v, str) and v for v in value):
        raise ProjectError(f"{where}: [{table}] {key} must be a list of non-empty strings")
    return value


def parse(path: Path) -> Project:
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectError(f"{where}: no project file; `briefing new DIR` creates a project with one") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{where}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise ProjectError(f"{where}: unknown table(s) {', '.join(unknown)} (known: {', '.join(_KEYS)})")
    values: dict = {}
    for table, keys in _KEYS.items():
        given = data.get(table, {})
        if not isinstance(given, dict):
            raise ProjectError(f"{where}: {table} must be a table ([{table}])")
        extra = sorted(set(given) - set(keys))
        if extra:
            raise ProjectError(f"{where}: [{table}] has unknown key(s) {', '.join(extra)} "
                               f"(known: {', '.join(keys)})")
        for key, (kind, required) in keys.items():
            if key in given:
                values[(table, key)] = _check(table, key, given[key], kind, where)
            elif required:
                raise ProjectError(f"{where}: [{table}] {key} is required")
    colours = values.get(("theme", "series_colours"), {})
    for series, colour in colours.items():
        if not isinstance(colour, str) or not _COLOUR.match(colour):
            raise ProjectError(f"{where}: [theme] series_colours: {series!r} must be a colour like '#1b7837'")
        if contrast(colour) < 3:  # WCAG 2.1, 1.4.11: marks stand out from the white background
            raise ProjectError(f"{where}: [theme] series_colours: {series!r} = {colour} has a contrast of "
                               f"{contrast(colour):.2f}:1 on white; marks need at least 3:1")
    name = values[("briefing", "name")]
    slug = values.get(("briefing", "slug")) or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not _SLUG.match(slug):
        raise ProjectError(f"{where}: [briefing] slug {slug!r} may hold only a-z, 0-9 and '-'")
    base_url = values.get(("publishing", "base_url"))
    if base_url is not None:
        if not re.match(r"^https?://[^/\s\"<>]+\S*$", base_url):
            raise ProjectError(f"{where}: [publishing] base_url {base_url!r} is not an http or https address")
        base_url = base_url if base_url.endswith("/") else base_url + "/"
    return Project(
        root=path.parent, name=name, title=values[("briefing", "title")], author=values[("briefing", "author")],
        subtitle=values.get(("briefing", "subtitle"), ""), language=values.get(("briefing", "language"), "en"),
        keywords=tuple(values.get(("briefing", "keywords"), ())), slug=slug,
        article=values.get(("briefing", "article"), ""),
        section_order=tuple(values.get(("sections", "order"), ())), series_colours=dict(colours),
        emphasis=tuple(values.get(("theme", "emphasis"), ())), base_url=base_url,
        feed_title=values.get(("publishing", "feed_title")),
        distribution=values.get(("delivery", "distribution"), "distribution.toml"))


@lru_cache(maxsize=8)
def _cached(path: Path, _mtime_ns: int) -> Project:
    return parse(path)


def load(root: Path | None = None) -> Project:
    """The project file of `root` (default: the project this process works on); re-read when it
    changes, so a preview sees an edit at once."""
    path = (root or project_dir()) / PROJECT_FILE
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return parse(path)  # raises ProjectError naming the file
    return _cached(path, mtime)
