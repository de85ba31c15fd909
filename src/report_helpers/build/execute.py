"""Execute section notebooks with papermill: each in a worker process of its own, side by side.

A worker runs in its own process group, so a section that exceeds its time limit is ended with its
kernel; it also dies with the build (PR_SET_PDEATHSIG), so a killed build leaves no orphans behind.
A section runs once every section it reads has succeeded; if one fails, those that read it are not
run, and the others still are.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..paths import PROJECT_ENV
from ..results import RESULTS_ENV

# One BLAS thread per kernel: sections already run side by side on the cores.
_THREAD_CAPS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Execution:
    slug: str
    ok: bool
    seconds: float
    error: str = ""


@dataclass(frozen=True)
class Job:
    slug: str
    notebook: str
    output: str
    parameters: dict
    reads: tuple[str, ...]
    stderr_log: str


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _cell_error(exc) -> str:
    source = (exc.source or "").strip().splitlines()
    first = f" ({source[0][:80]})" if source else ""
    return f"cell {exc.cell_index}{first}: {exc.ename}: {exc.evalue}"


def execute_notebook(job: Job, env: dict, cell_timeout: int) -> Execution:
    """In the worker: papermill writes the executed notebook even when a cell fails."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    os.environ.update(env)
    # The kernel inherits this worker's stderr: send its chatter to the section's log file.
    with open(job.stderr_log, "ab") as log_file:
        os.dup2(log_file.fileno(), 2)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            job.notebook, job.output, parameters=job.parameters, kernel_name="python3", language="python",
            progress_bar=False, log_output=False, cwd=str(Path(job.notebook).parent),
            execution_timeout=cell_timeout,
        )
    except PapermillExecutionError as exc:
        return Execution(job.slug, False, time.perf_counter() - start, _cell_error(exc))
    except Exception as exc:  # kernel died, cell timeout, unreadable notebook: keep the message
        return Execution(job.slug, False, time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
    return Execution(job.slug, True, time.perf_counter() - start)


def _worker(results: multiprocessing.Queue, job: Job, env: dict, cell_timeout: int) -> None:
    os.setsid()
    _die_with_parent()
    results.put(execute_notebook(job, env, cell_timeout))


def run_jobs(jobs: list[Job], *, project_dir: str, results_dir: str, workers: int, cell_timeout: int,
             section_timeout: float, on_start: Callable[[str], None] = lambda slug: None,
             on_done: Callable[[Execution], None] = lambda result: None) -> dict[str, Execution]:
    env = {**_THREAD_CAPS, PROJECT_ENV: project_dir, RESULTS_ENV: results_dir,
           "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    ctx = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue = ctx.Queue()
    pending = list(jobs)
    running: dict[str, tuple[multiprocessing.Process, float]] = {}
    done: dict[str, Execution] = {}

    def finish(result: Execution) -> None:
        done[result.slug] = result
        running.pop(result.slug, None)
        on_done(result)

    try:
        while pending or running:
            for job in list(pending):
                failed_reads = [r for r in job.reads if r in done and not done[r].ok]
                if failed_reads:
                    pending.remove(job)
                    finish(Execution(job.slug, False, 0.0, f"not run: it reads {', '.join(failed_reads)}, which failed"))
                elif len(running) < workers and all(r in done for r in job.reads):
                    pending.remove(job)
                    process = ctx.Process(target=_worker, args=(results, job, env, cell_timeout), daemon=True)
                    process.start()
                    running[job.slug] = (process, time.monotonic())
                    on_start(job.slug)
            try:
                finish(results.get(timeout=0.2))
            except queue.Empty:
                pass
            for slug, (process, started) in list(running.items()):
                elapsed = time.monotonic() - started
                if elapsed > section_timeout:
                    _kill(process)
                    finish(Execution(slug, False, elapsed, f"timed out after {section_timeout:g} s"))
                elif not process.is_alive() and slug in running:
                    try:  # its result may be on its way
                        finish(results.get(timeout=1.0))
                    except queue.Empty:
                        finish(Execution(slug, False, elapsed, f"worker died (exit code {process.exitcode})"))
    finally:
        for process, _ in running.values():
            _kill(process)
    return done


def _kill(process: multiprocessing.Process) -> None:
    """End a worker and its kernel (its process group); the worker alone if it has no group yet."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.join(timeout=5)
