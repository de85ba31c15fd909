"""`briefing build`, step by step: check, plan, execute (or reuse), convert, assemble, print, publish.

Heavy modules (pandas, nbformat, nbconvert, Typst) are imported inside the steps that use
them: a build with nothing to do answers before loading any of them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from .. import catalogue, corrections, params as params_mod
from ..errors import OutputError, SectionFailed
from ..paths import PROJECT_FILE, project_dir
from ..publishing import publish, store
from ..sections import Section, discover, execution_waves

log = logging.getLogger("briefing")
PACKAGES = ("papermill", "nbconvert", "nbclient", "ipykernel", "ipython", "altair", "vl-convert-python",
            "typst", "pypandoc-binary", "pandas", "frictionless")
CACHE_DIR = ".cache"


@dataclass
class BuildOptions:
    given: dict[str, str] = field(default_factory=dict)
    reports_dir: Path = Path("reports")
    force: bool = False
    explain: bool = False
    engine: str = "warm"
    jobs: int = 0
    cell_timeout: int = 300
    section_timeout: float = 900.0
    lock_wait: float = 60.0
    allow_partial: bool = False
    hold_lock: bool = True  # False when a caller (briefing batch) already holds the folder's lock
    publish: bool = True  # False: leave the finished edition in its staging folder (a remote batch worker)
    history: list | None = None  # editions to compare with, instead of the reports folder's (remote worker)
    cache_dir: Path | None = None  # the caches' folder; default REPORTS_DIR/.cache
    pdf_standard: str = "ua-1"  # or an archival PDF/A level: "a-2b", "a-3b" (with the data attached)
    only: tuple[str, ...] = ()  # --only: these sections and those they read, as a subset edition (subset.py)
    pdf: bool = True  # False: no briefing.pdf (briefing preview without --pdf)
    pool: object = None  # running warm workers to use and leave running (briefing preview); default: a new pool
    base_url: str | None = None  # --base-url: where the reports folder is served (downloads.base_url)


@dataclass
class BuildResult:
    edition_id: str
    edition_dir: Path
    status: str = "ok"
    skipped: bool = False
    seconds: float = 0.0
    decisions: list = field(default_factory=list)


def check_inputs(options: BuildOptions) -> tuple[list[Section], params_mod.BuildParams]:
    """Notebooks and parameters, checked before anything runs (exit 2 on a problem)."""
    sections = discover()
    for section in sections:
        section.check()
    corrections.load()  # the corrections log names known tables, rows and editions (DataError, exit 2)
    specs = params_mod.merge_specs({s.slug: s.parameters for s in sections})
    earliest = catalogue.earliest_date()  # reads the catalogue's JSON only: no pandas yet
    build_params = params_mod.validate(specs, options.given, earliest=earliest)
    if options.only:
        from . import subset

        sections, build_params = subset.restrict(sections, build_params, options.only)
    store.check_edition_id(build_params.edition_id)
    execution_waves(sections)
    return sections, build_params


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _helpers_dir() -> Path:
    return Path(__file__).resolve().parents[1]


def input_hashes(sections: list[Section]) -> dict[str, str]:
    """SHA-256 of everything that can change the output: the project file, notebooks, data, the
    helper package."""
    root, helpers = project_dir(), _helpers_dir()
    files = {PROJECT_FILE: root / PROJECT_FILE}
    files |= {f"notebooks/{s.path.name}": s.path for s in sections}
    files |= {f"data/{p.name}": p for p in sorted((root / "data").glob("*")) if p.is_file()}
    files |= {f"report_helpers/{p.relative_to(helpers)}": p for p in sorted(helpers.rglob("*"))
              if p.is_file() and "__pycache__" not in p.parts}
    return {name: _sha256(path) for name, path in files.items()}


@functools.lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "absent"
    return versions


def inputs_digest(hashes: dict[str, str], build_params: params_mod.BuildParams, engine: str,
                  pdf_standard: str = "ua-1", base_url: str = "") -> str:
    return hashlib.sha256(json.dumps([build_params.as_dict(), hashes, package_versions(), engine,
                                      pdf_standard] + ([base_url] if base_url else []),
                                     sort_keys=True).encode()).hexdigest()


def _kind(sections: list[Section], build_params: params_mod.BuildParams) -> tuple[str, str]:
    """(kind, pointer): the kind of a build with default parameters is the one `latest` follows."""
    specs = params_mod.merge_specs({s.slug: s.parameters for s in sections})
    kind = store.kind_of(build_params.edition_id)
    return kind, store.pointer_for(kind, params_mod.parse_edition(specs["edition"].default))


def _comparison(reports_dir: Path, build_params: params_mod.BuildParams, kind: str,
                history: list | None) -> tuple[dict | None, dict | None]:
    """(previous, same) for the changes note, from the given history or the reports folder."""
    from . import changes

    entries = history if history is not None else store.listing(reports_dir)
    return changes.basis(entries, edition_id=build_params.edition_id, kind=kind,
                         as_of=build_params.as_of.isoformat())


def _up_to_date(reports_dir: Path, build_params: params_mod.BuildParams, digest: str, kind: str,
                history: list | None = None) -> bool:
    """Published complete from these inputs, and its changes note still compares with the edition
    it would compare with now (publishing an earlier date since then makes the note stale)."""
    from . import changes

    data = store.read_manifest(reports_dir / build_params.edition_id)
    if not data or data.get("inputs_digest") != digest or data.get("status") != "ok":
        return False
    previous, _same = _comparison(reports_dir, build_params, kind, history)
    return changes.recorded_basis_key(data) == changes.basis_key(previous)


def plan(options: BuildOptions) -> tuple[str, str, bool]:
    """(edition id, inputs digest, up to date?) of the build these options ask for, without building:
    a batch client decides with it what to send to remote workers."""
    sections, build_params = check_inputs(options)
    reports_dir = store.prepare_reports_dir(options.reports_dir)
    digest = inputs_digest(input_hashes(sections), build_params, options.engine, options.pdf_standard,
                           _base_url(options))
    kind, _pointer = _kind(sections, build_params)
    current = not options.force and _up_to_date(reports_dir, build_params, digest, kind)
    return build_params.edition_id, digest, current


def validate_data(hashes: dict[str, str], cache_root: Path) -> bool:
    """Check every table against the catalogue, once per distinct set of data files: True if it
    validated now, False if these data files had passed before."""
    data_digest = hashlib.sha256(json.dumps({k: v for k, v in hashes.items() if k.startswith("data/")},
                                            sort_keys=True).encode()).hexdigest()
    marker = cache_root / "validated" / data_digest
    if marker.is_file():
        return False
    from .. import claims

    claims.check_data()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    return True


def check_data(hashes: dict[str, str], cache_root: Path, build_params: params_mod.BuildParams):
    """Validate the data, then read what the manifest records of them (events shown, claim
    verdicts). A build runs this on a warm worker beside the first sections (``DATA_CHECK``):
    there pandas is loaded already, and the build's own process never needs it while sections run.

    The events and verdicts are kept in the cache folder, keyed by the data, the helper code, the
    package versions and the as-of date: a rebuild after a markdown edit reads them back."""
    validated = validate_data(hashes, cache_root)
    key = hashlib.sha256(json.dumps([{k: v for k, v in hashes.items() if k.startswith(("data/", "report_helpers/"))},
                                     build_params.as_of.isoformat(), package_versions()],
                                    sort_keys=True).encode()).hexdigest()
    kept = cache_root / "facts" / f"{key}.json"
    try:
        facts = json.loads(kept.read_text(encoding="utf-8"))
        return validated, facts["events"], facts["verdicts"]
    except (OSError, ValueError, KeyError):
        pass
    events, verdicts = shown_events(build_params), claim_verdicts(build_params)
    kept.parent.mkdir(parents=True, exist_ok=True)
    partial = kept.with_name(f".{kept.name}.{os.getpid()}")
    partial.write_text(json.dumps({"events": events, "verdicts": verdicts}), encoding="utf-8")
    os.replace(partial, kept)  # whole or absent: builds of a batch may write it at the same time
    return validated, events, verdicts


DATA_CHECK = "data check"


def _log_data_check(validated: bool, seconds: float) -> None:
    if validated:
        log.info("validated the data against the catalogue (and read events and verdicts) in %.1f s", seconds)
    else:
        log.info("data unchanged since it was last validated")


class _Progress:
    """Log each section's start and end; on a terminal, also a running count."""

    def __init__(self, total: int):
        self.total, self.finished = total, 0
        self.started: set[str] = set()
        self.tty = sys.stderr.isatty()

    def start(self, slug: str) -> None:
        self.started.add(slug)
        log.info("running %s", slug)

    def done(self, result) -> None:
        self.finished += 1
        if result.ok:
            log.info("executed %-26s %5.1f s", result.slug, result.seconds)
        else:
            log.error("section %s failed: %s", result.slug, result.error)
        if self.tty:
            print(f"  [{self.finished}/{self.total}] {'ok  ' if result.ok else 'FAIL'} {result.slug}",
                  file=sys.stderr, flush=True)


