"""`briefing data update|accept|status` against a real local HTTP server serving recorded publisher
answers (tests/fixtures/publishers/README.md says where each format is documented). No network."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from werkzeug.wrappers import Response

from report_helpers import catalogue
from report_helpers.cli import main
from report_helpers.results import terms
from report_helpers.updates import stage

FIXTURES = Path(__file__).parent / "fixtures" / "publishers"
WB_GDP = "/v2/country/ARM/indicator/NY.GDP.MKTP.CD"
WB_POP = "/v2/country/ARM/indicator/SP.POP.TOTL"
COMTRADE = "/public/v1/preview/C/A/HS"
EUROSTAT = "/eurostat/api/dissemination/statistics/1.0/data/nrg_ti_gas"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def tree(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder``: to show that nothing changed."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def published(data: Path) -> dict[str, str]:
    """The files a build reads: data/ without the vintages folder."""
    return {k: v for k, v in tree(data).items() if not k.startswith("vintages/")}


def rows(data: Path, table: str) -> list[dict]:
    with (data / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def publishers(project_copy, httpserver, monkeypatch):
    """Every connector pointed at the local server; fast retries; the project copy's data folder."""
    base = httpserver.url_for("/").rstrip("/")
    for env in ("WORLDBANK", "COMTRADE", "EUROSTAT"):
        monkeypatch.setenv(f"BRIEFING_PUBLISHER_URL_{env}", base)
    monkeypatch.setenv("BRIEFING_FETCH_BACKOFF", "0.01")
    monkeypatch.setenv("BRIEFING_FETCH_TIMEOUT", "2")
    monkeypatch.delenv("COMTRADE_API_KEY", raising=False)
    return project_copy / "data"


def serve(httpserver, path: str, body: bytes, status: int = 200):
    httpserver.expect_request(path).respond_with_data(body, status=status, content_type="application/json")


