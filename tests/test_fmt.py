import datetime as dt
import math

import pytest

from report_helpers import fmt


def test_percentages_and_points():
    assert fmt.pct(41.13) == "41%"
    assert fmt.pct(41.13, 1) == "41.1%"
    assert fmt.pp(-3.26) == "-3 pp"
    assert fmt.pct(None) == "n/a"
    assert fmt.pct(math.nan) == "n/a"


def test_money_switches_to_billions():
    assert fmt.usd_m(942) == "US$942 m"
    assert fmt.usd_m(12402) == "US$12.4 bn"
    assert fmt.usd_bn(4.17) == "US$4.2 bn"


def test_dates():
    assert fmt.date(dt.date(2024, 6, 30)) == "30 June 2024"
    assert fmt.date("2026-11-27") == "27 November 2026"
    assert fmt.month(dt.date(2023, 12, 31)) == "December 2023"


def test_by_unit_covers_the_units_in_the_data():
    import pandas as pd

    from report_helpers.paths import data_dir

    units = set()
    for name in ("trade_points", "gas_points", "arms_points", "russia_azerbaijan", "remittance_points"):
        units |= set(pd.read_csv(data_dir() / f"{name}.csv")["unit"])
    for unit in units:
        assert fmt.by_unit(1.5, unit)  # no unit in the data lacks a spelling
    with pytest.raises(ValueError, match="unknown unit"):
        fmt.by_unit(1, "furlongs")
