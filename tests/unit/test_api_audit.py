"""The audit log: a hash chain any edit, removal or reordering breaks, and appends that never fork it."""

from __future__ import annotations

import hashlib
import itertools
import stat
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kcnguard.cases import audit
from kcnguard.cases.audit_key import audit_key
from kcnguard.cases.collections import AUDIT, AUDIT_HEAD
from kcnguard.store import Store
from tests.unit.test_api_support import Keys, auth, brand_body, enterprise_body

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
    forged["hash"] = audit.entry_hash(forged, audit_key())
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
    before = audit.list_entries(store, 1, 0)[1]  # registering the fixtures' enterprises is audited too
    _fill(store, 3)
    stored = store.docs.get(AUDIT_HEAD.name, audit.HEAD_ID)
    assert stored is not None
    head = {k: stored.body[k] for k in ("hash", "mac")}
    page = client.get("/v1/audit?limit=2", headers=auth(keys.inspector)).json()
    assert page["total"] == before + 3 and [e["seq"] for e in page["items"]] == [before + 3, before + 2]
    assert client.get("/v1/audit?object=case:c1", headers=auth(keys.admin)).json()["total"] == 1
    assert client.get("/v1/audit/verify", headers=auth(keys.admin)).json() == {
        "ok": True,
        "entries": before + 3,
        "first_bad_seq": None,
        "reason": None,
        "head": {**head, "seq": before + 3, "keyed_from": 1},
    }
    assert client.get("/v1/audit", headers=auth(keys.acme)).status_code == 403


def _forge_from(store: Store, seq: int, key: bytes | None, change: dict[str, object]) -> None:
    """Edit entry `seq` and recompute every later hash and link, as an attacker with store access would."""
    prev = store.docs.get(AUDIT.name, audit.entry_id(seq - 1)).body["hash"] if seq > 1 else audit.GENESIS
    while (doc := store.docs.get(AUDIT.name, audit.entry_id(seq))) is not None:
        body = {**doc.body, "prev_hash": prev, **(change if doc.body["seq"] == seq else {})}
        change = {}
        body["hash"] = prev = audit.entry_hash(body, key)
        store.docs.put(AUDIT.name, doc.id, body)
        seq += 1


def test_editing_an_entry_and_recomputing_every_later_hash_is_detected(store: Store) -> None:
    _fill(store, 5)
    _forge_from(store, 2, None, {"actor": "admin:someone-else"})  # plain SHA-256: the old, unkeyed chain
    result = audit.verify(store)
    assert not result.ok and result.first_bad_seq == 2 and "altered" in (result.reason or "")
    _forge_from(store, 2, b"a guessed key", {"actor": "admin:someone-else"})
    result = audit.verify(store)
    assert not result.ok and result.first_bad_seq == 2 and "altered" in (result.reason or "")


def test_dropping_the_newest_entries_is_detected(store: Store) -> None:
    _fill(store, 5)
    for seq in (4, 5):
        store.docs.delete(AUDIT.name, audit.entry_id(seq))
    result = audit.verify(store)
    assert not result.ok and result.first_bad_seq == 4 and "cut off" in (result.reason or "")
    assert result.head is not None and result.head.seq == 5


def test_moving_the_head_back_over_dropped_entries_is_detected(store: Store) -> None:
    _fill(store, 5)
    third = store.docs.get(AUDIT.name, audit.entry_id(3)).body
    for seq in (4, 5):
        store.docs.delete(AUDIT.name, audit.entry_id(seq))
    head = store.docs.get(AUDIT_HEAD.name, audit.HEAD_ID)
    moved = {**head.body, "seq": 3, "hash": third["hash"]}
    store.docs.put(AUDIT_HEAD.name, audit.HEAD_ID, moved)
    result = audit.verify(store)
    assert not result.ok and "signature" in (result.reason or "")
    # Without the key the signature cannot be made; an unkeyed digest does not pass for it.
    moved["mac"] = hashlib.sha256(b"3").hexdigest()
    store.docs.put(AUDIT_HEAD.name, audit.HEAD_ID, moved)
    assert not audit.verify(store).ok
    # Deleting the head does not help either.
    store.docs.delete(AUDIT_HEAD.name, audit.HEAD_ID)
    result = audit.verify(store)
    assert not result.ok and "head document is missing" in (result.reason or "")


