"""The catalogue and loading: real data validates; each kind of bad data is named by file, row, column."""

import datetime as dt
import json

import pytest

from report_helpers import catalogue
from report_helpers.errors import DataError


def test_the_projects_data_is_valid_and_every_table_is_catalogued():
    catalogue.validate_package()
    listed = {r["path"] for r in catalogue.read_catalogue()["resources"]}
    # the corrections log is about editions, not a sourced table: corrections.py checks it
    on_disk = {p.name for p in catalogue.data_dir().glob("*.csv")} - {"corrections.csv"}
    assert listed == on_disk


def test_load_is_typed_and_filtered_by_as_of():
    """Rows count from the day they became public, not from the end of the period they describe."""
    early = catalogue.load_table("trade_by_partner", as_of=dt.date(2024, 6, 30))
    assert str(early["year"].dtype) == "Int64" and early.empty  # only source: a compilation of 2025-02-25
    trade = catalogue.load_table("trade_by_partner", as_of=dt.date(2025, 2, 25))
    assert trade["year"].max() == 2024 and (trade["public_date"] <= dt.date(2025, 2, 25)).all()
    events = catalogue.load_table("events", as_of=dt.date(2024, 6, 30))
    assert events["date"].max() <= dt.date(2024, 6, 30)
    assert events["public_date"].max() <= dt.date(2024, 6, 30)
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
        if res["name"] in ("sources", "claims", "claim_assessments"):  # claims cite rows (test_claims)
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


# Point in time: each row carries the day its value became public, and the as-of filter reads it.

def _data_tables():
    return [r for r in catalogue.read_catalogue()["resources"] if r["name"] not in ("sources", "claims", "claim_assessments")]


def test_each_row_carries_the_day_its_value_became_public():
    """public_date is the publication date of the earliest recorded source of the row's value (its
    public_source_id, else its source_id), or the day the event happened if that is later."""
    import pandas as pd

    published = {s.source_id: catalogue.published_by(s.published) for s in catalogue.sources().values()}
    for res in _data_tables():
        assert res.get("publicDateField") == "public_date", res["name"]
        assert "asOfField" not in res and "knownFrom" not in res, res["name"]
        for row in catalogue.load_table(res["name"]).to_dict("records"):
            assert row["public_date"] == catalogue.earliest_public(row, res["name"], published), (res["name"], row)
            if pd.notna(row["public_source_id"]):  # recorded because it came first
                assert published[row["public_source_id"]] < published[row["source_id"]], row


def test_a_row_public_before_its_source_appeared_is_refused(project_copy):
    _rewrite(project_copy, "trade_points.csv", lambda ls: [ls[0], ls[1].replace(
        "massispost-2023-07-kerobyan", "armstat-trade-by-country", 1)] + ls[2:])
    err = _error(project_copy)
    assert err.file == "data/trade_points.csv" and err.row == 2 and err.column == "public_date"
    assert "2025-02-25" in str(err)


def test_a_public_source_must_come_first(project_copy):
    _rewrite(project_copy, "gas_points.csv", lambda ls: [ls[0], ls[1].replace(
        "summary,2023-12-31,,", "summary,2023-12-31,cba-transfers-by-country,")] + ls[2:])
    err = _error(project_copy)
    assert err.file == "data/gas_points.csv" and err.column in ("public_date", "public_source_id")


def test_earliest_as_of_date_is_the_first_day_anything_was_public():
    first = min(catalogue.load_table(r["name"])["public_date"].min() for r in _data_tables())
    assert catalogue.earliest_date() == first


def test_an_edition_cites_the_first_report_until_the_later_source_appears():
    """The EU-Azerbaijan MoU target (2027) is keyed to its target year but public since the signing."""
    def target(as_of):
        rows = catalogue.load_table("eu_gas_azerbaijan", as_of=as_of)
        return rows[rows["measure"] == "mou_target_bcm"]

    assert target(dt.date(2022, 7, 17)).empty
    assert list(target(dt.date(2022, 7, 18))["source_id"]) == ["dailysabah-2022-07-18-eu-az-mou"]
    assert list(target(dt.date(2023, 2, 3))["source_id"]) == ["sputnik-urdupoint-2023-02-03-sgc-target"]
    assert list(catalogue.load_table("eu_gas_azerbaijan")
                .query("measure == 'mou_target_bcm'")["source_id"]) == ["sputnik-urdupoint-2023-02-03-sgc-target"]


def test_no_row_known_on_a_date_cites_a_source_published_after_it():
    known = catalogue.sources()
    for as_of in (dt.date(2020, 12, 31), dt.date(2024, 6, 30), dt.date(2025, 12, 31)):
        for res in _data_tables():
            table = catalogue.load_table(res["name"], as_of=as_of)
            late = [s for s in table["source_id"] if catalogue.published_by(known[s].published) > as_of]
            assert late == [], (as_of, res["name"], late)
        sources = catalogue.load_table("sources", as_of=as_of)
        assert all(catalogue.published_by(p) <= as_of for p in sources["published"])


def test_unknown_public_source(project_copy):
    _rewrite(project_copy, "gas_points.csv", lambda ls: [ls[0], ls[1].replace(
        "summary,2023-12-31,,", "summary,2023-12-31,no-such-source,")] + ls[2:])
    err = _error(project_copy)
    assert "no-such-source" in str(err) and err.file == "data/gas_points.csv"
