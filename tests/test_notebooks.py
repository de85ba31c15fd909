"""The committed notebooks: no outputs, thin, discoverable, each declaring the briefing's parameters."""

import json

import pytest

from report_helpers.sections import NAME_PATTERN, discover, execution_waves
from report_helpers.paths import notebooks_dir

NOTEBOOKS = sorted(notebooks_dir().glob("*.ipynb"))
ARTICLE_TITLES = ["Key points", "Why are Putin and Pashinyan FRENEMIES?", "What does Putin want?",
                  "What does Pashinyan want?", "What is Pashinyan doing?", "What about you?"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_carries_no_outputs(path):
    # As git holds it: run and saved in place, a notebook keeps its outputs on disk, not in git.
    from report_helpers.hygiene import committed_notebooks

    committed = committed_notebooks(path.parents[1])
    nb = json.loads(committed.get(f"notebooks/{path.name}") or path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name}: a code cell has outputs"
            assert cell["execution_count"] is None, f"{path.name}: a code cell has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_stays_thin(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    for forbidden in ("def ", "class ", "sys.path", "open(", "to_csv", "import pandas"):
        assert forbidden not in code, f"{path.name} contains {forbidden!r}"


def test_sections_follow_the_article_then_the_appendix():
    sections = discover()
    assert all(NAME_PATTERN.match(s.path.name) for s in sections)
    assert [s.title for s in sections if s.order < 90] == ARTICLE_TITLES
    assert [s.title for s in sections if s.order >= 90] == ["Claims and evidence"]
    for section in sections:
        section.check()
        assert {"as_of", "edition"} <= set(section.parameters)


def test_key_points_runs_after_the_sections_it_reads():
    sections = discover()
    waves = execution_waves(sections)
    order = [s.slug for wave in waves for s in wave]
    key_points = next(s for s in sections if s.slug == "key_points")
    assert key_points.reads and all(order.index(dep) < order.index("key_points") for dep in key_points.reads)
