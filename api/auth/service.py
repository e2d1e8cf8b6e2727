"""Checking API keys: read the key from the request, find its hash in the store, build the Principal."""

from __future__ import annotations

import logging

from api.auth.enums import ROLE_SCOPES, Role, Scope
from api.auth.models import Principal
from api.auth.sessions import SESSION_PREFIX, principal_for_session
from api.problems import Problem
from kcnguard.store import ApiKey, Store

log = logging.getLogger(__name__)

# Generated keys are ~47 characters; anything far longer is not a key of ours.
MAX_KEY_LENGTH = 512


def key_from_headers(x_api_key: str | None, authorization: str | None) -> str | None:
    if x_api_key and x_api_key.strip():
        return x_api_key.strip()
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return None


def principal_of(key: ApiKey) -> Principal:
    role = Role(key.role)
    scopes = ROLE_SCOPES[role]
    if key.scopes:
        # A key's own scopes can only narrow its role's, never widen them.
        scopes = scopes & {Scope(s) for s in key.scopes if s in Scope._value2member_map_}
    return Principal(name=key.name, role=role, scopes=frozenset(scopes), owner_id=key.owner_id)


def authenticate(store: Store, raw_key: str | None) -> Principal:
    """The caller behind `raw_key`; a 401 problem when there is none or it is unknown."""
    if not raw_key:
        raise Problem(
            401,
            "unauthenticated",
            "Thiếu khóa API: gửi tiêu đề 'X-API-Key: <khóa>' hoặc 'Authorization: Bearer <khóa>'.",
            "No API key: send the header 'X-API-Key: <key>' or 'Authorization: Bearer <key>'.",
            headers={"WWW-Authenticate": 'Bearer realm="kcnguard"'},
        )
    if raw_key.startswith(SESSION_PREFIX):
        return principal_for_session(store, raw_key)
    key = store.find_api_key(raw_key) if len(raw_key) <= MAX_KEY_LENGTH else None
    if key is None or key.revoked_at is not None or key.role not in Role._value2member_map_:
        log.info("refused an unknown API key (%d characters)", len(raw_key))
        raise Problem(
            401,
            "invalid-key",
            "Khóa API không hợp lệ hoặc đã bị thu hồi; hãy xin quản trị viên một khóa mới.",
            "The API key is not valid or has been revoked; ask an administrator for a new one.",
            headers={"WWW-Authenticate": 'Bearer realm="kcnguard", error="invalid_token"'},
        )
    return principal_of(key)


def require_scope(principal: Principal, scope: Scope) -> None:
    """403 unless the caller's key carries `scope`."""
    if not principal.has(scope):
        raise Problem(
            403,
            "forbidden",
            f"Khóa API này (vai trò '{principal.role}') không có quyền '{scope}'.",
            f"This API key (role '{principal.role}') lacks the '{scope}' permission.",
            required_scope=str(scope),
        )
