"""reports/feed.xml: an Atom feed with one entry per complete edition, rewritten on every publish.

Entry ids are stable (a UUID derived from the edition id), so a feed reader sees a rebuilt edition as
an update of the same entry. Links are relative to the feed (it sits beside the editions), or
absolute under `[publishing] base_url` of the project file (briefing.toml) when that is set.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

from jinja2 import Environment

from .. import project
from .edition import PublishedEdition, read

log = logging.getLogger("briefing")
FEED = "feed.xml"
ATOM = "http://www.w3.org/2005/Atom"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

_SUMMARY = Environment(autoescape=True, trim_blocks=True).from_string("""\
<p>As of {{ e.as_of_text }} ({{ e.kind }} edition).</p>
<p><strong>Key points</strong></p>
{% if e.key_points %}<ol>{% for p in e.key_points %}<li>{% if p.label %}<strong>{{ p.label }}.</strong> {% endif %}\
{{ p.text }}</li>{% endfor %}</ol>{% else %}<p>See the briefing.</p>{% endif %}
<p><strong>{{ e.changes_heading }}</strong></p>
<ul>{% for item in e.change_items %}<li>{{ item }}</li>{% endfor %}</ul>""")


def feed_id() -> str:
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:{project.load().slug}:feed"))


def entry_id(edition_id: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:{project.load().slug}:edition:{edition_id}"))


def complete_editions(reports_dir: Path) -> list[tuple[str, PublishedEdition]]:
    """(folder, edition) for each complete edition, newest as-of date first, one per edition id.
    `folder` is relative to the reports folder: the edition's own name where it has one."""
    root = reports_dir.resolve()
    folders = [p for p in sorted(reports_dir.iterdir()) if not p.name.startswith((".", "latest"))]
    # a latest* pointer may name a complete build whose edition name was since republished partial
    folders += [reports_dir / p.resolve().relative_to(root) for p in sorted(reports_dir.glob("latest*"))
                if p.is_dir() and p.resolve().is_relative_to(root)]
    found: dict[str, tuple[str, PublishedEdition]] = {}
    for folder in folders:
        edition = read(folder) if folder.is_dir() else None
        if edition is None or edition.manifest.get("status") != "ok" or not edition.pdf.is_file():
            continue
        name = folder.relative_to(reports_dir).as_posix()
        held = found.get(edition.edition_id)
        # the folder named after the edition id is its stable name; else the newest build is kept
        if held is None or (held[0] != edition.edition_id and (
                name == edition.edition_id or edition.built > held[1].built)):
            found[edition.edition_id] = (name, edition)
    return sorted(found.values(), key=lambda f: (f[1].as_of, f[1].built, f[1].edition_id), reverse=True)


def _time(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return EPOCH
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _link(parent: ET.Element, href: str, rel: str, type_: str, title: str, length: int | None = None) -> None:
    attrs = {"href": href, "rel": rel, "type": type_, "title": title}
    if length is not None:
        attrs["length"] = str(length)
    ET.SubElement(parent, f"{{{ATOM}}}link", attrs)


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    element.text = text
    return element


def render_feed(reports_dir: Path) -> bytes:
    """The Atom document (RFC 4287), built as an element tree, never by pasting strings.

    (feedgen 1.0 drops the rel and type of entry links, which would leave two links an entry may
    not have: two rel="alternate" of the same type. ElementTree does what is needed.)"""
    briefing = project.load()
    link_base = briefing.base_url
    base = link_base or ""
    editions = complete_editions(reports_dir)
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": briefing.language})
    _text(feed, "id", feed_id())
    _text(feed, "title", briefing.feed_title or f"{briefing.name}: editions")
    _text(feed, "subtitle", f"{briefing.subtitle or briefing.title}: every complete edition, newest as-of date first")
    updated = [_time(e.built) for _, e in editions]
    _text(feed, "updated", max(updated, default=EPOCH).isoformat())
    _text(ET.SubElement(feed, f"{{{ATOM}}}author"), "name", briefing.name)
    _link(feed, f"{base}index.html", "alternate", "text/html", "All editions")
    if link_base:
        _link(feed, f"{base}{FEED}", "self", "application/atom+xml", "This feed")
    for folder, edition in editions:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", entry_id(edition.edition_id))
        kind = " (brief edition)" if edition.kind == "brief" else ""
        variant = "" if edition.edition_id == f"{edition.as_of}_{edition.kind}" else f" [{edition.edition_id}]"
        _text(entry, "title", f"{briefing.name} as of {edition.as_of_text}{kind}{variant}")
        _text(entry, "updated", _time(edition.built).isoformat())
        _link(entry, f"{base}{folder}/briefing.html", "alternate", "text/html", "The briefing (HTML)")
        _link(entry, f"{base}{folder}/briefing.pdf", "enclosure", "application/pdf", "The briefing (PDF)",
              edition.pdf.stat().st_size)
        pack = edition.folder / "datapack.zip"
        if pack.is_file():  # the tables the edition used, with a Frictionless datapackage.json
            _link(entry, f"{base}{folder}/datapack.zip", "related", "application/zip",
                  "The data behind the briefing (CSV tables, datapackage.json)", pack.stat().st_size)
        ET.SubElement(entry, f"{{{ATOM}}}category", {"term": edition.kind, "label": f"{edition.kind} edition"})
        _text(entry, "summary", _SUMMARY.render(e=edition), type="html")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def write_feed(reports_dir: Path) -> Path:
    """Rewrite REPORTS_DIR/feed.xml atomically (temp file, fsync, rename)."""
    data = render_feed(reports_dir)
    target = reports_dir / FEED
    for stale in reports_dir.glob(f".{FEED}-*.tmp"):  # left by a killed build (writers hold the lock)
        stale.unlink(missing_ok=True)
    tmp = reports_dir / f".{FEED}-{os.getpid()}.tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    return target