def execute(sections: list[Section], build_params: params_mod.BuildParams, staging: Path,
            options: BuildOptions, hashes: dict[str, str], cache_root: Path, converter=None):
    """Reuse or run each section, wave by wave (a section after those it reads).

    When sections must run, the data check (``check_data``) runs on the first free worker beside the
    first wave; if it fails, the running sections are stopped and the build ends with the data
    error (exit 2). A section's run is cached only once the data have passed. Each section that has
    run or been reused goes to ``converter`` at once. Returns the executions, for each section what
    happened to it and why (what --explain prints), and the data check's events and verdicts."""
    import threading

    from ..errors import DataError
    from .cache import Decision, SectionCache, code_key, results_digest
    from .execute import Call, Execution, Job, Pool
    from .render import preload

    threading.Thread(target=preload, daemon=True).start()
    by_slug = {s.slug: s for s in sections}
    data_call = Call(DATA_CHECK, f"{__name__}:check_data", (hashes, cache_root, build_params))
    checked: list = []  # the data check's Execution, once it has finished

    def ready(result) -> None:
        if result.slug == DATA_CHECK:
            checked.append(result)
            return
        progress.done(result)
        if result.ok and converter is not None:
            converter.ready(by_slug[result.slug])

    def data_failed() -> bool:
        return bool(checked) and not checked[0].ok

    results_dir, logs_dir, work_dir = staging / "results", staging / "logs", staging / ".work"
    for folder in (results_dir, logs_dir, work_dir):
        folder.mkdir()
    cache = SectionCache(cache_root / "sections")
    data_hashes = {k.removeprefix("data/"): v for k, v in hashes.items() if k.startswith("data/")}
    # what every section's code runs on: the helpers, and the project file (its colours, its names)
    helpers = hashlib.sha256(json.dumps({k: v for k, v in hashes.items() if k == PROJECT_FILE or (
        k.startswith("report_helpers/") and k.endswith(".py"))}, sort_keys=True).encode()).hexdigest()
    versions = package_versions()
    keys = {s.slug: code_key(s.notebook, build_params.for_section(s.parameters), helpers, versions,
                             options.engine) for s in sections}
    progress = _Progress(len(sections))
    done: dict[str, Execution] = {}
    planned: dict[str, Decision] = {}
    deps: dict[str, dict] = {}  # digests of the results each section reads, as it saw them
    workers = max(1, min(options.jobs or os.cpu_count() or 1, len(sections)))
    pool = None
    waves = execution_waves(sections)
    try:
        for number, wave in enumerate(waves):
            to_run = []
            for s in wave:
                deps[s.slug] = {d: results_digest(results_dir / f"{d}.json") for d in s.reads}
                if options.force:
                    decision = Decision(s.slug, False, "ran: --force")
                else:
                    decision = cache.lookup(s.slug, keys[s.slug], data_hashes, deps[s.slug])
                if decision.hit:
                    try:
                        if cache.restore(s.slug, keys[s.slug], decision.state, s.path, staging / s.path.name,
                                         results_dir):
                            decision = Decision(s.slug, True, decision.reason + "; markdown re-rendered")
                        done[s.slug] = Execution(s.slug, True, 0.0)
                        log.info("reused %-28s (cached)", s.slug)
                        if converter is not None:
                            converter.ready(s)
                    except OSError:  # another build of a batch dropped the entry meanwhile
                        decision = Decision(s.slug, False, "ran: its cached run was dropped while it was read")
                if not decision.hit:
                    to_run.append(Job(s.slug, str(s.path), str(staging / s.path.name),
                                      build_params.for_section(s.parameters), s.reads,
                                      str(work_dir / s.slug), str(logs_dir / f"{s.slug}.stderr.log"),
                                      results_dir=str(results_dir)))
                planned[s.slug] = decision
            if to_run:
                if pool is None:
                    pool = options.pool or Pool(workers, project_dir=str(project_dir()),
                                                results_dir=str(results_dir), engine=options.engine,
                                                cell_timeout=options.cell_timeout)
                    to_run.insert(0, data_call)
                elif pool is not options.pool:  # no wave from here on runs more sections side by side
                    pool.shrink(max(len(w) for w in waves[number:]))
                if converter is not None and len(pool.workers) > 1:
                    converter.pause()  # convert once fewer sections run side by side (memory)
                done = pool.run(to_run, section_timeout=options.section_timeout, on_start=progress.start,
                                on_done=ready, done=done, stop=data_failed)
                if converter is not None:
                    converter.resume()
                done.pop(DATA_CHECK, None)
                if data_failed():  # a DataError (exit 2), or the check's worker died or timed out
                    failure = checked[0]
                    if isinstance(failure.value, BaseException):
                        raise failure.value
                    raise RuntimeError(f"the data check did not finish: {failure.error}")
                for job in to_run:
                    if isinstance(job, Job) and done[job.slug].ok:
                        cache.store(job.slug, keys[job.slug], Path(job.output), results_dir, data_hashes,
                                    deps[job.slug])
        if not checked:  # every section was reused: check here
            start = time.perf_counter()
            checked.append(Execution(DATA_CHECK, True, 0.0, value=check_data(hashes, cache_root, build_params)))
            _log_data_check(checked[0].value[0], time.perf_counter() - start)
        else:
            _log_data_check(checked[0].value[0], checked[0].seconds)
    except DataError:
        if options.explain:  # sections that ran beside the data check are discarded
            for s in sections:
                ran = s.slug in done and not planned.get(s.slug, Decision(s.slug, False, "")).hit
                what = ("ran, but was discarded" if ran else "stopped" if s.slug in progress.started
                        else "not run")
                print(f"{s.slug}: {what}: the data did not pass validation", flush=True)
        raise
    finally:
        if pool is not None and pool is not options.pool:
            pool.close()
        shutil.rmtree(work_dir, ignore_errors=True)
    decisions = {s.slug: _outcome(planned.get(s.slug), done.get(s.slug), s.slug) for s in sections}
    if options.explain:
        for s in sections:
            print(f"{s.slug}: {decisions[s.slug].reason}", flush=True)
    _validated, events, verdicts = checked[0].value
    return done, decisions, (events, verdicts)


