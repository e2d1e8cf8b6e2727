"""Probes, start-up with a store that is down, the admin key from settings, and the root redirect."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.main import create_app
from kcnguard.errors import StoreUnavailable
from kcnguard.settings import Settings
from kcnguard.store import Store
from tests.unit.test_api_support import auth

# The shared fixtures (store, settings, keys, client) live in the support module.
pytest_plugins = ["tests.unit.test_api_support"]

BOOT_KEY = "kcn_boot-8Qe2Lr7Tz4Wm1Nc6Vb3Xs"


def test_healthz_needs_no_key_and_reports_the_store(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "store": "reachable", "ready": True, "error": None}
    assert client.get("/readyz").status_code == 200


def test_root_redirects_to_the_portal(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/portal/"


def test_admin_key_from_settings_is_registered(tmp_path: Path, namespace: str) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", store_url=f"sqlite:///{tmp_path}/s.db", namespace=namespace, admin_key=BOOT_KEY
    )
    with TestClient(create_app(settings)) as test_client:
        assert test_client.get("/v1/brands", headers=auth(BOOT_KEY)).status_code == 200
        assert test_client.get("/v1/brands", headers=auth("kcn_other")).status_code == 401


def test_a_revoked_admin_key_stays_revoked_after_a_restart(tmp_path: Path, namespace: str) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", store_url=f"sqlite:///{tmp_path}/s.db", namespace=namespace, admin_key=BOOT_KEY
    )
    with TestClient(create_app(settings)) as test_client:
        keys = test_client.get("/v1/keys", headers=auth(BOOT_KEY)).json()["items"]
        (boot,) = [k for k in keys if k["name"] == "admin (KCNGUARD_ADMIN_KEY)"]
        # The last way in cannot be revoked...
        last = test_client.delete(f"/v1/keys/{boot['key_id']}", headers=auth(BOOT_KEY))
        assert last.status_code == 409 and last.json()["type"].endswith("last-admin")
        # ...once another admin key exists it can.
        other = test_client.post("/v1/keys", json={"name": "ops 2", "role": "admin"}, headers=auth(BOOT_KEY)).json()
        revoked = test_client.delete(f"/v1/keys/{boot['key_id']}", headers=auth(other["key"]))
        assert revoked.status_code == 200, revoked.text
        assert test_client.get("/v1/brands", headers=auth(BOOT_KEY)).status_code == 401
    with TestClient(create_app(settings)) as test_client:
        assert test_client.get("/v1/brands", headers=auth(BOOT_KEY)).status_code == 401


class _DownThenUp(Store):
    """A store whose set-up fails until `up` is set: the API must wait for it, not crash."""

    def __init__(self, real: Store) -> None:
        super().__init__(real.docs)
        self.up = False
        self.attempts = 0

    def setup(self) -> None:
        self.attempts += 1
        if not self.up:
            raise StoreUnavailable("connection refused")
        super().setup()

    def ping(self) -> None:
        if not self.up:
            raise StoreUnavailable("connection refused")
        super().ping()


def test_api_starts_while_the_store_is_down_and_becomes_ready(settings: Settings, store: Store) -> None:
    flaky = _DownThenUp(store)
    app = create_app(settings, flaky)
    with TestClient(app) as test_client:
        health = test_client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["store"] == "unreachable"
        assert test_client.get("/readyz").status_code == 503
        refused = test_client.get("/v1/brands", headers=auth("anything"))
        assert refused.status_code == 503
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.headers["retry-after"]

        flaky.up = True
        assert app.state.keeper.ready.wait(10), "the keeper never retried set-up"
        assert test_client.get("/readyz").status_code == 200
    assert flaky.attempts >= 2
