"""Reports received: anyone may send one, it enters the review queue, inspectors triage it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.reports.views import ANONYMOUS_PER_ADDRESS
from api.throttle import SlidingWindow
from kcnguard.store import Store
from tests.unit.test_api_support import Keys, auth, seed_brand

pytest_plugins = ["tests.unit.test_api_support"]

HOSTILE = '<script>alert("x")</script> \x1b[31m giá rẻ \u202e'


def _report(client: TestClient, headers: dict | None = None, **changes: object):
    body = {"url": "https://shopee.vn/sua-acme-i.1.2", "note": "Giá rẻ bất thường", "reporter_kind": "consumer"}
    body.update(changes)
    return client.post("/v1/reports", json=body, headers=headers or {})


def test_an_anonymous_report_enters_the_queue_and_is_triaged(client: TestClient, store: Store, keys: Keys) -> None:
    seed_brand(store, "sua-acme", "acme")
    sent = _report(client, brand_id="sua-acme", note=HOSTILE, contact="0912 345 678")
    assert sent.status_code == 201, sent.text
    report_id = sent.json()["report_id"]
    store.refresh()
    queue = client.get("/v1/review/queue?source=report", headers=auth(keys.inspector)).json()
    (item,) = queue["items"]
    assert item["source"] == "report" and item["status"] == "new" and item["marketplace"] == "shopee"
    # Kept as plain text with control characters removed; never interpreted (JSON here, escaped in pages).
    assert item["title"] == '<script>alert("x")</script> [31m giá rẻ'
    # The brand's enterprise sees it in its queue; another does not.
    assert client.get("/v1/review/queue", headers=auth(keys.acme)).json()["total"] == 1
    assert client.get("/v1/review/queue", headers=auth(keys.beta)).json()["total"] == 0

    triaged = client.post(
        f"/v1/reports/{report_id}/triage",
        json={"status": "crawled", "listing_key": "shopee:1.2", "note": "đã thu thập"},
        headers=auth(keys.inspector),
    )
    assert triaged.status_code == 200 and triaged.json()["triaged_by"] == "inspector:thanh tra Lan"
    store.refresh()
    assert client.get("/v1/review/queue?source=report", headers=auth(keys.inspector)).json()["total"] == 0
    listed = client.get("/v1/reports?status=crawled", headers=auth(keys.inspector)).json()
    assert listed["items"][0]["listing_key"] == "shopee:1.2"
    assert client.get("/v1/audit?action=report.triage", headers=auth(keys.admin)).json()["total"] == 1


def test_an_unknown_brand_is_kept_as_a_hint_and_answered_the_same(client: TestClient, store: Store, keys: Keys) -> None:
    seed_brand(store, "sua-acme", "acme")
    known = _report(client, brand_id="sua-acme")
    unknown = _report(client, brand_id="khong-co")
    assert known.status_code == unknown.status_code == 201
    assert known.json().keys() == unknown.json().keys()
    report = client.get(f"/v1/reports/{unknown.json()['report_id']}", headers=auth(keys.inspector)).json()
    assert report["brand_id"] is None and report["brand_hint"] == "khong-co"


def test_bad_reports_are_refused_clearly(client: TestClient, keys: Keys) -> None:
    for url in ("javascript:alert(1)", "ftp://shopee.vn/x", "https://user:pw@evil.example/x", "https://nohost"):
        response = _report(client, url=url)
        assert response.status_code == 422, url
        assert response.json()["errors"][0]["field"] == "url"
    assert _report(client, note="x" * 2001).status_code == 422
    assert _report(client, reporter_kind="enterprise").status_code == 422  # anonymous cannot claim it
    assert _report(client, headers=auth(keys.acme), reporter_kind="enterprise").status_code == 201
    assert _report(client, headers=auth("kcn_wrong")).status_code == 401
    assert _report(client, headers=auth(keys.partner)).status_code == 403


def test_anonymous_reports_are_rate_limited_per_address(client: TestClient, keys: Keys) -> None:
    for _ in range(ANONYMOUS_PER_ADDRESS):
        assert _report(client).status_code == 201
    refused = _report(client)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    # A signed-in enterprise is not held back by the anonymous limit.
    assert _report(client, headers=auth(keys.acme)).status_code == 201


def test_sliding_window_frees_up_and_caps_overall() -> None:
    window = SlidingWindow(per_key=2, overall=3, window_seconds=10)
    assert window.allow("a", now=0) == 0 and window.allow("a", now=1) == 0
    assert window.allow("a", now=2) > 0
    assert window.allow("b", now=2) == 0
    assert window.allow("c", now=3) > 0  # overall cap
    assert window.allow("a", now=11) == 0  # the first hit has left the window
