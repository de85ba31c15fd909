"""Chart builders, named after what they show. They return Altair charts and never display or
save: `present.figure` renders them. Style comes only from the theme (theme.py).

Series never differ by colour alone: lines have their own dashes, side-by-side bars their own
fills, and stacked bars carry labels."""

from __future__ import annotations

import datetime as dt
import json

import altair as alt
import pandas as pd

from . import project
from .theme import DASHES, GROUP_FILLS, INK, PALETTE, WIDTH, contrast

CONFIDENCE_SHAPES = alt.Scale(domain=["High", "Low"], range=["circle", "triangle-up"])
# Low-confidence bars have a dashed outline in ink.
_LOW = alt.datum.confidence == "Low"
_LOW_OUTLINE = alt.condition(_LOW, alt.value([3, 2]), alt.value([1, 0]))


def _outline(field: str, scale: alt.Scale):
    return alt.condition(_LOW, alt.value(INK), alt.Stroke(f"{field}:N", legend=None, scale=scale))


def _colour_scale(values) -> alt.Scale:
    """Series the project file names keep their colour everywhere; others take unused palette
    colours in order."""
    colours = project.load().series_colours
    domain = list(dict.fromkeys(v for v in values if v is not None))
    taken = {colours[v] for v in domain if v in colours}
    spare = iter(c for c in PALETTE if c not in taken)
    return alt.Scale(domain=domain, range=[colours.get(v) or next(spare, "#767676") for v in domain])


def _dash_scale(values) -> alt.Scale:
    """The project's emphasised series (briefing.toml, [theme] emphasis) is drawn solid wherever it
    appears, else the first series; the other series take the next dash patterns."""
    emphasis = project.load().emphasis
    domain = list(dict.fromkeys(v for v in values if v is not None))
    first = next((v for v in domain if v in emphasis), domain[0] if domain else None)
    rest = iter(DASHES[1:])
    return alt.Scale(domain=domain, range=[DASHES[0] if v == first else next(rest, DASHES[-1]) for v in domain])


def _text_colour(fill: str) -> str:
    """White on fills dark enough for 4.5:1 (WCAG AA text), the ink colour on the others."""
    return "#ffffff" if contrast(fill) >= 4.5 else INK


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
    """One line per series, each with its own dashes; points shaped by confidence (▲ = low)."""
    data = _confidence(frame)
    temporal = pd.api.types.is_datetime64_any_dtype(data[x])
    x_enc = alt.X(f"{x}:T" if temporal else f"{x}:O", title=x_title or None,
                  axis=alt.Axis(labelAngle=0, format="%Y", tickCount="year") if temporal
                  else alt.Axis(labelAngle=0))
    y_enc = alt.Y(f"{y}:Q", title=y_title,
                  axis=alt.Axis(format=".0f") if not percent else alt.Axis(format=".0f", title=y_title))
    # One legend of short line samples, in each series' colour and dashes.
    key = alt.Legend(symbolType="stroke", symbolStrokeWidth=2, symbolSize=400)
    colour = alt.Color(f"{series}:N", title=None, scale=_colour_scale(data[series]), legend=key)
    base = alt.Chart(data, title=alt.Title(title, subtitle=subtitle or alt.Undefined))
    dashes = alt.StrokeDash(f"{series}:N", title=None, scale=_dash_scale(data[series]), legend=key)
    line = base.mark_line().encode(x=x_enc, y=y_enc, color=colour, strokeDash=dashes)
    points = base.mark_point(size=45).encode(
        x=x_enc, y=y_enc, color=colour,
        shape=alt.Shape("confidence:N", scale=CONFIDENCE_SHAPES, title="confidence"),
    )
    return alt.layer(line, points)


