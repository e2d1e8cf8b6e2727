"""Making API keys: used by `kcnguard apikey create` and at start-up for KCNGUARD_ADMIN_KEY."""

from __future__ import annotations

import re
import secrets

from api.auth.enums import OWNER_BOUND, Role, Scope
from kcnguard.records.base import clean_text
from kcnguard.store import Store

KEY_PREFIX = "kcn_"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def new_key() -> str:
    # 32 random bytes: guessing is hopeless, so a plain SHA-256 of the key is a safe thing to store.
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_key(store: Store, name: str, role: str, owner_id: str | None = None, scopes: list[str] | None = None) -> str:
    """Store a new key's hash and return the key itself; it is shown once and never stored."""
    label = clean_text(name)
    if not label or len(label) > 200:
        raise ValueError("a key needs a name of 1-200 characters saying whose it is")
    try:
        checked_role = Role(role)
    except ValueError:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(r.value for r in Role)}") from None
    if checked_role in OWNER_BOUND and not owner_id:
        whose = "agency" if checked_role is Role.PARTNER else "enterprise"
        raise ValueError(f"a '{checked_role}' key needs the owner_id of the {whose} it belongs to")
    if owner_id is not None and not _SLUG.match(owner_id):
        raise ValueError(f"owner_id {owner_id!r} is not a valid identifier (lowercase letters, digits, '.', '_', '-')")
    unknown = [s for s in scopes or [] if s not in Scope._value2member_map_]
    if unknown:
        raise ValueError(f"unknown scopes {unknown}: use some of {', '.join(s.value for s in Scope)}")
    raw = new_key()
    store.put_api_key(raw, label, checked_role.value, scopes=scopes or [], owner_id=owner_id)
    return raw
