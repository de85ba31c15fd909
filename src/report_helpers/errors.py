"""Errors the build reports to users, each with the exit code it maps to."""

from __future__ import annotations


class BriefingError(Exception):
    """An error with a message meant for the person running the build."""

    exit_code = 1


class UsageError(BriefingError):
    """Bad parameters, options or input data: found before any kernel starts."""

    exit_code = 2


class ParameterError(UsageError):
    pass


class DataError(UsageError):
    """A data file or the catalogue does not match what the catalogue promises."""

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None):
        where = ", ".join(
            part for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"column '{column}'" if column else "",
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.file, self.row, self.column = file, row, column


class NotebookError(UsageError):
    """A section notebook that cannot be used (not JSON, no parameters cell, bad name)."""


class SectionFailed(BriefingError):
    """A section notebook raised while executing."""

    exit_code = 1


class LockHeld(BriefingError):
    exit_code = 3


class OutputError(BriefingError):
    """The reports folder could not be written (disk full, I/O error); nothing was published."""

    exit_code = 4


class DeliveryError(BriefingError):
    """Mail could not be delivered (server unreachable, login refused, a recipient refused)."""

    exit_code = 5
