"""The PDF as readers and their tools get it: PDF/UA-1 checked by an independent validator, its
structure tree, bookmarks, citation numbers, link areas and targets, page layout, PDF/A editions.

Every test reads the PDF of a real build (Typst, through `briefing build`) with `page` (a PDF/UA
and PDF/A validator that passes the veraPDF corpus), pikepdf and pypdf.
"""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from conftest import run_build

pytestmark = pytest.mark.e2e
SECTION_TITLES = ["Key points", "Why are Putin and Pashinyan FRENEMIES?", "What does Putin want?",
                  "What does Pashinyan want?", "What is Pashinyan doing?", "What about you?",
                  "Claims and evidence"]
MARGIN_TOP, MARGIN_BOTTOM = 22 / 25.4 * 72, 20 / 25.4 * 72  # the page set-up's margins, in points


def validate(pdf: Path | bytes, profile: str):
    import page

    report = (page.validate_pdf_bytes(pdf, profile=profile) if isinstance(pdf, bytes)
              else page.validate_pdf(str(pdf), profile=profile))
    return report, [(f.rule_id, f.message) for f in report.failures]


def flat_text(text: str) -> str:
    return " ".join(text.split())


def structure(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    """Every element of the structure tree, in reading order."""
    out = []

    def walk(node):
        if isinstance(node, pikepdf.Array):
            for child in node:
                walk(child)
        elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
            out.append(node)
            if "/K" in node:
                walk(node.K)

    walk(pdf.Root.StructTreeRoot.K)
    return out


def text_runs(page) -> list[tuple[float, float, str]]:
    """(x, y, text) of each text run of a page, in user space."""
    runs = []

    def visit(text, cm, tm, _font, _size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            runs.append((x, y, text))

    page.extract_text(visitor_text=visit)
    return runs


def sources_list(reader: PdfReader) -> dict[int, str]:
    """Number -> publisher, read from the Sources pages of the PDF."""
    start = next(reader.get_destination_page_number(item) for item in reader.outline
                 if not isinstance(item, list) and item.title == "Sources")
    text = flat_text(" ".join(p.extract_text() for p in reader.pages[start:]))
    text = text[text.index("Sources") + len("Sources"):]
    # Entries are numbered in increasing order; a number inside a title or address is not an entry.
    starts, last = [], 0
    for match in re.finditer(r"(?:^|(?<!,)\s)(\d{1,3})\. ", text):  # not ", 2024. " (a date)
        if int(match.group(1)) > last:
            starts.append(match)
            last = int(match.group(1))
    entries = {}
    for match, following in zip(starts, starts[1:] + [None]):
        entry = text[match.end():following.start() if following else len(text)]
        entries[int(match.group(1))] = entry.split(", “")[0]
    return entries


@pytest.fixture(scope="module")
def pdf_path(full_edition) -> Path:
    return full_edition / "briefing.pdf"


def test_the_pdf_conforms_to_pdf_ua_1(pdf_path):
    report, failures = validate(pdf_path, "ua1")
    assert report.is_compliant, failures
    assert report.rules.total >= 100 and report.rules.failed == 0


def test_the_validator_rejects_what_is_not_pdf_ua(tmp_path):
    """The same validator, on the same kind of document printed without tags: it must say no."""
    import typst

    untagged = typst.compile(b'#set document(title: "t")\n#set text(lang: "en")\n= Heading\nText',
                             format="pdf", pdf_tags=False)
    report, failures = validate(untagged, "ua1")
    assert not report.is_compliant and failures


def test_document_language_title_and_declared_standard(pdf_path):
    with pikepdf.open(pdf_path) as pdf:
        assert str(pdf.Root.Lang).startswith("en")
        assert pdf.Root.MarkInfo.Marked is True
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        meta = pdf.open_metadata()
        assert meta["dc:title"] == "Why are Putin and Pashinyan frenemies?"
        assert meta["pdfuaid:part"] == "1"


def test_structure_has_headings_in_order_tables_lists_and_figures_with_the_html_alt_text(pdf_path, full_edition):
    with pikepdf.open(pdf_path) as pdf:
        elements = structure(pdf)
        kinds = [str(e.S) for e in elements]
        headings = [int(k[2]) for k in kinds if re.fullmatch(r"/H[1-6]", k)]
        assert headings[0] == 1 and all(b <= a + 1 for a, b in zip(headings, headings[1:]))  # no level skipped
        assert headings.count(1) >= len(SECTION_TITLES) + 1  # the sections and Sources
        assert kinds.count("/Table") >= 10 and kinds.count("/TH") >= 3 * kinds.count("/Table")
        assert kinds.count("/L") >= 1 and kinds.count("/LI") >= 50  # the sources list
        figure_alts = [str(e.Alt) for e in elements if str(e.S) == "/Figure"]
        links = [e for e in elements if str(e.S) == "/Link"]
        assert len(links) >= 100
        for page in pdf.pages:
            for annot in page.obj.get("/Annots", []):
                assert annot.Subtype == "/Link" and str(annot.Contents).strip() and "/StructParent" in annot
    page_html = (full_edition / "briefing.html").read_text(encoding="utf-8")
    charts = re.findall(r'<figure class="chart" id="figure-\d+-\d+"><svg[^>]*>', page_html)
    assert all('role="img"' in svg for svg in charts)
    html_alts = [html_lib.unescape(re.search(r'aria-label="([^"]*)"', svg).group(1)) for svg in charts]
    assert len(html_alts) >= 12
    assert figure_alts == html_alts  # the same alt text, chart for chart
    for alt in figure_alts:
        assert re.match(r"Figure \d+\.\d+: (Line chart|Horizontal bar chart|Grouped bar chart|100% stacked bar chart|"
                        r"Stacked bar chart|Timeline|Dot chart): ", alt) and re.search(r"\d", alt), alt


def test_bookmarks_mirror_the_contents(pdf_path, full_edition):
    reader = PdfReader(pdf_path)

    def titles(items, level=1):
        for item in items:
            if isinstance(item, list):
                yield from titles(item, level + 1)
            else:
                yield level, item.title

    bookmarks = [(lvl, t) for lvl, t in titles(reader.outline)
                 if t != "Table of Contents" and not t.startswith("Changes since")]
    page_html = (full_edition / "briefing.html").read_text(encoding="utf-8")
    toc = page_html[page_html.index('<nav class="toc"'):page_html.index("</nav>")]
    entries = [(2 if "--" in href else 1, html_lib.unescape(re.sub(r"<[^>]+>", "", text)).strip())
               for href, text in re.findall(r'<a href="#([^"]+)"[^>]*>(.*?)</a>', toc, re.S)]
    assert [t for _, t in bookmarks] == [t for _, t in entries]
    assert [lvl for lvl, _ in bookmarks] == [lvl for lvl, _ in entries]
    for title in SECTION_TITLES + ["Sources"]:
        assert (1, title) in bookmarks


def test_every_cited_number_names_the_source_listed_under_it(pdf_path, full_edition):
    reader = PdfReader(pdf_path)
    listed = sources_list(reader)
    assert len(listed) >= 50
    # the running head and foot left out: a long source line may run on to the next page
    body = flat_text(" ".join(line for p in reader.pages for line in p.extract_text().splitlines()[1:-1]))
    body = body[:body.rindex("Sources ")]
    cited = list(re.finditer(r"\[(\d+)\] ", body))
    assert len(cited) >= 300
    wrong = [(m.group(1), body[m.end():m.end() + 40]) for m in cited
             if int(m.group(1)) not in listed or not body.startswith(listed[int(m.group(1))], m.end())]
    assert wrong == []
    # the HTML numbers the same sources the same way
    page_html = (full_edition / "briefing.html").read_text(encoding="utf-8")
    html_listed = {int(n): html_lib.unescape(p) for n, p in
                   re.findall(r'<li id="source-(\d+)" value="\d+">(.+?), “', page_html)}
    assert html_listed == listed


def test_links_cover_their_text_only_land_on_the_right_page_and_name_their_source(pdf_path):
    reader = PdfReader(pdf_path)
    listed = sources_list(reader)
    page_texts = [flat_text(p.extract_text()) for p in reader.pages]
    checked = {"citation": 0, "contents": 0, "web": 0}
    for number, page in enumerate(reader.pages):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        runs = text_runs(page)
        rects = []
        for ref in page.get("/Annots", []):
            annot = ref.get_object()
            x0, y0, x1, y1 = (float(v) for v in annot["/Rect"])
            assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, (number + 1, annot["/Rect"])
            rects.append((x0, y0, x1, y1))
            inside = "".join(t for x, y, t in runs if x0 - 1 <= x <= x1 + 1 and y0 - 3 <= y <= y1 + 1)
            if "/Dest" not in annot:  # a web address: it may wrap, but its area holds nothing else
                uri = str(annot["/A"]["/URI"])
                assert "".join(inside.split()) == uri, (number + 1, inside, uri)
                checked["web"] += 1
                continue
            assert y1 - y0 <= 20, f"page {number + 1}: a link area {y1 - y0:.0f} pt high"
            dest = annot["/Dest"]
            target = (reader.get_destination_page_number(reader.named_destinations[str(dest)])
                      if isinstance(dest, str) else reader.get_page_number(dest.get_object()[0].get_object()))
            cite = re.match(r"\s*\[(\d+)\]", inside)  # a run that starts inside the area: "[7] Publisher"
            if cite:
                n = int(cite.group(1))
                assert f"{n}. {listed[n]}" in page_texts[target], (number + 1, n, target + 1)
                # what a screen reader announces: the source, not only a page number
                assert str(annot["/Contents"]) == f"Source {n}, {listed[n]}, page {target + 1}", \
                    (number + 1, str(annot["/Contents"]))
                checked["citation"] += 1
            else:
                title = flat_text(re.sub(r"[ .]*\d+\s*$", "", inside.replace(". ", " ")))
                assert title and title in page_texts[target], (number + 1, inside, target + 1)
                checked["contents"] += 1
        for i, a in enumerate(rects):  # no two areas overlap: a click lands on one link only
            for b in rects[i + 1:]:
                overlap_w = min(a[2], b[2]) - max(a[0], b[0])
                overlap_h = min(a[3], b[3]) - max(a[1], b[1])
                assert overlap_w <= 0.5 or overlap_h <= 0.5, (number + 1, a, b)
    assert checked["citation"] >= 300 and checked["contents"] >= 20 and checked["web"] >= 50, checked


def test_running_head_page_numbers_and_no_heading_alone_at_a_page_bottom(pdf_path):
    reader = PdfReader(pdf_path)
    total = len(reader.pages)
    headings = set()

    def collect(items):
        for item in items:
            collect(item) if isinstance(item, list) else headings.add(item.title)

    collect(reader.outline)
    for number, page in enumerate(reader.pages[1:], start=2):
        text = flat_text(page.extract_text())
        assert f"Page {number} of {total}" in text
        assert "as of" in text and "edition" in text  # the running head
        body = [(y, t) for x, y, t in text_runs(page) if MARGIN_BOTTOM < y < float(page.mediabox.height) - MARGIN_TOP]
        if not body:
            continue
        lowest = min(y for y, _ in body)
        last_line = flat_text(" ".join(t for y, t in sorted(body, key=lambda r: -r[0]) if abs(y - lowest) < 2))
        assert last_line not in headings, f"page {number} ends with the heading {last_line!r}"


def test_no_large_empty_areas(pdf_path):
    """Apart from the cover, the contents and the last page, each page's text and charts reach
    at least halfway down the page."""
    reader = PdfReader(pdf_path)
    for number, page in enumerate(reader.pages[2:-1], start=3):
        top = float(page.mediabox.height) - MARGIN_TOP
        body = [y for x, y, t in text_runs(page) if MARGIN_BOTTOM + 5 < y < top]
        used = (top - min(body)) / (top - MARGIN_BOTTOM) if body else 0
        assert used >= 0.5, f"page {number} is {100 * (1 - used):.0f}% empty"


def test_archival_edition_is_pdf_a_3_with_its_data_attached_and_stays_pdf_ua(tmp_path):
    standard, profile = "a-3b", "3b"
    reports = tmp_path / "reports"
    result = run_build(reports, "--pdf-standard", standard, "--edition", "brief")
    assert result.returncode == 0, result.stderr
    pdf_file = next(reports.glob("*_brief/briefing.pdf"))
    for check in (profile, "ua1"):
        report, failures = validate(pdf_file, check)
        assert report.is_compliant, (check, failures)
    with pikepdf.open(pdf_file) as pdf:
        attached = set(pdf.attachments)
        assert pdf.open_metadata()["pdfaid:part"] == profile[0]
    data = {p.name for p in (Path(__file__).resolve().parents[1] / "data").glob("*.csv")}
    assert attached == data  # the tables behind the briefing ride along


def test_pdf_a_2b_printing_validates_and_refuses_an_unknown_standard(tmp_path):
    import datetime as dt

    from report_helpers.pipeline import pdf

    source = (pdf.templates_dir() / "briefing.typ").read_text() + "\n= A section\nSome text.\n"
    inputs = {"title": "T", "author": "A", "running-head": "R", "lang": "en", "keywords": ""}
    built = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    pdf.compile_pdf(source, tmp_path / "a.pdf", sys_inputs=inputs, built=built, standard="a-2b")
    for check in ("2b", "ua1"):
        report, failures = validate(tmp_path / "a.pdf", check)
        assert report.is_compliant, (check, failures)
    with pytest.raises(ValueError, match="unknown PDF standard 'a-9z'"):
        pdf.compile_pdf(source, tmp_path / "b.pdf", sys_inputs=inputs, built=built, standard="a-9z")
