"""The audit log: a hash chain any edit, removal or reordering breaks, and appends that never fork it."""

from __future__ import annotations

import itertools
import threading

from fastapi.testclient import TestClient

from kcnguard.cases import audit
from kcnguard.cases.collections import AUDIT
from kcnguard.store import Store
from tests.unit.test_api_support import Keys, auth

pytest_plugins = ["tests.unit.test_api_support"]


def _fill(store: Store, n: int) -> None:
    for i in range(n):
        audit.append(store, "inspector:lan", "review.confirm", f"case:c{i}", {"state": "open"}, {"state": "confirmed"})


def test_a_clean_chain_verifies_and_links_each_entry(store: Store) -> None:
    _fill(store, 5)
    result = audit.verify(store)
    assert result.ok and result.entries == 5 and result.first_bad_seq is None
    entries, total = audit.list_entries(store, 10, 0)
    assert total == 5 and [e.seq for e in entries] == [5, 4, 3, 2, 1]
    assert entries[-1].prev_hash == audit.GENESIS
    assert all(newer.prev_hash == older.hash for newer, older in itertools.pairwise(entries))


def test_editing_an_entry_in_the_store_is_detected(store: Store) -> None:
    _fill(store, 5)
    doc = store.docs.get(AUDIT.name, audit.entry_id(3))
    assert doc is not None
    store.docs.put(AUDIT.name, doc.id, {**doc.body, "after": {"state": "dismissed"}})
    result = audit.verify(store)
    assert not result.ok and result.first_bad_seq == 3 and "altered" in (result.reason or "")


def test_rehashing_an_edited_entry_still_breaks_the_next_link(store: Store) -> None:
    _fill(store, 5)
    doc = store.docs.get(AUDIT.name, audit.entry_id(2))
    assert doc is not None
    forged = {**doc.body, "actor": "admin:someone-else"}
    forged["hash"] = audit.entry_hash(forged)
    store.docs.put(AUDIT.name, doc.id, forged)
    result = audit.verify(store)
    assert not result.ok and result.first_bad_seq == 3 and "prev_hash" in (result.reason or "")


def test_a_removed_entry_is_detected(store: Store) -> None:
    _fill(store, 4)
    store.docs.delete(AUDIT.name, audit.entry_id(2))
    result = audit.verify(store)
    assert not result.ok and result.first_bad_seq == 2 and "missing" in (result.reason or "")


def test_concurrent_appends_form_one_unbroken_chain(store: Store) -> None:
    barrier = threading.Barrier(6)

    def writer(n: int) -> None:
        barrier.wait()
        for i in range(10):
            audit.append(store, f"inspector:w{n}", "case.confirmed", f"case:{n}-{i}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = audit.verify(store)
    assert result.ok and result.entries == 60


def test_audit_routes_for_staff_only(client: TestClient, store: Store, keys: Keys) -> None:
    _fill(store, 3)
    page = client.get("/v1/audit?limit=2", headers=auth(keys.inspector)).json()
    assert page["total"] == 3 and [e["seq"] for e in page["items"]] == [3, 2]
    assert client.get("/v1/audit?object=case:c1", headers=auth(keys.admin)).json()["total"] == 1
    assert client.get("/v1/audit/verify", headers=auth(keys.admin)).json() == {
        "ok": True,
        "entries": 3,
        "first_bad_seq": None,
        "reason": None,
    }
    assert client.get("/v1/audit", headers=auth(keys.acme)).status_code == 403
