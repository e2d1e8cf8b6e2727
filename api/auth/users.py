"""People who sign in to the portal: a username, a role, the enterprise or agency they belong to."""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.auth.enums import OWNER_BOUND, Role
from api.auth.passwords import hash_password, password_problem
from api.problems import Problem
from api.registry import create_unique
from kcnguard.records.base import AwareDatetime, CleanText, Slug, utcnow
from kcnguard.store import Query, RecordTable, Store
from kcnguard.store.schema import Collection, Kind, searchable

log = logging.getLogger(__name__)

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{2,63}$"


class User(BaseModel):
    """A user as stored; `password_hash` never leaves the service (see UserOut)."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=USERNAME_PATTERN)
    role: Role
    owner_id: Slug | None = None
    display_name: CleanText | None = Field(default=None, max_length=200)
    password_hash: str
    disabled: bool = False
    created_at: AwareDatetime = Field(default_factory=utcnow)
    created_by: str | None = None


USERS = Collection(
    "users",
    {
        "username": searchable("username", Kind.KEYWORD),
        "role": searchable("role", Kind.KEYWORD),
        "owner_id": searchable("owner_id", Kind.KEYWORD),
    },
)


def users(store: Store) -> RecordTable[User]:
    return store.table(USERS, User, lambda u: u.username)


class UserOut(BaseModel):
    username: str
    role: Role
    owner_id: str | None
    display_name: str | None
    disabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(**user.model_dump(exclude={"password_hash", "created_by"}))


def _invalid(vi: str, en: str) -> Problem:
    return Problem(422, "invalid-user", vi, en)


def create_user(
    store: Store,
    username: str,
    password: str,
    role: str,
    owner_id: str | None = None,
    display_name: str | None = None,
    created_by: str | None = None,
) -> User:
    """Register a person; 422 on a bad username, role, owner or password, 409 when the username is taken."""
    import re

    if not re.match(USERNAME_PATTERN, username or ""):
        raise _invalid(
            f"Tên đăng nhập '{username}' không hợp lệ: 3-64 ký tự chữ thường không dấu, số, '.', '_', '-'.",
            f"Username '{username}' is not valid: 3-64 lowercase letters, digits, '.', '_' or '-'.",
        )
    try:
        checked_role = Role(role)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise _invalid(
            f"Vai trò '{role}' không tồn tại; dùng: {roles}.", f"Unknown role '{role}'; use: {roles}."
        ) from None
    if checked_role in OWNER_BOUND and not owner_id:
        raise _invalid(
            f"Người dùng vai trò '{checked_role}' cần owner_id (doanh nghiệp hoặc cơ quan của họ).",
            f"A '{checked_role}' user needs an owner_id (their enterprise or agency).",
        )
    if checked_role not in OWNER_BOUND:
        owner_id = None
    problem = password_problem(password)
    if problem:
        raise _invalid(f"Mật khẩu không dùng được: {problem}.", f"Password not usable: {problem}.")
    user = User(
        username=username,
        role=checked_role,
        owner_id=owner_id,
        display_name=display_name,
        password_hash=hash_password(password),
        created_by=created_by,
    )
    taken = Problem(
        409, "user-exists", f"Tên đăng nhập '{username}' đã có người dùng.", f"Username '{username}' is already taken."
    )
    create_unique(users(store), user, taken)
    log.info("user %s created with role %s (owner %s) by %s", username, checked_role, owner_id, created_by)
    return user


def get_user(store: Store, username: str) -> User | None:
    return users(store).get(username) if len(username) <= 64 else None


def list_users(store: Store, limit: int, offset: int) -> tuple[list[User], int]:
    page = users(store).search(Query(sort=[("username", "asc")], size=limit, offset=offset))
    return page.items, page.total


def set_disabled(store: Store, username: str, disabled: bool) -> User:
    """Disable (or re-enable) a person; a disabled person's sessions stop working at their next request."""
    current = users(store).get_versioned(username)
    if current is None:
        raise Problem(404, "user-not-found", f"Không có người dùng '{username}'.", f"No user '{username}'.")
    user = current.record.model_copy(update={"disabled": disabled})
    users(store).put(user, if_version=current.version)
    return user
