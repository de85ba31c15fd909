"""The preview's HTTP side: pages, the server-sent events that announce a new version, and the
state as JSON (for tests and the benchmark)."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from .page import EVENTS, page
from .shown import Shown

log = logging.getLogger("briefing")
STATE = "/_preview/state"


def serve_events(shown: Shown, handler: BaseHTTPRequestHandler, seen: int) -> None:
    handler.send_response(HTTPStatus.OK)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Cache-Control", "no-store")
    handler.end_headers()
    told_building = False
    while not shown.stopping.is_set():
        with shown.cond:
            shown.cond.wait_for(lambda: shown.version != seen or shown.building != told_building
                               or shown.stopping.is_set(), timeout=15)
            version, building = shown.version, shown.building
        if shown.stopping.is_set():
            return
        if version != seen:
            message = f"event: reload\ndata: {version}\n\n"
        elif building != told_building:
            told_building = building
            message = f"event: {'building' if building else 'idle'}\ndata: {version}\n\n"
        else:
            message = ": still here\n\n"
        handler.wfile.write(message.encode())
        handler.wfile.flush()
        if version != seen:
            return


def handler(shown: Shown):
    class Handler(BaseHTTPRequestHandler):
        server_version = "briefing-preview"

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            log.debug("preview: %s", format % args)

        def do_GET(self):  # noqa: N802 - the base class's name
            url = urlsplit(self.path)
            try:
                if url.path == EVENTS:
                    seen = int(parse_qs(url.query).get("v", ["-1"])[0])
                    serve_events(shown, self, seen)
                    return
                if url.path == STATE:
                    self._send(json.dumps(shown.snapshot(), default=str).encode(), "application/json")
                    return
                if url.path in ("", "/"):
                    self.send_response(HTTPStatus.FOUND)
                    self.send_header("Location", "/briefing.html")
                    self.end_headers()
                    return
                found = page(shown, url.path.lstrip("/"))
                if found is None:
                    self.send_error(HTTPStatus.NOT_FOUND)
                    return
                self._send(*found)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _send(self, body: bytes, content_type: str) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

    return Handler
