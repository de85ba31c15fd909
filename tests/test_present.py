"""What readers see: sources under every chart and table, escaping, missing figures said plainly."""

import pandas as pd
import pytest

from report_helpers import catalogue, present
from report_helpers.results import Figure


@pytest.fixture
def shown(monkeypatch):
    blocks = []
    monkeypatch.setattr(present, "display", lambda obj: blocks.append(obj.data))
    return blocks


SOURCE = next(iter(catalogue.sources().values()))


def test_table_escapes_html_and_cites_sources(shown):
    frame = pd.DataFrame({"event": ["<script>alert(1)</script>"], "source_id": [SOURCE.source_id],
                          "confidence": ["Low"]})
    present.table(frame, title="Events <b>", columns={"event": "Event"})
    html = shown[0]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Events &lt;b&gt;" in html
    assert f'href="#source-{SOURCE.number}"' in html and "▲" in html


def test_table_without_sources_is_refused():
    with pytest.raises(ValueError, match="source"):
        present.table(pd.DataFrame({"a": [1]}), title="t")


def test_finding_fills_figures_and_says_when_one_is_missing(shown):
    fig = Figure("x", 41.13, "pct", "share", "2024", (SOURCE.source_id,), "Low")
    present.finding("Russia had {x} in {x.period}.", x=fig)
    assert "Russia had 41% (low confidence) in 2024." in shown[0]
    present.finding("Russia had {x}.", x=None, missing="Not yet known.")
    assert "Not yet known." in shown[1]
    present.finding("Russia had {x}.", x=None)
    assert len(shown) == 2  # nothing shown when no fallback is given


def test_judgement_escapes_text(shown):
    present.judgement("Label", "A <i>claim</i> of {v}", v="<b>x</b>")
    assert "&lt;i&gt;claim&lt;/i&gt;" in shown[0] and "&lt;b&gt;x&lt;/b&gt;" in shown[0]


def test_empty_chart_data_shows_a_note(shown):
    present.figure(None, data=pd.DataFrame({"source_id": []}), alt_text="Gas chart")
    assert "Gas chart" in shown[0] and "as-of date" in shown[0]
