"""The delivery ledger: per list and recipient, which editions were sent, when, and how it went.

`REPORTS_DIR/delivery-ledger.json` is rewritten atomically (temp file, fsync, rename, fsync of
the folder) after each change, so a crash leaves either the old or the new ledger, never half of one.
Before a message goes out its entry says "sending"; after the server accepts it, "sent". A run
killed in between leaves "sending": the next run sends that one message again (the only repeat).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import UsageError
from ..locks import file_lock

NAME = "delivery-ledger.json"
LOCK = ".delivery.lock"
KEEP = 100  # entries kept per recipient (newest); older editions drop out of the ledger
SENT, SENDING, FAILED = "sent", "sending", "failed"


class Ledger:
    def __init__(self, reports_dir: Path):
        self.path = reports_dir / NAME
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {"version": 1, "lists": {}}
        except (OSError, ValueError) as exc:
            raise UsageError(f"{self.path}: the delivery ledger cannot be read ({exc}); nothing was sent. "
                             "Restore it, or move it away to start a new ledger (everyone would then "
                             "receive the edition again)") from None
        if not isinstance(data, dict) or not isinstance(data.get("lists"), dict):
            raise UsageError(f"{self.path}: not a delivery ledger (no 'lists' table); nothing was sent")
        self.data = data

    def entries(self, list_name: str, recipient: str) -> list[dict]:
        return self.data["lists"].get(list_name, {}).get(recipient.lower(), [])

    def entry(self, list_name: str, recipient: str, edition_id: str) -> dict | None:
        return next((e for e in self.entries(list_name, recipient) if e.get("edition_id") == edition_id), None)

    def last_sent(self, list_name: str, recipient: str) -> dict | None:
        """The edition this recipient received last (entries are kept in the order they were recorded)."""
        sent = [e for e in self.entries(list_name, recipient) if e.get("outcome") == SENT
                and not str(e.get("edition_id", "")).startswith("correction:")]  # a notice is no edition
        return sent[-1] if sent else None

    def record(self, list_name: str, recipient: str, entry: dict) -> None:
        """Add or replace this edition's entry for the recipient, then write the ledger to disk."""
        entries = self.data["lists"].setdefault(list_name, {}).setdefault(recipient.lower(), [])
        entries[:] = [e for e in entries if e.get("edition_id") != entry["edition_id"]] + [entry]
        del entries[:-KEEP]
        self.save()

    def save(self) -> None:
        tmp = self.path.with_name(f".{NAME}.{os.getpid()}.part")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(self.data, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def delivery_lock(reports_dir: Path, wait_seconds: float = 60.0):
    """One `briefing send` at a time per reports folder (an flock: released if the process dies)."""
    return file_lock(reports_dir / LOCK, wait_seconds, "another briefing send")