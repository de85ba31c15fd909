"""briefing.pdf with Typst: one tagged document, laid out in one piece.

Each section becomes Markdown in which the display blocks' Typst representations sit as raw Typst
blocks; pandoc turns each section into Typst markup as soon as the section has run (render.py), the
sections' markup is joined into one document, and the Typst compiler
(the `typst` wheel, no system library) prints it behind our page set-up (templates/briefing.typ):
cover, contents with page numbers, running head, "Page n of N", bookmarks, and the numbered sources.

Why this route: Typst writes tagged PDF/UA-1 (headings, paragraphs, lists, tables with header
cells, figures with alt text, links) and checks the standard as it compiles, and it lays out the
whole briefing in well under a second, so the document is never split into parts and joined.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from .. import project, typst_markup as tm
from ..catalogue import Source
from ..paths import templates_dir

# Every choice keeps PDF/UA-1; the archival ones add a PDF/A level (Typst checks both as it compiles).
STANDARDS = {"ua-1": ["ua-1"], "a-2b": ["a-2b", "ua-1"], "a-2a": ["a-2a", "ua-1"], "a-3b": ["a-3b", "ua-1"],
             "a-3a": ["a-3a", "ua-1"]}
DEFAULT_STANDARD = "ua-1"
_FENCE = "`" * 8


@dataclass(frozen=True)
class PrintedSection:
    title: str
    markdown: str  # Markdown cells as written, display blocks as raw Typst
    failed: bool = False


def section_markdown(notebook) -> tuple[str, list[str]]:
    """A cleaned, executed section as Markdown with raw Typst blocks; and what had no print form."""
    chunks, missing = [], []
    for cell in notebook.cells:
        number = cell.get("metadata", {}).get("source_cell_number", "?")  # JupyterLab's number (clean())
        if cell.cell_type == "markdown":
            chunks.append(cell.source)
            continue
        for output in cell.get("outputs", []):
            typst = output.get("data", {}).get(tm.TYPST_MIME)
            if typst:
                chunks.append(f"{_FENCE}{{=typst}}\n{typst}\n{_FENCE}")
            else:
                missing.append(f"cell {number}: an HTML block without a print form is left out of the PDF")
    return "\n\n".join(chunks), missing


def _markdown_to_typst(markdown: str) -> str:
    import pypandoc

    return pypandoc.convert_text(markdown, "typst", format="commonmark_x-smart",
                                 extra_args=["--wrap=preserve"])


def _cover(meta) -> str:
    rows = [("As of", meta.as_of_text), ("Edition", meta.edition), ("Built", meta.built_text)]
    grid = ", ".join(f"[{tm.text(k)}], [{tm.text(v)}]" for k, v in rows)
    return f"""#page(header: none, footer: none)[
  #v(1fr)
  #block(stroke: (left: 6pt + accent), inset: (left: 14mm, y: 4mm))[
    #text(weight: "bold", fill: accent, tracking: 0.12em)[BRIEFING]
    #v(4mm)
    #title()
    #text(size: 14pt, fill: muted-ink)[{tm.text(project.load().subtitle)}]
    #v(10mm)
    #grid(columns: (30mm, auto), row-gutter: 3mm, {grid})
    {_datapack_line(meta)}
  ]
  #v(1fr)
]
#show title: set text(size: 28pt)
"""


def _datapack_line(meta) -> str:
    """Where the data behind the briefing are: a link with a base URL, else the file beside the PDF."""
    if not meta.datapack:
        return ""
    if meta.base_url:
        address = f"{meta.base_url.rstrip('/')}/{meta.edition_id}/datapack.zip"
        return f"#v(6mm)\n    #text(size: 9pt)[Data pack: {tm.url_link(address)}]"
    return ("#v(6mm)\n    #text(size: 9pt)["
            + tm.text(f"Data: datapack.zip beside this PDF holds the {len(meta.datapack)} tables it used, as CSV "
                      "with a datapackage.json; figures/ holds each figure's data.") + "]")


def _changes(meta) -> str:
    """The "Changes since" note, as in the HTML (templates/macros.html.j2, changes_block)."""
    changes = meta.changes or {}
    revised = changes.get("revised")
    if not changes.get("previous") and not revised:
        return ""
    out = []
    if changes.get("previous"):
        out.append(f"= Changes since {tm.text(meta.previous_as_of_text)}")
        items = changes.get("items") or []
        out += [f"- {tm.text(item)}" for item in items] or [tm.text(
            f"No key figure, event or claim verdict differs from the edition of {meta.previous_as_of_text}.")]
    else:
        out.append("= Revised edition")
    if revised:
        revised_items = revised.get("items") or []
        out.append(tm.paragraph(tm.text(f"Revised since the build of {revised.get('built_text', '')}"
                                        + (":" if revised_items else "."))))
        out += [f"- {tm.text(item)}" for item in revised_items]
    return "\n".join(out) + "\n"


def _freshness(meta) -> str:
    """The "Data as of" note, as in the HTML (templates/macros.html.j2, freshness_block)."""
    fresh = (meta.changes or {}).get("freshness") or {}
    if not fresh.get("data_as_of"):
        return ""
    out = ["= Data as of"]
    out += [tm.paragraph(tm.text(f"Overdue: {line}")) for line in fresh.get("overdue", [])]
    out += [f"- {tm.text(line)}" for line in fresh["data_as_of"]]
    return "\n".join(out) + "\n"


def _corrections(meta) -> str:
    """The corrections made since the previous edition of this kind, as in the HTML (corrections_block)."""
    made = meta.corrections
    if not made:
        return ""
    return "\n".join([f"== Corrections since {tm.text(meta.previous_as_of_text)}",
                      *(f"- {tm.text(c.text)}" for c in made)]) + "\n"


def _sources(sources: list[Source]) -> str:
    entries = "\n".join(
        f"#enum.item({s.number})[#metadata(none)<source-{s.number}>{tm.text(s.publisher)}, “{tm.text(s.title)}”, "
        f"{tm.text(s.published)}. \\\n{tm.url_link(s.url)}]" for s in sources)
    # The anchor marks the entry itself; the address starts a line, so its link area holds it alone.
    return f"= Sources\n#set enum(numbering: \"1.\", body-indent: 0.6em)\n#text(size: 8.5pt)[\n{entries}\n]\n"


def _section(section: PrintedSection) -> str:
    if section.failed:
        return (f"# {section.title}\n\n{_FENCE}{{=typst}}\n#failed-section[{tm.text(section.markdown)}]\n"
                f"{_FENCE}")
    if not re.match(r"#(?!#)", section.markdown.lstrip()):  # e.g. a brief edition left its title cell out
        return f"# {section.title}\n\n{section.markdown}"
    return section.markdown


_RAW_TYPST = re.compile(rf"^{_FENCE}{{=typst}}\n(.*?)\n{_FENCE}$", re.S | re.M)


def section_typst(section: PrintedSection) -> str:
    """One section as Typst markup. Joined with no separator, the sections' markup is what pandoc
    makes of the whole briefing at once, so each section can be converted as soon as it has run.

    Pandoc passes raw Typst blocks through untouched, so they are held back and pandoc sees a short
    placeholder for each: the charts' SVG would otherwise make it parse megabytes (about 100 MB of
    memory for a section with charts, beside the workers)."""
    held: list[str] = []
    token = f"held-typst-{uuid.uuid4().hex}"

    def hold(match: re.Match) -> str:
        held.append(match.group(1))
        return f"{_FENCE}{{=typst}}\n// {token}-{len(held) - 1}\n{_FENCE}"

    body = _markdown_to_typst(_RAW_TYPST.sub(hold, _section(section)))
    body = re.sub(rf"^// {token}-(\d+)$", lambda m: held[int(m.group(1))], body, flags=re.M)
    return re.sub(r"^#horizontalrule$", "#line(length: 100%, stroke: 0.5pt + rule)", body, flags=re.M)


def document(sections_typst: list[str], meta, sources: list[Source], figures_list: str = "") -> str:
    """The whole briefing as one Typst document, from its sections' markup (``section_typst``), with
    the list of figures (downloads.list_typst) at the end, as in the HTML."""
    return "\n".join([
        (templates_dir() / "briefing.typ").read_text(encoding="utf-8"),
        _cover(meta),
        "#outline(title: [Table of Contents], depth: 2)",
        _changes(meta) + _freshness(meta),
        _corrections(meta),
        "#pagebreak()",
        "".join(sections_typst),
        _sources(sources),
        figures_list,
    ])


def inputs(meta) -> dict[str, str]:
    """What the page set-up reads from sys.inputs: the project file's names, the edition's details.
    Keywords are joined by newlines (sys.inputs holds only strings)."""
    briefing = project.load()
    return {"title": briefing.title, "author": briefing.author, "lang": briefing.language,
            "keywords": "\n".join(briefing.keywords),
            "running-head": f"{briefing.title} · as of {meta.as_of_text} · {meta.edition} edition"}


# Where each source entry's anchor landed, read back after compiling (``Compiler.query``).
_ANCHORS_QUERY = """
#context [#metadata(query(selector(metadata)).filter(m => m.has("label")
  and str(m.label).starts-with("source-")).map(m => (number: int(str(m.label).slice(7)),
  page: m.location().page(), y: m.location().position().y / 1pt))) <source-anchors>]
