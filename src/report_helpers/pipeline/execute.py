"""Execute section notebooks with papermill in a pool of worker processes, side by side.

Workers start once per build and preload the heavy modules (see warm.py); each section then runs
in a clean namespace (the ``warm`` engine) or in a fresh Jupyter kernel (``kernel``). A section that
exceeds its time limit is ended with its worker, which is replaced; workers die with the build
(PR_SET_PDEATHSIG), so a killed build leaves no orphans. A section runs once every section it
reads has finished; if one fails, those that read it are not run, and the others still are.
"""

from __future__ import annotations

import ctypes
import json
import multiprocessing
import os
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Callable

ENGINES = {"warm": "warm", "kernel": "nbclient"}
# One BLAS thread per worker: sections already run side by side on the cores.
THREAD_CAPS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Execution:
    slug: str
    ok: bool
    seconds: float
    error: str = ""
    value: object = None  # a Call's return value, or the exception it raised


@dataclass(frozen=True)
class Call:
    """A function run on a warm worker beside the sections (the build's data check), where pandas
    is loaded already. Its return value, or the exception it raised, comes back in the Execution."""

    slug: str
    function: str  # "package.module:function"
    args: tuple = ()
    reads: tuple[str, ...] = ()


@dataclass(frozen=True)
class Job:
    slug: str
    notebook: str
    output: str
    parameters: dict
    reads: tuple[str, ...]
    workdir: str
    stderr_log: str
    results_dir: str = ""  # where its results go; default: the pool's (a pool can serve many builds)


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def source_numbers(cells: list) -> list[int | None]:
    """For each cell of an executed notebook, the number JupyterLab shows for it in the source
    notebook (1-based); None for the cells papermill adds (injected parameters, error markers)."""
    numbers, number = [], 0
    for cell in cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags or "papermill-error-cell-tag" in tags:
            numbers.append(None)
        else:
            number += 1
            numbers.append(number)
    return numbers


def source_cell_number(executed_path: str, index: int) -> int:
    """JupyterLab's number (``source_numbers``) of the cell papermill reports by its 0-based index,
    which counts the cells as they ran: without the error markers papermill adds afterwards."""
    try:
        cells = json.loads(Path(executed_path).read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return index + 1
    ran = [c for c in cells if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
    numbers = source_numbers(ran)
    number = numbers[index] if index < len(numbers) else None
    return number if number is not None else index + 1


def _cell_error(exc, job: Job) -> str:
    source = (exc.source or "").strip().splitlines()
    first = f" ({source[0][:80]})" if source else ""
    number = source_cell_number(job.output, exc.cell_index)
    return f"{Path(job.notebook).name}, cell {number}{first}: {exc.ename}: {exc.evalue}"


def _run(job: Job, engine: str, cell_timeout: int) -> Execution:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    if job.results_dir:
        from ..results import RESULTS_ENV

        os.environ[RESULTS_ENV] = job.results_dir
    Path(job.workdir).mkdir(parents=True, exist_ok=True)
    with open(job.stderr_log, "ab") as log_file:  # a kernel inherits stderr: keep its chatter here
        os.dup2(log_file.fileno(), 2)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            job.notebook, job.output, parameters=job.parameters, engine_name=ENGINES[engine],
            kernel_name="python3", language="python", progress_bar=False, log_output=False,
            cwd=job.workdir, execution_timeout=cell_timeout,
        )
    except PapermillExecutionError as exc:
        return Execution(job.slug, False, time.perf_counter() - start, _cell_error(exc, job))
    except Exception as exc:  # kernel died, cell timeout, unreadable notebook: keep the message
        return Execution(job.slug, False, time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
    return Execution(job.slug, True, time.perf_counter() - start)


def _call(call: Call) -> Execution:
    import importlib

    from .. import catalogue

    catalogue.on_read(None)  # a section's read log must not record what the call reads
    module, name = call.function.split(":")
    start = time.perf_counter()
    try:
        value = getattr(importlib.import_module(module), name)(*call.args)
    except Exception as exc:  # the caller decides what it means
        return Execution(call.slug, False, time.perf_counter() - start, f"{type(exc).__name__}: {exc}", exc)
    return Execution(call.slug, True, time.perf_counter() - start, value=value)


def _worker(conn: Connection, env: dict, engine: str, cell_timeout: int) -> None:
    os.setsid()
    _die_with_parent()
    os.environ.update(env)
    if engine == "warm":
        from . import warm

        warm.preload()
    conn.send("ready")
    while True:
        job = conn.recv()
        if job is None:
            return
        conn.send(_call(job) if isinstance(job, Call) else _run(job, engine, cell_timeout))


class _Worker:
    def __init__(self, ctx, env: dict, engine: str, cell_timeout: int):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child, env, engine, cell_timeout), daemon=True)
        self.process.start()
        child.close()
        self.ready = False
        self.job: Job | Call | None = None
        self.started = 0.0

    def give(self, job: Job | Call) -> None:
        self.conn.send(job)
        self.job, self.started = job, time.monotonic()

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            self.process.kill()
        self.process.join(timeout=5)


