"""A checked query as SQLite's WHERE and ORDER BY, over a collection's table aliased `t`."""

from __future__ import annotations

from typing import Any

from kcnguard.store.checked import CheckedQuery
from kcnguard.store.sqlite.tables import Tables, column, json_path, listed, value_sql


def where(tables: Tables, q: CheckedQuery, words: bool = True, counting: bool = False) -> tuple[str, list[Any]]:
    """The WHERE clause of the query's filters, ranges and (unless `words` is False) its full-text words.

    A many-valued keyword (a case's agencies) is looked up in its side table: per row, while a page walks
    an index in sort order; as the list of matching rows when `counting` (SQLite would otherwise drive a
    sorted page from that list and sort every match, or count by probing every row)."""
    conds: list[str] = []
    params: list[Any] = []
    for flt in q.filters:
        marks = ",".join("?" * len(flt.values))
        if listed(flt.field):
            side = tables.side(q.collection.name, flt.name)
            if counting:
                conds.append(f"t.rid IN (SELECT s.rid FROM {side} AS s WHERE s.value IN ({marks}))")
            else:
                conds.append(f"EXISTS (SELECT 1 FROM {side} AS s WHERE s.value IN ({marks}) AND s.rid = t.rid)")
        elif flt.field.many:
            value = value_sql(flt.field, "value")
            each = f"json_each(t.body, '{json_path(flt.field.path)}')"
            conds.append(f"EXISTS (SELECT 1 FROM {each} WHERE {value} IN ({marks}))")
        else:
            conds.append(f"t.{column(flt.name)} IN ({marks})")
        params.extend(flt.values)
    for rng in q.ranges:
        bounds = [(op, v) for op, v in ((">=", rng.gte), ("<=", rng.lte)) if v is not None]
        if not bounds:
            continue
        if rng.field.many:
            value = value_sql(rng.field, "value")
            test = " AND ".join(f"{value} {op} ?" for op, _ in bounds)
            conds.append(f"EXISTS (SELECT 1 FROM json_each(t.body, '{json_path(rng.field.path)}') WHERE {test})")
        else:
            conds.extend(f"t.{column(rng.name)} {op} ?" for op, _ in bounds)
        params.extend(v for _, v in bounds)
    if words and q.words is not None:
        if not q.words:
            conds.append("0")
        else:
            fts = tables.fts(q.collection.name)
            conds.append(f"t.rid IN (SELECT rowid FROM {fts} WHERE {fts} MATCH ?)")
            # Words hold letters and digits only, so quoting each makes it a plain term, never syntax.
            params.append(" ".join(f'"{w}"' for w in q.words))
    return (" AND ".join(conds) or "1"), params


def counting_where(tables: Tables, q: CheckedQuery, where_sql: str, params: list[Any]) -> tuple[str, list[Any]]:
    """The WHERE clause to count with: only a filter on a side table is written differently for counting."""
    if any(listed(f.field) for f in q.filters):
        return where(tables, q, counting=True)
    return where_sql, params


def order(q: CheckedQuery, columns: list[str], id_column: str) -> str:
    """ORDER BY terms for the query's sort over `columns`; missing values last, ties by id."""
    terms = [f"{c} DESC" if s.descending else f"{c} ASC NULLS LAST" for s, c in zip(q.sort, columns, strict=True)]
    return ", ".join([*terms, f"{id_column} ASC"])


def row_order(q: CheckedQuery) -> str:
    """ORDER BY terms for the query's sort over the table's own columns (aliased t)."""
    return order(q, [f"t.{column(s.name)}" for s in q.sort], "t.id")
