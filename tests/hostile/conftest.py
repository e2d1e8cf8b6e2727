"""The world every hostile suite attacks: the role matrix's seeded store (two enterprises, two partner
agencies, listings, cases, reports, an announcement), one app on it, an API key of every role, and
portal sessions signed in through the real login form.

Built once per session; the suites only read, or write things no other suite looks at.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from kcnguard.store import Store, open_store
from tests.unit.portal_support import csrf_of
from tests.unit.test_api_matrix import ROLES, Template, _settings, build_world
from tests.unit.test_api_support import scored, seed_scored

__all__ = ["ROLES", "Hostile", "portal_client", "signed_browser", "world_copy"]


@dataclass
class Hostile:
    client: TestClient  # server exceptions come back as 500 answers, never raised into the test
    store: Store
    keys: dict[str, str | None]
    ids: dict[str, str]
    folder: Path
    namespace: str

    def headers(self, role: str) -> dict[str, str]:
        key = self.keys[role]
        return {"X-API-Key": key} if key else {}


@pytest.fixture(scope="session")
def hostile_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    template = build_world(tmp_path_factory.mktemp("hostile-template"), "thostile" + uuid.uuid4().hex[:8])
    store = open_store(_settings(template.folder, template.namespace).store_url, namespace=template.namespace)
    try:
        # B's listing also scored, below the threshold, against A's brand: still B's, never A's to read.
        seed_scored(store, [scored("sua-acme", "b1", 0.1, flagged=False)], with_listings=False)
    finally:
        store.close()
    return template


@pytest.fixture(scope="session")
def hostile(hostile_template: Template) -> Iterator[Hostile]:
    settings = _settings(hostile_template.folder, hostile_template.namespace)
    store = open_store(settings.store_url, namespace=hostile_template.namespace)
    try:
        with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
            yield Hostile(
                client,
                store,
                hostile_template.keys,
                dict(hostile_template.ids),
                hostile_template.folder,
                hostile_template.namespace,
            )
    finally:
        store.close()


@contextmanager
def world_copy(template: Template, folder: Path) -> Iterator[tuple[TestClient, Store]]:
    """The app on a copy of the world of its own, for a suite that writes (the fuzzer, the XSS corpus)."""
    shutil.copytree(template.folder, folder)
    config = _settings(folder, template.namespace)
    store = open_store(config.store_url, namespace=template.namespace)
    try:
        with TestClient(create_app(config, store), raise_server_exceptions=False) as client:
            yield client, store
    finally:
        store.close()


def portal_client(world: Hostile, role: str) -> TestClient:
    """A second browser on the same app, signed in to the portal with this role's key."""
    return signed_browser(world.client, world.keys[role] or "")


def signed_browser(app_client: TestClient, key: str) -> TestClient:
    """A browser of its own on this client's app, signed in to the portal with the key."""
    client = TestClient(app_client.app, raise_server_exceptions=False)
    form = client.get("/portal/login")
    answer = client.post(
        "/portal/login", data={"key": key, "lang": "vi", "csrf": csrf_of(form.text)}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return client
