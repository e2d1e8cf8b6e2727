"""Roles and scopes. A role grants a default set of scopes; a key may be narrowed to fewer."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # the Management Board's operators
    INSPECTOR = "inspector"  # the Board's inspectors: every brand, every listing
    ENTERPRISE = "enterprise"  # a KCN enterprise: only the brands of its own owner_id
    PARTNER = "partner"  # an enforcement agency: only what is referred to it (owner_id = its agency slug)


class Scope(StrEnum):
    BRANDS_READ = "brands:read"
    BRANDS_WRITE = "brands:write"
    LISTINGS_READ = "listings:read"
    CASES_READ = "cases:read"
    CASES_WRITE = "cases:write"
    KEYS_ADMIN = "keys:admin"
    USERS_ADMIN = "users:admin"
    ENTERPRISES_READ = "enterprises:read"
    ENTERPRISES_WRITE = "enterprises:write"
    AGENCIES_READ = "agencies:read"
    AGENCIES_WRITE = "agencies:write"
    REVIEW_DECIDE = "review:decide"
    AUDIT_READ = "audit:read"
    REPORTS_READ = "reports:read"
    REPORTS_WRITE = "reports:write"
    PARTNER_CASES = "partner:cases"  # pull referred cases, acknowledge, report actions
    WEBHOOKS_ADMIN = "webhooks:admin"
    BOARD_READ = "board:read"  # dashboard, exports, monthly report, announcement read receipts
    ANNOUNCEMENTS_WRITE = "announcements:write"
    ANNOUNCEMENTS_READ = "announcements:read"
    DOCUMENTS_WRITE = "documents:write"


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.ADMIN: frozenset(Scope),
    Role.INSPECTOR: frozenset(
        {
            Scope.BRANDS_READ,
            Scope.BRANDS_WRITE,
            Scope.LISTINGS_READ,
            Scope.CASES_READ,
            Scope.CASES_WRITE,
            Scope.ENTERPRISES_READ,
            Scope.ENTERPRISES_WRITE,
            Scope.AGENCIES_READ,
            Scope.REVIEW_DECIDE,
            Scope.AUDIT_READ,
            Scope.REPORTS_READ,
            Scope.REPORTS_WRITE,
            Scope.BOARD_READ,
            Scope.ANNOUNCEMENTS_WRITE,
            Scope.ANNOUNCEMENTS_READ,
        }
    ),
    Role.ENTERPRISE: frozenset(
        {
            Scope.BRANDS_READ,
            Scope.BRANDS_WRITE,
            Scope.LISTINGS_READ,
            Scope.CASES_READ,
            Scope.ENTERPRISES_READ,
            Scope.REPORTS_WRITE,
            Scope.ANNOUNCEMENTS_READ,
        }
    ),
    # A partner reads only its own referral, through the partner routes: /v1/cases would show every
    # agency's referrals and actions and the inspectors' notes.
    Role.PARTNER: frozenset({Scope.PARTNER_CASES}),
}

# Roles whose keys are tied to one owner: an enterprise to its enterprise id, a partner to its agency slug.
OWNER_BOUND = frozenset({Role.ENTERPRISE, Role.PARTNER})
