"""Checks a reader could make of a published edition: it opens, its PDF parses, and every file
matches its digest in the manifest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def check_edition(folder: Path) -> dict:
    from pypdf import PdfReader

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json"}
    assert present == set(manifest["files"]), folder
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, f"{folder}/{name}"
    assert len(PdfReader(folder / "briefing.pdf").pages) >= 2
    return manifest
