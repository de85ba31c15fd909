"""What a published edition holds, read for delivery and for the feed (never written here).

An edition is `REPORTS_DIR/<edition-id>/`: `manifest.json` (status, parameters, sections,
figures, events, verdicts, changes, outputs' SHA-256), `briefing.pdf`, `briefing.html`, and each
section's executed notebook. `latest` (and, per kind, `latest-<kind>`) point at complete editions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cached_property
from html.parser import HTMLParser
from pathlib import Path

from .. import fmt, periods, project
from ..errors import UsageError

KEY_POINTS_SLUG = "key_points"


class EditionError(UsageError):
    """No complete edition to send (exit 2, nothing sent)."""


@dataclass(frozen=True)
class KeyPoint:
    label: str
    text: str


class _Judgements(HTMLParser):
    """`<aside class="judgement">`: a `judgement-label` paragraph, then the text (sources and the "how it
    was computed" disclosure left out: a message or a feed gives the judgement, the briefing the audit)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[KeyPoint] = []
        self._depth = 0  # elements open inside the current judgement
        self._skip = 0  # depth at which a judgement-sources span or a provenance disclosure opened
        self._label: list[str] = []
        self._text: list[str] = []
        self._in_label = False

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if self._depth == 0:
            if tag == "aside" and "judgement" in classes:
                self._depth, self._label, self._text = 1, [], []
            return
        self._depth += 1
        if ((tag == "span" and "judgement-sources" in classes) or tag == "details") and not self._skip:
            self._skip = self._depth
        if tag == "p" and "judgement-label" in classes:
            self._in_label = True

    def handle_endtag(self, tag):
        if self._depth == 0:
            return
        if self._skip and self._depth == self._skip:
            self._skip = 0
        if tag == "p":
            self._in_label = False
        self._depth -= 1
        if self._depth == 0:
            # "1 · Ties have soured" -> "Ties have soured": messages and feeds number the points
            label = re.sub(r"^\d+\s*[·.:)]\s*", "", _squash("".join(self._label)))
            text = _squash("".join(self._text))
            if text:
                self.found.append(KeyPoint(label, text))

    def handle_data(self, data):
        if self._depth and not self._skip:
            (self._label if self._in_label else self._text).append(data)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def judgements(html: str) -> list[KeyPoint]:
    parser = _Judgements()
    parser.feed(html)
    parser.close()
    return parser.found


@dataclass
class PublishedEdition:
    folder: Path
    manifest: dict

    @property
    def edition_id(self) -> str:
        return self.manifest.get("edition_id") or self.folder.name

    @property
    def kind(self) -> str:
        return self.manifest.get("parameters", {}).get("edition", "full")

    @property
    def as_of(self) -> str:
        return str(self.manifest.get("parameters", {}).get("as_of", ""))

    @property
    def as_of_text(self) -> str:
        try:
            return fmt.date(self.as_of)
        except ValueError:
            return self.as_of

    @property
    def built(self) -> str:
        return str(self.manifest.get("built", ""))

    @property
    def pdf(self) -> Path:
        return self.folder / "briefing.pdf"

    @property
    def html(self) -> Path:
        return self.folder / "briefing.html"

    @cached_property
    def title(self) -> str:
        """The briefing's title, as its HTML page states it."""
        try:
            with open(self.html, encoding="utf-8", errors="replace") as handle:
                head = handle.read(4096)
        except OSError:
            return project.load().name
        found = re.search(r"<title>([^<]+)</title>", head)
        import html as html_mod

        return _squash(html_mod.unescape(found.group(1))) if found else project.load().name

    def problems(self) -> list[str]:
        """Why this edition must not be sent (empty if it is complete and intact)."""
        status = self.manifest.get("status")
        if status != "ok":
            return [f"its status is {status!r}, not 'ok'"]
        out = [f"section {s.get('slug')} is {s.get('status')!r}" for s in self.manifest.get("sections", [])
               if s.get("status") != "ok"]
        for path in (self.pdf, self.html):
            if not path.is_file():
                out.append(f"{path.name} is missing")
        expected = self.manifest.get("outputs", {}).get("briefing.pdf")
        if self.pdf.is_file() and expected and expected != self.pdf_sha256:
            out.append("briefing.pdf does not match the SHA-256 in its manifest")
        return out

    @cached_property
    def pdf_bytes(self) -> bytes:
        return self.pdf.read_bytes()

    @cached_property
    def pdf_sha256(self) -> str:
        return hashlib.sha256(self.pdf_bytes).hexdigest()

    @cached_property
    def key_points(self) -> list[KeyPoint]:
        """The key points section's judgements, from its executed notebook (what present.judgement
        displayed), else from its HTML page. Empty if the edition has no key points section."""
        section = next((s for s in self.manifest.get("sections", []) if s.get("slug") == KEY_POINTS_SLUG), None)
        if section is None:
            return []
        notebook = self.folder / section.get("notebook", "")
        try:
            cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
            as_of = dt.date.fromisoformat(self.as_of)
            # a cell written for another period ran too, but readers of this edition never saw it
            html = "".join(_output_html(cell) for cell in cells
                           if periods.shown(cell.get("metadata", {}).get("tags", []), as_of))
        except (OSError, ValueError, AttributeError):
            html = ""
        if "judgement" not in html:
            try:
                html = notebook.with_suffix(".html").read_text(encoding="utf-8")
            except OSError:
                return []
        return judgements(html)

    @property
    def changes(self) -> dict:
        return self.manifest.get("changes") or {"previous": None, "items": []}

    @property
    def changes_heading(self) -> str:
        previous = (self.changes.get("previous") or {}).get("as_of")
        if not previous:
            return "Changes since the previous edition"
        try:
            return f"Changes since {fmt.date(previous)}"
        except ValueError:
            return f"Changes since {previous}"

    @property
    def change_items(self) -> list[str]:
        """The lines under the "Changes since" heading, as the briefing states them."""
        previous = (self.changes.get("previous") or {}).get("as_of")
        items = [str(i) for i in self.changes.get("items", [])]
        if items:
            return items
        if not previous:
            return ["This is the first edition in this folder: there is nothing to compare it with."]
        return [f"No key figure, event or claim verdict differs from the edition of "
                f"{self.changes_heading.removeprefix('Changes since ')}."]

    @cached_property
    def content_digest(self) -> str:
        """SHA-256 of the key figures, events and verdicts: equal digests, nothing new to read."""
        figures = {name: [f.get("value"), f.get("unit"), f.get("period")]
                   for name, f in self.manifest.get("figures", {}).items()}
        content = {"figures": figures, "events": sorted(self.manifest.get("events", {})),
                   "verdicts": self.manifest.get("verdicts", {})}
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def _output_html(cell: dict) -> str:
    parts = []
    for output in cell.get("outputs", []):
        html = output.get("data", {}).get("text/html", "")
        parts.append("".join(html) if isinstance(html, list) else str(html))
    return "".join(parts)


def read(folder: Path) -> PublishedEdition | None:
    """The edition in `folder`, or None when it has no readable manifest."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return PublishedEdition(folder, manifest) if isinstance(manifest, dict) else None


def resolve(reports_dir: Path, kind: str, edition_id: str | None = None) -> PublishedEdition:
    """The edition named, or the latest complete edition of `kind`; EditionError if it must not be sent."""
    from .store import check_edition_id

    if edition_id is not None:
        check_edition_id(edition_id)
        folder = reports_dir / edition_id
        where = f"edition {edition_id} ({folder})"
    else:
        # latest-<kind> where builds keep one per kind; else latest, if it is of this kind
        pointers = [reports_dir / f"latest-{kind}", reports_dir / "latest"]
        folder = next((p for p in pointers if (found := read(p)) is not None and found.kind == kind), None)
        if folder is None:
            raise EditionError(f"no complete {kind} edition in {reports_dir}: neither latest-{kind} nor latest "
                               f"points at one (build one with `briefing build --edition {kind}`)")
        where = f"the latest {kind} edition ({folder.name} -> {folder.resolve().name})"
    found = read(folder)
    if found is None:
        raise EditionError(f"{where}: no such published edition (no readable manifest.json)")
    if found.kind != kind:
        raise EditionError(f"{where} is a {found.kind} edition, and the list receives {kind} editions")
    problems = found.problems()
    if problems:
        raise EditionError(f"{where} is not complete, so it is never sent: {'; '.join(problems)}")
    return found
