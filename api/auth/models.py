"""The caller, once its API key has been checked."""

from __future__ import annotations

from dataclasses import dataclass

from api.auth.enums import OWNER_BOUND, Role, Scope


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    scopes: frozenset[Scope]
    owner_id: str | None = None

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes

    @property
    def owner_bound(self) -> bool:
        return self.role in OWNER_BOUND

    def may_see_owner(self, owner_id: str) -> bool:
        """An enterprise sees only its own brands; the Board's staff see every owner's."""
        return not self.owner_bound or owner_id == self.owner_id

    @property
    def owner_filter(self) -> str | None:
        """The owner_id every brand query must be narrowed to, or None for no narrowing."""
        return self.owner_id if self.owner_bound else None

    @property
    def actor(self) -> str:
        """How this caller is named in case histories and logs."""
        return f"{self.role}:{self.name}"
