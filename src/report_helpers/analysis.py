"""Computations the sections share. Each takes catalogue tables and returns tables or Figures;
every result keeps the source ids and confidence of the rows it was computed from.

A function that returns a Figure returns None when the data known by the as-of date has no row
for it: an early as-of date shows less, it does not fail. `present` says so to the reader."""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd

from . import fmt
from .results import Figure

# A derived column C may carry, in column C + FROM, how each of its values was computed (JSON of a
# provenance expression, see results.Figure). Columns read straight from a table need none: their
# rows carry row_ref.
FROM = "__from"


def _worst(confidences) -> str:
    return "Low" if "Low" in set(confidences) else "High"


def _plain(value):
    """A cell as JSON has it: dates as ISO text, numbers as floats."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _term(row, column: str, scale: float = 1.0) -> dict:
    """One value read from one row: which row (table:key), which column, what it held, its source."""
    term = {"row": str(row["row_ref"]), "column": column, "value": _plain(row[column]),
            "source_id": str(row["source_id"])}
    if scale != 1:
        term["scale"] = scale
    return term


def _origin(row, column: str) -> dict:
    """How the value in ``row[column]`` came about: its recorded derivation, or the cell itself."""
    spec = row.get(column + FROM)
    if isinstance(spec, str) and spec:
        return json.loads(spec)
    return {"method": "value", "input": _term(row, column)}


def _ids(frame: pd.DataFrame) -> tuple[str, ...]:
    return tuple(dict.fromkeys(frame["source_id"].astype(str)))


def _share_from(numerator: list[dict], denominator: list[dict]) -> str:
    return json.dumps({"method": "share", "numerator": numerator, "denominator": denominator})


# Shares are kept unrounded: each place that prints one rounds it once (text: SHARE_DIGITS decimals).
SHARE_DIGITS = 1


def trade_shares(trade: pd.DataFrame) -> pd.DataFrame:
    """Each partner's share of Armenia's total trade turnover, by year."""
    world = trade[trade["partner"] == "World"][["year", "turnover_musd", "row_ref", "source_id"]].rename(
        columns={"turnover_musd": "world_musd", "row_ref": "world_ref", "source_id": "world_source"})
    partners = trade[trade["partner"] != "World"].merge(world, on="year", how="inner")
    partners["share_pct"] = (100 * partners["turnover_musd"] / partners["world_musd"]).astype(float)
    partners["share_pct" + FROM] = [
        _share_from([_term(row, "turnover_musd")],
                    [{"row": str(row["world_ref"]), "column": "turnover_musd", "value": _plain(row["world_musd"]),
                      "source_id": str(row["world_source"])}])
        for _, row in partners.iterrows()]
    partners = partners.drop(columns=["world_ref", "world_source"])
    return partners.dropna(subset=["share_pct"]).reset_index(drop=True)


def gas_shares(gas: pd.DataFrame) -> pd.DataFrame:
    """Each supplier's share of Armenia's natural-gas imports by net weight, by year."""
    totals = gas.groupby("year")["net_weight_kt"].transform("sum")
    out = gas.copy()
    out["share_pct"] = (100 * out["net_weight_kt"] / totals).astype(float)
    out["full_year"] = out["months_covered"] == 12
    by_year = {year: [_term(row, "net_weight_kt") for _, row in rows.iterrows()]
               for year, rows in gas.groupby("year")}
    out["share_pct" + FROM] = [_share_from([_term(row, "net_weight_kt")], by_year[row["year"]])
                               for _, row in out.iterrows()]
    return out


def share_figure(shares: pd.DataFrame, *, name: str, partner: str, label: str, year: int | None = None,
                 partner_col: str = "partner", full_years_only: bool = False) -> Figure | None:
    """A partner's share in one year (default: the latest year available) as a Figure."""
    rows = shares[shares[partner_col] == partner]
    if full_years_only and "full_year" in rows:
        rows = rows[rows["full_year"]]
    if rows.empty:
        return None
    row_year = int(rows["year"].max()) if year is None else year
    row = rows[rows["year"] == row_year]
    if row.empty:
        return None
    origin = _origin(row.iloc[0], "share_pct")
    return Figure(name=name, value=float(row["share_pct"].iloc[0]), unit="pct", label=label,
                  period=str(row_year), sources=_sources_read(origin, row),
                  confidence=_worst(row["confidence"]), provenance=origin, digits=SHARE_DIGITS)


