"""Numbers, dates and percentages: one spelling everywhere in the briefing."""

from __future__ import annotations

import datetime as dt
import math

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value) == "<NA>"


def number(value, digits: int = 0, missing: str = "n/a") -> str:
    """12 345.6 style with a thin space is hard to read in PDFs; use commas: 12,345.6."""
    if _missing(value):
        return missing
    return f"{float(value):,.{digits}f}"


def pct(value, digits: int = 0) -> str:
    """A percentage given in percent units (41.1 -> '41%')."""
    if _missing(value):
        return "n/a"
    return f"{float(value):.{digits}f}%"


def pp(value, digits: int = 0) -> str:
    """A change in percentage points, signed."""
    if _missing(value):
        return "n/a"
    return f"{float(value):+.{digits}f} pp"


def usd_m(value) -> str:
    """US$ millions, switching to billions from 1,000."""
    if _missing(value):
        return "n/a"
    value = float(value)
    if abs(value) >= 1000:
        return f"US${value / 1000:,.1f} bn"
    return f"US${value:,.0f} m"


def usd_bn(value, digits: int = 1) -> str:
    if _missing(value):
        return "n/a"
    return f"US${float(value):,.{digits}f} bn"


def ratio(value, digits: int = 1) -> str:
    if _missing(value):
        return "n/a"
    return f"{float(value):.{digits}f}×"


def date(value: dt.date | str) -> str:
    """27 November 2026."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def dated(value: dt.date | str, precision: str | None = "day") -> str:
    """A date as precisely as it is known: '27 November 2026', 'November 2026' or '2026'."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    if precision == "year":
        return str(value.year)
    return month(value) if precision == "month" else date(value)


def fieldwork(start: dt.date | str, end: dt.date | str) -> str:
    """A survey's fieldwork as precisely as the dates say: '2022' for a whole year (year only known),
    'January–March 2023' for whole months, otherwise the month it ended ('February 2026')."""
    start, end = (dt.date.fromisoformat(v) if isinstance(v, str) else v for v in (start, end))
    whole_months = start.day == 1 and (end + dt.timedelta(days=1)).day == 1
    if whole_months and (start.month, end.month) == (1, 12) and start.year == end.year:
        return str(end.year)
    if whole_months and (start.year, start.month) != (end.year, end.month):
        first = _MONTHS[start.month - 1] + ("" if start.year == end.year else f" {start.year}")
        return f"{first}–{month(end)}"
    return month(end)


def month(value: dt.date | str) -> str:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return f"{_MONTHS[value.month - 1]} {value.year}"


def by_unit(value, unit: str, digits: int | None = None) -> str:
    """Format a value by its unit name, as used in results and data tables. ``digits``: decimal places
    of a percentage (default 0); the value is rounded once, here, from what it is given."""
    formatter = {
        "pct": lambda v: pct(v, digits or 0), "pp": pp, "usd_m": usd_m, "usd_bn": usd_bn, "ratio": ratio,
        "pct_change": lambda v: f"{float(v):+.0f}%",
        "count": number, "persons": number, "years": lambda v: f"{number(v)} years",
        "bcm": lambda v: f"{number(v, 1)} bcm", "bcm_per_year": lambda v: f"{number(v, 1)} bcm a year",
        "mcm": lambda v: f"{number(v)} million m³", "kt": lambda v: f"{number(v)} kt",
        "tonnes": lambda v: f"{number(v)} t", "eur_bn": lambda v: f"€{number(v, 1)} bn",
        "usd_per_1000m3": lambda v: f"US${number(v)} per 1,000 m³",
        "usd_m_tiv": lambda v: f"{number(v)} m (SIPRI TIV)",
        "year": lambda v: str(int(v)), "days": lambda v: f"{number(v)} days",
    }.get(unit)
    if formatter is None:
        raise ValueError(f"unknown unit '{unit}'")
    return formatter(value)