def test_a_log_written_before_the_key_still_verifies_and_is_keyed_from_then_on(store: Store) -> None:
    # The old format: plain SHA-256 entries and an unsigned head.
    prev = audit.GENESIS
    for seq in (1, 2, 3):
        fields = {
            "seq": seq,
            "at": "2026-01-01T00:00:00.000Z",
            "actor": "inspector:lan",
            "action": "review.confirm",
            "object": f"case:old{seq}",
            "before": None,
            "after": None,
            "note": None,
            "prev_hash": prev,
        }
        fields["hash"] = prev = audit.entry_hash(fields, None)
        store.docs.put(AUDIT.name, audit.entry_id(seq), fields)
    store.docs.put(AUDIT_HEAD.name, audit.HEAD_ID, {"seq": 3, "hash": prev, "pending": []})
    _fill(store, 2)
    result = audit.verify(store)
    assert result.ok and result.entries == 5 and result.head is not None and result.head.keyed_from == 4
    fourth = store.docs.get(AUDIT.name, audit.entry_id(4)).body
    assert fourth["hash"] == audit.entry_hash(fourth, audit_key()) != audit.entry_hash(fourth, None)
    first = store.docs.get(AUDIT.name, audit.entry_id(1)).body
    assert first["hash"] == audit.entry_hash(first, None)
    store.docs.put(AUDIT.name, audit.entry_id(1), {**first, "actor": "admin:x"})
    result = audit.verify(store)
    assert not result.ok and result.first_bad_seq == 1


def test_without_a_setting_the_key_is_made_once_and_kept_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kcnguard.settings import get_settings

    monkeypatch.setenv("KCNGUARD_SECRET_KEY", "")
    monkeypatch.setenv("KCNGUARD_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        key = audit_key()
        path = tmp_path / "data" / "secret-key"
        assert len(key) >= 40 and path.read_bytes().strip() == key
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert audit_key() == key
    finally:
        get_settings.cache_clear()


def _entries(store: Store, action: str) -> list[audit.AuditEntry]:
    return audit.list_entries(store, 50, 0, action=action)[0]


def test_every_admin_change_is_audited_with_who_what_and_before_after(
    client: TestClient, store: Store, keys: Keys
) -> None:
    admin = auth(keys.admin)
    agency = {"slug": "qltt-hn", "name": "QLTT Hà Nội", "kind": "market_surveillance"}
    assert client.post("/v1/agencies", json=agency, headers=admin).status_code == 201
    assert client.put("/v1/agencies/qltt-hn", json={**agency, "name": "Cục QLTT"}, headers=admin).status_code == 200
    (created,) = _entries(store, "agency.create")
    (changed,) = _entries(store, "agency.change")
    assert created.actor.startswith("admin:") and created.object == "agency:qltt-hn" and created.before is None
    assert changed.before["name"] == "QLTT Hà Nội" and changed.after["name"] == "Cục QLTT"

    body = enterprise_body("gamma")
    assert client.post("/v1/enterprises", json=body, headers=admin).status_code == 201
    assert client.put("/v1/enterprises/gamma", json={**body, "zone": "KCN Nội Bài"}, headers=admin).status_code == 200
    assert _entries(store, "enterprise.create")[0].object == "enterprise:gamma"
    assert _entries(store, "enterprise.change")[0].after["zone"] == "KCN Nội Bài"

    assert client.post("/v1/brands", json=brand_body(), headers=auth(keys.acme)).status_code == 201
    assert (
        client.put("/v1/brands/sua-acme", json=brand_body(name="Tên mới"), headers=auth(keys.acme)).status_code == 200
    )
    assert _entries(store, "brand.create")[0].object == "brand:sua-acme"
    (brand_change,) = _entries(store, "brand.change")
    assert brand_change.object == "brand:sua-acme" and brand_change.after["name"] == "Tên mới"

    doc = {"number": "1/QĐ", "title": "Quy chế", "issuer": "Ban Quản lý", "issued_on": "2026-01-02", "body": "x"}
    assert client.put("/v1/board/documents/qc-1", json=doc, headers=admin).status_code == 200
    assert (
        client.put("/v1/board/documents/qc-1", json={**doc, "title": "Quy chế mới"}, headers=admin).status_code == 200
    )
    assert _entries(store, "document.create")[0].after["title"] == "Quy chế"
    assert _entries(store, "document.change")[0].before["title"] == "Quy chế"

    made = client.post("/v1/board/announcements", json={"title": "Tất cả", "body": "x"}, headers=admin)
    assert made.status_code == 201
    (published,) = _entries(store, "announcement.create")
    assert published.object == f"announcement:{made.json()['announcement_id']}"
    assert audit.verify(store).ok