def _sources_read(provenance: dict, rows: pd.DataFrame) -> tuple[str, ...]:
    """The sources of every row a figure read (its own rows' first)."""
    from .results import terms

    return tuple(dict.fromkeys([*_ids(rows), *(t["source_id"] for t in terms(provenance))]))


def value_figure(frame: pd.DataFrame, *, name: str, label: str, value: str, unit: str,
                 period: str, where: dict) -> Figure | None:
    """The single row of ``frame`` matching ``where``, as a Figure."""
    rows = frame
    for column, wanted in where.items():
        rows = rows[rows[column] == wanted]
    if rows.empty:
        return None
    if len(rows) > 1:
        raise ValueError(f"expected one row for {where}, found {len(rows)}")
    origin = _origin(rows.iloc[0], value)
    return Figure(name=name, value=float(rows[value].iloc[0]), unit=unit, label=label,
                  period=str(rows[period].iloc[0]), sources=_sources_read(origin, rows),
                  confidence=_worst(rows["confidence"]), provenance=origin)


def _core(provenance: dict) -> dict:
    return {k: v for k, v in provenance.items() if k != "as_of"}


def ratio_figure(later: Figure | None, earlier: Figure | None, *, name: str, label: str) -> Figure | None:
    """``later`` ÷ ``earlier``, as a Figure; None when either is unknown or both are of one period
    (an early as-of date whose latest year is the base year: there is no change to state)."""
    if later is None or earlier is None or later.period == earlier.period:
        return None
    return Figure(name=name, value=later.value / earlier.value, unit="ratio", label=label,
                  period=f"{earlier.period}–{later.period}",
                  sources=tuple(dict.fromkeys(earlier.sources + later.sources)),
                  confidence=_worst([later.confidence, earlier.confidence]),
                  provenance={"method": "ratio", "of": [_core(later.provenance), _core(earlier.provenance)]})


def points(frame: pd.DataFrame, measure: str) -> pd.DataFrame:
    """Rows of a point-figure table for one measure, oldest first."""
    rows = frame[frame["measure"] == measure]
    return rows.sort_values("period_end").reset_index(drop=True)


def latest_point(frame: pd.DataFrame, measure: str, *, name: str, label: str,
                 confidence: str | None = None) -> Figure | None:
    """The most recent figure of a measure; with ``confidence``, only rows of that confidence."""
    rows = points(frame, measure)
    if confidence:
        rows = rows[rows["confidence"] == confidence]
    if rows.empty:
        return None
    row = rows.iloc[[-1]]
    return Figure(name=name, value=float(row["value"].iloc[0]), unit=str(row["unit"].iloc[0]),
                  label=label, period=str(row["period_label"].iloc[0]), sources=_ids(row),
                  confidence=_worst(row["confidence"]), provenance=_origin(row.iloc[0], "value"))


def opinion(frame: pd.DataFrame, question: str, subjects: list[str] | None = None,
            answers: list[str] | None = None) -> pd.DataFrame:
    """One survey question over time, by subject and answer; fieldwork end dates as ``when``.

    Where two reports of one survey disagree, the data keep the figure not used under an answer ending
    in ``_other_report`` (its note says why): it is left out unless asked for by name in ``answers``."""
    rows = frame[frame["question"] == question]
    if subjects is not None:
        rows = rows[rows["subject"].isin(subjects)]
    if answers is not None:
        rows = rows[rows["answer"].isin(answers)]
    else:
        rows = rows[~rows["answer"].str.endswith(OTHER_REPORT)]
    rows = rows.copy()
    rows["when"] = rows["fieldwork_end"]
    return rows.sort_values("when").reset_index(drop=True)


OTHER_REPORT = "_other_report"


def earliest_point(frame: pd.DataFrame, measure: str, *, name: str, label: str) -> Figure | None:
    rows = points(frame, measure)
    if rows.empty:
        return None
    row = rows.iloc[[0]]
    return Figure(name=name, value=float(row["value"].iloc[0]), unit=str(row["unit"].iloc[0]),
                  label=label, period=str(row["period_label"].iloc[0]), sources=_ids(row),
                  confidence=_worst(row["confidence"]), provenance=_origin(row.iloc[0], "value"))


def latest_opinion(frame: pd.DataFrame, *, name: str, label: str, first: bool = False) -> Figure | None:
    """The latest (or, with ``first``, the earliest) survey figure of ``frame`` rows."""
    if frame.empty:
        return None
    return _opinion_figure(frame.sort_values("fieldwork_end").iloc[[0 if first else -1]], name, label)


