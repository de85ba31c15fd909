"""Errors of `briefing data`, each naming the source; exit codes continue those of errors.py."""

from __future__ import annotations

from ..errors import BriefingError


class FetchError(BriefingError):
    """A publisher could not be reached or kept failing (unreachable, timeout, HTTP 429 or 5xx after
    the retries, another HTTP error). Nothing was staged for it; accepted data are unchanged."""

    exit_code = 6


class PublisherFileError(BriefingError):
    """A publisher's file is not what its connector reads: malformed or truncated, a changed schema,
    or a value outside the column's constraints. Nothing was staged for it."""

    exit_code = 7
