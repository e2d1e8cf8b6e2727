"""SQLite plans a capped text search two ways (walking the filters' index, or the FTS5 word lists): both
give the same pages and counts, whichever the sample picks."""

from __future__ import annotations

from pathlib import Path

import pytest

from kcnguard.store import Write, open_document_store
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
