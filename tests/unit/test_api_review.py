"""The review queue (order, filters, tenancy), a listing's review page, decisions one at a time and in bulk."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from kcnguard.settings import Settings
from kcnguard.store import Store
from tests.unit.test_api_support import Keys, auth, case_events, open_case, scored, seed_brand, seed_scored

pytest_plugins = ["tests.unit.test_api_support"]


def _seed(store: Store) -> None:
    seed_brand(store, "sua-acme", "acme", name="Sữa Acme")
    seed_brand(store, "keo-beta", "beta", name="Kẹo Beta")
    items = [
        scored("sua-acme", "a1", 0.62, title="Sữa Acme xách tay"),
        scored("sua-acme", "a2", 0.97, title="Sữa Acme hàng nhái giá sốc"),
        scored("sua-acme", "a3", 0.81, title="Sữa Acme loại 1", captured_at=datetime(2024, 6, 1, tzinfo=UTC)),
        scored("sua-acme", "a4", 0.20, title="Sữa Acme chính hãng"),  # not flagged
        scored("keo-beta", "b1", 0.90, title="Kẹo Beta fake"),
    ]
    seed_scored(store, items)
    for item in items:
        if item.flagged:
            open_case(store, item)


def _queue(client: TestClient, key: str, query: str = "") -> dict:
    response = client.get(f"/v1/review/queue{query}", headers=auth(key))
    assert response.status_code == 200, response.text
    return response.json()


def test_queue_is_ordered_by_score_and_filters_narrow_it(client: TestClient, store: Store, keys: Keys) -> None:
    _seed(store)
    everything = _queue(client, keys.inspector)
    assert [i["listing_key"] for i in everything["items"]] == ["demo:a2", "demo:b1", "demo:a3", "demo:a1"]
    assert everything["total"] == 4
    top = everything["items"][0]
    assert top["key"] == "demo:a2|sua-acme" and top["status"] == "new" and top["source"] == "crawl"
    assert top["case"]["state"] == "open" and top["reasons"][0]["code"] == "counterfeit_term"
    assert _queue(client, keys.inspector, "?brand_id=keo-beta")["total"] == 1
    assert _queue(client, keys.inspector, "?seller_id=s-a3")["items"][0]["listing_key"] == "demo:a3"
    assert _queue(client, keys.inspector, "?marketplace=shopee")["total"] == 0
    assert [i["listing_key"] for i in _queue(client, keys.inspector, "?q=nhái")["items"]] == ["demo:a2"]
    paged = _queue(client, keys.inspector, "?limit=2&offset=2")
    assert [i["listing_key"] for i in paged["items"]] == ["demo:a3", "demo:a1"] and paged["total"] == 4
    assert client.get("/v1/review/queue?limit=101", headers=auth(keys.inspector)).status_code == 422
    assert client.get("/v1/review/queue?status=bogus", headers=auth(keys.inspector)).status_code == 422


def test_queue_date_filter_uses_scored_at(client: TestClient, store: Store, keys: Keys) -> None:
    _seed(store)
    future = _queue(client, keys.inspector, "?scored_from=2999-01-01T00:00:00Z")
    assert future["total"] == 0
    assert _queue(client, keys.inspector, "?scored_to=2999-01-01T00:00:00Z")["total"] == 4


def test_enterprise_sees_its_brands_queue_but_may_not_decide(client: TestClient, store: Store, keys: Keys) -> None:
    _seed(store)
    mine = _queue(client, keys.acme)
    assert {i["brand_id"] for i in mine["items"]} == {"sua-acme"} and mine["total"] == 3
    assert _queue(client, keys.acme, "?brand_id=keo-beta")["total"] == 0
    refused = client.post(
        "/v1/review/decisions", json={"keys": ["demo:a2|sua-acme"], "decision": "confirm"}, headers=auth(keys.acme)
    )
    assert refused.status_code == 403
    assert client.get("/v1/review/queue", headers=auth(keys.partner)).status_code == 403


def test_decisions_move_cases_filter_the_queue_and_are_audited(
    client: TestClient, store: Store, keys: Keys, settings: Settings
) -> None:
    _seed(store)
    response = client.post(
        "/v1/review/decisions",
        json={"keys": ["demo:a2|sua-acme", "demo:b1", "demo:nope|sua-acme"], "decision": "confirm", "note": "Logo sai"},
        headers=auth(keys.inspector),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["done"] == 2 and body["failed"] == 1
    by_key = {r["key"]: r for r in body["results"]}
    assert by_key["demo:a2|sua-acme"]["state"] == "confirmed"
    assert by_key["demo:b1|keo-beta"]["review_status"] == "confirmed"  # a bare listing key: each of its brands
    assert by_key["demo:nope|sua-acme"]["status"] == 404

    dismissed = client.post(
        "/v1/review/decisions", json={"keys": ["demo:a1|sua-acme"], "decision": "dismiss"}, headers=auth(keys.admin)
    ).json()
    assert dismissed["results"][0]["state"] == "dismissed"
    asked = client.post(
        "/v1/review/decisions",
        json={"keys": ["demo:a3|sua-acme"], "decision": "needs_info", "note": "Cần ảnh tem"},
        headers=auth(keys.inspector),
    ).json()
    assert asked["results"][0]["state"] == "open" and asked["results"][0]["review_status"] == "needs_info"

    store.refresh()
    assert [i["listing_key"] for i in _queue(client, keys.inspector, "?status=confirmed")["items"]] == [
        "demo:a2",
        "demo:b1",
    ]
    assert _queue(client, keys.inspector, "?status=dismissed")["items"][0]["listing_key"] == "demo:a1"
    assert _queue(client, keys.inspector, "?status=needs_info")["items"][0]["listing_key"] == "demo:a3"
    assert _queue(client, keys.inspector, "?status=new")["total"] == 0

    # Confirming again changes nothing; dismissing a referred-to-be case is refused per key, not for the batch.
    again = client.post(
        "/v1/review/decisions", json={"keys": ["demo:a2|sua-acme"], "decision": "confirm"}, headers=auth(keys.admin)
    ).json()
    assert again["results"][0]["ok"] and "Unchanged" in again["results"][0]["detail_en"]

    audit = client.get("/v1/audit?limit=50", headers=auth(keys.admin)).json()
    actions = [e["action"] for e in audit["items"]]
    assert actions.count("review.confirm") == 2 and "review.dismiss" in actions and "review.needs_info" in actions
    entry = next(e for e in audit["items"] if e["object"].endswith(by_key["demo:a2|sua-acme"]["case_id"]))
    assert entry["before"]["state"] == "open" and entry["after"]["state"] == "confirmed"
    assert entry["actor"] == "inspector:thanh tra Lan" and entry["note"] == "Logo sai"
    assert client.get("/v1/audit/verify", headers=auth(keys.inspector)).json()["ok"] is True

    # Each change reaches the bus as a CaseEvent (through the outbox).
    events = case_events(settings, lambda found: len(found) >= 4)
    kinds = sorted((e.kind, e.state) for e in events)
    assert ("info_requested", "open") in kinds and ("transitioned", "dismissed") in kinds
    assert sum(1 for k in kinds if k == ("transitioned", "confirmed")) == 2


def test_bulk_decisions_are_capped(client: TestClient, keys: Keys) -> None:
    keys_501 = [f"demo:x{i}|sua-acme" for i in range(501)]
    response = client.post(
        "/v1/review/decisions", json={"keys": keys_501, "decision": "dismiss"}, headers=auth(keys.inspector)
    )
    assert response.status_code == 422


def test_stale_version_in_a_decision_is_a_per_key_conflict(client: TestClient, store: Store, keys: Keys) -> None:
    _seed(store)
    response = client.post(
        "/v1/review/decisions",
        json={"keys": ["demo:a2|sua-acme"], "decision": "confirm", "versions": {"demo:a2|sua-acme": "999"}},
        headers=auth(keys.inspector),
    )
    assert response.json()["results"][0]["status"] == 409


def test_listing_page_has_history_seller_listings_cases_and_evidence(
    client: TestClient, store: Store, keys: Keys
) -> None:
    _seed(store)
    # Another listing by a2's seller.
    other = scored("sua-acme", "a9", 0.55, title="Sữa Acme khác")
    other = other.model_copy(
        update={"listing": other.listing.model_copy(update={"seller": scored("sua-acme", "a2", 0.9).listing.seller})}
    )
    seed_scored(store, [other])
    page = client.get("/v1/listings/demo:a2", headers=auth(keys.inspector)).json()
    assert len(page["history"]) == 2 and page["history"][0]["price"] == 9000
    assert page["scores"][0]["reasons"][0]["code"] == "counterfeit_term"
    assert [s["listing_key"] for s in page["seller_listings"]] == ["demo:a9"]
    assert page["cases"][0]["case"]["state"] == "open" and page["cases"][0]["version"]
    assert page["evidence_url"].startswith(f"/v1/evidence/{page['listing']['evidence_digest']}")
    # The enterprise owning the brand sees the same seller listing (it scored against its brand).
    mine = client.get("/v1/listings/demo:a2", headers=auth(keys.acme)).json()
    assert [s["listing_key"] for s in mine["seller_listings"]] == ["demo:a9"]
    assert client.get("/v1/listings/demo:a2", headers=auth(keys.beta)).status_code == 404


def test_evidence_download_checks_the_digest_belongs_to_a_visible_listing(
    client: TestClient, store: Store, keys: Keys, settings: Settings
) -> None:
    from kcnguard.evidence import open_evidence

    _seed(store)
    digest = open_evidence(settings).put(b"a2")  # the seeded listing a2 names sha256(b"a2")
    ok = client.get(f"/v1/evidence/{digest}", headers=auth(keys.acme))
    assert ok.status_code == 200 and ok.content == b"a2"
    assert ok.headers["content-type"] == "application/octet-stream"
    assert "attachment" in ok.headers["content-disposition"]
    assert client.get(f"/v1/evidence/{digest}", headers=auth(keys.beta)).status_code == 404
    unknown = "0" * 64
    assert client.get(f"/v1/evidence/{unknown}", headers=auth(keys.inspector)).status_code == 404
    assert client.get(f"/v1/evidence/{digest}?listing=demo:b1", headers=auth(keys.inspector)).status_code == 404
