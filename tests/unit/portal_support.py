"""Helpers for the portal's TestClient tests: sign in through the real forms, read CSRF tokens from pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.agencies.service import register_agency
from api.auth.sessions import create_user
from kcnguard.store import Store

CSRF = re.compile(r'name="csrf" value="([^"]*)"')
PASSWORD = "mat-khau-rat-dai-1"


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in_with_key(client: TestClient, key: str, lang: str = "vi") -> str:
    """Sign in with an API key through the login form; returns where the portal sent us."""
    form = client.get("/portal/login", params={"lang": lang})
    response = client.post(
        "/portal/login", data={"key": key, "lang": lang, "csrf": csrf_of(form.text)}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return response.headers["location"]


def sign_in(client: TestClient, username: str, password: str = PASSWORD, lang: str = "vi") -> str:
    form = client.get("/portal/login", params={"lang": lang})
    response = client.post(
        "/portal/login",
        data={"username": username, "password": password, "lang": lang, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response.headers["location"]


def seed_people(store: Store) -> None:
    """One person of each kind, and two agencies so cross-partner attempts can be made."""
    register_agency(store, {"slug": "qltt", "name": "Cục QLTT tỉnh", "kind": "market_surveillance"})
    register_agency(store, {"slug": "congan", "name": "Công an kinh tế", "kind": "police"})
    create_user(store, "lan.tt", PASSWORD, "inspector", display_name="Trần Thị Lan")
    create_user(store, "acme.user", PASSWORD, "enterprise", owner_id="acme")
    create_user(store, "beta.user", PASSWORD, "enterprise", owner_id="beta")
    create_user(store, "qltt.user", PASSWORD, "partner", owner_id="qltt")
    create_user(store, "congan.user", PASSWORD, "partner", owner_id="congan")
