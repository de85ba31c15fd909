"""`briefing build`, step by step: check, execute, convert, assemble, print, publish."""

from __future__ import annotations

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

import nbformat

from .. import catalogue, claims, params as params_mod, results
from ..errors import OutputError, SectionFailed
from ..paths import project_dir
from . import assemble, changes, convert, index, publish
from .execute import Execution, Job, run_jobs
from .sections import Section, discover, execution_waves

log = logging.getLogger("briefing")
PACKAGES = ("papermill", "nbconvert", "nbclient", "ipykernel", "altair", "vl-convert-python", "weasyprint",
            "pandas", "frictionless")


@dataclass
class BuildOptions:
    given: dict[str, str] = field(default_factory=dict)
    reports_dir: Path = Path("reports")
    force: bool = False
    jobs: int = 0
    cell_timeout: int = 300
    section_timeout: float = 900.0
    lock_wait: float = 60.0
    allow_partial: bool = False


@dataclass
class BuildResult:
    edition_id: str
    edition_dir: Path
    status: str = "ok"
    skipped: bool = False
    seconds: float = 0.0


def prepare(options: BuildOptions) -> tuple[list[Section], params_mod.BuildParams]:
    """Everything that can be checked without a kernel: notebooks, parameters, data."""
    sections = discover()
    for section in sections:
        section.check()
    specs = params_mod.merge_specs({s.slug: s.parameters for s in sections})
    build_params = params_mod.validate(specs, options.given, earliest=catalogue.earliest_date())
    publish.check_edition_id(build_params.edition_id)
    execution_waves(sections)
    catalogue.validate_package()
    return sections, build_params


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_files(sections: list[Section]) -> dict[str, Path]:
    """Everything that can change the output, by name: notebooks, data, the helper package."""
    root = project_dir()
    helpers = Path(__file__).resolve().parents[1]
    files = {f"notebooks/{s.path.name}": s.path for s in sections}
    files |= {f"data/{p.name}": p for p in sorted((root / "data").glob("*")) if p.is_file()}
    files |= {f"report_helpers/{p.relative_to(helpers)}": p for p in sorted(helpers.rglob("*"))
              if p.is_file() and "__pycache__" not in p.parts}
    return files


def inputs_digest(input_hashes: dict[str, str], build_params: params_mod.BuildParams) -> str:
    digest = hashlib.sha256(json.dumps(build_params.as_dict(), sort_keys=True).encode())
    digest.update(json.dumps(input_hashes, sort_keys=True).encode())
    digest.update(json.dumps(package_versions(), sort_keys=True).encode())
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "absent"
    return versions


