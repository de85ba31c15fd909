"""The pages the preview serves: the served edition's files, or the pages re-rendered in memory,
with the failure banner first and a script that swaps in each new version in place."""

from __future__ import annotations

import re

from .failure import banner
from .shown import Shown

EVENTS = "/_preview/events"


_SCRIPT = """<script id="briefing-preview">(() => {
  // Server-sent events say when a new version is ready; the page swaps in its new body in place
  // (no reload: the reader stays where they are), or reloads if that fails.
  const badge = document.createElement("div");
  badge.id = "briefing-preview-building";
  badge.textContent = "Rebuilding\\u2026";
  badge.setAttribute("role", "status");
  badge.style.cssText = "position:fixed;right:1em;bottom:1em;padding:.4em .8em;background:#1a1a1a;" +
    "color:#fff;font:14px system-ui,sans-serif;border-radius:4px;display:none;z-index:1001";
  let version = %(version)d;
  let events = null;
  const listen = () => {
    events = new EventSource("%(events)s?v=" + version);
    events.addEventListener("building", () => { badge.style.display = "block"; });
    events.addEventListener("reload", async (event) => {
      events.close();
      try {
        const response = await fetch(location.href, {cache: "no-store"});
        if (!response.ok) throw new Error(response.status);
        const next = new DOMParser().parseFromString(await response.text(), "text/html");
        const [x, y] = [window.scrollX, window.scrollY];
        next.getElementById("briefing-preview")?.remove();
        document.title = next.title;
        document.body.replaceWith(next.body);
        document.body.appendChild(badge);
        badge.style.display = "none";
        window.scrollTo(x, y);
        version = Number(event.data);
        listen();
      } catch (error) {
        location.reload();
      }
    });
  };
  document.body.appendChild(badge);
  listen();
})();</script>"""

_WAITING = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Briefing preview</title></head>
<body><main><h1>Building the briefing preview&hellip;</h1><p>This page reloads itself when it is ready.</p></main>
</body></html>"""


def page(shown: Shown, name: str) -> tuple[bytes, str] | None:
    """(body, content type) of a file of the served edition, HTML with the reload script."""
    import mimetypes

    with shown.cond:
        folder, overrides, version = shown.folder, shown.overrides, shown.version
        error, stale = shown.error, shown.stale
    if name in overrides:
        text = overrides[name]
    elif folder is None:
        text = _WAITING if name == "briefing.html" else None
        if text is None:
            return None
    else:
        target = (folder / name).resolve()
        if not target.is_relative_to(folder.resolve()) or not target.is_file():
            return None
        if target.suffix != ".html":
            return target.read_bytes(), mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        text = target.read_text(encoding="utf-8")
    body_open = re.search(r"<body[^>]*>", text)
    at = body_open.end() if body_open else 0
    text = text[:at] + banner(error, stale) + text[at:]  # first thing in the page
    script = _SCRIPT % {"events": EVENTS, "version": version}
    closing = [m.start() for m in re.finditer(r"</body\s*>", text, re.IGNORECASE)]
    text = text[:closing[-1]] + script + text[closing[-1]:] if closing else text + script
    return text.encode("utf-8"), "text/html; charset=utf-8"
