"""What an edition's manifest records of the vintages its data came from."""

from __future__ import annotations

import datetime as dt
import json


def vintage_record(as_of: dt.date | None) -> dict:
    """The manifest's ``vintages``: for each connected source, the vintage an edition as of this date used."""
    from ..paths import data_dir
    from .vintages import for_manifest

    try:
        return for_manifest(data_dir(), as_of)
    except (OSError, ValueError, json.JSONDecodeError):
        return {}
