"""What the preview watches: the project's notebooks, data and project file, and the helper code."""

from __future__ import annotations

import logging
import queue
import re
import threading
from pathlib import Path

from ..paths import PROJECT_FILE

log = logging.getLogger("briefing")
_IGNORED = re.compile(r"(~|\.sw.|\.tmp|\.pyc)$|(^|/)(\.ipynb_checkpoints|__pycache__|\.#|\.~)")


def watch(root: Path, reports_dir: Path, stopping: threading.Event, requests: queue.Queue) -> None:
    """Put each batch of saved files (notebooks, data, helper code) on `requests` until `stopping`."""
    import watchfiles

    paths = [root / "notebooks", root / "data", root / PROJECT_FILE, root / "src" / "report_helpers",
             Path(__file__).resolve().parents[1]]
    paths = list(dict.fromkeys(p for p in paths if p.exists()))

    def wanted(_change, path: str) -> bool:
        return not _IGNORED.search(path) and not Path(path).is_relative_to(reports_dir)

    for batch in watchfiles.watch(*paths, watch_filter=wanted, debounce=400, step=30,
                                  stop_event=stopping, rust_timeout=500, yield_on_timeout=False):
        changed = {Path(p) for _c, p in batch}
        log.info("preview: saw %s", ", ".join(sorted(p.name for p in changed)))
        requests.put(changed)
