"""HTTP GET with retries: httpx for the request, tenacity for backoff on transient faults."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import httpx
import tenacity

from .errors import FetchError

RETRY_STATUS = {429, 500, 502, 503, 504}
ATTEMPTS_ENV, BACKOFF_ENV, TIMEOUT_ENV = "BRIEFING_FETCH_ATTEMPTS", "BRIEFING_FETCH_BACKOFF", "BRIEFING_FETCH_TIMEOUT"


@dataclass(frozen=True)
class Response:
    url: str  # the full URL asked for, query included
    body: bytes
    content_type: str
    retrieved_at: dt.datetime


class _Transient(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _setting(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def get(source: str, url: str, params: dict | None = None, headers: dict | None = None) -> Response:
    """GET ``url``; retry timeouts, connection faults, 429 and 5xx with exponential backoff
    (BRIEFING_FETCH_ATTEMPTS tries, default 4, waits from BRIEFING_FETCH_BACKOFF s, default 2), then
    give up with FetchError naming ``source``, the URL and the last fault."""
    attempts = max(1, int(_setting(ATTEMPTS_ENV, 4)))
    backoff = _setting(BACKOFF_ENV, 2.0)
    timeout = _setting(TIMEOUT_ENV, 30.0)
    request_url = str(httpx.URL(url, params=params or {}))

    def once(client: httpx.Client) -> httpx.Response:
        try:
            reply = client.get(url, params=params, headers=headers)
        except httpx.TimeoutException:
            raise _Transient(f"no answer within {timeout:g} s") from None
        except httpx.TransportError as exc:
            raise _Transient(f"cannot connect ({exc.__class__.__name__}: {exc})") from None
        if reply.status_code in RETRY_STATUS:
            raise _Transient(f"HTTP {reply.status_code} {reply.reason_phrase}")
        return reply

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_exponential(multiplier=backoff, max=max(backoff * 16, 0.01)),
        retry=tenacity.retry_if_exception_type(_Transient), reraise=True)
    with httpx.Client(timeout=timeout, follow_redirects=True,
                      headers={"User-Agent": "report_helpers briefing data update"}) as client:
        try:
            reply = retrying(once, client)
        except _Transient as exc:
            raise FetchError(f"{source}: {request_url}: {exc.reason}; gave up after {attempts} attempt(s)") from None
    if reply.status_code != 200:
        raise FetchError(f"{source}: {request_url}: HTTP {reply.status_code} {reply.reason_phrase}")
    return Response(url=request_url, body=reply.content, content_type=reply.headers.get("content-type", ""),
                    retrieved_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
