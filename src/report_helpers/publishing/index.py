"""reports/index.html: every published edition, grouped by kind, newest as-of date first, with
its status, build time, links, and which one each `latest*` pointer names."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .. import project
from . import store

EDITION_LABELS = {"full": "Full edition", "brief": "Brief edition"}


def _kind_label(entry: dict) -> str:
    params = {k: v for k, v in entry.get("parameters", {}).items() if k not in ("as_of", "edition")}
    label = EDITION_LABELS.get(entry.get("parameters", {}).get("edition"), entry["kind"])
    if params:
        label += ", with " + ", ".join(f"{k} = {v!r}" for k, v in sorted(params.items()))
    return label


def _built_text(value: str | None) -> str:
    try:
        return dt.datetime.fromisoformat(value).astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        return value or "unknown"


def _status_text(entry: dict) -> str:
    if entry.get("status") == "ok":
        return "complete"
    failed = [s.get("slug", "?") for s in entry.get("sections", []) if s.get("status") != "ok"]
    return f"{entry.get('status', 'unknown')}: {', '.join(failed)} failed" if failed else str(entry.get("status"))


def editions(reports_dir: Path) -> list[dict]:
    """Published editions (see store.listing), each with what the index shows of it."""
    found = store.listing(reports_dir)
    kinds = sorted({e["kind"] for e in found}, key=lambda k: (k != store.DEFAULT_KIND, k != "brief", k))
    for entry in found:
        entry["group_key"] = f"{kinds.index(entry['kind']):03d}"
        entry["group_label"] = _kind_label(entry)
        entry["built_text"] = _built_text(entry.get("built"))
        entry["status_text"] = _status_text(entry)
        entry["datapack"] = (reports_dir / entry["folder"] / "datapack.zip").is_file()
    return found


def render_index(found: list[dict]) -> str:
    import jinja2

    from ..paths import templates_dir
    from ..theme import FONT_STACK, font_face_css

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)
    briefing = project.load()
    return env.get_template("index.html.j2").render(
        title=briefing.title, lang=briefing.language, font_faces=font_face_css(), font_stack=FONT_STACK,
        screen_css=(templates_dir() / "briefing.css").read_text(encoding="utf-8"), editions=found,
        corrections=_corrections(), published={e["folder"] for e in found})


def _corrections() -> list:
    """The corrections log, for the index. A build checks it before it starts; a log broken since
    (the index is also rewritten by prune) is left out with a warning rather than stopping that."""
    import logging

    from ..corrections import load
    from ..errors import DataError

    try:
        return load()
    except DataError as exc:
        logging.getLogger("briefing").warning("index: corrections left out: %s", exc)
        return []


def write_index(reports_dir: Path) -> Path:
    target = reports_dir / "index.html"
    store.write_atomically(target, render_index(editions(reports_dir)), step="index")
    from .feed import write_feed  # reports/feed.xml: the Atom feed of editions, rewritten with the index
    write_feed(reports_dir)
    return target
