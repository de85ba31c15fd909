"""One theme for all charts; charts render to SVG text measured in the briefing's font."""

import altair as alt
import pandas as pd
import pytest

from report_helpers import charts, present, project, theme


@pytest.fixture(autouse=True)
def briefing_theme():
    theme.use_theme()
    with alt.theme.enable(theme.THEME):
        yield


FRAME = pd.DataFrame({"year": [2021, 2022, 2021, 2022], "partner": ["Russia", "Russia", "Iran", "Iran"],
                      "share_pct": [31.3, 35.9, 12.0, 11.0], "confidence": ["High", "Low", "High", "High"],
                      "source_id": ["a", "a", "b", "b"]})


def test_theme_is_merged_into_every_chart():
    spec = charts.lines_over_time(FRAME, x="year", y="share_pct", series="partner", title="t",
                                  y_title="%").to_dict()
    assert spec["config"]["font"] == theme.FONT
    assert spec["config"]["axis"]["labelFont"] == theme.FONT
    assert spec["config"]["view"]["continuousWidth"] == theme.WIDTH


def test_builders_set_no_style_of_their_own():
    for chart in (charts.bars(FRAME, category="partner", value="share_pct", title="t", value_title="%"),
                  charts.grouped_bars(FRAME, x="year", value="share_pct", group="partner", title="t",
                                      value_title="%")):
        spec = chart.to_dict()
        assert set(spec["config"]) == set(theme.theme_config()["config"])  # nothing but the theme


def test_russia_keeps_its_colour_and_low_confidence_has_its_own_marker():
    spec = charts.lines_over_time(FRAME, x="year", y="share_pct", series="partner", title="t",
                                  y_title="%").to_dict()
    colour = spec["layer"][0]["encoding"]["color"]["scale"]
    assert colour["range"][colour["domain"].index("Russia")] == project.load().series_colours["Russia"]
    shape = spec["layer"][1]["encoding"]["shape"]["scale"]
    assert shape["domain"] == ["High", "Low"] and shape["range"][0] != shape["range"][1]


def test_chart_svg_uses_the_embedded_font_and_unique_ids():
    chart = charts.lines_over_time(FRAME, x="year", y="share_pct", series="partner", title="Title here",
                                   y_title="%")
    svg = present.chart_svg(chart)
    assert svg.startswith("<svg") and "Title here" in svg
    assert f'font-family="{theme.FONT}' in svg or f"font-family: {theme.FONT}" in svg
    assert "@font-face" in theme.font_face_css() and "base64," in theme.font_face_css()


# Accessibility: contrast (WCAG 2.1, 1.4.3 and 1.4.11) and series told apart without colour (1.4.1).

