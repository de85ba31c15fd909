"""The section cache: reuse a section's executed notebook when nothing it depends on changed.

Entries are grouped by a code key: the section's code cells, its parameters, the helper package's
source and the versions of the packages that matter. Under one code key there may be several
entries, one per state of what the section read: each records the data files it actually read
(logged while it ran) with their hashes, and the results of the sections it read. An entry is
reused while all of those match, so going back to an earlier state of the data finds its run again.
Markdown is not part of the key: an edit to narrative re-renders the section from the cached
outputs without executing it.

Entries live in REPORTS_DIR/.cache/sections/<slug>/<code key>/<state>/. The cache is bounded by
size (BRIEFING_SECTION_CACHE_MB, default 256); when a new entry takes it over the bound, the
entries used longest ago are dropped first. Using an entry touches its entry.json.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

VERSION = 2  # bump to invalidate every entry when the cache layout changes
LIMIT_ENV = "BRIEFING_SECTION_CACHE_MB"
DEFAULT_LIMIT_MB = 256.0


@dataclass(frozen=True)
class Decision:
    slug: str
    hit: bool
    reason: str
    state: str = ""  # the entry found (on a hit)


def _digest(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def code_key(notebook: dict, parameters: dict, helpers_digest: str, versions: dict, engine: str) -> str:
    code = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in notebook["cells"] if c.get("cell_type") == "code"]
    return _digest(VERSION, code, parameters, helpers_digest, versions, engine)


def results_digest(path: Path) -> str | None:
    """The figures a section recorded (its results file), ignoring nothing; None if it has none."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def limit_bytes() -> int:
    raw = os.environ.get(LIMIT_ENV, "")
    try:
        megabytes = float(raw) if raw else DEFAULT_LIMIT_MB
    except ValueError:
        from ..errors import UsageError

        raise UsageError(f"{LIMIT_ENV}={raw!r}: expected a number of megabytes") from None
    return int(megabytes * 1024 * 1024)


class SectionCache:
    def __init__(self, root: Path, max_bytes: int | None = None):
        self.root = root
        self.max_bytes = limit_bytes() if max_bytes is None else max_bytes

    def _states(self, slug: str, key: str) -> list[tuple[Path, dict]]:
        """The entries under one code key, most recently used first."""
        found = []
        folder = self.root / slug / key
        if not folder.is_dir():
            return []
        for entry in folder.iterdir():
            if entry.name.startswith("."):
                continue
            try:
                meta = json.loads((entry / "entry.json").read_text(encoding="utf-8"))
                used = (entry / "entry.json").stat().st_mtime
            except (OSError, json.JSONDecodeError):
                continue
            found.append((used, entry, meta))
        return [(entry, meta) for _used, entry, meta in sorted(found, key=lambda f: f[0], reverse=True)]

    @staticmethod
    def _mismatch(meta: dict, data_hashes: dict[str, str], dep_results: dict[str, str | None]) -> str:
        for name, digest in meta["reads"].items():
            if data_hashes.get(name) != digest:
                return f"data/{name}, which it reads, changed"
        for dep, digest in meta["deps"].items():
            if dep_results.get(dep) != digest:
                return f"the results of section {dep}, which it reads, changed"
        return ""

    def lookup(self, slug: str, key: str, data_hashes: dict[str, str],
               dep_results: dict[str, str | None]) -> Decision:
        states = self._states(slug, key)
        if not states:
            return Decision(slug, False, "ran: no cached run for this code, these parameters, this "
                                         "helper code and these package versions")
        for entry, meta in states:
            if not self._mismatch(meta, data_hashes, dep_results):
                return Decision(slug, True, f"reused: code, parameters, helpers, packages and the "
                                            f"{len(meta['reads'])} data files it reads are unchanged",
                                entry.name)
        # Say why against the run used last: that is the state the inputs were edited from.
        return Decision(slug, False, f"ran: {self._mismatch(states[0][1], data_hashes, dep_results)}")

    def restore(self, slug: str, key: str, state: str, source_notebook: Path, output: Path,
                results_dir: Path) -> bool:
        """Put the cached run in the staging folder, with the current markdown; True if markdown
        changed. Raises OSError if the entry went away (another build dropped it): run it then."""
        entry = self.root / slug / key / state
        executed = nbformat.read(entry / "executed.ipynb", as_version=4)
        merged, changed = merge_markdown(executed, nbformat.read(source_notebook, as_version=4))
        for file in entry.glob("results/*"):
            shutil.copy2(file, results_dir / file.name)
        nbformat.write(merged, output)
        os.utime(entry / "entry.json")  # used now: dropped last
        return changed

    def store(self, slug: str, key: str, executed: Path, results_dir: Path, data_hashes: dict[str, str],
              dep_results: dict[str, str | None]) -> None:
        reads_file = results_dir / f"{slug}.reads.json"
        if not reads_file.is_file():
            return  # the section did not call rh.setup: nothing tells what it read, so never reuse it
        reads = json.loads(reads_file.read_text(encoding="utf-8"))
        meta = {"reads": {name: data_hashes.get(name) for name in sorted(reads)}, "deps": dep_results}
        state = _digest(meta)[:32]
        entry = self.root / slug / key / state
        tmp = entry.with_name(f".{state}.{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "results").mkdir(parents=True)
        shutil.copy2(executed, tmp / "executed.ipynb")
        for name in (f"{slug}.json", f"{slug}.reads.json"):
            if (results_dir / name).is_file():
                shutil.copy2(results_dir / name, tmp / "results" / name)
        (tmp / "entry.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if entry.exists():  # the same state stored again: keep the newer run
            old = entry.with_name(f".old-{state}.{os.getpid()}")
            os.replace(entry, old)
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.replace(tmp, entry)
        except OSError:  # another build stored this state meanwhile: theirs will do
            shutil.rmtree(tmp, ignore_errors=True)
        self.evict(keep=entry)

    def entries(self) -> list[tuple[float, int, Path]]:
        """(last used, size in bytes, folder) of every entry, including those of older layouts."""
        out = []
        if not self.root.is_dir():
            return out
        for meta_file in self.root.rglob("entry.json"):
            entry = meta_file.parent
            if any(part.startswith(".") for part in entry.relative_to(self.root).parts):
                continue
            try:
                size = sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
                out.append((meta_file.stat().st_mtime, size, entry))
            except OSError:
                continue  # dropped meanwhile
        return out

    def evict(self, keep: Path | None = None) -> list[Path]:
        """Drop the entries used longest ago until the cache fits its bound."""
        found = sorted(self.entries(), key=lambda e: e[0])
        total = sum(size for _used, size, _entry in found)
        dropped = []
        for _used, size, entry in found:
            if total <= self.max_bytes:
                break
            if entry == keep:
                continue
            doomed = entry.with_name(f".evicted-{entry.name}.{os.getpid()}.{time.monotonic_ns()}")
            try:
                os.replace(entry, doomed)
            except OSError:
                continue
            shutil.rmtree(doomed, ignore_errors=True)
            total -= size
            dropped.append(entry)
            try:
                entry.parent.rmdir()  # the code key's folder, if that was its last entry
            except OSError:
                pass
        return dropped


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