def _outcome(planned, execution, slug: str):
    """What happened to a section: reused, ran (and maybe failed), or never ran, and why."""
    from .cache import Decision

    if planned is None or execution is None:
        return Decision(slug, False, "not run: the build stopped before it")
    if planned.hit:
        return planned
    if execution.ok:
        return planned
    if execution.error.startswith("not run"):
        return Decision(slug, False, execution.error)
    return Decision(slug, False, f"{planned.reason}; it failed: {execution.error}")


def recorded_figures(staging: Path) -> dict[str, dict]:
    from .. import results

    out = {}
    for path in sorted((staging / "results").glob("*.json")):
        if path.name.endswith(".reads.json"):
            continue
        for name, fig in results.read(path).items():
            out[name] = {"value": fig.value, "unit": fig.unit, "label": fig.label, "period": fig.period,
                         "section": path.stem, "sources": list(fig.sources), "confidence": fig.confidence,
                         "provenance": fig.provenance,  # how it was computed: rows, columns, as-of filter
                         "digits": fig.digits}
    return out


def shown_events(build_params: params_mod.BuildParams) -> dict[str, dict]:
    """The timeline's events in this edition (none if the briefing keeps no `events` table)."""
    if not catalogue.has_table("events"):
        return {}
    events = catalogue.load_table("events", as_of=build_params.as_of)
    return {row.event_id: {"date": row.date.isoformat(), "title": row.title} for row in events.itertuples()}