def lowest_opinion(frame: pd.DataFrame, *, name: str, label: str) -> Figure | None:
    """The lowest survey figure of ``frame`` rows (the most recent, if several are as low)."""
    if frame.empty:
        return None
    return _opinion_figure(frame.sort_values(["percent", "fieldwork_end"], ascending=[True, False]).iloc[[0]],
                           name, label)


def survey_name(row) -> str:
    """"IRI's June 2025 survey": the pollster and fieldwork month, for text that cites a survey."""
    when = fmt.fieldwork(row["fieldwork_start"], row["fieldwork_end"])
    pollster = str(row["pollster"])
    if pollster.startswith("not stated"):
        return f"a {when} survey whose pollster our source does not name"
    return f"{pollster.split(' (')[0]}'s {when} survey"


_MODE_TEXT = {"telephone": "by telephone", "face-to-face": "face to face"}


def mode_note(later: Figure, earlier: Figure) -> str:
    """A clause for text comparing two survey figures: whether their interview modes differ (then
    part of the change may come from the method) or are not both known. Empty when they match."""
    a, b = later.extra.get("mode"), earlier.extra.get("mode")
    if a and b:
        return "" if a == b else (f", interviewed {a} where {earlier.extra['survey']} was {b}, so part of "
                                  "the change may come from the method")
    unknown = earlier if not b else later
    return (f"; how {unknown.extra['survey']} interviewed people is not stated in our sources, so the two "
            "may not be strictly comparable")


def _opinion_figure(row: pd.DataFrame, name: str, label: str) -> Figure:
    """One survey row as a Figure; ``extra`` names the survey (``{x.survey}``) and its mode (``{x.mode}``)."""
    first = row.iloc[0]
    extra = {"survey": survey_name(first)}
    if isinstance(first.get("mode"), str) and first["mode"]:
        extra["mode"] = _MODE_TEXT.get(first["mode"], first["mode"])
    return Figure(name=name, value=float(first["percent"]), unit="pct", label=label,
                  period=fmt.fieldwork(first["fieldwork_start"], first["fieldwork_end"]), sources=_ids(row),
                  confidence=_worst(row["confidence"]), provenance=_origin(first, "percent"), extra=extra)


def events_in(events: pd.DataFrame, categories: list[str] | None = None,
              actors: list[str] | None = None, since: str | None = None) -> pd.DataFrame:
    """Timeline events filtered by category, actor (any of) and start date, oldest first."""
    rows = events
    if categories:
        rows = rows[rows["category"].isin(categories)]
    if actors:
        named = [pd.notna(a) and any(x in str(a).split(";") for x in actors) for a in rows["actors"]]
        rows = rows.loc[pd.Series(named, index=rows.index, dtype=bool)]
    if since:
        rows = rows[rows["date"] >= pd.Timestamp(since).date()]
    return with_date_text(rows.sort_values("date"), "date").reset_index(drop=True)


def with_date_text(rows: pd.DataFrame, date: str, precision: str = "date_precision") -> pd.DataFrame:
    """``date_text``: each row's date as precisely as it is known ('January 2026', not '1 January 2026')."""
    return rows.assign(date_text=[fmt.dated(d, p if isinstance(p, str) else "day")
                                  for d, p in zip(rows[date], rows[precision])])


def remittance_shares(remittances: pd.DataFrame, flow_type: str = "total") -> pd.DataFrame:
    """Russia's share of money transfers into Armenia, by year."""
    rows = remittances[(remittances["flow_type"] == flow_type) & (remittances["direction"] == "inflow")].copy()
    rows["share_pct"] = (100 * rows["russia_musd"] / rows["total_musd"]).astype(float)
    rows["share_pct" + FROM] = [_share_from([_term(row, "russia_musd")], [_term(row, "total_musd")])
                                for _, row in rows.iterrows()]
    rows["partner"] = "Russia"
    return rows.reset_index(drop=True)


def figures_frame(figures: list[Figure | None], labels: list[str] | None = None) -> pd.DataFrame:
    """Figures side by side (for a chart of headline numbers), one row each; None is skipped. Each
    label names its period (the figures may be of different years), and ``printed`` is the value as
    the text prints it (rounded once). ``labels``: shorter labels than the figures' own, one per figure."""
    labels = labels or [None] * len(figures)
    kept = [(f, short) for f, short in zip(figures, labels) if f is not None]
    figures = [f for f, _ in kept]
    return pd.DataFrame({
        "label": [replace(f, label=short).titled if short else f.titled for f, short in kept],
        "value": [f.value for f in figures],
        "printed": [f.text for f in figures],
        "period": [f.period for f in figures],
        "confidence": [f.confidence for f in figures],
        "source_id": [";".join(f.sources) for f in figures],  # a figure may rest on several sources
    })