def bars(frame: pd.DataFrame, *, category: str, value: str, title: str, value_title: str,
         subtitle: str = "", colour_by: str | None = None, sort: str = "-x",
         label_format: str = ",.0f", label_field: str | None = None) -> alt.Chart:
    """Horizontal bars with their values printed at the end (``label_field``: a column holding the
    printed text, otherwise the value in ``label_format``); low-confidence bars are paler, with a
    dashed outline."""
    data = _confidence(frame)
    colour_field = colour_by or category
    base = alt.Chart(data, title=alt.Title(title, subtitle=subtitle or alt.Undefined)).encode(
        y=alt.Y(f"{category}:N", title=None, sort=sort, axis=alt.Axis(labelLimit=340)),  # labels with periods
        x=alt.X(f"{value}:Q", title=value_title),
    )
    scale = _colour_scale(data[colour_field])
    # The outline keeps a faded (low-confidence) bar at 3:1 against the page.
    bar = base.mark_bar(strokeWidth=1.5).encode(
        color=alt.Color(f"{colour_field}:N", legend=None, scale=scale),
        stroke=_outline(colour_field, scale),
        fillOpacity=alt.condition(_LOW, alt.value(0.45), alt.value(1.0)),
        strokeDash=_LOW_OUTLINE,
    )
    text = base.mark_text(align="left", dx=4).encode(
        text=alt.Text(f"{label_field}:N") if label_field else alt.Text(f"{value}:Q", format=label_format))
    return alt.layer(bar, text).properties(height=max(60, 26 * data[category].nunique()))


def grouped_bars(frame: pd.DataFrame, *, x: str, value: str, group: str, title: str,
                 value_title: str, subtitle: str = "", x_title: str = "") -> alt.Chart:
    """Bars side by side per x value (in the order of the rows), one colour and one fill per group:
    solid, pale or hollow, each outlined in its colour. Low-confidence bars have a dashed outline."""
    data = _confidence(frame)
    groups = list(dict.fromkeys(v for v in data[group] if v is not None))
    colours = _colour_scale(groups)
    fills = alt.Scale(domain=groups, range=[_tint(c, GROUP_FILLS[i % len(GROUP_FILLS)])
                                            for i, c in enumerate(colours.range)])
    return alt.Chart(data, title=alt.Title(title, subtitle=subtitle or alt.Undefined)).mark_bar(
        strokeWidth=1.5).encode(
        x=alt.X(f"{x}:N", title=x_title or None, axis=alt.Axis(labelAngle=0), sort=None),
        xOffset=alt.XOffset(f"{group}:N", sort=groups),
        y=alt.Y(f"{value}:Q", title=value_title),
        # Fill and outline share one legend, whose swatches look like the bars.
        fill=alt.Fill(f"{group}:N", title=None, scale=fills),
        stroke=alt.condition(_LOW, alt.value(INK), alt.Stroke(f"{group}:N", title=None, scale=colours)),
        strokeDash=_LOW_OUTLINE,
    )


