"""`briefing batch`: many editions in one go, for example one per month-end over a range of dates.

The batch holds the reports folder's lock for its whole run. Editions are built in one of two ways:

- on a local process pool: each edition is built and published like a `briefing build`, into the
  reports folder itself, and all of them share the section cache;
- on a dask.distributed cluster, which needs no shared file system: the client sends each worker
  the project file, notebooks and data (a tar archive, extracted once per worker) and the editions to
  compare with; the worker builds in a temporary folder of its own, with a section cache kept in
  its local directory, and returns the edition as a tar archive. The client checks the archive
  against the digests in the edition's manifest and against its own inputs, then publishes it.

Publishing follows the same rules as a single build, so `latest` ends on the newest complete
edition of the default kind, whatever order the editions finish in. An edition's "Changes since"
note compares it with the newest earlier edition published when it was built; if the batch
published a newer earlier edition afterwards, a second pass rebuilds that edition's note (its
sections come from the cache).
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import io
import json
import logging
import os
import shutil
import tarfile
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path

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
    """One edition, built and published into the shared reports folder (a local pool worker)."""
    from .pipeline.build import build
    from .logs import configure_logging

    configure_logging(quiet=True)  # each edition's build.log keeps its full log
    as_of = options.given.get("as_of", "")
    try:
        result = build(options)
        return EditionOutcome(as_of, result.edition_id, "skipped" if result.skipped else result.status, 0)
    except BriefingError as exc:
        return EditionOutcome(as_of, "", "failed", exc.exit_code, str(exc))
    except Exception as exc:  # report, do not lose the other editions
        return EditionOutcome(as_of, "", "failed", 1, f"{type(exc).__name__}: {exc}")


# --- archives ------------------------------------------------------------------------------------

def archive(folder: Path) -> bytes:
    """A gzipped tar of a folder's contents, in a stable order."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_symlink() or ".ipynb_checkpoints" in path.parts:
                continue
            info = tar.gettarinfo(str(path), arcname=path.relative_to(folder).as_posix())
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if path.is_file():
                with open(path, "rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    return buffer.getvalue()


def extract(data: bytes, target: Path) -> None:
    """Unpack an archive into target, refusing links, devices and paths that leave it."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not (member.isfile() or member.isdir()):
                raise BriefingError(f"archive member {member.name!r} is not a plain file or folder")
        tar.extractall(target, filter="data")


def project_bundle() -> bytes:
    """What a remote worker needs besides the installed package: the project file, notebooks/
    and data/."""
    from .paths import PROJECT_FILE, project_dir

    root = project_dir()
    staging = Path(tempfile.mkdtemp(prefix="briefing-bundle-"))
    try:
        for name in ("notebooks", "data"):
            shutil.copytree(root / name, staging / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        shutil.copy(root / PROJECT_FILE, staging / PROJECT_FILE)
        return archive(staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# --- the remote side: runs on a dask worker ---------------------------------------------------------

@dataclass(frozen=True)
class RemoteJob:
    options: object  # BuildOptions; reports_dir is replaced by the worker's own folder
    history: list  # the manifests the changes note compares with (see changes.basis)
    bundle_digest: str


_WORKER_LOCK = threading.Lock()  # one edition at a time per worker process (os.environ is shared)


def _worker_dir() -> Path:
    try:
        from distributed import get_worker

        base = Path(get_worker().local_directory)
    except (ImportError, ValueError):
        base = Path(tempfile.gettempdir())
    path = base / "briefing"
    path.mkdir(parents=True, exist_ok=True)
    return path


def build_remote(job: RemoteJob, bundle: bytes) -> dict:
    """Build one edition in a private folder of this worker; return it as an archive."""
    from .logs import configure_logging
    from .paths import PROJECT_ENV
    from .pipeline.build import build

    configure_logging(quiet=True)
    with _WORKER_LOCK:
        home = _worker_dir()
        project = home / "projects" / job.bundle_digest
        if not (project / "notebooks").is_dir():
            unpacking = Path(tempfile.mkdtemp(prefix=".project-", dir=home))
            if hashlib.sha256(bundle).hexdigest() != job.bundle_digest:
                raise BriefingError("the project archive this worker received does not match its digest")
            extract(bundle, unpacking)
            project.parent.mkdir(exist_ok=True)
            try:
                os.rename(unpacking, project)
            except OSError:  # unpacked meanwhile by an earlier job
                shutil.rmtree(unpacking, ignore_errors=True)
        reports = Path(tempfile.mkdtemp(prefix="edition-", dir=home))
        saved = os.environ.get(PROJECT_ENV)
        os.environ[PROJECT_ENV] = str(project)
        options = replace(job.options, reports_dir=reports, hold_lock=True, publish=False, history=job.history,
                          cache_dir=home / "cache")
        reply = {"edition_id": "", "status": "failed", "exit_code": 1, "message": "", "archive": None,
                 "manifest_sha256": None, "worker": f"{os.uname().nodename}:{os.getpid()}"}
        try:
            try:
                result = build(options)
                folder, reply["status"], reply["exit_code"] = result.edition_dir, result.status, 0
                reply["edition_id"] = result.edition_id
                if result.status != "ok":
                    reply["exit_code"] = 1
            except BriefingError as exc:
                reply.update(exit_code=exc.exit_code, message=str(exc))
                kept = list((reports / ".failed").glob("*"))
                folder = kept[0] if kept else None
                if folder is not None:
                    reply["edition_id"] = folder.name
            if folder is not None and (folder / "manifest.json").is_file():
                reply["manifest_sha256"] = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
                reply["archive"] = archive(folder)
            return reply
        finally:
            if saved is None:
                os.environ.pop(PROJECT_ENV, None)
            else:
                os.environ[PROJECT_ENV] = saved
            shutil.rmtree(reports, ignore_errors=True)


# --- the client side ---------------------------------------------------------------------------------

def _history(reports_dir: Path, options) -> list[dict]:
    """The (at most two) published manifests an edition's changes note compares with."""
    from .pipeline import build as build_mod, changes
    from .publishing import store

    sections, build_params = build_mod.check_inputs(options)
    kind, _pointer = build_mod._kind(sections, build_params)
    previous, same = changes.basis(store.listing(reports_dir), edition_id=build_params.edition_id, kind=kind,
                                   as_of=build_params.as_of.isoformat())
    keep = ("edition_id", "kind", "pointer", "as_of", "parameters", "built", "build", "status", "figures",
            "events", "verdicts", "changes")
    return [{k: m.get(k) for k in keep} for m in (previous, same) if m is not None]


def _check(staging: Path, reply: dict, digest: str) -> dict:
    """The received edition's manifest, once every file matches its digest and the edition was built
    from the same inputs as this checkout's (notebooks, data, helper code, package versions)."""
    from .pipeline import build as build_mod

    manifest_bytes = (staging / "manifest.json").read_bytes() if (staging / "manifest.json").is_file() else b""
    if hashlib.sha256(manifest_bytes).hexdigest() != reply.get("manifest_sha256"):
        raise BriefingError("its manifest.json does not match the digest the worker sent")
    try:
        manifest = json.loads(manifest_bytes or b"{}")  # the bytes just checked, not a second read
    except ValueError:
        manifest = {}
    listed = manifest.get("files", {})
    present = {p.relative_to(staging).as_posix() for p in staging.rglob("*")
               if p.is_file() and p.name != "manifest.json"}
    for name in sorted(present | set(listed)):
        if name not in listed:
            raise BriefingError(f"{name} is not in its manifest")
        if name not in present:
            raise BriefingError(f"{name}, listed in its manifest, is missing")
        if hashlib.sha256((staging / name).read_bytes()).hexdigest() != listed[name]:
            raise BriefingError(f"{name} does not match its digest in the manifest")
    if manifest.get("inputs_digest") != digest:
        mine = build_mod.input_hashes(build_mod.discover())
        theirs = manifest.get("inputs", {})
        differ = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
        packages = sorted(k for k, v in build_mod.package_versions().items()
                          if manifest.get("packages", {}).get(k) != v)
        raise BriefingError("it was built from other inputs than this checkout's ("
                            + ", ".join(differ[:5] + [f"package {p}" for p in packages][:5] or ["parameters"])
                            + "); install the same wheel on the workers")
    return manifest


def receive(reply: dict, reports_dir: Path, digest: str, as_of: str) -> EditionOutcome:
    """Check an edition a worker sent and publish it (or keep it as a failed run)."""
    from .publishing import publish, store

    edition_id = reply.get("edition_id") or ""
    if not reply.get("archive"):
        return EditionOutcome(as_of, edition_id, "failed", reply.get("exit_code") or 1,
                              reply.get("message") or f"worker {reply.get('worker')} sent no edition")
    staging = publish.staging_dir(reports_dir, store.check_edition_id(edition_id))
    try:
        extract(reply["archive"], staging)
        _check(staging, reply, digest)
    except (BriefingError, OSError, tarfile.TarError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        return EditionOutcome(as_of, edition_id, "failed", 1,
                              f"refused the edition from worker {reply.get('worker')}: {exc}")
    if reply["status"] == "failed":
        kept = publish.keep_failed(staging, reports_dir, edition_id)
        return EditionOutcome(as_of, edition_id, "failed", reply.get("exit_code") or 1,
                              f"{reply.get('message')} (run kept in {kept})")
    publish.publish(staging, reports_dir, edition_id)
    return EditionOutcome(as_of, edition_id, reply["status"], reply.get("exit_code") or 0, reply.get("message", ""))


class _LocalPool:
    def __init__(self, workers: int):
        self.workers = workers

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def run(self, editions: list):
        import concurrent.futures as cf
        import multiprocessing

        with cf.ProcessPoolExecutor(max_workers=self.workers,
                                    mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(build_edition, e): e for e in editions}  # in date order
            for future in cf.as_completed(futures):
                as_of = futures[future].given.get("as_of", "")
                try:
                    yield future.result()
                except Exception as exc:  # the worker process died
                    yield EditionOutcome(as_of, "", "failed", 1, f"{type(exc).__name__}: {exc}")


class _Cluster:
    def __init__(self, scheduler: str, reports_dir: Path):
        self.scheduler, self.reports_dir = scheduler, reports_dir

    def __enter__(self):
        from distributed import Client

        self.client = Client(self.scheduler)
        bundle = project_bundle()
        self.bundle_digest = hashlib.sha256(bundle).hexdigest()
        [self.bundle] = self.client.scatter([bundle], broadcast=True)
        return self

    def __exit__(self, *exc):
        self.client.close()

    def run(self, editions: list):
        from distributed import as_completed

        from .pipeline.build import plan

        futures = {}
        for options in editions:
            as_of = options.given.get("as_of", "")
            try:
                edition_id, digest, current = plan(options)
            except BriefingError as exc:
                yield EditionOutcome(as_of, "", "failed", exc.exit_code, str(exc))
                continue
            if current:
                yield EditionOutcome(as_of, edition_id, "skipped", 0)
                continue
            job = RemoteJob(replace(options, jobs=0), _history(self.reports_dir, options), self.bundle_digest)
            futures[self.client.submit(build_remote, job, self.bundle, pure=False)] = (as_of, edition_id, digest)
        for future in as_completed(list(futures)):
            as_of, edition_id, digest = futures[future]
            try:
                reply = future.result()
            except Exception as exc:
                yield EditionOutcome(as_of, edition_id, "failed", 1, f"on the cluster: {type(exc).__name__}: {exc}")
                continue
            yield receive(reply, self.reports_dir, digest, as_of)


def run_batch(base, dates: list[dt.date], *, workers: int, scheduler: str | None) -> list[EditionOutcome]:
    """Build one edition per date. ``base`` is a BuildOptions whose parameters apply to all."""
    from .publishing import publish, store
    from .pipeline.build import plan

    reports_dir = store.prepare_reports_dir(base.reports_dir)
    editions = [replace(base, given={**base.given, "as_of": d.isoformat()}, reports_dir=reports_dir,
                        jobs=1, hold_lock=False) for d in sorted(dates)]
    outcomes: dict[str, EditionOutcome] = {}
    with store.build_lock(reports_dir, base.lock_wait):
        publish.clear_leftovers(reports_dir)
        runner = _Cluster(scheduler, reports_dir) if scheduler else _LocalPool(workers)
        with runner:
            where = f"the dask cluster at {scheduler}" if scheduler else f"{workers} local workers"
            log.info("batch of %d editions on %s", len(editions), where)
            for count, outcome in enumerate(runner.run(editions), start=1):
                outcomes[outcome.as_of] = outcome
                _log_progress(count, len(editions), outcome)
            # An edition built before an earlier-dated one of the batch was published compared
            # with an older edition: rebuild its note (its sections come from the cache).
            stale = []
            for options in editions:
                outcome = outcomes.get(options.given["as_of"])
                if outcome and outcome.status in ("ok", "skipped"):
                    again = replace(options, force=False)
                    try:
                        if not plan(again)[2]:
                            stale.append(again)
                    except BriefingError:
                        continue
            if stale:
                log.info("%d edition(s) compared with an edition older than one this batch published; "
                         "rebuilding their changes note", len(stale))
                for count, outcome in enumerate(runner.run(stale), start=1):
                    outcomes[outcome.as_of] = outcome
                    _log_progress(count, len(stale), outcome, "changes note rebuilt")
        publish.refresh(reports_dir)  # pointers and index, whatever happened above
    ordered = [outcomes[d.isoformat()] for d in sorted(dates) if d.isoformat() in outcomes]
    for outcome in ordered:
        line = f"{outcome.as_of}  {outcome.status:<8} {outcome.edition_id or ''} {outcome.message}".rstrip()
        (log.info if outcome.exit_code == 0 else log.error)("%s", line)
    return ordered


def _log_progress(count: int, total: int, outcome: EditionOutcome, note: str = "") -> None:
    line = f"[{count}/{total}] {outcome.as_of} {outcome.status}"
    if note and outcome.exit_code == 0:
        line += f" ({note})"
    elif outcome.exit_code != 0:
        line += f": {outcome.message}"
    (log.info if outcome.exit_code == 0 else log.error)("%s", line)
