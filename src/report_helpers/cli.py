"""The command line: `briefing build ...` (also `python -m report_helpers build ...`).

Exit codes: 0 built (or already up to date), 1 a section failed, 2 bad usage, parameters, notebooks
or data (found before any kernel starts), 3 another build holds the lock.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .errors import BriefingError
from .logs import configure_logging

EXIT_CODES = """exit codes:
  0  the briefing was built (or was already up to date)
  1  a section failed; the previous edition stays published (with --allow-partial the
     edition is published with placeholders, but latest does not move)
  2  bad usage, parameter, notebook or data, found before any kernel starts
  3  another build holds the lock of the reports folder
  4  the reports folder could not be written (disk full, I/O error); nothing was published
  5  mail could not be delivered to everyone (server unreachable, login refused, a recipient
     refused, a temporary failure); who was served is in the delivery ledger"""


def _parameter_help() -> str:
    try:
        from .sections import discover
        from .params import merge_specs

        sections = discover()
        specs = merge_specs({s.slug: s.parameters for s in sections})
    except Exception as exc:  # help must still print
        return f"parameters: could not read the notebooks ({exc})"
    lines = ["notebook parameters (set with -p NAME=VALUE; --as-of and --edition set the first two):"]
    for spec in specs.values():
        where = "all sections" if len(spec.sections) == len(sections) else ", ".join(spec.sections)
        type_name = {"as_of": "date", "edition": "full|brief"}.get(spec.name, spec.type_name)
        lines.append(f"  {spec.name:<14} {type_name:<10} default {spec.default!r:<10} {spec.help} [{where}]")
    return "\n".join(lines)


def _folder_options(command: argparse.ArgumentParser, *, reports_help: str | None = None,
                    lock_wait: bool = True, lock_wait_help: str | None = None) -> None:
    """--reports-dir, --lock-wait and -q/--quiet, as every command on a reports folder takes them."""
    command.add_argument("--reports-dir", type=Path, default=Path("reports"), metavar="DIR", help=reports_help)
    if lock_wait:
        command.add_argument("--lock-wait", type=float, default=60.0, metavar="SECONDS", help=lock_wait_help)
    command.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="briefing", description="Build, publish and deliver the briefing of the project in this folder.")
    commands = top.add_subparsers(dest="command", required=True)
    build = commands.add_parser(
        "build", help="execute the section notebooks and write HTML and PDF briefings",
        description="Execute every section notebook with papermill, then write each section's "
                    "HTML page, briefing.html and briefing.pdf into REPORTS_DIR/<edition-id>/ and "
                    "point REPORTS_DIR/latest at it.",
        epilog=_parameter_help() + "\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build.add_argument("--as-of", metavar="YYYY-MM-DD",
                       help="leave out data and events after this date (default: today)")
    build.add_argument("--edition", choices=("full", "brief"),
                       help="full, or brief: key points plus each section's headline chart and judgement "
                            "(default: full)")
    build.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                       help="set a notebook parameter; repeatable")
    build.add_argument("--force", action="store_true",
                       help="ignore the section cache and rebuild, even if the edition is up to date")
    build.add_argument("--explain", action="store_true",
                       help="say for each section why it ran or was reused (on stdout)")
    build.add_argument("--engine", choices=("warm", "kernel"), default="warm",
                       help="warm: sections run in preloaded worker processes, each in a fresh namespace "
                            "(default); kernel: each section in a new Jupyter kernel, as in JupyterLab")
    build.add_argument("--jobs", type=int, default=0, metavar="N",
                       help="sections run at once (default: one per core)")
    build.add_argument("--cell-timeout", type=int, default=300, metavar="SECONDS",
                       help="end a section whose cell runs longer than this (default: 300)")
    build.add_argument("--section-timeout", type=float, default=900.0, metavar="SECONDS",
                       help="end a section that runs longer than this in all (default: 900)")
    build.add_argument("--allow-partial", action="store_true",
                       help="publish the briefing even if sections fail, with a placeholder for each "
                            "(exit code still 1; latest does not move)")
    build.add_argument("--pdf-standard", choices=("ua-1", "a-2b", "a-2a", "a-3b", "a-3a"), default="ua-1",
                       help="ua-1: tagged, accessible PDF/UA-1 (default); a-2b, a-2a, a-3b, a-3a: also PDF/A "
                            "for records offices (a-3*: the data tables ride along as attachments)")
    _folder_options(build, reports_help="where editions are written (default: reports)",
                    lock_wait_help="how long to wait for another build to finish (default: 60)")
    build.add_argument("--only", metavar="SLUG[,SLUG...]",
                       help="build only these sections (names after the NN_ of notebooks/NN_slug.ipynb), "
                            "plus those whose results they read, as a subset edition in REPORTS_DIR/.only/; "
                            "latest never moves")
    build.add_argument("--base-url", metavar="URL",
                       help="where the reports folder is served: the PDF links each figure's data there, and "
                            "citations name the address (default: [publishing] base_url of briefing.toml)")
    build.add_argument("--send", action="append", default=[], metavar="LIST",
                       help="after a successful publish, email the edition to this distribution list "
                            "(repeatable; see briefing send)")

    batch = commands.add_parser(
        "batch", help="build many editions, e.g. one per month-end over a range of as-of dates",
        description="Build one edition per as-of date, side by side on local worker processes or on "
                    "a dask.distributed cluster. Editions share the section cache; latest ends on "
                    "the newest complete edition.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    batch.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD", help="first as-of date")
    batch.add_argument("--to", dest="end", default="today", metavar="YYYY-MM-DD", help="last (default: today)")
    batch.add_argument("--every", choices=("month-end", "year-end"), default="month-end",
                       help="which dates in the range (default: month-end)")
    batch.add_argument("--edition", choices=("full", "brief"), help="edition of every build (default: full)")
    batch.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE")
    batch.add_argument("--workers", type=int, default=0, metavar="N",
                       help="editions built at once on this machine (default: one per core)")
    batch.add_argument("--scheduler", metavar="ADDRESS",
                       help="a dask.distributed scheduler (e.g. tcp://127.0.0.1:8786) to run editions on")
    batch.add_argument("--force", action="store_true", help="ignore the section cache")
    batch.add_argument("--engine", choices=("warm", "kernel"), default="warm")
    _folder_options(batch)

    prune = commands.add_parser(
        "prune", help="remove old editions and failed runs, never one a latest* pointer names",
        description="Remove old editions and failed runs from the reports folder, then rewrite the "
                    "index. An edition that latest or latest-<kind> names is always kept.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    how = prune.add_mutually_exclusive_group(required=True)
    how.add_argument("--keep", type=int, metavar="N",
                     help="keep the N newest editions of each kind (by as-of date) and the N newest failed runs")
    how.add_argument("--older-than", type=float, metavar="DAYS",
                     help="remove editions built, and failed runs that failed, more than DAYS days ago")
    prune.add_argument("--dry-run", action="store_true", help="say what would be removed; remove nothing")
    _folder_options(prune)
    preview = commands.add_parser(
        "preview", help="serve the HTML briefing on localhost, rebuilt on every save, reloading itself",
        description="Serve the briefing's HTML on http://HOST:PORT/ and watch notebooks/, data/ and the "
                    "helper package. A markdown edit re-renders its section without executing anything; "
                    "a code or data edit runs only the affected sections, on warm workers; the open page "
                    "reloads itself and keeps its place, and shows a failing cell. Builds go to "
                    "REPORTS_DIR/.preview/ (latest never moves). Ctrl-C stops it.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    preview.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000; 0: any free one)")
    preview.add_argument("--host", default="127.0.0.1",
                         help="address to listen on (default: 127.0.0.1, this machine only)")
    preview.add_argument("--as-of", metavar="YYYY-MM-DD", help="as for build (default: today)")
    preview.add_argument("--edition", choices=("full", "brief"), help="as for build (default: full)")
    preview.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE")
    preview.add_argument("--pdf", action="store_true", help="also print briefing.pdf on every rebuild")
    preview.add_argument("--no-open", dest="open_browser", action="store_false",
                         help="do not open a browser")
    preview.add_argument("--jobs", type=int, default=0, metavar="N", help="warm workers (default: one per core)")
    _folder_options(preview, reports_help="its .preview/ and .cache/ are used (default: reports)", lock_wait=False)
    new = commands.add_parser(
        "new", help="create a new briefing project that builds at once",
        description="Create DIR (absent or empty) holding a new briefing project: briefing.toml, a first "
                    "section notebook, a data package with one sourced table, and a README on adding "
                    "sections, tables and sources. Then: cd DIR && briefing build.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    new.add_argument("dir", type=Path, metavar="DIR", help="the folder to create")
    new.add_argument("--title", default="A new briefing", help="the briefing's title (default: %(default)s)")
    new.add_argument("--name", help="its short name, for mail and the feed (default: the title)")
    new.add_argument("--author", default="Briefing team", help="the PDF's author (default: %(default)s)")
    new.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    send = commands.add_parser(
        "send", help="email an edition to distribution lists, once per recipient",
        description="Email the latest complete edition (or --edition-id) to every address of each list "
                    "in the distribution file. A ledger in the reports folder records who received what, "
                    "so a recipient never gets the same edition twice. SMTP settings come from "
                    "BRIEFING_SMTP_HOST, BRIEFING_SMTP_PORT, BRIEFING_SMTP_SECURITY (none|starttls|ssl, "
                    "default starttls), BRIEFING_SMTP_USER, BRIEFING_SMTP_PASSWORD and BRIEFING_MAIL_FROM.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    send.add_argument("--list", dest="lists", action="append", required=True, metavar="NAME",
                      help="a list of the distribution file (repeatable)")
    send.add_argument("--config", type=Path, metavar="FILE",
                      help="the distribution file (default: briefing.toml [delivery] distribution, distribution.toml)")
    send.add_argument("--edition-id", metavar="ID", help="send this edition instead of the latest complete one")
    send.add_argument("--only-if-changed", action="store_true",
                      help="skip a recipient whose last edition had the same key figures, events and verdicts")
    send.add_argument("--dry-run", action="store_true",
                      help="check everything and say what would be sent; connect to nothing, send nothing")
    send.add_argument("--corrections", action="store_true",
                      help="send a short notice of each correction (data/corrections.csv), once, to the "
                           "recipients of lists with corrections = true who received an edition it affects")
    _folder_options(send)
    from .updates.command import add_parser as add_data_parser

    add_data_parser(commands)
    return top


def _given(args) -> dict[str, str]:
    """The notebook parameters a command was given: -p NAME=VALUE, then --as-of and --edition."""
    from .params import parse_assignments

    given = parse_assignments(args.param)
    for name in ("as_of", "edition"):
        if getattr(args, name, None) is not None:
            given[name] = getattr(args, name)
    return given


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging(args.quiet)
    log = logging.getLogger("briefing")
    from .errors import UsageError
    from .pipeline import subset
    from .pipeline.build import CACHE_DIR, BuildOptions, build

    if args.command == "batch":
        return _batch(args)
    if args.command == "prune":
        return _prune(args)
    if args.command == "send":
        return _send(args)
    if args.command == "preview":
        return _preview(args)
    if args.command == "new":
        return _new(args)
    if args.command == "data":
        from .updates.command import run as run_data

        return run_data(args)
    try:
        given = _given(args)
        only = subset.parse(args.only)
        if only and args.send:
            raise UsageError("--only builds a subset edition, which is never sent; leave out --send")
        prepared = _prepare_send(args, given) if args.send else None  # exit 2 before building
        reports_dir = subset.reports_dir(args.reports_dir) if only else args.reports_dir
        result = build(BuildOptions(given=given, reports_dir=reports_dir, force=args.force,
                           explain=args.explain, engine=args.engine,
                           jobs=args.jobs, cell_timeout=args.cell_timeout,
                           section_timeout=args.section_timeout, lock_wait=args.lock_wait,
                           allow_partial=args.allow_partial, pdf_standard=args.pdf_standard,
                           only=only, cache_dir=args.reports_dir / CACHE_DIR if only else None,
                           base_url=args.base_url))
    except BriefingError as exc:
        log.error("%s", exc)
        return exc.exit_code
    except KeyboardInterrupt:
        log.error("interrupted; the previous edition stays published")
        return 130
    except Exception:  # a bug, not bad input: say so, keep the traceback in the log
        log.exception("internal error; the previous edition stays published")
        return 1
    edition = reports_dir / result.edition_id  # latest names it only if it is the newest of its kind
    if not args.quiet:
        print(f"{edition / 'briefing.pdf'}\n{edition / 'briefing.html'}")
    if args.send:
        return _send(args, edition_id=result.edition_id, prepared=prepared)
    return 0


if __name__ == "__main__":
    sys.exit(main())


def _batch(args) -> int:
    import os

    from .batch import as_of_dates, run_batch
    from .pipeline.build import BuildOptions

    log = logging.getLogger("briefing")
    try:
        given = _given(args)
        dates = as_of_dates(args.start, args.end, args.every)
        base = BuildOptions(given=given, reports_dir=args.reports_dir, force=args.force, engine=args.engine,
                            lock_wait=args.lock_wait)
        outcomes = run_batch(base, dates, workers=args.workers or os.cpu_count() or 1, scheduler=args.scheduler)
    except BriefingError as exc:
        log.error("%s", exc)
        return exc.exit_code
    codes = {o.exit_code for o in outcomes}
    if codes == {0}:
        return 0
    return 2 if codes == {2} else 1


def _prune(args) -> int:
    from .publishing import publish, store

    log = logging.getLogger("briefing")
    try:
        reports_dir = store.prepare_reports_dir(args.reports_dir)
        with store.build_lock(reports_dir, args.lock_wait):
            publish.clear_leftovers(reports_dir)
            removed = publish.prune(reports_dir, keep=args.keep, older_than_days=args.older_than,
                                    dry_run=args.dry_run)
    except BriefingError as exc:
        log.error("%s", exc)
        return exc.exit_code
    verb = "would remove" if args.dry_run else "removed"
    for line in removed:
        log.info("%s %s", verb, line)
    log.info("%s %d item(s) from %s", verb, len(removed), reports_dir)
    return 0


def _new(args) -> int:
    from .scaffold import create

    log = logging.getLogger("briefing")
    try:
        target = create(args.dir, title=args.title, name=args.name, author=args.author)
    except BriefingError as exc:
        log.error("%s", exc)
        return exc.exit_code
    print(f"Created {target}. Next: cd {target} && briefing build")
    return 0


def _preview(args) -> int:
    from .preview import PreviewOptions, run

    log = logging.getLogger("briefing")
    try:
        given = _given(args)
        return run(PreviewOptions(given=given, reports_dir=args.reports_dir, host=args.host, port=args.port,
                                  pdf=args.pdf, open_browser=args.open_browser, jobs=args.jobs))
    except BriefingError as exc:
        log.error("%s", exc)
        return exc.exit_code


def _send_options(args, edition_id: str | None = None):
    from .delivery.send import SendOptions

    if args.command == "build":
        return SendOptions(lists=args.send, reports_dir=args.reports_dir, edition_id=edition_id)
    return SendOptions(lists=args.lists, config=args.config, reports_dir=args.reports_dir,
                       edition_id=args.edition_id, only_if_changed=args.only_if_changed,
                       dry_run=args.dry_run, lock_wait=args.lock_wait, corrections=args.corrections)


def _prepare_send(args, given: dict):
    """`build --send`: the lists and SMTP settings are checked before the build starts."""
    from .delivery.send import prepare

    return prepare(_send_options(args), kind=given.get("edition", "full"))


def _send(args, edition_id: str | None = None, prepared=None) -> int:
    """`briefing send`, or the send step of `briefing build --send` (after a successful publish)."""
    from .delivery.notices import send_notices
    from .delivery.send import prepare, reports_folder, send

    log = logging.getLogger("briefing")
    try:
        options = _send_options(args, edition_id)
        if options.corrections:  # correction notices instead of an edition
            send_notices(prepared or prepare(options), options, reports_folder(options), sys.stdout)
        else:
            send(options, prepared=prepared)
    except BriefingError as exc:
        log.error("%s", exc)
        return exc.exit_code
    except KeyboardInterrupt:
        log.error("interrupted; the delivery ledger records who was served")
        return 130
    return 0
