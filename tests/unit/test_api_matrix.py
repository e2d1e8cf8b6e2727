"""Every /v1 route × every role, including cross-tenant attempts, and leak checks on lists, counts and search.

How it works: `ROWS` holds one or more rows per route (method + path template as FastAPI
declares it): a concrete path (placeholders from the World's ids), an optional JSON body, and
the status each caller must get. `test_every_v1_route_has_rows` enumerates the app's routes
and FAILS when a route has no row, so a new route cannot ship without its expectations.

Callers: admin, inspector, enterprise A ("acme"), enterprise B ("beta"), partner P ("qltt"),
partner Q ("police"), anonymous. A is the one asking for B's things in the cross-tenant rows.
To add rows for a new route: append Row(...) entries to ROWS (see the helpers `expect` and `only`).

The world (stores, keys, ids) is built once into a template folder; a row that changes state runs
each role on its own copy of it, GET rows share one copy (reads change nothing).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.keys import create_key
from api.main import create_app
from kcnguard.records import CaseState
from kcnguard.settings import Settings
from kcnguard.store import Store
from tests.unit.test_api_support import open_case, scored, seed_brand, seed_scored, trademark_number

ROLES = ("admin", "inspector", "acme", "beta", "qltt", "police", "anon")
STAFF = ("admin", "inspector")


def expect(default: int, **by_role: int) -> dict[str, int]:
    """Every role gets `default` except those named; anonymous gets 401 unless named."""
    out = dict.fromkeys(ROLES, default)
    out["anon"] = 401
    out.update(by_role)
    return out


def only(ok: int, *roles: str, others: int = 403, **by_role: int) -> dict[str, int]:
    """`ok` for the roles named, `others` for the rest (anonymous 401)."""
    out = expect(others, **by_role)
    for role in roles:
        out[role] = ok
    out.update(by_role)
    return out


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # the template exactly as declared, e.g. /v1/brands/{brand_id}
    path: str  # the concrete path; {name} placeholders come from World.ids
    expected: dict[str, int]
    body: Any = None
    note: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    client: TestClient
    store: Store
    keys: dict[str, str | None]
    ids: dict[str, str]


def _brand_json(brand_id: str, owner_id: str) -> dict[str, Any]:
    return {
        "brand_id": brand_id,
        "owner_id": owner_id,
        "owner_name": f"Công ty {owner_id}",
        "name": f"Nhãn {brand_id}",
        "trademarks": [{"number": trademark_number(owner_id), "nice_classes": [29]}],
        "products": [{"name": "Sản phẩm", "reference_price_vnd": 32000}],
    }


def _enterprise_json(enterprise_id: str) -> dict[str, Any]:
    return {
        "enterprise_id": enterprise_id,
        "name": f"Công ty {enterprise_id}",
        "tax_code": "0101234567",
        "zone": "KCN Quang Minh",
        "address": "Lô 1, KCN Quang Minh",
        "contact": {"name": "Nguyễn Văn A", "email": "a@example.vn", "phone": "0912345678"},
    }


NEW_AGENCY = {"slug": "cuc-tmdt", "name": "Cục TMĐT", "kind": "ecommerce_authority"}
SAME_AGENCY = {"slug": "qltt", "name": "QLTT tỉnh", "kind": "market_surveillance"}

# --- the rows ---------------------------------------------------------------------------------

ROWS: list[Row] = [
    # Brands
    Row("GET", "/v1/brands", "/v1/brands", only(200, *STAFF, "acme", "beta")),
    Row("POST", "/v1/brands", "/v1/brands", only(201, *STAFF, "acme"), _brand_json("new-acme", "acme")),
    Row(
        "POST",
        "/v1/brands",
        "/v1/brands",
        only(201, *STAFF, "acme", beta=403),
        _brand_json("new-acme-2", "acme"),
        note="B registering a brand for A",
    ),
    Row("GET", "/v1/brands/{brand_id}", "/v1/brands/{brand_a}", only(200, *STAFF, "acme", beta=404)),
    Row("GET", "/v1/brands/{brand_id}", "/v1/brands/{brand_b}", only(200, *STAFF, "beta", acme=404)),
    Row(
        "PUT",
        "/v1/brands/{brand_id}",
        "/v1/brands/{brand_b}",
        only(200, *STAFF, "beta", acme=404),
        _brand_json("keo-beta", "beta"),
    ),
    Row(
        "POST",
        "/v1/brands/{brand_id}/verify",
        "/v1/brands/{brand_b}/verify",
        only(200, *STAFF),
        {"outcome": "verified", "note": "Đã đối chiếu văn bằng"},
    ),
    Row(
        "GET",
        "/v1/brands/{brand_id}/flagged",
        "/v1/brands/{brand_b}/flagged",
        only(200, *STAFF, "beta", acme=404),
    ),
    # Listings and evidence
    Row("GET", "/v1/listings/{key}", "/v1/listings/{listing_b}", only(200, *STAFF, "beta", acme=404)),
    Row("GET", "/v1/listings/{key}", "/v1/listings/{listing_a}", only(200, *STAFF, "acme", beta=404)),
    Row(
        "GET",
        "/v1/evidence/{digest}",
        "/v1/evidence/{digest_b}?listing={listing_b}",
        only(200, *STAFF, "beta", acme=404),
    ),
    # Review
    Row("GET", "/v1/review/queue", "/v1/review/queue", only(200, *STAFF, "acme", "beta")),
    Row(
        "POST",
        "/v1/review/decisions",
        "/v1/review/decisions",
        only(200, *STAFF),
        {"keys": ["{scored_a}"], "decision": "confirm"},
    ),
    # Audit
    Row("GET", "/v1/audit", "/v1/audit", only(200, *STAFF)),
    Row("GET", "/v1/audit/verify", "/v1/audit/verify", only(200, *STAFF)),
    # Enterprises
    Row("GET", "/v1/enterprises", "/v1/enterprises", only(200, *STAFF, "acme", "beta")),
    Row("POST", "/v1/enterprises", "/v1/enterprises", only(201, *STAFF), _enterprise_json("gamma")),
    Row("GET", "/v1/enterprises/{enterprise_id}", "/v1/enterprises/acme", only(200, *STAFF, "acme", beta=404)),
    Row("GET", "/v1/enterprises/{enterprise_id}", "/v1/enterprises/beta", only(200, *STAFF, "beta", acme=404)),
    Row("PUT", "/v1/enterprises/{enterprise_id}", "/v1/enterprises/beta", only(200, *STAFF), _enterprise_json("beta")),
    # Agencies
    Row("GET", "/v1/agencies", "/v1/agencies", only(200, *STAFF)),
    Row(
        "POST",
        "/v1/agencies",
        "/v1/agencies",
        only(201, "admin"),
        NEW_AGENCY,
    ),
    Row("GET", "/v1/agencies/{slug}", "/v1/agencies/qltt", only(200, *STAFF)),
    Row(
        "PUT",
        "/v1/agencies/{slug}",
        "/v1/agencies/qltt",
        only(200, "admin"),
        SAME_AGENCY,
    ),
    # Cases: A's case referred to P, B's case referred to Q
    # Partners read their own referral only through /v1/partner: never the case routes (403).
    Row("GET", "/v1/cases", "/v1/cases", expect(200, qltt=403, police=403)),
    Row("GET", "/v1/cases/{case_id}", "/v1/cases/{case_p}", only(200, *STAFF, "acme", beta=404)),
    Row("GET", "/v1/cases/{case_id}", "/v1/cases/{case_b}", only(200, *STAFF, "beta", acme=404)),
    Row(
        "POST",
        "/v1/cases/{case_id}/transition",
        "/v1/cases/{case_a}/transition",
        only(200, *STAFF),
        {"to": "confirmed", "note": "xác nhận"},
        headers={"If-Match": '"{case_a_version}"'},
    ),
    Row(
        "POST",
        "/v1/cases/{case_id}/refer",
        "/v1/cases/{case_c}/refer",
        only(200, *STAFF),
        {"agencies": ["qltt"], "version": "{case_c_version}"},
    ),
    # Reports received: anyone may send; staff read and triage
    Row(
        "POST",
        "/v1/reports",
        "/v1/reports",
        expect(201, qltt=403, police=403, anon=201),
        {"url": "https://shopee.vn/sua-acme-gia-i.1.2", "note": "giá rẻ bất thường", "reporter_kind": "consumer"},
    ),
    Row("GET", "/v1/reports", "/v1/reports", only(200, *STAFF)),
    Row("GET", "/v1/reports/{report_id}", "/v1/reports/{report_a}", only(200, *STAFF)),
    Row(
        "POST",
        "/v1/reports/{report_id}/triage",
        "/v1/reports/{report_a}/triage",
        only(200, *STAFF),
        {"status": "dismissed", "note": "trùng"},
    ),
    # People and keys
    Row("POST", "/v1/auth/login", "/v1/auth/login", expect(401, anon=401), {"username": "x-nobody", "password": "y"}),
    Row("POST", "/v1/auth/logout", "/v1/auth/logout", expect(204)),
    Row("GET", "/v1/auth/me", "/v1/auth/me", expect(200)),
    Row("GET", "/v1/users", "/v1/users", only(200, "admin")),
    Row(
        "POST",
        "/v1/users",
        "/v1/users",
        only(201, "admin"),
        {"username": "lan.tt", "password": "mat-khau-dai-du", "role": "inspector"},
    ),
    Row("POST", "/v1/users/{username}/disable", "/v1/users/{username}/disable", only(200, "admin")),
    Row("POST", "/v1/users/{username}/enable", "/v1/users/{username}/enable", only(200, "admin")),
    Row("GET", "/v1/keys", "/v1/keys", only(200, "admin")),
    Row("POST", "/v1/keys", "/v1/keys", only(201, "admin"), {"name": "máy chủ", "role": "inspector"}),
    Row("DELETE", "/v1/keys/{key_id}", "/v1/keys/{spare_key_id}", only(200, "admin")),
    # Partner API: P's case is case_p, Q's is case_b; staff and enterprises are not partners (403)
    Row("GET", "/v1/partner/cases", "/v1/partner/cases", only(200, "qltt", "police")),
    Row("GET", "/v1/partner/cases/{case_id}", "/v1/partner/cases/{case_p}", only(200, "qltt", police=404)),
    Row("GET", "/v1/partner/cases/{case_id}", "/v1/partner/cases/{case_b}", only(200, "police", qltt=404)),
    Row(
        "GET",
        "/v1/partner/cases/{case_id}/evidence/{digest}",
        "/v1/partner/cases/{case_b}/evidence/{digest_b}",
        only(200, "police", qltt=404),
    ),
    Row(
        "POST",
        "/v1/partner/cases/{case_id}/acknowledge",
        "/v1/partner/cases/{case_p}/acknowledge",
        only(200, "qltt", police=404),
        {"version": "{case_p_version}"},
    ),
    Row(
        "POST",
        "/v1/partner/cases/{case_id}/actions",
        "/v1/partner/cases/{case_b}/actions",
        only(200, "police", qltt=404),
        {"kind": "removed", "document_number": "5/QĐ-XP", "version": "{case_b_version}"},
    ),
    # Webhooks: the admin's
    Row(
        "POST",
        "/v1/webhooks",
        "/v1/webhooks",
        only(201, "admin"),
        {"agency": "qltt", "url": "http://127.0.0.1:9/hook", "allowed_hosts": ["127.0.0.1"]},
    ),
    Row("GET", "/v1/webhooks", "/v1/webhooks", only(200, "admin")),
    Row("GET", "/v1/webhooks/{agency}", "/v1/webhooks/police", only(200, "admin")),
    Row("DELETE", "/v1/webhooks/{agency}", "/v1/webhooks/police", only(204, "admin")),
    Row("GET", "/v1/webhooks/{agency}/deliveries", "/v1/webhooks/police/deliveries", only(200, "admin")),
    # The Board: documents for everyone signed in; announcements to enterprises; figures for staff
    Row("GET", "/v1/board/documents", "/v1/board/documents", expect(200)),
    Row("GET", "/v1/board/documents/{doc_id}", "/v1/board/documents/qd-319-2023-ttg", expect(200)),
    Row(
        "PUT",
        "/v1/board/documents/{doc_id}",
        "/v1/board/documents/qd-319-2023-ttg",
        only(200, "admin"),
        {"number": "319/QĐ-TTg", "title": "Quyết định 319", "issuer": "Thủ tướng Chính phủ"},
    ),
    Row("GET", "/v1/board/announcements", "/v1/board/announcements", only(200, *STAFF, "acme", "beta")),
    Row(
        "POST",
        "/v1/board/announcements",
        "/v1/board/announcements",
        only(201, *STAFF),
        {"title": "Tập huấn", "body": "Ngày 15/4", "audience": ["all"]},
    ),
    Row(
        "GET",
        "/v1/board/announcements/{announcement_id}",
        "/v1/board/announcements/{announcement_a}",
        only(200, *STAFF, "acme", beta=404),
        note="addressed to A only",
    ),
    Row(
        "GET",
        "/v1/board/announcements/{announcement_id}/reads",
        "/v1/board/announcements/{announcement_a}/reads",
        only(200, *STAFF),
    ),
    Row("GET", "/v1/board/dashboard", "/v1/board/dashboard", only(200, *STAFF)),
    Row("GET", "/v1/board/reports/monthly", "/v1/board/reports/monthly?month=2026-01", only(200, *STAFF)),
    Row("GET", "/v1/board/reports/monthly.xlsx", "/v1/board/reports/monthly.xlsx?month=2026-01", only(200, *STAFF)),
    Row("GET", "/v1/cases/export.csv", "/v1/cases/export.csv", only(200, *STAFF)),
    Row("GET", "/v1/cases/export.xlsx", "/v1/cases/export.xlsx", only(200, *STAFF)),
]


# --- the world every row runs against ---------------------------------------------------------
#
# Built once into a template folder (SQLite store + evidence), then copied for every (row, role):
# each call runs on a fresh world, so a row that changes state cannot spoil the next role's call.


@dataclass(frozen=True)
class Template:
    folder: Path
    namespace: str
    keys: dict[str, str | None]
    ids: dict[str, str]


def _settings(folder: Path, namespace: str) -> Settings:
    return Settings(data_dir=folder / "data", store_url=f"sqlite:///{folder}/s.db", namespace=namespace)


def build_world(folder: Path, namespace: str) -> Template:
    from api.auth.users import create_user
    from kcnguard.evidence import open_evidence
    from kcnguard.store import hash_api_key, open_store

    settings = _settings(folder, namespace)
    store = open_store(settings.store_url, namespace=namespace)
    store.setup()
    keys: dict[str, str | None] = {
        "admin": create_key(store, "ops", "admin"),
        "inspector": create_key(store, "thanh tra", "inspector"),
        "acme": create_key(store, "Acme", "enterprise", owner_id="acme"),
        "beta": create_key(store, "Beta", "enterprise", owner_id="beta"),
        "qltt": create_key(store, "QLTT", "partner", owner_id="qltt"),
        "police": create_key(store, "Công an", "partner", owner_id="police"),
        "anon": None,
    }
    _register(store)
    seed_brand(store, "sua-acme", "acme", name="Sữa Acme")
    seed_brand(store, "keo-beta", "beta", name="Kẹo Beta")
    item_a = scored("sua-acme", "a1", 0.9, title="Sữa Acme hàng nhái")
    item_b = scored("keo-beta", "b1", 0.8, title="Kẹo Beta fake")
    seed_scored(store, [item_a, item_b])
    case_a = open_case(store, item_a)
    case_b = open_case(store, item_b)
    # The seeded listings name the SHA-256 of their id as their evidence: store exactly those bytes.
    evidence = open_evidence(settings)
    for item in (item_a, item_b):
        assert evidence.put(item.listing.listing_id.encode()) == item.listing.evidence_digest
    spare = create_key(store, "spare", "inspector")
    create_user(store, "user.one", "mat-khau-dai-du", "inspector")
    ids = {
        "brand_a": "sua-acme",
        "brand_b": "keo-beta",
        "listing_a": item_a.listing.key,
        "listing_b": item_b.listing.key,
        "scored_a": item_a.key,
        "scored_b": item_b.key,
        "digest_b": item_b.listing.evidence_digest,
        "case_a": case_a.case_id,
        "case_b": case_b.case_id,
        "username": "user.one",
        "spare_key_id": hash_api_key(spare),
    }
    _extend(store, ids)
    _extend_partners_and_board(store, ids)
    store.close()
    return Template(folder, namespace, keys, ids)


def _register(store: Store) -> None:
    from api.agencies.service import register_agency
    from api.enterprises.service import register_enterprise

    for enterprise_id in ("acme", "beta"):
        register_enterprise(store, _enterprise_json(enterprise_id))
    register_agency(store, {"slug": "qltt", "name": "Quản lý thị trường", "kind": "market_surveillance"})
    register_agency(store, {"slug": "police", "name": "Công an kinh tế", "kind": "police"})


def _extend(store: Store, ids: dict[str, str]) -> None:
    """A third listing of A's brand, confirmed and referred to P; B's case referred to Q."""
    extra = scored("sua-acme", "a2", 0.7, title="Sữa Acme giá sốc")
    seed_scored(store, [extra])
    case_p = open_case(store, extra)
    ids["case_p"] = case_p.case_id
    ids["scored_p"] = extra.key
    for case_id, agency in ((case_p.case_id, "qltt"), (ids["case_b"], "police")):
        current = store.get_case(case_id)
        assert current is not None
        referred = current.record.transition(CaseState.CONFIRMED, "inspector:seed").refer([agency], "inspector:seed")
        store.save_case(referred, current.version)
    # A confirmed case of A's, not yet referred.
    third = scored("sua-acme", "a3", 0.75, title="Sữa Acme loại 1")
    seed_scored(store, [third])
    current = store.get_case(open_case(store, third).case_id)
    assert current is not None
    ids["case_c"] = current.record.case_id
    ids["case_c_version"] = store.save_case(
        current.record.transition(CaseState.CONFIRMED, "inspector:seed"), current.version
    ).version
    opened = store.get_case(ids["case_a"])
    assert opened is not None
    ids["case_a_version"] = opened.version
    # Reports: one from A about its brand, one anonymous about B's.
    from api.auth.enums import ROLE_SCOPES, Role
    from api.auth.models import Principal
    from api.reports.models import ReportIn
    from api.reports.service import submit

    acme = Principal("Acme", Role.ENTERPRISE, ROLE_SCOPES[Role.ENTERPRISE], "acme")
    about_a = ReportIn(
        url="https://shopee.vn/sua-acme-i.9.9", note="Hàng giả Acme", brand_id="sua-acme", reporter_kind="enterprise"
    )
    about_b = ReportIn(
        url="https://tiki.vn/keo-beta-p123", note="Kẹo Beta nhái", brand_id="keo-beta", reporter_kind="consumer"
    )
    ids["report_a"] = submit(store, acme, about_a).report_id
    ids["report_b"] = submit(store, None, about_b).report_id
    store.refresh()


def _extend_partners_and_board(store: Store, ids: dict[str, str]) -> None:
    """Versions of the referred cases, Q's webhook, and an announcement addressed to A only."""
    from api.auth.enums import ROLE_SCOPES, Role
    from api.auth.models import Principal
    from api.board.announcements import publish
    from api.board.models import AnnouncementIn
    from api.webhooks.models import WebhookIn
    from api.webhooks.service import register

    for name in ("case_p", "case_b"):
        current = store.get_case(ids[name])
        assert current is not None
        ids[f"{name}_version"] = current.version
    hook = WebhookIn(agency="police", url="http://127.0.0.1:9/hook", allowed_hosts=["127.0.0.1"])
    register(store, Settings(), hook, "admin:seed")
    board = Principal("ops", Role.ADMIN, ROLE_SCOPES[Role.ADMIN])
    ids["announcement_a"] = publish(
        store, board, AnnouncementIn(title="Cho A", body="x", audience=["acme"])
    ).announcement_id


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return build_world(tmp_path_factory.mktemp("matrix-template"), "tmatrix" + uuid.uuid4().hex[:8])


