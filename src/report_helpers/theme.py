"""The only place chart style lives: one Altair theme and the font charts are measured and drawn in.

vl-convert measures SVG text with the fonts registered with it; the HTML and PDF draw that text
with the font embedded in the page CSS. Both use Lato from the `font-lato` package (SIL OFL), so
labels are measured and drawn with the same metrics everywhere.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

THEME = "briefing"
FONT = "Lato"
FONT_STACK = f"{FONT}, 'DejaVu Sans', sans-serif"
WIDTH, HEIGHT = 540, 240

# Series colours belong to a briefing: its project file maps series names to colours (briefing.toml,
# [theme] series_colours), so a series is the same colour in every chart. Every mark colour has a
# contrast of at least 3:1 against the white background (WCAG 2.1, 1.4.11); series that share a chart
# also differ in dashes, fills or labels (charts.py), never by colour alone.
# Colours for series the project file does not name, in order; red is left out of it, so a project
# can keep red for one series.
PALETTE = ["#2166ac", "#b35806", "#762a83", "#35978f", "#4d9221", "#d6604d", "#8c510a", "#767676"]
# Dash patterns for line series (the first is solid): lines differ by more than colour.
DASHES = [[1, 0], [7, 3], [2, 2], [10, 3, 2, 3], [4, 4], [12, 2, 2, 2, 2, 2]]
# Fills of side-by-side bar groups, as the share of the group's colour mixed with white: solid, pale
# and hollow; every bar is outlined in its colour.
GROUP_FILLS = [1.0, 0.2, 0.0]
INK, MUTED, GRID = "#222222", "#5f5f5f", "#e4e4e4"  # text 15.9:1 and 6.4:1; grid lines are decoration
AXIS = "#767676"  # axis lines and ticks: 4.5:1


def contrast(colour: str, background: str = "#ffffff") -> float:
    """WCAG 2.1 contrast ratio of two '#rrggbb' colours (1 to 21)."""
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(colour), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def font_files() -> dict[str, Path]:
    import font_lato

    folder = Path(font_lato.font_directory)
    return {"regular": folder / "Lato-Regular.ttf", "bold": folder / "Lato-Bold.ttf",
            "italic": folder / "Lato-Italic.ttf"}


@lru_cache(maxsize=1)
def register_font() -> None:
    """Let vl-convert measure chart text with Lato (once per process)."""
    import font_lato
    import vl_convert

    vl_convert.register_font_directory(font_lato.font_directory)


@lru_cache(maxsize=1)
def font_face_css() -> str:
    """@font-face rules embedding Lato, so pages need no network and no installed font."""
    rules = []
    for style, path in font_files().items():
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        weight = "700" if style == "bold" else "400"
        font_style = "italic" if style == "italic" else "normal"
        rules.append(
            f"@font-face {{ font-family: '{FONT}'; font-weight: {weight}; font-style: {font_style}; "
            f"src: url(data:font/ttf;base64,{data}) format('truetype'); }}"
        )
    return "\n".join(rules)


def theme_config() -> dict:
    axis = {"labelFont": FONT, "titleFont": FONT, "labelFontSize": 11, "titleFontSize": 11,
            "labelColor": MUTED, "titleColor": MUTED, "titleFontWeight": "normal",
            "gridColor": GRID, "domainColor": AXIS, "tickColor": AXIS}
    return {
        "config": {
            "font": FONT,
            "background": "white",
            "padding": 8,
            "view": {"continuousWidth": WIDTH, "continuousHeight": HEIGHT, "discreteWidth": WIDTH,
                     "stroke": None},
            "title": {"font": FONT, "fontSize": 13, "fontWeight": "bold", "color": INK,
                      "anchor": "start", "subtitleFont": FONT, "subtitleColor": MUTED,
                      "subtitleFontSize": 11},
            "axis": axis,
            "axisX": {"grid": False},
            "axisY": {"labelLimit": 260},
            "legend": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": 11,
                       "titleFontSize": 11, "titleColor": MUTED, "labelColor": INK,
                       "orient": "bottom", "direction": "horizontal", "titleFontWeight": "normal",
                       "labelLimit": 320},
            "header": {"labelFont": FONT, "titleFont": FONT},
            "text": {"font": FONT, "fontSize": 11, "color": INK},
            "range": {"category": PALETTE},
            "line": {"strokeWidth": 2},
            "point": {"size": 40, "filled": True},
            "bar": {"cornerRadiusEnd": 1},
        }
    }


@lru_cache(maxsize=1)
def use_theme() -> str:
    """Register and enable the briefing theme (idempotent)."""
    import altair as alt  # here, not at the top: the build's page assembly needs only the font

    alt.theme.register(THEME, enable=True)(theme_config)
    return THEME