"""


def compile_pdf(source: str, target: Path, *, sys_inputs: dict[str, str], built: dt.datetime,
                standard: str = DEFAULT_STANDARD, attachments: dict[str, bytes] | None = None,
                sources: list[Source] | None = None, xmp: dict | None = None) -> int:
    """Print the document to ``target``; return its number of pages. Typst checks the standard
    (for PDF/UA-1: alt text on every image, tagged structure) and refuses a document that fails it.
    With ``sources``, each citation link is described by the source it leads to (describe_citations)."""
    import json
    import tempfile

    import typst

    from ..theme import font_files

    if standard not in STANDARDS:
        raise ValueError(f"unknown PDF standard {standard!r}; choose one of {', '.join(STANDARDS)}")
    fonts = sorted({str(p.parent) for p in font_files().values()})
    if attachments:
        source += "\n" + "\n".join(
            f'#pdf.attach({tm.string(name)}, bytes({tm.string(data.decode("utf-8"))}), '
            f'mime-type: "text/csv", relationship: "data", description: {tm.string("Table " + name)})'
            for name, data in attachments.items())
    with tempfile.TemporaryDirectory(prefix="briefing-typst-") as folder:
        main = Path(folder) / "briefing.typ"  # a file: the binding queries only documents read from files
        main.write_text(source + _ANCHORS_QUERY, encoding="utf-8")
        compiler = typst.Compiler(str(main), root=folder, font_paths=fonts, ignore_system_fonts=True,
                                  sys_inputs=sys_inputs)
        pdf = compiler.compile(format="pdf", pdf_standards=STANDARDS[standard], timestamp=built)
        anchors = json.loads(compiler.query("<source-anchors>", field="value", one=True)) if sources else []
    return describe_citations(pdf, target, anchors, sources or [], xmp)


def describe_citations(pdf: bytes, target: Path, anchors: list[dict], sources: list[Source],
                       xmp: dict | None = None) -> int:
    """Write the PDF to ``target`` with every link to a source entry described as "Source 7,
    Armstat …, page 27"; return its number of pages.

    Typst describes a link inside the document by its target page only ("page 27"), and screen readers
    read that description instead of the link's text (typst/typst#8877). The entry a citation leads to
    is found from where its anchor landed: Typst points such a link 10 pt above the anchor. Saved with
    pikepdf (qpdf), objects packed into streams, the ID derived from the content (reproducible)."""
    import io

    import pikepdf

    by_number = {s.number: s for s in sources}
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        page_index = {page.obj.objgen: i for i, page in enumerate(doc.pages)}
        anchors_on: dict[int, list[tuple[float, int]]] = {}
        for anchor in anchors:
            anchors_on.setdefault(anchor["page"] - 1, []).append((anchor["y"], anchor["number"]))
        for page in doc.pages:
            height = float(page.mediabox[3]) - float(page.mediabox[1])
            for annot in page.obj.get("/Annots", []):
                dest = annot.get("/Dest")
                if not isinstance(dest, pikepdf.Array) or len(dest) < 4 or dest[1] != "/XYZ":
                    continue
                index = page_index.get(dest[0].objgen)
                y = height - float(dest[3]) + 10  # the anchor's y, from the top, as Typst reports it
                number = next((n for top, n in anchors_on.get(index, []) if abs(top - y) < 1), None)
                if number in by_number:
                    s = by_number[number]
                    annot.Contents = pikepdf.String(f"Source {s.number}, {s.publisher}, page {index + 1}")
        if xmp:  # the edition's metadata (metadata.xmp), the document info kept in step; no clock read
            with doc.open_metadata(set_pikepdf_as_editor=False) as meta:
                for key, value in xmp.items():
                    meta[key] = value
        out = io.BytesIO()  # written by Python: a full disk is an OSError, not an abort inside qpdf
        doc.save(out, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
        pages = len(doc.pages)
    target.write_bytes(out.getvalue())
    return pages
