"""Nobody may remove the last way in: revoking the last active admin key, or disabling the last enabled
admin person, is refused with 409 (otherwise only a new KCNGUARD_ADMIN_KEY and a restart let anyone back).

Counted, not locked: two administrators removing each other's access at the same instant could both pass,
which the audit log then shows; a single administrator cannot lock everyone out by mistake.
"""

from __future__ import annotations

from api.auth.enums import Role
from api.auth.users import users
from api.problems import Problem
from kcnguard.store import Query, Store

# Far more than any deployment has; the count only needs to tell none from some.
MAX_ADMINS = 1000


def _other_admins(store: Store, key_hash: str | None = None, username: str | None = None) -> int:
    keys, _ = store.list_api_keys(size=MAX_ADMINS, role=Role.ADMIN.value)
    active_keys = [k for k in keys if k.revoked_at is None and k.key_hash != key_hash]
    people = users(store).search(Query(filters={"role": Role.ADMIN.value}, size=MAX_ADMINS)).items
    enabled = [u for u in people if not u.disabled and u.username != username]
    return len(active_keys) + len(enabled)


def _refuse(what_vi: str, what_en: str) -> Problem:
    return Problem(
        409,
        "last-admin",
        f"Không thể {what_vi}: đây là quyền quản trị cuối cùng còn hiệu lực. "
        "Hãy tạo khóa hoặc người quản trị khác trước.",
        f"Cannot {what_en}: it is the last working admin access. Create another admin key or person first.",
    )


def refuse_revoking_the_last_admin_key(store: Store, key_hash: str) -> None:
    key = store.api_keys.get(key_hash)
    active_admin = key is not None and key.role == Role.ADMIN.value and key.revoked_at is None
    if active_admin and _other_admins(store, key_hash=key_hash) == 0:
        raise _refuse("thu hồi khóa này", "revoke this key")


def refuse_disabling_the_last_admin(store: Store, username: str) -> None:
    person = users(store).get(username)
    enabled_admin = person is not None and person.role is Role.ADMIN and not person.disabled
    if enabled_admin and _other_admins(store, username=username) == 0:
        raise _refuse("khóa người dùng này", "disable this person")
