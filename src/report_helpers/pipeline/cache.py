"""The section cache: reuse a section's executed notebook when nothing it depends on changed.

A section's entry is keyed by its code cells, its parameters, the helper package's source and the
versions of the packages that matter. The entry records the data files the section actually read
(logged while it ran) with their hashes, and the results of the sections it read; it is reused only
while all of those still match. Markdown is not part of the key: an edit to narrative re-renders
the section from the cached outputs without executing it. Entries live in REPORTS_DIR/.cache/.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

VERSION = 1  # bump to invalidate every entry when the cache layout changes


@dataclass(frozen=True)
class Decision:
    slug: str
    hit: bool
    reason: str


def _digest(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def code_key(notebook: dict, parameters: dict, helpers_digest: str, versions: dict, engine: str) -> str:
    code = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in notebook["cells"] if c.get("cell_type") == "code"]
    return _digest(VERSION, code, parameters, helpers_digest, versions, engine)


def results_digest(path: Path) -> str | None:
    """The figures a section recorded (its results file), ignoring nothing; None if it has none."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


class SectionCache:
    def __init__(self, root: Path):
        self.root = root

    def _entry(self, slug: str, key: str) -> Path:
        return self.root / slug / key

    def lookup(self, slug: str, key: str, data_hashes: dict[str, str],
               dep_results: dict[str, str | None]) -> Decision:
        entry = self._entry(slug, key)
        try:
            meta = json.loads((entry / "entry.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return Decision(slug, False, "ran: no cached run for this code, these parameters, this "
                                         "helper code and these package versions")
        for name, digest in meta["reads"].items():
            if data_hashes.get(name) != digest:
                return Decision(slug, False, f"ran: data/{name}, which it reads, changed")
        for dep, digest in meta["deps"].items():
            if dep_results.get(dep) != digest:
                return Decision(slug, False, f"ran: the results of section {dep}, which it reads, changed")
        return Decision(slug, True, f"reused: code, parameters, helpers, packages and the {len(meta['reads'])} "
                                    "data files it reads are unchanged")

    def restore(self, slug: str, key: str, source_notebook: Path, output: Path, results_dir: Path) -> bool:
        """Put the cached run in the staging folder, with the current markdown; True if markdown changed."""
        entry = self._entry(slug, key)
        executed = nbformat.read(entry / "executed.ipynb", as_version=4)
        merged, changed = merge_markdown(executed, nbformat.read(source_notebook, as_version=4))
        nbformat.write(merged, output)
        for file in entry.glob("results/*"):
            shutil.copy2(file, results_dir / file.name)
        return changed

    def store(self, slug: str, key: str, executed: Path, results_dir: Path, data_hashes: dict[str, str],
              dep_results: dict[str, str | None]) -> None:
        reads_file = results_dir / f"{slug}.reads.json"
        if not reads_file.is_file():
            return  # the section did not call rh.setup: nothing tells what it read, so never reuse it
        reads = json.loads(reads_file.read_text(encoding="utf-8"))
        entry = self._entry(slug, key)
        tmp = entry.with_name(f".{key}.{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "results").mkdir(parents=True)
        shutil.copy2(executed, tmp / "executed.ipynb")
        for name in (f"{slug}.json", f"{slug}.reads.json"):
            if (results_dir / name).is_file():
                shutil.copy2(results_dir / name, tmp / "results" / name)
        meta = {"reads": {name: data_hashes.get(name) for name in reads}, "deps": dep_results}
        (tmp / "entry.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        shutil.rmtree(entry, ignore_errors=True)
        os.replace(tmp, entry)


def merge_markdown(executed: nbformat.NotebookNode, source: nbformat.NotebookNode):
    """The source notebook's cells, with outputs taken from the executed one, code cell by code cell
    (their code is identical: it is part of the cache key). The injected-parameters cell is kept."""
    merged = copy.deepcopy(source)
    injected = [c for c in executed.cells if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    ran = [c for c in executed.cells if c.cell_type == "code" and c not in injected]
    code_cells = [c for c in merged.cells if c.cell_type == "code"]
    for target, done in zip(code_cells, ran):
        target.outputs, target.execution_count = done.outputs, done.execution_count
        target.metadata = done.metadata
    if injected:
        at = next((i for i, c in enumerate(merged.cells)
                   if "parameters" in c.get("metadata", {}).get("tags", [])), -1)
        merged.cells.insert(at + 1, injected[0])
    merged.metadata = executed.metadata
    changed = [c.source for c in merged.cells if c.cell_type == "markdown"] != \
              [c.source for c in executed.cells if c.cell_type == "markdown"]
    return merged, changed
