"""The catalogue and loading: real data validates; each kind of bad data is named by file, row, column."""

import datetime as dt
import json

import pytest

from report_helpers import catalogue
from report_helpers.errors import DataError


def test_the_projects_data_is_valid_and_every_table_is_catalogued():
    catalogue.validate_package()
    listed = {r["path"] for r in catalogue.read_catalogue()["resources"]}
    on_disk = {p.name for p in catalogue.data_dir().glob("*.csv")}
    assert listed == on_disk


def test_load_is_typed_and_filtered_by_as_of():
    trade = catalogue.load_table("trade_by_partner", as_of=dt.date(2024, 6, 30))
    assert str(trade["year"].dtype) == "Int64"
    assert trade["year"].max() == 2023  # 2024 had not ended by 30 June 2024
    events = catalogue.load_table("events", as_of=dt.date(2024, 6, 30))
    assert events["date"].max() <= dt.date(2024, 6, 30)
    assert len(catalogue.load_table("events")) > len(events)


def test_sources_are_numbered_in_table_order():
    sources = catalogue.sources()
    numbers = [s.number for s in sources.values()]
    assert numbers == list(range(1, len(numbers) + 1))


def _rewrite(root, name, edit):
    path = root / "data" / name
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")


def _error(root) -> DataError:
    with pytest.raises(DataError) as info:
        catalogue.validate_package(root / "data")
    return info.value


def test_missing_column(project_copy):
    _rewrite(project_copy, "gas_imports.csv",
             lambda ls: [",".join(c for i, c in enumerate(l.split(",")) if i != 4) for l in ls])
    err = _error(project_copy)
    assert "data/gas_imports.csv" in str(err) and "value_musd" in str(err)


def test_wrong_type(project_copy):
    _rewrite(project_copy, "trade_by_partner.csv",
             lambda ls: [ls[0], ls[1].replace(",4725,", ",lots,")] + ls[2:])
    err = _error(project_copy)
    assert err.file == "data/trade_by_partner.csv" and err.row == 2 and err.column == "turnover_musd"


def test_empty_source(project_copy):
    _rewrite(project_copy, "remittances.csv",
             lambda ls: [ls[0], ls[1].replace("cba-transfers-by-country", "")] + ls[2:])
    err = _error(project_copy)
    assert err.file == "data/remittances.csv" and err.row == 2 and err.column == "source_id"


def test_unknown_source(project_copy):
    _rewrite(project_copy, "remittances.csv",
             lambda ls: [ls[0], ls[1].replace("cba-transfers-by-country", "made-up-source")] + ls[2:])
    err = _error(project_copy)
    assert "made-up-source" in str(err) and err.file == "data/remittances.csv"


def test_duplicate_key(project_copy):
    _rewrite(project_copy, "gas_imports.csv", lambda ls: ls + [ls[1]])
    err = _error(project_copy)
    assert err.file == "data/gas_imports.csv" and "primary" in str(err)


def test_missing_file_and_bad_catalogue(project_copy):
    (project_copy / "data" / "events.csv").unlink()
    with pytest.raises(DataError, match="events.csv"):
        catalogue.validate_package(project_copy / "data")
    (project_copy / "data" / "datapackage.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        catalogue.read_catalogue(project_copy / "data")


def test_catalogue_naming_a_missing_column_fails_on_load(project_copy):
    path = project_copy / "data" / "datapackage.json"
    pkg = json.loads(path.read_text())
    trade = next(r for r in pkg["resources"] if r["name"] == "trade_by_partner")
    trade["schema"]["fields"].append({"name": "tariff_pct", "type": "number"})
    path.write_text(json.dumps(pkg))
    with pytest.raises(DataError, match="tariff_pct"):
        catalogue.load_table("trade_by_partner", root=project_copy / "data")


def test_loader_names_the_row_of_a_bad_cell(project_copy):
    _rewrite(project_copy, "events.csv", lambda ls: [ls[0], ls[1].replace("1991-09-21", "1991-21-09")] + ls[2:])
    with pytest.raises(DataError) as info:
        catalogue.load_table("events", root=project_copy / "data")
    assert info.value.row == 2 and info.value.column == "date"


def test_every_row_of_every_table_traces_to_a_full_source():
    sources = catalogue.load_table("sources")
    for column in ("publisher", "title", "url", "published"):
        assert sources[column].notna().all() and (sources[column].str.len() > 0).all(), column
    ids = set(sources["source_id"])
    for res in catalogue.read_catalogue()["resources"]:
        if res["name"] in ("sources", "claims"):  # claims cite rows of the other tables (test_claims)
            continue
        table = catalogue.load_table(res["name"])
        assert table["source_id"].notna().all(), res["name"]
        assert set(table["source_id"]) <= ids, res["name"]
        assert set(table["confidence"]) <= {"High", "Low"}, res["name"]


def test_figures_reported_after_the_as_of_date_are_left_out():
    """Point figures count as known from their source's publication date."""
    early = catalogue.load_table("arms_points", as_of=dt.date(2023, 12, 31))
    assert "ap-009" not in set(early["point_id"])  # Russia's 10% share of contracts, reported in 2024
    assert "ap-009" in set(catalogue.load_table("arms_points", as_of=dt.date(2026, 11, 27))["point_id"])
    assert catalogue.published_by("2024") == dt.date(2024, 12, 31)
    assert catalogue.published_by("2024-02") == dt.date(2024, 2, 29)
    assert catalogue.published_by("2024-12") == dt.date(2024, 12, 31)
