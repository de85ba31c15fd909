"""`briefing preview`: the briefing's HTML on localhost, rebuilt on every save, reloading itself.

One process serves REPORTS_DIR/.preview/<edition-id>/ over HTTP (127.0.0.1 unless told otherwise)
and watches notebooks/, data/ and src/report_helpers/. On a save it rebuilds only what changed:

- an edit to a notebook's markdown only re-renders that section from its executed notebook (no
  kernel, no build); the page is rebuilt in memory from the other sections' HTML;
- an edit to the code of a section already shown runs that section alone on a warm worker, against
  the last build's figures (REPORTS_DIR/.preview/.live/), and re-renders it; if its figures change,
  a full build follows;
- anything else runs `briefing build` into REPORTS_DIR/.preview/ with the section cache of
  REPORTS_DIR (only the affected sections execute) on the same warm workers, which live as long as
  the preview (restarted when the helper code changes); no PDF unless --pdf;
- a failing section is shown in the page: a banner names the section, the cell (as JupyterLab
  numbers it), the failing source line and the exception.

Pages are served with a small script that listens for server-sent events (/_preview/events) and,
on a new version, swaps in the new page's body in place (the reader keeps their place). `latest`
never moves: previews are built only into REPORTS_DIR/.preview/. Ctrl-C stops the server and the
workers.
"""

from .command import run
from .options import PreviewOptions

__all__ = ["PreviewOptions", "run"]
