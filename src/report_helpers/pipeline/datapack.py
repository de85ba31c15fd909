"""The data pack of an edition: the tables its sections read, as the edition saw them, with a
Frictionless ``datapackage.json``; in the edition's folder as ``datapack/`` and ``datapack.zip``.

"As the edition saw them": the rows public by its as-of date (each table's ``publicDateField``), a
row whose own source appeared later citing its earlier ``public_source_id``, as
``catalogue.known_by`` does for the sections. Read with the csv module: the build's process does
not load pandas. The zip is byte-stable: sorted entries with a fixed time stamp.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

from .. import project
from ..catalogue import PUBLIC_SOURCE, SOURCES, published_by, read_catalogue, resource, sources
from ..paths import data_dir

FOLDER = "datapack"
ZIP = "datapack.zip"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def tables_read(results_dir: Path) -> list[str]:
    """The data files the edition's sections read (results/<section>.reads.json), sorted."""
    names: set[str] = set()
    for path in sorted(results_dir.glob("*.reads.json")):
        names.update(json.loads(path.read_text(encoding="utf-8")))
    return sorted(n for n in names if n.endswith(".csv"))


def _public_by(value: str, kind: str) -> dt.date | None:
    if not value:
        return None
    return dt.date.fromisoformat(value) if kind == "date" else published_by(value)


def known_rows(text: str, resource: dict, as_of: dt.date, published: dict[str, dt.date]) -> str:
    """A table's CSV text with only the rows public by ``as_of`` (see the module's docstring)."""
    field = resource.get("publicDateField")
    if not field:
        return text
    kind = next(f.get("type", "string") for f in resource["schema"]["fields"] if f["name"] == field)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [], lineterminator="\n")
    writer.writeheader()
    for row in reader:
        day = _public_by(row.get(field) or "", kind)
        if day is None or day > as_of:
            continue
        if row.get(PUBLIC_SOURCE) and published.get(row.get("source_id", ""), dt.date.max) > as_of:
            row["source_id"] = row[PUBLIC_SOURCE]
        writer.writerow(row)
    return out.getvalue()


def build(staging: Path, as_of: dt.date, edition_id: str) -> list[str]:
    """Write ``datapack/`` and ``datapack.zip`` in the staging folder; return the tables' names."""
    root = data_dir()
    catalogue = read_catalogue(root)
    resources = {r["path"]: r for r in catalogue["resources"]}
    used = [name for name in tables_read(staging / "results") if name in resources]
    sources_file = resource(SOURCES, root)["path"]
    if sources_file not in used:  # every row names a source: the pack carries them
        used.append(sources_file)
    published = {s.source_id: published_by(s.published) for s in sources(root).values() if s.published}
    files: dict[str, bytes] = {}
    for name in sorted(used):
        text = (root / name).read_text(encoding="utf-8")
        files[name] = known_rows(text, resources[name], as_of, published).encode("utf-8")
    descriptor = {k: v for k, v in catalogue.items() if k != "resources"}
    descriptor |= {
        "name": f"{project.load().slug}-{edition_id}".lower().replace("_", "-"),
        "title": f"{catalogue.get('title', 'Data')}: edition {edition_id}",
        "version": edition_id,
        "description": (f"The tables edition {edition_id} read, with the rows public by {as_of.isoformat()}. "
                        + catalogue.get("description", "")),
        "resources": [resources[name] for name in sorted(used)],
    }
    files["datapackage.json"] = (json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    folder = staging / FOLDER
    folder.mkdir(exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            (folder / name).write_bytes(files[name])
            info = zipfile.ZipInfo(f"{FOLDER}/{name}", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    (staging / ZIP).write_bytes(buffer.getvalue())
    return sorted(n.removesuffix(".csv") for n in used)
