"""The enterprise registry: the Board's staff manage it; an enterprise sees only itself."""

from __future__ import annotations

import logging
from typing import Any

from api.audit.changes import record_change
from api.auth.models import Principal
from api.enterprises.models import Enterprise, EnterpriseIn
from api.enterprises.store import enterprises
from api.problems import Problem
from api.registry import create_unique, same_id
from kcnguard.records.base import utcnow
from kcnguard.store import Query, Store

log = logging.getLogger(__name__)


def enterprise_not_found(enterprise_id: str) -> Problem:
    return Problem(
        404,
        "enterprise-not-found",
        f"Không tìm thấy doanh nghiệp '{enterprise_id}' (hoặc tài khoản này không được xem).",
        f"No enterprise '{enterprise_id}' (or this account may not see it).",
    )


def get_enterprise(store: Store, enterprise_id: str) -> Enterprise | None:
    return enterprises(store).get(enterprise_id)


def register_enterprise(store: Store, body: EnterpriseIn | dict[str, Any], actor: str = "system") -> Enterprise:
    """Add an enterprise; 409 when its id is taken."""
    checked = body if isinstance(body, EnterpriseIn) else EnterpriseIn.model_validate(body)
    now = utcnow()
    enterprise = Enterprise(**checked.model_dump(), created_at=now, updated_at=now)
    taken = Problem(
        409,
        "enterprise-exists",
        f"Doanh nghiệp '{enterprise.enterprise_id}' đã có; dùng PUT để sửa.",
        f"Enterprise '{enterprise.enterprise_id}' already exists; use PUT to change it.",
    )
    create_unique(enterprises(store), enterprise, taken)
    record_change(store, actor, "enterprise.create", f"enterprise:{enterprise.enterprise_id}", None, enterprise)
    log.info("enterprise %s registered by %s", enterprise.enterprise_id, actor)
    return enterprise


def ensure_enterprise(store: Store, body: dict[str, Any]) -> bool:
    """Register unless present (the demo's loader); True when it was added now."""
    checked = EnterpriseIn.model_validate(body)
    if get_enterprise(store, checked.enterprise_id) is not None:
        return False
    register_enterprise(store, checked, "demo")
    return True


def visible_enterprise(store: Store, principal: Principal, enterprise_id: str) -> Enterprise:
    if principal.owner_bound and principal.enterprise_id != enterprise_id:
        raise enterprise_not_found(enterprise_id)
    found = get_enterprise(store, enterprise_id)
    if found is None:
        raise enterprise_not_found(enterprise_id)
    return found


def replace_enterprise(store: Store, principal: Principal, enterprise_id: str, body: EnterpriseIn) -> Enterprise:
    current = visible_enterprise(store, principal, enterprise_id)
    same_id("enterprise-id-mismatch", "enterprise_id", body.enterprise_id, enterprise_id)
    updated = Enterprise(**body.model_dump(), created_at=current.created_at, updated_at=utcnow())
    enterprises(store).put(updated)
    record_change(store, principal.actor, "enterprise.change", f"enterprise:{enterprise_id}", current, updated)
    log.info("enterprise %s replaced by %s", enterprise_id, principal.actor)
    return updated


def list_enterprises(
    store: Store, principal: Principal, limit: int, offset: int, zone: str | None = None, q: str | None = None
) -> tuple[list[Enterprise], int]:
    filters: dict[str, Any] = {}
    if principal.owner_bound:
        filters["enterprise_id"] = principal.enterprise_id or "-"
    if zone:
        filters["zone"] = zone
    query = Query(filters=filters, text=q, sort=[("enterprise_id", "asc")], size=limit, offset=offset)
    page = enterprises(store).search(query)
    return page.items, page.total


def require_registered(store: Store, owner_id: str) -> None:
    """A brand's owner must be a registered enterprise: a clear 422 otherwise."""
    if get_enterprise(store, owner_id) is None:
        raise Problem(
            422,
            "unknown-enterprise",
            f"owner_id '{owner_id}' không phải doanh nghiệp đã đăng ký; đăng ký tại POST /v1/enterprises trước.",
            f"owner_id '{owner_id}' is not a registered enterprise; register it with POST /v1/enterprises first.",
            errors=[
                {
                    "field": "owner_id",
                    "type": "unknown_enterprise",
                    "message_vi": "doanh nghiệp chưa đăng ký",
                    "message_en": "not a registered enterprise",
                }
            ],
        )
