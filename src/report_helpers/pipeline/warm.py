"""A papermill engine that runs cells in a warm worker process instead of a new Jupyter kernel.

The worker imports pandas, Altair, vl-convert and the helpers once; each section then runs in a
fresh IPython namespace (``InteractiveShell.reset``), so names from one section never reach the
next, while the heavy modules stay loaded. Outputs are captured as a kernel would send them:
display data, streams, and an error output that papermill turns into PapermillExecutionError.
Registered with papermill's engine registry as ``warm``.
"""

from __future__ import annotations

import gc
import signal
import traceback

from papermill.engines import Engine, NotebookExecutionManager, papermill_engines

ENGINE = "warm"


def preload() -> None:
    """Import and start what every section uses, before any section is given to this worker."""
    import altair  # noqa: F401
    import pandas  # noqa: F401
    from IPython.core.interactiveshell import InteractiveShell

    from .. import present, theme

    InteractiveShell.instance()
    theme.register_font()
    theme.use_theme()
    present.chart_svg(altair.Chart(pandas.DataFrame({"x": [0]})).mark_point().encode(x="x:Q"))
    # What is loaded now lives as long as the worker: move it out of the garbage collector's way,
    # so the full collection IPython runs when it resets the namespace for each section is short.
    gc.collect()
    gc.freeze()


class _CellTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise _CellTimeout("cell execution timed out")


def _outputs(captured, values: list[dict], count: int) -> list[dict]:
    import nbformat

    outputs = []
    if captured.stdout:
        outputs.append(nbformat.v4.new_output("stream", name="stdout", text=captured.stdout))
    if captured.stderr:
        outputs.append(nbformat.v4.new_output("stream", name="stderr", text=captured.stderr))
    for rich in captured.outputs:
        outputs.append(nbformat.v4.new_output("display_data", data=rich.data, metadata=rich.metadata or {}))
    for value in values:  # a cell's last expression: an execute_result, as a kernel sends it
        outputs.append(nbformat.v4.new_output("execute_result", data=value["data"],
                                              metadata=value["metadata"] or {}, execution_count=count))
    return outputs


class _SavingLess(NotebookExecutionManager):
    """Saves the executed notebook when the section starts and ends, and between cells only every
    ``autosave_cell_every`` seconds (papermill's own autosave rule), instead of before and after
    every cell: in a warm worker nobody watches the file while the section runs, and each save
    serialises and validates the whole notebook (about a fifth of a short section's time)."""

    _final = True

    def save(self, **kwargs):
        if self._final or (self.now() - self.last_save_time).total_seconds() >= self.autosave_cell_every:
            super().save(**kwargs)

    def notebook_start(self, **kwargs):
        super().notebook_start(**kwargs)
        self._final = False

    def notebook_complete(self, **kwargs):
        self._final = True
        super().notebook_complete(**kwargs)


class WarmEngine(Engine):
    @classmethod
    def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False,
                         autosave_cell_every=30, **kwargs):
        nb_man = _SavingLess(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                             autosave_cell_every=autosave_cell_every)
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, execution_timeout=None, **kwargs):
        import nbformat
        from IPython.core.displayhook import CapturingDisplayHook
        from IPython.core.interactiveshell import InteractiveShell
        from IPython.utils.capture import capture_output

        from .. import catalogue

        shell = InteractiveShell.instance()
        shell.reset(new_session=True)  # a clean namespace for every section
        catalogue.on_read(None)  # and no read log left over from the previous one
        signal.signal(signal.SIGALRM, _on_alarm)
        count = 0
        for index, cell in enumerate(nb_man.nb.cells):
            if cell.cell_type != "code":
                continue
            nb_man.cell_start(cell, index)
            count += 1
            if execution_timeout:
                signal.alarm(int(execution_timeout))
            values: list[dict] = []  # not printed as "Out[0]: ..." on stdout
            shell.display_trap.hook = CapturingDisplayHook(shell=shell, outputs=values)
            try:
                with capture_output() as captured:
                    result = shell.run_cell(cell.source, store_history=False)
            finally:
                signal.alarm(0)
                shell.display_trap.hook = shell.displayhook
            cell.execution_count = count
            cell.outputs = _outputs(captured, values, count)
            error = result.error_before_exec or result.error_in_exec
            if error is not None:
                cell.outputs.append(nbformat.v4.new_output(
                    "error", ename=type(error).__name__, evalue=str(error),
                    traceback=traceback.format_exception(type(error), error, error.__traceback__)))
                nb_man.cell_exception(cell, index)
                nb_man.cell_complete(cell, index)
                break
            nb_man.cell_complete(cell, index)
        return nb_man.nb


papermill_engines.register(ENGINE, WarmEngine)
