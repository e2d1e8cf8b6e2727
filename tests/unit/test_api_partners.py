"""The partner API: cursor pull (stable while cases change), case detail, receipt and actions, rate limits."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.keys import create_key
from api.main import create_app
from kcnguard.cases import audit
from kcnguard.records import Case, CaseState
from kcnguard.records.case import CASES
from kcnguard.settings import Settings
from kcnguard.store import Query, Store
from tests.unit.test_api_support import Keys, auth, case_events, open_case, scored, seed_brand, seed_scored

pytest_plugins = ["tests.unit.test_api_support"]


def _agencies(store: Store) -> None:
    from api.agencies.service import register_agency

    register_agency(store, {"slug": "qltt", "name": "QLTT tỉnh", "kind": "market_surveillance"})
    register_agency(store, {"slug": "police", "name": "Công an kinh tế", "kind": "police"})


def refer(store: Store, case: Case, agencies: list[str]) -> str:
    current = store.get_case(case.case_id)
    assert current is not None
    record = current.record
    if record.state is CaseState.OPEN:
        record = record.transition(CaseState.CONFIRMED, "inspector:test")
    saved = store.save_case(record.refer(agencies, "inspector:test"), current.version)
    store.refresh()
    return saved.version


@pytest.fixture
def referred(store: Store, keys: Keys) -> dict[str, list[str]]:
    """Seven cases of acme's brand: five referred to qltt, one to police, one to both."""
    _agencies(store)
    seed_brand(store, "sua-acme", "acme", name="Sữa Acme")
    items = [scored("sua-acme", f"p{i}", 0.9 - i * 0.01, title=f"Sữa Acme giả {i}") for i in range(7)]
    seed_scored(store, items)
    out: dict[str, list[str]] = {"qltt": [], "police": []}
    for i, item in enumerate(items):
        case = open_case(store, item)
        agencies = ["qltt"] if i < 5 else (["police"] if i == 5 else ["qltt", "police"])
        refer(store, case, agencies)
        for a in agencies:
            out[a].append(case.case_id)
        time.sleep(0.003)  # distinct milliseconds, so order is by time and not only by id
    return out


def pull_all(client: TestClient, key: str, limit: int, cursor: str | None = None) -> tuple[list[str], str | None]:
    seen: list[str] = []
    for _ in range(50):
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        r = client.get("/v1/partner/cases", params=params, headers=auth(key))
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [c["case_id"] for c in body["items"]]
        cursor = body["next_cursor"] or cursor
        if not body["has_more"]:
            return seen, cursor
    raise AssertionError("paging never ended")


def test_pull_returns_only_this_agencys_cases_in_update_order(
    client: TestClient, keys: Keys, store: Store, referred: dict[str, list[str]]
) -> None:
    seen, _ = pull_all(client, keys.partner, limit=2)
    assert seen == referred["qltt"]
    police = create_key(store, "Công an", "partner", owner_id="police")
    assert pull_all(client, police, limit=10)[0] == referred["police"]
    # Another agency's case is not there, whatever the route.
    assert client.get(f"/v1/partner/cases/{referred['police'][0]}", headers=auth(keys.partner)).status_code == 404


def test_a_case_changed_while_paging_comes_again_and_none_is_skipped(
    client: TestClient, keys: Keys, store: Store, referred: dict[str, list[str]]
) -> None:
    first = client.get("/v1/partner/cases", params={"limit": 2}, headers=auth(keys.partner)).json()
    got = [c["case_id"] for c in first["items"]]
    # Case 0 (already seen) and case 3 (not yet seen) change in the middle of the paging.
    for case_id in (got[0], referred["qltt"][3]):
        current = store.get_case(case_id)
        assert current is not None
        store.save_case(current.record.acknowledge("qltt", "partner:test"), current.version)
    store.refresh()
    rest, cursor = pull_all(client, keys.partner, limit=2, cursor=first["next_cursor"])
    everything = got + rest
    assert set(referred["qltt"]) <= set(everything)
    assert set(rest[-2:]) == {got[0], referred["qltt"][3]}  # the changed ones, at the end
    # Nothing new since: the kept cursor gives an empty page, then only what changes later.
    again = client.get("/v1/partner/cases", params={"cursor": cursor}, headers=auth(keys.partner)).json()
    assert again["items"] == [] and again["has_more"] is False


def test_updated_after_starts_strictly_after_that_time(
    client: TestClient, keys: Keys, store: Store, referred: dict[str, list[str]]
) -> None:
    all_items = client.get("/v1/partner/cases", params={"limit": 100}, headers=auth(keys.partner)).json()["items"]
    pivot = all_items[2]["updated_at"]
    later = client.get(
        "/v1/partner/cases", params={"updated_after": pivot, "limit": 100}, headers=auth(keys.partner)
    ).json()["items"]
    assert [c["case_id"] for c in later] == [c["case_id"] for c in all_items[3:]]
    bad = client.get("/v1/partner/cases", params={"updated_after": "yesterday"}, headers=auth(keys.partner))
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")


def test_forged_or_foreign_cursors_are_refused(
    client: TestClient, keys: Keys, store: Store, referred: dict[str, list[str]]
) -> None:
    page = client.get("/v1/partner/cases", params={"limit": 1}, headers=auth(keys.partner)).json()
    token = json.loads(base64.urlsafe_b64decode(page["next_cursor"] + "=="))
    token["p"] = token["p"].replace("20", "19", 1)  # move the position back in time
    forged = base64.urlsafe_b64encode(json.dumps(token).encode()).decode()
    for cursor in (forged, "not-a-cursor", "x" * 700):
        r = client.get("/v1/partner/cases", params={"cursor": cursor}, headers=auth(keys.partner))
        assert r.status_code in (400, 422), r.text
    police = create_key(store, "Công an", "partner", owner_id="police")
    r = client.get("/v1/partner/cases", params={"cursor": page["next_cursor"]}, headers=auth(police))
    assert r.status_code == 400 and r.json()["type"].endswith("bad-cursor")


