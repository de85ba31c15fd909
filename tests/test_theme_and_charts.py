"""One theme for all charts; charts render to SVG text measured in the briefing's font."""

import altair as alt
import pandas as pd
import pytest

from report_helpers import charts, present, theme


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
    assert colour["range"][colour["domain"].index("Russia")] == theme.SERIES_COLOURS["Russia"]
    shape = spec["layer"][1]["encoding"]["shape"]["scale"]
    assert shape["domain"] == ["High", "Low"] and shape["range"][0] != shape["range"][1]


def test_chart_svg_uses_the_embedded_font_and_unique_ids():
    chart = charts.lines_over_time(FRAME, x="year", y="share_pct", series="partner", title="Title here",
                                   y_title="%")
    svg = present.chart_svg(chart)
    assert svg.startswith("<svg") and "Title here" in svg
    assert f'font-family="{theme.FONT}' in svg or f"font-family: {theme.FONT}" in svg
    assert "@font-face" in theme.font_face_css() and "base64," in theme.font_face_css()
