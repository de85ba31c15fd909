"""Shared by test_send.py and test_feed.py: real editions built once per test session, and a real
SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives and can misbehave on cue."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

from conftest import copy_project

PROJECT = Path(__file__).resolve().parents[1]
# key points reads four sections; with them the edition is realistic (three judgements, figures,
# events, verdicts) and still small: the political-views section and the appendix are left out
NOTEBOOKS = ("00_key_points.ipynb", "10_why_frenemies.ipynb", "30_what_pashinyan_wants.ipynb",
             "40_what_pashinyan_is_doing.ipynb", "50_what_about_you.ipynb")
# built in this order; the last full build with default parameters is the newest, so `latest`
# names it under either pointer policy
BUILDS = {
    "old": ["--as-of", "2024-06-30"],
    "variant": ["--as-of", "2025-06-30", "-p", "analyst_note=Same figures as the edition without a note."],
    "brief": ["--as-of", "2025-06-30", "--edition", "brief"],
    "new": ["--as-of", "2025-06-30"],
}
EDITION_IDS = {"old": "2024-06-30_full", "brief": "2025-06-30_brief", "new": "2025-06-30_full"}


@dataclass
class Editions:
    project: Path
    reports: Path
    ids: dict[str, str]

    def copy(self, dest: Path) -> Path:
        """A private copy of the reports folder (editions, index, feed), without the section cache."""
        shutil.copytree(self.reports, dest, symlinks=True,
                        ignore=shutil.ignore_patterns(".cache", ".build.lock", "delivery-ledger.json"))
        return dest


def build_editions(base: Path) -> Editions:
    """Build the four editions once; later calls in the same session reuse them. Set
    DELIVERY_EDITIONS_DIR to keep them across sessions while you work on these tests."""
    base = Path(os.environ.get("DELIVERY_EDITIONS_DIR") or base)
    project, reports, done = base / "project", base / "reports", base / "built.json"
    if done.is_file():
        return Editions(project, reports, json.loads(done.read_text()))
    shutil.rmtree(base, ignore_errors=True)
    project.parent.mkdir(parents=True, exist_ok=True)
    copy_project(project, NOTEBOOKS)
    env = {**os.environ, "BRIEFING_PROJECT_DIR": str(project)}
    for name, args in BUILDS.items():
        run = subprocess.run([sys.executable, "-m", "report_helpers", "build", "--reports-dir", str(reports),
                              "-q", *args], env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, f"build {name} failed:\n{run.stderr[-3000:]}"
    ids = dict(EDITION_IDS)
    ids["variant"] = next(p.name for p in reports.iterdir() if p.name.startswith("2025-06-30_full_"))
    done.write_text(json.dumps(ids))
    return Editions(project, reports, ids)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self):
        return message_from_bytes(self.data, policy=policy.default)


@dataclass
class Behaviour:
    reject: dict[str, str] = field(default_factory=dict)  # address -> "550 ..." at RCPT, every time
    temp_once: dict[str, str] = field(default_factory=dict)  # address -> "451 ..." at RCPT, first time only
    block: set[str] = field(default_factory=set)  # hold DATA for these until released (crash tests)
    blocked: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class Handler:
    def __init__(self, behaviour: Behaviour):
        self.behaviour = behaviour
        self.received: list[Received] = []
        self.rcpt_attempts: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_attempts.append(address)
        if address in self.behaviour.reject:
            return self.behaviour.reject[address]
        if address in self.behaviour.temp_once:
            return self.behaviour.temp_once.pop(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                                      or envelope.content))
        if set(envelope.rcpt_tos) & self.behaviour.block:
            # the message is in, but the client hears nothing until released: a crash here is a
            # crash with the message delivered and not yet recorded
            self.behaviour.blocked.set()
            while not self.behaviour.release.is_set():
                await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1: plain, STARTTLS (tls=ctx) or implicit TLS (ssl=ctx); login optional."""

    def __init__(self, *, login: tuple[str, str] | None = None, tls=None, ssl=None,
                 behaviour: Behaviour | None = None):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.port = free_port()
        self.behaviour = behaviour or Behaviour()
        self.handler = Handler(self.behaviour)
        self.logins: list[tuple[str, bool]] = []

        def authenticate(server, session, envelope, mechanism, auth_data):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            ok = login is not None and (user, password) == login
            self.logins.append((user, ok))
            return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535

        kwargs = dict(hostname="127.0.0.1", port=self.port, ready_timeout=10)
        if login is not None:
            # aiosmtpd does not count implicit TLS as TLS for AUTH: require it only with STARTTLS
            kwargs.update(authenticator=authenticate, auth_required=True, auth_require_tls=tls is not None)
        if tls is not None:
            kwargs.update(tls_context=tls, require_starttls=True)
        if ssl is not None:
            kwargs.update(ssl_context=ssl, server_hostname="localhost")
        self.controller = Controller(self.handler, **kwargs)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.behaviour.release.set()
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]
