"""How a collection declares its searchable fields and indexes: one declaration for both backends.

Elasticsearch gets the fields as a mapping with dynamic=false (the rest of a document is kept
but not indexed, so hostile keys cannot explode the mapping); SQLite gets them as generated
columns with indexes, and the text fields as an FTS5 table. Each domain declares its own
collections next to its records (kcnguard.records for the pipeline's, api/<concept>/store.py
for the API's); a store knows the collections it was given (DocumentStore.know).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    KEYWORD = "keyword"
    TEXT = "text"
    FLOAT = "float"
    INT = "long"
    BOOL = "boolean"
    DATE = "date"


@dataclass(frozen=True)
class Field:
    path: str  # dotted path into the document
    kind: Kind
    many: bool = False  # the value is a list; a filter matches when any element does


@dataclass(frozen=True)
class Collection:
    name: str
    fields: dict[str, Field]  # query name -> where it lives in the document
    # Beyond the one index per field: the filter+sort combinations that must stay fast with millions of
    # documents, each a tuple of field names, a sorted one followed by " DESC" when read in that order.
    # SQLite builds them; Elasticsearch needs none.
    indexes: tuple[tuple[str, ...], ...] = field(default=())

    def __post_init__(self) -> None:
        for parts in self.indexes:
            unknown = [n for n in (p.split()[0] for p in parts) if n not in self.fields or self.fields[n].many]
            if unknown:
                raise ValueError(f"composite index on {self.name} names undeclared fields {unknown}")

    @property
    def text_fields(self) -> list[str]:
        return [name for name, f in self.fields.items() if f.kind is Kind.TEXT]


def searchable(path: str, kind: Kind, many: bool = False) -> Field:
    return Field(path, kind, many)


_f = searchable
K, T, F, B, D = Kind.KEYWORD, Kind.TEXT, Kind.FLOAT, Kind.BOOL, Kind.DATE
