"""Alt text and a data table for a chart, written from the chart's own specification and data.

``describe`` names the kind of chart, what it shows (title and subtitle) and its key values: which
series rises or falls, from what to what; the largest and smallest bars; how a whole divides.
``data_table`` gives the plotted rows, so the HTML can offer them as an accessible table. Both read
``chart.to_dict()``, so they describe exactly what is drawn, whatever builder made the chart.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

MAX_LISTED = 8


class ChartError(ValueError):
    """A chart that cannot be described (no title, no data): the section fails with this message."""


def _titles(spec: dict) -> tuple[str, str]:
    title = spec.get("title") or next((lay["title"] for lay in spec.get("layer", []) if lay.get("title")), None)
    if isinstance(title, dict):
        subtitle = title.get("subtitle") or ""
        title = title.get("text") or ""
    else:
        subtitle = ""
    join = lambda t: " ".join(t) if isinstance(t, list) else str(t or "")  # noqa: E731
    return join(title).strip(), join(subtitle).strip()


def title_of(spec: dict) -> str:
    return _titles(spec)[0]


def _layers(spec: dict) -> list[dict]:
    return spec.get("layer") or [spec]


def _mark(layer: dict) -> str:
    mark = layer.get("mark", "")
    return mark.get("type", "") if isinstance(mark, dict) else mark


def _encoding(spec: dict) -> dict:
    merged = dict(spec.get("encoding", {}))
    for layer in _layers(spec):
        for channel, value in layer.get("encoding", {}).items():
            merged.setdefault(channel, value)
    return merged


def _rows(spec: dict) -> list[dict]:
    datasets = spec.get("datasets", {})
    for source in [spec.get("data"), *(layer.get("data") for layer in _layers(spec))]:
        if isinstance(source, dict):
            if "values" in source:
                return list(source["values"])
            if source.get("name") in datasets:
                return list(datasets[source["name"]])
    return []


def _field(enc: dict, channel: str) -> str | None:
    value = enc.get(channel)
    if not isinstance(value, dict):
        return None
    return value.get("field")


def _axis_title(enc: dict, channel: str) -> str:
    value = enc.get(channel) or {}
    title = value.get("title") if isinstance(value, dict) else None
    return title if isinstance(title, str) else ""


def _as_date(value) -> dt.date | None:
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def shown(value) -> str:
    """A value as the table and the alt text spell it: dates as years or days, numbers compactly."""
    if value is None:
        return ""
    day = _as_date(value)
    if day is not None:
        return str(day.year) if (day.month, day.day) == (1, 1) else day.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        if float(value).is_integer():  # years stay ungrouped: 2024, not 2,024
            return f"{int(value)}" if abs(value) < 10000 else f"{int(value):,}"
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def _sort_key(value):
    day = _as_date(value)
    if day is not None:
        return (0, day.isoformat())
    if isinstance(value, (int, float)):
        return (1, float(value))
    return (2, str(value))


def _trend(first: float, last: float) -> str:
    if last > first:
        return "rises"
    if last < first:
        return "falls"
    return "holds"


def _describe_lines(rows, enc) -> str:
    x, y, series = _field(enc, "x"), _field(enc, "y"), _field(enc, "color")
    groups: dict[str, list] = defaultdict(list)
    for row in rows:
        if row.get(y) is not None:
            groups[str(row.get(series)) if series else "the series"].append(row)
    parts = []
    for name, points in groups.items():
        points.sort(key=lambda r: _sort_key(r.get(x)))
        first, last = points[0], points[-1]
        peak = max(points, key=lambda r: r[y])
        text = (f"{name} {_trend(first[y], last[y])} from {shown(first[y])} in {shown(first.get(x))} "
                f"to {shown(last[y])} in {shown(last.get(x))}")
        if peak is not last and peak is not first:
            text += f", peaking at {shown(peak[y])} in {shown(peak.get(x))}"
        parts.append(text)
    unit = _axis_title(enc, "y")
    return "; ".join(parts) + "." + (f" Values are {unit}." if unit else "")


def _describe_bars(rows, enc) -> str:
    category, value = _field(enc, "y"), _field(enc, "x")
    pairs = [(str(r.get(category)), r.get(value)) for r in rows if r.get(value) is not None]
    pairs.sort(key=lambda p: p[1], reverse=True)
    unit = _axis_title(enc, "x")
    listed = pairs if len(pairs) <= MAX_LISTED else pairs[:MAX_LISTED - 1]
    text = "; ".join(f"{name}: {shown(v)}" for name, v in listed)
    if len(pairs) > len(listed):
        text += f"; and {len(pairs) - len(listed)} more, the lowest {pairs[-1][0]} at {shown(pairs[-1][1])}"
    return f"From highest to lowest{f' ({unit})' if unit else ''}: {text}."


def _describe_grouped(rows, enc) -> str:
    x, value, group = _field(enc, "x"), _field(enc, "y"), _field(enc, "xOffset") or _field(enc, "color")
    xs = list(dict.fromkeys(r.get(x) for r in rows))
    by_group: dict[str, dict] = defaultdict(dict)
    for row in rows:
        if row.get(value) is not None:
            by_group[str(row.get(group))][row.get(x)] = row[value]
    parts = []
    for name, values in by_group.items():
        seen = [v for v in xs if v in values]
        if len(seen) == 1:
            parts.append(f"{name}: {shown(values[seen[0]])} in {shown(seen[0])}")
        else:
            first, last = values[seen[0]], values[seen[-1]]
            parts.append(f"{name} {_trend(first, last)} from {shown(first)} in {shown(seen[0])} "
                         f"to {shown(last)} in {shown(seen[-1])}")
    unit = _axis_title(enc, "y")
    return "; ".join(parts) + "." + (f" Values are {unit}." if unit else "")


def _shares(rows, x, value, part) -> dict:
    totals: dict = defaultdict(float)
    parts: dict = defaultdict(dict)
    for row in rows:
        if row.get(value) is not None:
            totals[row.get(x)] += row[value]
            parts[row.get(x)][str(row.get(part))] = parts[row.get(x)].get(str(row.get(part)), 0) + row[value]
    return {k: {p: 100 * v / totals[k] for p, v in ps.items() if totals[k]} for k, ps in parts.items()}


def _describe_stacked_shares(rows, enc) -> str:
    x, value, part = _field(enc, "x"), _field(enc, "y"), _field(enc, "color")
    shares = _shares(rows, x, value, part)
    xs = sorted(shares, key=_sort_key)
    if not xs:
        return ""
    first, last = xs[0], xs[-1]
    lead = max(shares[last], key=shares[last].get)
    spell = lambda k: ", ".join(f"{p} {shares[k][p]:.0f}%" for p in sorted(shares[k], key=shares[k].get,  # noqa: E731
                                                                           reverse=True))
    text = f"In {shown(first)}: {spell(first)}. In {shown(last)}: {spell(last)}."
    if first != last and lead in shares[first]:
        text += (f" {lead}'s share {_trend(shares[first][lead], shares[last][lead])} from "
                 f"{shares[first][lead]:.0f}% to {shares[last][lead]:.0f}%.")
    return text


def _describe_stacked_counts(rows, enc) -> str:
    category, part = _field(enc, "y"), _field(enc, "color")
    value = _field(enc, "x")
    counts: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        counts[str(row.get(category))][str(row.get(part))] += row.get(value) or 0
    return " ".join(f"{cat}: " + ", ".join(f"{shown(n)} {p}" for p, n in parts.items() if n) + "."
                    for cat, parts in counts.items())


def _describe_timeline(rows, enc) -> str:
    x, category = _field(enc, "x"), _field(enc, "y")
    dated = sorted((r for r in rows if _as_date(r.get(x))), key=lambda r: r[x])
    if not dated:
        return "No events."
    per = defaultdict(int)
    for row in dated:
        per[str(row.get(category))] += 1
    latest = dated[-1]
    name = latest.get("title") or latest.get("label") or ""
    return (f"{len(dated)} events from {_as_date(dated[0][x]).isoformat()} to {_as_date(latest[x]).isoformat()}, "
            f"by category: " + ", ".join(f"{c} {n}" for c, n in per.items()) +
            (f". The latest is {name} ({_as_date(latest[x]).isoformat()})." if name else "."))


def kind(spec: dict) -> str:
    marks = {_mark(layer) for layer in _layers(spec)}
    enc = _encoding(spec)
    if "line" in marks:
        return "line"
    if "bar" in marks:
        y = enc.get("y") or {}
        x = enc.get("x") or {}
        if "xOffset" in enc:
            return "grouped"
        if isinstance(y, dict) and y.get("stack") == "normalize":
            return "stacked_shares"
        if isinstance(x, dict) and x.get("aggregate") == "sum":
            return "stacked_counts"
        return "bars"
    if marks & {"point", "circle", "square", "tick"}:
        return "timeline" if (enc.get("x") or {}).get("type") == "temporal" else "points"
    return "other"


_KIND_NAMES = {"line": "Line chart", "bars": "Horizontal bar chart", "grouped": "Grouped bar chart",
               "stacked_shares": "100% stacked bar chart", "stacked_counts": "Stacked bar chart",
               "timeline": "Timeline", "points": "Dot chart", "other": "Chart"}
_DESCRIBERS = {"line": _describe_lines, "bars": _describe_bars, "grouped": _describe_grouped,
               "stacked_shares": _describe_stacked_shares, "stacked_counts": _describe_stacked_counts,
               "timeline": _describe_timeline}


def describe(spec: dict) -> str:
    """Alt text for a chart: its kind, title and subtitle, then its key values."""
    title, subtitle = _titles(spec)
    if not title:
        raise ChartError("a chart needs a title (alt.Title(...)): it names the chart for every reader")
    rows = _rows(spec)
    if not rows:
        raise ChartError(f"chart '{title}' has no data to describe")
    chart_kind = kind(spec)
    values = _DESCRIBERS.get(chart_kind, lambda r, e: f"{len(r)} data points.")(rows, _encoding(spec))
    if not values.strip():
        raise ChartError(f"chart '{title}': its key values could not be described")
    head = f"{_KIND_NAMES[chart_kind]}: {title}."
    if subtitle:
        head += f" {subtitle.rstrip('.')}."
    return f"{head} {values}"


def plotted(spec: dict) -> tuple[dict[str, str], list[dict]]:
    """The plotted rows in the data table's order, and their fields (name -> heading): one per encoded
    field (the axis title as heading where there is one), an event's title, and confidence if any is Low."""
    enc = _encoding(spec)
    fields: dict[str, str] = {}
    for channel in ("y", "x", "color", "xOffset", "shape", "strokeDash"):
        name = _field(enc, channel)
        if name and name not in fields:
            fields[name] = _axis_title(enc, channel) or name.replace("_", " ")
    rows = _rows(spec)
    if rows and "title" in rows[0] and "title" not in fields:
        fields["title"] = "event"
    if any(r.get("confidence") == "Low" for r in rows) and "confidence" not in fields:
        fields["confidence"] = "confidence"
    if kind(spec) in ("line", "grouped", "stacked_shares", "timeline"):  # in x order
        rows = sorted(rows, key=lambda r: _sort_key(r.get(_field(enc, "x"))))
    return fields, rows


def data_table(spec: dict) -> tuple[list[str], list[list[str]]]:
    """The plotted rows as the chart's data table shows them."""
    fields, rows = plotted(spec)
    return list(fields.values()), [[shown(r.get(f)) for f in fields] for r in rows]
