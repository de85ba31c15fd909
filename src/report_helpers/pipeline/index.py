"""reports/index.html: every published edition, newest first, with its status and links."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .assemble import render_index


def editions(reports_dir: Path) -> list[dict]:
    found = []
    for manifest in reports_dir.glob("*/manifest.json"):
        if manifest.parent.name.startswith(".") or manifest.parent.is_symlink():
            continue
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        data["folder"] = manifest.parent.name
        found.append(data)
    return sorted(found, key=lambda d: d.get("built", ""), reverse=True)


def write_index(reports_dir: Path) -> Path:
    target = reports_dir / "index.html"
    tmp = reports_dir / f".index-{os.getpid()}.html"
    tmp.write_text(render_index(editions(reports_dir)), encoding="utf-8")
    os.replace(tmp, target)
    from .feed import write_feed  # reports/feed.xml: the Atom feed of editions, rewritten with the index
    write_feed(reports_dir)
    return target
