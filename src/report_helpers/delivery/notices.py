"""`briefing send --corrections`: a short notice of each correction (data/corrections.csv) to the
recipients of lists that opted in (``corrections = true``) and received an edition it affects.

Exactly once per recipient and correction, by the delivery ledger and its rules (send.py): a notice
is recorded under the key ``correction:<digest>`` beside the editions, "sending" before it goes out
and "sent" once the server accepts it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import TextIO

from .. import project
from ..corrections import Correction
from .config import ListConfig, SmtpSettings, default_unsubscribe
from .ledger import SENT, Ledger

PREFIX = "correction:"


def key(correction: Correction) -> str:
    """A correction's stable key in the ledger: what it corrected, when, and to what."""
    parts = "\n".join((correction.date.isoformat(), correction.table, correction.row, correction.column,
                       correction.now))
    return PREFIX + hashlib.sha256(parts.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Notice:
    """What send._deliver and send._record need of the thing sent (as of a PublishedEdition)."""

    edition_id: str  # the notice's ledger key
    as_of: str
    correction: Correction
    received: tuple[str, ...]  # the affected editions this recipient received
    pdf_sha256: str = ""
    content_digest: str = ""


def due(mailing: ListConfig, recipient: str, log: list[Correction], ledger: Ledger) -> list[Notice]:
    """The notices this recipient should get and has not had: corrections of editions they received."""
    had = {e.get("edition_id") for e in ledger.entries(mailing.name, recipient) if e.get("outcome") == SENT}
    notices = []
    for correction in log:
        received = tuple(e for e in correction.editions if e in had)
        if received and key(correction) not in had:
            notices.append(Notice(key(correction), correction.date.isoformat(), correction, received))
    return notices


def build(notice: Notice, mailing: ListConfig, recipient: str, settings: SmtpSettings) -> EmailMessage:
    c = notice.correction
    unsubscribe = mailing.unsubscribe or default_unsubscribe(settings, mailing.name)
    editions = ", ".join(notice.received)
    links = "".join(f"\n{mailing.link_base}{e}/briefing.html" for e in notice.received) if mailing.link_base else ""
    body = (f"A correction to the {project.load().name}, made on {c.date_text}.\n\n"
            f"In {c.where}:\n  it said:  {c.was}\n  it says:  {c.now}\n\nWhy: {c.why}\n\n"
            f"It affects the edition(s) you received: {editions}.{links}\n"
            f"Every correction is listed in the index of editions.\n\n"
            f"-- \nYou receive this as a member of the list \"{mailing.name}\", which asked for corrections.\n"
            f"To unsubscribe: {unsubscribe}\n")
    msg = EmailMessage()
    msg["Subject"] = f"Correction: {project.load().name} ({editions})"
    msg["From"] = settings.mail_from
    msg["To"] = recipient
    msg["Date"] = formatdate(None, localtime=False, usegmt=True)
    digest = hashlib.sha256(f"{notice.edition_id}\n{mailing.name}\n{recipient.lower()}".encode()).hexdigest()
    msg["Message-ID"] = f"<{digest[:32]}.correction@{settings.from_domain}>"
    from .message import list_id

    msg["List-Id"] = list_id(mailing, settings)
    msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Briefing-Correction"] = notice.edition_id
    msg.set_content(body, charset="utf-8")
    return msg


def send_notices(prepared, options, reports_dir: Path, out: TextIO):
    """Plan and send the notices due (see the module's docstring); returns send.Report."""
    from ..corrections import load
    from . import send as send_mod
    from .ledger import delivery_lock

    log = load()
    report = send_mod.Report()
    with delivery_lock(reports_dir, options.lock_wait):
        ledger = Ledger(reports_dir)
        jobs = []
        for mailing in prepared.lists:
            if not mailing.corrections:
                print(f"{mailing.name}: no correction notices (the list did not ask for them: "
                      "corrections = true)", file=out)
                continue
            for recipient in mailing.to:
                for notice in due(mailing, recipient, log, ledger):
                    job = send_mod._Job(mailing, recipient, notice)
                    job.msg = build(notice, mailing, recipient, prepared.settings)
                    jobs.append(job)
        if options.dry_run:
            for job in jobs:
                print(f"{job.mailing.name}: {job.recipient}: would send {job.edition.edition_id}: "
                      f"{job.msg['Subject']!s}", file=out)
            print(f"dry run: {len(jobs)} notice(s); nothing was sent", file=out)
            return report
        if not jobs:
            print("no correction notice to send: every recipient of an affected edition has had it", file=out)
            return report
        send_mod._deliver(jobs, prepared.settings, ledger, report, out)
    if report.failed or report.not_attempted:
        from ..errors import DeliveryError

        raise DeliveryError(send_mod._scrub(
            f"correction notices failed for {len(report.failed) + len(report.not_attempted)} recipient(s): "
            + "; ".join(report.failed + report.not_attempted) + "; the next run sends only to them",
            prepared.settings))
    print(f"sent {len(report.sent)} correction notice(s)", file=out)
    return report
