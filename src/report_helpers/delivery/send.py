"""`briefing send`: check everything, plan, then send one message per recipient, ledger first.

Order of work:
1. the distribution file, the lists named, the SMTP settings and the editions are checked; any
   problem is exit 2 and nothing is sent;
2. under REPORTS_DIR/.delivery.lock, the ledger says who already has the edition (skipped), and
   with --only-if-changed who last received an edition with the same figures, events and verdicts;
3. each message is recorded "sending", sent, then recorded "sent" or "failed".
Delivery faults (server unreachable, login refused, a recipient refused, 4xx) end in exit 5 after
everyone reachable was served; the next run sends only to the rest.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import smtplib
import ssl
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ..errors import DeliveryError, UsageError
from . import config as config_mod, message
from ..publishing.edition import PublishedEdition, resolve
from .ledger import FAILED, SENDING, SENT, Ledger, delivery_lock

log = logging.getLogger("briefing")
SMTP_TIMEOUT = 60.0


@dataclass
class SendOptions:
    lists: list[str]
    config: Path | None = None
    reports_dir: Path = Path("reports")
    edition_id: str | None = None
    only_if_changed: bool = False
    dry_run: bool = False
    lock_wait: float = 60.0
    corrections: bool = False  # send correction notices instead of an edition (notices.py)


@dataclass
class Prepared:
    distribution: config_mod.Distribution
    lists: list[config_mod.ListConfig]
    settings: config_mod.SmtpSettings


@dataclass
class _Job:
    mailing: config_mod.ListConfig
    recipient: str
    edition: PublishedEdition
    note: str = ""
    msg: object = None


@dataclass
class Report:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    not_attempted: list[str] = field(default_factory=list)


def prepare(options: SendOptions, *, kind: str | None = None) -> Prepared:
    """Check the distribution file, the lists and the SMTP settings (exit 2 on any problem).
    `kind`: the edition about to be built (`briefing build --send`), which every list must take."""
    if not options.lists:
        raise UsageError("name at least one list with --list NAME")
    path = options.config or config_mod.default_path()
    distribution = config_mod.load_distribution(path)
    lists = distribution.select(options.lists)
    if kind is not None:
        for mailing in lists:
            if mailing.edition != kind:
                raise config_mod.ConfigError(
                    f"{path}: [lists.{mailing.name}] receives {mailing.edition} editions, and this build "
                    f"makes a {kind} edition; nothing was built or sent")
    return Prepared(distribution, lists, config_mod.smtp_settings())


def _scrub(text: str, settings: config_mod.SmtpSettings) -> str:
    """Remove the password (and the AUTH PLAIN blob that carries it) from text meant for people."""
    if settings.password:
        blob = base64.b64encode(f"\0{settings.user}\0{settings.password}".encode()).decode()
        text = text.replace(blob, "********").replace(settings.password, "********")
    return text


def _response(code: int, resp: bytes | str) -> str:
    text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
    kind = "temporary failure" if 400 <= code < 500 else "refused"
    return f"{kind}: {code} {' '.join(text.split())}"


def connect(settings: config_mod.SmtpSettings) -> smtplib.SMTP:
    """An SMTP session, with TLS as configured and logged in: DeliveryError (exit 5) if not."""
    where = settings.describe()
    context = ssl.create_default_context()  # verifies the certificate and host name
    smtp = None
    try:
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=SMTP_TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT)
        smtp.ehlo()
        if settings.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise DeliveryError(f"the SMTP server {where} does not offer STARTTLS; nothing was sent "
                                    "(set BRIEFING_SMTP_SECURITY=ssl or none if that is intended)")
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.user:
            if settings.security == "none" and settings.host not in ("localhost", "127.0.0.1", "::1"):
                log.warning("logging in to %s without TLS: the password crosses the network in clear", where)
            smtp.login(settings.user, settings.password or "")
        return smtp
    except smtplib.SMTPAuthenticationError as exc:
        _quit(smtp)
        raise DeliveryError(_scrub(f"the SMTP server {where} refused the login of {settings.user}: "
                                   f"{_response(exc.smtp_code, exc.smtp_error)}; nothing was sent", settings)) from None
    except DeliveryError:
        _quit(smtp)
        raise
    except (OSError, smtplib.SMTPException) as exc:
        _quit(smtp)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc) or type(exc).__name__)
        raise DeliveryError(_scrub(f"could not reach the SMTP server {where}: {reason}; nothing was sent",
                                   settings)) from None


def _quit(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def _plan(prepared: Prepared, options: SendOptions, reports_dir: Path, ledger: Ledger,
          editions: dict[str, PublishedEdition], report: Report, out: TextIO) -> list[_Job]:
    jobs = []
    for mailing in prepared.lists:
        edition = editions[mailing.name]
        for recipient in mailing.to:
            who = f"{mailing.name}: {recipient}"
            had = ledger.entry(mailing.name, recipient, edition.edition_id)
            if had and had.get("outcome") == SENT:
                report.skipped.append(who)
                print(f"{who}: already has {edition.edition_id} (sent {had.get('time')}, "
                      f"{had.get('message_id')}); nothing sent", file=out)
                continue
            last = ledger.last_sent(mailing.name, recipient) if options.only_if_changed else None
            if last and last.get("content_sha256") == edition.content_digest:
                report.skipped.append(who)
                print(f"{who}: {edition.edition_id} has the same key figures, events and verdicts as "
                      f"{last.get('edition_id')}, sent {last.get('time')}; nothing sent (--only-if-changed)",
                      file=out)
                continue
            note = ""
            if had and had.get("outcome") == SENDING:
                note = " (again: the run that sent it at " f"{had.get('time')} stopped before the server answered)"
            elif had and had.get("outcome") == FAILED:
                note = f" (again: it failed at {had.get('time')}: {had.get('detail')})"
            jobs.append(_Job(mailing, recipient, edition, note))
    return jobs


def reports_folder(options: SendOptions) -> Path:
    """The reports folder to send from; it must exist (nothing is sent from an empty one)."""
    from ..publishing.store import prepare_reports_dir

    if not options.reports_dir.expanduser().is_dir():
        raise UsageError(f"--reports-dir {options.reports_dir}: no such folder; nothing was sent")
    return prepare_reports_dir(options.reports_dir)


def send(options: SendOptions, *, prepared: Prepared | None = None, out: TextIO | None = None) -> Report:
    """Deliver; DeliveryError (exit 5) if anyone could not be served, after serving the rest.
    Correction notices (--corrections) are `notices.send_notices`, which uses the same steps."""
    out = out or sys.stdout
    prepared = prepared or prepare(options)
    settings = prepared.settings
    reports_dir = reports_folder(options)
    kinds = {m.edition for m in prepared.lists}
    by_kind = {kind: resolve(reports_dir, kind, options.edition_id) for kind in sorted(kinds)}
    editions = {m.name: by_kind[m.edition] for m in prepared.lists}
    for edition in by_kind.values():
        log.info("edition %s (%s, as of %s), PDF SHA-256 %s, %d key points", edition.edition_id, edition.kind,
                 edition.as_of, edition.pdf_sha256[:12], len(edition.key_points))
        if not edition.key_points:
            log.warning("edition %s: no key points found (no key_points section?); the message points "
                        "readers to the briefing instead", edition.edition_id)

    report = Report()
    with delivery_lock(reports_dir, options.lock_wait):
        for stale in reports_dir.glob(".delivery-ledger.json.*.part"):
            stale.unlink(missing_ok=True)  # a write that a killed run never renamed into place
        ledger = Ledger(reports_dir)
        jobs = _plan(prepared, options, reports_dir, ledger, editions, report, out)
        for job in jobs:  # every message is built before the first one is sent
            job.msg = message.build(job.edition, job.mailing, job.recipient, settings)
        if options.dry_run:
            for job in jobs:
                print(f"{job.mailing.name}: {job.recipient}: would send {job.edition.edition_id}{job.note}: "
                      f"{job.msg['Subject']!s} {job.msg['Message-ID']}", file=out)
            print(f"dry run: {len(jobs)} message(s) would be sent through {settings.describe()}; "
                  "nothing was sent", file=out)
            return report
        if not jobs:
            print("nothing to send: every recipient already has this edition", file=out)
            return report
        _deliver(jobs, settings, ledger, report, out)
    if report.failed or report.not_attempted:
        served = f"{len(report.sent)} sent" + (f", {len(report.skipped)} already had it" if report.skipped else "")
        parts = [f"delivery failed for {len(report.failed)} recipient(s): " + "; ".join(report.failed)]
        if report.not_attempted:
            parts.append(f"not attempted: {', '.join(report.not_attempted)}")
        parts.append(f"{served}, recorded in {ledger.path}; the next run sends only to the rest")
        raise DeliveryError(_scrub(". ".join(parts), settings))
    print(f"sent {len(report.sent)} message(s)"
          + (f"; {len(report.skipped)} recipient(s) skipped" if report.skipped else ""), file=out)
    return report


def _deliver(jobs: list[_Job], settings: config_mod.SmtpSettings, ledger: Ledger, report: Report,
             out: TextIO) -> None:
    try:
        smtp = connect(settings)
    except DeliveryError as exc:
        for job in jobs:
            _record(ledger, job, FAILED, str(exc))
        waiting = ", ".join(f"{j.mailing.name}: {j.recipient}" for j in jobs)
        raise DeliveryError(f"{exc} (not attempted: {waiting}); the next run sends to them") from None
    try:
        for index, job in enumerate(jobs):
            who = f"{job.mailing.name}: {job.recipient}"
            _record(ledger, job, SENDING)
            try:
                smtp.send_message(job.msg, from_addr=settings.from_address, to_addrs=[job.recipient])
            except smtplib.SMTPRecipientsRefused as exc:
                code, resp = exc.recipients.get(job.recipient, (0, b"refused"))
                _failed(ledger, job, report, settings, _response(code, resp))
                continue
            except smtplib.SMTPDataError as exc:  # the message itself was refused for this recipient
                _failed(ledger, job, report, settings, _response(exc.smtp_code, exc.smtp_error))
                continue
            except smtplib.SMTPSenderRefused as exc:  # same for everyone: stop here
                _failed(ledger, job, report, settings, "sender " + _response(exc.smtp_code, exc.smtp_error))
                _abandon(jobs[index + 1:], ledger, report, "the server refused the sender")
                return
            except (OSError, smtplib.SMTPException) as exc:  # connection lost
                reason = f"connection lost ({exc.strerror if isinstance(exc, OSError) and exc.strerror else exc})"
                _failed(ledger, job, report, settings, reason)
                _abandon(jobs[index + 1:], ledger, report, reason)
                return
            _record(ledger, job, SENT)
            report.sent.append(who)
            print(f"{who}: sent {job.edition.edition_id}{job.note} {job.msg['Message-ID']}", file=out)
    finally:
        _quit(smtp)


def _record(ledger: Ledger, job: _Job, outcome: str, detail: str = "") -> None:
    entry = {"edition_id": job.edition.edition_id, "as_of": job.edition.as_of,
             "pdf_sha256": job.edition.pdf_sha256, "content_sha256": job.edition.content_digest,
             "message_id": str(job.msg["Message-ID"]) if job.msg else None, "time": _now(), "outcome": outcome}
    if detail:
        entry["detail"] = detail
    ledger.record(job.mailing.name, job.recipient, entry)


def _failed(ledger: Ledger, job: _Job, report: Report, settings, detail: str) -> None:
    detail = _scrub(detail, settings)
    _record(ledger, job, FAILED, detail)
    report.failed.append(f"{job.mailing.name}: {job.recipient}: {detail}")
    log.error("%s: %s: %s", job.mailing.name, job.recipient, detail)


def _abandon(rest: list[_Job], ledger: Ledger, report: Report, reason: str) -> None:
    for job in rest:
        _record(ledger, job, FAILED, f"not attempted: {reason}")
        report.not_attempted.append(f"{job.mailing.name}: {job.recipient}")
