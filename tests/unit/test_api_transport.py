"""Behind a TLS-terminating proxy: Secure cookies and HSTS only when a trusted proxy says https; no-store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from uvicorn.config import Config
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.commands import uvicorn_options
from api.main import create_app
from kcnguard.settings import Settings
from kcnguard.store import Store
from tests.unit.test_api_support import Keys, auth

pytest_plugins = ["tests.unit.test_api_support"]

PROXY = "10.0.0.5"


@pytest.fixture
def served(tmp_path: Path, namespace: str, store: Store, keys: Keys) -> Iterator[TestClient]:
    """The app as `kcnguard api` serves it: uvicorn's own config (and proxy middleware) from our options."""
    settings = Settings(
        data_dir=tmp_path / "data", store_url=f"sqlite:///{tmp_path}/s.db", namespace=namespace, trusted_proxies=PROXY
    )
    options = uvicorn_options(settings)
    config = Config(create_app(settings, store), **options)
    assert config.proxy_headers
    app = ProxyHeadersMiddleware(config.app, trusted_hosts=config.forwarded_allow_ips)
    with TestClient(app, client=(PROXY, 50000), base_url="http://kcn.example") as client:
        yield client


def _login_cookie(response) -> str:  # type: ignore[no-untyped-def]
    return next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "login_csrf" in v)


def test_a_trusted_proxy_saying_https_gets_secure_cookies_and_hsts(served: TestClient) -> None:
    page = served.get("/portal/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.4"})
    assert page.status_code == 200
    assert "secure" in _login_cookie(page).lower()
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")


def test_plain_http_gets_neither(served: TestClient) -> None:
    page = served.get("/portal/login")
    assert "secure" not in _login_cookie(page).lower()
    assert "Strict-Transport-Security" not in page.headers


def test_x_forwarded_proto_from_an_untrusted_peer_is_ignored(served: TestClient) -> None:
    with TestClient(served.app, client=("203.0.113.66", 50000), base_url="http://kcn.example") as direct:
        page = direct.get("/portal/login", headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in _login_cookie(page).lower()
    assert "Strict-Transport-Security" not in page.headers


def test_without_trusted_proxies_uvicorn_believes_no_forwarded_headers(tmp_path: Path) -> None:
    options = uvicorn_options(Settings(data_dir=tmp_path))
    assert options["proxy_headers"] is False and options["forwarded_allow_ips"] == []
    many = uvicorn_options(Settings(data_dir=tmp_path, trusted_proxies="10.0.0.5, 172.16.0.0/12"))
    assert many["proxy_headers"] is True and many["forwarded_allow_ips"] == ["10.0.0.5", "172.16.0.0/12"]


def test_answers_carrying_tokens_keys_or_secrets_are_not_stored(client: TestClient, keys: Keys) -> None:
    made = client.post("/v1/keys", json={"name": "m", "role": "inspector"}, headers=auth(keys.admin))
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    assert client.get("/v1/auth/me", headers=auth(keys.admin)).headers["Cache-Control"] == "no-store"
    refused = client.post("/v1/auth/login", json={"username": "ai.do", "password": "không đúng đâu"})
    assert refused.headers["Cache-Control"] == "no-store"
