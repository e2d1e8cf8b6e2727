"""Audit routes: read the log (newest first) and verify its chain. Admins and inspectors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.audit.models import AuditPage
from api.auth.enums import Scope
from api.auth.models import Principal
from api.deps import StoreDep, requires
from api.pages import MAX_LIMIT, MAX_OFFSET
from kcnguard.cases import audit
from kcnguard.cases.audit import Verification

router = APIRouter(prefix="/v1/audit", tags=["audit"])

Reader = Annotated[Principal, Depends(requires(Scope.AUDIT_READ))]


@router.get("", response_model=AuditPage, summary="The audit log, newest first")
def list_audit(
    store: StoreDep,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    object: Annotated[str | None, Query(max_length=300, description="e.g. case:case-…")] = None,
) -> AuditPage:
    items, total = audit.list_entries(store, limit, offset, actor, action, object)
    return AuditPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/verify", response_model=Verification, summary="Check every entry's hash and link")
def verify(store: StoreDep, _: Reader) -> Verification:
    return audit.verify(store)