def test_dry_run_without_network_names_each_source_and_changes_nothing(project_copy, tmp_path):
    """What a new user sees on a machine without network: one error per source, data/ untouched."""
    data = project_copy / "data"
    before = tree(data)
    port = closed_port()
    env = {"BRIEFING_PROJECT_DIR": str(project_copy), "BRIEFING_FETCH_BACKOFF": "0.01", "PATH": "/usr/bin:/bin",
           "BRIEFING_PUBLISHER_URL_WORLDBANK": f"http://127.0.0.1:{port}",
           "BRIEFING_PUBLISHER_URL_COMTRADE": f"http://127.0.0.1:{port}",
           "BRIEFING_PUBLISHER_URL_EUROSTAT": f"http://127.0.0.1:{port}"}
    result = subprocess.run([sys.executable, "-m", "report_helpers", "data", "update", "--dry-run"],
                            capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert result.returncode == 6, result.stderr
    for name in ("worldbank-gdp", "worldbank-population", "comtrade-gas", "eurostat-gas-az"):
        assert f"ERROR {name}: http://127.0.0.1:{port}/" in result.stderr
        assert "cannot connect" in result.stderr
    assert tree(data) == before
    assert not (data / "vintages").exists()


def test_first_fetch_of_the_same_values_changes_no_row_and_records_the_vintage(publishers, httpserver):
    serve(httpserver, WB_GDP, fixture("worldbank_gdp_v1.json"))
    serve(httpserver, WB_POP, fixture("worldbank_population_v1.json"))
    before = published(publishers)
    assert main(["data", "update", "--source", "worldbank-gdp", "--source", "worldbank-population"]) == 0
    report = (publishers / "vintages" / "staged" / "report.md").read_text()
    assert "0 row(s) added, 0 revised, 0 withdrawn, from 2 source(s)" in report
    raw = sorted((publishers / "vintages" / "worldbank-gdp").glob("*.raw"))
    assert len(raw) == 1 and raw[0].read_bytes() == fixture("worldbank_gdp_v1.json")
    meta = json.loads(raw[0].with_suffix(".json").read_text())
    assert meta["sha256"] == hashlib.sha256(raw[0].read_bytes()).hexdigest()
    assert meta["release_date"] == "2025-01-28" and meta["url"].startswith(httpserver.url_for(WB_GDP))
    assert main(["data", "accept"]) == 0
    assert published(publishers) == before  # same numbers: the published data are byte for byte the same
    ledger = json.loads((publishers / "vintages" / "accepted.json").read_text())["accepted"]
    assert [e["connector"] for e in ledger] == ["worldbank-gdp", "worldbank-population"]
    assert all(e["accepted_at"] for e in ledger)
    assert not (publishers / "vintages" / "staged").exists()


def test_revision_and_new_period_are_staged_then_accepted_and_cite_the_vintage(publishers, httpserver):
    serve(httpserver, WB_GDP, fixture("worldbank_gdp_v2_constructed.json"))
    before = published(publishers)
    assert main(["data", "update", "--source", "worldbank-gdp"]) == 0
    assert published(publishers) == before  # staged only
    report = (publishers / "vintages" / "staged" / "report.md").read_text()
    assert "1 row(s) added, 1 revised, 0 withdrawn" in report
    assert "| 2022\\|gdp_usd | value | 19513474648.24 | 19500000000 | -13474648.24 | -0.07% |" in report
    assert "- 2024\\|gdp_usd: value 25000000000" in report
    assert "release date: 2025-07-01" in report

    assert main(["data", "accept"]) == 0
    vid = json.loads((publishers / "vintages" / "accepted.json").read_text())["accepted"][-1]["vintage_id"]
    source = f"worldbank-gdp-{vid}"
    table = {(r["year"], r["indicator"]): r for r in rows(publishers, "country_indicators")}
    assert table[("2022", "gdp_usd")]["value"] == "19500000000"
    assert table[("2022", "gdp_usd")]["source_id"] == source
    assert table[("2022", "gdp_usd")]["public_date"] == "2025-07-01"
    assert table[("2024", "gdp_usd")]["value"] == "25000000000"
    assert table[("2021", "gdp_usd")]["source_id"] == "wb-gdp-datasets"  # unchanged rows keep their source
    assert catalogue.sources(publishers)[source].url.startswith("http://")
    catalogue.validate_package(publishers)  # the build's own data check passes

    # ALFRED-style: an edition as of a date before the release sees the earlier value and source
    def gdp(as_of):
        frame = catalogue.load_table("country_indicators", as_of=as_of, root=publishers)
        return {int(r.year): (r.value, r.source_id) for r in frame.itertuples() if r.indicator == "gdp_usd"}

    assert gdp(dt.date(2025, 6, 30))[2022] == (19513474648.24, "wb-gdp-datasets")
    assert 2024 not in gdp(dt.date(2025, 6, 30))
    assert gdp(dt.date(2025, 7, 1))[2022] == (19500000000, source)
    assert gdp(dt.date(2025, 7, 1))[2024] == (25000000000, source)


def test_withdrawn_row_and_a_revision_behind_a_claim_are_called_out(publishers, httpserver):
    serve(httpserver, COMTRADE, fixture("comtrade_gas_v1.json"))
    assert main(["data", "update", "--source", "comtrade-gas", "--accept"]) == 0
    httpserver.clear()
    serve(httpserver, COMTRADE, fixture("comtrade_gas_v2_constructed.json"))
    assert main(["data", "update", "--source", "comtrade-gas"]) == 0
    report = (publishers / "vintages" / "staged" / "report.md").read_text()
    head = report.split("Summary:")[0]
    assert "## Needs attention" in head
    assert "**revised gas_imports:2021|Russian Federation** is evidence for claim c04 as of 2023-12-31" in head
    assert "0 row(s) added, 2 revised, 1 withdrawn" in report
    assert "| 2021\\|Russian Federation | value_musd | 404.1 | 410 | +5.9 | +1.46% |" in report
    assert "### Withdrawn" in report and "- 2020\\|Iran: months_covered 12, net_weight_kt 281.4" in report
    assert main(["data", "accept"]) == 0
    keys = {(r["year"], r["partner"]) for r in rows(publishers, "gas_imports")}
    assert ("2020", "Iran") not in keys and ("2020", "Russian Federation") in keys
    assert ("2023", "Iran") in keys  # a year the file does not cover is left alone
    earlier = catalogue.load_table("gas_imports", as_of=dt.date.today() - dt.timedelta(days=1), root=publishers)
    assert ((earlier.year == 2020) & (earlier.partner == "Iran")).sum() == 1
    now = catalogue.load_table("gas_imports", as_of=dt.date.today(), root=publishers)
    assert ((now.year == 2020) & (now.partner == "Iran")).sum() == 0


def test_eurostat_json_stat_matches_the_table_then_brings_a_new_year(publishers, httpserver):
    httpserver.expect_ordered_request(EUROSTAT, query_string={
        "format": "JSON", "lang": "EN", "freq": "A", "siec": "G3000", "partner": "AZ", "unit": "TJ_GCV",
        "geo": "EU27_2020"}).respond_with_data(fixture("eurostat_gas_az_v1.json"))
    httpserver.expect_ordered_request(EUROSTAT).respond_with_data(fixture("eurostat_gas_az_v2_constructed.json"))
    before = published(publishers)
    assert main(["data", "update", "--source", "eurostat-gas-az", "--accept"]) == 0
    assert published(publishers) == before  # 492,900 TJ is the table's 492.9 thousand TJ
    assert _ledger(publishers)[-1]["release_date"] == "2024-02-15"
    assert main(["data", "update", "--source", "eurostat-gas-az", "--accept"]) == 0
    added = [r for r in rows(publishers, "eu_gas_azerbaijan") if r["measure"] == "eu_imports_from_az_thousand_tj"]
    assert [(r["year"], r["value"], r["unit"], r["public_date"]) for r in added] == [
        ("2023", "492.9", "thousand_tj", "2024-02-29"), ("2024", "500", "thousand_tj", "2025-02-14")]
    catalogue.validate_package(publishers)


def test_transient_429_and_503_are_retried(publishers, httpserver):
    httpserver.expect_ordered_request(WB_GDP).respond_with_data("slow down", status=429)
    httpserver.expect_ordered_request(WB_GDP).respond_with_data("busy", status=503)
    httpserver.expect_ordered_request(WB_GDP).respond_with_data(fixture("worldbank_gdp_v1.json"))
    assert main(["data", "update", "--source", "worldbank-gdp"]) == 0
    assert len(httpserver.log) == 3


def _broken(kind: str) -> bytes:
    """Answers a publisher might send on a bad day, made from the recorded ones (not publisher files)."""
    good = fixture("comtrade_gas_v1.json")
    doc = json.loads(good)
    if kind == "truncated":
        return good[: len(good) // 2]
    if kind == "schema":
        for rec in doc["data"]:
            rec["netWeight"] = rec.pop("netWgt")
    if kind == "count":
        doc["data"] = doc["data"][:3]
    if kind == "constraint":
        doc["data"][0]["netWgt"] = -doc["data"][0]["netWgt"]  # a sign flipped in transit
    return json.dumps(doc).encode()


@pytest.mark.parametrize("fault, code, message", [
    ("503", 6, "HTTP 503 SERVICE UNAVAILABLE; gave up after 4 attempt(s)"),
    ("429", 6, "HTTP 429 TOO MANY REQUESTS; gave up after 4 attempt(s)"),
    ("404", 6, "HTTP 404 NOT FOUND"),
    ("timeout", 6, "no answer within 2 s"),
    ("unreachable", 6, "cannot connect"),
    ("truncated", 7, "the file is not valid JSON, truncated or malformed"),
    ("schema", 7, "missing refYear, partnerDesc, reporterCode, flowCode, cmdCode, netWgt or primaryValue; "
                  "the schema has changed"),
    ("count", 7, "'count' says 8 records but 3 came: truncated"),
    ("constraint", 7, "row 2019|Iran, column 'net_weight_kt': -264.3 is below the minimum 0"),
])
def test_each_fault_names_the_source_exits_non_zero_and_changes_nothing(
        publishers, httpserver, monkeypatch, capsys, fault, code, message):
    serve(httpserver, WB_GDP, fixture("worldbank_gdp_v1.json"))
    assert main(["data", "update", "--source", "worldbank-gdp", "--accept"]) == 0  # an accepted state to keep
    before = tree(publishers)
    if fault in ("503", "429", "404"):
        httpserver.expect_request(COMTRADE).respond_with_data("no", status=int(fault))
    elif fault == "timeout":
        httpserver.expect_request(COMTRADE).respond_with_handler(lambda request: time.sleep(3) or Response("{}"))
        monkeypatch.setenv("BRIEFING_FETCH_ATTEMPTS", "1")
    elif fault == "unreachable":
        monkeypatch.setenv("BRIEFING_PUBLISHER_URL_COMTRADE", f"http://127.0.0.1:{closed_port()}")
    else:
        serve(httpserver, COMTRADE, _broken(fault))
    assert main(["data", "update", "--source", "comtrade-gas"]) == code
    errors = [line.split(" ERROR ", 1)[1] for line in capsys.readouterr().err.splitlines() if " ERROR " in line]
    assert any(m.startswith("comtrade-gas") and message in m for m in errors), errors
    assert tree(publishers) == before  # no vintage, nothing staged, accepted data as they were
    assert main(["data", "accept"]) == 0  # nothing staged
    assert tree(publishers) == before


def _broken_other(kind: str) -> bytes:
    """World Bank and Eurostat answers changed for the test (not publisher files): an error message in
    the World Bank's shape, the envelope dropped, JSON-stat without values, another reporting area."""
    if kind == "wb-error":
        return json.dumps([{"message": [{"id": "120", "key": "Invalid value",
                                         "value": "The provided parameter value is not valid"}]}]).encode()
    if kind == "wb-envelope":
        return json.dumps(json.loads(fixture("worldbank_gdp_v1.json"))[1]).encode()
    doc = json.loads(fixture("eurostat_gas_az_v1.json"))
    if kind == "jsonstat-no-values":
        del doc["value"]
    if kind == "jsonstat-geo":
        doc["dimension"]["geo"]["category"]["index"] = {"EU28": 0}
    return json.dumps(doc).encode()


@pytest.mark.parametrize("source, path, kind, message", [
    ("worldbank-gdp", WB_GDP, "wb-error", "the API answered with an error"),
    ("worldbank-gdp", WB_GDP, "wb-envelope", "expected [page metadata, [observations]] (World Bank API v2 JSON)"),
    ("eurostat-gas-az", EUROSTAT, "jsonstat-no-values", "expected a JSON-stat 2.0 dataset"),
    ("eurostat-gas-az", EUROSTAT, "jsonstat-geo", "dimension geo is not fixed at EU27_2020"),
])
def test_a_changed_format_of_each_publisher_is_refused(publishers, httpserver, capsys, source, path, kind, message):
    serve(httpserver, path, _broken_other(kind))
    before = tree(publishers)
    assert main(["data", "update", "--source", source]) == 7
    assert f"ERROR {source} (" in capsys.readouterr().err
    assert tree(publishers) == before


def test_one_failing_source_does_not_hold_back_the_others(publishers, httpserver):
    serve(httpserver, WB_GDP, fixture("worldbank_gdp_v2_constructed.json"))
    httpserver.expect_request(WB_POP).respond_with_data("down", status=500)
    serve(httpserver, COMTRADE, fixture("comtrade_gas_v1.json"))
    assert main(["data", "update"]) == 6
    report = (publishers / "vintages" / "staged" / "report.md").read_text()
    assert report.index("**worldbank-population failed**") < report.index("Summary:")
    plan = json.loads((publishers / "vintages" / "staged" / "plan.json").read_text())
    assert [v["connector"] for v in plan["vintages"]] == ["worldbank-gdp", "comtrade-gas"]


def test_accept_refuses_when_the_accepted_data_changed_since_the_update(publishers, httpserver):
    serve(httpserver, WB_GDP, fixture("worldbank_gdp_v2_constructed.json"))
    assert main(["data", "update", "--source", "worldbank-gdp"]) == 0
    table = publishers / "country_indicators.csv"
    table.write_bytes(table.read_bytes().replace(b"3004600", b"3004601"))
    before = tree(publishers)
    assert main(["data", "accept"]) == 2
    assert tree(publishers) == before


def test_an_accept_killed_between_its_moves_is_finished_by_the_next_command(publishers, httpserver, monkeypatch):
    serve(httpserver, COMTRADE, fixture("comtrade_gas_v2_constructed.json"))
    assert main(["data", "update", "--source", "comtrade-gas"]) == 0
    staged_table = (publishers / "vintages" / "staged" / "files" / "gas_imports.csv").read_bytes()
    real_replace, moved = stage.os.replace, []

    def dies_after_two_moves(src, dest):  # os.replace as a kill would leave it: two files moved, then gone
        if len(moved) == 2:
            raise KeyboardInterrupt
        moved.append(dest)
        real_replace(src, dest)

    monkeypatch.setattr(stage.os, "replace", dies_after_two_moves)
    with pytest.raises(KeyboardInterrupt):
        stage.accept(publishers)
    monkeypatch.setattr(stage.os, "replace", real_replace)
    assert (publishers / "vintages" / stage.JOURNAL).is_file()
    assert (publishers / "gas_imports.csv").read_bytes() != staged_table  # half done
    half = catalogue.load_table("gas_imports", as_of=dt.date.today() - dt.timedelta(days=1), root=publishers)
    assert not half["row_ref"].duplicated().any()  # earlier values never double a row the table still has
    assert main(["data", "accept"]) == 0  # finishes the journal first; then nothing is staged
    assert (publishers / "gas_imports.csv").read_bytes() == staged_table
    assert not (publishers / "vintages" / stage.JOURNAL).exists()
    catalogue.validate_package(publishers)


def test_a_second_command_waits_for_the_lock_then_gives_up(publishers):
    from report_helpers.locks import file_lock

    (publishers / "vintages").mkdir(exist_ok=True)
    with file_lock(publishers / "vintages" / stage.LOCK, None, "test"):
        assert main(["data", "accept", "--lock-wait", "0.3"]) == 3


def test_status_says_what_is_connected_hand_entered_and_overdue(publishers, httpserver, capsys):
    serve(httpserver, WB_GDP, fixture("worldbank_gdp_v1.json"))
    assert main(["data", "update", "--source", "worldbank-gdp", "--accept"]) == 0
    capsys.readouterr()
    assert main(["data", "status"]) == 0
    out = capsys.readouterr().out
    gdp = next(line for line in out.splitlines() if "worldbank-gdp" in line)
    assert "data as of 2025-01-28" in gdp and "OVERDUE" not in gdp
    assert "OVERDUE" in next(line for line in out.splitlines() if "comtrade-gas" in line)
    armstat = next(line for line in out.splitlines() if "armstat-trade-by-country" in line)
    assert "every 31 days OVERDUE (source published 2025-02-25)" in armstat  # sources.csv's date
    assert "cba-transfers-by-country" in out


def test_catalogue_declares_each_connector_and_each_hand_entered_series(project_copy):
    from report_helpers.updates.connectors import connectors, declared

    data = project_copy / "data"
    entries, known = declared(data), catalogue.sources(data)
    assert set(entries) <= set(known)  # every declared source is a row of sources.csv
    for name, connector in connectors(data).items():
        assert [entries[s]["connector"] for s in connector.lineage] == [name]
    assert all(("connector" in e) != ("handEntered" in e) and e["everyDays"] > 0 for e in entries.values())


def test_an_edition_states_data_as_of_and_notes_an_overdue_source(publishers, httpserver, caplog):
    from report_helpers.updates.freshness import edition_freshness

    serve(httpserver, WB_GDP, fixture("worldbank_gdp_v1.json"))
    assert main(["data", "update", "--source", "worldbank-gdp", "--accept"]) == 0
    today = dt.date.today()
    fresh = edition_freshness(today, publishers)
    assert fresh["overdue"] == []
    assert fresh["data_as_of"] == [f"World Bank, GDP (current US$), NY.GDP.MKTP.CD, Armenia: data as of 28 January "
                                   f"2025 (vintage {_ledger(publishers)[-1]['vintage_id']})"]
    # known from its release date on (ALFRED-style), not before
    assert edition_freshness(dt.date(2025, 1, 28), publishers)["data_as_of"] == fresh["data_as_of"]
    assert edition_freshness(dt.date(2025, 1, 27), publishers) == {"data_as_of": [], "overdue": []}
    # the same vintage seen as if fetched 400 days ago (the ledger's retrieval time set back for this test)
    ledger = publishers / "vintages" / "accepted.json"
    entries = _ledger(publishers)
    entries[-1]["retrieved_at"] = (today - dt.timedelta(days=400)).isoformat() + "T00:00:00+00:00"
    ledger.write_text(json.dumps({"accepted": entries}))
    logger = __import__("logging").getLogger("test-freshness")
    with caplog.at_level("WARNING", logger="test-freshness"):
        fresh = edition_freshness(today, publishers, log=logger)
    assert len(fresh["overdue"]) == 1 and "400 days before this edition" in fresh["overdue"][0]
    assert "every 366 days" in fresh["overdue"][0]
    warned = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("data overdue: worldbank-gdp last checked") for m in warned)
    assert any(m.startswith("data overdue: comtrade-gas (UN Comtrade) was never fetched") for m in warned)
    assert any(m.startswith("data overdue: armstat-trade-by-country is hand-entered from a source published "
                            "2025-02-25") for m in warned)


def _ledger(data: Path) -> list[dict]:
    return json.loads((data / "vintages" / "accepted.json").read_text())["accepted"]


@pytest.mark.e2e
def test_update_review_accept_build_names_the_new_vintage_and_an_earlier_edition_the_old(
        small_project, httpserver, monkeypatch, tmp_path):
    """The whole loop against the local server: the edition after the accept computes its gas share
    from the revised row and cites its vintage; an edition as of the day before uses the earlier row."""
    from conftest import run_build

    data = small_project / "data"
    monkeypatch.setenv("BRIEFING_PUBLISHER_URL_COMTRADE", httpserver.url_for("/").rstrip("/"))
    monkeypatch.delenv("COMTRADE_API_KEY", raising=False)
    reports = tmp_path / "reports"
    today, yesterday = dt.date.today(), dt.date.today() - dt.timedelta(days=1)
    assert run_build(reports).returncode == 0  # today's edition from the hand-entered data
    serve(httpserver, COMTRADE, fixture("comtrade_gas_v2_constructed.json"))
    assert main(["data", "update", "--source", "comtrade-gas", "--reports-dir", str(reports)]) == 0
    head = (data / "vintages" / "staged" / "report.md").read_text().split("Summary:")[0]
    assert ("**key figure russia_gas_share_latest_full_year (Russia's share of Armenia's gas imports, 2022) "
            "would change from 87.3% to 87.5%** (in the latest published edition)") in head
    assert main(["data", "accept"]) == 0
    vintage = json.loads((data / "vintages" / "accepted.json").read_text())["accepted"][-1]
    logs = {}
    for day in (today, yesterday):
        result = run_build(reports, "--as-of", day.isoformat())
        assert result.returncode == 0, result.stderr
        logs[day] = result.stderr
    assert "WARNING data overdue: worldbank-gdp (World Bank) was never fetched" in logs[today]
    assert "data overdue: comtrade-gas" not in logs[today]

    def gas_share(day):
        manifest = json.loads((reports / f"{day.isoformat()}_full" / "manifest.json").read_text())
        figure = manifest["figures"]["russia_gas_share_latest_full_year"]
        russia = [t for t in terms(figure["provenance"]) if t["row"] == "gas_imports:2022|Russian Federation"]
        return manifest, figure, russia

    manifest, figure, russia = gas_share(today)
    assert manifest["vintages"]["comtrade-gas"]["vintage_id"] == vintage["vintage_id"]
    assert {t["source_id"] for t in russia} == {vintage["source_id"]}
    assert vintage["source_id"] in figure["sources"]
    assert {t["value"] for t in russia} == {1900}
    html = (reports / f"{today.isoformat()}_full" / "briefing.html").read_text()
    assert "<h2>Data as of</h2>" in html and f"vintage {vintage['vintage_id']}" in html
    from pypdf import PdfReader

    pages = PdfReader(reports / f"{today.isoformat()}_full" / "briefing.pdf").pages[:4]
    pdf = " ".join(page.extract_text() for page in pages)
    assert "Data as of" in pdf and vintage["vintage_id"] in pdf
    manifest, figure, russia = gas_share(yesterday)
    assert "comtrade-gas" not in manifest["vintages"]  # not yet public on that day
    assert {t["source_id"] for t in russia} == {"comtrade-gas-imports"}
    assert vintage["source_id"] not in figure["sources"]
    assert {t["value"] for t in russia} == {1853.7}
    assert "Data as of" not in (reports / f"{yesterday.isoformat()}_full" / "briefing.html").read_text()


@pytest.mark.slow
def test_an_update_killed_at_any_moment_loses_nothing(publishers, httpserver):
    """SIGKILL `briefing data update --accept` at spread-out instants: data/ is always either as it was or
    fully updated (and passes the data check), and the next run completes the update."""
    import os
    import random
    import signal

    serve(httpserver, COMTRADE, fixture("comtrade_gas_v2_constructed.json"))
    project = publishers.parent
    env = {**os.environ, "BRIEFING_PROJECT_DIR": str(project)}
    command = [sys.executable, "-m", "report_helpers", "data", "update", "--source", "comtrade-gas", "--accept"]
    before = published(publishers)
    finished = None
    rng = random.Random(16)
    for attempt in range(8):
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 start_new_session=True)
        time.sleep(rng.uniform(0.5, 6.0))
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        now = published(publishers)
        if now != before:
            finished = finished or now
            assert now == finished  # a second kill never leaves a third state
            catalogue.validate_package(publishers)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    after = published(publishers)
    assert after != before and (finished is None or after == finished)
    assert not (publishers / "vintages" / stage.JOURNAL).exists()
    catalogue.validate_package(publishers)


