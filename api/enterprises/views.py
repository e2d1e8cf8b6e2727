"""Enterprise routes: staff register and edit; an enterprise reads its own entry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from api.auth.enums import Scope
from api.auth.models import Principal
from api.deps import StoreDep, requires
from api.enterprises import service
from api.enterprises.models import Enterprise, EnterpriseIn, EnterprisePage
from api.listings.service import search_text
from api.pages import MAX_LIMIT, MAX_OFFSET
from kcnguard.records.base import Slug

router = APIRouter(prefix="/v1/enterprises", tags=["enterprises"])

Reader = Annotated[Principal, Depends(requires(Scope.ENTERPRISES_READ))]
Writer = Annotated[Principal, Depends(requires(Scope.ENTERPRISES_WRITE))]
IdPath = Annotated[Slug, Path(description="The enterprise's identifier")]


@router.get("", response_model=EnterprisePage, summary="Enterprises (an enterprise sees only itself)")
def list_enterprises(
    store: StoreDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    zone: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words in the name")] = None,
) -> EnterprisePage:
    items, total = service.list_enterprises(store, principal, limit, offset, zone, search_text(q))
    return EnterprisePage(items=items, total=total, limit=limit, offset=offset)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Enterprise, summary="Register an enterprise")
def create_enterprise(body: EnterpriseIn, store: StoreDep, principal: Writer) -> Enterprise:
    return service.register_enterprise(store, body, principal.actor)


@router.get("/{enterprise_id}", response_model=Enterprise, summary="One enterprise")
def get_enterprise(enterprise_id: IdPath, store: StoreDep, principal: Reader) -> Enterprise:
    return service.visible_enterprise(store, principal, enterprise_id)


@router.put("/{enterprise_id}", response_model=Enterprise, summary="Replace an enterprise's entry")
def replace_enterprise(enterprise_id: IdPath, body: EnterpriseIn, store: StoreDep, principal: Writer) -> Enterprise:
    return service.replace_enterprise(store, principal, enterprise_id, body)
