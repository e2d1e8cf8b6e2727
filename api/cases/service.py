"""Reading and moving cases, within what the caller may see.

Tenancy: an enterprise sees the cases of its own brands (partners read theirs through
api/partners, never here); anyone else's case answers 404, exactly like a case that does not exist.
Every change is optimistic: it names the version it was computed from, and a stale one is a
409 problem carrying the current version, never a silent overwrite.
"""

from __future__ import annotations

import logging
from typing import Any

from api.agencies.service import require_registered
from api.auth.enums import Scope
from api.auth.models import Principal
from api.auth.service import require_scope
from api.brands.service import visible_brands
from api.cases.changes import check_version, commit_change, require_version, stale_as_409
from api.problems import Problem
from api.review.models import CaseOut
from api.review.service import case_out
from kcnguard.cases.outbox import CaseEvents
from kcnguard.records import Case, CaseState, InvalidTransition
from kcnguard.store import Query, Store, Versioned

log = logging.getLogger(__name__)

# Moves an inspector makes here; referral has its own route, receipt and actions are the agencies' to report.
INSPECTOR_TARGETS = frozenset({CaseState.OPEN, CaseState.CONFIRMED, CaseState.DISMISSED, CaseState.CLOSED})


def case_not_found(case_id: str) -> Problem:
    return Problem(
        404,
        "case-not-found",
        f"Không tìm thấy hồ sơ '{case_id}' (hoặc tài khoản này không được xem).",
        f"No case '{case_id}' (or this account may not see it).",
    )


def may_see(store: Store, principal: Principal, case: Case) -> bool:
    own = visible_brands(store, principal)
    return own is None or case.brand_id in {b.brand_id for b in own}


def get_visible_case(store: Store, principal: Principal, case_id: str) -> Versioned[Case]:
    require_scope(principal, Scope.CASES_READ)
    found = store.get_case(case_id) if len(case_id) <= 128 else None
    if found is None or not may_see(store, principal, found.record):
        raise case_not_found(case_id)
    return found


def list_cases(
    store: Store,
    principal: Principal,
    limit: int,
    offset: int,
    state: str | None = None,
    brand_id: str | None = None,
    agency: str | None = None,
) -> tuple[list[CaseOut], int]:
    """Newest change first; narrowed in the query itself, so totals never count another tenant's cases."""
    require_scope(principal, Scope.CASES_READ)
    filters: dict[str, Any] = {}
    if state:
        filters["state"] = state
    if agency:
        filters["agencies"] = agency
    own = visible_brands(store, principal)
    if own is not None:
        mine = [b.brand_id for b in own]
        if (brand_id and brand_id not in mine) or not mine:
            return [], 0
        filters["brand_id"] = brand_id or mine
    elif brand_id:
        filters["brand_id"] = brand_id
    query = Query(filters=filters, sort=[("updated_at", "desc")], size=limit, offset=offset)
    page = store.cases.search_versioned(query)
    return [case_out(v) for v in page.items], page.total


def _invalid(current: Versioned[Case], exc: Exception) -> Problem:
    return Problem(
        422,
        "invalid-transition",
        f"Không thể chuyển hồ sơ đang ở trạng thái '{current.record.state}': {exc}.",
        f"Cannot move a case in state '{current.record.state}': {exc}.",
        current_state=str(current.record.state),
    )


def _current(store: Store, principal: Principal, case_id: str, version: str | None) -> Versioned[Case]:
    """The case an inspector's change applies to, provided `version` is the one it is at."""
    require_scope(principal, Scope.CASES_WRITE)
    expected = require_version(version)
    current = get_visible_case(store, principal, case_id)
    check_version(current, expected)
    return current


def transition(
    store: Store,
    principal: Principal,
    case_id: str,
    to: CaseState,
    note: str | None,
    version: str | None,
    events: CaseEvents | None = None,
) -> Versioned[Case]:
    current = _current(store, principal, case_id, version)
    if to is CaseState.REFERRED:
        raise _invalid(current, "referral names agencies: use POST /v1/cases/{id}/refer")
    if to not in INSPECTOR_TARGETS:
        raise _invalid(current, f"'{to}' is reported by the partner agency through its own API")
    try:
        changed = current.record.transition(to, principal.actor, note)
    except InvalidTransition as exc:
        raise _invalid(current, exc) from None
    with stale_as_409(store, current):
        saved = commit_change(store, principal, current, changed, f"case.{to}", "transitioned", note, events)
    return saved


def refer(
    store: Store,
    principal: Principal,
    case_id: str,
    agencies: list[str],
    note: str | None,
    version: str | None,
    events: CaseEvents | None = None,
) -> Versioned[Case]:
    current = _current(store, principal, case_id, version)
    require_registered(store, agencies)
    try:
        changed = current.record.refer(agencies, principal.actor, note)
    except InvalidTransition as exc:
        raise _invalid(current, exc) from None
    with stale_as_409(store, current):
        saved = commit_change(store, principal, current, changed, "case.refer", "referred", note, events)
    return saved
