"""Counted pages of a full-text search: by walking the filters' index in sort order, or through FTS5."""

from __future__ import annotations

import sqlite3
from typing import Any

from kcnguard.store.base import Page
from kcnguard.store.checked import CheckedQuery
from kcnguard.store.sqlite.tables import Tables, column, doc_of
from kcnguard.store.sqlite.where import order, row_order, where


def walked_text_page(
    conn: sqlite3.Connection, tables: Tables, q: CheckedQuery, walk_rows: int, walk_sample: int
) -> Page | None:
    """A counted text-search page read by walking the filters' index in sort order, or None when that
    would not be quick.

    The full-text index answers "which documents hold these words" as a list of every one of them: a
    common word ("giày", "fake") lists a quarter of a million-row collection before a filter or the sort
    can narrow it. Walking the rows that pass the other filters, best first, and testing each row's indexed
    words (the same folded words FTS5 holds, in its content table) finds a page, and a count capped at
    count_up_to, after a few thousand rows when the words are common or the filtered range is short. A
    sample of the first walk_sample rows tells which; when the walk would read more than walk_rows rows,
    the full-text index is used instead.
    """
    cap = q.count_up_to
    if cap is None or not q.sort or not q.words or walk_rows <= 0:
        return None
    table = tables.table(q.collection.name)
    where_sql, params = where(tables, q, words=False)
    content = tables.fts_content(q.collection.name)
    # Words are letters and digits only (kcnguard.store.words), and the content holds them space-separated:
    # a word is present exactly when ' word ' is in ' content '.
    has_words = " AND ".join("instr(' ' || c.c0 || ' ', ?) > 0" for _ in q.words)
    spaced = [f" {w} " for w in q.words]
    by = row_order(q)
    walked = (
        f"SELECT {has_words} AS hit FROM {table} AS t JOIN {content} AS c ON c.id = t.rid "
        f"WHERE {where_sql} ORDER BY {by} LIMIT ?"
    )
    rows_sql = f"SELECT count(*) FROM (SELECT 1 FROM {table} AS t WHERE {where_sql} LIMIT ?)"
    rows = conn.execute(rows_sql, [*params, walk_rows + 1]).fetchone()[0]
    if rows > walk_sample:
        sampled = conn.execute(f"SELECT count(*) FROM ({walked}) WHERE hit", [*spaced, *params, walk_sample])
        share = sampled.fetchone()[0] / walk_sample
        if min(rows, (cap + 1) / share if share else float("inf")) > walk_rows:
            return None
    # The walk stops at whichever comes first: enough matches to know the count is capped, or walk_rows rows.
    count_sql = f"SELECT count(*) FROM (SELECT 1 FROM ({walked}) WHERE hit LIMIT ?)"
    hits = conn.execute(count_sql, [*spaced, *params, walk_rows, cap + 1]).fetchone()[0]
    capped = hits > cap
    if not capped and rows > walk_rows:
        return None  # the sample promised more matches than the range held: the full-text index decides
    total = min(hits, cap)
    if q.offset >= total and not capped:
        return Page([], total, capped)
    sql = (
        f"SELECT t.id, t.version, t.body FROM {table} AS t JOIN {content} AS c ON c.id = t.rid "
        f"WHERE {where_sql} AND {has_words} ORDER BY {by} LIMIT ? OFFSET ?"
    )
    found = conn.execute(sql, [*params, *spaced, q.size, q.offset]).fetchall()
    return Page([doc_of(r) for r in found], total, capped)


def fts_page(
    conn: sqlite3.Connection, tables: Tables, q: CheckedQuery, where_sql: str, params: list[Any]
) -> Page | None:
    """A counted page of a text search in one statement, or None when the page is empty.

    The text condition builds the list of every document holding the words (a fifth of a million-row
    collection for a common word); counting and paging in two statements built it twice.
    """
    table = tables.table(q.collection.name)
    keys = [f"t.{column(s.name)} AS k{i}" for i, s in enumerate(q.sort)]
    inner, limit = "", -1
    if q.count_up_to is not None:
        inner = "ORDER BY " + row_order(q)
        # Enough matches to tell the count is capped, and to cut the page from when it lies past the cap.
        limit = max(q.count_up_to + 1, q.offset + q.size)
    ks = [f"k{i}" for i in range(len(q.sort))]
    # The page is cut from the matches' sort keys first; only its own rows read their bodies.
    sql = (
        f"WITH h AS MATERIALIZED (SELECT {', '.join(['t.rid AS rid', 't.id AS id', *keys])} "
        f"FROM {table} AS t WHERE {where_sql} {inner} LIMIT ?), "
        f"p AS (SELECT * FROM h ORDER BY {order(q, ks, 'id')} LIMIT ? OFFSET ?) "
        f"SELECT (SELECT count(*) FROM h), t.id, t.version, t.body FROM p JOIN {table} AS t ON t.rid = p.rid "
        f"ORDER BY {order(q, [f'p.{k}' for k in ks], 'p.id')}"
    )
    rows = conn.execute(sql, [*params, limit, q.size, q.offset]).fetchall()
    if not rows:
        return None  # nothing matched, or the page lies beyond the matches: the plain count says which
    total = rows[0][0]
    capped = q.count_up_to is not None and total > q.count_up_to
    if capped:
        total = q.count_up_to
    return Page([doc_of(r[1:]) for r in rows], total, capped)