def test_verify_derives_the_rows_again_from_the_raw_vintages(publishers, httpserver, capsys):
    serve(httpserver, COMTRADE, fixture("comtrade_gas_v2_constructed.json"))
    assert main(["data", "update", "--source", "comtrade-gas", "--accept"]) == 0
    assert main(["data", "verify"]) == 0
    table = publishers / "gas_imports.csv"
    table.write_text(table.read_text().replace("2022,12,Russian Federation,1900,", "2022,12,Russian Federation,1901,"))
    capsys.readouterr()
    assert main(["data", "verify"]) == 2
    source = _ledger(publishers)[-1]["source_id"]
    assert (f"gas_imports:2022|Russian Federation column net_weight_kt is '1901', but {source} gives 1900"
            in capsys.readouterr().err)
    raw = next((publishers / "vintages" / "comtrade-gas").glob("*.raw"))
    raw.write_bytes(raw.read_bytes().replace(b"410000000", b"410000001"))
    assert main(["data", "verify"]) == 2  # a raw file that no longer matches its SHA-256


def test_a_connector_the_catalogue_declares_wrongly_is_refused_naming_the_source(publishers, capsys):
    catalogue_file = publishers / "datapackage.json"
    text = catalogue_file.read_text(encoding="utf-8")
    catalogue_file.write_text(text.replace('"format": "comtrade"', '"format": "sdmx-ml"'), encoding="utf-8")
    before = tree(publishers)
    assert main(["data", "update"]) == 2
    err = capsys.readouterr().err
    assert "sourceUpdates.comtrade-gas-imports: the connector cannot be made" in err and "fetch.format" in err
    assert tree(publishers) == before
