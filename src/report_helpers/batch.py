"""`briefing batch`: many editions in one go, for example one per month-end over a range of dates.

Editions run side by side on a local process pool, or on a dask.distributed cluster given its
scheduler address. The batch holds the reports folder's lock for its whole run; each edition is
built and published like a single `briefing build`, and all of them share the section cache.
`latest` ends on the newest complete edition.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from dataclasses import dataclass, replace

from .errors import BriefingError, ParameterError

log = logging.getLogger("briefing")


@dataclass(frozen=True)
class EditionOutcome:
    as_of: str
    edition_id: str
    status: str
    exit_code: int
    message: str = ""


def month_ends(start: dt.date, end: dt.date) -> list[dt.date]:
    """The last day of every month from start's month to end's, within [start, end]."""
    dates, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        last = dt.date(year, month, calendar.monthrange(year, month)[1])
        if start <= last <= end:
            dates.append(last)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return dates


def as_of_dates(start: str, end: str, every: str) -> list[dt.date]:
    from .params import parse_date

    first, last = parse_date(start, name="--from"), parse_date(end, name="--to")
    if last < first:
        raise ParameterError(f"--to {last} is before --from {first}")
    if every == "month-end":
        dates = month_ends(first, last)
    elif every == "year-end":
        dates = [d for d in month_ends(first, last) if d.month == 12]
    else:
        raise ParameterError(f"--every: expected month-end or year-end, got {every!r}")
    if not dates:
        raise ParameterError(f"no {every} between {first} and {last}")
    return dates


def build_edition(options) -> EditionOutcome:
    """One edition, run where the batch sends it (a local worker or a dask worker)."""
    from .pipeline.build import build
    from .cli import configure_logging

    configure_logging(quiet=True)  # each edition's build.log keeps its full log
    as_of = options.given.get("as_of", "")
    try:
        result = build(options)
        return EditionOutcome(as_of, result.edition_id, "skipped" if result.skipped else result.status, 0)
    except BriefingError as exc:
        return EditionOutcome(as_of, "", "failed", exc.exit_code, str(exc))
    except Exception as exc:  # report, do not lose the other editions
        return EditionOutcome(as_of, "", "failed", 1, f"{type(exc).__name__}: {exc}")


def run_batch(base, dates: list[dt.date], *, workers: int, scheduler: str | None) -> list[EditionOutcome]:
    """Build one edition per date. ``base`` is a BuildOptions whose parameters apply to all."""
    from .pipeline import index, publish

    reports_dir = publish.prepare_reports_dir(base.reports_dir)
    editions = [replace(base, given={**base.given, "as_of": d.isoformat()}, reports_dir=reports_dir,
                        jobs=1, hold_lock=False) for d in dates]
    with publish.build_lock(reports_dir, base.lock_wait):
        publish.clear_leftovers(reports_dir)
        if scheduler:
            from distributed import Client

            with Client(scheduler) as client:
                log.info("batch of %d editions on the dask cluster at %s", len(editions), scheduler)
                outcomes = client.gather(client.map(build_edition, editions, pure=False))
        else:
            import concurrent.futures as cf
            import multiprocessing

            log.info("batch of %d editions on %d local workers", len(editions), workers)
            with cf.ProcessPoolExecutor(max_workers=workers,
                                        mp_context=multiprocessing.get_context("spawn")) as pool:
                outcomes = list(pool.map(build_edition, editions))
        complete = [o for o in outcomes if o.status in ("ok", "skipped")]
        if complete:
            newest = max(complete, key=lambda o: o.as_of)
            publish.point_latest(reports_dir, newest.edition_id)
        index.write_index(reports_dir)
    for outcome in outcomes:
        line = f"{outcome.as_of}  {outcome.status:<8} {outcome.edition_id or outcome.message}"
        (log.info if outcome.exit_code == 0 else log.error)("%s", line)
    return outcomes