def contrast(a: str, b: str = "#ffffff") -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours."""
    def luminance(colour: str) -> float:
        channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_matches_known_ratios():
    assert round(contrast("#000000"), 1) == 21.0
    assert round(contrast("#767676"), 2) == 4.54  # the classic lightest AA grey on white
    assert contrast("#e08214") < 3  # the old China/Armenia orange, too light for a chart mark


def test_every_chart_colour_stands_out_from_the_white_page():
    marks = {**{f"series {k}": v for k, v in project.load().series_colours.items()},
             **{f"palette {i}": v for i, v in enumerate(theme.PALETTE)},
             **{f"verdict {k}": v for k, v in charts.VERDICT_COLOURS.items()},
             "axis": theme.AXIS}
    faint = {name: round(contrast(colour), 2) for name, colour in marks.items() if contrast(colour) < 3}
    assert faint == {}
    for name, colour in {"ink": theme.INK, "muted": theme.MUTED}.items():
        assert contrast(colour) >= 4.5, name


def test_theme_text_colours_are_readable():
    config = theme.theme_config()["config"]
    text = [config["title"]["color"], config["title"]["subtitleColor"], config["axis"]["labelColor"],
            config["axis"]["titleColor"], config["legend"]["labelColor"], config["legend"]["titleColor"],
            config["text"]["color"]]
    assert all(contrast(c) >= 4.5 for c in text), text
    assert all(contrast(config["axis"][k]) >= 3 for k in ("domainColor", "tickColor"))


def test_verdict_labels_are_readable_on_their_segments():
    for verdict, fill in charts.VERDICT_COLOURS.items():
        assert contrast(charts._text_colour(fill), fill) >= 4.5, verdict
    assert len(set(charts.VERDICT_CODES.values())) == len(charts.VERDICT_CODES) == len(charts.VERDICT_COLOURS)


PARTNERS = pd.DataFrame({
    "year": [2021, 2022] * 5, "share_pct": [31.3, 35.9, 12.0, 11.0, 9.0, 10.0, 4.0, 8.0, 20.0, 18.0],
    "partner": [p for p in ["Iran", "Russia", "EU27", "China", "UAE"] for _ in range(2)],
    "confidence": ["High"] * 9 + ["Low"], "source_id": ["a"] * 10})


def layers(spec: dict) -> list[dict]:
    return spec.get("layer", [spec])


def test_lines_differ_by_dashes_and_russia_is_solid():
    spec = charts.lines_over_time(PARTNERS, x="year", y="share_pct", series="partner", title="t",
                                  y_title="%").to_dict()
    line = layers(spec)[0]
    assert line["mark"]["type"] == "line" if isinstance(line["mark"], dict) else line["mark"] == "line"
    dash = line["encoding"]["strokeDash"]
    assert dash["field"] == "partner"
    patterns = [tuple(p) for p in dash["scale"]["range"]]
    assert len(set(patterns)) == len(dash["scale"]["domain"]) == 5
    assert patterns[dash["scale"]["domain"].index("Russia")] == (1, 0)  # solid
    assert line["encoding"]["color"]["legend"]["symbolType"] == "stroke"  # the legend shows the dashes


def test_grouped_bars_differ_by_fill_and_keep_a_full_colour_outline():
    spec = charts.grouped_bars(PARTNERS[PARTNERS.partner.isin(["Russia", "EU27", "China"])], x="year",
                               value="share_pct", group="partner", title="t", value_title="%").to_dict()
    enc = spec["encoding"]
    assert enc["fill"]["field"] == enc["stroke"]["field"] == "partner"
    fills, outlines = enc["fill"]["scale"]["range"], enc["stroke"]["scale"]["range"]
    assert enc["fill"]["scale"]["domain"] == enc["stroke"]["scale"]["domain"] == ["Russia", "EU27", "China"]
    # solid, pale and hollow: their lightness differs even where hues look alike
    assert fills[0] == outlines[0] and fills[2] == "#ffffff"
    assert contrast(fills[1]) < 1.5 < 3 <= contrast(fills[0])
    assert all(contrast(c) >= 3 for c in outlines)
    assert outlines[0] == project.load().series_colours["Russia"]
    assert enc["strokeDash"]["condition"]["value"] != enc["strokeDash"]["value"]  # low confidence: dashed


def test_stacked_shares_name_the_parts_beside_the_last_bar():
    gas = pd.DataFrame({"year": [2021, 2021, 2022, 2022], "partner": ["Russian Federation", "Iran"] * 2,
                        "kt": [80.0, 20.0, 85.0, 15.0], "confidence": ["High"] * 4})
    chart = charts.stacked_shares(gas, x="year", value="kt", part="partner", title="t")
    bars, labels = layers(chart.to_dict())
    assert bars["mark"]["stroke"] == "white"  # segments parted by white lines
    assert labels["mark"]["type"] == "text" and labels["encoding"]["text"]["field"] == "partner"
    assert {"filter": {"field": "year", "equal": 2022}} in labels["transform"]
    svg = present.chart_svg(chart)
    for part in ("Russian Federation", "Iran"):
        assert svg.count(f">{part}</text>") == 2, part  # in the legend and beside the last bar


def test_stacked_counts_label_each_segment_with_its_verdict_letter():
    counts = pd.DataFrame({"section_title": ["A", "A", "A", "B", "B"],
                           "verdict": ["supported", "partly supported", "judgement (no verdict)", "supported",
                                       "not verifiable from our data (yet)"],
                           "claims": [10, 6, 3, 4, 1]})
    chart = charts.stacked_counts(counts, category="section_title", value="claims", part="verdict", title="t")
    bars, labels = layers(chart.to_dict())
    assert labels["mark"]["type"] == "text" and labels["encoding"]["text"]["field"] == "label"
    assert bars["encoding"]["color"]["scale"]["domain"] == [
        "supported", "partly supported", "not verifiable from our data (yet)", "judgement (no verdict)"]
    svg = present.chart_svg(chart)
    for label in ("S 10", "P 6", "J 3", "S 4", "Y 1",  # segments, in white or ink as their fill needs
                  "S: supported", "Y: not verifiable from our data (yet)"):  # the legend names the letters
        assert f">{label}</text>" in svg, label
    with pytest.raises(ValueError, match="refuted"):
        charts.stacked_counts(counts.assign(verdict="refuted"), category="section_title", value="claims",
                              part="verdict", title="t")


def test_rendered_chart_marks_and_text_have_contrast():
    """Read the colours back from the SVG a reader gets: marks 3:1 (or outlined), text 4.5:1."""
    import re

    for chart in (charts.lines_over_time(PARTNERS, x="year", y="share_pct", series="partner", title="t",
                                         y_title="%"),
                  charts.bars(PARTNERS, category="partner", value="share_pct", title="t", value_title="%"),
                  charts.grouped_bars(PARTNERS, x="year", value="share_pct", group="partner", title="t",
                                      value_title="%")):
        svg = present.chart_svg(chart)
        for mark in re.findall(r'<path[^>]*role="graphics-symbol"[^>]*>', svg):
            colours = re.findall(r'(?:fill|stroke)="(#[0-9a-f]{6})"', mark)
            assert any(contrast(c) >= 3 for c in colours), mark
        for colour in re.findall(r'<text[^>]*fill="(#[0-9a-f]{6})"', svg):
            assert contrast(colour) >= 4.5, colour


def test_alt_text_still_reads_every_builder():
    """The alt text and the data table are written from the chart's spec: the accessible encodings
    above must not hide what each chart shows from them."""
    from report_helpers import alt_text

    counts = pd.DataFrame({"section_title": ["A", "A", "B"], "verdict": ["supported", "judgement (no verdict)",
                                                                          "supported"], "claims": [10, 3, 4]})
    gas = pd.DataFrame({"year": [2021, 2021, 2022, 2022], "partner": ["Russian Federation", "Iran"] * 2,
                        "kt": [80.0, 20.0, 85.0, 15.0]})
    expected = {
        "Line chart": (charts.lines_over_time(PARTNERS, x="year", y="share_pct", series="partner", title="t",
                                              y_title="%"), "Russia falls from 12 in 2021 to 11 in 2022"),
        "Grouped bar chart": (charts.grouped_bars(PARTNERS, x="year", value="share_pct", group="partner",
                                                  title="t", value_title="%"), "UAE falls from 20 in 2021 to 18 in 2022"),
        "100% stacked bar chart": (charts.stacked_shares(gas, x="year", value="kt", part="partner", title="t"),
                                   "In 2022: Russian Federation 85%, Iran 15%"),
        "Stacked bar chart": (charts.stacked_counts(counts, category="section_title", value="claims",
                                                    part="verdict", title="t"), "A: 10 supported, 3 judgement"),
    }
    for kind, (chart, phrase) in expected.items():
        text = alt_text.describe(chart.to_dict())
        assert text.startswith(f"{kind}: t."), text
        assert phrase in text, text
    headings, rows = alt_text.data_table(expected["Stacked bar chart"][0].to_dict())
    assert headings == ["section title", "claims", "verdict"] and rows[0] == ["A", "10", "supported"]
