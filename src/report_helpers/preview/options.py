"""What `briefing preview` was asked for, and where in the reports folder it builds."""

from __future__ import annotations

import dataclasses
from pathlib import Path

FOLDER = ".preview"  # REPORTS_DIR/.preview/: preview editions, never pointed at by latest
LIVE = ".live"  # REPORTS_DIR/.preview/.live/: sections rerun for code edits, and the results they read


@dataclasses.dataclass
class PreviewOptions:
    given: dict[str, str] = dataclasses.field(default_factory=dict)
    reports_dir: Path = Path("reports")
    host: str = "127.0.0.1"
    port: int = 8000
    pdf: bool = False
    open_browser: bool = True
    jobs: int = 0
    cell_timeout: int = 300
    section_timeout: float = 900.0
