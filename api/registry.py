"""What the API's registries (enterprises, agencies, users) share: an id is taken once, and a
replacement names in its body the id its path names."""

from __future__ import annotations

from typing import TypeVar

from api.problems import Problem
from kcnguard.errors import ConflictError
from kcnguard.store import RecordTable

M = TypeVar("M")


def create_unique(table: RecordTable[M], record: M, taken: Problem) -> M:
    """Store a new record; `taken` (a 409) when its id is already in use."""
    try:
        table.create(record)
    except ConflictError:
        raise taken from None
    return record


def same_id(kind: str, field: str, in_body: str, in_path: str) -> None:
    """A 422 of type `kind` unless the body's id is the path's."""
    if in_body != in_path:
        raise Problem(
            422,
            kind,
            f"{field} trong nội dung ('{in_body}') khác với đường dẫn ('{in_path}').",
            f"The body's {field} ('{in_body}') differs from the path's ('{in_path}').",
        )
