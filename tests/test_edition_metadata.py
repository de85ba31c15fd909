"""What an edition tells machines and printed readers about itself: schema.org JSON-LD in the HTML,
XMP in the PDF, and, with --base-url, a working data link under every figure of the PDF."""

from __future__ import annotations

import json
import re
import subprocess

import pikepdf
import pytest

from conftest import run_build

pytestmark = pytest.mark.e2e
BASE = "https://briefing.example.org/editions"


@pytest.fixture(scope="module")
def served_edition(tmp_path_factory, request):
    """A two-section edition built with --base-url, in a project of its own."""

    from conftest import copy_project

    root = copy_project(tmp_path_factory.mktemp("project") / "p", ("10_why_frenemies.ipynb", "20_what_putin_wants.ipynb"))
    patch = pytest.MonkeyPatch()
    patch.setenv("BRIEFING_PROJECT_DIR", str(root))
    reports = tmp_path_factory.mktemp("reports")
    result = run_build(reports, "--as-of", "2025-06-30", "--base-url", BASE + "/")
    patch.undo()
    assert result.returncode == 0, result.stderr
    return reports / "2025-06-30_full"


def _json_ld(page: str) -> dict:
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    return json.loads(block)


def test_json_ld_describes_the_report_and_its_dataset(full_edition):
    page = (full_edition / "briefing.html").read_text(encoding="utf-8")
    graph = {item["@type"]: item for item in _json_ld(page)["@graph"]}
    report, dataset = graph["Report"], graph["Dataset"]
    manifest = json.loads((full_edition / "manifest.json").read_text(encoding="utf-8"))
    as_of = manifest["parameters"]["as_of"]
    assert report["name"] == "Why are Putin and Pashinyan frenemies?"
    assert report["version"] == manifest["edition_id"] and report["temporalCoverage"] == f"../{as_of}"
    assert {"name": "as-of date", "value": as_of, "@type": "PropertyValue"} in report["additionalProperty"]
    assert report["publisher"]["name"] == "Frenemies briefing project"
    assert report["datePublished"] == manifest["built"][:10]
    assert dataset["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert report["isBasedOn"] == {"@id": dataset["@id"]}
    # relative without a base URL: the files beside the page
    assert dataset["distribution"][0]["contentUrl"] == "datapack.zip"
    assert (full_edition / dataset["@id"]).is_file()


def test_xmp_names_edition_as_of_publisher_and_license(full_edition):
    manifest = json.loads((full_edition / "manifest.json").read_text(encoding="utf-8"))
    with pikepdf.open(full_edition / "briefing.pdf") as pdf:
        meta = pdf.open_metadata()
        assert meta["dc:identifier"] == manifest["edition_id"]
        assert meta["dc:date"] == [manifest["parameters"]["as_of"]]
        assert set(meta["dc:publisher"]) == {"Frenemies briefing project"}
        assert meta["xmpRights:WebStatement"] == "https://creativecommons.org/licenses/by/4.0/"
        assert "CC-BY-4.0" in meta["dc:rights"] and meta["pdfuaid:part"] == "1"
        assert manifest["edition_id"] in str(pdf.docinfo["/Subject"])  # the document info kept in step


def test_with_a_base_url_every_figure_in_the_pdf_links_its_data(served_edition):
    folder = f"{BASE}/2025-06-30_full/"
    csvs = sorted(p.name for p in (served_edition / "figures").glob("*.csv"))
    assert csvs
    text = subprocess.run(["pdftotext", "-raw", str(served_edition / "briefing.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    with pikepdf.open(served_edition / "briefing.pdf") as pdf:
        uris = {str(a.A.URI) for page in pdf.pages for a in page.obj.get("/Annots", []) if "/A" in a}
    for name in csvs:
        assert f"Data:{folder}figures/{name}" in flat
        assert f"{folder}figures/{name}" in uris
    assert f"{folder}datapack.zip" in uris
    citation = json.loads((served_edition / "figures" / "figure-1-1.csl.json").read_text(encoding="utf-8"))[0]
    assert citation["URL"] == f"{folder}briefing.html#figure-1-1"
    graph = _json_ld((served_edition / "briefing.html").read_text(encoding="utf-8"))["@graph"]
    assert graph[0]["@id"] == f"{folder}briefing.html"


def test_a_base_url_that_is_not_http_is_refused(tmp_path):
    result = run_build(tmp_path / "reports", "--base-url", "ftp://example.org/")
    assert result.returncode == 2 and "--base-url 'ftp://example.org/' is not an http(s) URL" in result.stderr
