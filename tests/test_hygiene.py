"""Notebook hygiene: the git filter `make` installs keeps outputs and run metadata out of git, so a
notebook executed and saved in place shows no change in `git diff` (checked in a throw-away clone)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT
from report_helpers import hygiene

NOTEBOOK = "notebooks/10_why_frenemies.ipynb"
needs_git = pytest.mark.skipif(shutil.which("git") is None or not (PROJECT / ".git").exists(),
                               reason="needs git and a git checkout of the project")


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=repo,
                          capture_output=True, text=True, check=check)


def test_committed_notebooks_are_already_in_the_filters_form():
    committed = hygiene.committed_notebooks(PROJECT)
    assert len(committed) == len([p for p in PROJECT.rglob("*.ipynb") if not {".venv", "reports", "node_modules",
                                  ".ipynb_checkpoints"} & set(p.relative_to(PROJECT).parts)])
    for name, text in committed.items():
        assert hygiene.clean_text(text) == text, name  # else `make` would show them all modified
        assert hygiene.problems(text, name) == []


def test_check_names_the_notebook_and_the_cell_as_jupyterlab_numbers_it():
    nb = json.loads(hygiene.committed_notebooks(PROJECT)[NOTEBOOK])
    code = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
    nb["cells"][code[1]]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hi\n"}]
    nb["cells"][code[1]]["execution_count"] = 3
    found = hygiene.problems(json.dumps(nb, indent=1), "10_why_frenemies.ipynb")
    assert found == [f"10_why_frenemies.ipynb, cell {code[1] + 1}: has outputs",
                     f"10_why_frenemies.ipynb, cell {code[1] + 1}: has an execution count"]
    nb["cells"][code[1]].update(outputs=[], execution_count=None)
    nb["metadata"]["kernelspec"]["display_name"] = "Python 3 (frenemies .venv)"
    assert "run metadata or formatting differ" in hygiene.problems(json.dumps(nb, indent=1), "x.ipynb")[0]
    assert "not valid JSON" in hygiene.problems("{", "x.ipynb")[0]


@pytest.fixture
def clone(tmp_path) -> Path:
    """A clone of the project's committed state, with this checkout's Makefile and .gitattributes."""
    repo = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(PROJECT), str(repo))
    for name in ("Makefile", ".gitattributes"):
        shutil.copy(PROJECT / name, repo / name)
    git(repo, "add", "Makefile", ".gitattributes")
    git(repo, "commit", "-q", "--allow-empty", "-m", "this checkout's Makefile and .gitattributes")
    return repo


@needs_git
@pytest.mark.slow
def test_make_installs_the_filter_and_an_executed_notebook_shows_no_diff(clone):
    make = ["make", "given-venv", f"VENV={sys.prefix}"]
    for _ in range(2):  # idempotent: the second run changes nothing
        result = subprocess.run(make, cwd=clone, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert git(clone, "status", "--porcelain").stdout == ""
    assert "report_helpers.hygiene clean" in git(clone, "config", "filter.nbstripout.clean").stdout
    assert git(clone, "check-attr", "filter", "--", NOTEBOOK).stdout.strip().endswith("nbstripout")
    status = subprocess.run([sys.executable, "-m", "nbstripout", "--is-installed"], cwd=clone)
    assert status.returncode == 0

    # Execute it in place in a real kernel, and save it as JupyterLab does (its kernel's name, timings).
    path = clone / NOTEBOOK
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                    str(path)], cwd=path.parent, capture_output=True, text=True, check=True, timeout=300)
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["metadata"]["kernelspec"]["display_name"] = "Python 3 (frenemies .venv)"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["metadata"]["execution"] = {"iopub.status.idle": "2026-11-28T10:00:00.000Z"}
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    assert sum(len(c.get("outputs", [])) for c in nb["cells"]) > 0  # it really ran
    assert nb["metadata"]["language_info"].get("version")

    assert git(clone, "diff", "--exit-code", "--stat", check=False).returncode == 0
    git(clone, "add", NOTEBOOK)
    assert git(clone, "diff", "--cached", "--exit-code", check=False).returncode == 0  # nothing to commit

    # A real edit shows as exactly that edit.
    nb["cells"][0]["source"] = ["# A new title\n"] + nb["cells"][0]["source"][1:]
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    diff = git(clone, "diff", "-U0", NOTEBOOK).stdout
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert len(changed) == 2 and "A new title" in changed[1], diff
    git(clone, "add", NOTEBOOK)
    check = subprocess.run([sys.executable, "-m", "report_helpers.hygiene", "check"], cwd=clone,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr

    # Staged without the filter, outputs are caught by `make check`'s hygiene step, by cell.
    blob = git(clone, "hash-object", "-w", "--no-filters", NOTEBOOK).stdout.strip()
    git(clone, "update-index", "--cacheinfo", f"100644,{blob},{NOTEBOOK}")
    check = subprocess.run([sys.executable, "-m", "report_helpers.hygiene", "check"], cwd=clone,
                           capture_output=True, text=True)
    first = next(n for n, c in enumerate(nb["cells"], start=1) if c.get("outputs"))
    assert check.returncode == 1 and f"{NOTEBOOK}, cell {first}: has outputs" in check.stderr, check.stderr
