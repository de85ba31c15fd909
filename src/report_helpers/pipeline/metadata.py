"""What an edition says about itself to machines: schema.org JSON-LD (a Report and its Dataset) in the
head of briefing.html, and the same facts as XMP in briefing.pdf. Title, date, as-of date, edition,
publisher and the data's license; no clock but the build time the edition already carries."""

from __future__ import annotations

import json

from .. import project
from ..catalogue import read_catalogue

# SPDX ids of the catalogue's licenses and where their text is.
LICENSE_URLS = {"CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
                "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
                "ODbL-1.0": "https://opendatacommons.org/licenses/odbl/1-0/"}


def data_license() -> tuple[str, str]:
    """(name, URL or "") of the data's license, from the catalogue."""
    licenses = read_catalogue().get("licenses") or [{}]
    first = licenses[0]
    name = first.get("name", "")
    return name, first.get("path") or LICENSE_URLS.get(name, "")


def _folder(meta) -> str:
    return f"{meta.base_url}{meta.edition_id}/" if meta.base_url else ""


def json_ld(meta) -> str:
    """The JSON-LD of an edition, safe inside <script> ("</" escaped)."""
    name, url = data_license()
    folder = _folder(meta)
    as_of = meta.as_of.isoformat()
    briefing = project.load()
    publisher = {"@type": "Organization", "name": briefing.author}
    dataset = {
        "@type": "Dataset", "@id": f"{folder}datapack/datapackage.json",
        "name": f"Data of the {meta.edition} edition as of {as_of} ({meta.edition_id})",
        "description": f"The tables the edition used, with the rows public by {as_of}, as CSV with a "
                       "Frictionless datapackage.json; every row names its source and confidence.",
        "license": url or name, "publisher": publisher, "temporalCoverage": f"../{as_of}",
        "version": meta.edition_id, "isAccessibleForFree": True,
        "distribution": [{"@type": "DataDownload", "encodingFormat": "application/zip",
                          "contentUrl": f"{folder}datapack.zip"}],
    }
    report = {
        "@type": "Report", "@id": f"{folder}briefing.html", "name": briefing.title, "alternativeHeadline": briefing.subtitle,
        "inLanguage": briefing.language, "datePublished": meta.built.date().isoformat(), "dateCreated": meta.built.isoformat(),
        "temporalCoverage": f"../{as_of}", "version": meta.edition_id, "bookEdition": f"{meta.edition} edition",
        "publisher": publisher, "author": publisher,
        "additionalProperty": [{"@type": "PropertyValue", "name": "as-of date", "value": as_of},
                               {"@type": "PropertyValue", "name": "edition", "value": meta.edition_id}],
        "encoding": [{"@type": "MediaObject", "encodingFormat": "application/pdf",
                      "contentUrl": f"{folder}briefing.pdf"}],
        "isBasedOn": {"@id": dataset["@id"]},
    }
    if meta.datapack:
        graph = [report, dataset]
    else:
        report.pop("isBasedOn")
        graph = [report]
    text = json.dumps({"@context": "https://schema.org", "@graph": graph}, ensure_ascii=False, indent=1)
    return text.replace("</", "<\\/")


def xmp(meta) -> dict[str, object]:
    """XMP properties of briefing.pdf (pikepdf's names), beside the title Typst writes."""
    name, url = data_license()
    briefing = project.load()
    title = briefing.title
    fields: dict[str, object] = {
        "dc:publisher": [briefing.author],
        "dc:identifier": meta.edition_id,
        "dc:date": [meta.as_of.isoformat()],
        "dc:coverage": f"As of {meta.as_of.isoformat()}: data and events after this date are left out",
        "dc:description": f"{title} {meta.edition.capitalize()} edition as of {meta.as_of.isoformat()} "
                          f"(edition {meta.edition_id})",
        "dc:rights": f"Data: {name}" + (f" ({url})" if url else ""),
    }
    if url:
        fields["xmpRights:WebStatement"] = url
    return fields