def _open_world(template: Template, folder: Path) -> Iterator[World]:
    shutil.copytree(template.folder, folder)
    settings = _settings(folder, template.namespace)
    from kcnguard.store import open_store

    store = open_store(settings.store_url, namespace=template.namespace)
    try:
        with TestClient(create_app(settings, store)) as client:
            yield World(client, store, template.keys, dict(template.ids))
    finally:
        store.close()


@pytest.fixture
def fresh(template: Template, tmp_path: Path) -> Iterator[World]:
    """A world of this test's own: for rows that change something."""
    yield from _open_world(template, tmp_path / "world")


@pytest.fixture(scope="module")
def shared(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world for every GET row: reads change nothing, so they need no copy each."""
    yield from _open_world(template, tmp_path_factory.mktemp("matrix-shared") / "world")


# --- the tests ----------------------------------------------------------------------------------


def v1_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every route under /v1, from the router tree and the OpenAPI document."""
    found = app_routes(app)
    for path, ops in app.openapi().get("paths", {}).items():
        for method in ops:
            found.add((method.upper(), path))
    return {(m, p) for m, p in found if p.startswith("/v1") and m != "HEAD"}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every route in the router tree, the portal's (left out of the OpenAPI) too."""
    found: set[tuple[str, str]] = set()

    def walk(routes: list[Any]) -> None:
        for route in routes:
            contexts = getattr(route, "effective_route_contexts", None)
            if callable(contexts):
                for ctx in contexts():
                    for method in ctx.methods or ():
                        found.add((method, ctx.path))
            elif hasattr(route, "methods") and hasattr(route, "path"):
                for method in route.methods or ():
                    found.add((method, route.path))
            sub = getattr(getattr(route, "original_router", None), "routes", None)
            if sub and not callable(contexts):
                walk(sub)

    walk(app.routes)
    return found


def test_every_v1_route_has_rows(template: Template) -> None:
    routes = v1_routes(create_app(_settings(template.folder, template.namespace)))
    assert len(routes) > 10, "route discovery found almost nothing: the walk is broken"
    covered = {(r.method, r.route) for r in ROWS}
    missing = sorted(routes - covered)
    assert not missing, f"routes without rows in the role matrix (add Row(...) entries to ROWS): {missing}"
    stale = sorted(covered - routes)
    assert not stale, f"rows for routes that no longer exist: {stale}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.method} {r.path}{' (' + r.note + ')' if r.note else ''}")