def _resident(worker: _Worker) -> int:
    import psutil

    try:
        return psutil.Process(worker.process.pid).memory_info().rss
    except psutil.Error:
        return 0


class Pool:
    """Warm workers, started early so their imports overlap the build's own checks."""

    def __init__(self, size: int, *, project_dir: str, results_dir: str, engine: str = "warm",
                 cell_timeout: int = 300):
        from ..paths import PROJECT_ENV
        from ..results import RESULTS_ENV

        self.env = {**THREAD_CAPS, PROJECT_ENV: project_dir, RESULTS_ENV: results_dir,
                    "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        self.engine, self.cell_timeout = engine, cell_timeout
        self.ctx = multiprocessing.get_context("spawn")
        self.workers = [self._spawn() for _ in range(size)]

    def _spawn(self) -> _Worker:
        return _Worker(self.ctx, self.env, self.engine, self.cell_timeout)

    def close(self) -> None:
        for worker in self.workers:
            worker.kill()
        self.workers = []

    def shrink(self, size: int) -> None:
        """Close idle workers beyond ``size``, largest first: later waves that run fewer sections
        side by side give their memory back."""
        idle = sorted((w for w in self.workers if w.job is None), key=_resident, reverse=True)
        for worker in idle[:max(0, len(self.workers) - max(1, size))]:
            worker.kill()
            self.workers.remove(worker)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def run(self, jobs: list[Job | Call], *, section_timeout: float,
            on_start: Callable[[str], None] = lambda slug: None,
            on_done: Callable[[Execution], None] = lambda result: None,
            done: dict[str, Execution] | None = None,
            stop: Callable[[], bool] = lambda: False) -> dict[str, Execution]:
        """Run jobs respecting what each reads; ``done`` may hold results known beforehand.
        When ``stop()`` turns true, the running jobs are ended (their workers replaced) and the
        jobs not yet given out are left out of the result."""
        done = dict(done or {})
        pending = list(jobs)

        def finish(result: Execution) -> None:
            done[result.slug] = result
            on_done(result)

        while pending or any(w.job for w in self.workers):
            if stop():
                for index, worker in enumerate(self.workers):
                    if worker.job:
                        worker.kill()
                        self.workers[index] = self._spawn()
                return done
            for job in list(pending):
                failed = [r for r in job.reads if r in done and not done[r].ok]
                if failed:
                    pending.remove(job)
                    finish(Execution(job.slug, False, 0.0, f"not run: it reads {', '.join(failed)}, which failed"))
            for worker in self.workers:
                if worker.ready and worker.job is None:
                    job = next((j for j in pending if all(r in done for r in j.reads)), None)
                    if job:
                        pending.remove(job)
                        worker.give(job)
                        on_start(job.slug)
            busy = [w.conn for w in self.workers if w.job or not w.ready]
            for conn in wait(busy + [w.process.sentinel for w in self.workers], timeout=0.2):
                worker = next((w for w in self.workers if conn in (w.conn, w.process.sentinel)), None)
                if worker is None or conn is worker.process.sentinel:
                    continue
                try:
                    message = worker.conn.recv()
                except EOFError:
                    continue
                if message == "ready":
                    worker.ready = True
                else:
                    worker.job = None
                    finish(message)
            for index, worker in enumerate(self.workers):
                elapsed = time.monotonic() - worker.started
                if worker.job and elapsed > section_timeout:
                    slug = worker.job.slug
                    worker.kill()
                    self.workers[index] = self._spawn()
                    finish(Execution(slug, False, elapsed, f"timed out after {section_timeout:g} s"))
                elif not worker.process.is_alive():
                    if worker.job:
                        finish(Execution(worker.job.slug, False, elapsed,
                                         f"worker died (exit code {worker.process.exitcode})"))
                    elif not worker.ready:
                        raise RuntimeError(f"a build worker failed to start (exit code {worker.process.exitcode})")
                    self.workers[index] = self._spawn()
        return done
