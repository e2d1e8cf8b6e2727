"""How every service words what is wrong with a value pydantic refused: `field.path: message` per error."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError


def field_name(loc: Sequence[Any], whole: str = "") -> str:
    """The dotted path of an error's location; `whole` when the error is about the value as a whole."""
    return ".".join(str(part) for part in loc) or whole


def problems(exc: ValidationError, whole: str = "", limit: int | None = None) -> list[str]:
    """One `field: message` line per error, the first `limit` of them."""
    return [f"{field_name(e['loc'], whole)}: {e['msg']}" for e in exc.errors()[:limit]]


def problem_text(exc: ValidationError, whole: str = "", limit: int | None = None) -> str:
    return "; ".join(problems(exc, whole, limit))