def claim_verdicts(build_params: params_mod.BuildParams) -> dict[str, str]:
    from .. import claims
    from .changes import base_verdict

    if not catalogue.has_table("claims"):  # a briefing without a claims register
        return {}
    register = claims.register(build_params.as_of)
    return {row.claim_id: base_verdict(row.shown_verdict) for row in register.itertuples()}


def write_manifest(staging: Path, **fields) -> None:
    outputs = {p.name: _sha256(p) for p in sorted(staging.iterdir())
               if p.is_file() and p.suffix in (".html", ".pdf", ".ipynb")}
    files = {p.relative_to(staging).as_posix(): _sha256(p) for p in sorted(staging.rglob("*"))
             if p.is_file() and p.name != "manifest.json"}  # every file: a reader can check them all
    manifest = {**fields, "outputs": outputs, "files": files, "packages": package_versions()}
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")


def _section_entries(sections: list[Section], executions: dict, decisions: dict) -> list[dict]:
    entries = []
    for s in sections:
        run, decision = executions.get(s.slug), decisions.get(s.slug)
        status = "ok" if run and run.ok else ("not run" if run and run.error.startswith("not run") else "failed")
        entries.append({
            "slug": s.slug, "title": s.title, "notebook": s.path.name, "status": status,
            "seconds": round(run.seconds, 2) if run else None, "error": run.error if run else "not run",
            "cache": {"hit": decision.hit, "reason": decision.reason} if decision else None,
        })
    return entries


