"""Chart builders, named after what they show. They return Altair charts and never display or
save: `present.figure` renders them. Style comes only from the theme (theme.py)."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd

from .theme import PALETTE, SERIES_COLOURS

CONFIDENCE_SHAPES = alt.Scale(domain=["High", "Low"], range=["circle", "triangle-up"])


def _colour_scale(values) -> alt.Scale:
    """Known series keep their colour everywhere; others take unused palette colours in order."""
    domain = list(dict.fromkeys(v for v in values if v is not None))
    taken = {SERIES_COLOURS[v] for v in domain if v in SERIES_COLOURS}
    spare = iter(c for c in PALETTE if c not in taken)
    return alt.Scale(domain=domain, range=[SERIES_COLOURS.get(v) or next(spare, "#878787") for v in domain])


def _confidence(frame: pd.DataFrame) -> pd.DataFrame:
    """Chart-ready copy: plain Python/NumPy types (Vega-Lite JSON has no dates or pd.NA) and a
    confidence column for the low-confidence markers."""
    out = pd.DataFrame(index=frame.index)
    for name, column in frame.items():
        if any(isinstance(v, dt.date) for v in column):
            out[name] = pd.to_datetime(column)
        elif pd.api.types.is_numeric_dtype(column):
            out[name] = column.astype("float64")
        else:
            out[name] = column.astype(object).where(column.notna(), None)
    if "confidence" not in out:
        out["confidence"] = "High"
    return out


def lines_over_time(frame: pd.DataFrame, *, x: str, y: str, series: str, title: str,
                    y_title: str, subtitle: str = "", x_title: str = "", percent: bool = False) -> alt.Chart:
    """One line per series; points shaped by confidence (▲ = low)."""
    data = _confidence(frame)
    temporal = pd.api.types.is_datetime64_any_dtype(data[x])
    x_enc = alt.X(f"{x}:T" if temporal else f"{x}:O", title=x_title or None,
                  axis=alt.Axis(labelAngle=0, format="%Y", tickCount="year") if temporal
                  else alt.Axis(labelAngle=0))
    y_enc = alt.Y(f"{y}:Q", title=y_title,
                  axis=alt.Axis(format=".0f") if not percent else alt.Axis(format=".0f", title=y_title))
    colour = alt.Color(f"{series}:N", title=None, scale=_colour_scale(data[series]))
    base = alt.Chart(data, title=alt.Title(title, subtitle=subtitle or alt.Undefined))
    line = base.mark_line().encode(x=x_enc, y=y_enc, color=colour)
    points = base.mark_point(size=45).encode(
        x=x_enc, y=y_enc, color=colour,
        shape=alt.Shape("confidence:N", scale=CONFIDENCE_SHAPES, title="confidence"),
    )
    return alt.layer(line, points)


def bars(frame: pd.DataFrame, *, category: str, value: str, title: str, value_title: str,
         subtitle: str = "", colour_by: str | None = None, sort: str = "-x",
         label_format: str = ",.0f") -> alt.Chart:
    """Horizontal bars with their values printed at the end."""
    data = _confidence(frame)
    colour_field = colour_by or category
    base = alt.Chart(data, title=alt.Title(title, subtitle=subtitle or alt.Undefined)).encode(
        y=alt.Y(f"{category}:N", title=None, sort=sort),
        x=alt.X(f"{value}:Q", title=value_title),
    )
    bar = base.mark_bar().encode(
        color=alt.Color(f"{colour_field}:N", legend=None, scale=_colour_scale(data[colour_field])),
        opacity=alt.condition(alt.datum.confidence == "Low", alt.value(0.45), alt.value(1.0)),
    )
    text = base.mark_text(align="left", dx=4).encode(text=alt.Text(f"{value}:Q", format=label_format))
    return alt.layer(bar, text).properties(height=max(60, 26 * data[category].nunique()))


def grouped_bars(frame: pd.DataFrame, *, x: str, value: str, group: str, title: str,
                 value_title: str, subtitle: str = "", x_title: str = "") -> alt.Chart:
    """Bars side by side per x value (in the order of the rows), one colour per group."""
    data = _confidence(frame)
    return alt.Chart(data, title=alt.Title(title, subtitle=subtitle or alt.Undefined)).mark_bar().encode(
        x=alt.X(f"{x}:N", title=x_title or None, axis=alt.Axis(labelAngle=0), sort=None),
        xOffset=alt.XOffset(f"{group}:N"),
        y=alt.Y(f"{value}:Q", title=value_title),
        color=alt.Color(f"{group}:N", title=None, scale=_colour_scale(data[group])),
        opacity=alt.condition(alt.datum.confidence == "Low", alt.value(0.45), alt.value(1.0)),
    )


def stacked_shares(frame: pd.DataFrame, *, x: str, value: str, part: str, title: str,
                   subtitle: str = "", value_title: str = "share (%)") -> alt.Chart:
    """100% stacked bars: how a whole divides into parts, per x value."""
    data = _confidence(frame)
    return alt.Chart(data, title=alt.Title(title, subtitle=subtitle or alt.Undefined)).mark_bar().encode(
        x=alt.X(f"{x}:O", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{value}:Q", title=value_title, stack="normalize", axis=alt.Axis(format="%")),
        color=alt.Color(f"{part}:N", title=None, scale=_colour_scale(data[part])),
        order=alt.Order(f"{part}:N"),
    )


def timeline(events: pd.DataFrame, *, title: str, subtitle: str = "", label: str = "title",
             start: str | None = None) -> alt.Chart:
    """Events as dots on a time axis, one row per category; each dot labelled."""
    data = _confidence(events)
    data["when"] = data["date"]
    if start:
        data = data[data["when"] >= pd.Timestamp(start)]
    rows = sorted(data["category"].unique())
    base = alt.Chart(data, title=alt.Title(title, subtitle=subtitle or alt.Undefined)).encode(
        x=alt.X("when:T", title=None, axis=alt.Axis(format="%Y", tickCount="year")),
        y=alt.Y("category:N", title=None, sort=rows),
    )
    dots = base.mark_point(size=70, filled=True, opacity=0.8).encode(
        color=alt.Color("category:N", legend=None, scale=_colour_scale(rows)),
        shape=alt.Shape("confidence:N", scale=CONFIDENCE_SHAPES, legend=None),
    )
    return alt.layer(dots).properties(height=max(80, 34 * len(rows)))


VERDICT_COLOURS = {"supported": "#4d9221", "partly supported": "#b8e186", "contradicted": "#c51b7d",
                   "not verifiable from our data": "#bababa",
                   "not verifiable from our data (yet)": "#dddddd", "judgement (no verdict)": "#92c5de"}


def stacked_counts(frame: pd.DataFrame, *, category: str, value: str, part: str, title: str,
                   subtitle: str = "") -> alt.Chart:
    """Horizontal stacked bars of counts per category (categories in the order of the rows)."""
    data = _confidence(frame)
    domain = [v for v in VERDICT_COLOURS if v in set(data[part])]
    return alt.Chart(data, title=alt.Title(title, subtitle=subtitle or alt.Undefined)).mark_bar().encode(
        y=alt.Y(f"{category}:N", title=None, sort=list(dict.fromkeys(data[category]))),
        x=alt.X(f"sum({value}):Q", title="claims"),
        color=alt.Color(f"{part}:N", title=None,
                        scale=alt.Scale(domain=domain, range=[VERDICT_COLOURS[v] for v in domain])),
        order=alt.Order("verdict_rank:Q"),
    ).transform_calculate(
        verdict_rank=" + ".join(f"(datum.{part} == '{v}') * {i}" for i, v in enumerate(VERDICT_COLOURS))
    ).properties(height=max(80, 30 * data[category].nunique()))