def test_page_size_is_capped(client: TestClient, keys: Keys) -> None:
    r = client.get("/v1/partner/cases", params={"limit": 101}, headers=auth(keys.partner))
    assert r.status_code == 422


def test_case_detail_has_listing_evidence_and_brand_ip(
    client: TestClient, keys: Keys, store: Store, settings: Settings, referred: dict[str, list[str]]
) -> None:
    from kcnguard.evidence import open_evidence

    case_id = referred["qltt"][0]
    r = client.get(f"/v1/partner/cases/{case_id}", headers=auth(keys.partner))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["listing"]["title"] == "Sữa Acme giả 0" and body["listing"]["seller_id"] == "s-p0"
    assert body["brand"]["owner_name"] == "Công ty acme" and body["referral"]["agency"] == "qltt"
    digests = {e["digest"] for e in body["evidence"]}
    assert len(digests) == 1  # both sightings of the seeded listing name the same page
    digest = digests.pop()
    assert r.headers["ETag"] == f'"{body["version"]}"'
    # The raw page downloads through the partner's own route, only for its own case.
    open_evidence(settings).put(b"p0")
    got = client.get(body["evidence"][0]["url"], headers=auth(keys.partner))
    assert got.status_code == 200 and got.content == b"p0"
    other = referred["police"][0]
    assert client.get(f"/v1/partner/cases/{other}/evidence/{digest}", headers=auth(keys.partner)).status_code == 404


def test_acknowledge_then_report_action_with_versions(
    client: TestClient, settings: Settings, keys: Keys, store: Store, referred: dict[str, list[str]]
) -> None:
    case_id = referred["qltt"][0]
    version = client.get(f"/v1/partner/cases/{case_id}", headers=auth(keys.partner)).json()["version"]
    assert client.post(f"/v1/partner/cases/{case_id}/acknowledge", headers=auth(keys.partner)).status_code == 428
    stale = client.post(f"/v1/partner/cases/{case_id}/acknowledge", json={"version": "0"}, headers=auth(keys.partner))
    assert stale.status_code == 409 and stale.json()["current_version"] == version
    ack = client.post(
        f"/v1/partner/cases/{case_id}/acknowledge", headers={**auth(keys.partner), "If-Match": f'"{version}"'}
    )
    assert ack.status_code == 200 and ack.json()["state"] == "acknowledged"
    assert ack.json()["referral"]["acknowledged_by"].startswith("partner:")
    action = {
        "kind": "takedown_requested",
        "document_number": "12/QLTT",
        "document_date": "2026-03-05",
        "note": "đã yêu cầu gỡ",
        "version": ack.json()["version"],
    }
    done = client.post(f"/v1/partner/cases/{case_id}/actions", json=action, headers=auth(keys.partner))
    assert done.status_code == 200 and done.json()["state"] == "actioned"
    # The same (now stale) version again: 409, never a second silent write.
    again = client.post(f"/v1/partner/cases/{case_id}/actions", json=action, headers=auth(keys.partner))
    assert again.status_code == 409
    bad = client.post(
        f"/v1/partner/cases/{case_id}/actions", json={**action, "kind": "arrested"}, headers=auth(keys.partner)
    )
    assert bad.status_code == 422
    # Each change reached the bus as a case event (through the outbox), and the audit log kept it.
    wanted = {"acknowledged", "actioned"}
    events = case_events(settings, lambda found: wanted <= {e.kind for e in found if e.case_id == case_id})
    assert wanted <= {e.kind for e in events if e.case_id == case_id}
    entries, _ = audit.list_entries(store, 10, 0, obj=f"case:{case_id}")
    assert {e.action for e in entries} >= {"case.acknowledge", "case.action.takedown_requested"}


def test_staff_and_enterprises_cannot_use_the_partner_api(client: TestClient, keys: Keys) -> None:
    for key in (keys.admin, keys.inspector, keys.acme):
        assert client.get("/v1/partner/cases", headers=auth(key)).status_code == 403
    assert client.get("/v1/partner/cases").status_code == 401


@pytest.fixture
def tight_client(tmp_path, namespace: str, store: Store, keys: Keys) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path / "data",
        store_url=f"sqlite:///{tmp_path}/s.db",
        namespace=namespace,
        partner_rate_per_minute=6,
        partner_rate_burst=2,
    )
    with TestClient(create_app(settings, store)) as c:
        yield c


def test_partner_keys_over_their_rate_get_429_with_retry_after(tight_client: TestClient, keys: Keys) -> None:
    codes = [tight_client.get("/v1/partner/cases", headers=auth(keys.partner)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    r = tight_client.get("/v1/partner/cases", headers=auth(keys.partner))
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 10
    assert r.json()["type"].endswith("rate-limited") and "phút" in r.json()["detail"]
    # Staff keys are not partner keys: they spend a bucket of their own.
    assert tight_client.get("/v1/cases", headers=auth(keys.inspector)).status_code == 200


def test_search_without_count_returns_the_page_only(store: Store, referred: dict[str, list[str]]) -> None:
    counted = store.docs.search(CASES.name, Query(sort=[("updated_at", "asc")], size=3, offset=2))
    fast = store.docs.search(CASES.name, Query(sort=[("updated_at", "asc")], size=3, offset=2, count=False))
    assert [d.id for d in fast.docs] == [d.id for d in counted.docs]
    assert counted.total == 7 and fast.total == 5  # offset + what came back: no full count
