"""How SQLite answers some queries its own way: a capped text search planned two ways (walking the filters'
index, or the FTS5 word lists) gives the same pages and counts whichever the sample picks; a many-valued
keyword kept in a side table is filled for a store written before the table existed."""

from __future__ import annotations

from pathlib import Path

import pytest

from kcnguard.store import Query, Write, open_document_store
from kcnguard.store.sqlite import SqliteDocumentStore
from tests.contract.test_store_contract import check_searches, search_rows


@pytest.mark.parametrize(
    ("walk_rows", "walk_sample"),
    [(0, 1), (10**6, 1), (50, 10), (8000, 500)],
    ids=["full-text-index-only", "always-walk", "short-walks", "defaults"],
)
def test_every_plan_gives_the_same_answers(tmp_path: Path, walk_rows: int, walk_sample: int) -> None:
    docs = open_document_store(f"sqlite://{tmp_path / 's.db'}", namespace="t")
    assert isinstance(docs, SqliteDocumentStore)
    docs.setup()
    rows = search_rows()
    assert all(r.ok for r in docs.bulk_write("scored", [Write(i, b) for i, b in rows]))
    docs.walk_rows, docs.walk_sample = walk_rows, walk_sample
    try:
        check_searches(docs, rows)
    finally:
        docs.close()


def test_a_store_from_before_the_side_tables_gets_them_filled(tmp_path: Path) -> None:
    docs = open_document_store(f"sqlite://{tmp_path / 's.db'}", namespace="t")
    assert isinstance(docs, SqliteDocumentStore)
    docs.setup()
    cases = [Write(f"c{i}", {"case_id": f"c{i}", "agencies": ["qltt"] if i % 2 else []}) for i in range(6)]
    docs.bulk_write("cases", cases)
    with docs._db.write("test") as conn:
        conn.execute('DROP TABLE "t__cases__agencies"')
    docs.setup()
    assert docs.count("cases", Query(filters={"agencies": "qltt"})) == 3
    page = docs.search("cases", Query(filters={"agencies": "qltt"}, sort=[("case_id", "asc")], size=10))
    assert [d.id for d in page.docs] == ["c1", "c3", "c5"]
    docs.close()
