"""Notebook hygiene: git keeps a section notebook's source, never a run of it.

`make` installs a git filter as `nbstripout --install --attributes .gitattributes` does (the filter
is named nbstripout), then points its clean and diff commands at this module. It strips what
nbstripout strips (outputs, execution counts, run metadata), keeps cell ids, and sets the kernel
metadata a JupyterLab session writes (which kernel, which Python version) back to the committed
form, so a notebook executed and saved in place shows no change in `git diff`.

    python -m report_helpers.hygiene install           set up the filter in this checkout (idempotent)
    python -m report_helpers.hygiene clean < NB > OUT  the git clean filter
    python -m report_helpers.hygiene textconv NB       the git diff text conversion
    python -m report_helpers.hygiene check [NB ...]    exit 1 naming each committed notebook that is
                                                       not clean (default: notebooks/*.ipynb as staged)
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

# What every committed notebook says about its kernel: the build runs them all in python3.
CANONICAL_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
# nbstripout's own defaults, plus what papermill and older Jupyter front ends add.
EXTRA_KEYS = ["metadata.signature", "metadata.widgets", "metadata.papermill", "cell.metadata.collapsed",
              "cell.metadata.ExecuteTime", "cell.metadata.execution", "cell.metadata.heading_collapsed",
              "cell.metadata.hidden", "cell.metadata.scrolled", "cell.metadata.trusted", "cell.metadata.papermill"]
FILTER = "nbstripout"


def _quick_nbformat():
    """nbformat, without jsonschema's IRI format checker: its grammar takes ~3 s of CPU to import,
    and a git filter runs for each notebook. Nothing here validates IRIs."""
    sys.modules.setdefault("rfc3987_syntax", None)
    import nbformat

    return nbformat


def clean_text(text: str, name: str = "notebook") -> str:
    """The committed form of a notebook's text."""
    nbformat = _quick_nbformat()
    from nbstripout import strip_output

    try:
        nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
    except Exception as exc:  # not JSON, or not a notebook: say which file, let git refuse it
        raise ValueError(f"{name} is not a readable notebook ({exc})") from None
    strip_output(nb, keep_output=False, keep_count=False, keep_id=True, extra_keys=EXTRA_KEYS)
    for key, value in CANONICAL_METADATA.items():
        nb.metadata[key] = copy.deepcopy(value)
    return nbformat.writes(nb) + "\n"


def problems(text: str, name: str) -> list[str]:
    """Why a notebook's text is not in its committed form (cells numbered as JupyterLab does)."""
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        return [f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"]
    found = []
    for number, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("outputs"):
            found.append(f"{name}, cell {number}: has outputs")
        if cell.get("execution_count") is not None:
            found.append(f"{name}, cell {number}: has an execution count")
    if not found:
        try:
            if clean_text(text, name) != text:
                found.append(f"{name}: run metadata or formatting differ from the committed form "
                             f"(see `python -m report_helpers.hygiene textconv {name}`)")
        except ValueError as exc:
            found.append(str(exc))
    return found


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)


def _top(cwd: Path | None = None) -> Path | None:
    found = _git("rev-parse", "--show-toplevel", cwd=cwd)
    return Path(found.stdout.strip()) if found.returncode == 0 else None


def committed_notebooks(root: Path) -> dict[str, str]:
    """Every committed notebook (the briefing's, the example's, the `briefing new` template's) as the
    git index holds them (what the next commit holds), by path; outside
    a git checkout, the files themselves. A notebook run and saved in place keeps its outputs on
    disk: the filter strips them from what git stores, and that is what is checked."""
    if _top(root) is None:
        return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
                for p in sorted((root / "notebooks").glob("*.ipynb"))}
    listed = _git("ls-files", "-z", "--", "*.ipynb", cwd=root).stdout.split("\0")
    return {name: _git("show", f":{name}", cwd=root).stdout for name in listed if name}


def install(cwd: Path | None = None) -> str:
    """Set up the filter in the checkout holding cwd; idempotent. Returns what was done."""
    root = _top(cwd)
    if root is None:
        return "not a git checkout: no notebook filter installed"
    _quick_nbformat()
    import nbstripout

    python = Path(sys.executable).absolute().as_posix()
    attributes = root / ".gitattributes"
    code = nbstripout.install(["git", "-C", str(root), "config", "--local"], python=python,
                              attrfile=str(attributes))
    if code:
        raise RuntimeError(f"nbstripout --install failed in {root}")
    command = f'"{python}" -m report_helpers.hygiene'
    for key, value in ((f"filter.{FILTER}.clean", f"{command} clean"),
                       ("diff.ipynb.textconv", f"{command} textconv")):
        _git("config", "--local", key, value, cwd=root).check_returncode()
    return f"notebook filter installed in {root} (.gitattributes: *.ipynb filter={FILTER})"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    try:
        if command == "clean" and not rest:
            sys.stdout.write(clean_text(sys.stdin.read(), "the notebook git is storing"))
            return 0
        if command == "textconv" and len(rest) == 1:
            sys.stdout.write(clean_text(Path(rest[0]).read_text(encoding="utf-8"), rest[0]))
            return 0
    except ValueError as exc:
        print(f"notebook filter: {exc}", file=sys.stderr)
        return 1
    if command == "install" and not rest:
        print(install())
        return 0
    if command == "check":
        if rest:
            texts = {name: Path(name).read_text(encoding="utf-8") for name in rest}
        else:
            from .paths import project_dir

            texts = committed_notebooks(project_dir())
        found = [line for name, text in texts.items() for line in problems(text, name)]
        for line in found:
            print(line, file=sys.stderr)
        if found:
            print("clear the outputs (Edit > Clear Outputs of All Cells), or run `make` once to install the "
                  "notebook filter, then stage the notebooks again", file=sys.stderr)
            return 1
        print(f"{len(texts)} committed notebook(s) clean")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
