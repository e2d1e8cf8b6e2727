"""API keys: how they are made, how they are sent, and the problem documents for bad ones."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.keys import create_key
from kcnguard.store import Store, hash_api_key
from tests.unit.test_api_support import Keys, auth, brand_body

# The shared fixtures (store, settings, keys, client) live in the support module.
pytest_plugins = ["tests.unit.test_api_support"]


def test_no_key_is_401_problem_in_vietnamese_by_default(client: TestClient) -> None:
    response = client.get("/v1/brands")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["type"] == "urn:kcnguard:problem:unauthenticated"
    assert body["title"] == "Unauthorized"
    assert body["status"] == 401
    assert body["detail"] == body["detail_vi"]
    assert "Thiếu khóa API" in body["detail"]
    assert "No API key" in body["detail_en"]


def test_wrong_key_is_401_and_english_on_request(client: TestClient) -> None:
    response = client.get("/v1/brands", headers={**auth("kcn_not-a-real-key"), "Accept-Language": "en-GB,en;q=0.9"})
    assert response.status_code == 401
    body = response.json()
    assert body["type"] == "urn:kcnguard:problem:invalid-key"
    assert body["detail"] == body["detail_en"]
    assert "not valid" in body["detail"]
    assert response.headers["content-language"] == "en"


def test_bearer_header_and_x_api_key_both_work(client: TestClient, keys: Keys) -> None:
    assert client.get("/v1/brands", headers={"Authorization": f"Bearer {keys.inspector}"}).status_code == 200
    assert client.get("/v1/brands", headers=auth(keys.inspector)).status_code == 200
    assert client.get("/v1/brands", headers={"Authorization": f"Basic {keys.inspector}"}).status_code == 401


def test_overlong_key_is_refused_without_a_lookup(client: TestClient) -> None:
    assert client.get("/v1/brands", headers=auth("k" * 5000)).status_code == 401


def test_partner_key_lacks_brand_scope(client: TestClient, keys: Keys) -> None:
    response = client.get("/v1/brands", headers=auth(keys.partner))
    assert response.status_code == 403
    assert response.json()["required_scope"] == "brands:read"


def test_create_key_stores_only_the_hash(store: Store) -> None:
    raw = create_key(store, "  thanh tra  ", "inspector")
    assert raw.startswith("kcn_") and len(raw) > 40
    found = store.find_api_key(raw)
    assert found is not None
    assert found.key_hash == hash_api_key(raw) != raw
    assert (found.name, found.role, found.owner_id) == ("thanh tra", "inspector", None)
    assert create_key(store, "x", "inspector") != raw


@pytest.mark.parametrize(
    ("name", "role", "owner_id", "message"),
    [
        ("x", "superuser", None, "unknown role"),
        ("x", "enterprise", None, "needs the owner_id"),
        ("", "admin", None, "needs a name"),
        ("x", "enterprise", "Bad Owner", "not a valid identifier"),
    ],
)
def test_create_key_refuses_bad_input(store: Store, name: str, role: str, owner_id: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_key(store, name, role, owner_id=owner_id)


def test_key_scopes_narrow_the_role(client: TestClient, store: Store) -> None:
    read_only = create_key(store, "read only", "inspector", scopes=["brands:read"])
    assert client.get("/v1/brands", headers=auth(read_only)).status_code == 200
    assert client.post("/v1/brands", json=brand_body(), headers=auth(read_only)).status_code == 403
