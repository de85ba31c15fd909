"""What readers see: sources under every chart and table, escaping, missing figures said plainly,
in the HTML and the Typst (PDF) form of every block alike."""

import re

import altair as alt
import pandas as pd
import pytest
import typst

from report_helpers import catalogue, present
from report_helpers.alt_text import ChartError
from report_helpers.paths import templates_dir
from report_helpers.results import Figure


@pytest.fixture
def blocks(monkeypatch):
    shown = []
    monkeypatch.setattr(present, "display", shown.append)
    return shown


@pytest.fixture
def shown(blocks):
    class HtmlView(list):  # the HTML of each block shown so far
        def __getitem__(self, i):
            return blocks[i].html

        def __len__(self):
            return len(blocks)

    return HtmlView()


def compiles(*typst_blocks: str) -> str:
    """Compile blocks behind the briefing's page set-up, as tagged PDF/UA-1; return the PDF's text."""
    import io

    from pypdf import PdfReader

    source = (templates_dir() / "briefing.typ").read_text() + "\n= Section\n" + "\n\n".join(typst_blocks)
    source += "".join(f"\n\n#enum.item({s.number})[{s.publisher}] <source-{s.number}>"
                      for s in catalogue.sources().values())
    pdf = typst.compile(source.encode(), format="pdf", pdf_standards=["ua-1"],
                        sys_inputs={"title": "T", "author": "A", "running-head": "R", "lang": "en", "keywords": ""})
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


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
    assert "Russia had 41% (low confidence) in 2024." in re.sub(r"<[^>]+>", "", shown[0])  # 41% is a link
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


def test_markup_in_data_is_printed_as_text_in_the_pdf(blocks):
    frame = pd.DataFrame({"event": ["#pagebreak() *bold* $x$ [link] <label> @ref // not a comment"],
                          "source_id": [SOURCE.source_id]})
    present.table(frame, title="Events #set text(red)", columns={"event": "Event"})
    text = " ".join(compiles(blocks[0].typst).split())
    assert "#pagebreak() *bold* $x$ [link] <label> @ref // not a comment" in text
    assert "Events #set text(red)" in text and f"[{SOURCE.number}] {SOURCE.publisher}" in text


def test_findings_and_judgements_print_the_same_figures_as_the_html(blocks):
    fig = Figure("x", 41.13, "pct", "share", "2024", (SOURCE.source_id,))
    present.finding("Russia_had {x} in {x.period}, up from 30% (see {x.label}).", x=fig)
    present.judgement("Label", "Value {v}", v=fig)
    text = " ".join(compiles(blocks[0].typst, blocks[1].typst).split())
    # in print each figure carries the numbers of its sources, set as superscript
    assert f"Russia_had 41%{SOURCE.number} in 2024, up from 30% (see share)." in text
    assert "Russia_had 41% in 2024, up from 30% (see share)." in re.sub(r"<[^>]+>", "", blocks[0].html)
    assert "Value 41%" in text and f"[{SOURCE.number}]" in text


def _trade_chart(title="Russia's share rises"):
    frame = pd.DataFrame({"year": [2019, 2020, 2021, 2019, 2020, 2021], "share": [25.0, 31.5, 40.2, 30.0, 28.0, 20.5],
                          "partner": ["Russia"] * 3 + ["EU"] * 3, "source_id": [SOURCE.source_id] * 6})
    chart = alt.Chart(frame, title=alt.Title(title, subtitle="Share of trade, %") if title else alt.Undefined
                      ).mark_line().encode(x="year:O", y=alt.Y("share:Q", title="% of trade"), color="partner:N")
    return chart, frame


def test_chart_alt_text_is_written_from_its_data_and_shared_by_html_and_pdf(blocks):
    chart, frame = _trade_chart()
    present.figure(chart, data=frame)
    block = blocks[0]
    alt_text = ("Line chart: Russia's share rises. Share of trade, %. Russia rises from 25 in 2019 to 40.2 in 2021; "
                "EU falls from 30 in 2019 to 20.5 in 2021. Values are % of trade.")
    # numbered provisionally ("Figure ⟦figure 1⟧"); the build numbers the figures an edition shows
    numbered = re.search(r"Figure ⟦figure \d+⟧: ", block.html).group(0) + alt_text
    assert f'role="img" aria-label="{numbered.replace(chr(39), "&#x27;")}"' in block.html
    assert alt_text.replace("'", "\\'") not in block.typst and numbered in block.typst.replace('\\"', '"')
    # the chart's data, as a table with header cells, behind a disclosure
    assert "<details" in block.html and '<th scope="col">% of trade</th>' in block.html
    assert "<td>40.2</td>" in block.html
    # no interactive element inside the image: the links sit in the caption, outside the SVG
    svg = block.html[block.html.index("<svg"):block.html.index("</svg>")]
    assert "<a " not in svg and "aria-roledescription" not in svg
    compiles(block.typst)


def test_a_chart_without_a_title_is_refused():
    chart, frame = _trade_chart(title="")
    with pytest.raises(ChartError, match="title"):
        present.figure(chart, data=frame)
