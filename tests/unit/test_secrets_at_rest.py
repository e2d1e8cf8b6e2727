"""Secrets: sealed webhook secrets, strong admin and secret keys, the last admin kept, admin actions audited."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.auth.users import create_user
from api.commands import cmd_api
from api.main import create_app
from api.webhooks import service
from api.webhooks.models import WebhookIn
from kcnguard.cases import audit
from kcnguard.secret_keys import WeakSecret, secret_key, weakness
from kcnguard.settings import Settings
from kcnguard.store import Store
from kcnguard.webhooks.collections import WEBHOOKS
from kcnguard.webhooks.sealing import SealBroken, Sealer, is_sealed
from kcnguard.webhooks.store import Webhooks
from tests.unit.test_api_partners import _agencies
from tests.unit.test_api_support import Keys, auth

pytest_plugins = ["tests.unit.test_api_support"]

STRONG = "kcn_Zq8Lw2Rt6Yp1Hs5Nd3Vx7Bm"


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_allowed_hosts": "127.0.0.1", "webhook_allow_private": True})


def test_webhook_secrets_are_sealed_at_rest_and_open_for_signing(
    store: Store, keys: Keys, hook_settings: Settings
) -> None:
    _agencies(store)
    made = service.register(store, hook_settings, WebhookIn(agency="qltt", url="http://127.0.0.1:9/x"), "admin:t")
    stored = store.docs.get(WEBHOOKS.name, "qltt")
    assert stored is not None and is_sealed(stored.body["secret"]) and made.secret not in str(stored.body)
    assert Webhooks(store, Sealer(secret_key(hook_settings))).get("qltt").secret == made.secret  # type: ignore[union-attr]
    # Another secret key opens nothing, and a sealed secret copied to another agency does not open there.
    with pytest.raises(SealBroken):
        Webhooks(store, Sealer("another-key-entirely-0123456789")).get("qltt")
    with pytest.raises(SealBroken):
        Sealer(secret_key(hook_settings)).open(stored.body["secret"], "police")


def test_a_plain_text_secret_still_signs_and_is_sealed_when_next_written(
    store: Store, keys: Keys, hook_settings: Settings
) -> None:
    _agencies(store)
    service.register(store, hook_settings, WebhookIn(agency="qltt", url="http://127.0.0.1:9/x"), "admin:t")
    body = store.docs.get(WEBHOOKS.name, "qltt").body  # type: ignore[union-attr]
    store.docs.put(WEBHOOKS.name, "qltt", {**body, "secret": "whsec_from_before_sealing"})
    hooks = Webhooks(store, Sealer(secret_key(hook_settings)))
    old = hooks.get("qltt")
    assert old is not None and old.secret == "whsec_from_before_sealing"
    hooks.put(old)
    assert is_sealed(store.docs.get(WEBHOOKS.name, "qltt").body["secret"])  # type: ignore[union-attr]
    assert hooks.get("qltt").secret == "whsec_from_before_sealing"  # type: ignore[union-attr]


def test_webhook_changes_are_audited_without_the_secret(
    client: TestClient, store: Store, keys: Keys, hook_settings: Settings
) -> None:
    _agencies(store)
    client.app.state.settings = hook_settings
    body = {"agency": "qltt", "url": "http://127.0.0.1:9/x"}
    first = client.post("/v1/webhooks", json=body, headers=auth(keys.admin)).json()
    second = client.post("/v1/webhooks", json=body, headers=auth(keys.admin)).json()
    assert client.delete("/v1/webhooks/qltt", headers=auth(keys.admin)).status_code == 204
    entries, _ = audit.list_entries(store, 10, 0, obj="webhook:qltt")
    assert [e.action for e in reversed(entries)] == ["webhook.register", "webhook.rotate", "webhook.delete"]
    text = " ".join(e.model_dump_json() for e in entries)
    assert first["secret"] not in text and second["secret"] not in text and "whsec_" not in text
    assert entries[0].before is not None and entries[0].before["url"] == body["url"]


@pytest.mark.parametrize("key", ["k", "kcn_boot", "a" * 40, "abcdef" * 6, "kcn_" + "xy" * 12])
def test_weak_admin_keys_are_refused_at_start(tmp_path: Path, key: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert weakness(key)
    settings = Settings(data_dir=tmp_path / "data", store_url=f"sqlite:///{tmp_path}/s.db", admin_key=key)
    with pytest.raises(WeakSecret, match="KCNGUARD_ADMIN_KEY"):
        create_app(settings)
    assert cmd_api(argparse.Namespace(), settings) == 2
    assert "KCNGUARD_ADMIN_KEY is too weak" in capsys.readouterr().err


def test_a_strong_admin_key_is_accepted(tmp_path: Path) -> None:
    assert weakness(STRONG) is None
    create_app(Settings(data_dir=tmp_path / "data", store_url=f"sqlite:///{tmp_path}/s.db", admin_key=STRONG))


def test_the_secret_key_is_required_outside_the_embedded_store(tmp_path: Path) -> None:
    # secret_key="" overrides the test run's own key (tests/conftest.py).
    remote = Settings(data_dir=tmp_path, store_url="elasticsearch://127.0.0.1:1", secret_key="")
    with pytest.raises(WeakSecret, match="KCNGUARD_SECRET_KEY"):
        secret_key(remote)
    with pytest.raises(WeakSecret, match="too weak"):
        secret_key(remote.model_copy(update={"secret_key": "short"}))
    assert secret_key(remote.model_copy(update={"secret_key": STRONG})) == STRONG
    # The embedded store keeps one of its own, the same at every start.
    embedded = Settings(data_dir=tmp_path / "d", secret_key="")
    assert secret_key(embedded) == secret_key(embedded) and weakness(secret_key(embedded)) is None


def test_the_last_admin_person_cannot_be_disabled(client: TestClient, store: Store, keys: Keys) -> None:
    create_user(store, "quan.tri", "một mật khẩu dài", "admin")
    # The admin key is another way in: disabling the person is fine while it works...
    assert client.post("/v1/users/quan.tri/disable", headers=auth(keys.admin)).status_code == 200
    assert client.post("/v1/users/quan.tri/enable", headers=auth(keys.admin)).status_code == 200
    keys_listed = client.get("/v1/keys", headers=auth(keys.admin)).json()["items"]
    (admin_key,) = [k for k in keys_listed if k["role"] == "admin"]
    assert client.delete(f"/v1/keys/{admin_key['key_id']}", headers=auth(keys.admin)).status_code == 200
    # ...but once the person is the last admin, no.
    token = client.post("/v1/auth/login", json={"username": "quan.tri", "password": "một mật khẩu dài"}).json()
    refused = client.post("/v1/users/quan.tri/disable", headers={"Authorization": f"Bearer {token['token']}"})
    assert refused.status_code == 409 and refused.json()["type"].endswith("last-admin")


def test_a_secret_that_does_not_open_is_a_delivery_error_not_a_crash(
    store: Store, keys: Keys, hook_settings: Settings
) -> None:
    from webhooks.sender import Sender

    _agencies(store)
    service.register(store, hook_settings, WebhookIn(agency="qltt", url="http://127.0.0.1:9/x"), "admin:t")
    other = hook_settings.model_copy(update={"secret_key": "another-key-entirely-0123456789"})
    sender = Sender(store, other)
    status, error = sender._post("qltt", b"{}", "e1")
    sender.close()
    assert status is None and error is not None and "KCNGUARD_SECRET_KEY" in error


def test_the_webhook_service_refuses_to_start_without_a_secret_key(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from webhooks.commands import cmd_webhooks

    remote = Settings(data_dir=tmp_path, store_url="elasticsearch://127.0.0.1:1", secret_key="")
    assert cmd_webhooks(argparse.Namespace(), remote) == 2
    assert "KCNGUARD_SECRET_KEY is missing" in capsys.readouterr().err