def build(options: BuildOptions) -> BuildResult:
    start = time.perf_counter()
    sections, build_params = check_inputs(options)
    reports_dir = store.prepare_reports_dir(options.reports_dir)
    edition_id = build_params.edition_id
    kind, pointer = _kind(sections, build_params)
    lock = store.build_lock(reports_dir, options.lock_wait) if options.hold_lock else contextlib.nullcontext()
    with lock:
        if options.hold_lock:
            publish.clear_leftovers(reports_dir)
        hashes = input_hashes(sections)
        digest = inputs_digest(hashes, build_params, options.engine, options.pdf_standard, _base_url(options))
        if (not options.force and options.publish
                and _up_to_date(reports_dir, build_params, digest, kind, options.history)):
            log.info("edition %s is up to date; nothing to do (use --force to rebuild)", edition_id)
            if options.explain:
                print(f"all sections: reused: edition {edition_id} is up to date", flush=True)
            return BuildResult(edition_id, reports_dir / edition_id, skipped=True,
                               seconds=time.perf_counter() - start)
        log.info("building edition %s (%d sections)", edition_id, len(sections))
        try:
            staging = publish.staging_dir(reports_dir, edition_id)
        except OSError as exc:
            raise OutputError(f"cannot write in {reports_dir}: {exc.strerror}") from None
        file_log = logging.FileHandler(staging / "build.log", encoding="utf-8")
        file_log.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(file_log)

        def close_log() -> None:  # before the manifest lists build.log's digest
            log.removeHandler(file_log)
            file_log.close()

        from .render import Converter

        converter = Converter(staging, build_params.edition, typst=options.pdf)
        try:
            result = _build_in(staging, sections, build_params, options, reports_dir, hashes, digest, start,
                               converter, kind=kind, pointer=pointer, close_log=close_log)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise OutputError(f"could not write the edition in {reports_dir} ({exc.strerror or exc}); "
                              "nothing was published") from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            converter.close()
            close_log()
    return result


