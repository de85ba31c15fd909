"""Execute one section notebook with papermill, in a worker process of its own."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from ..paths import PROJECT_ENV
from ..results import RESULTS_ENV

# One BLAS thread per kernel: sections already run side by side on the cores.
_THREAD_CAPS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Execution:
    slug: str
    output: str
    ok: bool
    seconds: float
    error: str = ""


def execute_section(slug: str, notebook: str, output: str, parameters: dict, *,
                    project_dir: str, results_dir: str, stderr_log: str, cell_timeout: int) -> Execution:
    """Run in a worker: papermill writes the executed notebook even when a cell fails."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    # The kernel inherits this worker's stderr: send its chatter to a per-section log file.
    with open(stderr_log, "ab") as log_file:
        os.dup2(log_file.fileno(), 2)
    os.environ.update(_THREAD_CAPS)
    os.environ[PROJECT_ENV] = project_dir
    os.environ[RESULTS_ENV] = results_dir
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # the debugger's start-up notice
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            notebook, output, parameters=parameters, kernel_name="python3", language="python",
            progress_bar=False, log_output=False, report_mode=False,
            cwd=str(Path(notebook).parent), execution_timeout=cell_timeout,
        )
    except PapermillExecutionError as exc:
        where = f"cell {exc.cell_index + 1}" if exc.cell_index is not None else "a cell"
        return Execution(slug, output, False, time.perf_counter() - start,
                         f"{where}: {exc.ename}: {exc.evalue}")
    except Exception as exc:  # kernel died, timeout, bad notebook: keep the message
        return Execution(slug, output, False, time.perf_counter() - start,
                         f"{type(exc).__name__}: {exc}")
    return Execution(slug, output, True, time.perf_counter() - start)
