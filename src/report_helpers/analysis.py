"""Computations the sections share. Each takes catalogue tables and returns tables or Figures;
every result keeps the source ids and confidence of the rows it was computed from."""

from __future__ import annotations

import pandas as pd

from .results import Figure


def _worst(confidences) -> str:
    return "Low" if "Low" in set(confidences) else "High"


def _ids(frame: pd.DataFrame) -> tuple[str, ...]:
    return tuple(dict.fromkeys(frame["source_id"].astype(str)))


def trade_shares(trade: pd.DataFrame) -> pd.DataFrame:
    """Each partner's share of Armenia's total trade turnover, by year."""
    world = trade[trade["partner"] == "World"][["year", "turnover_musd"]].rename(
        columns={"turnover_musd": "world_musd"})
    partners = trade[trade["partner"] != "World"].merge(world, on="year", how="inner")
    partners["share_pct"] = (100 * partners["turnover_musd"] / partners["world_musd"]).astype(float).round(1)
    return partners.dropna(subset=["share_pct"]).reset_index(drop=True)


def gas_shares(gas: pd.DataFrame) -> pd.DataFrame:
    """Each supplier's share of Armenia's natural-gas imports by net weight, by year."""
    totals = gas.groupby("year")["net_weight_kt"].transform("sum")
    out = gas.copy()
    out["share_pct"] = (100 * out["net_weight_kt"] / totals).astype(float).round(1)
    out["full_year"] = out["months_covered"] == 12
    return out


def share_figure(shares: pd.DataFrame, *, name: str, partner: str, label: str, year: int | None = None,
                 partner_col: str = "partner", full_years_only: bool = False) -> Figure:
    """A partner's share in one year (default: the latest year available) as a Figure."""
    rows = shares[shares[partner_col] == partner]
    if full_years_only and "full_year" in rows:
        rows = rows[rows["full_year"]]
    if rows.empty:
        raise ValueError(f"no rows for {partner!r} in the data known by the as-of date")
    row_year = int(rows["year"].max()) if year is None else year
    row = rows[rows["year"] == row_year]
    if row.empty:
        raise ValueError(f"no {partner!r} row for {row_year}")
    return Figure(name=name, value=float(row["share_pct"].iloc[0]), unit="pct", label=label,
                  period=str(row_year), sources=_ids(row), confidence=_worst(row["confidence"]))


def value_figure(frame: pd.DataFrame, *, name: str, label: str, value: str, unit: str,
                 period: str, where: dict) -> Figure:
    """The single row of ``frame`` matching ``where``, as a Figure."""
    rows = frame
    for column, wanted in where.items():
        rows = rows[rows[column] == wanted]
    if len(rows) != 1:
        raise ValueError(f"expected one row for {where}, found {len(rows)}")
    return Figure(name=name, value=float(rows[value].iloc[0]), unit=unit, label=label,
                  period=str(rows[period].iloc[0]), sources=_ids(rows),
                  confidence=_worst(rows["confidence"]))


def ratio_figure(later: Figure, earlier: Figure, *, name: str, label: str) -> Figure:
    return Figure(name=name, value=later.value / earlier.value, unit="ratio", label=label,
                  period=f"{earlier.period}–{later.period}",
                  sources=tuple(dict.fromkeys(earlier.sources + later.sources)),
                  confidence=_worst([later.confidence, earlier.confidence]))


def points(frame: pd.DataFrame, measure: str) -> pd.DataFrame:
    """Rows of a point-figure table for one measure, oldest first."""
    rows = frame[frame["measure"] == measure]
    return rows.sort_values("period_end").reset_index(drop=True)


def latest_point(frame: pd.DataFrame, measure: str, *, name: str, label: str) -> Figure:
    rows = points(frame, measure)
    if rows.empty:
        raise ValueError(f"no '{measure}' figure in the data known by the as-of date")
    row = rows.iloc[[-1]]
    return Figure(name=name, value=float(row["value"].iloc[0]), unit=str(row["unit"].iloc[0]),
                  label=label, period=str(row["period_label"].iloc[0]), sources=_ids(row),
                  confidence=_worst(row["confidence"]))


def opinion(frame: pd.DataFrame, question: str, subjects: list[str] | None = None,
            answers: list[str] | None = None) -> pd.DataFrame:
    """One survey question over time, by subject and answer; fieldwork end dates as ``when``."""
    rows = frame[frame["question"] == question]
    if subjects is not None:
        rows = rows[rows["subject"].isin(subjects)]
    if answers is not None:
        rows = rows[rows["answer"].isin(answers)]
    rows = rows.copy()
    rows["when"] = rows["fieldwork_end"]
    return rows.sort_values("when").reset_index(drop=True)


def latest_opinion(frame: pd.DataFrame, *, name: str, label: str) -> Figure:
    if frame.empty:
        raise ValueError(f"no survey rows for {name} known by the as-of date")
    row = frame.sort_values("fieldwork_end").iloc[[-1]]
    return Figure(name=name, value=float(row["percent"].iloc[0]), unit="pct", label=label,
                  period=str(row["fieldwork_end"].iloc[0])[:7], sources=_ids(row),
                  confidence=_worst(row["confidence"]))


def events_in(events: pd.DataFrame, categories: list[str] | None = None,
              actors: list[str] | None = None, since: str | None = None) -> pd.DataFrame:
    """Timeline events filtered by category, actor (any of) and start date, oldest first."""
    rows = events
    if categories:
        rows = rows[rows["category"].isin(categories)]
    if actors:
        rows = rows[rows["actors"].map(lambda a: any(x in str(a).split(";") for x in actors)
                                       if pd.notna(a) else False)]
    if since:
        rows = rows[rows["date"] >= pd.Timestamp(since).date()]
    return rows.sort_values("date").reset_index(drop=True)


def remittance_shares(remittances: pd.DataFrame, flow_type: str = "total") -> pd.DataFrame:
    """Russia's share of money transfers into Armenia, by year."""
    rows = remittances[(remittances["flow_type"] == flow_type) & (remittances["direction"] == "inflow")].copy()
    rows["share_pct"] = (100 * rows["russia_musd"] / rows["total_musd"]).astype(float).round(1)
    rows["partner"] = "Russia"
    return rows.reset_index(drop=True)


def figures_frame(figures: list[Figure]) -> pd.DataFrame:
    """Figures side by side (for a chart of headline numbers), one row each."""
    return pd.DataFrame({
        "label": [f.label for f in figures],
        "value": [f.value for f in figures],
        "period": [f.period for f in figures],
        "confidence": [f.confidence for f in figures],
    })


def figure_sources(figures: list[Figure]) -> list[str]:
    return list(dict.fromkeys(s for f in figures for s in f.sources))


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
    return pd.DataFrame(out).sort_values("fieldwork_end").reset_index(drop=True)
