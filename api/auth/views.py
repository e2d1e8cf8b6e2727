"""Routes for people (log in, log out, who am I, users) and for API keys (list, create, revoke)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status

from api.auth import sessions, users
from api.auth.enums import Scope
from api.auth.last_admin import refuse_disabling_the_last_admin, refuse_revoking_the_last_admin_key
from api.auth.login_guard import guarded_login
from api.auth.models import Principal
from api.auth.schemas import KeyIn, KeyOut, KeyPage, LoginIn, MeOut, NewKeyOut, SessionOut, UserIn, UserOut, UserPage
from api.auth.service import key_from_headers
from api.deps import PrincipalDep, StoreDep, requires
from api.keys import create_key
from api.pages import MAX_LIMIT, MAX_OFFSET
from api.problems import Problem
from kcnguard.cases import audit
from kcnguard.records.base import utcnow

router = APIRouter(prefix="/v1", tags=["auth"])

KeyAdmin = Annotated[Principal, Depends(requires(Scope.KEYS_ADMIN))]
UserAdmin = Annotated[Principal, Depends(requires(Scope.USERS_ADMIN))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


@router.post("/auth/login", response_model=SessionOut, summary="Log in with a username and password")
def login(body: LoginIn, store: StoreDep, request: Request) -> SessionOut:
    address = request.client.host if request.client else "unknown"
    token = guarded_login(store, body.username, body.password, address)
    principal = sessions.principal_for_session(store, token)
    return SessionOut(
        token=token, expires_at=utcnow() + sessions.SESSION_TTL, username=principal.name, role=principal.role
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End this session")
def logout(
    store: StoreDep,
    principal: PrincipalDep,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Response:
    token = key_from_headers(x_api_key, authorization) or ""
    if principal.via == "session":
        sessions.logout(store, token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/auth/me", response_model=MeOut, summary="Who this key or session is")
def me(principal: PrincipalDep) -> MeOut:
    return MeOut(
        name=principal.name,
        role=principal.role,
        owner_id=principal.owner_id,
        scopes=sorted(s.value for s in principal.scopes),
        via=principal.via,
        display_name=principal.display_name,
    )


@router.get("/users", response_model=UserPage, summary="People who may log in (admin)")
def list_users(store: StoreDep, _: UserAdmin, limit: Limit = 50, offset: Offset = 0) -> UserPage:
    found, total = users.list_users(store, limit, offset)
    return UserPage(items=[UserOut.of(u) for u in found], total=total, limit=limit, offset=offset)


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserOut, summary="Register a person")
def create_user(body: UserIn, store: StoreDep, principal: UserAdmin) -> UserOut:
    user = users.create_user(
        store, body.username, body.password, body.role, body.owner_id, body.display_name, created_by=principal.actor
    )
    audit.append(store, principal.actor, "user.create", f"user:{user.username}", after=_user_summary(user))
    return UserOut.of(user)


@router.post("/users/{username}/disable", response_model=UserOut, summary="Disable a person (sessions stop)")
def disable_user(username: Annotated[str, Path(max_length=64)], store: StoreDep, principal: UserAdmin) -> UserOut:
    refuse_disabling_the_last_admin(store, username)
    user = users.set_disabled(store, username, True)
    before = _user_summary(user) | {"disabled": False}
    audit.append(store, principal.actor, "user.disable", f"user:{username}", before=before, after=_user_summary(user))
    return UserOut.of(user)


@router.post("/users/{username}/enable", response_model=UserOut, summary="Re-enable a person")
def enable_user(username: Annotated[str, Path(max_length=64)], store: StoreDep, principal: UserAdmin) -> UserOut:
    user = users.set_disabled(store, username, False)
    before = _user_summary(user) | {"disabled": True}
    audit.append(store, principal.actor, "user.enable", f"user:{username}", before=before, after=_user_summary(user))
    return UserOut.of(user)


def _user_summary(user: users.User) -> dict[str, object]:
    return {"role": str(user.role), "owner_id": user.owner_id, "disabled": user.disabled}


@router.get("/keys", response_model=KeyPage, summary="API keys, revoked ones included (admin)")
def list_keys(
    store: StoreDep,
    _: KeyAdmin,
    limit: Limit = 50,
    offset: Offset = 0,
    role: Annotated[str | None, Query(max_length=20)] = None,
) -> KeyPage:
    found, total = store.list_api_keys(size=limit, offset=offset, role=role)
    return KeyPage(items=[KeyOut.of(k) for k in found], total=total, limit=limit, offset=offset)


@router.post("/keys", status_code=status.HTTP_201_CREATED, response_model=NewKeyOut, summary="Create an API key")
def new_key(body: KeyIn, store: StoreDep, principal: KeyAdmin) -> NewKeyOut:
    try:
        raw = create_key(store, body.name, body.role, body.owner_id, [s.value for s in body.scopes])
    except ValueError as exc:
        vi, en = f"Không tạo được khóa: {exc}.", f"Cannot create the key: {exc}."
        raise Problem(422, "invalid-key-request", vi, en) from None
    stored = store.find_api_key(raw)
    assert stored is not None
    audit.append(
        store,
        principal.actor,
        "key.create",
        f"key:{stored.key_hash}",
        after={"name": stored.name, "role": stored.role, "owner_id": stored.owner_id, "scopes": stored.scopes},
    )
    return NewKeyOut(**KeyOut.of(stored).model_dump(), key=raw)


@router.delete("/keys/{key_id}", response_model=KeyOut, summary="Revoke an API key (it stops working at once)")
def revoke_key(key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")], store: StoreDep, principal: KeyAdmin) -> KeyOut:
    refuse_revoking_the_last_admin_key(store, key_id)
    key = store.revoke_api_key(key_id, by=principal.actor)
    if key is None:
        raise Problem(404, "key-not-found", f"Không có khóa API '{key_id[:12]}…'.", f"No API key '{key_id[:12]}…'.")
    audit.append(
        store,
        principal.actor,
        "key.revoke",
        f"key:{key_id}",
        before={"name": key.name, "role": key.role, "revoked": False},
        after={"name": key.name, "role": key.role, "revoked": True, "revoked_by": key.revoked_by},
    )
    return KeyOut.of(key)