def test_role_matrix(request: pytest.FixtureRequest, row: Row, role: str) -> None:
    world = request.getfixturevalue("shared" if row.method == "GET" else "fresh")
    status, text = _call(world, row, role)
    assert status == row.expected[role], (
        f"{role} {row.method} {row.path}: got {status}, expected {row.expected[role]}: {text[:300]}"
    )


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _call(world: World, row: Row, role: str) -> tuple[int, str]:
    key = world.keys[role]
    headers = {**_fill(row.headers, world.ids)}
    if key:
        headers["X-API-Key"] = key
    path = row.path.format(**world.ids)
    response = world.client.request(row.method, path, json=_fill(row.body, world.ids), headers=headers)
    return response.status_code, response.text


# --- leaks: lists, counts and search never carry another tenant's objects ------------------------


def _get(world: World, role: str, path: str) -> dict[str, Any]:
    key = world.keys[role]
    assert key is not None
    response = world.client.get(path.format(**world.ids), headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    return response.json()


def _dump(body: Any) -> str:
    import json

    return json.dumps(body, ensure_ascii=False)


def test_enterprise_a_never_sees_b_in_lists_counts_or_search(fresh: World) -> None:
    b_marks = ("keo-beta", "Kẹo Beta", "{listing_b}".format(**fresh.ids), fresh.ids["case_b"], fresh.ids["report_b"])
    for path in (
        "/v1/brands",
        "/v1/brands?owner_id=beta",
        "/v1/review/queue",
        "/v1/review/queue?q=Beta",
        "/v1/review/queue?brand_id=keo-beta",
        "/v1/review/queue?source=report",
        "/v1/cases",
        "/v1/cases?brand_id=keo-beta",
        "/v1/cases?agency=police",
        "/v1/enterprises",
        "/v1/enterprises?q=beta",
    ):
        body = _get(fresh, "acme", path)
        text = _dump(body)
        leaked = [m for m in b_marks if m in text]
        assert not leaked, f"{path} shows B's {leaked} to A"
        if "beta" in path.lower() or "police" in path:
            assert body["total"] == 0, f"{path}: A's count includes B's objects"
    queue = _get(fresh, "acme", "/v1/review/queue")
    assert {i["brand_id"] for i in queue["items"]} == {"sua-acme"}
    assert queue["total"] == len(queue["items"]) == 4  # A's report, then a1, a2, a3 by score
    assert [i["source"] for i in queue["items"]] == ["report", "crawl", "crawl", "crawl"]
    assert _get(fresh, "acme", "/v1/cases")["total"] == 3
    assert _get(fresh, "acme", "/v1/enterprises")["total"] == 1


def test_partners_never_read_the_case_routes(fresh: World) -> None:
    """The case routes carry every agency's referrals and actions and the inspectors' notes."""
    paths = ["/v1/cases", "/v1/cases?agency=qltt", "/v1/cases?state=referred"]
    paths += [f"/v1/cases/{fresh.ids[c]}" for c in ("case_p", "case_b", "case_a")]
    for partner in ("qltt", "police"):
        for path in paths:
            answer = fresh.client.get(path, headers={"X-API-Key": fresh.keys[partner] or ""})
            assert answer.status_code == 403, (partner, path, answer.text)
            assert "case_id" not in answer.text and "inspector:seed" not in answer.text, (partner, path)


def test_partner_q_never_sees_cases_referred_to_p(fresh: World) -> None:
    body = _get(fresh, "police", "/v1/partner/cases")
    assert fresh.ids["case_p"] not in _dump(body)
    assert [i["case_id"] for i in body["items"]] == [fresh.ids["case_b"]]
    assert [i["case_id"] for i in _get(fresh, "qltt", "/v1/partner/cases")["items"]] == [fresh.ids["case_p"]]


def test_staff_see_everything(fresh: World) -> None:
    assert _get(fresh, "inspector", "/v1/cases")["total"] == 4
    queue = _get(fresh, "inspector", "/v1/review/queue")
    assert queue["total"] == 2 + 4  # two reports, four flagged listings
