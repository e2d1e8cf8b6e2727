"""Sessions for people: log in with a password, get an opaque token, send it until it expires or you log out.

Only the token's SHA-256 is stored (like API keys), so a copy of the store lets nobody in.
Tokens start with "kcs_" so the API can tell them from API keys ("kcn_") in the same header.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from pydantic import BaseModel

from api.auth.enums import ROLE_SCOPES
from api.auth.models import Principal
from api.auth.passwords import DUMMY_HASH, MAX_LENGTH, verify_password
from api.auth.users import create_user, get_user
from api.problems import Problem
from kcnguard.records.base import utcnow
from kcnguard.store import RecordTable, Store
from kcnguard.store.checked import date_value
from kcnguard.store.schema import Collection, Kind, searchable

__all__ = ["SESSION_PREFIX", "SESSION_TTL", "create_user", "login", "logout", "principal_for_session"]

log = logging.getLogger(__name__)

SESSION_PREFIX = "kcs_"
# One working day: a portal left open overnight asks for the password again.
SESSION_TTL = timedelta(hours=8)


class Session(BaseModel):
    """A session as stored, under the SHA-256 of its token; times as the store compares them (date_value)."""

    username: str
    created_at: str
    expires_at: str


SESSIONS = Collection(
    "sessions", {"username": searchable("username", Kind.KEYWORD), "expires_at": searchable("expires_at", Kind.DATE)}
)


def sessions(store: Store) -> RecordTable[Session]:
    # The id is the token's hash, which the session itself does not hold: writes name it (doc_id).
    return store.table(SESSIONS, Session, None)


class AuthError(Problem):
    """Wrong password, unknown user, or an expired or unknown session: always 401, never which of them."""

    def __init__(self, vi: str, en: str, kind: str = "login-failed") -> None:
        super().__init__(401, kind, vi, en, headers={"WWW-Authenticate": 'Bearer realm="kcnguard"'})


def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(store: Store, username: str, password: str) -> str:
    """A new session token for this person; AuthError when the username or password is wrong or the user disabled."""
    user = get_user(store, username) if username else None
    # Hash even for an unknown user, so the answer's timing does not say which usernames exist.
    ok = verify_password(password[:MAX_LENGTH], user.password_hash if user else DUMMY_HASH)
    if user is None or not ok or user.disabled:
        log.info("login refused for username %r", username[:64])
        raise AuthError(
            "Sai tên đăng nhập hoặc mật khẩu (hoặc tài khoản đã bị khoá).",
            "Wrong username or password (or the account is disabled).",
        )
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    session = Session(username=user.username, created_at=date_value(now), expires_at=date_value(now + SESSION_TTL))
    sessions(store).put(session, doc_id=_session_id(token))
    log.info("user %s logged in", user.username)
    return token


def principal_for_session(store: Store, token: str) -> Principal:
    """The person behind a session token; AuthError when it is unknown, expired, logged out or the user disabled."""
    expired = AuthError(
        "Phiên đăng nhập không hợp lệ hoặc đã hết hạn; hãy đăng nhập lại.",
        "The session is not valid or has expired; please log in again.",
        kind="session-expired",
    )
    if not token or not token.startswith(SESSION_PREFIX) or len(token) > 200:
        raise expired
    session = sessions(store).get(_session_id(token))
    if session is None or session.expires_at <= date_value(utcnow()):
        raise expired
    user = get_user(store, session.username)
    if user is None or user.disabled:
        raise expired
    return Principal(
        name=user.username,
        role=user.role,
        scopes=ROLE_SCOPES[user.role],
        owner_id=user.owner_id,
        via="session",
        display_name=user.display_name,
    )


def logout(store: Store, token: str) -> None:
    """End the session; logging out twice, or with an unknown token, is harmless."""
    if token and len(token) <= 200:
        sessions(store).delete(_session_id(token))
