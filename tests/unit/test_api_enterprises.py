"""The enterprise registry and brand validation: tax codes, contacts, trademark numbers, registered owners."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.unit.test_api_support import Keys, auth, brand_body, enterprise_body

pytest_plugins = ["tests.unit.test_api_support"]


def test_register_and_read_an_enterprise(client: TestClient, keys: Keys) -> None:
    body = {**enterprise_body("gamma"), "tax_code": "0101234567-001"}
    body["contact"] = {"name": "Lê Văn C", "email": "c@gamma.example", "phone": "+84 912 345 678"}
    made = client.post("/v1/enterprises", json=body, headers=auth(keys.inspector))
    assert made.status_code == 201, made.text
    assert made.json()["contact"]["phone"] == "+84912345678"
    assert client.post("/v1/enterprises", json=body, headers=auth(keys.admin)).status_code == 409
    assert client.get("/v1/enterprises/gamma", headers=auth(keys.inspector)).json()["tax_code"] == "0101234567-001"
    # An enterprise sees only itself, and cannot register others.
    assert client.get("/v1/enterprises/gamma", headers=auth(keys.acme)).status_code == 404
    assert [e["enterprise_id"] for e in client.get("/v1/enterprises", headers=auth(keys.acme)).json()["items"]] == [
        "acme"
    ]
    assert client.post("/v1/enterprises", json=enterprise_body("delta"), headers=auth(keys.acme)).status_code == 403
    by_zone = client.get("/v1/enterprises?zone=KCN Quang Minh", headers=auth(keys.inspector)).json()
    assert by_zone["total"] == 3


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"tax_code": "12345"}, "tax_code", "10 digits"),
        ({"tax_code": "0101234567-1"}, "tax_code", "branch"),
        ({"contact": {"name": "A", "email": "not-an-email"}}, "contact.email", "email"),
        ({"contact": {"name": "A", "phone": "12-34"}}, "contact.phone", "phone"),
        ({"enterprise_id": "Công ty!"}, "enterprise_id", "lowercase"),
    ],
)
def test_bad_enterprise_fields_are_named(client: TestClient, keys: Keys, change: dict, field: str, words: str) -> None:
    response = client.post("/v1/enterprises", json={**enterprise_body("gamma"), **change}, headers=auth(keys.admin))
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == field and words in error["message_en"]


def test_a_brand_must_name_a_registered_enterprise(client: TestClient, keys: Keys) -> None:
    response = client.post("/v1/brands", json=brand_body("sua-x", "khong-co"), headers=auth(keys.inspector))
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("unknown-enterprise") and "POST /v1/enterprises" in problem["detail_en"]
    assert (
        client.post("/v1/brands", json=brand_body("sua-acme", "acme"), headers=auth(keys.inspector)).status_code == 201
    )


@pytest.mark.parametrize(
    ("trademark", "ok"),
    [
        ({"number": "4-0123456-000"}, True),
        ({"number": "4-2023-12345"}, True),  # an application not yet granted
        ({"number": "WO 1234567", "office": "WIPO"}, True),  # other offices: their own formats
        ({"number": "123456"}, False),
        ({"number": "4-0123456-000", "expires_on": "2090-01-01"}, False),
    ],
)
def test_trademark_numbers_follow_the_ip_office_format(
    client: TestClient, keys: Keys, trademark: dict, ok: bool
) -> None:
    body = brand_body(trademarks=[{"nice_classes": [29], **trademark}])
    response = client.post("/v1/brands", json=body, headers={**auth(keys.inspector), "Accept-Language": "en"})
    assert response.status_code == (201 if ok else 422), response.text
    if not ok:
        assert "trademarks.0" in response.json()["detail"]


def test_demo_enterprises_own_every_demo_brand() -> None:
    from api.enterprises.models import EnterpriseIn
    from demo.catalogue import load_brands, load_enterprises

    registered = {EnterpriseIn.model_validate(e).enterprise_id for e in load_enterprises()}
    assert {b.owner_id for b in load_brands()} <= registered


def test_a_negative_keyword_may_not_be_the_brands_own_name(client: TestClient, keys: Keys) -> None:
    body = brand_body(name="Sữa Acme", aliases=["SuaAcme"], negative_keywords=["vỏ hộp", "suaacme"])
    response = client.post("/v1/brands", json=body, headers=auth(keys.inspector))
    assert response.status_code == 422
    assert "negative_keywords" in response.json()["detail_en"] and "suaacme" in response.json()["detail_en"]


def test_loading_brands_from_a_file_needs_their_enterprises(isolated_settings, tmp_path, capsys) -> None:
    import json

    from launcher.cli import main

    brands = tmp_path / "brands.json"
    body = brand_body("sua-x", "chua-dang-ky")
    brands.write_text(json.dumps(body), encoding="utf-8")
    assert main(["brands", "load", "--file", str(brands)]) == 2
    assert "chua-dang-ky" in capsys.readouterr().err
    assert main(["brands", "load", "--demo"]) == 0  # registers the demo enterprises first