def _up_to_date(edition_dir: Path, digest: str) -> bool:
    try:
        data = json.loads((edition_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return data.get("inputs_digest") == digest and data.get("status") == "ok"


class _Progress:
    """Log each section's start and end; on a terminal, also a running count."""

    def __init__(self, total: int):
        self.total, self.finished = total, 0
        self.tty = sys.stderr.isatty()

    def start(self, slug: str) -> None:
        log.info("running %s", slug)

    def done(self, result: Execution) -> None:
        self.finished += 1
        if result.ok:
            log.info("executed %-26s %5.1f s", result.slug, result.seconds)
        else:
            log.error("section %s failed: %s", result.slug, result.error)
        if self.tty:
            print(f"  [{self.finished}/{self.total}] {'ok  ' if result.ok else 'FAIL'} {result.slug}",
                  file=sys.stderr, flush=True)


def execute(sections: list[Section], build_params: params_mod.BuildParams, staging: Path,
            options: BuildOptions) -> dict[str, Execution]:
    (staging / "results").mkdir()
    (staging / "logs").mkdir()
    jobs = [Job(s.slug, str(s.path), str(staging / s.path.name), build_params.for_section(s.parameters),
                s.reads, str(staging / "logs" / f"{s.slug}.stderr.log")) for s in sections]
    progress = _Progress(len(jobs))
    return run_jobs(jobs, project_dir=str(project_dir()), results_dir=str(staging / "results"),
                    workers=options.jobs or os.cpu_count() or 1, cell_timeout=options.cell_timeout,
                    section_timeout=options.section_timeout, on_start=progress.start, on_done=progress.done)


def recorded_figures(staging: Path) -> dict[str, dict]:
    out = {}
    for path in sorted((staging / "results").glob("*.json")):
        for name, fig in results.read(path).items():
            out[name] = {"value": fig.value, "unit": fig.unit, "label": fig.label, "period": fig.period,
                         "section": path.stem}
    return out


def shown_events(build_params: params_mod.BuildParams) -> dict[str, dict]:
    events = catalogue.load_table("events", as_of=build_params.as_of)
    return {row.event_id: {"date": row.date.isoformat(), "title": row.title} for row in events.itertuples()}


def claim_verdicts(build_params: params_mod.BuildParams) -> dict[str, str]:
    register = claims.register(build_params.as_of)
    return {row.claim_id: (row.shown_verdict if isinstance(row.shown_verdict, str) else "")
            for row in register.itertuples()}


def render(sections: list[Section], executions: dict[str, Execution], build_params: params_mod.BuildParams,
           staging: Path, change_note: dict) -> None:
    """Executed notebooks -> section pages, briefing.html and briefing.pdf in the staging folder."""
    from .pdf import write_pdf

    meta = assemble.Meta(build_params.as_of, build_params.edition, assemble.build_time(), change_note)
    sources = catalogue.sources()
    pages = []
    for section in sections:
        run = executions[section.slug]
        if not run.ok:
            pages.append(assemble.SectionPage(section.slug, section.title, run.error, failed=True))
            continue
        executed = nbformat.read(staging / section.path.name, as_version=4)
        cleaned = convert.clean(executed, edition=build_params.edition)
        for message in cleaned.dropped:
            log.warning("section %s, %s", section.slug, message)
        page = assemble.SectionPage(section.slug, section.title, convert.fragment(cleaned.notebook, section.slug))
        (staging / f"{section.path.stem}.html").write_text(assemble.section_page(page, meta, sources),
                                                          encoding="utf-8")
        pages.append(page)
    (staging / "briefing.html").write_text(assemble.briefing_page(pages, meta, sources), encoding="utf-8")
    start = time.perf_counter()
    write_pdf(assemble.print_page(pages, meta, sources), staging / "briefing.pdf", base_url=str(staging))
    log.info("printed briefing.pdf in %.1f s", time.perf_counter() - start)


def write_manifest(staging: Path, **fields) -> None:
    outputs = {p.name: _sha256(p) for p in sorted(staging.iterdir())
               if p.is_file() and p.suffix in (".html", ".pdf", ".ipynb")}
    manifest = {**fields, "outputs": outputs, "packages": package_versions()}
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")


def _section_entries(sections: list[Section], executions: dict[str, Execution]) -> list[dict]:
    entries = []
    for s in sections:
        run = executions.get(s.slug)
        entries.append({
            "slug": s.slug, "title": s.title, "notebook": s.path.name,
            "status": "ok" if run and run.ok else ("not run" if run and run.error.startswith("not run") else "failed"),
            "seconds": round(run.seconds, 2) if run else None, "error": run.error if run else "not run",
            "cache": {"hit": False, "reason": "executed: sections are not cached yet"},
        })
    return entries


def build(options: BuildOptions) -> BuildResult:
    start = time.perf_counter()
    sections, build_params = prepare(options)
    reports_dir = publish.prepare_reports_dir(options.reports_dir)
    edition_id = build_params.edition_id
    log.info("building edition %s (%d sections)", edition_id, len(sections))
    with publish.build_lock(reports_dir, options.lock_wait):
        hashes = {name: _sha256(path) for name, path in input_files(sections).items()}
        digest = inputs_digest(hashes, build_params)
        if not options.force and _up_to_date(reports_dir / edition_id, digest):
            publish.point_latest(reports_dir, edition_id)
            log.info("edition %s is up to date; nothing to do (use --force to rebuild)", edition_id)
            return BuildResult(edition_id, reports_dir / edition_id, skipped=True,
                               seconds=time.perf_counter() - start)
        try:
            staging = publish.staging_dir(reports_dir, edition_id)
        except OSError as exc:
            raise OutputError(f"cannot write in {reports_dir}: {exc.strerror}") from None
        file_log = logging.FileHandler(staging / "build.log", encoding="utf-8")
        file_log.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(file_log)
        try:
            result = _build_in(staging, sections, build_params, options, reports_dir, hashes, digest, start)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise OutputError(f"could not write the edition in {reports_dir} ({exc.strerror or exc}); "
                              "nothing was published") from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            log.removeHandler(file_log)
            file_log.close()
    return result


def _build_in(staging: Path, sections: list[Section], build_params: params_mod.BuildParams,
              options: BuildOptions, reports_dir: Path, hashes: dict, digest: str, start: float) -> BuildResult:
    edition_id = build_params.edition_id
    executions = execute(sections, build_params, staging, options)
    failed = [s.slug for s in sections if not executions[s.slug].ok]
    status = "ok" if not failed else "partial"
    fields = dict(edition_id=edition_id, parameters=build_params.as_dict(), inputs_digest=digest,
                  inputs=hashes, built=assemble.build_time().isoformat())
    if failed and not options.allow_partial:
        write_manifest(staging, status="failed", sections=_section_entries(sections, executions),
                       seconds=round(time.perf_counter() - start, 2), **fields)
        kept = publish.keep_failed(staging, reports_dir, edition_id)
        raise SectionFailed(f"{len(failed)} section(s) failed: {', '.join(failed)}; executed notebooks and "
                            f"log kept in {kept}; the previous edition stays published")
    figures = recorded_figures(staging)
    events = shown_events(build_params)
    previous = changes.load_previous(reports_dir, build_params.as_of.isoformat())
    verdicts = claim_verdicts(build_params)
    change_note = changes.compare(previous, figures, events, verdicts)
    render(sections, executions, build_params, staging, change_note)
    seconds = time.perf_counter() - start
    write_manifest(staging, status=status, sections=_section_entries(sections, executions),
                   seconds=round(seconds, 2), figures=figures, events=events,
                   verdicts=verdicts, changes=change_note, **fields)
    published = publish.publish(staging, reports_dir, edition_id, move_latest=(status == "ok"))
    index.write_index(reports_dir)
    if failed:
        raise SectionFailed(f"published {edition_id} with placeholders for {', '.join(failed)} "
                            "(--allow-partial); latest still points at the previous complete edition")
    log.info("built edition %s in %.1f s", edition_id, seconds)
    return BuildResult(edition_id, published, status=status, seconds=seconds)