def _build_in(staging: Path, sections: list[Section], build_params: params_mod.BuildParams,
              options: BuildOptions, reports_dir: Path, hashes: dict, digest: str, start: float, converter, *,
              kind: str, pointer: str, close_log) -> BuildResult:
    from ..updates.freshness import edition_freshness
    from ..updates.vintages import vintage_record
    from . import changes
    from .render import render

    edition_id = build_params.edition_id
    executions, decisions, (events, verdicts) = execute(sections, build_params, staging, options, hashes,
                                                        options.cache_dir or reports_dir / CACHE_DIR, converter)
    failed = [s.slug for s in sections if not executions[s.slug].ok]
    status = "ok" if not failed else "partial"
    fields = dict(edition_id=edition_id, kind=kind, pointer=pointer, parameters=build_params.as_dict(),
                  engine=options.engine, pdf_standard=options.pdf_standard, inputs_digest=digest, inputs=hashes,
                  built=_build_time().isoformat(), vintages=vintage_record(build_params.as_of))
    if failed and not options.allow_partial:
        close_log()
        write_manifest(staging, status="failed", sections=_section_entries(sections, executions, decisions),
                       seconds=round(time.perf_counter() - start, 2), **fields)
        kept = publish.keep_failed(staging, reports_dir, edition_id)
        raise SectionFailed(f"{len(failed)} section(s) failed: {', '.join(failed)}; executed notebooks and "
                            f"log kept in {kept}; the previous edition stays published")
    figures = recorded_figures(staging)
    previous, same = _comparison(reports_dir, build_params, kind, options.history)
    change_note = changes.compare(previous, figures, events, verdicts, same)
    freshness = edition_freshness(build_params.as_of, log=log)
    if freshness["data_as_of"]:  # only once a vintage was accepted: hand-entered editions are unchanged
        change_note["freshness"] = freshness
    render(sections, executions, converter, build_params, staging, change_note, options.pdf_standard,
           print_pdf=options.pdf, base_url=_base_url(options))
    seconds = time.perf_counter() - start
    log.info("built edition %s in %.1f s", edition_id, seconds)
    close_log()
    write_manifest(staging, status=status, sections=_section_entries(sections, executions, decisions),
                   seconds=round(seconds, 2), figures=figures, events=events, verdicts=verdicts,
                   changes=change_note, **fields)
    result = BuildResult(edition_id, staging, status=status, seconds=seconds,
                         decisions=[decisions[s.slug] for s in sections])
    if not options.publish:
        return result  # a remote worker: the batch client checks and publishes it
    result.edition_dir = publish.publish(staging, reports_dir, edition_id)
    log.info("published %s%s", edition_id, f" ({pointer} names it)" if (reports_dir / pointer).resolve()
             == result.edition_dir.resolve() else "")
    if failed:
        raise SectionFailed(f"published {edition_id} with placeholders for {', '.join(failed)} "
                            "(--allow-partial); latest still points at the previous complete edition")
    return result


def _base_url(options: BuildOptions) -> str:
    from .downloads import base_url

    return base_url(options.base_url)


def _build_time():
    from .assemble import build_time

    return build_time()
