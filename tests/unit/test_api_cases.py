"""Cases: listing with tenancy, ETag and If-Match, 409 on a stale version, 422 on a wrong move, referral."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from api.agencies.service import register_agency
from kcnguard.store import Store
from tests.unit.test_api_support import Keys, auth, open_case, scored, seed_brand, seed_scored

pytest_plugins = ["tests.unit.test_api_support"]


def _case(store: Store, brand_id: str = "sua-acme", owner: str = "acme", listing_id: str = "a1") -> str:
    seed_brand(store, brand_id, owner)
    item = scored(brand_id, listing_id, 0.9)
    seed_scored(store, [item])
    if store.docs.get("agencies", "qltt") is None:
        register_agency(store, {"slug": "qltt", "name": "QLTT", "kind": "market_surveillance"})
    return open_case(store, item).case_id


def _read(client: TestClient, key: str, case_id: str) -> tuple[dict, str]:
    response = client.get(f"/v1/cases/{case_id}", headers=auth(key))
    assert response.status_code == 200, response.text
    return response.json(), response.headers["etag"]


def test_etag_if_match_and_a_stale_version_is_409(client: TestClient, store: Store, keys: Keys) -> None:
    case_id = _case(store)
    body, etag = _read(client, keys.inspector, case_id)
    assert etag == f'"{body["version"]}"' and body["case"]["state"] == "open"

    missing = client.post(f"/v1/cases/{case_id}/transition", json={"to": "confirmed"}, headers=auth(keys.inspector))
    assert missing.status_code == 428 and missing.json()["type"].endswith("version-required")

    moved = client.post(
        f"/v1/cases/{case_id}/transition",
        json={"to": "confirmed", "note": "đúng hàng giả"},
        headers={**auth(keys.inspector), "If-Match": etag},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["case"]["state"] == "confirmed" and moved.headers["etag"] != etag

    stale = client.post(
        f"/v1/cases/{case_id}/transition",
        json={"to": "dismissed"},
        headers={**auth(keys.admin), "If-Match": etag},
    )
    assert stale.status_code == 409
    problem = stale.json()
    assert problem["current_state"] == "confirmed" and f'"{problem["current_version"]}"' == moved.headers["etag"]
    assert "tải lại" in problem["detail"]


def test_invalid_moves_are_422(client: TestClient, store: Store, keys: Keys) -> None:
    case_id = _case(store)
    body, _ = _read(client, keys.inspector, case_id)
    for target in ("closed", "acknowledged", "referred"):
        response = client.post(
            f"/v1/cases/{case_id}/transition",
            json={"to": target, "version": body["version"]},
            headers=auth(keys.inspector),
        )
        assert response.status_code == 422, (target, response.text)
        assert response.json()["type"].endswith("invalid-transition")
    refer_open = client.post(
        f"/v1/cases/{case_id}/refer", json={"agencies": ["qltt"], "version": body["version"]}, headers=auth(keys.admin)
    )
    assert refer_open.status_code == 422


def test_referral_needs_registered_agencies_and_shows_to_that_partner(
    client: TestClient, store: Store, keys: Keys
) -> None:
    case_id = _case(store)
    _, etag = _read(client, keys.inspector, case_id)
    confirmed = client.post(
        f"/v1/cases/{case_id}/transition", json={"to": "confirmed"}, headers={**auth(keys.inspector), "If-Match": etag}
    )
    version = confirmed.json()["version"]
    unknown = client.post(
        f"/v1/cases/{case_id}/refer", json={"agencies": ["qltt", "ma"], "version": version}, headers=auth(keys.admin)
    )
    assert unknown.status_code == 422 and unknown.json()["unknown"] == ["ma"]
    assert client.get(f"/v1/partner/cases/{case_id}", headers=auth(keys.partner)).status_code == 404
    referred = client.post(
        f"/v1/cases/{case_id}/refer",
        json={"agencies": ["qltt"], "note": "chuyển QLTT", "version": version},
        headers=auth(keys.admin),
    )
    assert referred.status_code == 200, referred.text
    assert referred.json()["case"]["state"] == "referred" and referred.json()["case"]["agencies"] == ["qltt"]
    # The partner key of agency "qltt" now sees it; the enterprise owning the brand too; the other not.
    assert client.get(f"/v1/partner/cases/{case_id}", headers=auth(keys.partner)).status_code == 200
    assert [i["case_id"] for i in client.get("/v1/partner/cases", headers=auth(keys.partner)).json()["items"]] == [
        case_id
    ]
    assert client.get(f"/v1/cases/{case_id}", headers=auth(keys.partner)).status_code == 403
    assert client.get(f"/v1/cases/{case_id}", headers=auth(keys.acme)).status_code == 200
    assert client.get(f"/v1/cases/{case_id}", headers=auth(keys.beta)).status_code == 404
    assert client.get("/v1/cases?state=referred", headers=auth(keys.inspector)).json()["total"] == 1
    audit = client.get(f"/v1/audit?object=case:{case_id}", headers=auth(keys.admin)).json()
    assert [e["action"] for e in audit["items"]] == ["case.refer", "case.confirmed"]


def test_two_inspectors_racing_exactly_one_wins(client: TestClient, store: Store, keys: Keys) -> None:
    case_id = _case(store)
    _, etag = _read(client, keys.inspector, case_id)
    results: list[int] = []
    start = threading.Barrier(2)

    def act(key: str, target: str) -> None:
        start.wait()
        response = client.post(
            f"/v1/cases/{case_id}/transition", json={"to": target}, headers={**auth(key), "If-Match": etag}
        )
        results.append(response.status_code)

    threads = [
        threading.Thread(target=act, args=(keys.inspector, "confirmed")),
        threading.Thread(target=act, args=(keys.admin, "dismissed")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]
    final, _ = _read(client, keys.inspector, case_id)
    assert len(final["case"]["history"]) == 2  # opened, then exactly one of the two moves


def test_many_writers_racing_on_the_store_only_one_wins(store: Store) -> None:
    """Below HTTP: the optimistic save itself, with eight writers on one version."""
    from kcnguard.errors import ConflictError
    from kcnguard.records import CaseState

    case_id = _case(store)
    current = store.get_case(case_id)
    assert current is not None
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def write() -> None:
        barrier.wait()
        try:
            store.save_case(current.record.transition(CaseState.CONFIRMED, "x"), current.version)
            outcomes.append("won")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=write) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("won") == 1 and outcomes.count("conflict") == 7
