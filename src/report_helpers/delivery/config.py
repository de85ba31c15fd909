"""Distribution lists (TOML) and SMTP settings (environment variables only).

Every problem here is a UsageError (exit 2), raised before anything is sent, naming the file,
list, key, address or variable. The SMTP password is kept out of every message and repr.
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import quote, urlsplit

from ..errors import UsageError

EDITIONS = ("full", "brief")
ATTACH = ("pdf", "none")
SECURITY = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
DEFAULT_SUBJECT = "{briefing} as of {as_of}"
# what a subject template may use; filled in by message.subject()
SUBJECT_FIELDS = ("briefing", "title", "as_of", "as_of_iso", "edition", "edition_id", "list")
LIST_KEYS = {"to", "edition", "subject", "attach", "link_base", "unsubscribe", "corrections"}
_LIST_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")  # also the List-Id label, so dot-atom safe


class ConfigError(UsageError):
    """The distribution file, a list in it, or an SMTP setting is wrong (exit 2, nothing sent)."""


@dataclass(frozen=True)
class ListConfig:
    name: str
    to: tuple[str, ...]
    edition: str = "full"
    subject: str = DEFAULT_SUBJECT
    attach: str = "pdf"
    link_base: str | None = None
    unsubscribe: str | None = None
    corrections: bool = False  # opted in to correction notices (briefing send --corrections)


@dataclass(frozen=True)
class Distribution:
    path: Path
    lists: dict[str, ListConfig]

    def select(self, names: list[str]) -> list[ListConfig]:
        unknown = [n for n in names if n not in self.lists]
        if unknown:
            known = ", ".join(sorted(self.lists)) or "none"
            raise ConfigError(f"{self.path}: no list named {', '.join(map(repr, unknown))} "
                              f"(lists in this file: {known})")
        return [self.lists[n] for n in dict.fromkeys(names)]  # each list once, in the order given


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    user: str | None
    password: str | None = field(default=None, repr=False)
    mail_from: str = ""  # the From header, e.g. "Policy briefing <briefing@example.org>"
    from_address: str = ""  # the bare address: the envelope sender

    @property
    def from_domain(self) -> str:
        return self.from_address.rpartition("@")[2]

    def describe(self) -> str:
        """Where mail goes, for logs and errors: never the password."""
        who = f" as {self.user}" if self.user else ""
        return f"{self.host}:{self.port} ({self.security}){who}"


def check_address(text: object, where: str) -> str:
    """A plain address such as a@example.org (no display name, no list), or ConfigError."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where}: {text!r} is not an email address")
    text = text.strip()
    try:
        parsed = Address(addr_spec=text)
    except Exception:
        raise ConfigError(f"{where}: {text!r} is not a valid email address") from None
    domain = parsed.domain
    if parsed.addr_spec != text or not parsed.username or not (
            "." in domain.strip(".") or domain == "localhost") or domain.startswith(".") or ".." in domain:
        raise ConfigError(f"{where}: {text!r} is not a valid email address")
    return text


