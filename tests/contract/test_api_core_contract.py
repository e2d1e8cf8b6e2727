"""The API core's own use of the store, on both backends: review queue and decisions, cases, audit chain,
reports, sessions. Elasticsearch runs when KCNGUARD_TEST_ELASTICSEARCH names a server.

Only services are called (no HTTP): what differs between backends is the store, and every field these
services filter, sort or search on must be declared in its collection (kcnguard.store.schema) for both.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from api.agencies.service import register_agency
from api.auth import sessions
from api.auth.enums import ROLE_SCOPES, Role
from api.auth.models import Principal
from api.cases import service as cases
from api.enterprises.service import list_enterprises, register_enterprise
from api.partners import service as partners
from api.reports.models import ReportIn
from api.reports.service import list_reports, submit
from api.review import service as review
from api.review.models import PageRequest, QueueFilters
from kcnguard.cases import audit
from kcnguard.records import CaseState
from kcnguard.store import Store, open_document_store
from tests.conftest import elasticsearch_url
from tests.unit.test_api_support import enterprise_body, open_case, scored, seed_brand, seed_scored

INSPECTOR = Principal("lan", Role.INSPECTOR, ROLE_SCOPES[Role.INSPECTOR])
ACME = Principal("acme", Role.ENTERPRISE, ROLE_SCOPES[Role.ENTERPRISE], "acme")
QLTT = Principal("qltt", Role.PARTNER, ROLE_SCOPES[Role.PARTNER], "qltt")


@pytest.fixture(params=["sqlite", "elasticsearch"])
def store(request: pytest.FixtureRequest, namespace: str, tmp_path: Path):
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'store.sqlite3'}"
    else:
        url = elasticsearch_url()
        if not url:
            pytest.skip("KCNGUARD_TEST_ELASTICSEARCH is not set: the Elasticsearch half of the API core is skipped")
    docs = open_document_store(url, namespace=namespace)
    docs.setup()
    yield Store(docs)
    try:
        docs.drop()  # type: ignore[attr-defined]
    finally:
        docs.close()


def _world(store: Store) -> None:
    for enterprise_id in ("acme", "beta"):
        register_enterprise(store, enterprise_body(enterprise_id))
    register_agency(store, {"slug": "qltt", "name": "QLTT", "kind": "market_surveillance"})
    seed_brand(store, "sua-acme", "acme")
    seed_brand(store, "keo-beta", "beta")
    items = [
        scored("sua-acme", "a1", 0.9, title="Sữa Acme hàng nhái"),
        scored("sua-acme", "a2", 0.6, title="Sữa Acme xách tay"),
        scored("keo-beta", "b1", 0.8, title="Kẹo Beta fake"),
    ]
    seed_scored(store, items)
    for item in items:
        open_case(store, item)


def test_queue_decisions_and_status_filter(store: Store) -> None:
    _world(store)
    page = review.queue(store, INSPECTOR, QueueFilters(), PageRequest(10, 0))
    assert [i.listing_key for i in page.items] == ["demo:a1", "demo:b1", "demo:a2"]
    assert review.queue(store, ACME, QueueFilters(q="nhái"), PageRequest(10, 0)).total == 1
    assert review.queue(store, ACME, QueueFilters(q="Beta"), PageRequest(10, 0)).total == 0
    out = review.decide(store, INSPECTOR, ["demo:a1|sua-acme", "demo:b1"], "confirm", "ok")
    assert out.done == 2
    review.decide(store, INSPECTOR, ["demo:a2|sua-acme"], "needs_info", "ảnh?")
    store.refresh()
    confirmed = review.queue(store, INSPECTOR, QueueFilters(status="confirmed"), PageRequest(10, 0))
    assert [i.listing_key for i in confirmed.items] == ["demo:a1", "demo:b1"]
    assert review.queue(store, INSPECTOR, QueueFilters(status="needs_info"), PageRequest(10, 0)).total == 1
    detail = review.listing_detail(store, ACME, "demo:a1")
    assert detail.cases[0].review_status == "confirmed" and len(detail.history) == 2


def test_cases_refer_and_partner_tenancy(store: Store) -> None:
    _world(store)
    review.decide(store, INSPECTOR, ["demo:a1|sua-acme"], "confirm")
    case_id = review.listing_detail(store, INSPECTOR, "demo:a1").cases[0].case.case_id
    current = cases.get_visible_case(store, INSPECTOR, case_id)
    cases.refer(store, INSPECTOR, case_id, ["qltt"], "chuyển", current.version)
    store.refresh()
    items, total = partners.list_referred(store, QLTT, 10, 0)
    assert total == 1 and items[0].state is CaseState.REFERRED and items[0].referral.agency == "qltt"
    assert cases.list_cases(store, ACME, 10, 0)[1] == 2
    assert cases.list_cases(store, INSPECTOR, 10, 0, state="referred")[1] == 1


def test_audit_chain_holds_under_concurrent_appends(store: Store) -> None:
    def writer(n: int) -> None:
        for i in range(5):
            audit.append(store, f"inspector:{n}", "case.confirmed", f"case:{n}-{i}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert audit.verify(store).entries == 20 and audit.verify(store).ok


def test_reports_enterprises_and_sessions(store: Store) -> None:
    _world(store)
    submit(
        store,
        None,
        ReportIn(url="https://shopee.vn/x-i.1.2", note="Sữa Acme giả", brand_id="sua-acme", reporter_kind="consumer"),
    )
    store.refresh()
    assert list_reports(store, INSPECTOR, 10, 0, status="new", q="giả")[1] == 1
    assert review.queue(store, ACME, QueueFilters(source="report"), PageRequest(10, 0)).total == 1
    assert [e.enterprise_id for e in list_enterprises(store, ACME, 10, 0)[0]] == ["acme"]
    sessions.create_user(store, "lan.tt", "mật khẩu dài dài", "inspector")
    token = sessions.login(store, "lan.tt", "mật khẩu dài dài")
    assert sessions.principal_for_session(store, token).role is Role.INSPECTOR
