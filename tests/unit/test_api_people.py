"""People and keys: users with scrypt hashes, sessions that expire and end, key listing and revocation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from api.auth import sessions
from api.auth.enums import Role
from api.auth.users import create_user, get_user
from api.collections import COLLECTIONS as API_COLLECTIONS
from api.problems import Problem
from kcnguard.records import utcnow
from kcnguard.store import Store, hash_api_key
from kcnguard.store.checked import date_value
from tests.unit.test_api_support import Keys, auth

pytest_plugins = ["tests.unit.test_api_support"]

PASSWORD = "một mật khẩu dài"


def test_users_are_stored_with_scrypt_hashes_and_log_in(store: Store) -> None:
    user = create_user(store, "hoa.acme", PASSWORD, "enterprise", owner_id="acme", display_name="Nguyễn Thị Hoa")
    assert user.password_hash.startswith("scrypt$") and PASSWORD not in user.password_hash
    token = sessions.login(store, "hoa.acme", PASSWORD)
    assert token.startswith("kcs_")
    principal = sessions.principal_for_session(store, token)
    assert (principal.name, principal.role, principal.owner_id, principal.via) == (
        "hoa.acme",
        Role.ENTERPRISE,
        "acme",
        "session",
    )
    # Only the token's hash is stored.
    assert store.docs.get(sessions.SESSIONS.name, token) is None
    sessions.logout(store, token)
    with pytest.raises(Problem) as ended:
        sessions.principal_for_session(store, token)
    assert ended.value.status == 401


@pytest.mark.parametrize(
    ("username", "password", "role", "owner", "message"),
    [
        ("Bad Name", PASSWORD, "inspector", None, "Username"),
        ("lan.tt", "short", "inspector", None, "at least 10"),
        ("lan.tt", PASSWORD, "superuser", None, "Unknown role"),
        ("lan.tt", PASSWORD, "partner", None, "owner_id"),
    ],
)
def test_bad_users_are_refused_clearly(
    store: Store, username: str, password: str, role: str, owner: str | None, message: str
) -> None:
    with pytest.raises(Problem) as refused:
        create_user(store, username, password, role, owner)
    assert refused.value.status == 422 and message in refused.value.en


def test_wrong_password_unknown_user_and_disabled_user_all_say_the_same(store: Store) -> None:
    create_user(store, "lan.tt", PASSWORD, "inspector")
    answers = []
    for username, password in (("lan.tt", "wrong password!"), ("nobody", PASSWORD)):
        with pytest.raises(Problem) as refused:
            sessions.login(store, username, password)
        answers.append((refused.value.status, refused.value.en))
    assert answers[0] == answers[1] and answers[0][0] == 401
    with pytest.raises(Problem):
        create_user(store, "lan.tt", PASSWORD, "inspector")  # taken: 409


def test_expired_session_is_refused(store: Store) -> None:
    create_user(store, "lan.tt", PASSWORD, "inspector")
    token = sessions.login(store, "lan.tt", PASSWORD)
    doc = store.docs.get(sessions.SESSIONS.name, sessions._session_id(token))
    assert doc is not None
    past = date_value(utcnow() - timedelta(minutes=1))
    store.docs.put(sessions.SESSIONS.name, doc.id, {**doc.body, "expires_at": past})
    with pytest.raises(Problem) as expired:
        sessions.principal_for_session(store, token)
    assert expired.value.kind == "session-expired"


def test_session_token_works_as_bearer_and_disabling_ends_it(client: TestClient, store: Store, keys: Keys) -> None:
    made = client.post(
        "/v1/users",
        json={"username": "lan.tt", "password": PASSWORD, "role": "inspector", "display_name": "Lan"},
        headers=auth(keys.admin),
    )
    assert made.status_code == 201 and "password_hash" not in made.json()
    login = client.post("/v1/auth/login", json={"username": "lan.tt", "password": PASSWORD})
    assert login.status_code == 200
    bearer = {"Authorization": f"Bearer {login.json()['token']}"}
    me = client.get("/v1/auth/me", headers=bearer).json()
    assert me["role"] == "inspector" and me["via"] == "session" and me["display_name"] == "Lan"
    assert client.get("/v1/brands", headers=bearer).status_code == 200
    assert client.post("/v1/users/lan.tt/disable", headers=auth(keys.admin)).json()["disabled"] is True
    assert client.get("/v1/auth/me", headers=bearer).status_code == 401
    assert client.post("/v1/users/lan.tt/enable", headers=auth(keys.admin)).status_code == 200
    assert client.post("/v1/auth/logout", headers=bearer).status_code == 204
    assert client.get("/v1/auth/me", headers=bearer).status_code == 401
    bad = client.post("/v1/auth/login", json={"username": "lan.tt", "password": "wrong password"})
    assert bad.status_code == 401 and bad.json()["type"].endswith("login-failed")


def test_keys_are_listed_created_and_revoked_by_admins(client: TestClient, keys: Keys) -> None:
    listed = client.get("/v1/keys?limit=200", headers=auth(keys.admin)).json()
    assert listed["total"] == 5
    assert all("key" not in k for k in listed["items"])
    made = client.post(
        "/v1/keys", json={"name": "QLTT máy chủ", "role": "partner", "owner_id": "qltt"}, headers=auth(keys.admin)
    )
    assert made.status_code == 201
    raw, key_id = made.json()["key"], made.json()["key_id"]
    assert key_id == hash_api_key(raw)
    assert client.get("/v1/partner/cases", headers=auth(raw)).status_code == 200
    revoked = client.delete(f"/v1/keys/{key_id}", headers=auth(keys.admin))
    assert revoked.status_code == 200 and revoked.json()["revoked_by"] == "admin:ops"
    refused = client.get("/v1/partner/cases", headers=auth(raw))
    assert refused.status_code == 401 and refused.json()["type"].endswith("invalid-key")
    assert client.delete(f"/v1/keys/{'0' * 64}", headers=auth(keys.admin)).status_code == 404
    no_owner = client.post("/v1/keys", json={"name": "x", "role": "partner"}, headers=auth(keys.admin))
    assert no_owner.status_code == 422 and "agency" in no_owner.json()["detail_en"]


def test_cli_creates_a_user_from_a_password_file(isolated_settings, tmp_path) -> None:
    from kcnguard.store import open_store
    from launcher.cli import main

    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    assert main(["user", "create", "--username", "lan.tt", "--role", "inspector", "--password-file", str(secret)]) == 0
    store = open_store(collections=API_COLLECTIONS)  # as the API opens it, and sets it up at start
    store.setup()
    try:
        assert get_user(store, "lan.tt") is not None
        assert sessions.login(store, "lan.tt", PASSWORD).startswith("kcs_")
    finally:
        store.close()
    assert main(["user", "create", "--username", "x.y.z", "--role", "partner", "--password-file", str(secret)]) == 2


def test_failed_logins_are_throttled_per_username_and_address(client: TestClient, store: Store) -> None:
    from api.auth.login_guard import LOGIN_FAILURES_PER_USER_AND_ADDRESS

    create_user(store, "lan.tt", PASSWORD, "inspector")
    for _ in range(LOGIN_FAILURES_PER_USER_AND_ADDRESS):
        assert client.post("/v1/auth/login", json={"username": "lan.tt", "password": "wrong guess!"}).status_code == 401
    blocked = client.post("/v1/auth/login", json={"username": "lan.tt", "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    # The owner, from an address that has not failed, still gets in.
    with TestClient(client.app, client=("198.51.100.7", 40000)) as elsewhere:
        assert elsewhere.post("/v1/auth/login", json={"username": "lan.tt", "password": PASSWORD}).status_code == 200


def test_key_and_user_changes_are_audited(client: TestClient, keys: Keys) -> None:
    client.post(
        "/v1/users", json={"username": "lan.tt", "password": PASSWORD, "role": "inspector"}, headers=auth(keys.admin)
    )
    made = client.post("/v1/keys", json={"name": "m", "role": "inspector"}, headers=auth(keys.admin)).json()
    client.delete(f"/v1/keys/{made['key_id']}", headers=auth(keys.admin))
    actions = [e["action"] for e in client.get("/v1/audit", headers=auth(keys.admin)).json()["items"]]
    # Before them, the fixture's enterprises being registered.
    assert actions == ["key.revoke", "key.create", "user.create", "enterprise.create", "enterprise.create"]


def test_a_person_of_an_enterprise_has_the_same_tenancy_as_its_key(
    client: TestClient, store: Store, keys: Keys
) -> None:
    from tests.unit.test_api_support import seed_brand

    seed_brand(store, "keo-beta", "beta")
    seed_brand(store, "sua-acme", "acme")
    create_user(store, "hoa.acme", PASSWORD, "enterprise", owner_id="acme")
    token = client.post("/v1/auth/login", json={"username": "hoa.acme", "password": PASSWORD}).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/brands/keo-beta", headers=bearer).status_code == 404
    assert [b["brand_id"] for b in client.get("/v1/brands", headers=bearer).json()["items"]] == ["sua-acme"]
    assert client.get("/v1/users", headers=bearer).status_code == 403
