"""Roles and scopes. A role grants a default set of scopes; a key may be narrowed to fewer."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # the Management Board's operators
    INSPECTOR = "inspector"  # the Board's inspectors: every brand, every listing
    ENTERPRISE = "enterprise"  # a KCN enterprise: only the brands of its own owner_id
    PARTNER = "partner"  # an enforcement agency: only what is referred to it (partner API, later)


class Scope(StrEnum):
    BRANDS_READ = "brands:read"
    BRANDS_WRITE = "brands:write"
    LISTINGS_READ = "listings:read"
    CASES_READ = "cases:read"
    CASES_WRITE = "cases:write"
    KEYS_ADMIN = "keys:admin"


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.ADMIN: frozenset(Scope),
    Role.INSPECTOR: frozenset(
        {Scope.BRANDS_READ, Scope.BRANDS_WRITE, Scope.LISTINGS_READ, Scope.CASES_READ, Scope.CASES_WRITE}
    ),
    Role.ENTERPRISE: frozenset({Scope.BRANDS_READ, Scope.BRANDS_WRITE, Scope.LISTINGS_READ, Scope.CASES_READ}),
    Role.PARTNER: frozenset({Scope.CASES_READ}),
}

# Roles whose keys are tied to one owner: an enterprise to its owner_id.
OWNER_BOUND = frozenset({Role.ENTERPRISE})
