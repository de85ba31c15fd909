"""Shared helpers of a briefing's notebooks, and the engine that builds, publishes and delivers it.

Notebooks import this package as ``rh`` and use: ``rh.setup`` (parameters, data, results),
``rh.charts`` (chart builders), ``rh.analysis`` (computations), ``rh.present`` (what readers see),
``rh.claims`` (the claims register) and ``rh.fmt`` (number formats). Submodules load on first use, so the command line starts fast.
"""

from __future__ import annotations

import importlib
import os
import sys

# jsonschema (imported by nbformat, papermill, nbconvert) loads rfc3987_syntax when it is installed,
# and that module compiles a grammar at import: about 3 s of CPU in every build process and worker.
# It only serves the optional "iri" format check, which no notebook schema uses; jsonschema skips
# that check when the import fails. Keep it out of every process that loads this package first.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
# nbformat checks every notebook it reads or writes against its schema; its fastjsonschema validator
# (an nbformat dependency) does the same check about six times faster than jsonschema. A build
# reads and writes each section's notebook several times. Set the variable to choose otherwise.
os.environ.setdefault("NBFORMAT_VALIDATOR", "fastjsonschema")

_SUBMODULES = {"analysis", "catalogue", "charts", "claims", "fmt", "present", "theme"}
_NAMES = {"setup": "context", "SectionContext": "context", "Figure": "results"}

__all__ = sorted(_SUBMODULES | set(_NAMES))


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _NAMES:
        return getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'report_helpers' has no attribute {name!r}")
