"""The typed face over a collection: records in and out, versions, conflicts, and a service's own collections."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from kcnguard.errors import ConflictError
from kcnguard.store import Query, Store, open_store
from kcnguard.store.schema import Collection, Kind, searchable


class Pet(BaseModel):
    name: str
    kind: str
    age: int = 0


PETS = Collection("pets", {"kind": searchable("kind", Kind.KEYWORD), "age": searchable("age", Kind.INT)})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite://{tmp_path / 's.db'}", namespace="t", collections=[PETS])
    opened.setup()
    yield opened
    opened.close()


def test_records_go_in_and_come_out_typed_with_versions(store: Store) -> None:
    pets = store.table(PETS, Pet, lambda p: p.name)
    first = pets.create(Pet(name="mi", kind="cat", age=3))
    with pytest.raises(ConflictError):
        pets.create(Pet(name="mi", kind="dog"))
    assert pets.get("mi") == Pet(name="mi", kind="cat", age=3)
    moved = pets.put(Pet(name="mi", kind="cat", age=4), if_version=first.version)
    with pytest.raises(ConflictError):
        pets.put(Pet(name="mi", kind="cat", age=5), if_version=first.version)
    assert pets.get_versioned("mi") == moved
    pets.put(Pet(name="vang", kind="dog", age=1))
    assert set(pets.get_many(["mi", "vang", "none"])) == {"mi", "vang"}
    page = pets.search(Query(filters={"kind": "cat"}, sort=[("age", "desc")]))
    assert page.items == [Pet(name="mi", kind="cat", age=4)] and page.total == 1
    assert pets.count(Query(ranges={"age": (2, None)})) == 1
    assert pets.search_bodies(Query(sort=[("age", "asc")])).items[0] == {"name": "vang", "kind": "dog", "age": 1}
    assert pets.delete("vang") and not pets.delete("vang")
    assert pets.get("vang") is None


def test_records_without_their_id_are_written_under_a_named_one(store: Store) -> None:
    pets = store.table(PETS, Pet, None)
    pets.put(Pet(name="mi", kind="cat"), doc_id="id-1")
    assert pets.get("id-1") == Pet(name="mi", kind="cat")
    with pytest.raises(TypeError, match="doc_id"):
        pets.put(Pet(name="mi", kind="cat"))


def test_a_set_up_store_creates_a_collection_met_later(tmp_path: Path) -> None:
    store = open_store(f"sqlite://{tmp_path / 's.db'}", namespace="t")
    try:
        store.setup()
        store.table(PETS, Pet, lambda p: p.name).put(Pet(name="mi", kind="cat"))
        reopened = open_store(f"sqlite://{tmp_path / 's.db'}", namespace="t", collections=[PETS])
        assert reopened.table(PETS, Pet, lambda p: p.name).get("mi") == Pet(name="mi", kind="cat")
        reopened.close()
    finally:
        store.close()


def test_a_store_serves_only_the_collections_it_knows(tmp_path: Path) -> None:
    store = open_store(f"sqlite://{tmp_path / 's.db'}", namespace="t")
    try:
        store.setup()
        with pytest.raises(ValueError, match="unknown collection 'pets'"):
            store.docs.get("pets", "mi")
        assert store.capabilities.search_visible_after_seconds == 0
    finally:
        store.close()
