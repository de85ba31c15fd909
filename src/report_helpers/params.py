"""Typed build parameters, validated before any kernel starts.

Every section notebook declares its parameters in a cell tagged ``parameters``, one per line,
as ``name: type = default  # help``. ``as_of`` and ``edition`` are the briefing's own and every
section declares them; a section may declare more, which ``-p NAME=VALUE`` then sets.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import ParameterError

EDITIONS = ("full", "brief")
TODAY = "today"
_SIMPLE_TYPES = {"str": str, "int": int, "float": float, "bool": bool}
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class ParamSpec:
    """One parameter as the notebooks declare it."""

    name: str
    type_name: str
    default: Any
    help: str
    sections: tuple[str, ...] = ()


def parse_date(value: Any, *, name: str = "as_of", today: dt.date | None = None) -> dt.date:
    today = today or dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if text.lower() in (TODAY, ""):
        return today
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ParameterError(f"parameter '{name}': expected a date YYYY-MM-DD or 'today', got {text!r}")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ParameterError(f"parameter '{name}': {text!r} is not a real date ({exc})") from None


def parse_edition(value: Any) -> str:
    text = str(value).strip()
    if text not in EDITIONS:
        raise ParameterError(f"parameter 'edition': expected one of {', '.join(EDITIONS)}, got {text!r}")
    return text


def coerce(spec: ParamSpec, raw: Any) -> Any:
    """Turn a command-line string (or a notebook value) into the declared type."""
    if spec.name == "as_of":
        return parse_date(raw)
    if spec.name == "edition":
        return parse_edition(raw)
    kind = _SIMPLE_TYPES.get(spec.type_name)
    if kind is None:
        raise ParameterError(
            f"parameter '{spec.name}' is declared with type '{spec.type_name}'; "
            f"supported types are {', '.join(_SIMPLE_TYPES)}"
        )
    if isinstance(raw, kind) and not (kind is int and isinstance(raw, bool)):
        return raw
    text = str(raw).strip()
    try:
        if kind is bool:
            lowered = text.lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            raise ValueError
        return kind(text) if kind is not str else str(raw)
    except ValueError:
        raise ParameterError(
            f"parameter '{spec.name}': expected {spec.type_name}, got {text!r}"
        ) from None


def specs_from_cell(source: str, *, section: str) -> dict[str, ParamSpec]:
    """Read ``name: type = default  # help`` lines of a parameters cell."""
    specs: dict[str, ParamSpec] = {}
    for lineno, line in enumerate(source.splitlines(), start=1):
        code, _, comment = line.partition("#")
        if not code.strip():
            continue
        match = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*:\s*([A-Za-z_]\w*)\s*=\s*(.+?)\s*", code)
        if not match:
            raise ParameterError(
                f"section '{section}', parameters cell line {lineno}: expected "
                f"'name: type = default  # help', got {line.strip()!r}"
            )
        name, type_name, default_src = match.groups()
        try:
            default = ast.literal_eval(default_src)
        except (ValueError, SyntaxError):
            raise ParameterError(
                f"section '{section}', parameter '{name}': default {default_src!r} is not a literal"
            ) from None
        specs[name] = ParamSpec(name, type_name, default, comment.strip(), (section,))
    return specs


def merge_specs(per_section: dict[str, dict[str, ParamSpec]]) -> dict[str, ParamSpec]:
    """All parameters of all sections; a name declared twice must agree on type and default."""
    merged: dict[str, ParamSpec] = {}
    for section, specs in per_section.items():
        for name, spec in specs.items():
            seen = merged.get(name)
            if seen is None:
                merged[name] = spec
                continue
            if (seen.type_name, seen.default) != (spec.type_name, spec.default):
                raise ParameterError(
                    f"parameter '{name}' is declared differently in sections "
                    f"'{seen.sections[0]}' ({seen.type_name} = {seen.default!r}) and "
                    f"'{section}' ({spec.type_name} = {spec.default!r})"
                )
            merged[name] = ParamSpec(name, seen.type_name, seen.default, seen.help or spec.help,
                                     seen.sections + (section,))
    for required in ("as_of", "edition"):
        missing = [s for s, specs in per_section.items() if required not in specs]
        if missing:
            raise ParameterError(
                f"section(s) {', '.join(missing)} do not declare the parameter '{required}' "
                "in their parameters cell"
            )
    return merged


@dataclass(frozen=True)
class BuildParams:
    """The validated parameters of one edition."""

    as_of: dt.date
    edition: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def edition_id(self) -> str:
        base = f"{self.as_of.isoformat()}_{self.edition}"
        if not self.extra:
            return base
        digest = hashlib.sha256(json.dumps(self.extra, sort_keys=True, default=str).encode()).hexdigest()
        return f"{base}_{digest[:8]}"

    def for_section(self, declared: dict[str, ParamSpec]) -> dict[str, Any]:
        """Values to inject into one notebook: only the names it declares, as literals."""
        values: dict[str, Any] = {"as_of": self.as_of.isoformat(), "edition": self.edition}
        values.update({k: v for k, v in self.extra.items() if k in declared})
        return values

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "edition": self.edition, **self.extra}


def validate(specs: dict[str, ParamSpec], given: dict[str, str], *, today: dt.date | None = None,
             earliest: dt.date | None = None) -> BuildParams:
    """Check names and types of the given parameters against the declared ones."""
    for name in given:
        if name not in specs:
            known = ", ".join(sorted(specs))
            raise ParameterError(f"unknown parameter '{name}'; the notebooks declare: {known}")
    today = today or dt.date.today()
    as_of = parse_date(given.get("as_of", TODAY), today=today)
    if as_of > today:
        raise ParameterError(f"parameter 'as_of': {as_of} is in the future (today is {today})")
    if earliest and as_of < earliest:
        raise ParameterError(f"parameter 'as_of': {as_of} is before the data begins ({earliest})")
    edition = parse_edition(given.get("edition", specs["edition"].default))
    extra = {
        name: coerce(specs[name], raw) for name, raw in sorted(given.items())
        if name not in ("as_of", "edition")
    }
    # Drop extras equal to their default so the edition id only reflects real changes.
    extra = {k: v for k, v in extra.items() if v != specs[k].default}
    return BuildParams(as_of=as_of, edition=edition, extra=extra)


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``-p NAME=VALUE`` pairs into a dict, refusing malformed ones."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not _NAME.match(name):
            raise ParameterError(f"-p expects NAME=VALUE with a lowercase name, got {item!r}")
        out[name] = value
    return out
