"""The print page -> briefing.pdf with WeasyPrint (vector charts, printed TOC with page numbers)."""

from __future__ import annotations

from pathlib import Path


def write_pdf(print_html: str, target: Path, *, base_url: str) -> None:
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    document = weasyprint.HTML(string=print_html, base_url=base_url)
    document.write_pdf(str(target), font_config=fonts, pdf_identifier=b"frenemies-briefing",
                       uncompressed_pdf=False)
