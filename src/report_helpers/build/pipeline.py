"""`briefing build`, step by step: check, execute, convert, assemble, print, publish."""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import nbformat

from .. import catalogue, params as params_mod
from ..errors import SectionFailed
from ..paths import project_dir
from . import assemble, convert, publish
from .execute import Execution, execute_section
from .sections import Section, discover, execution_waves

log = logging.getLogger("briefing")
PACKAGES = ("papermill", "nbconvert", "nbclient", "altair", "vl-convert-python", "weasyprint", "pandas")


@dataclass
class BuildOptions:
    given: dict[str, str] = field(default_factory=dict)
    reports_dir: Path = Path("reports")
    force: bool = False
    jobs: int = 0
    cell_timeout: int = 300
    lock_wait: float = 60.0


@dataclass
class BuildResult:
    edition_id: str
    edition_dir: Path
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


def inputs_digest(sections: list[Section], build_params: params_mod.BuildParams) -> str:
    """Everything that can change the output: notebooks, data, helper code, parameters, versions."""
    root = project_dir()
    digest = hashlib.sha256(json.dumps(build_params.as_dict(), sort_keys=True).encode())
    helpers = Path(__file__).resolve().parents[1]
    files = [s.path for s in sections] + sorted((root / "data").glob("*")) + sorted(
        p for p in helpers.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(str(path.relative_to(root) if path.is_relative_to(root) else path.name).encode())
        digest.update(path.read_bytes())
    for package in PACKAGES:
        digest.update(f"{package}=={_version(package)}".encode())
    return digest.hexdigest()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def _up_to_date(edition_dir: Path, digest: str) -> bool:
    manifest = edition_dir / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return False
    return data.get("inputs_digest") == digest and data.get("status") == "ok"


def run_sections(sections: list[Section], build_params: params_mod.BuildParams, staging: Path,
                 options: BuildOptions) -> dict[str, Execution]:
    """Execute sections in dependency waves, side by side in worker processes."""
    results_dir = staging / "results"
    logs_dir = staging / "logs"
    results_dir.mkdir()
    logs_dir.mkdir()
    jobs = options.jobs or os.cpu_count() or 1
    done: dict[str, Execution] = {}
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=min(jobs, len(sections)), mp_context=ctx) as pool:
        for wave in execution_waves(sections):
            futures = {
                pool.submit(execute_section, s.slug, str(s.path), str(staging / s.path.name),
                            build_params.for_section(s.parameters), project_dir=str(project_dir()),
                            results_dir=str(results_dir), stderr_log=str(logs_dir / f"{s.slug}.stderr.log"),
                            cell_timeout=options.cell_timeout): s
                for s in wave
            }
            for future in cf.as_completed(futures):
                result = future.result()
                done[result.slug] = result
                if result.ok:
                    log.info("executed %-28s %5.1f s", result.slug, result.seconds)
                else:
                    log.error("section %s failed: %s", result.slug, result.error)
            if any(not done[s.slug].ok for s in wave):
                break
    return done


def render(sections: list[Section], build_params: params_mod.BuildParams, staging: Path) -> None:
    """Executed notebooks -> section pages, briefing.html and briefing.pdf in the staging folder."""
    from .pdf import write_pdf

    meta = assemble.Meta(build_params.as_of, build_params.edition, assemble.build_time())
    sources = catalogue.sources()
    pages = []
    for section in sections:
        executed = nbformat.read(staging / section.path.name, as_version=4)
        cleaned = convert.clean(executed, edition=build_params.edition)
        for message in cleaned.dropped:
            log.warning("section %s, %s", section.slug, message)
        page = assemble.SectionPage(section.slug, section.title, convert.fragment(cleaned.notebook, section.slug))
        (staging / f"{section.path.stem}.html").write_text(
            assemble.section_page(page, meta, sources), encoding="utf-8")
        pages.append(page)
    (staging / "briefing.html").write_text(assemble.briefing_page(pages, meta, sources), encoding="utf-8")
    start = time.perf_counter()
    write_pdf(assemble.print_page(pages, meta, sources), staging / "briefing.pdf", base_url=str(staging))
    log.info("printed briefing.pdf in %.1f s", time.perf_counter() - start)


def write_manifest(staging: Path, build_params, sections, executions, digest, status, seconds) -> None:
    manifest = {
        "edition_id": build_params.edition_id,
        "parameters": build_params.as_dict(),
        "status": status,
        "inputs_digest": digest,
        "built": assemble.build_time().isoformat(),
        "seconds": round(seconds, 2),
        "sections": [
            {"slug": s.slug, "title": s.title, "notebook": s.path.name,
             "status": "ok" if executions.get(s.slug) and executions[s.slug].ok else "failed",
             "seconds": round(executions[s.slug].seconds, 2) if s.slug in executions else None,
             "error": executions[s.slug].error if s.slug in executions else "not run"}
            for s in sections
        ],
        "packages": {p: _version(p) for p in PACKAGES},
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def build(options: BuildOptions) -> BuildResult:
    start = time.perf_counter()
    sections, build_params = prepare(options)
    reports_dir = publish.prepare_reports_dir(options.reports_dir)
    edition_id = build_params.edition_id
    log.info("building edition %s (%d sections)", edition_id, len(sections))
    with publish.build_lock(reports_dir, options.lock_wait):
        digest = inputs_digest(sections, build_params)
        if not options.force and _up_to_date(reports_dir / edition_id, digest):
            publish.point_latest(reports_dir, edition_id)
            log.info("edition %s is up to date; nothing to do (use --force to rebuild)", edition_id)
            return BuildResult(edition_id, reports_dir / edition_id, skipped=True,
                               seconds=time.perf_counter() - start)
        staging = publish.staging_dir(reports_dir, edition_id)
        file_log = logging.FileHandler(staging / "build.log", encoding="utf-8")
        file_log.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(file_log)
        try:
            executions = run_sections(sections, build_params, staging, options)
            failed = [s for s in sections if not executions.get(s.slug) or not executions[s.slug].ok]
            if failed:
                write_manifest(staging, build_params, sections, executions, digest, "failed",
                               time.perf_counter() - start)
                log.removeHandler(file_log)
                file_log.close()
                kept = publish.keep_failed(staging, reports_dir, edition_id)
                raise SectionFailed(
                    f"{len(failed)} section(s) failed: {', '.join(s.slug for s in failed)}; "
                    f"executed notebooks and log kept in {kept}; the previous edition stays published")
            render(sections, build_params, staging)
            seconds = time.perf_counter() - start
            write_manifest(staging, build_params, sections, executions, digest, "ok", seconds)
            log.info("built edition %s in %.1f s", edition_id, seconds)
        except BaseException:
            log.removeHandler(file_log)
            file_log.close()
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
            raise
        log.removeHandler(file_log)
        file_log.close()
        published = publish.publish(staging, reports_dir, edition_id)
        return BuildResult(edition_id, published, seconds=time.perf_counter() - start)