def figure_sources(figures: list[Figure | None]) -> list[str]:
    return list(dict.fromkeys(s for f in figures if f is not None for s in f.sources))


def relations_rating(opinion_rows: pd.DataFrame) -> pd.DataFrame:
    """How Armenians rate relations with Russia, per survey: 'good' and 'bad' shares.

    Surveys that report both the combined share ("bad or very bad") and its parts keep the
    combined share only."""
    rows = opinion_rows[opinion_rows["question"] == "relations_with_russia"]
    out = []
    for _, survey in rows.groupby("survey_id"):
        for rating, preferred in (("good", ["good_or_very_good", "good"]), ("bad", ["bad_or_very_bad", "bad"])):
            for answer in preferred:
                hit = survey[survey["answer"] == answer]
                if not hit.empty:
                    row = hit.iloc[0].to_dict()
                    row["rating"] = rating
                    out.append(row)
                    break
    if not out:
        return rows.assign(rating=pd.Series(dtype="string")).iloc[0:0]
    return pd.DataFrame(out).sort_values("fieldwork_end").reset_index(drop=True)


def event_date(events: pd.DataFrame, event_id: str):
    """The date of one timeline event, or None if it had not happened by the as-of date."""
    rows = events[events["event_id"] == event_id]
    return None if rows.empty else rows["date"].iloc[0]


def days_between(events: pd.DataFrame, start_id: str, end_id: str, *, name: str, label: str) -> Figure | None:
    """Days from one timeline event to another (inclusive of neither), as a Figure."""
    rows = events[events["event_id"].isin([start_id, end_id])]
    start, end = event_date(events, start_id), event_date(events, end_id)
    if start is None or end is None:
        return None
    first, last = (rows[rows["event_id"] == eid].iloc[0] for eid in (start_id, end_id))
    return Figure(name=name, value=float((end - start).days), unit="days", label=label,
                  period=f"{start.isoformat()}–{end.isoformat()}", sources=_ids(rows),
                  confidence=_worst(rows["confidence"]),
                  provenance={"method": "days_between", "start": _term(first, "date"), "end": _term(last, "date")})


def count_figure(frame: pd.DataFrame, *, name: str, label: str, period: str) -> Figure | None:
    """How many rows ``frame`` has (e.g. Russian posts still in place), as a Figure."""
    if frame.empty:
        return None
    return Figure(name=name, value=float(len(frame)), unit="count", label=label, period=period,
                  sources=_ids(frame), confidence=_worst(frame["confidence"]),
                  provenance={"method": "count", "rows": [_term(row, "status") for _, row in frame.iterrows()]})


_PRECISIONS = {"day": 0, "month": 1, "year": 2}


def _truncated(day, precision: str):
    return (day.year, 0, 0) if precision == "year" else (day.year, day.month, 0) if precision == "month" \
        else (day.year, day.month, day.day)


def latest_of_each(frame: pd.DataFrame, group: str, date: str = "status_date",
                   precision: str = "date_precision") -> pd.DataFrame:
    """The latest row of each ``group``, comparing like with like: dates are compared at the coarsest
    precision among the group's rows (a month-only date against a day date compares months), and
    where that leaves a tie, the row made public later wins (it reports the newer state)."""
    def key(rows: pd.DataFrame) -> pd.Series:
        coarsest = max(rows[precision].fillna("day"), key=lambda p: _PRECISIONS.get(p, 0))
        return pd.Series([(_truncated(d, coarsest), p, d) for d, p in zip(rows[date], rows["public_date"])],
                         index=rows.index)

    latest = [rows.loc[key(rows).sort_values().index[-1]] for _, rows in frame.groupby(group)]
    if not latest:
        return frame.iloc[0:0]
    return pd.DataFrame(latest).sort_values(date).reset_index(drop=True)


def latest_status(presence: pd.DataFrame) -> pd.DataFrame:
    """The latest known status of each item of Russian presence."""
    return with_date_text(latest_of_each(presence, "item"), "status_date")


def rank_of(shares: pd.DataFrame, partner: str, year: int | None = None) -> int | None:
    """Rank (1 = largest) of a partner's trade turnover in a year (default: the latest year)."""
    if shares.empty:
        return None
    year = int(shares["year"].max()) if year is None else year
    ranked = shares[shares["year"] == year].sort_values("turnover_musd", ascending=False)
    names = list(ranked["partner"])
    return names.index(partner) + 1 if partner in names else None