def _url(value: object, where: str, schemes: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string, got {type(value).__name__}")
    parts = urlsplit(value)
    if parts.scheme not in schemes or (parts.scheme != "mailto" and not parts.netloc) or \
            (parts.scheme == "mailto" and not parts.path) or any(c in value for c in " \r\n<>\""):
        raise ConfigError(f"{where}: {value!r} is not a {' or '.join(schemes)} URL")
    if parts.scheme == "mailto":
        check_address(parts.path, where)
    return value


def _link_base(value: object, where: str) -> str:
    url = _url(value, where, ("https", "http"))
    return url if url.endswith("/") else url + "/"


def _list(name: str, table: object, path: Path) -> ListConfig:
    where = f"{path}: [lists.{name}]"
    if not _LIST_NAME.match(name):
        raise ConfigError(f"{where}: a list name may hold only lowercase letters, digits and '-'")
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: lists.{name} must be a table ([lists.{name}])")
    unknown = sorted(set(table) - LIST_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {', '.join(map(repr, unknown))} "
                          f"(known: {', '.join(sorted(LIST_KEYS))})")
    to = table.get("to")
    if not isinstance(to, list) or not to:
        raise ConfigError(f"{where}: key 'to' must be a non-empty list of addresses")
    addresses = [check_address(a, f"{where} to") for a in to]
    seen: set[str] = set()
    for address in addresses:
        if address.lower() in seen:
            raise ConfigError(f"{where} to: {address!r} is listed twice")
        seen.add(address.lower())
    edition = table.get("edition", "full")
    if edition not in EDITIONS:
        raise ConfigError(f"{where} edition: {edition!r} must be one of {', '.join(EDITIONS)}")
    attach = table.get("attach", "pdf")
    if attach not in ATTACH:
        raise ConfigError(f"{where} attach: {attach!r} must be one of {', '.join(ATTACH)}")
    subject = table.get("subject", DEFAULT_SUBJECT)
    if not isinstance(subject, str) or not subject.strip() or "\n" in subject or "\r" in subject:
        raise ConfigError(f"{where} subject: must be one line of text")
    try:
        used = [f for _, f, _, _ in string.Formatter().parse(subject) if f is not None]
    except ValueError as exc:
        raise ConfigError(f"{where} subject: {exc}") from None
    bad = [f for f in used if f not in SUBJECT_FIELDS]
    if bad:
        raise ConfigError(f"{where} subject: unknown placeholder {', '.join('{' + f + '}' for f in bad)} "
                          f"(known: {', '.join('{' + f + '}' for f in SUBJECT_FIELDS)})")
    link_base = _link_base(table["link_base"], f"{where} link_base") if "link_base" in table else None
    unsubscribe = (_url(table["unsubscribe"], f"{where} unsubscribe", ("mailto", "https", "http"))
                   if "unsubscribe" in table else None)
    corrections = table.get("corrections", False)
    if not isinstance(corrections, bool):
        raise ConfigError(f"{where} corrections: must be true or false")
    return ListConfig(name, tuple(addresses), edition, subject, attach, link_base, unsubscribe, corrections)


def load_distribution(path: Path) -> Distribution:
    """Read and check the whole distribution file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such distribution file (copy distribution.example.toml to "
                          "distribution.toml, or give --config FILE)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    if "feed" in data:
        raise ConfigError(f"{path}: [feed] has moved to the project file: briefing.toml, [publishing] "
                          "base_url and feed_title")
    unknown = sorted(set(data) - {"lists"})
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key {', '.join(map(repr, unknown))} (known: lists)")
    lists = data.get("lists", {})
    if not isinstance(lists, dict):
        raise ConfigError(f"{path}: 'lists' must be a table of lists ([lists.NAME])")
    return Distribution(path, {name: _list(name, table, path) for name, table in lists.items()})


def default_path() -> Path:
    """The mailing lists' file the project file names ([delivery] distribution)."""
    from .. import project

    return project.load().distribution_path


def smtp_settings(env: dict[str, str] | None = None) -> SmtpSettings:
    """SMTP settings from BRIEFING_SMTP_* and BRIEFING_MAIL_FROM (never from a file)."""
    env = os.environ if env is None else env

    def get(name: str) -> str | None:
        value = env.get(name)
        return value.strip() if value and value.strip() else None

    host = get("BRIEFING_SMTP_HOST")
    if not host:
        raise ConfigError("BRIEFING_SMTP_HOST is not set: the SMTP server to send through")
    security = (get("BRIEFING_SMTP_SECURITY") or "starttls").lower()
    if security not in SECURITY:
        raise ConfigError(f"BRIEFING_SMTP_SECURITY={security!r}: must be one of {', '.join(SECURITY)}")
    port_text = get("BRIEFING_SMTP_PORT")
    try:
        port = int(port_text) if port_text else DEFAULT_PORTS[security]
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise ConfigError(f"BRIEFING_SMTP_PORT={port_text!r}: must be a port number (1-65535)")
    user = get("BRIEFING_SMTP_USER")
    password = env.get("BRIEFING_SMTP_PASSWORD") or None  # kept as given: spaces may be part of it
    if bool(user) != bool(password):
        missing = "BRIEFING_SMTP_PASSWORD" if user else "BRIEFING_SMTP_USER"
        raise ConfigError(f"{missing} is not set: set both BRIEFING_SMTP_USER and BRIEFING_SMTP_PASSWORD, "
                          "or neither (no login)")
    mail_from = get("BRIEFING_MAIL_FROM")
    if not mail_from:
        raise ConfigError("BRIEFING_MAIL_FROM is not set: the sender, e.g. 'Policy briefing "
                          "<briefing@example.org>'")
    _, address = parseaddr(mail_from)
    try:
        check_address(address, "BRIEFING_MAIL_FROM")
    except ConfigError:
        raise ConfigError(f"BRIEFING_MAIL_FROM: {mail_from!r} is not a valid sender (an address, or "
                          "'Name <address>')") from None
    if "\n" in mail_from or "\r" in mail_from or ("<" in mail_from) != mail_from.rstrip().endswith(">"):
        raise ConfigError(f"BRIEFING_MAIL_FROM: {mail_from!r} is not a valid sender (an address, or "
                          "'Name <address>')")
    return SmtpSettings(host, port, security, user, password, mail_from, address)


def default_unsubscribe(settings: SmtpSettings, list_name: str) -> str:
    """mailto: the sender, with a subject that names the list."""
    return f"mailto:{settings.from_address}?subject={quote('unsubscribe ' + list_name)}"
