"""A failed section as the preview shows it: the notebook, the cell as JupyterLab numbers it, the
failing source line and the exception, in a banner at the top of the page."""

from __future__ import annotations

import html
import re
from pathlib import Path

_CELL_LINE = [re.compile(r'File "<ipython-input-[^"]*>", line (\d+)'),  # warm engine
              re.compile(r"ipykernel_\d+/\d+\.py\", line (\d+)"), re.compile(r"Cell In\[\d+\], line (\d+)")]
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def cell_failure(edition: Path, entry: dict) -> dict:
    """A failed section of a built edition: its notebook, cell number (as JupyterLab shows it),
    the failing source line and the exception, read from the executed notebook."""
    import nbformat

    from ..pipeline.execute import source_numbers

    found = {"section": entry.get("slug", "?"), "notebook": entry.get("notebook", ""), "cell": None,
             "line": "", "exception": entry.get("error", "failed"), "message": entry.get("error", "failed")}
    try:
        nb = nbformat.read(edition / entry["notebook"], as_version=4)
    except (OSError, KeyError, ValueError):
        return found
    for cell, number in zip(nb.cells, source_numbers(nb.cells)):
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        if error is None:
            continue
        lines = cell.source.splitlines()
        trace = _ANSI.sub("", "\n".join(error.get("traceback", [])))
        at = [int(m) for pattern in _CELL_LINE for m in pattern.findall(trace)]
        index = at[-1] - 1 if at and 0 < at[-1] <= len(lines) else 0
        found.update(cell=number, line=(lines[index].strip() if lines else ""),
                     exception=f"{error.get('ename', 'Error')}: {error.get('evalue', '')}")
        break
    return found


def banner(error: dict | None, stale: bool) -> str:
    if not error:
        return ""
    where = error.get("notebook") or ""
    if error.get("cell"):
        where += f", cell {error['cell']}"
    text = [f"<strong>{'Build failed' if stale else 'A section failed'}"
            f"{': section ' + html.escape(error['section']) if error.get('section') else ''}</strong>"]
    if where:
        text.append(f"<span>{html.escape(where)}</span>")
    if error.get("line"):
        text.append(f"<code>{html.escape(error['line'])}</code>")
    text.append(f"<span>{html.escape(error.get('exception') or error.get('message', ''))}</span>")
    if stale:
        text.append("<em>The rest of this page is from the last successful build.</em>")
    style = ("position:sticky;top:0;z-index:1000;margin:0;padding:.75em 1em;background:#fff0f0;"
             "border-bottom:3px solid #b00020;color:#1a1a1a;font:15px/1.45 system-ui,sans-serif;"
             "display:flex;flex-direction:column;gap:.2em")
    return f'<div id="briefing-preview-error" role="alert" style="{style}">{"".join(text)}</div>'