def latest_value(frame: pd.DataFrame, *, name: str, label: str, value: str, unit: str,
                 by: str = "year") -> Figure | None:
    """The value of the most recent row (by ``by``) of a one-series table, as a Figure."""
    if frame.empty:
        return None
    row = frame.sort_values(by).iloc[[-1]]
    origin = _origin(row.iloc[0], value)
    return Figure(name=name, value=float(row[value].iloc[0]), unit=unit, label=label,
                  period=str(row[by].iloc[0]), sources=_sources_read(origin, row),
                  confidence=_worst(row["confidence"]), provenance=origin)


def russia_trade_compared(russia_azerbaijan: pd.DataFrame, trade: pd.DataFrame,
                          since: int = 2019) -> pd.DataFrame:
    """Russia's full-year trade turnover with Azerbaijan and with Armenia, US$ bn, by year."""
    az = points(russia_azerbaijan, "russia_azerbaijan_trade_turnover")
    az = az[az["period_label"].str.fullmatch(r"\d{4}")]
    az = az.assign(partner="Azerbaijan", year=az["period_label"].astype(int), turnover_bn=az["value"])
    az["turnover_bn" + FROM] = [json.dumps({"method": "value", "input": _term(row, "value")})
                                for _, row in az.iterrows()]
    arm = trade[trade["partner"] == "Russia"]
    arm = arm.assign(partner="Armenia", turnover_bn=arm["turnover_musd"] / 1000)
    arm["turnover_bn" + FROM] = [json.dumps({"method": "value", "input": _term(row, "turnover_musd", 0.001)})
                                 for _, row in arm.iterrows()]
    columns = ["year", "partner", "turnover_bn", "source_id", "confidence", "row_ref", "turnover_bn" + FROM]
    both = pd.concat([az[columns], arm[columns]], ignore_index=True)
    return both[both["year"] >= since].sort_values(["year", "partner"]).reset_index(drop=True)


_TO_BCM = {"bcm": 1.0, "mcm": 0.001}


def russian_gas_to_azerbaijan(russia_azerbaijan: pd.DataFrame) -> pd.DataFrame:
    """Russian gas for Azerbaijan by period, in one unit (bcm): what was reported delivered, and a
    contract's ceiling in a column of its own (a ceiling is not a volume delivered)."""
    rows = russia_azerbaijan[russia_azerbaijan["measure"].str.startswith("russian_gas_supplies_to_azerbaijan")]
    unknown = set(rows["unit"]) - set(_TO_BCM)
    if unknown:
        raise ValueError(f"russian gas supplies: no conversion to bcm for unit(s) {sorted(unknown)}")
    bcm = rows["value"].astype(float) * rows["unit"].map(_TO_BCM)
    contracted = rows["measure"].str.endswith("_contracted")
    out = rows.assign(delivered_bcm=bcm.where(~contracted), ceiling_bcm=bcm.where(contracted), value=bcm,
                      unit="bcm")
    return out.sort_values(["period_start", "period_end"]).reset_index(drop=True)


def stack(frames: dict[str, pd.DataFrame], column: str = "series") -> pd.DataFrame:
    """Several tables as one, each row labelled in ``column`` with its table's name (for one chart)."""
    labelled = [frame.assign(**{column: name}) for name, frame in frames.items() if not frame.empty]
    if not labelled:
        return next(iter(frames.values())).assign(**{column: pd.Series(dtype="string")})
    return pd.concat(labelled, ignore_index=True)


def verdict_counts(register: pd.DataFrame) -> pd.DataFrame:
    """Claims per section and verdict (judgements counted as such), sections in briefing order."""
    from .sections import discover

    titles = {s.slug: s.title for s in discover()}
    order = {slug: i for i, slug in enumerate(titles)}
    verdict = register["shown_verdict"].map(lambda v: v if isinstance(v, str) else "judgement (no verdict)")
    verdict = verdict.str.replace(r" as of \d{4}-\d{2}-\d{2}$", " (yet)", regex=True)
    counts = (register.assign(verdict=verdict).groupby(["section", "verdict"]).size()
              .rename("claims").reset_index())
    counts["section_title"] = counts["section"].map(lambda s: titles.get(s, s))
    counts["position"] = counts["section"].map(lambda s: order.get(s, len(order)))
    return counts.sort_values(["position", "verdict"]).reset_index(drop=True)
