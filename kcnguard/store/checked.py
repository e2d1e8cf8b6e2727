"""A Query checked against the collection's declared fields, with values in the form both backends compare.

Both backends translate only a CheckedQuery, so a field name that is not declared, a value of
the wrong type, or a page past MAX_WINDOW is refused the same way (ValueError) on either.
Field names reach SQL or Elasticsearch only from a collection's declaration, never from the caller.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from kcnguard.store import schema
from kcnguard.store.base import MAX_WINDOW, Query
from kcnguard.store.schema import Field, Kind
from kcnguard.store.words import index_text, query_words


@dataclass(frozen=True)
class Filter:
    name: str
    field: Field
    values: list[Any]  # any of them matches


@dataclass(frozen=True)
class Range:
    name: str
    field: Field
    gte: Any
    lte: Any


@dataclass(frozen=True)
class Sort:
    name: str
    field: Field
    descending: bool


@dataclass(frozen=True)
class CheckedQuery:
    collection: schema.Collection
    filters: list[Filter]
    ranges: list[Range]
    words: list[str] | None  # None: no text part; []: text without a single word, which matches nothing
    sort: list[Sort]
    size: int
    offset: int
    count: bool = True
    count_up_to: int | None = None


# The first year written with four digits, which both backends compare as dates.
MIN_YEAR = 1000


def date_value(value: Any) -> str:
    """A date as both backends compare it: UTC, milliseconds, ISO 8601 with Z."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO 8601 date: {value[:80]!r}") from None
    else:
        raise ValueError(f"not a date: {value!r:.80}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # as the records do: naive means UTC
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"date out of range: {value!s:.80}") from None
    if moment.year < MIN_YEAR:
        # strftime writes such a year with fewer than four digits: it would sort after every real date.
        raise ValueError(f"date out of range: {value!s:.80}; the year must be {MIN_YEAR} or later")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _value(coll: str, name: str, f: Field, value: Any) -> Any:
    bad = ValueError(f"{coll}.{name} is a {f.kind.value} field; {value!r:.80} does not fit it")
    if f.kind in (Kind.KEYWORD, Kind.TEXT):
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise bad
        return str(value)
    if f.kind in (Kind.FLOAT, Kind.INT):
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise bad
        return value
    if f.kind is Kind.BOOL:
        if not isinstance(value, bool):
            raise bad
        return value
    return date_value(value)


def _field(coll: schema.Collection, name: Any) -> Field:
    if not isinstance(name, str) or name not in coll.fields:
        raise ValueError(
            f"unknown field {name!r:.80} in {coll.name}; searchable fields: {', '.join(sorted(coll.fields))}"
        )
    return coll.fields[name]


def check(coll: schema.Collection, query: Query) -> CheckedQuery:
    filters: list[Filter] = []
    for name, raw in query.filters.items():
        f = _field(coll, name)
        if raw is None:
            raise ValueError(f"filter on {coll.name}.{name} is None: give a value, a list of values, or leave it out")
        values = list(raw) if isinstance(raw, list | tuple | set | frozenset) else [raw]
        filters.append(Filter(name, f, [_value(coll.name, name, f, v) for v in values]))
    ranges: list[Range] = []
    for name, bounds in query.ranges.items():
        f = _field(coll, name)
        if f.kind in (Kind.TEXT, Kind.BOOL):
            raise ValueError(f"{coll.name}.{name} is a {f.kind.value} field and has no range")
        if not isinstance(bounds, tuple | list) or len(bounds) != 2:
            raise ValueError(f"range on {coll.name}.{name} must be (gte or None, lte or None)")
        gte, lte = (None if b is None else _value(coll.name, name, f, b) for b in bounds)
        ranges.append(Range(name, f, gte, lte))
    found: list[str] | None = None
    if query.text is not None and query.text.strip():
        if not coll.text_fields:
            raise ValueError(f"{coll.name} has no text fields to search")
        found = query_words(query.text)
    sort: list[Sort] = []
    for item in query.sort:
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise ValueError(f"sort entries are (field, 'asc' | 'desc'), got {item!r:.80}")
        name, direction = item
        f = _field(coll, name)
        if direction not in ("asc", "desc"):
            raise ValueError(f"sort direction for {name} must be 'asc' or 'desc', got {direction!r:.20}")
        if f.many:
            raise ValueError(f"{coll.name}.{name} holds a list and cannot be sorted on")
        sort.append(Sort(name, f, direction == "desc"))
    for label, number in (("size", query.size), ("offset", query.offset)):
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise ValueError(f"{label} must be a whole number ≥ 0, got {number!r:.20}")
    if query.size + query.offset > MAX_WINDOW:
        raise ValueError(
            f"trang quá sâu: size + offset tối đa {MAX_WINDOW} / page too deep: size + offset may be at most "
            f"{MAX_WINDOW}, got {query.size + query.offset}; narrow the search with filters instead"
        )
    cap = query.count_up_to
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
        raise ValueError(f"count_up_to must be a whole number ≥ 1 or None, got {cap!r:.20}")
    return CheckedQuery(coll, filters, ranges, found, sort, query.size, query.offset, bool(query.count), cap)


# Elasticsearch refuses longer ids; SQLite holds them to the same rule so both accept the same writes.
MAX_ID_BYTES = 512


def id_problem(doc_id: Any) -> str | None:
    """Why a document id cannot be stored, or None when it can."""
    if not isinstance(doc_id, str) or not doc_id:
        return "document id must be a non-empty string"
    try:
        encoded = doc_id.encode()
    except UnicodeEncodeError:
        return "document id is not valid Unicode"
    if len(encoded) > MAX_ID_BYTES:
        return f"document id longer than {MAX_ID_BYTES} bytes"
    return None


def write_problem(doc_id: Any, body: Any) -> str | None:
    """Why a write cannot be stored whatever its body holds, or None when it may be tried."""
    problem = id_problem(doc_id)
    if problem is None and not isinstance(body, dict):
        problem = "document body must be a JSON object"
    return problem


def json_text(body: dict[str, Any]) -> tuple[str, str | None]:
    """The document as the backends store it (compact JSON), or ("", why it is not JSON)."""
    try:
        text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        text.encode()  # a lone surrogate cannot be stored as UTF-8
    except (TypeError, ValueError) as exc:
        return "", f"document is not JSON: {exc}"
    return text, None


def folded_text(coll: schema.Collection, body: dict[str, Any]) -> str:
    """What both backends index for a document's text search: its text fields' folded words."""
    return index_text(pluck(body, coll.fields[n].path) for n in coll.text_fields)


def pluck(body: dict[str, Any], path: str) -> Any:
    """The value at a dotted path, or None when any step is missing."""
    value: Any = body
    for step in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value
