"""One connector per published series: where to fetch it, and how its file becomes typed rows.

The engine knows publishers' formats (``FORMATS``: World Bank API v2, UN Comtrade API v1, Eurostat
JSON-stat); the catalogue (``sourceUpdates`` in data/datapackage.json) declares each connector of a
briefing: the format, the series, the table it feeds and how often the publisher updates it. A
connector says which table it feeds (``table``), which rows of that table are its own
(``lineage``: the source ids of the hand-entered rows it takes over, plus its own vintages), how
often the publisher updates the series (``every_days``) and how to read the publisher's file
(``parse``). Parsing is pure: the same raw vintage always gives the same rows, so any edition can be
rebuilt from the vintages it used. A file that does not have the expected shape is refused with
PublisherFileError naming the connector and what is wrong.

Base URLs can be pointed elsewhere (a mirror, or the test server) with
BRIEFING_PUBLISHER_URL_<PUBLISHER>, for example BRIEFING_PUBLISHER_URL_WORLDBANK.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from dataclasses import dataclass, field

from .errors import PublisherFileError


@dataclass
class Parsed:
    rows: list[dict]            # key and value columns of the table, typed (int, float, str)
    periods: set                # periods the file covers (a key row missing from one is withdrawn)
    release_date: dt.date | None = None  # the publisher's own date of this release, if it gives one


@dataclass(frozen=True)
class Connector:
    name: str
    publisher: str
    title: str
    table: str
    key: tuple[str, ...]        # the table's primary key
    values: tuple[str, ...]     # columns whose change is a revision
    lineage: tuple[str, ...]    # source ids of the hand-entered rows this connector takes over
    every_days: int             # how often the publisher updates the series
    env: str                    # BRIEFING_PUBLISHER_URL_<env>
    base_url: str
    fixed: dict = field(default_factory=dict)  # constant columns of every row (indicator, unit)
    period: str = "year"

    def base(self) -> str:
        return os.environ.get(f"BRIEFING_PUBLISHER_URL_{self.env}", self.base_url).rstrip("/")

    def request(self) -> tuple[str, dict, dict]:
        """(url, query parameters, headers)."""
        raise NotImplementedError

    def parse(self, raw: bytes) -> Parsed:
        raise NotImplementedError

    def overdue(self, checked: dt.date | None, on: dt.date) -> bool:
        """Whether a series last checked on `checked` (None: never fetched) is overdue on `on`."""
        return checked is None or (on - checked).days > self.every_days

    def owns(self, row: dict) -> bool:
        """A row of the table this connector keeps current (and may withdraw)."""
        if any(str(row.get(k, "")) != str(v) for k, v in self.fixed.items()):
            return False
        sid = row.get("source_id", "")
        return sid in self.lineage or sid.startswith(f"{self.name}-")

    def fail(self, what: str) -> PublisherFileError:
        return PublisherFileError(f"{self.name} ({self.publisher}): {what}")

    def _json(self, raw: bytes):
        try:
            return json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise self.fail("the file is not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise self.fail(f"the file is not valid JSON, truncated or malformed ({exc.msg} at "
                            f"line {exc.lineno}, column {exc.colno})") from None

    def _number(self, value, where: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(f"{where}: {value!r} is not a number")
        return float(value)


# --- World Bank Indicators API v2 ----------------------------------------------------------------
# https://datahelpdesk.worldbank.org/knowledgebase/articles/898581-how-to-use-the-api-to-obtain-data
# JSON: a two-element array, [page metadata (page, pages, per_page, total, sourceid, lastupdated),
# [observations: indicator{id,value}, country{id,value}, countryiso3code, date, value, unit,
# obs_status, decimal]]. ``lastupdated`` is the source's most recent update (the release date).

@dataclass(frozen=True)
class WorldBank(Connector):
    indicator: str = ""         # e.g. NY.GDP.MKTP.CD
    country: str = ""           # ISO 3 code

    def request(self):
        return (f"{self.base()}/v2/country/{self.country}/indicator/{self.indicator}",
                {"format": "json", "per_page": "20000"}, {})

    def parse(self, raw: bytes) -> Parsed:
        doc = self._json(raw)
        if isinstance(doc, list) and len(doc) == 1 and isinstance(doc[0], dict) and "message" in doc[0]:
            raise self.fail(f"the API answered with an error: {json.dumps(doc[0]['message'])[:300]}")
        if not (isinstance(doc, list) and len(doc) == 2 and isinstance(doc[0], dict)
                and isinstance(doc[1], list)):
            raise self.fail("expected [page metadata, [observations]] (World Bank API v2 JSON); the "
                            "schema has changed")
        meta, observations = doc
        if int(meta.get("pages", 1) or 1) > 1:
            raise self.fail(f"the answer has {meta['pages']} pages; only one was read (raise per_page)")
        release = _date(meta.get("lastupdated"), self, "lastupdated")
        rows, periods = [], set()
        for i, obs in enumerate(observations, start=1):
            where = f"observation {i}"
            try:
                code, iso3, year = obs["indicator"]["id"], obs["countryiso3code"], obs["date"]
                value = obs["value"]
            except (KeyError, TypeError):
                raise self.fail(f"{where}: missing indicator.id, countryiso3code, date or value; the schema "
                                "has changed") from None
            if code != self.indicator or iso3 != self.country:
                raise self.fail(f"{where}: {code} for {iso3}, expected {self.indicator} for {self.country}")
            if not (isinstance(year, str) and year.isdigit() and len(year) == 4):
                raise self.fail(f"{where}: date {year!r} is not a year")
            periods.add(int(year))
            number = self._number(value, f"{where} ({year})")
            if number is not None:
                rows.append({"year": int(year), **self.fixed, "value": number})
        return Parsed(rows, periods, release)


# --- UN Comtrade API v1 (comtradeapi.un.org) -----------------------------------------------------
# https://comtradedeveloper.un.org (API portal); the response shape as recorded by the comtradr
# package's tests: https://github.com/ropensci/comtradr/blob/main/tests/testthat/goods/
# comtradeapi.un.org/data/v1/get/C/A/HS-60a6ad.json -- {"elapsedTime", "count", "data": [records
# with refYear, period, reporterCode, partnerCode, partnerDesc, flowCode, cmdCode, netWgt (kg),
# primaryValue (US$), ...], "error": ""}. Without a key the public preview endpoint answers (at most
# 500 records); with COMTRADE_API_KEY the data endpoint is used.

@dataclass(frozen=True)
class Comtrade(Connector):
    reporter: int = 0           # the reporter's M49 code
    cmd: str = ""               # HS code
    flow: str = "M"             # M imports, X exports

    def request(self):
        key = os.environ.get("COMTRADE_API_KEY")
        path = "/data/v1/get/C/A/HS" if key else "/public/v1/preview/C/A/HS"
        this_year = dt.date.today().year  # the last twelve years: the most periods one call may ask for
        params = {"reporterCode": str(self.reporter), "cmdCode": self.cmd, "flowCode": self.flow,
                  "period": ",".join(str(y) for y in range(this_year - 11, this_year + 1)), "includeDesc": "true"}
        return self.base() + path, params, ({"Ocp-Apim-Subscription-Key": key} if key else {})

    def parse(self, raw: bytes) -> Parsed:
        doc = self._json(raw)
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
            raise self.fail("expected an object with a 'data' list (Comtrade API v1 JSON); the schema has changed")
        if doc.get("error"):
            raise self.fail(f"the API answered with an error: {str(doc['error'])[:300]}")
        if isinstance(doc.get("count"), int) and doc["count"] != len(doc["data"]):
            raise self.fail(f"'count' says {doc['count']} records but {len(doc['data'])} came: truncated")
        rows, periods, seen = [], set(), set()
        for i, rec in enumerate(doc["data"], start=1):
            where = f"record {i}"
            try:
                year, partner = rec["refYear"], rec["partnerDesc"]
                reporter, flow, cmd = rec["reporterCode"], rec["flowCode"], rec["cmdCode"]
                weight, value = rec["netWgt"], rec["primaryValue"]
            except (KeyError, TypeError):
                raise self.fail(f"{where}: missing refYear, partnerDesc, reporterCode, flowCode, cmdCode, netWgt "
                                "or primaryValue; the schema has changed") from None
            if (reporter, flow, str(cmd)) != (self.reporter, self.flow, self.cmd):
                raise self.fail(f"{where}: reporter {reporter}, flow {flow}, commodity {cmd}; expected "
                                f"{self.reporter}, {self.flow}, {self.cmd}")
            if not isinstance(year, int) or not isinstance(partner, str) or not partner:
                raise self.fail(f"{where}: refYear {year!r} or partnerDesc {partner!r} is not usable")
            if rec.get("partnerCode") == 0:  # the World total, not a partner
                continue
            if (year, partner) in seen:
                raise self.fail(f"{where}: {partner} {year} appears twice")
            seen.add((year, partner))
            periods.add(year)
            kg = self._number(weight, f"{where} ({partner} {year}) netWgt")
            usd = self._number(value, f"{where} ({partner} {year}) primaryValue")
            if kg is None:
                continue
            rows.append({"year": year, "months_covered": 12, "partner": partner,
                         "net_weight_kt": round(kg / 1e6, 4),
                         "value_musd": None if usd is None else round(usd / 1e6, 1)})
        return Parsed(rows, periods, None)


# --- Eurostat statistics API 1.0, JSON-stat 2.0 ---------------------------------------------------
# https://wikis.ec.europa.eu/display/EUROSTATHELP/API+Statistics+-+data+query and https://json-stat.org/format/
# A dataset: "id" (dimension names in order), "size" (categories per dimension), "dimension"
# (each with category.index: code -> position), "value" (flat index -> number; an object when sparse,
# else an array) and "updated" (the release time). The flat index of an observation is its positions
# combined row-major over "id" and "size".

@dataclass(frozen=True)
class Eurostat(Connector):
    dataset: str = ""
    filters: tuple = ()         # (dimension, code) pairs that fix every dimension but time
    scale: float = 1.0          # the table's unit per unit of the file (1e-3: TJ -> thousand TJ)
    digits: int = 1

    def request(self):
        url = f"{self.base()}/eurostat/api/dissemination/statistics/1.0/data/{self.dataset}"
        return url, {"format": "JSON", "lang": "EN", **dict(self.filters)}, {}

    def parse(self, raw: bytes) -> Parsed:
        doc = self._json(raw)
        if isinstance(doc, dict) and "error" in doc:
            raise self.fail(f"the API answered with an error: {json.dumps(doc['error'])[:300]}")
        try:
            ids, sizes, dims, values = doc["id"], doc["size"], doc["dimension"], doc["value"]
            index = {d: dims[d]["category"]["index"] for d in ids}
        except (KeyError, TypeError):
            raise self.fail("expected a JSON-stat 2.0 dataset (id, size, dimension, value); the schema has "
                            "changed") from None
        if doc.get("class") != "dataset" or len(ids) != len(sizes) or "time" not in ids:
            raise self.fail("not a JSON-stat dataset with a time dimension; the schema has changed")
        for dim, code in self.filters:
            if dim not in index or code not in index[dim] or sizes[ids.index(dim)] != 1:
                raise self.fail(f"dimension {dim} is not fixed at {code}; the query or the dataset changed")
        if isinstance(index["time"], list):  # JSON-stat allows the index as an array of codes
            index["time"] = {code: i for i, code in enumerate(index["time"])}
        strides = [math.prod(sizes[i + 1:]) for i in range(len(sizes))]
        offset = sum(strides[i] * _position(index[d]) for i, d in enumerate(ids) if d != "time")
        step = strides[ids.index("time")]
        rows, periods = [], set()
        for period, position in index["time"].items():
            if not (isinstance(period, str) and period.isdigit() and len(period) == 4):
                raise self.fail(f"time period {period!r} is not a year")
            periods.add(int(period))
            flat = offset + step * position
            value = values.get(str(flat)) if isinstance(values, dict) else (
                values[flat] if flat < len(values) else None)
            number = self._number(value, f"{period}")
            if number is not None:
                rows.append({"year": int(period), **self.fixed, "value": round(number * self.scale, self.digits)})
        return Parsed(rows, periods, _date(doc.get("updated"), self, "updated"))


def _position(categories) -> int:
    """The position of a dimension fixed to one category (its index object holds one entry)."""
    return next(iter(categories.values())) if isinstance(categories, dict) else 0


def _date(value, connector: Connector, what: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise connector.fail(f"{what} {value!r} is not a date") from None


FORMATS = {"worldbank": WorldBank, "comtrade": Comtrade, "eurostat": Eurostat}
BASES = {"worldbank": ("WORLDBANK", "https://api.worldbank.org"), "comtrade": ("COMTRADE", "https://comtradeapi.un.org"),
         "eurostat": ("EUROSTAT", "https://ec.europa.eu")}
VALUES = {"worldbank": ("value",), "eurostat": ("value",),
          "comtrade": ("months_covered", "net_weight_kt", "value_musd")}


def declared(data=None) -> dict[str, dict]:
    """The catalogue's ``sourceUpdates``: for each series source, its update period in days
    (``everyDays``) and either its connector (``connector``, ``fetch``) or why it is hand-entered
    (``handEntered``)."""
    from ..catalogue import read_catalogue

    entries = read_catalogue(data).get("sourceUpdates", {})
    return {k: v for k, v in entries.items() if isinstance(v, dict)}


def connectors(data=None) -> dict[str, Connector]:
    """Every connector the catalogue declares, by name. ``fetch`` names the publisher's format
    (worldbank, comtrade, eurostat), the table fed and the series; ``rows`` the constant columns of
    its rows. A declaration the engine cannot use is a DataError naming the source."""
    from ..catalogue import CATALOGUE, resource
    from ..errors import DataError

    found: dict[str, Connector] = {}
    for source_id, entry in declared(data).items():
        if "connector" not in entry:
            continue
        spec = dict(entry.get("fetch") or {})
        kind = spec.pop("format", None)
        try:
            table = spec.pop("table")
            key = tuple(resource(table, data)["schema"]["primaryKey"])
            env, base = BASES[kind]
            found[entry["connector"]] = FORMATS[kind](
                name=entry["connector"], publisher=spec.pop("publisher"), title=spec.pop("title"), table=table,
                key=key, values=tuple(spec.pop("values", VALUES[kind])), lineage=(source_id,),
                every_days=int(entry["everyDays"]), env=env, base_url=base, fixed=spec.pop("rows", {}),
                **{k: tuple(v.items()) if isinstance(v, dict) else v for k, v in spec.items()})
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"sourceUpdates.{source_id}: the connector cannot be made ({exc!r}); it needs "
                            f"fetch.format ({', '.join(FORMATS)}), table, publisher, title and the format's "
                            "fields", file=CATALOGUE) from None
    return found


def select(names: list[str] | None, data=None) -> list[Connector]:
    from ..errors import UsageError

    known = connectors(data)
    if not names:
        return list(known.values())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"unknown source {', '.join(unknown)}; connected sources: {', '.join(known)}")
    return [known[n] for n in dict.fromkeys(names)]
