"""A section run on its own, as in JupyterLab (a real kernel): a section it reads is run first, one
line says so and where the results are, and no kernel or library warning reaches the outputs."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_a_section_run_by_hand_says_in_one_line_which_section_it_ran_first(make_project):
    project = make_project("30_what_pashinyan_wants.ipynb", "50_what_about_you.ipynb")
    notebook = project / "notebooks" / "50_what_about_you.ipynb"
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                    str(notebook)], cwd=notebook.parent, capture_output=True, text=True, check=True, timeout=600)
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    streams = [(o["name"], "".join(o["text"])) for c in nb["cells"] for o in c.get("outputs", [])
               if o["output_type"] == "stream"]
    assert [name for name, _text in streams] == ["stdout"], streams  # no stderr: no kernel warnings
    line = streams[0][1]
    match = re.fullmatch(r"Running 30_what_pashinyan_wants\.ipynb for its results \(missing or out of date\): "
                         r"(reports/\.interactive/[0-9a-f]{12}/results/what_pashinyan_wants\.json)\n", line)
    assert match, line
    assert (project / match.group(1)).is_file()
    log = project / match.group(1).replace("results/what_pashinyan_wants.json", "logs/what_pashinyan_wants.log")
    assert log.is_file()  # where the other kernel's chatter went
    assert not any(o["output_type"] == "error" for c in nb["cells"] for o in c.get("outputs", []))
