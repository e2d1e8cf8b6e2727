"""Writes to the SQLite store: a batch in one transaction, each document with its FTS5 row and side-table rows."""

from __future__ import annotations

from collections.abc import Sequence

from kcnguard.sqlite_file import SqliteFile
from kcnguard.store import checked
from kcnguard.store.base import CREATE, Write, WriteResult
from kcnguard.store.schema import Collection
from kcnguard.store.sqlite.tables import Tables, json_path, listed_fields


def bulk_write(db: SqliteFile, tables: Tables, coll: Collection, writes: Sequence[Write]) -> list[WriteResult]:
    table = tables.table(coll.name)
    fts = tables.fts(coll.name) if coll.text_fields else None
    listed = _listed_sql(tables, coll)
    results: list[WriteResult] = []
    prepared: list[tuple[Write, str, str] | WriteResult] = []
    for w in writes:
        problem = checked.write_problem(w.id, w.body)
        if problem is None:
            body, problem = checked.json_text(w.body)
        if problem is not None:
            prepared.append(WriteResult(str(w.id), False, error=problem))
        else:
            prepared.append((w, body, checked.folded_text(coll, w.body) if fts else ""))
    with db.write("bulk_write") as conn:
        for item in prepared:
            if isinstance(item, WriteResult):
                results.append(item)
                continue
            w, body, text = item
            row = conn.execute(f"SELECT rid, version FROM {table} WHERE id = ?", (w.id,)).fetchone()
            if w.if_version == CREATE and row is not None:
                results.append(WriteResult(w.id, False, error="conflict"))
                continue
            if w.if_version not in (None, CREATE) and (row is None or str(row[1]) != w.if_version):
                results.append(WriteResult(w.id, False, error="conflict"))
                continue
            if row is None:
                rid = conn.execute(f"INSERT INTO {table} (id, version, body) VALUES (?, 1, ?)", (w.id, body)).lastrowid
                version = 1
                if fts:
                    conn.execute(f"INSERT INTO {fts} (rowid, text) VALUES (?, ?)", (rid, text))
                for _, insert in listed:
                    conn.execute(insert, (rid, body))
            else:
                rid, version = row[0], row[1] + 1
                conn.execute(f"UPDATE {table} SET version = ?, body = ? WHERE rid = ?", (version, body, rid))
                if fts:
                    conn.execute(f"UPDATE {fts} SET text = ? WHERE rowid = ?", (text, rid))
                for remove, insert in listed:
                    conn.execute(remove, (rid,))
                    conn.execute(insert, (rid, body))
            results.append(WriteResult(w.id, True, version=str(version)))
    return results


def delete(db: SqliteFile, tables: Tables, coll: Collection, doc_id: str) -> bool:
    with db.write("delete") as conn:
        row = conn.execute(f"SELECT rid FROM {tables.table(coll.name)} WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return False
        conn.execute(f"DELETE FROM {tables.table(coll.name)} WHERE rid = ?", (row[0],))
        for remove, _ in _listed_sql(tables, coll):
            conn.execute(remove, (row[0],))
        if coll.text_fields:
            conn.execute(f"DELETE FROM {tables.fts(coll.name)} WHERE rowid = ?", (row[0],))
    return True


def _listed_sql(tables: Tables, coll: Collection) -> list[tuple[str, str]]:
    """(remove a document's rows, insert them from its JSON body) for each side table of the collection."""
    return [
        (
            f"DELETE FROM {tables.side(coll.name, name)} WHERE rid = ?",
            f"INSERT OR IGNORE INTO {tables.side(coll.name, name)} (rid, value) SELECT ?, value "
            f"FROM json_each(?, '{json_path(f.path)}') WHERE value IS NOT NULL",
        )
        for name, f in listed_fields(coll)
    ]
