"""The caller, once its API key or session has been checked."""

from __future__ import annotations

from dataclasses import dataclass

from api.auth.enums import OWNER_BOUND, Role, Scope


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    scopes: frozenset[Scope]
    owner_id: str | None = None  # an enterprise's id, or a partner's agency slug
    via: str = "key"  # "key" or "session": how the caller proved who it is
    display_name: str | None = None  # a person's name as the portal shows it

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes

    @property
    def owner_bound(self) -> bool:
        return self.role in OWNER_BOUND

    @property
    def enterprise_id(self) -> str | None:
        return self.owner_id if self.role is Role.ENTERPRISE else None

    @property
    def agency(self) -> str | None:
        return self.owner_id if self.role is Role.PARTNER else None

    def may_see_owner(self, owner_id: str) -> bool:
        """An enterprise sees only its own brands; the Board's staff see every owner's; a partner none by owner."""
        return not self.owner_bound or owner_id == self.owner_filter

    @property
    def owner_filter(self) -> str | None:
        """The owner_id every brand query must be narrowed to, or None for no narrowing.

        A partner's agency slug could equal some enterprise's id; prefixed with "partner:" (a colon
        no enterprise id may hold) it matches no brand, so a partner never reaches brands by owner.
        """
        if self.role is Role.PARTNER:
            return f"partner:{self.owner_id}"
        return self.owner_id if self.owner_bound else None

    @property
    def actor(self) -> str:
        """How this caller is named in case histories and logs."""
        return f"{self.role}:{self.name}"
