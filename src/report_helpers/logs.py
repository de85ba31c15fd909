"""The command line's log: one logger, "briefing", on stderr; builds add each edition's build.log."""

from __future__ import annotations

import logging
import sys


def configure_logging(quiet: bool) -> None:
    """Timestamped lines on stderr (warnings only with --quiet); each edition's build.log gets all."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
    handler.setLevel(logging.WARNING if quiet else logging.INFO)
    logger = logging.getLogger("briefing")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
