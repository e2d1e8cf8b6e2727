"""Registering, listing and reading brands, with validation and per-owner visibility."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from api.limits import MAX_BODY_BYTES
from tests.unit.test_api_support import Keys, auth, brand_body

# The shared fixtures (store, settings, keys, client) live in the support module.
pytest_plugins = ["tests.unit.test_api_support"]


def test_inspector_creates_lists_and_reads_a_brand(client: TestClient, keys: Keys) -> None:
    created = client.post("/v1/brands", json=brand_body(aliases=["SuaAcme", "suaacme"]), headers=auth(keys.inspector))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["brand_id"] == "sua-acme"
    assert body["aliases"] == ["SuaAcme"]  # Brand's own dedupe ran
    assert body["created_at"] == body["updated_at"]

    listed = client.get("/v1/brands", headers=auth(keys.inspector)).json()
    assert listed["total"] == 1 and [b["brand_id"] for b in listed["items"]] == ["sua-acme"]
    got = client.get("/v1/brands/sua-acme", headers=auth(keys.admin))
    assert got.status_code == 200 and got.json()["name"] == "Nhãn sua-acme"


def test_duplicate_brand_is_409(client: TestClient, keys: Keys) -> None:
    assert client.post("/v1/brands", json=brand_body(), headers=auth(keys.inspector)).status_code == 201
    again = client.post("/v1/brands", json=brand_body(name="khác"), headers=auth(keys.inspector))
    assert again.status_code == 409
    assert again.json()["type"] == "urn:kcnguard:problem:brand-exists"
    assert client.get("/v1/brands/sua-acme", headers=auth(keys.inspector)).json()["name"] == "Nhãn sua-acme"


def test_put_replaces_but_keeps_created_at(client: TestClient, keys: Keys) -> None:
    first = client.post("/v1/brands", json=brand_body(), headers=auth(keys.acme)).json()
    replaced = client.put("/v1/brands/sua-acme", json=brand_body(name="Tên mới"), headers=auth(keys.acme))
    assert replaced.status_code == 200
    assert replaced.json()["name"] == "Tên mới"
    assert replaced.json()["created_at"] == first["created_at"]
    mismatch = client.put("/v1/brands/sua-acme", json=brand_body(brand_id="other"), headers=auth(keys.acme))
    assert mismatch.status_code == 422
    stolen = client.put("/v1/brands/sua-acme", json=brand_body(owner_id="beta"), headers=auth(keys.acme))
    assert stolen.status_code == 403


def test_bad_nice_class_is_a_clear_422(client: TestClient, keys: Keys) -> None:
    body = brand_body(trademarks=[{"number": "4-1", "nice_classes": [3, 46]}])
    response = client.post("/v1/brands", json=body, headers=auth(keys.inspector))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    (error,) = problem["errors"]
    assert error["field"] == "trademarks.0.nice_classes"
    assert "1 to 45" in error["message_en"] and "[46]" in error["message_en"]
    assert "trademarks.0.nice_classes" in problem["detail"]
    assert problem["detail"].startswith("Dữ liệu không hợp lệ")


def test_bad_slug_says_what_a_good_one_looks_like(client: TestClient, keys: Keys) -> None:
    response = client.post(
        "/v1/brands", json=brand_body(brand_id="Sữa Acme!"), headers={**auth(keys.inspector), "Accept-Language": "en"}
    )
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "brand_id"
    assert "lowercase letters" in error["message_en"]
    assert "chữ thường" in error["message_vi"]
    assert response.json()["detail"].startswith("Invalid input: brand_id")


def test_missing_and_unknown_fields_are_named(client: TestClient, keys: Keys) -> None:
    body = brand_body(surprise=1)
    del body["owner_name"]
    response = client.post("/v1/brands", json=body, headers=auth(keys.inspector))
    assert response.status_code == 422
    fields = {e["field"]: e["type"] for e in response.json()["errors"]}
    assert fields == {"owner_name": "missing", "surprise": "extra_forbidden"}


def test_limits_are_explained_in_vietnamese(client: TestClient, keys: Keys) -> None:
    body = brand_body(products=[{"name": "Sữa", "reference_price_vnd": 0}], name="x" * 201)
    errors = client.post("/v1/brands", json=body, headers=auth(keys.inspector)).json()["errors"]
    by_field = {e["field"]: e["message_vi"] for e in errors}
    assert by_field == {"name": "quá dài (tối đa 200 ký tự)", "products.0.reference_price_vnd": "phải lớn hơn 0"}


def test_broken_json_is_422(client: TestClient, keys: Keys) -> None:
    response = client.post(
        "/v1/brands", content=b'{"brand_id": ', headers={**auth(keys.inspector), "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "json_invalid"


def test_huge_body_is_413_whether_declared_or_streamed(client: TestClient, keys: Keys) -> None:
    huge = brand_body(aliases=["x" * 900 for _ in range(1500)])
    raw = json.dumps(huge).encode()
    assert len(raw) > MAX_BODY_BYTES
    declared = client.post(
        "/v1/brands", content=raw, headers={**auth(keys.inspector), "Content-Type": "application/json"}
    )
    assert declared.status_code == 413
    assert declared.json()["type"] == "urn:kcnguard:problem:body-too-large"
    assert "1.000.000" in declared.json()["detail"]

    def chunks():  # no Content-Length: the limit must hold while the body streams
        for start in range(0, len(raw), 64_000):
            yield raw[start : start + 64_000]

    streamed = client.post(
        "/v1/brands", content=chunks(), headers={**auth(keys.inspector), "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert client.get("/v1/brands/sua-acme", headers=auth(keys.inspector)).status_code == 404


def test_page_size_is_capped(client: TestClient, keys: Keys) -> None:
    response = client.get("/v1/brands?limit=201", headers=auth(keys.inspector))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.limit"


def test_enterprise_manages_only_its_own_brands(client: TestClient, keys: Keys) -> None:
    assert client.post("/v1/brands", json=brand_body("sua-acme", "acme"), headers=auth(keys.acme)).status_code == 201
    assert client.post("/v1/brands", json=brand_body("keo-beta", "beta"), headers=auth(keys.beta)).status_code == 201

    for_other = client.post("/v1/brands", json=brand_body("gia-mao", "beta"), headers=auth(keys.acme))
    assert for_other.status_code == 403
    assert for_other.json()["type"] == "urn:kcnguard:problem:not-your-owner"

    mine = client.get("/v1/brands", headers=auth(keys.acme)).json()
    assert [b["brand_id"] for b in mine["items"]] == ["sua-acme"] and mine["total"] == 1
    assert client.get("/v1/brands?owner_id=beta", headers=auth(keys.acme)).json()["total"] == 0

    # Another owner's brand is 404, exactly like a brand that does not exist: ids do not leak.
    theirs = client.get("/v1/brands/keo-beta", headers=auth(keys.acme))
    missing = client.get("/v1/brands/khong-co", headers=auth(keys.acme))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["type"] == missing.json()["type"] == "urn:kcnguard:problem:brand-not-found"

    everyone = client.get("/v1/brands", headers=auth(keys.inspector)).json()
    assert [b["brand_id"] for b in everyone["items"]] == ["keo-beta", "sua-acme"]


def test_openapi_carries_the_brand_example(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    brand_in = schema["components"]["schemas"]["BrandIn"]
    assert brand_in["examples"][0]["brand_id"] == "sua-tuoi-kcn"
    assert "/v1/brands/{brand_id}/flagged" in schema["paths"]


def test_a_trademark_number_belongs_to_one_owner(client: TestClient, keys: Keys) -> None:
    mine = brand_body("sua-acme", "acme", trademarks=[{"number": "4-0312345-000"}])
    assert client.post("/v1/brands", json=mine, headers=auth(keys.acme)).status_code == 201
    # B claims A's number, spelled with other case and spacing and the office's other name.
    theirs = brand_body("sua-gia", "beta", trademarks=[{"number": " 4-0312345-000 ", "office": "NOIP"}])
    refused = client.post("/v1/brands", json=theirs, headers=auth(keys.beta))
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["type"].endswith("trademark-taken") and "4-0312345-000" in problem["detail"]
    assert "acme" not in refused.text.lower() and "sua-acme" not in refused.text
    # Nor through an edit of a brand of its own, nor by the Board on B's behalf.
    assert client.post("/v1/brands", json=brand_body("keo-beta", "beta"), headers=auth(keys.beta)).status_code == 201
    edited = brand_body("keo-beta", "beta", trademarks=[{"number": "4-0312345-000"}])
    assert client.put("/v1/brands/keo-beta", json=edited, headers=auth(keys.beta)).status_code == 409
    assert client.post("/v1/brands", json=theirs, headers=auth(keys.admin)).status_code == 409
    # The owner itself may hold one number on several brands.
    again = brand_body("sua-acme-2", "acme", trademarks=[{"number": "4-0312345-000"}])
    assert client.post("/v1/brands", json=again, headers=auth(keys.acme)).status_code == 201


def test_an_enterprises_brand_is_watched_only_once_its_rights_are_verified(client: TestClient, keys: Keys) -> None:
    from classifier.service import BrandRegistry
    from crawler.scheduler import all_brands

    store = client.app.state.keeper.store  # type: ignore[attr-defined]
    created = client.post("/v1/brands", json=brand_body("sua-acme", "acme"), headers=auth(keys.acme))
    assert created.json()["rights_status"] == "pending"
    by_board = client.post("/v1/brands", json=brand_body("keo-beta", "beta"), headers=auth(keys.inspector))
    assert by_board.json()["rights_status"] == "verified"
    watched = lambda: sorted(b.brand_id for b in all_brands(store))  # noqa: E731
    scored = lambda: sorted(b.brand_id for b in BrandRegistry(store, ttl=0).brands())  # noqa: E731
    assert watched() == scored() == ["keo-beta"]
    # The enterprise can neither set the status itself nor verify its own claim.
    forged = client.post(
        "/v1/brands", json=brand_body("x-acme", "acme", rights_status="verified"), headers=auth(keys.acme)
    )
    assert forged.status_code == 422
    verdict = {"outcome": "verified", "note": "Đã đối chiếu văn bằng 4-0312345-000 trên IP Lib"}
    assert client.post("/v1/brands/sua-acme/verify", json=verdict, headers=auth(keys.acme)).status_code == 403
    assert (
        client.post("/v1/brands/sua-acme/verify", json={"outcome": "verified"}, headers=auth(keys.admin)).status_code
        == 422
    )
    verified = client.post("/v1/brands/sua-acme/verify", json=verdict, headers=auth(keys.inspector))
    assert verified.status_code == 200 and verified.json()["rights_status"] == "verified"
    assert watched() == scored() == ["keo-beta", "sua-acme"]
    entries = client.get("/v1/audit", params={"object": "brand:sua-acme"}, headers=auth(keys.admin)).json()["items"]
    assert [e["action"] for e in entries] == ["brand.rights_verified", "brand.create"]  # newest first
    # A changed claim (another name) goes back to be checked; a change elsewhere keeps it watched.
    same = brand_body("sua-acme", "acme", crawl_interval_minutes=60)
    assert client.put("/v1/brands/sua-acme", json=same, headers=auth(keys.acme)).json()["rights_status"] == "verified"
    renamed = brand_body("sua-acme", "acme", name="Kẹo Beta")
    assert client.put("/v1/brands/sua-acme", json=renamed, headers=auth(keys.acme)).json()["rights_status"] == "pending"
    assert watched() == ["keo-beta"]


def test_rejecting_a_claim_frees_its_trademark_numbers(client: TestClient, keys: Keys) -> None:
    squat = brand_body("keo-beta-gia", "acme", trademarks=[{"number": "4-0999999-000"}])
    assert client.post("/v1/brands", json=squat, headers=auth(keys.acme)).status_code == 201
    real = brand_body("keo-beta", "beta", trademarks=[{"number": "4-0999999-000"}])
    assert client.post("/v1/brands", json=real, headers=auth(keys.beta)).status_code == 409
    verdict = {"outcome": "rejected", "note": "Văn bằng thuộc Công ty Beta"}
    rejected = client.post("/v1/brands/keo-beta-gia/verify", json=verdict, headers=auth(keys.inspector))
    assert rejected.json()["rights_status"] == "rejected"
    assert client.post("/v1/brands", json=real, headers=auth(keys.beta)).status_code == 201
    # Once B's claim is verified, the rejected squatter cannot be verified onto the same number.
    ok = {"outcome": "verified", "note": "Đã đối chiếu"}
    assert client.post("/v1/brands/keo-beta/verify", json=ok, headers=auth(keys.inspector)).status_code == 200
    assert client.post("/v1/brands/keo-beta-gia/verify", json=ok, headers=auth(keys.inspector)).status_code == 409