def _tint(colour: str, amount: float) -> str:
    """The colour mixed with white: 1 is the colour itself, 0 is white."""
    rgb = [int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(f"{round(255 - (255 - c) * amount):02x}" for c in rgb)


def stacked_shares(frame: pd.DataFrame, *, x: str, value: str, part: str, title: str,
                   subtitle: str = "", value_title: str = "share (%)") -> alt.Chart:
    """100% stacked bars: how a whole divides into parts, per x value. White lines part the
    segments, and the parts of the last bar are named beside it."""
    data = _confidence(frame)
    parts = sorted(v for v in data[part].dropna().unique())
    xs = sorted(data[x].dropna().unique())
    base = alt.Chart(data, title=alt.Title(title, subtitle=subtitle or alt.Undefined))
    x_enc = alt.X(f"{x}:O", title=None, axis=alt.Axis(labelAngle=0))
    bars = base.mark_bar(stroke="white", strokeWidth=1).encode(
        x=x_enc,
        y=alt.Y(f"{value}:Q", title=value_title, stack="normalize", axis=alt.Axis(format="%")),
        color=alt.Color(f"{part}:N", title=None, scale=_colour_scale(parts)),
        order=alt.Order(f"{part}:N"),
    )
    if not xs:
        return alt.layer(bars)
    # Direct labels: each part of the last bar named at the middle of its segment, right of the bar.
    half_bar = 0.45 * WIDTH / len(xs)
    labels = base.transform_filter(alt.FieldEqualPredicate(field=x, equal=_json_value(xs[-1]))).transform_stack(
        stack=value, groupby=[x], sort=[alt.SortField(part)], offset="normalize", as_=["lo", "hi"],
    ).transform_filter("datum.hi - datum.lo >= 0.04").transform_calculate(mid="(datum.lo + datum.hi) / 2").mark_text(
        align="left", baseline="middle", dx=half_bar + 4,
    ).encode(x=x_enc, y=alt.Y("mid:Q", title=None), text=alt.Text(f"{part}:N"))
    return alt.layer(bars, labels)


def _json_value(value):
    """A value as Vega-Lite JSON holds it (NumPy numbers and timestamps are not JSON)."""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


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
    # Opaque dots keep their 3:1 contrast; a white rim parts dots that overlap.
    dots = base.mark_point(size=70, filled=True, opacity=1, stroke="white", strokeWidth=0.8).encode(
        color=alt.Color("category:N", legend=None, scale=_colour_scale(rows)),
        shape=alt.Shape("confidence:N", scale=CONFIDENCE_SHAPES, legend=None),
    )
    return alt.layer(dots).properties(height=max(80, 34 * len(rows)))


# Verdict colours are dark enough for white labels (4.5:1), except the lightest, labelled in ink.
VERDICT_COLOURS = {"supported": "#1b7837", "partly supported": "#8a6d00", "contradicted": "#c51b7d",
                   "not verifiable from our data": "#5f5f5f",
                   "not verifiable from our data (yet)": "#8f8f8f", "judgement (no verdict)": "#2166ac"}
# Each segment is labelled with its verdict's letter and count, so verdicts never differ by colour alone.
VERDICT_CODES = {"supported": "S", "partly supported": "P", "contradicted": "C",
                 "not verifiable from our data": "N", "not verifiable from our data (yet)": "Y",
                 "judgement (no verdict)": "J"}


def stacked_counts(frame: pd.DataFrame, *, category: str, value: str, part: str, title: str,
                   subtitle: str = "") -> alt.Chart:
    """Horizontal stacked bars of counts per category (categories in the order of the rows). Each
    segment is labelled with its verdict's letter and its count when it is wide enough; the legend
    names the letters. The first layer is a plain sum per verdict, as the alt text reads it."""
    data = _confidence(frame)
    unknown = set(data[part].dropna()) - set(VERDICT_COLOURS)
    if unknown:
        raise ValueError(f"no colour or letter for the verdicts {sorted(unknown)}")
    rows = list(dict.fromkeys(data[category]))
    domain = [v for v in VERDICT_COLOURS if v in set(data[part])]
    verdict = f"datum[{json.dumps(part)}]"
    rank = " + ".join(f"({verdict} == {json.dumps(v)}) * {i}" for i, v in enumerate(VERDICT_COLOURS))
    code = "".join(f"{verdict} == {json.dumps(v)} ? {json.dumps(c)} : " for v, c in VERDICT_CODES.items()) + "''"
    base = alt.Chart(data, title=alt.Title(title, subtitle=subtitle or alt.Undefined)).encode(
        y=alt.Y(f"{category}:N", title=None, sort=rows),
    )
    bars = base.mark_bar(stroke="white", strokeWidth=1).encode(
        x=alt.X(f"sum({value}):Q", title="claims"),
        color=alt.Color(f"{part}:N", title=None,
                        scale=alt.Scale(domain=domain, range=[VERDICT_COLOURS[v] for v in domain]),
                        legend=alt.Legend(labelExpr=f"({code.replace(verdict, 'datum.label')}) + ': ' + datum.label")),
        order=alt.Order("verdict_rank:Q"),
    ).transform_calculate(verdict_rank=rank)
    # Labels at the middle of each segment, if they fit (Lato 11px: about 6 px a character).
    most = float(data.groupby(category)[value].sum().max()) if len(data) else 1.0
    per_unit = WIDTH / (max(most, 1.0) * 1.1)
    dark_text = [v for v in domain if _text_colour(VERDICT_COLOURS[v]) == INK]
    labels = base.transform_aggregate(n=f"sum({value})", groupby=[category, part]).transform_calculate(
        verdict_rank=rank, label=f"({code}) + ' ' + datum.n",
    ).transform_stack(stack="n", groupby=[category], sort=[alt.SortField("verdict_rank")], as_=["lo", "hi"],
    ).transform_filter(f"datum.n > 0 && datum.n * {per_unit:.3f} >= 6 * length(datum.label) + 4",
    ).transform_calculate(mid="(datum.lo + datum.hi) / 2").mark_text(baseline="middle").encode(
        x=alt.X("mid:Q"), text="label:N",
        color=alt.condition(alt.FieldOneOfPredicate(field=part, oneOf=dark_text), alt.value(INK), alt.value("#ffffff")),
    )
    return alt.layer(bars, labels).properties(height=max(80, 30 * len(rows)))
