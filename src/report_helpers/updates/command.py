"""`briefing data update|accept|status`: the command line of the data updates."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from pathlib import Path

from ..errors import BriefingError

EXIT_CODES = """exit codes:
  0  done (update: fetched and staged, or nothing to fetch; accept: accepted, or nothing staged)
  2  bad usage (an unknown source), or the accepted data changed since the update was staged
  3  another `briefing data` command holds data/vintages/.lock
  6  a publisher could not be fetched: unreachable, timeout, HTTP 429 or 5xx after the retries,
     another HTTP error; that source is not staged
  7  a publisher's file could not be read: malformed or truncated, a changed schema, a value outside
     the column's constraints; that source is not staged
With several sources, the others are still staged, and the highest code is returned. Accepted data
and published editions are never changed by a failed update."""


def add_parser(commands) -> None:
    data = commands.add_parser(
        "data", help="fetch the connected series, review the changes, accept them",
        description="Keep data/ current: `update` fetches each connected publisher, keeps the file as a dated "
                    "vintage and stages what changed with a report; `accept` publishes the staged update into "
                    "data/; `status` shows each source's data-as-of date and whether it is overdue.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = data.add_subparsers(dest="data_command", required=True)
    update = actions.add_parser("update", help="fetch, keep vintages, stage the changes with a review report",
                                epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    update.add_argument("--source", action="append", default=[], metavar="NAME",
                        help="only this connected source (repeatable; default: all)")
    update.add_argument("--dry-run", action="store_true",
                        help="fetch and print the report; keep no vintage, stage nothing")
    update.add_argument("--accept", action="store_true",
                        help="accept the staged update at once (for unattended runs; off by default)")
    update.add_argument("--reports-dir", type=Path, default=Path("reports"), metavar="DIR",
                        help="the report names the figures of REPORTS_DIR/latest that a change moves "
                             "(default: reports)")
    accept = actions.add_parser("accept", help="publish the staged update into data/", epilog=EXIT_CODES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    status = actions.add_parser("status", help="each source: connected or hand-entered, data as of, overdue")
    verify = actions.add_parser("verify", help="derive the accepted vintages' rows again from their raw files "
                                               "and check that data/ holds exactly those values (exit 2 if not)")
    for command in (update, accept, status, verify):
        command.add_argument("--lock-wait", type=float, default=60.0, metavar="SECONDS",
                             help="how long to wait for another `briefing data` command (default: 60)")
        command.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")


def run(args) -> int:
    from ..paths import data_dir
    from . import stage
    from .connectors import select

    log = logging.getLogger("briefing")
    try:
        data = data_dir()
        if args.data_command == "status":
            print(status_text(data))
            return 0
        if args.data_command == "verify":
            problems = stage.verify(data)
            for line in problems:
                log.error("%s", line)
            if problems:
                return 2
            log.info("every row that cites a vintage holds the value its raw file gives")
            return 0
        if args.data_command == "accept":
            plan = stage.accept(data, lock_wait=args.lock_wait)
            if plan is None:
                log.info("nothing is staged; run `briefing data update` first")
            else:
                log.info("accepted %d change(s) from %s", len(plan["changes"]),
                         ", ".join(v["connector"] for v in plan["vintages"]))
            return 0
        outcome = stage.update(data, select(args.source, data), dry_run=args.dry_run, accept_now=args.accept,
                               lock_wait=args.lock_wait, reports_dir=args.reports_dir)
    except BriefingError as exc:
        log.error("%s", exc)
        return exc.exit_code
    except KeyboardInterrupt:
        log.error("interrupted; accepted data are unchanged")
        return 130
    if outcome.staged:
        log.info("%d change(s) staged; review %s, then run `briefing data accept`%s", len(outcome.changes),
                 outcome.report_path, " (accepted at once: --accept)" if outcome.accepted else "")
    for name, exc in outcome.failures.items():
        log.error("%s: not updated (exit %d)", name, exc.exit_code)
    return outcome.exit_code


def status_text(data) -> str:
    from . import vintages
    from .connectors import connectors, declared
    from .freshness import hand_entered_overdue

    today = dt.date.today()
    known, known_today = vintages.known_on(data, None), vintages.known_on(data, today)
    lines = ["connected sources (briefing data update):"]
    for name, c in connectors(data).items():
        entry = known.get(name)
        as_of = (f"data as of {entry['public_date']} (vintage {entry['vintage_id']})" if entry
                 else "never fetched: hand-entered rows " + ", ".join(c.lineage))
        checked = known_today.get(name)
        late = c.overdue(dt.date.fromisoformat(checked["retrieved_at"][:10]) if checked else None, today)
        flag = f"  OVERDUE (updated every {c.every_days} days)" if late else ""
        lines.append(f"  {name:<22} {c.publisher:<12} -> {c.table:<19} {as_of}{flag}")
    lines.append("hand-entered series (the catalogue's sourceUpdates says why):")
    stale = {sid: published for sid, published, _ in hand_entered_overdue(data, today)}
    for source_id, entry in declared(data).items():
        if "handEntered" in entry:
            flag = f" OVERDUE (source published {stale[source_id]})" if source_id in stale else ""
            lines.append(f"  {source_id:<32} every {entry.get('everyDays', '?')} days{flag}: {entry['handEntered']}")
    return "\n".join(lines)
